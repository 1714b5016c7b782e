"""The reference engine's CPUs (docs/model.md §14).

Known answers are derived by hand from the rules of §14 (and §2.1, §12.2), quoted in each
test, or come from queueing theory (Erlang C for an M/M/2 queue); the random runs check
the invariants of §14.5 after every event and bounds that follow from the rules.  The
compiled core is not involved: the differential tests compare the two engines.
"""
import math

import numpy as np
import pytest

import mcsim
from mcsim import layout as lay
from mcsim.errors import ParameterError
from mcsim.numeric import SATURATED
from mcsim.params import validate
from mcsim.reference import ReferenceEngine
from mcsim.reference.base import Task
from mcsim.reference.cpus import CPU_INVARIANTS
from mcsim.scenario import (NO_VMA, SCAN_END, SCAN_START, TASK_KINDS, TK_BG, TK_HP, TK_WRITER,
                            TRIAL_WINDOW, compile_scenario, compile_script)
from mcsim.workload import load_workload

US, MS = 1_000, 1_000_000
CPU_COUNTERS = ("cpu_queued", "cpu_queue_ns")


def engine(rec, seed=1):
    return ReferenceEngine(rec, np.random.PCG64DXSM(seed), check_invariants=True)


# --- §14.5 invariants on random runs --------------------------------------------------------

@pytest.mark.parametrize("cpus", [1, 2, 3])
@pytest.mark.parametrize("kernel", [None, "6.18"])
def test_the_invariants_hold_on_the_open_model(kernel, cpus):
    """Every event is followed by the checks of §14.5 (``check_invariants``).  Each queued
    context takes a freed CPU ``cpu_switch`` (const 2 µs by default) after it, and in a
    regenerative cycle every queued context runs before the system empties (§4.2: it is
    alive), so ``cpu_queue_ns`` ≥ 2 µs · ``cpu_queued``."""
    params = {"cpus": cpus} if kernel is None else {"cpus": cpus, "kernel": kernel}
    c = engine(compile_scenario(validate(params)), seed=cpus).run_trials(150).counters
    assert c["trials"] == 150
    assert c["cpu_queue_ns"] >= 2 * US * c["cpu_queued"]
    if cpus == 1:           # two live contexts at once need two CPUs
        assert c["cpu_queued"] > 0


@pytest.mark.parametrize("cpus", [1, 2, 3])
@pytest.mark.parametrize("name", ["read-vs-mmap", "mkwrite-vs-mprotect"])
def test_the_invariants_hold_on_ready_workloads(name, cpus):
    """Window trials of two workloads of ``sweeps/workloads`` (closed-loop threads, several
    processes), the §14.5 checks after every event."""
    wl = load_workload(name)
    rec = compile_scenario(wl.config(cpus=cpus, warmup="5ms", window="20ms"), wl)
    c = engine(rec, seed=cpus).run_trials(2).counters
    assert c["trials"] == 2 and c["steps"] > 0
    if cpus == 1:
        assert c["cpu_queued"] > 0


def test_the_invariant_checks_catch_broken_states():
    """Each §14.5 check fires on a state that breaks it (so the runs above can fail)."""
    eng = engine(compile_scenario(validate(cpus=2)))
    eng._reset_trial()
    eng._check()                                    # every CPU idle, nothing queued
    w, b = Task(0, TK_WRITER), Task(1, TK_BG)

    def broken(message):
        with pytest.raises(AssertionError, match=message):
            eng._check()
        eng._reset_trial()

    eng.cpu_holders.add(w)                          # held without leaving idle
    broken(CPU_INVARIANTS[0])
    eng.run_queue.append((w, 0))                    # queued with both CPUs idle
    broken(CPU_INVARIANTS[1])
    eng.cpu_idle, eng.cpu_holders = 0, {w, Task(3, TK_HP)}
    eng.run_queue.append((w, 0))                    # queued while holding a CPU
    broken(CPU_INVARIANTS[2])
    eng.cpu_idle, eng.cpu_holders = 0, {Task(2, TK_HP), Task(3, TK_HP)}
    eng.run_queue.extend([(w, 0), (w, 1)])          # queued twice
    broken(CPU_INVARIANTS[2])
    holder = Task(2, TK_WRITER)
    eng.cpu_idle, eng.cpu_holders = 0, {holder, Task(3, TK_HP)}
    eng.locks[0].writer = holder
    w.woken = True
    eng.locks[0].queue.append((w, 1))               # a woken head writer, in L's queue and
    eng.run_queue.append((w, 0))                    # the run queue at once: allowed (§14.5)
    eng._check()
    eng._reset_trial()
    eng.cpu_idle, eng.cpu_holders = 1, {b}          # a background bio holds a CPU
    broken(CPU_INVARIANTS[3])


def test_more_cpus_than_contexts_change_nothing():
    """With an idle CPU at every moment, §14.2 gives a woken context ``wake + j`` with ``j``
    drawn at the wake-up (exactly §13.2) and runs a timer's context at once; ``cpu_switch``
    is drawn only on the busy path (§14.5).  So 1024 CPUs reproduce ``cpus = 0``, draw for
    draw, with a random jitter, dirty-throttling sleeps and random ``cpu_switch`` too."""
    params = dict(kernel="6.18", wake_jitter="exp(3us)", p_dirty_throttle=0.3,
                  cpu_switch="exp(2us)")
    runs = []
    for cpus in (0, 1024):
        eng = engine(compile_scenario(validate(params, cpus=cpus)), seed=7)
        runs.append(eng.run_trials(200))
    none, many = runs
    assert many.counters["cpu_queued"] == 0 and many.counters["cpu_queue_ns"] == 0
    assert none.counters == many.counters
    for a, b in zip(none.hists, many.hists):
        assert a == b


# --- hand-derived scripts ------------------------------------------------------------------

def script(tasks, **params):
    eng = ReferenceEngine(compile_scenario(validate(params)), check_invariants=True)
    done, _ = eng.run_script(compile_script(tasks))
    return [(t.waits, t.done) for t in done], eng


FAULT_WRITER_READER = [{"at": 0, "kind": "fault", "fault": "hit", "cpu": "100us"},
                       {"at": "10us", "kind": "writer", "hold": "50us"},
                       {"at": "20us", "kind": "hp_read", "hold": "5us"}]


def test_one_cpu_runs_the_tasks_one_after_another():
    """The 2018 model, ``wake`` 0, ``cpu_switch`` const 1 µs, one CPU.

    - t = 0: the fault's arrival is a timer (§14.2 (b)); the CPU is idle, so it takes it and
      runs at once.  Its read request is granted at once (§2.1); it keeps the CPU through
      its ``fault_cpu`` stretch of 100 µs (§14.1: "a running context keeps its CPU through
      its CPU stretches").
    - t = 10 µs: the writer's arrival finds no idle CPU: it "enters the run queue and draws
      nothing; counter ``cpu_queued`` counts these entries" (§14.2).  "Its lock request …
      starts when it runs."  t = 20 µs: the HP read queues behind it.
    - t = 100 µs: the hit fault's pass ends holding ``L`` (no step drops it): it releases
      ``L`` (nobody queued) and finishes, which frees the CPU (§14.1 item 6).  "The queue's
      head takes that CPU and runs at ``now + s``" (§14.3): the writer runs at 101 µs,
      ``cpu_queue_ns`` += 101 − 10 = 91 µs.  Its write request finds ``L`` free: wait 0;
      it holds ``L`` and the CPU for 50 µs and finishes at 151 µs.
    - t = 151 µs: the HP read takes the CPU, runs at 152 µs (``cpu_queue_ns`` += 132 µs),
      is granted ``L`` at once (wait 0) and finishes at 157 µs.

    So the waits are all 0, the ends 100, 151, 157 µs; ``cpu_queued`` 2 and
    ``cpu_queue_ns`` 223 µs.
    """
    got, eng = script(FAULT_WRITER_READER, cpus=1, cpu_switch="1us", wake="0")
    assert got == [([0], 100 * US), ([0], 151 * US), ([0], 157 * US)]
    assert (eng.counters["cpu_queued"], eng.counters["cpu_queue_ns"]) == (2, 223 * US)


def test_two_cpus_are_enough_for_a_fault_a_writer_and_a_reader():
    """The same script on two CPUs.

    - t = 0: the fault takes CPU 1 and holds ``L(R)`` through its 100 µs stretch.
    - t = 10 µs: the writer takes the idle CPU 2 (§14.2 (b)) and write-requests ``L``: held
      by a reader, so it queues (§2.1) and sleeps, which frees CPU 2 "after the queue entry"
      (§14.1 item 1, end of §14.1); the run queue is empty, so CPU 2 becomes idle (§14.3).
    - t = 20 µs: the HP read takes CPU 2, read-requests ``L``: a writer is queued, so 4.x
      queues it (§2.1); CPU 2 is idle again.
    - t = 100 µs: the fault releases ``L``; the head writer is woken: CPU 2 is idle, so it
      takes it and runs after ``wake + j`` = 0 (§14.2 (a)); only then does the fault finish
      and free CPU 1 (idle: nothing queued).  The writer runs at 100 µs: wait 90 µs, hold
      to 150 µs.
    - t = 150 µs: the writer's release grants the HP read, which takes the idle CPU 1 and
      runs at once: wait 130 µs, end 155 µs.

    Nothing ever waits for a CPU: the result is that of ``cpus = 0`` (checked too).
    """
    expected = [([0], 100 * US), ([90 * US], 150 * US), ([130 * US], 155 * US)]
    for cpus in (2, 0):
        got, eng = script(FAULT_WRITER_READER, cpus=cpus, cpu_switch="1us", wake="0")
        assert got == expected
        assert (eng.counters["cpu_queued"], eng.counters["cpu_queue_ns"]) == (0, 0)


def test_a_reader_granted_l_waits_until_the_waker_sleeps():
    """The small machine's inversion (§14.3): one CPU, policy ``hold`` (a miss keeps ``L``
    through its IO), ``wake`` 0, ``cpu_switch`` 1 µs; a miss (``fault_cpu`` 10 µs, bio
    100 µs) at 0, a writer (hold 50 µs) at 5 µs, an HP read (hold 5 µs) at 20 µs.

    - 0: the fault takes the CPU, holds ``L(R)``, runs 10 µs.  5 µs: the writer queues for
      the CPU (``cpu_queued`` 1).
    - 10 µs: the fault submits (a gate slot is free), issues its bio (done at 110 µs) and
      sleeps in ``wait_io`` holding ``L``, freeing the CPU (§14.1 item 3): the writer takes
      it and runs at 11 µs (``cpu_queue_ns`` += 6 µs).  Its write request finds ``L``
      held: it queues and frees the CPU (idle).
    - 20 µs: the HP read takes the idle CPU, queues for ``L`` behind the writer, sleeps.
    - 110 µs: the completion wakes the fault (§14.2 (a)): the CPU is idle, it takes it and
      runs at once (``wake`` 0).  It releases ``L``, which wakes the head writer: no CPU is
      idle, so the writer enters the run queue (``cpu_queued`` 2).  The fault finishes and
      frees the CPU: the writer runs at 111 µs (``cpu_queue_ns`` += 1 µs) and takes ``L``:
      ``writer_wait`` = 111 − 11 = 100 µs; it holds to 161 µs.
    - 161 µs: its release grants the HP read: "A reader granted ``L`` while no CPU is idle
      holds ``L`` from the grant while it waits in the run queue" (``cpu_queued`` 3); the
      writer, still on the CPU, finishes and frees it: the read runs at 162 µs
      (``cpu_queue_ns`` += 1 µs).  Its wait is 162 − 20 = 142 µs; it ends at 167 µs.
    - The verdict is made at the grant (§14.4): the fault was blocked in ``io`` holding
      ``L`` from 20 to 110 µs of the read's wait, so one inversion blamed ``io``; its
      ``inversion_wait`` is recorded when the read runs: 142 µs.

    ``cpu_queued`` 3, ``cpu_queue_ns`` 8 µs.  Without CPUs the writer waits 105 µs and the
    read 140 µs (§2.1 alone; checked too).
    """
    tasks = [{"at": 0, "kind": "fault", "fault": "miss", "cpu": "10us", "bio": "100us"},
             {"at": "5us", "kind": "writer", "hold": "50us"},
             {"at": "20us", "kind": "hp_read", "hold": "5us"}]
    cases = {1: ([([0], 110 * US), ([100 * US], 161 * US), ([142 * US], 167 * US)], 3, 8 * US),
             0: ([([0], 110 * US), ([105 * US], 160 * US), ([140 * US], 165 * US)], 0, 0)}
    for cpus, (expected, queued, queue_ns) in cases.items():
        got, eng = script(tasks, cpus=cpus, cpu_switch="1us", wake="0", policy="hold")
        assert got == expected
        c = eng.counters
        assert (c["cpu_queued"], c["cpu_queue_ns"]) == (queued, queue_ns)
        assert (c["inversions"], c["blame_io"]) == (1, 1)
        assert eng.samples[lay.M_INVERSION_WAIT] == [expected[2][0][0]]


def test_a_script_refuses_a_random_cpu_switch():
    """§14.5: "Scripts run without a random stream: ``cpu_switch``, like ``wake_jitter``,
    must be a ``const`` there" (refused as a random ``wake_jitter`` is)."""
    with pytest.raises(ParameterError) as err:
        mcsim.run_script(FAULT_WRITER_READER, cpus=1, cpu_switch="exp(1us)",
                         engine="reference")
    assert err.value.param == "cpu_switch" and "\n" not in str(err.value)
    assert "constant" in str(err.value)
    # const: accepted, whatever cpus says (a script never draws)
    mcsim.run_script(FAULT_WRITER_READER, cpus=1, cpu_switch="1us", engine="reference")


# --- closed-loop threads -------------------------------------------------------------------

def two_writer_threads(cpus, *, think, start_b, window=3 * MS):
    """Thread A (process 0) and thread B (process 1), each one ``write`` step holding
    1 ms; B starts ``start_b`` after A; ``cpu_switch`` 10 µs; no open stream."""
    rec = compile_scenario(validate(cpus=cpus, cpu_switch="10us", wake="0",
                                    max_trial_events=2000))
    r = rec[0]
    r["trial_kind"], r["warmup_ns"], r["window_ns"] = TRIAL_WINDOW, 0, window
    r["open_stream"], r["n_processes"], r["n_vmas"] = 0, 2, 1
    for k, start in enumerate((0, start_b)):
        th, st = r["threads"][k], r["steps"][k]
        th["first_step"], th["n_steps"], th["process"] = k, 1, k
        th["start"] = (0, float(start), 0.0)
        st["kind"], st["process"], st["vma"] = TASK_KINDS.index("writer"), k, NO_VMA
        st["hold"], st["think"] = (0, float(MS), 0.0), (0, float(think), 0.0)
    r["n_threads"], r["n_steps"] = 2, 2
    return rec


def test_thread_steps_after_a_sleep_queue_for_the_cpu():
    """One CPU, think 1 ms, B starts at 0.5 ms, window [0, 3 ms).

    A thread's step after its start delay or a think time > 0 is a timer (§14.2 (b)); a
    step's task that finishes with a think > 0 sleeps, freeing the CPU "after the step's
    think time is drawn and its next step scheduled" (§14.1).

    - 0: A1 takes the CPU, holds ``L_0`` to 1 ms.  0.5 ms: B1 queues (``cpu_queued`` 1).
    - 1 ms: A1 ends (A2 at 2 ms) and frees the CPU: B1 runs at 1.01 ms (queued 0.51 ms),
      holds ``L_1`` to 2.01 ms.  2 ms: A2 queues (2).
    - 2.01 ms: B1 ends (B2 at 3.01 ms); A2 runs at 2.02 ms (queued 0.02 ms), to 3.02 ms.
    - 3.01 ms: B2 (after the window: not counted) queues (3).
    - 3.02 ms: A2 ends, the CPU goes to B2 (runs at 3.03 ms, queued 0.02 ms); this event
      leaves no counted task alive past the window, so the trial ends (§12.3).

    ``cpu_queued`` 3, ``cpu_queue_ns`` 0.55 ms, writer waits all 0 (each request is made
    when its task runs), iterations A 2, B 1, steps 4.  A second trial starts with every CPU
    idle and the run queue empty (§14.5) and repeats the first exactly.
    """
    eng = engine(two_writer_threads(1, think=MS, start_b=MS // 2))
    c = eng.run_trials(1).counters
    assert (c["cpu_queued"], c["cpu_queue_ns"]) == (3, 550 * US)
    assert (c["thread_iterations_0"], c["thread_iterations_1"], c["steps"]) == (2, 1, 4)
    assert eng.samples[lay.M_WRITER_WAIT] == [0, 0, 0]
    first = dict(c)
    c = eng.run_trials(1).counters
    for name in CPU_COUNTERS + ("thread_iterations_0", "thread_iterations_1", "steps"):
        assert c[name] == 2 * first[name]


def test_a_thread_that_never_sleeps_is_preempted_at_its_step_boundary():
    """Thread A (think 0, starting at 0) and B (think 0, runnable at 0.5 ms) on one CPU,
    ``cpu_switch`` 10 µs, window [0, 3 ms); each step a write holding 1 ms.

    §14.1 item 6: "A thread's step that finishes with a think time of 0 does not sleep: the
    thread keeps its CPU, and its next step's task runs on it when its ``EV_STEP`` event (at
    ``now + 0``, §12.2) comes — unless the run queue is not empty then".  "Preemption at a
    step boundary": "when a thread holding its CPU reaches its next step … and the run queue
    is not empty, the new step's task (its draws made, §12.5) enters the run queue's tail,
    as a timer-path context would (counted in ``cpu_queued``), and the CPU frees to the
    queue's head (§14.3)", which runs at ``now + s`` (``s`` = 10 µs) and adds ``now + s``
    minus the moment it became runnable to ``cpu_queue_ns``.  §14.2: a queued step's draws
    and ``steps`` counter are at the timer; its ``writes`` counter and lock request "when
    it runs".

    - 0: A1 takes the idle CPU (timer path), takes ``L_0`` at once, holds to 1 ms.
    - 0.5 ms: B1 finds no idle CPU: run queue (``cpu_queued`` 1).
    - 1 ms: A1 ends (iteration A 1), think 0: A keeps the CPU; its ``EV_STEP`` at 1 ms finds
      B1 queued: A2 enters the tail (2) and the CPU goes to B1, which runs at 1.01 ms
      (``cpu_queue_ns`` += 0.51 ms), takes ``L_1`` at once and holds to 2.01 ms.
    - 2.01 ms: B1 ends (iteration B 1), B's step finds A2 queued: B2 queues (3), A2 runs at
      2.02 ms (+= 1.02 ms), holds to 3.02 ms.
    - 3.02 ms: A2 ends (iteration A 2); A3 (after the window: not counted) queues (4); B2
      runs at 3.03 ms (+= 1.02 ms), holds to 4.03 ms.
    - 4.03 ms: B2 ends (iteration B 2): no counted task alive, no counted iteration open
      (A3 is not counted): the trial ends after this event (§12.3).

    Events: 4 ``EV_STEP`` of A (0, 1, 3.02 ms) and B (0.5, 2.01 ms), and for each of A1,
    B1, A2, B2 its hold's end, for B1, A2, B2 its run after the switch: 12.  ``steps`` 5,
    ``writes`` 4 (A3 never ran), writer waits all 0, ``cpu_queued`` 4, ``cpu_queue_ns``
    2.55 ms.  With two CPUs the run queue stays empty, nobody is preempted, and both threads
    run a step per ms (iterations 3 and 3).
    """
    eng = engine(two_writer_threads(1, think=0, start_b=MS // 2))
    c = eng.run_trials(1).counters
    assert (c["cpu_queued"], c["cpu_queue_ns"]) == (4, 2550 * US)
    assert (c["thread_iterations_0"], c["thread_iterations_1"]) == (2, 2)
    assert (c["steps"], c["writes"], c["events"]) == (5, 4, 12)
    assert eng.samples[lay.M_WRITER_WAIT] == [0, 0, 0, 0]
    c = engine(two_writer_threads(2, think=0, start_b=MS // 2)).run_trials(1).counters
    assert c["cpu_queued"] == 0
    assert (c["thread_iterations_0"], c["thread_iterations_1"]) == (3, 3)


def test_a_loop_that_never_sleeps_no_longer_starves_the_other_threads():
    """``mkwrite-vs-mprotect`` with ``kind = mkwrite_fast`` on one CPU: the writer thread's
    faults are CPU stretches with think 0, so it only sleeps when the mprotect holds the
    lock it needs.  Without the preemption at a step boundary (§14.1) it would keep the CPU
    for ever ("Without this rule a loop whose steps never sleep would keep a CPU for ever"):
    the mprotect and monitor threads, runnable from their start delays, would never run.
    With it, each of them completes counted iterations and the trial ends normally, the
    §14.5 checks holding after every event."""
    wl = load_workload("mkwrite-vs-mprotect", vars={"kind": "mkwrite_fast"})
    rec = compile_scenario(wl.config(cpus=1, warmup="5ms", window="20ms"), wl)
    # a trial takes about 3,000 events here; a starving engine fails fast on this bound
    # (§4.2) instead of running to the default 10⁷
    rec[0]["max_trial_events"] = 100_000
    c = engine(rec, seed=3).run_trials(1).counters
    assert c["trials"] == 1
    assert c["thread_iterations_0"] > 0
    assert c["thread_iterations_1"] > 0 and c["thread_iterations_2"] > 0
    assert c["writes"] > 0 and c["hp_reads"] > 0 and c["cpu_queued"] > 0


def threads_record(steps, threads, window, **params):
    """A window trial [0, ``window``) of closed-loop threads on one CPU, ``cpu_switch``
    10 µs, ``wake`` 0, no open stream: ``steps`` are ``(process, kind, hold, think, scan)``,
    ``threads`` ``(first step, number of steps, start)``; thread ``k`` is in process ``k``."""
    rec = compile_scenario(validate(params, cpus=1, cpu_switch="10us", wake="0",
                                    max_trial_events=2000))
    r = rec[0]
    r["trial_kind"], r["warmup_ns"], r["window_ns"] = TRIAL_WINDOW, 0, window
    r["open_stream"], r["n_processes"], r["n_vmas"] = 0, len(threads), 1
    for i, (proc, kind, hold, think, scan) in enumerate(steps):
        st = r["steps"][i]
        st["kind"], st["process"], st["vma"] = TASK_KINDS.index(kind), proc, NO_VMA
        st["hold"], st["think"] = (0, float(hold), 0.0), (0, float(think), 0.0)
        st["scan"] = scan
    for k, (first, n, start) in enumerate(threads):
        th = r["threads"][k]
        th["first_step"], th["n_steps"], th["process"] = first, n, k
        th["start"] = (0, float(start), 0.0)
    r["n_threads"], r["n_steps"] = len(threads), len(steps)
    return rec


def bg_then_writer_threads():
    """Thread A (process 0, start 0): a write holding 100 µs, think 0, then a ``bg_io``
    step (``device`` const 1 ms), think 0.  Thread B (process 1, start 150 µs): a write
    holding 1 ms, think 10 ms.  Window [0, 1 ms)."""
    steps = [(0, "writer", 100 * US, 0, 0), (0, "bg_io", 0, 0, 0),
             (1, "writer", MS, 10 * MS, 0)]
    return threads_record(steps, [(0, 2, 0), (2, 1, 150 * US)], MS, device="const(1ms)")


def test_a_bg_io_step_lets_the_threads_cpu_go():
    """§14.1 item 7: a thread that "starts a ``bg_io`` step … sleeps; its CPU frees after
    the step's bio has started (entered the gate, §2.3), and its next step comes through
    the timer path of §14.2 (b) whatever the think time".

    - 0: A's write takes the idle CPU (timer path) and ``L_0``, holds to 100 µs; it ends
      with think 0, so A keeps the CPU (item 6) for its next step at 100 µs.
    - 100 µs: the ``bg_io`` step (the run queue is empty): its bio enters the gate, is issued
      (done at 1.1 ms), and then A's CPU frees: idle.
    - 150 µs: B's write finds the CPU idle and runs at once (had A kept its CPU through
      the bio, B would wait in the run queue until 1.1 ms); it holds ``L_1`` to 1.15 ms.
    - 1.1 ms: the bio completes: A's iteration ends (counted: it started at 0), think 0; A
      holds no CPU, so its next step (a write, after the window) is a timer: no CPU is
      idle, it enters the run queue (``cpu_queued`` 1), its ``writes`` count deferred until
      it runs (§14.2).
    - 1.15 ms: B's write ends (iteration B 1, think 10 ms) and frees the CPU to A's step,
      which runs at 1.16 ms (``cpu_queue_ns`` 60 µs).  No counted task is alive and no
      counted iteration is open: the trial ends after this event (§12.3).

    Events: steps of A at 0, 100 µs, 1.1 ms and of B at 150 µs, the ends of the two holds
    and the bio's completion: 7.  ``steps`` 4, ``writes`` 2, ``bg_bios`` 1, writer waits
    0 and 0."""
    eng = engine(bg_then_writer_threads())
    c = eng.run_trials(1).counters
    assert (c["cpu_queued"], c["cpu_queue_ns"]) == (1, 60 * US)
    assert (c["steps"], c["writes"], c["bg_bios"], c["events"]) == (4, 2, 1, 7)
    assert (c["thread_iterations_0"], c["thread_iterations_1"]) == (1, 1)
    assert eng.samples[lay.M_WRITER_WAIT] == [0, 0]


def test_a_queued_scan_read_starts_its_scan_time_when_it_runs():
    """§14.2: a queued step's draws and its ``steps``/``scans`` counters are made at the
    timer, but "its first lock request (so its ``hp_wait``, and a scan's ``scan_time``,
    start then)" — when it runs — as do its ``hp_reads`` count.  Thread A (process 0,
    start 0): a write holding 1 ms, think 0.  Thread B (process 1, start 0.5 ms): one
    ``cmdline`` read of ``L_1`` that starts and ends a scan, holding 100 µs, think 10 ms.
    The 2018 model (one acquisition per read), window [0, 1 ms).

    - 0: A1 takes the idle CPU and ``L_0`` to 1 ms.  0.5 ms: the scan's read queues
      (``cpu_queued`` 1; ``scans`` 1 now).
    - 1 ms: A1 ends with think 0; at A's step the run queue is not empty: A2 (after the
      window, not counted) queues (2) and the CPU goes to the read (§14.1, preemption at a
      step boundary), which runs at 1.01 ms (``cpu_queue_ns`` += 0.51 ms): it requests
      ``L_1`` then — free: ``hp_wait`` 0 — and holds to 1.11 ms.
    - 1.11 ms: the read ends the scan: ``scan_time`` = 1.11 − 1.01 = 100 µs (from its
      request, not 610 µs from its timer), ``scan_wait`` 0.  B sleeps (think 10 ms): A2
      runs at 1.12 ms (+= 0.12 ms).  No counted task alive, no counted scan or iteration
      open: the trial ends (§12.3) after 6 events (A's steps at 0 and 1 ms, B's at 0.5 ms,
      A1's hold end, the read's run and its hold end)."""
    steps = [(0, "writer", MS, 0, 0), (1, "hp_read", 100 * US, 10 * MS, SCAN_START | SCAN_END)]
    eng = engine(threads_record(steps, [(0, 1, 0), (1, 1, MS // 2)], MS))
    c = eng.run_trials(1).counters
    assert (c["cpu_queued"], c["cpu_queue_ns"]) == (2, 630 * US)
    assert (c["steps"], c["scans"], c["hp_reads"], c["writes"], c["events"]) == (3, 1, 1, 1, 6)
    assert eng.samples[lay.M_SCAN_TIME] == [100 * US]
    assert eng.samples[lay.M_SCAN_WAIT] == [0] and eng.samples[lay.M_HP_WAIT] == [0]


def test_a_queued_faults_page_bio_enters_the_gate_when_it_runs():
    """§14.2: for a queued arrival "a ``locked``/``mkwrite-writeback`` fault's page bio
    entering the gate" happens when it runs.  One CPU, ``cpu_switch`` 1 µs, ``wake`` 0,
    policy ``hold``; a writer (hold 100 µs) at 0, a ``locked`` fault (``cpu`` 10 µs, page bio
    50 µs) at 10 µs.

    - 0: the writer takes the CPU and ``L``, holds to 100 µs.  10 µs: the fault queues.
    - 100 µs: the writer releases ``L`` and finishes; the fault runs at 101 µs: its page bio
      enters the gate now (a slot is free: done at 151 µs), its read request is granted at
      once (wait 0), its ``fault_cpu`` runs to 111 µs, then it waits for the page holding
      ``L`` and frees the CPU (§14.1 item 3).
    - 151 µs: the page's bio completes and wakes the fault, which takes the idle CPU and
      runs at once (``wake`` 0): it releases ``L`` and ends at 151 µs.  Had the bio entered
      the gate at the fault's arrival, it would have completed at 60 µs and the fault would
      have ended at 111 µs."""
    tasks = [{"at": 0, "kind": "writer", "hold": "100us"},
             {"at": "10us", "kind": "fault", "fault": "locked", "cpu": "10us", "bio": "50us"}]
    got, eng = script(tasks, cpus=1, cpu_switch="1us", wake="0", policy="hold")
    assert got == [([0], 100 * US), ([0], 151 * US)]
    assert (eng.counters["cpu_queued"], eng.counters["cpu_queue_ns"]) == (1, 91 * US)


def test_the_run_queue_grows_like_the_gate_queue():
    """§14.5: "The run queue starts with room for 64 entries like the lock and gate queues;
    its doublings count in ``buffer_growths``" — entries 1–64 fit, the 65th doubles the room
    to 128, the 129th to 256; the room persists over the trials of a block, as the gate
    queue's does.  "``cpu_queue_ns`` is a saturating sum (§4.4)": stuck at 2⁶³ − 1."""
    eng = engine(compile_scenario(validate(cpus=1, cpu_switch="1us")))
    eng._reset_trial()
    growths = []
    for _ in range(129):
        eng._cpu_enqueue(Task(len(growths), TK_WRITER))
        growths.append(eng.counters["buffer_growths"])
    assert growths[63] == 0 and growths[64] == 1 and growths[127] == 1 and growths[128] == 2
    assert eng.counters["cpu_queued"] == 129
    eng._reset_trial()
    for _ in range(129):
        eng._cpu_enqueue(Task(1, TK_WRITER))
    assert eng.counters["buffer_growths"] == 2
    eng._reset_trial()
    holder = Task(0, TK_WRITER)
    eng._cpu_take(holder)
    eng._cpu_enqueue(Task(1, TK_WRITER))
    eng.counters["cpu_queue_ns"] = SATURATED - 10
    eng.now = 5 * US
    eng._cpu_sleep(holder)                          # adds 5 µs + 1 µs: past the top
    assert eng.counters["cpu_queue_ns"] == SATURATED


# --- a known answer: M/M/c -----------------------------------------------------------------

def erlang_c(c, a):
    """The probability that an arrival waits in an M/M/c queue of offered load ``a``."""
    top = a ** c / math.factorial(c) * c / (c - a)
    return top / (sum(a ** k / math.factorial(k) for k in range(c)) + top)


def test_hp_reads_on_two_cpus_are_an_m_m_2_queue():
    """Only HP reads (Poisson, λ = 1.2/ms), each holding ``L(R)`` — and so its CPU (§14.1:
    no preemption through a critical section) — for an exp(1 ms) hold, on ``cpus = 2``,
    ``wake`` 0, ``cpu_switch`` 0.  Readers never wait for ``L`` (no writer, §2.1), so the
    CPUs are an M/M/2 queue served in FIFO order (§14.2, §14.3): an arrival waits with
    the Erlang C probability C(2, 1.2) = 0.45, on average C/(2μ − λ) = 0.5625 ms.
    ``cpu_queued``/``hp_reads`` and ``cpu_queue_ns``/``hp_reads`` estimate them; the trials
    are i.i.d. regenerative cycles (§4.2), so each ratio's standard error comes from the
    per-trial values (delta method) and the estimate must lie within 4.5 of them."""
    lam, mu, c = 1.2, 1.0, 2                        # per ms
    cfg = validate(hp_rate=1000 * lam, lp_rate=0, bg_io_rate=0, hp_hold="exp(1ms)",
                   wake="0", cpus=c, cpu_switch="0")
    eng = ReferenceEngine(compile_scenario(cfg), np.random.PCG64DXSM(11))
    rows, last = [], np.zeros(3)
    for _ in range(3000):
        cnt = eng.run_trials(1).counters
        now = np.array([cnt["hp_reads"], cnt["cpu_queued"], cnt["cpu_queue_ns"]], float)
        rows.append(now - last)
        last = now
    per_trial = np.array(rows)
    reads = per_trial[:, 0]
    p_wait = erlang_c(c, lam / mu)
    for column, exact in ((1, p_wait), (2, p_wait / (c * mu - lam) * MS)):
        y = per_trial[:, column]
        ratio = y.sum() / reads.sum()
        se = np.sqrt(np.sum((y - ratio * reads) ** 2) / (len(y) - 1) / len(y)) / reads.mean()
        assert se < 0.1 * exact                     # precise enough to tell a wrong model
        assert abs(ratio - exact) < 4.5 * se, (column, ratio, exact, se)
