"""CPUs in the compiled core (docs/model.md §14): a machine of ``cpus`` CPUs, a run queue,
the idle path and the context switch.

Known answers: two scripted interleavings derived by hand from §14 (and §2.1, §2.4, §4.1
they build on), with ``wake`` 0 and ``cpu_switch`` const 1us; the equality of ``cpus =
1024`` and ``cpus = 0``, which follows from §14.2 (see its test); and the invariants of
§14.5, checked after every event.  Times in ns.
"""
import numpy as np
import pytest

from mcsim import layout as lay
from mcsim.engine import BlockOutput, block_bitgen, compiled_engine
from mcsim.errors import ParameterError
from mcsim.params import validate
from mcsim.scenario import (NO_VMA, SCAN_END, SCAN_START, TK_BG, TK_HP, TK_WRITER, TRIAL_WINDOW,
                            compile_scenario, compile_script)
from mcsim.workload import load_workload

US, MS = 1_000, 1_000_000


def run(rec, trials, seed=3, check=True):
    """``trials`` trials in one block with the invariants checked after every event."""
    out = BlockOutput.zeros()
    compiled_engine().run_block(rec, block_bitgen(seed, 0), trials, out.hist_arrays,
                                out.hist_scalars, out.hist_floats, out.counters,
                                check_invariants=check)
    return out


def open_record(**params):
    return compile_scenario(validate(params))


def workload_record(name="ps-scan", vars=None, **params):
    wl = load_workload(name, vars=vars)
    rec = compile_scenario(wl.config(params))
    wl.apply(rec)
    return rec


def script(tasks, **params):
    """The compiled core's raw script result (it reports the counters too)."""
    rec = compile_scenario(validate({"wake": 0, "cpu_switch": "1us", **params}))
    return compiled_engine().run_script(rec, compile_script(tasks))


# ------------------------------------------------------------------ invariants
SHORT_WORKLOAD = dict(vars={"n": 3, "interval": "5ms", "think": "exp(200us)",
                            "mmap": "exp(1ms)"}, warmup="2ms", window="20ms")


@pytest.mark.parametrize("cpus", [1, 2, 3])
@pytest.mark.parametrize("case", ["open", "6.18", "workload"])
def test_invariants_hold_with_few_cpus(cpus, case):
    """§14.5's invariants (idle + held = cpus, no queue while a CPU is idle, a queued
    context neither runs nor sleeps, a background bio holds no CPU) and all earlier ones
    hold after every event; run_block raises AssertionError otherwise.  A drawn jitter and
    switch exercise both draws of §14.5."""
    draws = dict(cpus=cpus, wake_jitter="exp(2us)", cpu_switch="exp(3us)")
    if case == "open":
        rec, trials = open_record(**draws), 3000
    elif case == "6.18":
        rec, trials = open_record(kernel="6.18", p_dirty_throttle=0.3, write_fault_ratio=0.5,
                                  **draws), 3000
    else:
        rec, trials = workload_record(**SHORT_WORKLOAD, **draws), 2
    c = run(rec, trials).counter_dict()
    assert c["trials"] == trials
    if cpus == 1:
        # A fault's fault_cpu stretch holds the only CPU (§14.1), so an arrival during it
        # queues (§14.2); the runs are long enough for that to happen.
        assert c["cpu_queued"] > 0 and c["cpu_queue_ns"] > 0


def thread_record(threads, window, **params):
    """A window-trial record of the 2018 model with no open stream: ``threads`` lists one
    program per thread on process 0, each step (kind, hold ns, think ns[, scan flag]),
    start delay 0."""
    rec = compile_scenario(validate({"wake": 0, "cpu_switch": "1us", **params}))
    r = rec[0]
    r["trial_kind"], r["warmup_ns"], r["window_ns"] = TRIAL_WINDOW, 0, window
    r["open_stream"], r["n_processes"], r["n_vmas"] = 0, 1, 1
    n = 0
    for i, steps in enumerate(threads):
        th = r["threads"][i]
        th["first_step"], th["n_steps"], th["process"] = n, len(steps), 0
        th["start"] = (0, 0.0, 0.0)
        for kind, hold, think, *scan in steps:
            st = r["steps"][n]
            st["kind"], st["process"], st["vma"], st["scan"] = kind, 0, NO_VMA, sum(scan)
            st["hold"], st["think"] = (0, float(hold), 0.0), (0, float(think), 0.0)
            n += 1
    r["n_threads"], r["n_steps"] = len(threads), n
    return rec


def test_a_thread_is_preempted_at_a_step_boundary_only_if_someone_waits():
    """1 CPU, wake 0, switch 1us, window [0, 1ms).  Thread A: write (elsewhere) hold 100us
    think 0, write hold 100us think 50us; thread B: cmdline hold 10us think 1ms.
    t=0    A's first step takes the idle CPU and L(W) (§14.2 b); B's step, scheduled
           after it, finds no CPU idle and queues: it has not requested L (§14.2).
    t=100  A's writer finishes with think 0: A keeps its CPU (§14.1 item 6); its next
           step's event at 100 finds B queued: "the new step's task ... enters the run
           queue's tail ... and the CPU frees to the queue's head" (preemption at a step
           boundary): B runs at 101 (§14.3; cpu_queue_ns 101us), finds L free: hp_wait 0.
    t=111  B ends and sleeps 1ms (next read at 1111, outside the window): A's second
           write runs at 112 (cpu_queue_ns + 12us), writer_wait 0, ends 212, think 50us.
    t=262, 512, 762  A's iterations start on an idle CPU; at each think 0 the run queue is
           empty, so A's second write runs on the CPU it kept: nobody queues again.
    Counted: A's 8 writes (waits 0) in 4 iterations, B's one read (wait 0)."""
    rec = thread_record([[(TK_WRITER, 100 * US, 0), (TK_WRITER, 100 * US, 50 * US)],
                         [(TK_HP, 10 * US, 1 * MS)]], window=1 * MS, cpus=1)
    out = run(rec, 2)
    c, h = out.counter_dict(), out.histograms()
    assert c["cpu_queued"] == 2 * 2 and c["cpu_queue_ns"] == 2 * (101 + 12) * US
    assert (h["writer_wait"].n, h["writer_wait"].total) == (2 * 8, 0)
    assert (h["hp_wait"].n, h["hp_wait"].total) == (2 * 1, 0)
    assert c["thread_iterations_0"] == 2 * 4


def test_a_scan_is_timed_from_its_first_request():
    """Thread A as above; thread B scans process 0 twice: cmdline (scan start) hold 10us
    think 0, cmdline (scan end) hold 10us think 1ms.  1 CPU, window [0, 1ms).
    t=0    B's first read queues behind A (§14.2 b); its request waits until it runs.
    t=100  A keeps its CPU (think 0) but B waits: A's next step queues at the tail and B's
           read runs at 101 (§14.1 preemption at a step boundary; queued 101us): granted,
           hp_wait 0.  The scan's time starts at this request (§14.2: "its first lock
           request (so its hp_wait, and a scan's scan_time, start then)").
    t=111  B's read ends with think 0: its second read's event at 111 finds A's step
           queued, so it queues too and A's write runs at 112 (queued 12us), until 212.
    t=212  A sleeps 50us: B's second read runs at 213 (queued 102us), granted at once
           (hp_wait 0), released at 223: scan_time = 223 - 101 = 122us, scan_wait 0."""
    scan = [(TK_HP, 10 * US, 0, SCAN_START), (TK_HP, 10 * US, 1 * MS, SCAN_END)]
    rec = thread_record([[(TK_WRITER, 100 * US, 0), (TK_WRITER, 100 * US, 50 * US)], scan],
                        window=1 * MS, cpus=1)
    out = run(rec, 2)
    c, h = out.counter_dict(), out.histograms()
    assert c["cpu_queued"] == 2 * 3 and c["scans"] == 2 * 1
    assert c["cpu_queue_ns"] == 2 * (101 + 12 + 102) * US
    assert (h["scan_time"].n, h["scan_time"].total) == (2, 2 * 122 * US)
    assert (h["scan_wait"].n, h["scan_wait"].total) == (2, 0)
    assert (h["hp_wait"].n, h["hp_wait"].total) == (2 * 2, 0)


def test_a_bg_io_step_frees_the_threads_cpu_after_its_bio_starts():
    """1 CPU, device const 300us.  Thread A: write hold 100us think 0, bg_io think 0;
    thread B: write hold 10us think 1ms.  Window [0, 1ms).
    t=0    A takes the CPU and L(W); B queues (§14.2 b).
    t=100  A keeps its CPU (think 0); its bg_io step comes with B queued: "the bio starts,
           then the thread's CPU goes to the queue's head" (§14.1 item 7): the bio is
           issued (done at 400) and B runs at 101 (queued 101us), writes until 111 and
           sleeps 1ms.
    t=400  the bio completes; A's next step "comes through the timer path of §14.2 (b)
           whatever the think time": the CPU is idle, A takes it at once (no queueing),
           writes until 500, keeps its CPU, starts its bio at 500 and frees the CPU.
    t=800  likewise; B's next write (1111) finds the CPU idle too.  So only B's first
           step ever queued; A's counted iterations start at 0, 400 and 800."""
    rec = thread_record([[(TK_WRITER, 100 * US, 0), (TK_BG, 0, 0)],
                         [(TK_WRITER, 10 * US, 1 * MS)]], window=1 * MS, cpus=1,
                        device="300us")
    out = run(rec, 2)
    c, h = out.counter_dict(), out.histograms()
    assert c["cpu_queued"] == 2 * 1 and c["cpu_queue_ns"] == 2 * 101 * US
    assert c["thread_iterations_0"] == 2 * 3
    assert (h["writer_wait"].n, h["writer_wait"].total) == (2 * 4, 0)


def test_no_cpus_queue_nothing():
    """cpus = 0: §14 does not apply, nothing queues (§14 preamble)."""
    c = run(open_record(), 2000).counter_dict()
    assert c["cpu_queued"] == 0 and c["cpu_queue_ns"] == 0


# ------------------------------------------------------------------ many CPUs = none
def _same(a, b):
    for name in ("hist_arrays", "hist_scalars", "hist_floats"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    ca, cb = a.counter_dict(), b.counter_dict()
    assert ca == cb


@pytest.mark.parametrize("case", ["open", "6.18-jitter", "workload"])
def test_many_cpus_give_the_results_of_none(case):
    """With more CPUs than contexts ever alive, no CPU is ever missing, so no context
    enters the run queue (checked: cpu_queued = 0) and every cpu_switch draw is skipped
    (§14.5: it is drawn only when a queued context takes a freed CPU).  Then each wake-up
    takes the idle path, "wake + j, j a wake_jitter draw made then (exactly §13.2)", and
    each timer runs "at once, as without CPUs" (§14.2), so the event order, the draws and
    every time are those of cpus = 0; §14.4 makes inversion_wait the same value.  So the
    results are equal bit for bit, even with a drawn jitter and a drawn switch."""
    if case == "open":
        params, trials = dict(cpu_switch="exp(5us)"), 3000
        make = open_record
    elif case == "6.18-jitter":
        params = dict(kernel="6.18", wake_jitter="exp(3us)", cpu_switch="exp(5us)",
                      p_dirty_throttle=0.3, write_fault_ratio=0.5)
        trials, make = 3000, open_record
    else:
        params, trials = dict(SHORT_WORKLOAD, wake_jitter="exp(3us)"), 2
        make = workload_record
    none = run(make(**params), trials, check=False)
    many = run(make(cpus=1024, **params), trials)
    assert many.counter_dict()["cpu_queued"] == 0
    _same(none, many)


# ------------------------------------------------------------------ hand-derived scripts
# The 2018 model (stock-4.19, era 4.x), wake 0, cpu_switch const 1us.  Tasks:
#   0  t=0     fault, kind hit, fault_cpu 100us
#   1  t=10us  writer, hold 50us
#   2  t=20us  HP read, hold 5us
ARRIVALS = [{"at": 0, "kind": "fault", "fault": "hit", "cpu": "100us"},
            {"at": "10us", "kind": "writer", "hold": "50us"},
            {"at": "20us", "kind": "hp_read", "hold": "5us"}]


def test_one_cpu_runs_the_arrivals_in_turn():
    """1 CPU.
    t=0    the fault arrives, takes the idle CPU (§14.2 b: "if a CPU is idle the context
           takes it ... in case (b) at once"), is granted L and runs its 100us stretch
           holding the CPU ("a running context keeps its CPU through its CPU stretches").
    t=10   the writer's timer: no CPU idle, it enters the run queue ("enters the run
           queue ... and draws nothing"); its lock request waits until it runs ("Its lock
           request ... starts when it runs").  t=20 the HP read queues behind it.
    t=100  the fault finishes (§14.1 item 6): the queue's head, the writer, takes the CPU
           and runs at now + s = 101 (§14.3); cpu_queue_ns += 101 - 10.
    t=101  the writer starts: L is free, granted at once (writer_wait 0), holds 50.
    t=151  it releases and finishes: the HP read runs at 152; cpu_queue_ns += 152 - 20.
    t=152  the read is granted at once (hp_wait 0) and ends at 157."""
    r = script(ARRIVALS, cpus=1)
    assert list(r["done"]) == [100 * US, 151 * US, 157 * US]
    assert [list(w[:n]) for w, n in zip(r["waits"], r["nwaits"])] == [[0], [0], [0]]
    c = dict(zip(lay.COUNTERS, r["counters"]))
    assert c["cpu_queued"] == 2
    assert c["cpu_queue_ns"] == (101 - 10) * US + (152 - 20) * US


def test_two_cpus_leave_nobody_queued():
    """2 CPUs.
    t=0    the fault takes CPU 1, holds L(R) and runs 100us on it.
    t=10   the writer takes CPU 2 at once (§14.2 b); L is read-held: it queues (§2.1) and
           so sleeps, freeing CPU 2 "after the queue entry" (§14.1 item 1).
    t=20   the HP read takes CPU 2; 4.x: a writer is queued, so it queues behind it and
           frees CPU 2.
    t=100  the fault releases L: the head writer is woken and finds CPU 2 idle: it runs
           at now + wake + j = 100 (§14.2 a); then the fault finishes, freeing CPU 1.
    t=100  the writer takes L (writer_wait 90us), holds until 150; its release grants
           the reader, which finds CPU 1 idle and runs at 150 (hp_wait 130us), ends 155.
    Nobody ever waited in the run queue: exactly the times of cpus = 0."""
    r = script(ARRIVALS, cpus=2)
    assert list(r["done"]) == [100 * US, 150 * US, 155 * US]
    assert [list(w[:n]) for w, n in zip(r["waits"], r["nwaits"])] == [[0], [90 * US], [130 * US]]
    c = dict(zip(lay.COUNTERS, r["counters"]))
    assert c["cpu_queued"] == 0 and c["cpu_queue_ns"] == 0
    none = script(ARRIVALS, cpus=0)
    assert list(none["done"]) == list(r["done"])


def test_one_cpu_a_granted_reader_waits_for_its_cpu():
    """1 CPU, the 2018 model (mkwrite under L, its bio waited for under L, §3), wake 0,
    switch 1us.  Tasks: M t=0 fault mkwrite_slow bio 100us; H t=5us fault hit cpu 200us;
    W t=10us writer hold 50us; R t=20us HP read hold 5us.
    t=0    M takes the CPU, L(R), issues its bio (gate free) and waits for it holding L
           (blocked, blame mkwrite): it sleeps, the CPU goes idle (§14.1 item 3).
    t=5    H takes the idle CPU, is granted L(R) (no writer, empty queue) and runs 200us.
    t=10   W queues for a CPU, t=20 R behind it (§14.2 b).
    t=100  M's bio completes: a wake-up (§14.2 a) with no CPU idle: M queues third.
    t=205  H releases L (M still holds it) and finishes: W runs at 206 (§14.3);
           cpu_queue_ns += 196us.
    t=206  W's write request queues on L (M holds it) and sleeps: R runs at 207 (+187us).
    t=207  R's read request queues behind W (4.x) and sleeps: M runs at 208 (+108us).
           R's blocking snapshot at 207 sees M blocked in mkwrite holding L.
    t=208  M resumes (unblocked only now, when it runs), its dirty step lasts 0, it ends
           and releases L: W, the head writer, is woken with no CPU idle and queues (no
           draw); M finishes: W runs at 209 (+1us) and takes L: writer_wait 209 - 206.
    t=259  W releases: R is granted L (§14.3: it holds L while it waits for a CPU) and
           judged: M was blocked in mkwrite for 1us of its wait, an inversion blamed on
           mkwrite (§11.7); R queues; W finishes: R runs at 260 (+1us).
    t=260  R runs: hp_wait = 260 - 207 = 53us, also its inversion_wait (§14.4); ends 265."""
    tasks = [{"at": 0, "kind": "fault", "fault": "mkwrite_slow", "bio": "100us"},
             {"at": "5us", "kind": "fault", "fault": "hit", "cpu": "200us"},
             {"at": "10us", "kind": "writer", "hold": "50us"},
             {"at": "20us", "kind": "hp_read", "hold": "5us"}]
    r = script(tasks, cpus=1)
    assert list(r["done"]) == [208 * US, 205 * US, 259 * US, 265 * US]
    assert [list(w[:n]) for w, n in zip(r["waits"], r["nwaits"])] == [
        [0], [0], [3 * US], [53 * US]]
    c = dict(zip(lay.COUNTERS, r["counters"]))
    assert c["cpu_queued"] == 5
    assert c["cpu_queue_ns"] == (196 + 187 + 108 + 1 + 1) * US
    assert c["inversions"] == 1 and c["blame_mkwrite"] == 1


def test_a_script_refuses_a_drawn_cpu_switch():
    """Scripts run without a random stream: cpu_switch must be const (§14.5)."""
    with pytest.raises(ParameterError, match="cpu_switch"):
        script([{"at": 0, "kind": "writer"}], cpus=1, cpu_switch="exp(1us)")
