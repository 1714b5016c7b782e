"""The rules of docs/model.md §11 on the reference twin, by hand-derived scripted answers.

Each case is small enough to follow event by event; the derivation is in its comment, from
the rule of model.md §11 it exercises and the kernel code behind that rule.  Every script
runs with the engine's invariants checked after each event.  Defaults unless stated:
``wake`` 0, every CPU step 0, one LP gate slot (``throttle_depth`` 7), kernel presets at
HZ = 250.
"""
import pytest

from mcsim import layout as lay
from mcsim.kernels import KERNEL_LIST
from mcsim.params import validate
from mcsim.reference import ReferenceEngine
from mcsim.scenario import LOCK_MMAP, compile_scenario, compile_script

MS = 1_000_000
US = 1_000


def script(tasks, **params):
    """Run a script on the reference; return its tasks, counters and per-metric samples."""
    eng = ReferenceEngine(compile_scenario(validate(params)), check_invariants=True)
    done, _ = eng.run_script(compile_script(tasks))
    return done, eng.counters, eng.samples


# ------------------------------------------------------------------ per-VMA lock, writers
SLOW_MKWRITE = [
    {"at": 0, "kind": "fault", "fault": "mkwrite_slow", "bio": "5ms"},
    {"at": "1ms", "kind": "writer", "hold": "50us", "same_vma": True},
    {"at": "2ms", "kind": "hp_read", "hold": "10us"},
]


def test_same_vma_writer_waits_for_slow_mkwrite_on_618():
    """6.18: the write fault runs ->page_mkwrite holding only V (first_lock vma, column
    mkwrite under the lock: do_shared_fault() → do_page_mkwrite(), mm/memory.c); its bio
    takes 0..5 ms.  The mprotect() at 1 ms takes L(W) at once (nobody holds L) and
    vma_start_write() (mm/mmap.c, 6.4+, include/linux/mm.h) waits for V's reader while
    holding L(W).  The fault drops V before dirty throttling at 5 ms (column dirty '–',
    0 ns sleep) and completes (dirty_completes: fault_dirty_shared_page() returns
    VM_FAULT_COMPLETED).  The writer then holds 5.00–5.05 ms.  The HP read at 2 ms queues
    behind L(W): granted at 5.05 ms (3.05 ms = the writeback's end plus the writer's hold),
    holds 10 µs, and its second acquisition (proc_pid_cmdline_read() calls
    access_remote_vm() twice, fs/proc/base.c) is free at 5.06 ms.  The only L holder
    blocked during 2–5 ms is the writer in vma_start_write: the blame."""
    (fault, writer, hp), c, samples = script(SLOW_MKWRITE, kernel="6.18")
    assert fault.waits == [0] and fault.done == 5 * MS
    assert writer.waits == [0, 4 * MS] and writer.done == 5050 * US
    assert hp.waits == [3050 * US, 0] and hp.done == 5070 * US
    assert samples[lay.M_HP_WAIT] == [3050 * US]
    assert samples[lay.M_VMA_WRITER_WAIT] == [4 * MS]
    assert samples[lay.M_HOLD_VMA] == [5 * MS]
    assert (c["vma_writer_waits"], c["inversions"], c["blame_vma_start_write"]) == (1, 1, 1)
    assert (c["retries"], c["fallbacks"]) == (0, 0)


def test_writer_on_another_vma_does_not_wait_on_618():
    """The same with the writer changing another VMA (mmap/munmap elsewhere): it never
    touches V, holds L 1.00–1.05 ms, and the HP read at 2 ms finds L free twice."""
    tasks = [dict(t) for t in SLOW_MKWRITE]
    tasks[1]["same_vma"] = False
    (fault, writer, hp), c, samples = script(tasks, kernel="6.18")
    assert writer.waits == [0] and writer.done == 1050 * US
    assert hp.waits == [0, 0]
    assert samples[lay.M_VMA_WRITER_WAIT] == []
    assert (c["vma_writer_waits"], c["inversions"]) == (0, 0)


def test_fault_falls_back_to_mmap_lock_when_vma_is_write_locked():
    """6.18: the same-VMA writer at 0 takes L(W) and write-locks V at once (no reader).
    A fault at 100 µs finds V write-locked (lock_vma_under_rcu() fails, arch/x86/mm/
    fault.c do_user_addr_fault() goes to lock_mmap): it queues for L(R) and runs when the
    writer releases at 1 ms, 900 µs later.  With the writer on another VMA the fault takes
    V at once and is done at 100 µs."""
    tasks = [{"at": 0, "kind": "writer", "hold": "1ms", "same_vma": True},
             {"at": "100us", "kind": "fault", "fault": "hit"}]
    (writer, fault), c, samples = script(tasks, kernel="6.18")
    assert writer.waits == [0, 0]
    assert fault.waits == [900 * US] and fault.done == 1 * MS
    assert samples[lay.M_FAULT_LOCK_WAIT] == [900 * US]
    assert c["fallbacks"] == 1
    tasks[0]["same_vma"] = False
    (writer, fault), c, samples = script(tasks, kernel="6.18")
    assert fault.waits == [0] and fault.done == 100 * US
    assert samples[lay.M_FAULT_LOCK_WAIT] == [] and c["fallbacks"] == 0


# ------------------------------------------------------------------ passes and TRIED
EVICTED_MISS = [
    {"at": 0, "kind": "fault", "fault": "miss", "bio": "1ms", "evicted": True,
     "evict_bio": "2ms"},
    {"at": "1500us", "kind": "writer", "hold": "50us"},
    {"at": "2ms", "kind": "hp_read", "hold": "10us"},
]


def test_tried_retry_reads_under_mmap_lock_on_618_not_with_vma_retry():
    """6.18: pass 1 (V) drops before the miss's submit and reads 0..1 ms unlocked; the pass
    was major, so the retry is TRIED (do_user_addr_fault(): VM_FAULT_MAJOR → FAULT_FLAG_TRIED)
    and takes L(R) at 1 ms (retry_lock mmap).  The page is not uptodate: the TRIED pass
    re-reads it under L, 1..3 ms (filemap_fault() does not drop without ALLOW_RETRY first).
    The writer at 1.5 ms queues behind that reader, the HP read at 2 ms behind the writer:
    writer 3.00–3.05 ms, HP granted at 3.05 ms, blamed on the pass-2 read.
    6.18+vma-retry: the retry pass holds V instead, L stays free, nobody waits."""
    (fault, writer, hp), c, _ = script(EVICTED_MISS, kernel="6.18")
    assert fault.waits == [0, 0] and fault.done == 3 * MS
    assert writer.waits == [1500 * US]
    assert hp.waits == [1050 * US, 0]
    assert (c["tried_passes"], c["evictions"], c["blame_pass2_read"]) == (1, 1, 1)
    (fault, writer, hp), c, _ = script(EVICTED_MISS, kernel="6.18+vma-retry")
    assert fault.done == 3 * MS and writer.waits == [0] and hp.waits == [0, 0]
    assert (c["tried_passes"], c["inversions"]) == (1, 0)


def test_same_vma_writer_still_waits_behind_a_vma_retry():
    """6.18+vma-retry with the writer changing the faulting VMA: it takes L(W) at 1.5 ms and
    waits in vma_start_write() for the TRIED pass re-reading under V until 3 ms; the HP read
    at 2 ms waits 1.05 ms, now blamed on vma_start_write."""
    tasks = [dict(t) for t in EVICTED_MISS]
    tasks[1]["same_vma"] = True
    (fault, writer, hp), c, _ = script(tasks, kernel="6.18+vma-retry")
    assert writer.waits == [0, 1500 * US] and hp.waits == [1050 * US, 0]
    assert (c["blame_vma_start_write"], c["blame_pass2_read"]) == (1, 0)


def test_minor_vma_pass_retries_untried_and_a_fault_makes_three_passes():
    """6.18, a locked page whose other read takes 0..1 ms, evicted before the retry.
    Pass 1 (V) drops to wait for the page lock; it was not major, so the retry on L is not
    TRIED (§11.3) and may drop too: it re-reads, dropping L before the submit (column
    miss_submit '–'), 1..2 ms.  That pass held L, so the third pass is TRIED, and a later
    pass never re-reads: done at 2 ms, three passes, two retries, one TRIED pass."""
    tasks = [{"at": 0, "kind": "fault", "fault": "locked", "bio": "1ms", "evicted": True,
              "evict_bio": "1ms"}]
    (fault,), c, samples = script(tasks, kernel="6.18")
    assert fault.waits == [0, 0, 0] and fault.done == 2 * MS
    assert samples[lay.M_FAULT_PASSES] == [3]
    assert (c["retries"], c["tried_passes"], c["evictions"]) == (2, 1, 1)


# ------------------------------------------------------------------ dirty throttling
DIRTY = [
    {"at": 0, "kind": "fault", "fault": "mkwrite_fast", "dirty": "2ms"},
    {"at": "500us", "kind": "writer", "hold": "50us"},
    {"at": "1ms", "kind": "hp_read", "hold": "10us"},
]


@pytest.mark.parametrize("kernel, fault_waits, writer_wait, hp_waits, retries", [
    # 5.1: balance_dirty_pages() under mmap_sem: the writer waits 0.5..2 ms, the HP read
    # queues behind it and is granted at 2.05 ms.
    # (5.1 reads cmdline with one acquisition: get_mm_cmdline(), 5ab827189965.)
    ("5.1", [0], 1500 * US, [1050 * US], 0),
    # 5.5 (89b15332af7c): fault_dirty_shared_page() drops mmap_sem first and returns
    # VM_FAULT_RETRY: nobody waits; the TRIED retry at 2 ms does not throttle again.
    ("5.5", [0, 0], 0, [0, 0], 1),
    # 6.18: the drop of V before throttling completes the fault (VM_FAULT_COMPLETED).
    ("6.18", [0], 0, [0, 0], 0),
])
def test_dirty_throttle_drop(kernel, fault_waits, writer_wait, hp_waits, retries):
    (fault, writer, hp), c, _ = script(DIRTY, kernel=kernel)
    assert fault.waits == fault_waits and fault.done == 2 * MS
    assert writer.waits[0] == writer_wait and hp.waits == hp_waits
    assert (c["retries"], c["dirty_throttles"]) == (retries, 1)
    assert c["blame_dirty_throttle"] == (1 if kernel == "5.1" else 0)


# ------------------------------------------------------------------ the HP reader
TWO_WRITERS = [
    {"at": 0, "kind": "writer", "hold": "1ms"},
    {"at": "100us", "kind": "hp_read", "hold": "10us"},
    {"at": "1005us", "kind": "writer", "hold": "50us"},
]


@pytest.mark.parametrize("kernel, params, hp_waits, fallbacks", [
    # 5.5 (two acquisitions since d26d0cd97c88, 5.3): the first acquisition waits 0.1..1
    # ms behind writer 1; writer 2 queues at 1.005 ms behind the HP read's hold and takes L
    # when it ends at 1.01 ms; the second acquisition, made at that instant, queues behind
    # it (the 5.3 rwsem has no reader stealing) until 1.06 ms.
    ("5.5", {}, [900 * US, 50 * US], 0),
    # 2.6.36 and 4.19: one acquisition per read (access_process_vm(); get_mm_cmdline()
    # of 5ab827189965 copies with one access_remote_vm() per page).
    ("2.6.36", {}, [900 * US], 0),
    ("4.19", {}, [900 * US], 0),
    # 6.18+cmdline-vma: both acquisitions hold the arguments' VMA lock, no wait.
    ("6.18+cmdline-vma", {}, [0, 0], 0),
    # ... unless the read falls back to mmap_lock.  Era 5.11+: the second request finds L
    # free with writer 2 woken but not yet running, and steals it (reader lock stealing in
    # rwsem_down_read_slowpath(), 1a728dff855a), so it does not wait.
    ("6.18+cmdline-vma", {"fallback": True}, [900 * US, 0], 2),
])
def test_hp_acquisitions(kernel, params, hp_waits, fallbacks):
    tasks = [dict(t) for t in TWO_WRITERS]
    tasks[1].update(params)
    (_, hp, _), c, samples = script(tasks, kernel=kernel)
    assert hp.waits == hp_waits
    assert samples[lay.M_HP_ACQ_WAIT] == hp_waits
    assert samples[lay.M_HP_WAIT] == [sum(hp_waits)]
    assert c["hp_fallbacks"] == fallbacks
    assert c["lock_acquisitions"] == 2 + (len(hp_waits) if kernel != "6.18+cmdline-vma"
                                          else fallbacks)


# ------------------------------------------------------------------ handoff in jiffies
HANDOFF = [
    {"at": 0, "kind": "fault", "fault": "hit", "cpu": "4.5ms"},        # A holds L(R) 0..4.5
    {"at": 0, "kind": "writer", "hold": "100us"},                      # W queues at 0
    {"at": "4.6ms", "kind": "fault", "fault": "hit", "cpu": "2ms"},    # B
    {"at": "6.7ms", "kind": "fault", "fault": "hit", "cpu": "2ms"},    # C
]


@pytest.mark.parametrize("params, handoffs, writer_wait, c_wait", [
    # HZ=1000: jiffy 1 ms, RWSEM_WAIT_TIMEOUT = DIV_ROUND_UP(1000, 250) = 4 jiffies.  A
    # releases at 4.5 ms and wakes W (wake 1 ms); B steals L at 4.6 ms (5.11+).  W runs at
    # 5.5 ms and finds L taken: jiffy 5 > jiffy 0 + 4, so it sets the handoff
    # (rwsem_try_write_lock(): time_after(jiffies, waiter->timeout), kernel/locking/rwsem.c).
    # C at 6.7 ms must queue; W, woken at B's release 6.6 ms, runs and takes L at 7.6 ms,
    # releases at 7.7 ms; C is granted then and runs at 8.7 ms: 2 ms.
    ({"kernel": "5.11", "hz": 1000}, 1, 7600 * US, 2 * MS),
    # HZ=250: jiffy 4 ms, timeout 1 jiffy: at 5.5 ms jiffy 1 is not after 0 + 1: no
    # handoff; C steals at 6.7 ms and holds to 8.7 ms; W (at 7.6 ms, jiffy 1) sleeps again
    # and runs at 9.7 ms.
    ({"kernel": "5.11", "hz": 250}, 0, 9700 * US, 0),
    # The 2018 row: continuous handoff_timeout 4 ms: 5.5 ms > 4 ms, as HZ=1000.
    ({"era": "5.11+", "policy": "upstream-5.1"}, 1, 7600 * US, 2 * MS),
])
def test_handoff_in_jiffies(params, handoffs, writer_wait, c_wait):
    (_, writer, _, c_fault), c, _ = script(HANDOFF, wake="1ms", **params)
    assert c["handoffs"] == handoffs
    assert writer.waits == [writer_wait] and c_fault.waits == [c_wait]
    assert c["reader_steals"] == 2 - handoffs


# ------------------------------------------------------------------ random mode
@pytest.mark.parametrize("kernel", [k.name for k in KERNEL_LIST])
def test_random_trials_keep_invariants_and_count_every_acquisition(kernel):
    """Every preset with every new draw enabled: the invariants hold after each event, and
    the bookkeeping follows from §11.5 and §11.3: each read makes hp_acquisitions
    acquisitions; every request for L ends in exactly one recorded wait (writers, fault
    passes on L, HP acquisitions on L); no fault makes more than three passes."""
    cfg = validate(kernel=kernel, writer_ratio=0.3, write_fault_ratio=0.4, p_same_vma=0.5,
                   p_mkwrite_writeback=0.3, p_retry_miss=0.45, p_dirty_throttle=0.3,
                   p_hp_fallback=0.3, p_locked=0.1, throttle_depth=6)
    import numpy as np
    eng = ReferenceEngine(compile_scenario(cfg), np.random.PCG64DXSM(5),
                          check_invariants=True)
    raw = eng.run_trials(60)
    h = dict(zip(lay.METRICS, raw.hists))
    c = raw.counters
    assert h["hp_acq_wait"].n == eng.hp_acquisitions * h["hp_wait"].n == \
        eng.hp_acquisitions * c["hp_reads"]
    hp_on_l = h["hp_acq_wait"].n if eng.hp_lock == LOCK_MMAP else c["hp_fallbacks"]
    assert c["lock_acquisitions"] == (h["writer_wait"].n + h["fault_lock_wait"].n
                                      + hp_on_l)
    assert h["fault_passes"].n == c["faults"] > 0 and h["fault_passes"].vmax <= 3
