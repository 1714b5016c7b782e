"""The mmap locks ``L_p``: one rwsem per process (docs/model.md §12.1), each with its own
queue, handoff bit, reader count, writer and inversion clock; the era is three rules read
from the scenario record (§2.1, §11.1) and the handoff timeout runs in continuous time or
in jiffies (§11.6).

- ``rw_handoff`` (5.3+): a woken head writer that finds ``L`` taken after its timeout sets
  the handoff bit; while set nobody but the head takes ``L``;
- ``rw_wake_all_readers`` (5.3+): a wake-up grants every queued reader, skipping writers,
  up to ``max_readers_wakeup``; without it, only the consecutive readers at the head;
- ``rw_reader_steal`` (5.11+): a reader takes a free ``L`` past a non-empty queue.

>>> import numpy as np
>>> from mcsim.params import validate
>>> from mcsim.reference import ReferenceEngine
>>> from mcsim.scenario import compile_scenario
>>> eng = ReferenceEngine(compile_scenario(validate(kernel="6.18", hz=1000)))
>>> eng._reset_trial()
>>> eng.base, eng.jiffy_ns, eng.handoff_jiffies      # 4 jiffies of 1 ms at HZ = 1000
(0, 1000000, 4)
>>> from mcsim.reference.base import Task
>>> w = Task(0, 1, t_req=500_000)
>>> eng.now = 5_000_000; eng._handoff_due(w)         # jiffy 5 > jiffy 0 + 4
True
>>> eng.now = 4_999_999; eng._handoff_due(w)         # jiffy 4: not yet
False
"""
from __future__ import annotations

from .. import layout as lay
from ..scenario import TK_HP
from .base import N_BLAME, PC_LOCK, READ, WRITE


class MmapLock:
    """One process's ``L``: holders, FIFO wait list of ``(task, mode)`` (``task.t_req`` =
    enqueue time), handoff bit, and the inversion clock of its holders (§7.13, §12.1)."""

    def __init__(self, proc):
        self.proc = proc
        self.writer = None
        self.nreaders = 0
        self.queue = []
        self.handoff = False
        self.nblocked = [0] * (N_BLAME + 1)     # holders blocked per blame kind, [-1] = any
        self.integral = [0] * (N_BLAME + 1)
        self.last = [0] * (N_BLAME + 1)


class RwsemMixin:
    """``down_read``/``down_write``/``up_*`` on each ``L_p``, with its queue and handoff.
    A task takes ``self.locks[task.proc]``."""

    def _reset_rwsem(self):
        self.locks = [MmapLock(p) for p in range(self.n_processes)]

    # The open model's single L is L_0 (read-only views, for callers of the 2018 model).
    writer = property(lambda self: self.locks[0].writer)
    nreaders = property(lambda self: self.locks[0].nreaders)
    queue = property(lambda self: self.locks[0].queue)
    handoff = property(lambda self: self.locks[0].handoff)

    def _enqueue(self, lk, task, mode):
        self._grow(("lock", lk.proc), len(lk.queue))
        lk.queue.append((task, mode))
        self._lane_on(task, lay.LANE_WAIT)

    def _read_request(self, task):
        """down_read: True if granted at once (no wake-up), else queued."""
        lk = self.locks[task.proc]
        self.counters["lock_acquisitions"] += 1
        task.t_req = self.now
        if lk.writer is None and not lk.handoff:
            if not lk.queue:
                lk.nreaders += 1
                return True
            if self.rw_reader_steal and lk.nreaders == 0:    # 5.11+ reader lock stealing
                self.counters["reader_steals"] += 1
                lk.nreaders += 1
                return True
        self._enqueue(lk, task, READ)
        return False

    def _write_request(self, task):
        """down_write by a newcomer: a free L is taken even past waiters, unless the
        handoff bit is set."""
        lk = self.locks[task.proc]
        self.counters["lock_acquisitions"] += 1
        task.t_req = self.now
        if lk.writer is None and lk.nreaders == 0 and not lk.handoff:
            if lk.queue:
                self.counters["writer_steals"] += 1
            lk.writer = task
            return True
        self._enqueue(lk, task, WRITE)
        return False

    def _release(self, task):
        """up_read / up_write by ``task``; a free L wakes the head of the queue."""
        lk = self.locks[task.proc]
        self._lane_off(task, lay.LANE_HOLD)
        task.holding = False
        held = self.now - task.t_grant
        if lk.writer is task:
            lk.writer = None
            self._record(task, lay.M_HOLD_WRITER, held)
        else:
            lk.nreaders -= 1
            self._record(task, lay.M_HOLD_HP if task.kind == TK_HP else lay.M_HOLD_FAULT,
                         held)
        if lk.writer is None and lk.nreaders == 0:
            self._wake_waiters(lk)

    def _wake_waiters(self, lk):
        if not lk.queue:
            return
        head, mode = lk.queue[0]
        if mode == WRITE:
            if not head.woken:           # a writer is only woken; it takes L when it runs
                head.woken = True
                self._wake(head, PC_LOCK)
            return
        if not self.rw_wake_all_readers:  # 4.x: the consecutive readers at the head
            granted = []
            while lk.queue and lk.queue[0][1] == READ:
                granted.append(lk.queue.pop(0)[0])
        else:                            # 5.3+: every queued reader, up to the limit
            granted, rest = [], []
            for entry in lk.queue:
                if entry[1] == READ and len(granted) < self.max_readers_wakeup:
                    granted.append(entry[0])
                else:
                    rest.append(entry)
            lk.queue = rest
            lk.handoff = False
        for task in granted:
            self._grant_read(lk, task)
        if not lk.queue:
            lk.handoff = False

    def _grant_read(self, lk, task):
        """A queued reader is granted: it holds L from now, and runs after ``wake`` and the
        jitter drawn now (with CPUs, once it has one: §14.2); an HP acquisition is judged
        now, its ``inversion_wait`` recorded when it runs (§14.4)."""
        lk.nreaders += 1
        task.holding = True
        task.t_grant = self.now
        self._lane_on(task, lay.LANE_HOLD)
        if task.kind == TK_HP:
            self._judge_inversion(task)
        self._wake(task, PC_LOCK)

    def _writer_runs(self, task):
        """A woken writer runs: it takes L if free, else sleeps again at the head (and
        may set the handoff bit)."""
        lk = self.locks[task.proc]
        task.woken = False
        if lk.writer is None and lk.nreaders == 0:
            lk.queue.pop(0)
            lk.writer = task
            lk.handoff = False
            return True
        if self.rw_handoff and self._handoff_due(task):
            if not lk.handoff:
                self.counters["handoffs"] += 1
            lk.handoff = True
        self._cpu_sleep(task)                # it sleeps again at the head (§14.1 item 1)
        return False

    def _handoff_due(self, task):
        """Has the head writer waited past the handoff timeout?  With ``jiffy_ns > 0`` the
        kernel's ``time_after(jiffies, waiter->timeout)``, ``timeout`` = the request's jiffy
        + ``handoff_jiffies``, on a clock that counts the block's earlier trials (``base``);
        else ``now - t_req > handoff_ns`` in continuous time."""
        if self.jiffy_ns > 0:
            j = self.jiffy_ns
            return (self.base + self.now) // j > (self.base + task.t_req) // j + self.handoff_jiffies
        return self.now - task.t_req > self.handoff_ns
