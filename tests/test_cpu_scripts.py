"""Known answers for CPUs (docs/model.md §14): scripted cases on 1 and 2 CPUs, every wait,
end time and CPU counter derived by hand from the rules and asserted to the nanosecond on
both engines.

The rules the derivations use, quoted from §14 (and §2.1, §4.1, §11.2, §12.2 where named):

* R1 (§14.1) "A context holds a CPU from the moment it runs until it sleeps. [...] a
  running context keeps its CPU through its CPU stretches (``fault_cpu``, ...) and its
  critical sections (``hp_hold``, ``writer_hold``)."  It sleeps, freeing its CPU, when it
  "1. queues for ``L`` (a read or write request not granted at once)", "3. waits for its
  bio", "5. sleeps in ``vma_start_write()``" or "6. finishes. A thread's step that finishes
  with a think time of 0 does not sleep: the thread keeps its CPU and its next step's task
  runs on it when its ``EV_STEP`` event [...] comes -- unless the run queue is not empty
  then".  "The CPU frees at that point of the call, after everything the sleep itself
  does: after the queue entry of items 1-2 [...]".
* R1p (§14.1, preemption at a step boundary) "when a thread holding its CPU reaches its
  next step (its ``EV_STEP``, after a think time of 0) and the run queue is not empty, the
  new step's task (its draws made, §12.5) enters the run queue's tail [...] (counted in
  ``cpu_queued``), and the CPU frees to the queue's head (§14.3)."
* R2 (§14.2) A context becomes runnable "(a) when another context or a completion wakes
  it" (a reader granted ``L`` from the queue, a head writer woken by a release, a task whose
  bio completed, a writer woken in ``vma_start_write()``) or "(b) at a timer" (a scripted
  task at its ``at``, a thread's step).  "if a CPU is idle the context takes it [...] and
  runs after the idle path's latency: in case (a) ``wake + j`` [...]; in case (b) at once".
* R3 (§14.2) "If no CPU is idle the context enters the run queue (one FIFO for the machine)
  and draws nothing; counter ``cpu_queued`` counts these entries. [...] Its lock request,
  and so its ``hp_wait``, starts when it runs."
* R4 (§14.3) "When a context frees its CPU and the run queue is not empty, the queue's head
  takes that CPU and runs at ``now + s``, ``s`` a draw of ``cpu_switch`` [...]. Counter
  ``cpu_queue_ns`` adds ``now + s`` minus the moment it became runnable. With an empty run
  queue the CPU becomes idle."  No ``wake`` on this path.
* R5 (§14.3) "A reader granted ``L`` while no CPU is idle holds ``L`` from the grant (§2.1)
  while it waits in the run queue: a writer queued behind it waits for its CPU too".
* R6 (§14.4) "``inversion_wait`` is recorded when the reader runs, and is its acquisition's
  wait then (``run - request``)"; the inversion is judged at the grant (§11.7), from the
  holders blocked in a blamed step between request and grant (§5).
* §2.1, era 4.x: a read request is granted at once iff no writer holds ``L`` and the queue
  is empty; a release that frees ``L`` wakes a head writer (which takes ``L`` when it runs)
  or grants the consecutive readers at the head, stopping at the first writer.
* §4.1: a critical section of length 0 releases ``L`` in the call that granted it.

``cpus = 0`` is the model without CPUs (every context has its own): the control each case
is compared with.  A script's ``waits`` are its lock waits (a fault: one per pass; a writer
its ``writer_wait``; an HP read one per acquisition) and ``done`` its end; times below in
µs.
"""
import pytest

import mcsim
from mcsim import layout as lay
from mcsim.errors import ParameterError
from mcsim.params import validate
from mcsim.scenario import compile_scenario, compile_script
from test_workload_scripts import const, check, fault, run_trials, workload_record, write

US = 1_000


def run_script(tasks, engine, **params):
    """One script on one engine: ``[(kind, waits, done)]`` per task, and the counters."""
    r = mcsim.run_script(tasks, engine=engine, **params)
    scenario, rows = compile_scenario(validate(params)), compile_script(tasks)
    if engine == "reference":
        from mcsim.reference import ReferenceEngine

        ref = ReferenceEngine(scenario)
        ref.run_script(rows)
        counters = dict(ref.counters)
    else:
        from mcsim.engine import compiled_engine

        raw = compiled_engine().run_script(scenario, rows)["counters"]
        counters = dict(zip(lay.COUNTERS, raw.tolist()))
    return [(t.kind, t.waits, t.done) for t in r.tasks], counters


# ----------------------------------------------------------------------------------------
# I. A lock holder, a writer and a reader (2018 model: era 4.x, stock-4.19, wake 0,
#    cpu_switch const 1):
#        F  at 0   fault ``hit``, fault_cpu 100 (a hit's program is its lookup only,
#                  mcsim.policies.FAULT_PROGRAMS: one pass, no other step)
#        W  at 10  writer, hold 50
#        R  at 20  HP read, hold 5 (one acquisition in the 2018 model)
#
#    cpus = 0 and cpus = 2 (a CPU is idle at every moment a context becomes runnable, so
#    R2 gives each the same start as without CPUs):
#    0    F takes a CPU (R2 b: at once); L is free: read granted at once; runs 100 (R1)
#    10   W takes the idle CPU at once; L read-held: W queues and sleeps (R1 item 1)
#    20   R takes the idle CPU at once; the queue is not empty: R queues and sleeps
#    100  F's lookup ends: it releases L; L is free with W at the head: W is woken (R2 a)
#         and takes the idle CPU, running at 100 + wake = 100; F finishes (lp 100)
#    100  W takes L: writer_wait 100 - 10 = 90; holds 50
#    150  W releases: R (head reader) is granted, takes the idle CPU and runs at 150:
#         hp_wait 150 - 20 = 130; W ends at 150
#    155  R releases: done.  Nobody waited for a CPU: cpu_queued 0, cpu_queue_ns 0.
#    No holder of L was blocked in a blamed step while R waited (F ran its lookup, W its
#    hold): no inversion.
#
#    cpus = 1 (kernel code is not preempted, R1):
#    0    F takes the CPU and holds it through its lookup until 100
#    10   W: no CPU is idle -> run queue (cpu_queued 1); its request waits until it runs (R3)
#    20   R: run queue behind W (cpu_queued 2)
#    100  F releases L (free, its queue empty: nobody is woken) and finishes, freeing the CPU
#         (R1 item 6): W, the run queue's head, takes it and runs at 100 + 1 = 101 (R4;
#         cpu_queue_ns += 101 - 10 = 91)
#    101  W asks for L: free -> taken at once, writer_wait 0; holds 50 on the CPU
#    151  W releases L and finishes: R takes the CPU at 151 + 1 = 152 (cpu_queue_ns +=
#         152 - 20 = 132)
#    152  R asks for L: free, queue empty -> granted at once, hp_wait 0; holds 5
#    157  R releases: done.  cpu_queued 2, cpu_queue_ns 91 + 132 = 223.
#    On one CPU the reader's wait moves from L to the run queue: hp_wait 0, but it ends at
#    157 instead of 155.
HOLDER_WRITER_READER = [
    {"at": 0, "kind": "fault", "fault": "hit", "cpu": "100us"},
    {"at": "10us", "kind": "writer", "hold": "50us"},
    {"at": "20us", "kind": "hp_read", "hold": "5us"},
]
#: cpus -> ([(kind, waits µs, done µs)], cpu_queued, cpu_queue_ns µs)
HOLDER_WRITER_READER_EXPECTED = {
    0: ([("fault", [0], 100), ("writer", [90], 150), ("hp_read", [130], 155)], 0, 0),
    2: ([("fault", [0], 100), ("writer", [90], 150), ("hp_read", [130], 155)], 0, 0),
    1: ([("fault", [0], 100), ("writer", [0], 151), ("hp_read", [0], 157)], 2, 223),
}


def as_ns(expected_tasks):
    return [(kind, [w * US for w in waits], done * US) for kind, waits, done in expected_tasks]


@pytest.mark.parametrize("cpus", sorted(HOLDER_WRITER_READER_EXPECTED))
def test_holder_writer_reader(engine, cpus):
    tasks, counters = run_script(HOLDER_WRITER_READER, engine, cpus=cpus, cpu_switch="1us",
                                 wake="0")
    want, queued, queue_us = HOLDER_WRITER_READER_EXPECTED[cpus]
    assert tasks == as_ns(want)
    assert (counters["cpu_queued"], counters["cpu_queue_ns"]) == (queued, queue_us * US)
    assert counters["inversions"] == 0
    assert counters["lock_acquisitions"] == 3


# ----------------------------------------------------------------------------------------
# II. A reader granted L waits for a CPU while a writer queues behind it (R5).  Policy
#     ``hold`` (a miss keeps L through its IO), era 4.x, one LP slot, cpu_switch const 1,
#     wake w = 0 or 5:
#        F0  at 0   fault ``miss``, fault_cpu 0, bio 100: holds L(R) asleep in its IO
#        W1  at 10  writer, hold 50
#        F1  at 20  fault ``hit``, fault_cpu 100
#        R   at 30  HP read, hold 5
#        W2  at 40  writer, hold 10
#     0-40 (every cpus): each arrives onto an idle CPU and runs at once (R2 b).  F0 takes
#          L(R) at once, issues its bio (the slot is free: completes at 100) and sleeps
#          waiting for it (R1 item 3).  W1 queues (L read-held), F1, R and W2 queue behind
#          it (4.x: a read is not granted past a non-empty queue); each sleeps (item 1).
#          Queue: W1, F1, R, W2; every CPU idle.
#     100  F0's bio completes: F0 is woken onto an idle CPU (R2 a): runs at 100 + w.
#
#     cpus = 1:
#     100+w  F0 releases L: W1 (head writer) is woken, but F0 holds the only CPU -> run
#            queue (R3, cpu_queued 1; no draw, no wake); F0 finishes (done 100 + w) and
#            frees the CPU: W1 runs at 101 + w (R4; cpu_queue_ns += 1)
#     101+w  W1 takes L: writer_wait 101 + w - 10 = 91 + w; holds 50
#     151+w  W1 releases: F1 and R (consecutive readers at the head) are granted and hold L
#            from now (§2.1); no CPU is idle: both enter the run queue, F1 first (cpu_queued
#            3); W2 stays queued behind them.  W1 finishes: F1 runs at 152 + w (R4;
#            cpu_queue_ns += 1)
#     152+w  F1 runs holding L: its pass waited 152 + w - 20 = 132 + w; lookup 100
#     252+w  F1 releases (R still holds L: nobody is woken) and finishes (done 252 + w): R
#            runs at 253 + w (cpu_queue_ns += 253 + w - (151 + w) = 102)
#     253+w  R runs: hp_wait 253 + w - 30 = 223 + w, of which 102 in the run queue holding L
#            (R5); holds 5
#     258+w  R releases: L is free, W2 is woken -> run queue (cpu_queued 4), R finishes
#            (done 258 + w): W2 runs at 259 + w (cpu_queue_ns += 1)
#     259+w  W2 takes L: writer_wait 219 + w; holds 10, done 269 + w.
#            cpu_queued 4, cpu_queue_ns 1 + 1 + 102 + 1 = 105.  Only F0's wake-up pays w:
#            the busy path runs at now + cpu_switch (R4).
#
#     cpus = 2:
#     100+w  F0 releases L: W1 is woken onto the other, idle CPU and runs at 100 + 2w;
#            F0 finishes (done 100 + w), its CPU goes idle
#     100+2w W1 takes L: writer_wait 90 + 2w; holds 50
#     150+2w W1 releases: F1 is granted and takes the idle CPU (runs at 150 + 3w, R2 a); R
#            is granted with no CPU idle -> run queue (cpu_queued 1); W1 finishes: R runs on
#            its CPU at 151 + 2w (R4, cpu_queue_ns += 1)
#     151+2w R runs: hp_wait 121 + 2w; holds 5, done 156 + 2w (F1 still holds L: no wake)
#     150+3w F1 runs holding L: its pass waited 130 + 3w; lookup 100
#     250+3w F1 releases: L is free, W2 is woken onto the idle CPU, runs at 250 + 4w; F1
#            done 250 + 3w
#     250+4w W2 takes L: writer_wait 210 + 4w; done 260 + 4w.
#            With w = 5 the reader waiting in the run queue (1) runs before F1, granted
#            with it but woken onto an idle CPU (5).
#
#     cpus = 0 (no CPUs): as cpus = 2, except that R is woken like F1, at 150 + 3w:
#            hp_wait 120 + 3w, done 155 + 3w; nothing queues for a CPU.
#
#     Every cpus: R's acquisition (request 30, grant later) overlaps F0 holding L blocked
#     in its IO from 0 until it runs again at 100 + w (§5: a holder is blocked until it
#     runs again): an inversion blamed ``io`` (R6).
DELAYED_READER = [
    {"at": 0, "kind": "fault", "fault": "miss", "bio": "100us"},
    {"at": "10us", "kind": "writer", "hold": "50us"},
    {"at": "20us", "kind": "fault", "fault": "hit", "cpu": "100us"},
    {"at": "30us", "kind": "hp_read", "hold": "5us"},
    {"at": "40us", "kind": "writer", "hold": "10us"},
]


def delayed_reader_expected(cpus, w):
    """The table of case II above: ([(kind, waits µs, done µs)], cpu_queued,
    cpu_queue_ns µs)."""
    if cpus == 1:
        return ([("fault", [0], 100 + w), ("writer", [91 + w], 151 + w),
                 ("fault", [132 + w], 252 + w), ("hp_read", [223 + w], 258 + w),
                 ("writer", [219 + w], 269 + w)], 4, 105)
    tasks = [("fault", [0], 100 + w), ("writer", [90 + 2 * w], 150 + 2 * w),
             ("fault", [130 + 3 * w], 250 + 3 * w), ("hp_read", [121 + 2 * w], 156 + 2 * w),
             ("writer", [210 + 4 * w], 260 + 4 * w)]
    if cpus == 0:
        tasks[3] = ("hp_read", [120 + 3 * w], 155 + 3 * w)
        return tasks, 0, 0
    return tasks, 1, 1


@pytest.mark.parametrize("wake_us", [0, 5])
@pytest.mark.parametrize("cpus", [0, 1, 2])
def test_granted_reader_waits_for_a_cpu_with_a_writer_behind_it(engine, cpus, wake_us):
    tasks, counters = run_script(DELAYED_READER, engine, policy="hold", era="4.x",
                                 cpus=cpus, cpu_switch="1us", wake=f"{wake_us}us")
    want, queued, queue_us = delayed_reader_expected(cpus, wake_us)
    assert tasks == as_ns(want)
    assert (counters["cpu_queued"], counters["cpu_queue_ns"]) == (queued, queue_us * US)
    assert (counters["inversions"], counters["blame_io"]) == (1, 1)
    assert counters["lock_acquisitions"] == 5


# ----------------------------------------------------------------------------------------
# III. The 6.18 fault loop and an mprotect of its VMA, woken in vma_start_write() (§11.2,
#      §12.2; the workload helpers and conventions of tests/test_workload_scripts.py).
#      Kernel 6.18 (pass 1 under the VMA lock V; ``mkwrite`` runs holding it, the dirty
#      step drops it and, with ``dirty_completes``, ends the fault, §11.4), wake 0,
#      fault_cpu 10, device const 100, dirty 0, one LP slot, cpu_switch const 1.
#        thread 0 (F): fault ``mkwrite_slow`` on VMA 0, think 0, start 0: lookup 10 under
#                     V, its bio (100) and the wait for it under V, then the dirty drop
#                     of V ends it (a 0 ns dirty sleep is no sleep: mcsim.reference.faults
#                     schedules nothing for it)
#        thread 1 (W): write (mprotect) of VMA 0, hold 0, think 1 s, start 50
#      Warm-up 0, window [0, 300): F's faults from 0 on are counted, W's write at 50 too;
#      W's next step (after 1 s) never comes.
#      F's bio wait is what lets W onto the machine at 50: while F runs it holds its CPU
#      (R1); a loop that never sleeps lets others run only at its step boundaries (R1p,
#      the last test below).
#
#      Every cpus:
#      0    F's fault takes a CPU (R2 b), V at once (§11.2: no wait, no event); lookup to 10;
#           at 10 its bio is issued (slot free, completes at 110) and F sleeps in the wait
#           (R1 item 3) holding V
#      50   W takes an idle CPU at once; L_0 is free: W takes it for write (writer_wait 0,
#           one L request), write-locks V, finds V's reader and sleeps in vma_start_write
#           (R1 item 5; vma_writer_waits 1)
#      110  F's bio completes: F is woken onto an idle CPU and runs at 110.  The dirty step
#           drops V (hold_vma 110): V's last reader left, so W is woken (R2 a).  The fault
#           ends (lp_fault_latency 110); think 0: F keeps its CPU and its next step's event
#           at 110 is scheduled after W's wake-up (R1 item 6, §12.2).
#
#      cpus = 2 (and 0): W is woken onto the other, idle CPU and runs at 110, before F's
#      next step: it leaves vma_start_write (vma_writer_wait 110 - 50 = 60), and its 0 ns
#      hold releases L_0 at once (§4.1), ending the VMA's write lock (hold_writer 60, from
#      taking L).  F's next fault at 110 finds V free: no fallback.  Faults at 0, 110, 220
#      (each 110 under V); the one at 220 ends at 330, the first event past the window with
#      nothing counted alive: the trial ends.  cpu_queued 0.
#
#      cpus = 1: no CPU is idle at 110 (F holds it): W enters the run queue (cpu_queued 1).
#      At F's step event (110) the run queue is not empty: preemption at the step boundary
#      (R1p): F's next fault (admitted at 110) enters the queue's tail (cpu_queued 2) and
#      the CPU goes to W
#      111  W runs (R4, cpu_queue_ns += 111 - 110 = 1): vma_writer_wait 111 - 50 = 61; the
#           0 ns hold releases L_0 (hold_writer 61) and the VMA's write lock; W finishes
#           (think 1 s: it sleeps) and its CPU goes to F's fault
#      112  F's fault runs (R4, cpu_queue_ns += 112 - 110 = 2): V is free, no fallback;
#           lookup to 122, bio to 222 under V
#      222  F runs again and drops V (hold_vma 222 - 112 = 110); the fault ends:
#           lp_fault_latency 222 - 110 = 112 (its latency counts from the timer, §14.2)
#      222  the next fault runs on the kept CPU (the queue is empty): 110 under V, ends at
#           332, where the trial ends.
#      Faults at 0, 110, 222: latencies 110, 112, 110; hold_vma three times 110; one L
#      request (W's); cpu_queued 2, cpu_queue_ns 3.
#
#      cpus = 2 with wake 5 (the writer leaves vma_start_write() too late):
#      0    as above; 50: W at once (a timer: no wake), sleeps in vma_start_write
#      110  F's bio completes: F wakes onto an idle CPU and runs at 115 (R2 a: wake + 0)
#      115  F drops V (hold_vma 115): W is woken onto the other idle CPU, to run at 120.
#           The fault ends (latency 115); think 0, the run queue is empty: F's next fault
#           runs at 115 on its kept CPU and finds V write-locked: it falls back
#           (fallbacks 1) to a read request for L_0, which W holds: F queues and sleeps
#      120  W runs: vma_writer_wait 120 - 50 = 70; its 0 ns hold releases L_0 (hold_writer
#           70) and grants F, which wakes onto the CPU F freed and runs at 125; W finishes
#      125  F holds L_0: fault_lock_wait 125 - 115 = 10; lookup to 135, bio to 235 under
#           L_0 (a fallback pass is an L pass in every respect, §11.2)
#      235  F wakes (idle CPU), runs at 240, drops L_0 (hold_fault 240 - 120 = 120): the
#           fault ends, latency 240 - 115 = 125
#      240  the next fault: V free, lookup to 250, bio to 350, runs at 355 (hold_vma 115),
#           latency 115; the trial ends at 355.
#      So on 2 CPUs with a 5 µs wake-up the fault at 115 falls back, and on 1 CPU the
#      preempted thread lets the writer out of vma_start_write() first: the machine's size
#      decides it, in the direction the step-boundary preemption gives.
#      With a hold h > 0 every case's second fault would fall back while W holds L_0: V
#      stays write-locked until W releases L_0 (§11.2).
ISSUE_THREADS = [(0, const(0), [fault(0, 0, "mkwrite_slow", const(0))]),
                 (0, const(50 * US), [write(0, const(0), const(1_000_000_000), vma=0)])]
ISSUE_WINDOW = 300 * US
ISSUE_COMMON = {"faults": 3, "faults_mkwrite_slow": 3, "bios": 3, "writes": 1,
                "vma_writer_waits": 1, "steps": 4, "thread_iterations_0": 3,
                "thread_iterations_1": 1}
#: cpus -> (metrics: name -> (n, total, vmin, vmax) in µs but fault_passes, counters)
ISSUE_EXPECTED = {
    2: ({"lp_fault_latency": (3, 330, 110, 110), "hold_vma": (3, 330, 110, 110),
         "vma_writer_wait": (1, 60, 60, 60), "hold_writer": (1, 60, 60, 60)},
        {"lock_acquisitions": 1}),
    1: ({"lp_fault_latency": (3, 332, 110, 112), "hold_vma": (3, 330, 110, 110),
         "vma_writer_wait": (1, 61, 61, 61), "hold_writer": (1, 61, 61, 61)},
        {"lock_acquisitions": 1, "cpu_queued": 2, "cpu_queue_ns": 3 * US}),
    "2, wake 5": ({"lp_fault_latency": (3, 355, 115, 125), "hold_vma": (2, 230, 115, 115),
                   "vma_writer_wait": (1, 70, 70, 70), "hold_writer": (1, 70, 70, 70),
                   "fault_lock_wait": (1, 10, 10, 10), "hold_fault": (1, 120, 120, 120)},
                  {"lock_acquisitions": 2, "fallbacks": 1}),
}
ISSUE_EXPECTED[0] = ISSUE_EXPECTED[2]


@pytest.mark.parametrize("case", [0, 1, 2, "2, wake 5"])
def test_mprotect_leaves_vma_start_write_before_the_next_fault(engine, case):
    us_metrics, extra = ISSUE_EXPECTED[case]
    cpus, wake = (2, "5us") if case == "2, wake 5" else (case, "0")
    metrics = {name: (n, total * US, lo * US, hi * US)
               for name, (n, total, lo, hi) in us_metrics.items()}
    metrics["fault_passes"] = (3, 3, 1, 1)
    metrics["gate_wait"] = (3, 0, 0, 0)
    metrics["writer_wait"] = (1, 0, 0, 0)
    rec = workload_record(ISSUE_THREADS, warmup=0, window=ISSUE_WINDOW, fault_cpu="10us",
                          device="100us", cpus=cpus, cpu_switch="1us", wake=wake)
    check(run_trials(rec, engine), ISSUE_WINDOW, metrics, {**ISSUE_COMMON, **extra})


# ----------------------------------------------------------------------------------------
def test_a_script_needs_a_constant_cpu_switch(engine):
    """§14.5: "Scripts run without a random stream: ``cpu_switch``, like ``wake_jitter``,
    must be a ``const`` there." -- a one-line ParameterError naming it."""
    with pytest.raises(ParameterError, match="cpu_switch"):
        mcsim.run_script(HOLDER_WRITER_READER, engine=engine, cpus=1,
                         cpu_switch="exp(1us)")


def test_a_fault_loop_that_never_sleeps_is_preempted_between_faults(engine):
    """Case III with ``hit`` faults (a lookup of 10 under V, never a sleep) and think 0 on
    one CPU: F keeps its CPU from fault to fault (R1 item 6), and only the preemption at a
    step boundary (R1p) lets W run.  Faults at 0, 10, 20, 30, 40 (latency 10 each).  At 50
    two events: W's step, scheduled at the trial's start, comes first (§4.1: (time, seq))
    and finds no idle CPU: run queue (cpu_queued 1); then F's fault ends (latency 10) and
    its step event at 50 finds the queue not empty: the new fault queues behind W
    (cpu_queued 2) and W takes the CPU, running at 51 (R4: cpu_queue_ns 1).  W takes L_0 for
    write, write-locks V (no reader: vma_writer_wait 0), its 0 ns hold releases at once
    (hold_writer 0); W sleeps 1 s and the fault runs at 52 (cpu_queue_ns + 2): it ends at
    62 (latency 62 - 50 = 12).  Then faults every 10 µs from 62 to 292, the last ending at
    302, where the trial ends: 30 counted faults, total latency 29 * 10 + 12 = 302."""
    threads = [(0, const(0), [fault(0, 0, "hit", const(0))]), ISSUE_THREADS[1]]
    rec = workload_record(threads, warmup=0, window=ISSUE_WINDOW, fault_cpu="10us",
                          cpus=1, cpu_switch="1us", max_trial_events=5000)
    metrics = {"lp_fault_latency": (30, 302 * US, 10 * US, 12 * US),
               "hold_vma": (30, 300 * US, 10 * US, 10 * US),
               "vma_writer_wait": (1, 0, 0, 0), "hold_writer": (1, 0, 0, 0),
               "writer_wait": (1, 0, 0, 0), "fault_passes": (30, 30, 1, 1)}
    counters = {"faults": 30, "faults_hit": 30, "writes": 1, "lock_acquisitions": 1,
                "cpu_queued": 2, "cpu_queue_ns": 3 * US, "steps": 31,
                "thread_iterations_0": 30, "thread_iterations_1": 1}
    check(run_trials(rec, engine), ISSUE_WINDOW, metrics, counters)
