"""Known answers for per-CPU run queues and wake-up affinity (docs/model.md §14.7): scripted
cases on 2 CPUs, every wait, end time and CPU counter derived by hand from the rules and
asserted to the nanosecond on both engines, each beside its control at ``cpu_affinity = 0``
(§14.2–§14.3: one run queue, a woken context takes any idle CPU).

The rules used, quoted from §14.7 (and §2.1, §4.1, §14.1–§14.3 where named):

* P1 "A context becoming runnable has a target CPU: a wake-up by a running context [...]
  targets the waker's CPU [...]; every other becoming runnable — a timer [...] — targets
  the context's last CPU (none for a context that never ran)."
* P2 "1. the target is idle: the context takes it; 2. the target is busy, or there is
  none, and some CPU is idle: with a target, the context stays, entering the target's run
  queue's tail, with probability ``cpu_affinity`` [...] (at 1 it always stays, without a
  draw) [...]. Otherwise (no target [...]) it takes the lowest-numbered idle CPU; 3. no CPU
  is idle: it enters the target's run queue's tail; with no target, the queue of the
  lowest-numbered CPU among those with the shortest queue."
* P3 "A CPU frees: the head of its own queue takes it and runs after a ``cpu_switch`` draw
  [...]; if its own queue is empty it pulls the head of the longest other queue [...]
  (counter ``cpu_pulled``), and the puller becomes the pulled context's last CPU; if every
  queue is empty the CPU becomes idle."
* §14.1: a context holds its CPU through its critical section and frees it when it queues
  for ``L`` or finishes; §14.2: a timer's context that takes a CPU runs at once, a woken
  one after ``wake`` (0 here); §14.3: a queued context runs ``cpu_switch`` (1 µs here)
  after the CPU frees, ``cpu_queue_ns`` adding that start minus its becoming runnable.
* §2.1, era 4.x: a read is granted at once iff no writer holds ``L`` and its queue is
  empty; a release that frees ``L`` wakes the head writer or grants the head readers.

Times in µs; ``wake`` 0, ``cpu_switch`` const 1 µs, 2 CPUs, the 2018 model (era 4.x).
"""
import pytest

from mcsim.engine import run_blocks
from test_cpu_scripts import as_ns, run_script
from test_workload_scripts import cmdline, const, workload_record, write

US = 1_000
MS = 1_000_000
CPU = {"cpus": 2, "cpu_switch": "1us", "wake": "0"}


# ----------------------------------------------------------------------------------------
# I. A hand-off onto the waker's CPU while the other CPU is idle.
#        W  at 0  writer, hold 10
#        R  at 1  HP read, hold 5
#    0   W: a timer with no last CPU, both idle: the lowest-numbered idle CPU, 0 (P2); L
#        is free: W takes it and holds it until 10 on CPU 0.
#    1   R: no target, CPU 1 idle: takes CPU 1 (P2), asks for L: write-held, R queues for
#        L and sleeps, CPU 1 frees: every queue empty, it becomes idle (P3).
#    10  W releases: R is granted L, woken by W, a running context (P1): target CPU 0.
#        cpu_affinity = 1: CPU 0 is busy (W runs on) and CPU 1 idle: R stays, entering
#        CPU 0's queue (cpu_queued 1, cpu_affine_queued 1).  W finishes: CPU 0 frees to
#        its own queue's head R, which runs at 11 (cpu_queue_ns 1).  hp_wait 11 - 1 = 10,
#        done 16.
#        cpu_affinity = 0 (control, §14.2): R takes the idle CPU and runs at 10 + wake =
#        10: hp_wait 9, done 15, nothing queued.
HANDOFF = [{"at": 0, "kind": "writer", "hold": "10us"},
           {"at": "1us", "kind": "hp_read", "hold": "5us"}]
HANDOFF_EXPECTED = {
    1: ([("writer", [0], 10), ("hp_read", [10], 16)], (1, 1, 0, 1)),
    0: ([("writer", [0], 10), ("hp_read", [9], 15)], (0, 0, 0, 0)),
}


def cpu_counters(counters):
    return (counters["cpu_queued"], counters["cpu_affine_queued"], counters["cpu_pulled"],
            counters["cpu_queue_ns"] // US)


def check_timeline(script, expected, engine, affinity):
    """The tasks' waits and ends, and the CPU counters, as derived by hand above."""
    tasks, counters = run_script(script, engine, cpu_affinity=affinity, **CPU)
    want, cpu = expected[affinity]
    assert tasks == as_ns(want)
    assert cpu_counters(counters) == cpu


@pytest.mark.parametrize("affinity", sorted(HANDOFF_EXPECTED))
def test_a_hand_off_waits_on_the_wakers_cpu_with_the_other_idle(engine, affinity):
    check_timeline(HANDOFF, HANDOFF_EXPECTED, engine, affinity)


# ----------------------------------------------------------------------------------------
# II. A pull by a CPU with an empty queue (newidle balance), then a hand-off queued on the
#     waker's CPU with the other idle.
#        R0 at 0  HP read, hold 200
#        F  at 1  fault ``hit``, fault_cpu 50 (one pass, its lookup only)
#        W  at 2  writer, hold 10
#    0    R0: CPU 0 (lowest idle, P2), granted L(R) at once, holds it on CPU 0 until 200.
#    1    F: CPU 1, granted L(R) at once (no writer), its lookup runs on CPU 1 until 51.
#    2    W: no CPU idle, no target: the queue of the lowest-numbered CPU among the
#         shortest (both empty): CPU 0's (P2 item 3; cpu_queued 1, not affine).
#    51   F releases L (R0 still reads: nobody is woken) and finishes: CPU 1 frees, its own
#         queue empty: it pulls W, the head of the longest other queue (P3; cpu_pulled 1),
#         which runs on CPU 1 at 52 (cpu_queue_ns 50).  W asks for L: read-held, W queues
#         for it and sleeps; CPU 1 idle.
#    200  R0 releases: W, the head writer, is woken by R0 on CPU 0 (P1): busy, CPU 1 idle:
#         cpu_affinity = 1, W stays (cpu_queued 2, cpu_affine_queued 1).  R0 finishes:
#         W runs on CPU 0 at 201 (cpu_queue_ns + 1).  writer_wait 201 - 52 = 149; done 211.
#    cpu_affinity = 0 (control): at 2 W enters the one run queue; at 51 F's CPU frees to
#    it (§14.3): W runs at 52, queues for L; at 200 it is woken onto the idle CPU and runs
#    at 200: writer_wait 148, done 210; cpu_queued 1, cpu_queue_ns 50.
PULL = [{"at": 0, "kind": "hp_read", "hold": "200us"},
        {"at": "1us", "kind": "fault", "fault": "hit", "cpu": "50us"},
        {"at": "2us", "kind": "writer", "hold": "10us"}]
PULL_EXPECTED = {
    1: ([("hp_read", [0], 200), ("fault", [0], 51), ("writer", [149], 211)], (2, 1, 1, 51)),
    0: ([("hp_read", [0], 200), ("fault", [0], 51), ("writer", [148], 210)], (1, 0, 0, 50)),
}


@pytest.mark.parametrize("affinity", sorted(PULL_EXPECTED))
def test_an_idle_cpu_pulls_then_a_wakee_stays_on_its_waker(engine, affinity):
    check_timeline(PULL, PULL_EXPECTED, engine, affinity)


def test_a_script_takes_only_0_or_1(engine):
    """A script draws nothing (§14.7: "``cpu_affinity`` must be 0 or 1 there")."""
    from mcsim.errors import ParameterError

    with pytest.raises(ParameterError, match="cpu_affinity"):
        run_script(HANDOFF, engine, cpu_affinity=0.5, **CPU)


# ----------------------------------------------------------------------------------------
# III. A timer wake-up onto the thread's last CPU.  Window trials [0, 1 ms), no warm-up.
#        thread A (process 0, start 0):   write (elsewhere), hold 100, think 50
#        thread B (process 1, start 120): write (elsewhere), hold 200, think 10 ms
#     (two processes: A and B never share an L.)
#     cpu_affinity = 1:
#     0    A's step: no last CPU, both idle: CPU 0 (P2); its write runs 0-100 on CPU 0,
#          then A sleeps 50 (its think) and CPU 0 becomes idle.  A's last CPU is 0.
#     120  B's step: no last CPU, both idle: CPU 0, the lowest-numbered; writes 120-320.
#     150  A's timer: target its last CPU 0 (P1), busy; CPU 1 idle; A stays in CPU 0's queue
#          (cpu_queued 1, cpu_affine_queued 1).
#     320  B finishes (think 10 ms: past the window): CPU 0 frees to A, which runs at 321
#          (cpu_queue_ns 171) and writes until 421; then every step of A finds CPU 0 idle:
#          iterations start at 0, 150, 471, 621, 771, 921 in the window: 6 counted.
#     cpu_affinity = 0 (control): at 150 A takes the idle CPU 1 at once; iterations start
#          at 0, 150, 300, 450, 600, 750, 900: 7 counted, nothing queued.
#     Every write is granted at once: writer_wait 0 for A's writes and B's one.
def timer_record(affinity):
    a = (0, const(0), [write(0, const(100 * US), const(50 * US))])
    b = (1, const(120 * US), [write(1, const(200 * US), const(10 * MS))])
    return workload_record([a, b], warmup=0, window=1 * MS, processes=2, vma_process=(0,),
                           cpu_affinity=affinity, **CPU)


TIMER_EXPECTED = {1: (6, (1, 1, 0, 171)), 0: (7, (0, 0, 0, 0))}


@pytest.mark.parametrize("affinity", sorted(TIMER_EXPECTED))
def test_a_timer_wake_up_waits_on_the_last_cpu_with_the_other_idle(engine, affinity):
    out = run_blocks(timer_record(affinity), 1, [(0, 2)], engine=engine)
    c, h = out.counter_dict(), out.histograms()
    iterations, cpu = TIMER_EXPECTED[affinity]
    assert c["thread_iterations_0"] == 2 * iterations
    assert c["thread_iterations_1"] == 2 * 1
    assert (h["writer_wait"].n, h["writer_wait"].total) == (2 * (iterations + 1), 0)
    assert cpu_counters(c) == tuple(2 * x for x in cpu)
