"""Known answers for the kernel presets (docs/model.md §11): scripted interleavings whose
timelines are derived by hand from the kernel source, asserted to the nanosecond on both
engines for every preset.

Conventions of every script here: ``wake`` 0, CPU work 0 unless stated, one LP IO slot
(``throttle_depth`` 7), script clock base 0 (so ``jiffy(t) = floor(t / jiffy_ns)``, §11.6).
"L" is ``mmap_lock``, "V" the faulting VMA's per-VMA lock.  An HP reader's ``waits`` are its
``mmap_lock`` acquisitions' waits (two per ``cmdline`` read from 5.3 on, i.e. the 5.5 and
later presets; one on 2.6.36, 4.19, 4.19+rfc-*, 5.1 and in the 2018 model); ``done`` is when
its last acquisition releases.

Kernel sources the derivations rely on (torvalds/linux; "today" = the stored master):

* ``arch/x86/mm/fault.c: do_user_addr_fault()`` (today): ``vma = lock_vma_under_rcu(mm,
  address); if (!vma) goto lock_mmap;`` then ``handle_mm_fault(vma, address, flags |
  FAULT_FLAG_VMA_LOCK, regs)``; on ``VM_FAULT_RETRY``: ``if (fault & VM_FAULT_MAJOR) flags
  |= FAULT_FLAG_TRIED;`` and ``lock_mmap: retry: vma = lock_mm_and_find_vma(...)``
  (``mmap_read_lock``); after that pass ``if (fault & VM_FAULT_COMPLETED) return;`` and
  ``if (fault & VM_FAULT_RETRY) { flags |= FAULT_FLAG_TRIED; goto retry; }``.
* ``include/linux/mmap_lock.h: vma_start_read()`` (today): ``if (READ_ONCE(vma->vm_lock_seq)
  == READ_ONCE(mm->mm_lock_seq.sequence)) return NULL;`` -- a VMA write-locked by a writer
  that still holds ``mmap_lock(W)`` cannot be read-locked, ``lock_vma_under_rcu()`` returns
  NULL and the fault falls back to ``mmap_lock``.
* ``mm/mmap_lock.c: __vma_start_write()`` → ``__vma_enter_locked()`` (today):
  ``rcuwait_wait_event(&vma->vm_mm->vma_writer_wait, refcount_read(&vma->vm_refcnt) ==
  tgt_refcnt, TASK_UNINTERRUPTIBLE)`` -- ``mprotect``/``madvise`` wait for the VMA's readers
  while holding ``mmap_lock(W)``; ``vma_end_read()`` of the last reader wakes them.
* ``mm/memory.c: wp_page_shared()`` (today): ``vmf_can_call_fault()`` lets a file with
  ``->map_pages`` run ``do_page_mkwrite()`` under the VMA lock, then ``ret |=
  fault_dirty_shared_page(vmf)``.  ``fault_dirty_shared_page()``: ``fpin =
  maybe_unlock_mmap_for_io(vmf, NULL); balance_dirty_pages_ratelimited(mapping); if (fpin) {
  fput(fpin); return VM_FAULT_COMPLETED; }`` (``VM_FAULT_RETRY`` from 89b15332af7c, 5.5, to
  d92725256b4f, 6.0; in 5.1 ``balance_dirty_pages_ratelimited()`` ran holding
  ``mmap_sem``).  ``maybe_unlock_mmap_for_io()`` drops whichever lock the fault holds
  (``release_fault_lock()``) only if ``fault_flag_allow_retry_first()`` (4064b9827063, 5.7).
* ``fs/proc/base.c: get_mm_cmdline()`` (today): ``access_remote_vm(mm, arg_end-1, &c, 1,
  FOLL_ANON)`` for the ``setproctitle`` byte, then ``access_remote_vm(mm, pos, page, size,
  FOLL_ANON)`` for the content: two ``mmap_read_lock`` ... ``mmap_read_unlock`` sections
  per short read.  That last-byte check came with d26d0cd97c88 (5.3).  The 2018 rewrite
  5ab827189965 (4.18; the code of 4.19 and 5.1) reads the bounds under
  ``spin_lock(&mm->arg_lock)`` and has only the copy loop, ``got = access_remote_vm(mm, pos
  - offset, page, size + offset, FOLL_ANON)`` per page-sized chunk: one ``mmap_sem``
  section per short read.  2.6.36 ``proc_pid_cmdline()``: one ``access_process_vm()``.
* ``kernel/locking/rwsem.c`` (today): ``#define RWSEM_WAIT_TIMEOUT DIV_ROUND_UP(HZ, 250)``;
  ``rwsem_try_write_lock()``: ``if (has_handoff || (!rt_task(waiter->task) &&
  !time_after(jiffies, waiter->timeout))) return false; new |= RWSEM_FLAG_HANDOFF;``;
  ``rwsem_down_read_slowpath()`` steals a lock that is neither writer-locked nor handed off
  when no other reader holds it (1a728dff855a, 5.11).  4.19 ``rwsem-xadd.c:
  rwsem_down_read_failed()``: a reader arriving while the head writer is woken but not yet
  running queues (``count == RWSEM_WAITING_BIAS`` → ``__rwsem_mark_wake(RWSEM_WAKE_ANY)``
  wakes the writer only).
"""
import tomllib
from pathlib import Path

import numpy as np
import pytest

import mcsim
from mcsim.kernels import KERNELS
from mcsim.params import validate
from mcsim.scenario import compile_script

US = 1_000
MS = 1_000_000
ALL = tuple(KERNELS)
#: The 2026 cmdline series: both HP acquisitions under the arguments' VMA lock (§11.5).
CMDLINE_VMA = ("6.18+cmdline-vma", "6.18+vma-retry+cmdline-vma")
#: Kernels whose file faults take the VMA lock first (6.7+, 12214eba1992 and series).
VMA_FAULTS = ("6.7", "6.18", "6.18+vma-retry", *CMDLINE_VMA)


def run(tasks, kernel, engine, **params):
    return mcsim.run_script(tasks, kernel=kernel, engine=engine, **params)


def check_hp(task, waits, done):
    """``waits`` None: every acquisition held the arguments' VMA lock at once (no wait on
    L; whether such an acquisition lists a 0 is left to the engine)."""
    assert task.kind == "hp_read"
    if waits is None:
        assert len(task.waits) in (0, 2) and all(w == 0 for w in task.waits), task.waits
    else:
        assert task.waits == waits
    assert task.done == done


def l_wait(writer):
    """A writer's wait for L(W): its first recorded wait (whether a wait in
    vma_start_write() is listed after it is left to the engine: it is not a wait for L)."""
    assert writer.kind == "writer" and writer.waits
    return writer.waits[0]


def expect(table, kernel):
    """Look a kernel up in a table keyed by tuples of kernel names."""
    for names, value in table.items():
        if kernel in names:
            return value
    raise KeyError(kernel)


# --------------------------------------------------------------------------------------
# (a)/(b) a slow ->page_mkwrite under the VMA lock and a writer on the same / another VMA
# --------------------------------------------------------------------------------------
#
# t = 0    LP fault: write fault whose ->page_mkwrite waits 5 ms (writeback of the page in
#          flight, or its own bio through the free slot); dirty throttling 0.
# t = 1 ms LP writer (mprotect of the faulting VMA, or mmap elsewhere), hold 50 µs.
# t = 2 ms HP cmdline read, 10 µs per acquisition.
#
# 6.7/6.18, same VMA: pass 1 holds V only (lock_vma_under_rcu); the writer takes L(W) at
# 1 ms (free) and sleeps in __vma_start_write() until the fault's vma_end_read() at 5 ms
# (maybe_unlock_mmap_for_io() before balance_dirty_pages: VM_FAULT_COMPLETED, one pass);
# it holds 5.00-5.05 ms; the HP reader, queued at 2 ms behind L(W), runs 5.05 ms: first
# acquisition 3.05 ms, second at 5.06 ms free (0), done 5.07 ms.  = writeback end + hold.
# 6.7/6.18, other VMA: no vma_start_write() on V; L is free at 1 ms (the fault holds no L):
# writer 1.00-1.05 ms, HP [0, 0] done 2.02 ms.
# 6.4 and older: the fault holds L(R) through ->page_mkwrite (file faults never take a
# VMA lock before 6.7: lock_vma_under_rcu() gave up on !vma_is_anonymous() in 6.4), so the
# writer queues on L whatever VMA it changes: the same 3.05 ms either way.  5.5-5.11: the
# fault drops L before dirty throttling and retries (its retry steals L at 5 ms on 5.11,
# queues with the HP reader on 5.3-era 5.5/5.7 and is granted with it at 5.05 ms); 6.4
# drops and completes at 5 ms (d92725256b4f): the HP reader's times do not change.
# 2.6.36, 4.19, 4.19+rfc-v1, 5.1 (mmap_sem through ->page_mkwrite and dirty throttling,
# one acquisition per read): L(R) 0-5 ms, writer 5.00-5.05, HP [3.05 ms] done 5.06 ms.
# 4.19+rfc-v2 drops L before ->page_mkwrite, the wait and the (zero) throttling run
# unlocked and the retry takes the free L at 5 ms: writer 1.00-1.05, HP [0] done 2.01 ms.
# cmdline-vma: both HP acquisitions under the arguments' VMA lock: done 2.02 ms.
# 6.18+vma-retry changes only the retry pass: same as 6.18 (the series leaves this path).

def mkwrite_script(kind, same_vma):
    fault = {"at": 0, "kind": "fault", "fault": kind, "bio": "5ms"}
    return [fault,
            {"at": "1ms", "kind": "writer", "hold": "50us", "same_vma": same_vma},
            {"at": "2ms", "kind": "hp_read", "hold": "10us"}]


_WAITS = ([3050 * US, 0], 5070 * US, 5050 * US)     # HP waits, HP done, writer done
_WAITS_ONE = ([3050 * US], 5060 * US, 5050 * US)    # the same with one acquisition
_FREE = ([0, 0], 2020 * US, 1050 * US)
#: Kernels that read cmdline with one acquisition (2.6.36, the 2018 get_mm_cmdline()).
ONE_ACQ_MMAP_SEM = ("2.6.36", "4.19", "4.19+rfc-v1", "5.1")
MKWRITE_SAME_VMA = {
    ONE_ACQ_MMAP_SEM: _WAITS_ONE,
    ("5.5", "5.7", "5.11", "6.4", "6.7", "6.18", "6.18+vma-retry"): _WAITS,
    ("4.19+rfc-v2",): ([0], 2010 * US, 1050 * US),
    CMDLINE_VMA: (None, 2020 * US, 5050 * US),
}
MKWRITE_OTHER_VMA = {
    ONE_ACQ_MMAP_SEM: _WAITS_ONE,
    ("5.5", "5.7", "5.11", "6.4"): _WAITS,
    ("4.19+rfc-v2",): ([0], 2010 * US, 1050 * US),
    ("6.7", "6.18", "6.18+vma-retry"): _FREE,
    CMDLINE_VMA: (None, 2020 * US, 1050 * US),
}
#: The writer takes L at once where the fault does not hold L through ->page_mkwrite.
WRITER_TAKES_L_AT_ONCE = (*VMA_FAULTS, "4.19+rfc-v2")


@pytest.mark.parametrize("kind", ["mkwrite_writeback", "mkwrite_slow"])
@pytest.mark.parametrize("same_vma", [True, False])
@pytest.mark.parametrize("kernel", ALL)
def test_mkwrite_under_vma_lock_and_a_writer(engine, kernel, same_vma, kind):
    table = MKWRITE_SAME_VMA if same_vma else MKWRITE_OTHER_VMA
    waits, hp_done, writer_done = expect(table, kernel)
    r = run(mkwrite_script(kind, same_vma), kernel, engine)
    check_hp(r.tasks[2], waits, hp_done)
    assert r.tasks[1].done == writer_done
    assert l_wait(r.tasks[1]) == (0 if kernel in WRITER_TAKES_L_AT_ONCE else 4 * MS)
    # 5.5 and 5.7 (5.3 rwsem: no reader stealing) retry after dropping L for dirty
    # throttling and queue behind the writer: the retry runs with the HP reader at 5.05 ms.
    # 5.11 retries too but steals the free L at 5 ms; 6.4+ complete at the drop.
    assert r.tasks[0].done == (5050 * US if kernel in ("5.5", "5.7") else 5 * MS)


# --------------------------------------------------------------------------------------
# (c) the TRIED retry pass re-reading under mmap_lock(R), and 6.18+vma-retry
# --------------------------------------------------------------------------------------
#
# t = 0      LP read fault, page not cached: its bio takes 1 ms; the retry pass finds the
#            page not uptodate (evicted = true) and re-reads it: 2 ms.
# t = 1.5 ms LP writer on another VMA (mmap), hold 10 µs.
# t = 1.6 ms HP cmdline read, hold 0.
#
# 6.7/6.18: pass 1 holds V, drops it before the IO (filemap_fault → do_sync_mmap_readahead
# → maybe_unlock_mmap_for_io) and returns VM_FAULT_RETRY|VM_FAULT_MAJOR, so the retry is
# TRIED ("if (fault & VM_FAULT_MAJOR) flags |= FAULT_FLAG_TRIED") and takes L(R) at 1 ms
# (lock_mm_and_find_vma); being TRIED it does not drop (fault_flag_allow_retry_first() is
# false) and re-reads 1-3 ms holding L.  The writer queues at 1.5, the HP reader at 1.6
# behind it (5.11+: no steal while another reader holds L); at 3 ms the writer runs
# (3.00-3.01), the HP reader gets L at 3.01: [1.41 ms, 0], done 3.01 ms.
# 5.5-6.4 (drop before the submit): pass 1 on L, the single x86 retry is TRIED: the same
# 2018 shape, the same numbers.  4.19 (submit under L, drop before the wait) and 5.1 (drop
# before the submit) have the same timeline with one acquisition per read: the writer runs
# 3.00-3.01 and the only acquisition gets L at 3.01: HP [1.41 ms], done 3.01 ms.
# 2.6.36: no retry (the whole read under L 0-1 ms): writer 1.50-1.51, HP [0] at 1.6.
# rfc-v1/v2 keep the page (vmf->cached_page): the retry at 1 ms re-reads nothing and ends
# at 1 ms, L is free from then on: HP [0] at 1.6 (one acquisition), writer 1.50-1.51.
# 6.18+vma-retry: the retry takes V, the re-read holds V only: the writer passes at 1.5
# (1.50-1.51), HP [0, 0] done 1.6 ms.  cmdline-vma: the HP reader never touches L.

RETRY_SCRIPT_FIELDS = {"at": 0, "kind": "fault", "fault": "miss", "bio": "1ms",
                       "evicted": True, "evict_bio": "2ms"}


def retry_script(same_vma):
    return [dict(RETRY_SCRIPT_FIELDS),
            {"at": "1500us", "kind": "writer", "hold": "10us", "same_vma": same_vma},
            {"at": "1600us", "kind": "hp_read", "hold": "0"}]


_REREAD_UNDER_L = ([1410 * US, 0], 3010 * US, 3010 * US, 3 * MS)  # HP, HP done, W, fault
RETRY_OTHER_VMA = {
    ("2.6.36", "4.19+rfc-v1", "4.19+rfc-v2"): ([0], 1600 * US, 1510 * US, 1 * MS),
    ("4.19", "5.1"): ([1410 * US], 3010 * US, 3010 * US, 3 * MS),
    ("5.5", "5.7", "5.11", "6.4", "6.7", "6.18"): _REREAD_UNDER_L,
    ("6.18+vma-retry",): ([0, 0], 1600 * US, 1510 * US, 3 * MS),
    ("6.18+cmdline-vma",): (None, 1600 * US, 3010 * US, 3 * MS),
    ("6.18+vma-retry+cmdline-vma",): (None, 1600 * US, 1510 * US, 3 * MS),
}


@pytest.mark.parametrize("kernel", ALL)
def test_tried_retry_rereads_under_mmap_lock(engine, kernel):
    waits, hp_done, writer_done, fault_done = expect(RETRY_OTHER_VMA, kernel)
    r = run(retry_script(False), kernel, engine)
    check_hp(r.tasks[2], waits, hp_done)
    assert r.tasks[1].done == writer_done
    assert r.tasks[0].done == fault_done


@pytest.mark.parametrize("kernel", ["6.18", "6.18+vma-retry", "6.18+vma-retry+cmdline-vma"])
def test_vma_retry_with_a_same_vma_writer(engine, kernel):
    """6.18+vma-retry moves the re-read under V, which an mprotect of that VMA still waits
    for in __vma_start_write() holding L(W): writer 1.5 → sleeps until the re-read ends at
    3 ms, holds 3.00-3.01; the HP reader (L) waits 1.41 ms as on 6.18, where the writer
    queues on L behind the re-read instead.  With cmdline-vma the HP reader passes."""
    r = run(retry_script(True), kernel, engine)
    assert r.tasks[1].done == 3010 * US
    assert l_wait(r.tasks[1]) == (0 if "vma-retry" in kernel else 1500 * US)
    if "cmdline" in kernel:
        check_hp(r.tasks[2], None, 1600 * US)
    else:
        check_hp(r.tasks[2], [1410 * US, 0], 3010 * US)


# A retry after a VMA-locked pass that was *not* major is not TRIED (6.7+): a locked page
# (another context's read, 1 ms) makes pass 1 drop V and retry; pass 2 takes L(R) at 1 ms,
# finds the page not uptodate and, not TRIED, drops L again before the re-read
# (maybe_unlock_mmap_for_io with fault_flag_allow_retry_first() true); the re-read runs
# 1-3 ms unlocked and pass 3 (TRIED) completes at 3 ms.  The writer passes at 1.5, the HP
# reader at 1.6.  On 5.11 (no VMA lock) the single retry is TRIED and re-reads under L:
# HP [1.41 ms, 0] as in the miss case.

LOCKED_RETRY = [{"at": 0, "kind": "fault", "fault": "locked", "bio": "1ms", "evicted": True,
                 "evict_bio": "2ms"},
                {"at": "1500us", "kind": "writer", "hold": "10us"},
                {"at": "1600us", "kind": "hp_read", "hold": "0"}]


@pytest.mark.parametrize("kernel", ["5.11", "6.4", "6.7", "6.18", "6.18+vma-retry"])
def test_non_major_vma_pass_retries_untried(engine, kernel):
    r = run(LOCKED_RETRY, kernel, engine)
    assert r.tasks[0].done == 3 * MS
    if kernel in VMA_FAULTS:
        check_hp(r.tasks[2], [0, 0], 1600 * US)
        assert r.tasks[1].done == 1510 * US
    else:
        check_hp(r.tasks[2], [1410 * US, 0], 3010 * US)
        assert r.tasks[1].done == 3010 * US


# --------------------------------------------------------------------------------------
# (d) the fallback: a fault whose VMA is write-locked takes mmap_lock(R) instead
# --------------------------------------------------------------------------------------
#
# t = 0      fault A: ->page_mkwrite waits for writeback in flight (2 ms), holding V.
# t = 0.5 ms writer W1 (mprotect of V), hold 100 µs.
# t = 1 ms   fault B: mkwrite_slow, its own bio 3 ms.
# t = 3 ms   writer W2 (mmap elsewhere), hold 50 µs.
# t = 4 ms   HP cmdline read, 10 µs per acquisition.
#
# 6.7/6.18: W1 takes L(W) at 0.5 and waits in __vma_start_write() for A (V's reader).
# B at 1 ms: vma_start_read() sees vm_lock_seq == mm_lock_seq, lock_vma_under_rcu()
# returns NULL, "goto lock_mmap": B queues for L(R) behind W1.  2 ms: the writeback ends,
# A drops V before balance_dirty_pages (COMPLETED, done 2 ms), W1 runs 2.0-2.1 ms; B gets
# L(R) at 2.1 and, on the mmap_lock path, its ->page_mkwrite issues its bio (slot free)
# and waits 2.1-5.1 ms holding L(R).  W2 queues at 3 ms, the HP reader at 4 ms behind W2
# (no steal: B holds L).  5.1 ms: B drops L before dirty throttling (COMPLETED), W2 runs
# 5.10-5.15, HP [1.15 ms, 0], done 5.17 ms: the 2018 shape again.
# Same script with W1 on another VMA: no VMA write lock, B holds V; its bio waits for the
# slot until 2 ms (A's writeback holds it) and completes at 5 ms under V only; W2 passes at
# 3 ms, HP [0, 0] done 4.02 ms.
# 6.4 and older hold L through ->page_mkwrite: W1 queues behind A, B behind W1 (4.x: any
# queue; 5.11+: A holds L, no steal), and the timeline is the same as 6.18's with the
# fallback, whatever VMA W1 changes (5.5-5.11: A and B retry after dropping L for dirty
# throttling, stealing L on 5.11 or granted with the next readers on 5.5/5.7; 6.4: they
# complete at the drop; neither moves W2 or the HP reader).  2.6.36, 4.19, 4.19+rfc-v1 and
# 5.1 read cmdline once: the HP reader gets L at 5.15 as W2 releases: [1.15 ms], done
# 5.16 ms.  rfc-v2 drops L before ->page_mkwrite: A 0-2 ms and B (gate until A's writeback
# frees the slot at 2, bio 2-5 ms) wait unlocked, W1 0.5-0.6, A's retry at 2, W2
# 3.00-3.05, HP at 4 ms on a free L: [0], done 4.01 ms.

def fallback_script(same_vma):
    return [{"at": 0, "kind": "fault", "fault": "mkwrite_writeback", "bio": "2ms"},
            {"at": "500us", "kind": "writer", "hold": "100us", "same_vma": same_vma},
            {"at": "1ms", "kind": "fault", "fault": "mkwrite_slow", "bio": "3ms"},
            {"at": "3ms", "kind": "writer", "hold": "50us"},
            {"at": "4ms", "kind": "hp_read", "hold": "10us"}]


_SHAPE_2018 = ([1150 * US, 0], 5170 * US)
_NO_WAIT = ([0, 0], 4020 * US)
FALLBACK = {      # W1 on the faulting VMA
    ONE_ACQ_MMAP_SEM: ([1150 * US], 5160 * US),
    ("5.5", "5.7", "5.11", "6.4", "6.7", "6.18", "6.18+vma-retry"): _SHAPE_2018,
    ("4.19+rfc-v2",): ([0], 4010 * US),
    CMDLINE_VMA: (None, 4020 * US),
}
NO_FALLBACK = {   # W1 on another VMA
    ONE_ACQ_MMAP_SEM: ([1150 * US], 5160 * US),
    ("5.5", "5.7", "5.11", "6.4"): _SHAPE_2018,
    ("4.19+rfc-v2",): ([0], 4010 * US),
    ("6.7", "6.18", "6.18+vma-retry"): _NO_WAIT,
    CMDLINE_VMA: (None, 4020 * US),
}


@pytest.mark.parametrize("same_vma", [True, False])
@pytest.mark.parametrize("kernel", ALL)
def test_fallback_to_mmap_lock(engine, kernel, same_vma):
    waits, done = expect(FALLBACK if same_vma else NO_FALLBACK, kernel)
    r = run(fallback_script(same_vma), kernel, engine)
    check_hp(r.tasks[4], waits, done)
    if kernel in VMA_FAULTS:
        assert r.tasks[0].done == 2 * MS                  # A: one pass, COMPLETED
        if same_vma:
            assert l_wait(r.tasks[1]) == 0               # L(W) at once, then V's reader
            assert r.tasks[1].done == 2100 * US
            assert r.tasks[2].done == 5100 * US           # B: fallback pass under L
            assert r.tasks[3].waits == [2100 * US] and r.tasks[3].done == 5150 * US
        else:
            assert r.tasks[1].done == 600 * US
            assert r.tasks[2].done == 5 * MS              # B: under V, behind the slot
            assert r.tasks[3].waits == [0] and r.tasks[3].done == 3050 * US


# --------------------------------------------------------------------------------------
# (e) dirty throttling: under the lock in 5.1, dropped (RETRY) in 5.5, COMPLETED later
# --------------------------------------------------------------------------------------
#
# t = 0      write fault, fast ->page_mkwrite (0), then balance_dirty_pages() sleeps 2 ms;
#            a retry pass costs minor = 5 µs.
# t = 0.5 ms writer (mprotect of the same VMA), hold 50 µs.
# t = 1 ms   HP cmdline read, 10 µs per acquisition.
#
# 2.6.36, 4.19, 4.19+rfc-v1, 5.1: fault_dirty_shared_page() calls
# balance_dirty_pages_ratelimited() holding mmap_sem: L(R) 0-2 ms, writer 2.00-2.05, HP
# (one acquisition) [1.05 ms], done 2.06 ms.  5.5/5.7/5.11 (89b15332af7c):
# maybe_unlock_mmap_for_io() drops L first and the fault returns VM_FAULT_RETRY: writer
# 0.50-0.55, HP [0, 0] done 1.02, the TRIED retry takes the free L at 2 ms and ends at
# 2.005 ms.  6.4 (mmap_lock pass, d92725256b4f since 6.0) and 6.7+ (VMA-locked pass):
# VM_FAULT_COMPLETED, no retry: done at 2 ms; the writer finds V without readers (6.4
# file faults never hold V; on 6.7+ the fault released it at the drop) and runs
# 0.50-0.55, HP [0, 0] done 1.02.  rfc-v2 dropped L before ->page_mkwrite already: the
# sleep runs unlocked and the fault retries (2.005 ms); writer 0.50-0.55, HP [0] done 1.01.

DIRTY = [{"at": 0, "kind": "fault", "fault": "mkwrite_fast", "mkwrite": "0", "dirty": "2ms",
          "minor": "5us"},
         {"at": "500us", "kind": "writer", "hold": "50us", "same_vma": True},
         {"at": "1ms", "kind": "hp_read", "hold": "10us"}]
DIRTY_EXPECTED = {    # HP waits, HP done, fault done, writer done
    ONE_ACQ_MMAP_SEM: ([1050 * US], 2060 * US, 2 * MS, 2050 * US),
    ("4.19+rfc-v2",): ([0], 1010 * US, 2005 * US, 550 * US),
    ("5.5", "5.7", "5.11"): ([0, 0], 1020 * US, 2005 * US, 550 * US),
    ("6.4", "6.7", "6.18", "6.18+vma-retry"): ([0, 0], 1020 * US, 2 * MS, 550 * US),
    CMDLINE_VMA: (None, 1020 * US, 2 * MS, 550 * US),
}


@pytest.mark.parametrize("kernel", ALL)
def test_dirty_throttling(engine, kernel):
    waits, hp_done, fault_done, writer_done = expect(DIRTY_EXPECTED, kernel)
    r = run(DIRTY, kernel, engine)
    check_hp(r.tasks[2], waits, hp_done)
    assert r.tasks[0].done == fault_done
    assert r.tasks[1].done == writer_done


# A retry after the dirty-throttling drop finds its PTE in place (fault_dirty_shared_page()
# drops after the page is mapped; 89b15332af7c: "the retried page fault would see correct
# PTEs installed by the first try"), so it never re-reads, even if the page was evicted:
# the same times as above on every kernel.  Without that rule 5.5/5.7/5.11 would re-read
# 3 ms under L(R) in the TRIED retry and finish at 5.005 ms.

@pytest.mark.parametrize("kernel", ALL)
def test_retry_after_the_dirty_drop_does_not_reread(engine, kernel):
    waits, hp_done, fault_done, writer_done = expect(DIRTY_EXPECTED, kernel)
    script = [dict(DIRTY[0], evicted=True, evict_bio="3ms"), *DIRTY[1:]]
    r = run(script, kernel, engine)
    check_hp(r.tasks[2], waits, hp_done)
    assert (r.tasks[0].done, r.tasks[1].done) == (fault_done, writer_done)


# --------------------------------------------------------------------------------------
# (f) 6.18+cmdline-vma: the HP reader reads under the arguments' VMA lock
# --------------------------------------------------------------------------------------
#
# A writer holds L(W) 0-1 ms; the HP reader arrives at 0.5 ms, 10 µs per acquisition.
# 6.18: both acquisitions on L: [0.5 ms, 0], done 1.02 ms.  cmdline-vma: no L, done
# 0.52 ms.  With ``fallback`` (a non-present page, a VMA writer, a read spanning VMAs in the
# series' __access_remote_vm) each acquisition takes L: 6.18's numbers again.  The
# flag means nothing on 6.18 (no VMA-locked HP read to fall back from).

WRITER_THEN_HP = [{"at": 0, "kind": "writer", "hold": "1ms"},
                  {"at": "500us", "kind": "hp_read", "hold": "10us"}]


@pytest.mark.parametrize("fallback", [False, True])
@pytest.mark.parametrize("kernel", ["6.18", "6.18+vma-retry", *CMDLINE_VMA])
def test_cmdline_under_vma_lock(engine, kernel, fallback):
    tasks = [dict(t) for t in WRITER_THEN_HP]
    tasks[1]["fallback"] = fallback
    r = run(tasks, kernel, engine)
    if kernel in CMDLINE_VMA and not fallback:
        check_hp(r.tasks[1], None, 520 * US)
    else:
        check_hp(r.tasks[1], [500 * US, 0], 1020 * US)


@pytest.mark.parametrize("kernel", CMDLINE_VMA)
def test_cmdline_fallback_meets_the_mkwrite_writer(engine, kernel):
    """The (a) script with the HP read falling back: it waits as on 6.18."""
    tasks = mkwrite_script("mkwrite_writeback", True)
    tasks[2]["fallback"] = True
    check_hp(run(tasks, kernel, engine).tasks[2], [3050 * US, 0], 5070 * US)


# --------------------------------------------------------------------------------------
# (g) acquisitions per HP read, and (h) the rwsem eras: reader stealing
# --------------------------------------------------------------------------------------
#
# t = 0       writer W1, hold 1 ms.
# t = 0.5 ms  HP cmdline read, 100 µs per acquisition.
# t = 0.55 ms writer W2, hold 200 µs.
#
# At 1 ms W1 releases; the HP reader heads the queue and gets L, 1.0-1.1 ms (4.x grants
# the consecutive readers at the head and stops at W2).  One acquisition (2.6.36
# fs/proc/base.c proc_pid_cmdline(): "res = access_process_vm(task, mm->arg_start,
# buffer, len, 0)", a second call only when the final NUL was overwritten; 4.19 and 5.1
# get_mm_cmdline() as rewritten by 5ab827189965: one access_remote_vm() per page-sized
# chunk, and the arguments fit in one; __access_remote_vm() holds down_read(&mm->mmap_sem)
# once; and the 2018 model): done at 1.1 ms, W2 1.1-1.3.  Two acquisitions (5.3+,
# d26d0cd97c88: the last-byte access_remote_vm() first): the release at 1.1 wakes W2 and
# the second request comes at the same instant, before W2 runs (§11.5: the next request
# is made as the previous one releases; assumed to be processed before the woken writer
# runs).  5.3 era (5.5, 5.7): a reader never passes a queued writer (5.3-5.10 have no
# reader stealing): W2 runs 1.1-1.3, the second acquisition 1.3-1.4: [0.5 ms, 0.2 ms],
# done 1.4.  5.11+: rwsem_down_read_slowpath() steals the free lock (no writer bit, no
# handoff: W2 waited 0.55 ms, jiffy(1.1 ms) = jiffy(0.55 ms) = 0 at HZ = 250): [0.5 ms,
# 0], done 1.2; W2 finds L taken at 1.1, runs 1.2-1.4.  No preset has two acquisitions on
# the 4.x rwsem any more (4.19.64+, which took d26d0cd97c88, is not a preset).

ACQUISITIONS = [{"at": 0, "kind": "writer", "hold": "1ms"},
                {"at": "500us", "kind": "hp_read", "hold": "100us"},
                {"at": "550us", "kind": "writer", "hold": "200us"}]
ACQ_EXPECTED = {      # HP waits, HP done, W2 done
    ("2.6.36", "4.19", "4.19+rfc-v1", "4.19+rfc-v2", "5.1"): ([500 * US], 1100 * US, 1300 * US),
    ("5.5", "5.7"): ([500 * US, 200 * US], 1400 * US, 1300 * US),
    ("5.11", "6.4", "6.7", "6.18", "6.18+vma-retry"): ([500 * US, 0], 1200 * US, 1400 * US),
    CMDLINE_VMA: (None, 700 * US, 1200 * US),
}


@pytest.mark.parametrize("kernel", ALL)
def test_acquisitions_per_read_and_reader_stealing(engine, kernel):
    waits, hp_done, w2_done = expect(ACQ_EXPECTED, kernel)
    r = run(ACQUISITIONS, kernel, engine)
    check_hp(r.tasks[1], waits, hp_done)
    assert r.tasks[2].done == w2_done


#: One HP acquisition before 5.3 (2.6.36, the 2018 get_mm_cmdline()), two from 5.3 on.
ONE_VS_TWO = [("2.6.36", 1), ("4.19", 1), ("5.1", 1), ("5.5", 2), ("5.11", 2), ("6.18", 2)]


@pytest.mark.parametrize("kernel, acquisitions", ONE_VS_TWO)
def test_one_acquisition_before_5_3_two_after(engine, kernel, acquisitions):
    """WRITER_THEN_HP: the writer holds L(W) 0-1 ms, the read arrives at 0.5 ms and its
    first acquisition waits 0.5 ms.  With a second one (5.3+) it requests L again at the
    1.01 ms release, finds it free and an empty queue: [0.5 ms, 0], done 1.02 ms; with one,
    [0.5 ms], done 1.01 ms."""
    r = run(WRITER_THEN_HP, kernel, engine)
    check_hp(r.tasks[1], [500 * US] + [0] * (acquisitions - 1), (1000 + 10 * acquisitions) * US)


@pytest.mark.parametrize("era", ["4.x", "5.11+"])
def test_legacy_model_reads_once(engine, era):
    """--policy/--era (no kernel): one acquisition per read, in every era."""
    r = mcsim.run_script(ACQUISITIONS, era=era, engine=engine)
    check_hp(r.tasks[1], [500 * US], 1100 * US)
    assert r.tasks[2].done == 1300 * US


# --------------------------------------------------------------------------------------
# (h) the handoff bit in jiffies: HZ and the jiffy phase
# --------------------------------------------------------------------------------------
#
# wake = 100 µs (a constant, so times stay exact) opens a window after each release in
# which L is free while the woken head writer has not run yet.
# t = 0           writer W0 takes L for a.
# t = t_w         writer W queues (waiter->timeout = jiffy(t_w) + RWSEM_WAIT_TIMEOUT).
# t = a           W0 releases, W is woken (runs at a + 0.1 ms).
# t = a + 50 µs   newcomer writer N takes the free L (no handoff yet), 1 ms.
# t = a + 0.1 ms  W runs, finds L taken: sets the handoff bit iff
#                 jiffy(a + 0.1 ms) > jiffy(t_w) + DIV_ROUND_UP(HZ, 250) (rwsem_try_write_lock
#                 "time_after(jiffies, waiter->timeout)"), sleeps again.
# t = a + 1.05 ms N releases, W woken (runs a + 1.15 ms).
# t = a + 1.1 ms  newcomer writer N2, 1 ms: with the handoff bit it queues behind W
#                 (W runs a+1.15, holds 10 µs; N2 woken, runs a+1.26, done a+2.26); without
#                 it N2 takes L (W finds it taken at a+1.15, runs at a+2.2, done a+2.21).
#
# HZ = 1000, t_w = 0.5, a = 6 ms: jiffy(6.1 ms) = 6 > 0 + 4: handoff.
# HZ = 250, same script: jiffy(6.1 ms) = 1, not > 0 + 1: no handoff (nor at 7.15 ms: 1).
# HZ = 250, t_w = 3.9 ms, a = 8 ms: jiffy(8.1) = 2 > 0 + 1: handoff after 4.2 ms of waiting.
# HZ = 250, t_w = 4.1 ms, a = 8.2 ms: jiffy(8.3) = 2, not > 1 + 1 (nor at 9.35 ms): none
# after the same 4.2 ms: the phase of the request in its jiffy decides.
# 4.19 (4.x) has no handoff bit at any HZ; 5.5 (5.3, 4f23dbc1e657) has it.

def handoff_script(t_w, a):
    return [{"at": 0, "kind": "writer", "hold": a},
            {"at": t_w, "kind": "writer", "hold": 10 * US},
            {"at": a + 50 * US, "kind": "writer", "hold": 1 * MS},
            {"at": a + 1100 * US, "kind": "writer", "hold": 1 * MS}]


HANDOFF_CASES = [    # kernel, hz, t_w, a, handoff set
    ("5.11", 1000, 500 * US, 6 * MS, True),
    ("5.11", 250, 500 * US, 6 * MS, False),
    ("5.5", 1000, 500 * US, 6 * MS, True),
    ("4.19", 1000, 500 * US, 6 * MS, False),
    ("6.18", 250, 3900 * US, 8 * MS, True),
    ("6.18", 250, 4100 * US, 8200 * US, False),
]


@pytest.mark.parametrize("kernel, hz, t_w, a, handoff", HANDOFF_CASES)
def test_handoff_in_jiffies(engine, kernel, hz, t_w, a, handoff):
    r = run(handoff_script(t_w, a), kernel, engine, hz=hz, wake="100us")
    w, n, n2 = r.tasks[1], r.tasks[2], r.tasks[3]
    assert n.waits == [0] and n.done == a + 1050 * US
    if handoff:
        assert w.waits == [a + 1150 * US - t_w] and w.done == a + 1160 * US
        assert n2.waits == [160 * US] and n2.done == a + 2260 * US
    else:
        assert w.waits == [a + 2200 * US - t_w] and w.done == a + 2210 * US
        assert n2.waits == [0] and n2.done == a + 2100 * US


# --------------------------------------------------------------------------------------
# The scripts and parameter sets themselves (no engine needed)
# --------------------------------------------------------------------------------------

SCRIPTS = {
    "mkwrite": mkwrite_script("mkwrite_writeback", True),
    "retry": retry_script(True),
    "locked_retry": LOCKED_RETRY,
    "fallback": fallback_script(True),
    "dirty": DIRTY,
    "writer_then_hp": WRITER_THEN_HP,
    "acquisitions": ACQUISITIONS,
    "handoff": handoff_script(3900 * US, 8 * MS),
}


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_scripts_compile(name):
    rows = compile_script(SCRIPTS[name])
    assert len(rows) == len(SCRIPTS[name])


def test_script_fields_reach_the_rows():
    rows = compile_script(fallback_script(True) + [{"at": "5ms", "kind": "hp_read",
                                                    "fallback": True}])
    assert [int(x) for x in rows["same_vma"]] == [0, 1, 0, 0, 0, 0]
    assert int(rows[5]["fallback"]) == 1
    assert int(compile_script(DIRTY)[0]["dirty"]) == 2 * MS


@pytest.mark.parametrize("kernel", ALL)
def test_presets_validate_with_hz(kernel):
    for hz in (250, 1000):
        cfg = validate({"kernel": kernel, "hz": hz, "wake": "100us"})
        assert cfg["kernel"] == kernel and cfg["hz"] == hz


#: The example files in sweeps/scripts/ are the interleavings above, on 6.18.
EXAMPLES = {
    "kernel-mkwrite-same-vma.toml": mkwrite_script("mkwrite_writeback", True),
    "kernel-retry-reread.toml": retry_script(False),
    "kernel-fallback.toml": fallback_script(True),
}
SCRIPT_DIR = Path(__file__).resolve().parent.parent / "sweeps" / "scripts"


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_example_files_are_the_derived_scripts(name):
    data = tomllib.loads((SCRIPT_DIR / name).read_text())
    assert data["params"]["kernel"] == "6.18" and data["params"]["wake"] == "0"
    validate(data["params"])
    assert np.array_equal(compile_script(data["task"]), compile_script(EXAMPLES[name]))
