"""Known answers for thread timers armed per CPU and fired together (docs/model.md §14.8):
window trials of three closed-loop threads on 2 CPUs whose every wait, CPU queue entry and
counter is derived by hand from the rules, asserted on both engines, beside the controls
(``timer_slack = 0``: §14.7 alone; a slack too short to reach a timer; one that just
reaches it).

The rules used, quoted from §14.8 (and §14.7, §14.1–§14.3, §2.1 where named):

* T1 "its next step is scheduled at ``now + k`` as before, by an event that carries the
  thread's timer when ``k > 0`` and the thread has a last CPU: the timer is armed on that
  CPU ``c``, it fires at ``now + k`` [...] and it has expired from ``now + k −
  timer_slack`` on".
* T2 "When a timer armed on CPU ``c`` fires at ``t``, every other thread whose timer is
  armed on ``c`` and has expired (soft expiry ``≤ t``) fires with it [...] in the order
  their timers were armed [...]; a thread fired early leaves its own timer's event spent:
  when it comes it does nothing."
* T3 "the first takes ``c`` if ``c`` is idle [...]; each later one takes the
  lowest-numbered idle CPU if one is idle, and runs ``wake_remote`` after the firing [...];
  with no CPU idle it enters ``c``'s run queue's tail"; "the first, taking a CPU, runs
  through an event at ``t``".
* §14.7: a step with no last CPU takes the lowest-numbered idle CPU; a wake-up by a
  running context targets the waker's CPU and, busy with another CPU idle, stays there at
  ``cpu_affinity = 1``; a freeing CPU serves its own queue's head ``cpu_switch`` later.
* §2.1: a write request is granted at once iff ``L`` is free; a release wakes the head
  writer, which takes ``L`` when it runs.

Times in µs; ``wake`` 0, ``cpu_switch`` const 1, ``wake_remote`` const 10, 2 CPUs,
``cpu_affinity`` 1.  Three threads, each one ``write`` step (elsewhere: no VMA), hold 10,
think 1,000: A of process 0 starting at 0, B and C of process 1 starting at 20 and 40
(B and C share ``L_1``, A has ``L_0``).  Window trials [0, 1,500), no warm-up.

With ``timer_slack`` 50:

    0      A: no last CPU, both idle: CPU 0 (§14.7); writes 0-10; timer on CPU 0, fires
           1010, expired from 960 (T1).
    20     B: CPU 0; writes 20-30; timer on CPU 0, fires 1030, expired from 980.
    40     C: CPU 0; writes 40-50; timer on CPU 0, fires 1050, expired from 1000.
    1010   A's timer fires on CPU 0: B's (980) and C's (1000) have expired: one firing of
           A, B, C in arming order (T2; timers_coalesced 2).  A takes CPU 0, idle, and
           runs through an event at 1010; B takes CPU 1, the idle one, to run at 1020
           (wakees_remote 1); no CPU idle: C enters CPU 0's queue (T3; cpu_queued 1).
           A writes L_0 1010-1020.
    1020   B runs (its event was scheduled at the firing, before A's release): L_1 free,
           B writes 1020-1030 on CPU 1.  A releases and ends (timer on CPU 0, fires 2020);
           CPU 0 frees to C, which runs at 1021 (cpu_queue_ns 11).
    1021   C asks for L_1, held by B: C waits for L_1 and sleeps; CPU 0 becomes idle.
    1030   B's own timer event (scheduled at 30) is spent: nothing (T2).  B releases L_1
           and wakes C, a wake-up by B on CPU 1: busy, CPU 0 idle, C stays in CPU 1's
           queue (§14.7; cpu_queued 2, cpu_affine_queued 1).  B ends (timer on CPU 1,
           fires 2030); CPU 1 frees to C, which runs at 1031 (cpu_queue_ns 1) and takes
           L_1: writer_wait 1031 - 1021 = 10, the cross-CPU wake-up.  C writes to 1041.
    1050   C's own timer event: spent.
    2020   A's timer fires alone (B's and C's are on CPU 1): past the window with nothing
           counted alive, the trial ends.
    Counted writes: six (each thread at its start and at 1010), writer_wait sum 10.

Controls.  ``timer_slack = 0`` (§14.7 alone): A at 1010, B at 1030, C at 1050 each find
CPU 0 idle and write alone: nothing waits, nothing queues.  ``timer_slack`` 15: at 1010
B's timer has not expired (from 1015) nor C's (1035): the same as without.  ``timer_slack``
20: B's has expired (from 1010, ``≤ t``), C's not (1030): A takes CPU 0, B CPU 1 at 1020
(writes 1020-1030), C alone at 1050 on CPU 0: timers_coalesced 1, wakees_remote 1,
nothing queued, nothing waits.
"""
import pytest

from mcsim.engine import run_blocks
from mcsim.errors import ParameterError
from mcsim.params import validate
from test_workload_scripts import const, workload_record, write

US = 1_000
CPU = {"cpus": 2, "cpu_switch": "1us", "wake": "0", "cpu_affinity": 1}


def timers_record(slack_us):
    hold, think = const(10 * US), const(1_000 * US)
    a = (0, const(0), [write(0, hold, think)])
    b = (1, const(20 * US), [write(1, hold, think)])
    c = (1, const(40 * US), [write(1, hold, think)])
    remote = {"timer_slack": f"{slack_us}us", "wake_remote": "10us"} if slack_us else {}
    return workload_record([a, b, c], warmup=0, window=1_500 * US, processes=2,
                           vma_process=(0,), **CPU, **remote)


#: slack (µs) -> (timers_coalesced, wakees_remote, cpu_queued, cpu_affine_queued,
#: cpu_queue_ns in µs, writer_wait sum in µs), per trial
EXPECTED = {
    50: (2, 1, 2, 1, 12, 10),
    0: (0, 0, 0, 0, 0, 0),
    15: (0, 0, 0, 0, 0, 0),
    20: (1, 1, 0, 0, 0, 0),
}


@pytest.mark.parametrize("slack", sorted(EXPECTED))
def test_one_firing_wakes_the_expired_timers_of_its_cpu(engine, slack):
    trials = 2
    out = run_blocks(timers_record(slack), 1, [(0, trials)], engine=engine)
    c, h = out.counter_dict(), out.histograms()
    got = (c["timers_coalesced"], c["wakees_remote"], c["cpu_queued"],
           c["cpu_affine_queued"], c["cpu_queue_ns"] // US, h["writer_wait"].total // US)
    assert got == tuple(trials * x for x in EXPECTED[slack])
    assert h["writer_wait"].n == trials * 6
    assert c["cpu_pulled"] == 0
    assert [c[f"thread_iterations_{k}"] for k in range(3)] == [trials * 2] * 3


def test_a_firing_needs_per_cpu_run_queues():
    with pytest.raises(ParameterError, match="timer_slack: '50us' needs per-CPU run queues"):
        validate(timer_slack="50us", cpus=2)
    with pytest.raises(ParameterError, match="timer_slack"):
        validate(timer_slack="50us", cpu_affinity=1)
    with pytest.raises(ParameterError, match="wake_remote: '17us' applies to nothing"):
        validate(wake_remote="17us", cpus=2, cpu_affinity=1)
    with pytest.raises(ParameterError, match="timer_slack"):
        validate(timer_slack="-1us", cpus=2, cpu_affinity=1)
    cfg = validate(timer_slack="50us", wake_remote="17us", cpus=2, cpu_affinity=0.9)
    assert cfg["timer_slack"] == 50_000 and str(cfg["wake_remote"]) == "const(17us)"


def test_the_record_is_checked_too():
    rec = timers_record(50)
    rec[0]["cpu_affinity"] = 0.0
    with pytest.raises(ParameterError, match="scenario.timer_slack"):
        run_blocks(rec, 1, [(0, 1)], engine="compiled")
    rec = timers_record(50)
    rec[0]["timer_slack"] = -5
    with pytest.raises(ParameterError, match="scenario.timer_slack"):
        run_blocks(rec, 1, [(0, 1)], engine="reference")
