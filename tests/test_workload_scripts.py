"""Known answers for workloads (docs/model.md §12): deterministic closed loops whose every
wait is derived by hand from the rules of §2, §11 and §12, asserted to the nanosecond on
both engines.

Every workload here is deterministic: all durations ``const``, every probability 0,
``evict_rate`` 0, fixed fault kinds, ``wake`` 0, kernel ``6.18`` (era 5.11+, two ``mmap_lock``
acquisitions per ``cmdline`` read, file faults first under the VMA lock, writers
``vma_start_write()`` the VMA they change).  Times in the derivations are in ms from the
trial start.  "L_p" is process p's mmap lock, "V" a VMA's lock.

Conventions the derivations rely on:

* §12.2: a step starts through an event at its time; its task runs under §2/§11; when the
  task finishes the step's think is drawn and the next step is scheduled at now + think
  (think 0 too goes through an event).  An iteration ends when the program's last step's
  task finishes.
* §11.5: a read makes its two acquisitions back to back, each holding for the read's
  ``hold``; the second request is made at the instant the first releases.
* §2.1 (5.11+): a read request with no writer, no handoff and an empty queue is granted at
  once; a writer holding L queues it; a release that frees L with readers at the head of
  the queue grants every queued reader.  A writer asking for a free L takes it at once.
* §12.3: a task is counted iff it starts in [warmup, warmup + window); only counted tasks
  record metrics; a scan or an iteration is counted iff its first step is; the trial ends
  at the first event after which now >= warmup + window, no counted task is alive and no
  counted scan or iteration is open; counters count the whole trial; ``sim_ns`` and
  ``busy_ns`` add ``window``.

The histograms are log-linear, so each metric is compared through its exact scalars
(n, total, vmin, vmax), per trial, times the number of trials: every trial is identical,
which also checks that a trial starts from a clean state.  Counters not named in a case
are 0 by its derivation, except ``max_pending_events``, ``max_trial_events`` and
``buffer_growths``, which describe the engine's buffers rather than the model.
"""
import pytest

from mcsim import layout as lay
from mcsim.engine import run_blocks
from mcsim.params import validate
from mcsim.policies import FAULT_KINDS
from mcsim.scenario import (HOLD_DEFAULT, NO_VMA, SCAN_END, SCAN_START, TK_FAULT, TK_HP,
                            TK_WRITER, TRIAL_WINDOW, compile_scenario)

US = 1_000
MS = 1_000_000
TRIALS = 2
#: Counters that measure the engine's own buffers, not the simulated system.
ENGINE_COUNTERS = {"max_pending_events", "max_trial_events", "buffer_growths"}

#: Every random choice off, every duration constant (what a step does not state).
DETERMINISTIC = dict(
    kernel="6.18", wake=0, hp_hold="0", writer_hold="0", fault_cpu="0", minor_cpu="0",
    mkwrite_fast="0", device="1ms", dirty_throttle="0", bg_io_rate=0, p_miss=0, p_async_ra=0,
    p_locked=0, p_mkwrite_slow=0, p_mkwrite_writeback=0, write_fault_ratio=0, p_same_vma=0,
    evict_rate=0, p_retry_miss=0, p_dirty_throttle=0, p_hp_fallback=0, revalidate_fail=0)


def const(ns):
    """A ``const`` duration as a record distribution (kind 0)."""
    return (0, float(ns), 0.0)


def expo(mean_ns):
    """An ``exp`` duration with the given mean (kind 1)."""
    return (1, float(mean_ns), 0.0)


#: A step's lead when it has none (const 0: nothing drawn, model.md §14.6).
NO_LEAD = (0, 0.0, 0.0)


def write(process, hold, think, vma=NO_VMA):
    """A ``write`` step: ``mprotect``/``madvise`` of ``vma``, or ``mmap``/``munmap``
    elsewhere (NO_VMA)."""
    return (TK_WRITER, process, vma, 0, 0, hold, think, NO_LEAD)


def cmdline(process, hold, think, scan=0):
    """A ``cmdline`` read of ``process``."""
    return (TK_HP, process, NO_VMA, 0, scan, hold, think, NO_LEAD)


def fault(process, vma, kind, think, lead=None):
    """A fault of a fixed kind on ``vma``; ``lead``: its CPU work before the first pass
    (model.md §14.6), none by default."""
    return (TK_FAULT, process, vma, FAULT_KINDS.index(kind), 0, (HOLD_DEFAULT, 0.0, 0.0),
            think, NO_LEAD if lead is None else lead)


def workload_record(threads, *, warmup, window, processes=1, vma_process=(0,), **params):
    """A window-trial scenario record with no open stream.  ``threads``: one
    ``(process, start, [steps])`` per thread; ``params`` override :data:`DETERMINISTIC`."""
    rec = compile_scenario(validate({**DETERMINISTIC, **params}))
    r = rec[0]
    r["trial_kind"] = TRIAL_WINDOW
    r["warmup_ns"], r["window_ns"] = warmup, window
    r["open_stream"] = 0
    r["n_processes"] = processes
    r["n_vmas"] = len(vma_process)
    for v, p in enumerate(vma_process):
        r["vma_process"][v] = p
    r["n_threads"] = len(threads)
    first = 0
    for i, (process, start, steps) in enumerate(threads):
        r["threads"][i] = (first, len(steps), process, start)
        for j, step in enumerate(steps):
            r["steps"][first + j] = step
        first += len(steps)
    r["n_steps"] = first
    return rec


def run_trials(rec, engine, trials=TRIALS, seed=1):
    """``trials`` window trials, one block each (§12.3), merged."""
    return run_blocks(rec, seed, [(k, 1) for k in range(trials)], engine=engine)


def check(out, window, metrics, counters, trials=TRIALS):
    """``metrics``: name → (n, total, vmin, vmax) of one trial; every other metric has no
    sample.  ``counters``: name → value in one trial; every other counter is 0."""
    hists = out.histograms()
    for name in lay.METRICS:
        h = hists[name]
        n, total, vmin, vmax = metrics.get(name, (0, 0, None, None))
        got = (h.n, h.total) + ((h.vmin, h.vmax) if n else ())
        want = (n * trials, total * trials) + ((vmin, vmax) if n else ())
        assert got == want, f"{name}: (n, total, vmin, vmax) {got} != {want}"
        assert h.trials == trials, name
    expected = {"trials": 1, "sim_ns": window, "busy_ns": window, **counters}
    got = out.counter_dict()
    for name in lay.COUNTERS:
        if name in ENGINE_COUNTERS or (name == "events" and "events" not in counters):
            continue
        assert got[name] == expected.get(name, 0) * trials, name


# ----------------------------------------------------------------------------------------
# A. One thread alone: think times, and what is counted at the warm-up edge and the window
#    end.  Process 0, thread 0 starts at 1 and repeats
#        step 0  write elsewhere (NO_VMA), hold 2, think 1
#        step 1  cmdline of process 0, hold 0.5, think 0.5
#    Nothing contends, so every request is granted at once (waits 0, no wake-up event):
#    iteration i starts at s_i = 1 + 4.5 i (= 1, 5.5, 10, 14.5, 19, 23.5):
#        s_i        step 0 starts, the writer takes L_0               (event)
#        s_i + 2    the writer releases; think 1                      (event)
#        s_i + 3    step 1 starts: acquisition 1 granted at once      (event)
#        s_i + 3.5  acquisition 1 releases, acquisition 2 granted     (event)
#        s_i + 4    acquisition 2 releases: the read and the iteration end; think 0.5 (event)
#    Five events per iteration.
A_STEPS = [write(0, const(2 * MS), const(1 * MS)),
           cmdline(0, const(500 * US), const(500 * US))]
A_THREADS = [(0, const(1 * MS), A_STEPS)]


def a_case_window_10_10():
    # warm-up 10, window [10, 20).  Counted: write 10 (t == warmup is inside), read 13,
    # write 14.5, read 17.5, write 19 (holds until 21, past the window end).
    # The iteration starting at 19 is counted (its first step is), so the trial follows it
    # to its end (§12.3): the write releases at 21, step 1 starts at 22 (a read started
    # after the window: it runs but records nothing), its acquisitions release at 22.5 and
    # 23, where the iteration and the trial end.
    # Started in the trial: writes at 1, 5.5, 10, 14.5, 19 (5); reads at 4, 8.5, 13, 17.5,
    # 22 (5); L requests 5 + 2 x 5 = 15.  Events: 5 full iterations x 5 = 25.
    # Counted iterations: s = 10, 14.5 and 19: 3.
    metrics = {"writer_wait": (3, 0, 0, 0), "hold_writer": (3, 6 * MS, 2 * MS, 2 * MS),
               "hp_wait": (2, 0, 0, 0), "hp_acq_wait": (4, 0, 0, 0),
               "hold_hp": (4, 2 * MS, 500 * US, 500 * US)}
    counters = {"events": 25, "writes": 5, "hp_reads": 5, "steps": 10,
                "lock_acquisitions": 15, "thread_iterations_0": 3}
    return 10 * MS, 10 * MS, metrics, counters


def a_case_window_12_7():
    # warm-up 12, window [12, 19).  The write at 10 is in the warm-up though its read at 13
    # is counted (so iteration 2 is not counted); counted: read 13, write 14.5, read 17.5
    # (ends 18.5).  The write at 19 starts exactly at the window end: not counted; after
    # that event now >= 19 and no counted task is alive: the trial ends at 19.
    # Started: writes 1, 5.5, 10, 14.5, 19 (5); reads 4, 8.5, 13, 17.5 (4); L requests 13.
    # Events: 4 x 5 + {19} = 21.  Counted iterations completed: s = 14.5 only.
    metrics = {"writer_wait": (1, 0, 0, 0), "hold_writer": (1, 2 * MS, 2 * MS, 2 * MS),
               "hp_wait": (2, 0, 0, 0), "hp_acq_wait": (4, 0, 0, 0),
               "hold_hp": (4, 2 * MS, 500 * US, 500 * US)}
    counters = {"events": 21, "writes": 5, "hp_reads": 4, "steps": 9,
                "lock_acquisitions": 13, "thread_iterations_0": 1}
    return 12 * MS, 7 * MS, metrics, counters


@pytest.mark.parametrize("case", [a_case_window_10_10, a_case_window_12_7])
def test_one_thread_counts_by_start_time(engine, case):
    warmup, window, metrics, counters = case()
    rec = workload_record(A_THREADS, warmup=warmup, window=window)
    check(run_trials(rec, engine), window, metrics, counters)


# ----------------------------------------------------------------------------------------
# B. Two threads of one process: a writer loop and a cmdline reader loop on L_0.
#    thread 0: write elsewhere, hold 3, think 2, start 0
#    thread 1: cmdline of process 0, hold 0.25, think 2, start 1
#    0    W takes the free L_0 (wait 0), holds until 3
#    1    R asks: a writer holds L_0, so R queues (§2.1)
#    3    W releases: the head is a reader, R is granted (wake 0: it runs at 3);
#         acquisition wait 2; W thinks 2 -> next write at 5
#    3.25 R's first acquisition releases; the second finds L_0 free, queue empty: granted
#    3.5  R's read ends (hp_wait 2 + 0); think 2 -> next read at 5.5
#    From then on, for k >= 1: W takes L_0 at 5k (free: R left at 5k - 1.5) and holds
#    [5k, 5k + 3); R asks at 5k + 0.5, waits 2.5, holds [5k + 3, 5k + 3.5), asks again at
#    5(k+1) + 0.5.  No two events share a time.
#    warm-up 10, window [10, 20): counted W 10, 15 and R 10.5, 15.5 (ends 18.5).  The
#    write at 20 is the first event at >= 20 with no counted task alive: the trial ends.
#    Started: writes 0, 5, 10, 15, 20 (5); reads 1, 5.5, 10.5, 15.5 (4); L requests 13.
def test_reader_waits_behind_the_writer_of_its_process(engine):
    threads = [(0, const(0), [write(0, const(3 * MS), const(2 * MS))]),
               (0, const(1 * MS), [cmdline(0, const(250 * US), const(2 * MS))])]
    rec = workload_record(threads, warmup=10 * MS, window=10 * MS)
    metrics = {"writer_wait": (2, 0, 0, 0), "hold_writer": (2, 6 * MS, 3 * MS, 3 * MS),
               "hp_wait": (2, 5 * MS, 2500 * US, 2500 * US),
               "hp_acq_wait": (4, 5 * MS, 0, 2500 * US),
               "hold_hp": (4, 1 * MS, 250 * US, 250 * US)}
    counters = {"writes": 5, "hp_reads": 4, "steps": 9, "lock_acquisitions": 13,
                "thread_iterations_0": 2, "thread_iterations_1": 2}
    check(run_trials(rec, engine), 10 * MS, metrics, counters)


# ----------------------------------------------------------------------------------------
# C. Two processes, each with its own L_p (§12.1): the writer loop of B on process 1 never
#    delays cmdline reads of process 0.
#    thread 0 (process 1): write elsewhere, hold 3, think 2, start 0 -> holds L_1
#                          [5k, 5k + 3)
#    thread 1 (process 0): cmdline of process 0, hold 0.25, think 2, start 1
#    L_0 is only ever asked for by thread 1, so each of its reads is granted at once twice
#    and lasts 0.5: reads at 1 + 2.5 j = 1, 3.5, 6, 8.5, 11, 13.5, 16, 18.5 (ends 19), 21.
#    Window [10, 20): counted W 10, 15; reads 11, 13.5, 16, 18.5.  The trial ends at the
#    write at 20 (the read at 21 never starts).
#    With ``control``, thread 2 (process 0) reads cmdline of process 1, hold 0.25, think
#    2, start 1: exactly B's reader, on L_1: it asks at 1 while W holds L_1 [0, 3), waits
#    2, then asks at 5k + 0.5 and waits 2.5 each time; counted reads 10.5 and 15.5 (ends
#    18.5), each hp_wait 2.5.  It shows the writer does delay the
#    readers of its own process in this very workload, while thread 1 still never waits.
@pytest.mark.parametrize("control", [False, True])
def test_processes_do_not_share_their_mmap_lock(engine, control):
    threads = [(1, const(0), [write(1, const(3 * MS), const(2 * MS))]),
               (0, const(1 * MS), [cmdline(0, const(250 * US), const(2 * MS))])]
    metrics = {"writer_wait": (2, 0, 0, 0), "hold_writer": (2, 6 * MS, 3 * MS, 3 * MS),
               "hp_wait": (4, 0, 0, 0), "hp_acq_wait": (8, 0, 0, 0),
               "hold_hp": (8, 2 * MS, 250 * US, 250 * US)}
    # writes 0, 5, 10, 15, 20; thread 1's reads 1 ... 18.5 (8); L requests 5 + 2 x 8
    counters = {"writes": 5, "hp_reads": 8, "steps": 13, "lock_acquisitions": 21,
                "thread_iterations_0": 2, "thread_iterations_1": 4}
    if control:
        threads.append((0, const(1 * MS), [cmdline(1, const(250 * US), const(2 * MS))]))
        # + 2 counted reads of 2.5 (acquisitions 2.5 and 0), 4 more holds of 0.25;
        # + reads at 1, 5.5, 10.5, 15.5 (4) and their 8 L requests
        metrics.update({"hp_wait": (6, 5 * MS, 0, 2500 * US),
                        "hp_acq_wait": (12, 5 * MS, 0, 2500 * US),
                        "hold_hp": (12, 3 * MS, 250 * US, 250 * US)})
        counters.update({"hp_reads": 12, "steps": 17, "lock_acquisitions": 29,
                         "thread_iterations_2": 2})
    rec = workload_record(threads, warmup=10 * MS, window=10 * MS, processes=2)
    check(run_trials(rec, engine), 10 * MS, metrics, counters)


# ----------------------------------------------------------------------------------------
# D. A ps scan over processes 0, 1, 2 while a writer loop write-holds L_1 (§12.2 scans,
#    §12.4 scan_time / scan_wait).
#    thread 0 (process 1): write elsewhere, hold 3, think 2, start 0 -> holds L_1
#                          [5k, 5k + 3) (L_1 is free at 5k: the scanner left it at
#                          5k - 1.5, and at 0)
#    thread 1 (process 0), start 1, a scan:
#        cmdline of 0 (scan_start), hold 0.25, think 0
#        cmdline of 1,              hold 0.25, think 0
#        cmdline of 2 (scan_end),   hold 0.25, think 1.5
#    Scan 0 at 1: read 0 [1, 1.5); read 1 asks at 1.5 (think 0: an event at the same
#    instant), W holds L_1 until 3: waits 1.5, holds [3, 3.5); read 2 [3.5, 4); next scan
#    at 5.5.  Scan k >= 1 at s = 5k + 0.5: read 0 [s, s + 0.5); read 1 asks at 5k + 1,
#    waits until W releases at 5k + 3 (2), holds [5k + 3, 5k + 3.5); read 2
#    [5k + 3.5, 5k + 4); next scan at 5(k+1) + 0.5.
#    scan_time = 5k + 4 - (5k + 0.5) = 3.5, scan_wait = 0 + 2 + 0 = 2.
#    Window [10, 20): counted scans 10.5 and 15.5 (their 6 reads: waits 0, 2, 0, 0, 2, 0;
#    the last ends at 19) and writes 10, 15.  The trial ends at the write at 20.
#    Started: writes 0, 5, 10, 15, 20 (5); scans 1, 5.5, 10.5, 15.5 (4) = 12 reads;
#    L requests 5 + 2 x 12 = 29.
def test_ps_scan_waits_only_at_the_write_held_process(engine):
    scan = [cmdline(0, const(250 * US), const(0), scan=SCAN_START),
            cmdline(1, const(250 * US), const(0)),
            cmdline(2, const(250 * US), const(1500 * US), scan=SCAN_END)]
    threads = [(1, const(0), [write(1, const(3 * MS), const(2 * MS))]),
               (0, const(1 * MS), scan)]
    rec = workload_record(threads, warmup=10 * MS, window=10 * MS, processes=3)
    metrics = {"writer_wait": (2, 0, 0, 0), "hold_writer": (2, 6 * MS, 3 * MS, 3 * MS),
               "hp_wait": (6, 4 * MS, 0, 2 * MS), "hp_acq_wait": (12, 4 * MS, 0, 2 * MS),
               "hold_hp": (12, 3 * MS, 250 * US, 250 * US),
               "scan_time": (2, 7 * MS, 3500 * US, 3500 * US),
               "scan_wait": (2, 4 * MS, 2 * MS, 2 * MS)}
    counters = {"writes": 5, "hp_reads": 12, "scans": 4, "steps": 17,
                "lock_acquisitions": 29, "thread_iterations_0": 2, "thread_iterations_1": 2}
    check(run_trials(rec, engine), 10 * MS, metrics, counters)


# ----------------------------------------------------------------------------------------
# E. A fault loop and a same-VMA mprotect loop on VMA 0 of process 0 (kernel 6.18), the
#    rules of §11.2 and the kernel source it cites:
#    - vma_start_read() fails while the VMA is write-locked (``vma->vm_lock_seq ==
#      mm->mm_lock_seq``), lock_vma_under_rcu() returns NULL and do_user_addr_fault()
#      ``goto lock_mmap``: the fault falls back to a read request for L (counter
#      ``fallbacks``);
#    - mprotect_fixup() calls ``vma_start_write(vma)`` holding mmap_lock(W);
#      __vma_enter_locked() sleeps in ``rcuwait_wait_event(&mm->vma_writer_wait,
#      refcount_read(&vma->vm_refcnt) == tgt_refcnt, ...)`` until the VMA's readers are
#      gone; vma_end_read() -> vma_refcount_put() wakes it;
#    - the VMA stays write-locked until mmap_write_unlock() -> vma_end_write_all().
#    thread 0: fault on VMA 0, kind ``hit`` (pass 1 = fault_cpu = 2 and nothing else, §2.4),
#              think 0.5, start 0
#    thread 1: write (mprotect) of VMA 0, hold 1, think 3.5, start 1
#    Cycle of 5.5, starting at a = 5.5 k with V free and L free:
#    a        F takes V at once (no wait, no event; §11.2), runs 2 under V
#    a + 1    W: L free -> takes L(W) at once (writer_wait 0); write-locks V; V has a
#             reader -> sleeps in vma_start_write (vma_writer_waits + 1)
#    a + 2    F releases V (hold_vma 2): last reader, W is woken (wake 0, event at a + 2);
#             F ends: lp_fault_latency 2, one pass; think 0.5 -> next fault at a + 2.5
#    a + 2    W runs: vma_writer_wait 2 - 1 = 1; holds 1
#    a + 2.5  F' : V write-locked -> falls back (fallbacks + 1): read request for L; W
#             holds L(W) -> queued
#    a + 3    W releases: V unlocked, L released (hold_writer from taking L: 3 - 1 = 2);
#             the head is a reader: F' granted, runs at a + 3 (fault_lock_wait 0.5); W
#             thinks 3.5 -> next write at a + 6.5
#    a + 5    F' (an L pass in every respect) releases L after its 2 of CPU (hold_fault 2);
#             lp_fault_latency 5 - 2.5 = 2.5, one pass; think 0.5 -> next fault at a + 5.5
#    a + 5.5  = the next cycle's a: V free (W left at a + 3), L free (F' left at a + 5);
#             the next write at a + 6.5 = a' + 1 as above.
#    hold_fault and fault_lock_wait are L quantities (§5, §11.3: "fault_lock_wait records
#    waits for L only"); a pass under V records its hold in hold_vma (§11.2).
#    Warm-up 11, window [11, 22): counted cycles a = 11 and 16.5: faults 11, 13.5, 16.5,
#    19 (ends 21.5), writes 12, 17.5.  The fault at 22 is the first event at >= 22 with no
#    counted task alive: the trial ends after it.
#    Started: faults 0, 2.5, 5.5, 8, 11, 13.5, 16.5, 19, 22 (9, all ``hit``), of which
#    fallbacks 2.5, 8, 13.5, 19 (4); writes 1, 6.5, 12, 17.5 (4), each waiting for V;
#    L requests: 4 writes + 4 fallbacks = 8.
#
#    With ``hp``, thread 2 reads cmdline of process 0, hold 0.25, think 3.5, start 1.5:
#    a + 1.5  R asks for L: W holds L(W) (asleep in vma_start_write) -> queued
#    a + 2.5  F' queues behind R
#    a + 3    W releases: both queued readers are granted, R first.  R's acquisition waited
#             1.5, during which a holder of L was blocked in vma_start_write for
#             [a + 1.5, a + 2): an inversion blamed ``vma_start_write`` (§11.7;
#             inversion_wait 1.5)
#    a + 3.25 R's second acquisition: L is read-held by F', no writer, empty queue ->
#             granted at once (fast path, no steal)
#    a + 3.5  the read ends: hp_wait 1.5; think 3.5 -> a + 7 = a' + 1.5
#    Nothing else changes (W's next request at a + 6.5 finds L free).  Counted reads: 12.5,
#    18 (ends 20); started 1.5, 7, 12.5, 18 (4), each an inversion; L requests + 8.
@pytest.mark.parametrize("hp", [False, True])
def test_fault_and_mprotect_on_one_vma(engine, hp):
    threads = [(0, const(0), [fault(0, 0, "hit", const(500 * US))]),
               (0, const(1 * MS), [write(0, const(1 * MS), const(3500 * US), vma=0)])]
    metrics = {"lp_fault_latency": (4, 9 * MS, 2 * MS, 2500 * US),
               "fault_passes": (4, 4, 1, 1),
               "fault_lock_wait": (2, 1 * MS, 500 * US, 500 * US),
               "hold_fault": (2, 4 * MS, 2 * MS, 2 * MS),
               "hold_vma": (2, 4 * MS, 2 * MS, 2 * MS),
               "writer_wait": (2, 0, 0, 0),
               "vma_writer_wait": (2, 2 * MS, 1 * MS, 1 * MS),
               "hold_writer": (2, 4 * MS, 2 * MS, 2 * MS)}
    counters = {"faults": 9, "faults_hit": 9, "fallbacks": 4, "writes": 4,
                "vma_writer_waits": 4, "lock_acquisitions": 8, "steps": 13,
                "thread_iterations_0": 4, "thread_iterations_1": 2}
    if hp:
        threads.append((0, const(1500 * US), [cmdline(0, const(250 * US), const(3500 * US))]))
        metrics.update({"hp_wait": (2, 3 * MS, 1500 * US, 1500 * US),
                        "hp_acq_wait": (4, 3 * MS, 0, 1500 * US),
                        "inversion_wait": (2, 3 * MS, 1500 * US, 1500 * US),
                        "hold_hp": (4, 1 * MS, 250 * US, 250 * US)})
        counters.update({"hp_reads": 4, "inversions": 4, "blame_vma_start_write": 4,
                         "lock_acquisitions": 16, "steps": 17, "thread_iterations_2": 2})
    rec = workload_record(threads, warmup=11 * MS, window=11 * MS, vma_process=(0,),
                          fault_cpu="2ms")
    check(run_trials(rec, engine), 11 * MS, metrics, counters)
