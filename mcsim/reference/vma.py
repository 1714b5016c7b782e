"""The per-VMA locks ``V_v``, one per VMA (docs/model.md §11.2, §12.1), and the LP writers
that take their process's ``L`` for write and, on kernels with ``vma_writers``, write-lock
the VMA they change.

- A fault pass takes ``V`` at once (readers + 1, no wait, no event) unless ``V`` is
  write-locked: then it *falls back* to ``L`` (counter ``fallbacks``).
- Releasing ``V`` records ``hold_vma``; the last reader wakes a writer waiting in
  ``vma_start_write()``.
- A writer requests ``L`` for write as in §2.1.  A ``same_vma`` writer on a ``vma_writers``
  kernel then write-locks ``V`` until it releases ``L`` (``vma_end_write_all()`` runs in
  ``mmap_write_unlock()``, before ``up_write()``), and while ``V`` has readers sleeps holding
  ``L(W)``: blame ``vma_start_write``.

>>> from mcsim.params import validate
>>> from mcsim.reference import ReferenceEngine
>>> from mcsim.reference.base import Task
>>> from mcsim.scenario import compile_scenario
>>> eng = ReferenceEngine(compile_scenario(validate(kernel="6.18")))
>>> eng._reset_trial()
>>> fault, other = Task(0, 2), Task(1, 2)
>>> eng._vma_read_lock(fault), eng.vmas[0].readers
(True, 1)
>>> eng.vmas[0].writer = Task(2, 1)             # an mprotect() of this VMA write-locked it
>>> eng._vma_read_lock(other), eng.counters["fallbacks"]
(False, 1)
"""
from __future__ import annotations

from .. import layout as lay
from ..policies import BL_VMA_START_WRITE
from ..scenario import TK_WRITER
from .base import EV_RUN, PC_HOLD_DONE, PC_VMA


class VmaLock:
    """One VMA's lock: its readers (fault passes), the writer holding its process's
    ``L(W)`` that write-locked it, and that writer while it waits for the readers."""

    def __init__(self):
        self.readers = 0
        self.writer = None
        self.waiter = None
        self.waiter_woken = False


class VmaMixin:
    """Each V_v's readers and write-locker; the writer tasks.  A task's VMA is
    ``self.vmas[task.vma]``."""

    def _reset_vma(self):
        self.vmas = [VmaLock() for _ in range(self.n_vmas)]

    # ------------------------------------------------------------------ V, read side
    def _vma_read_lock(self, task):
        """``lock_vma_under_rcu()`` for a fault pass: True if it holds V now; False if V is
        write-locked and the pass must fall back to ``L``."""
        vl = self.vmas[task.vma]
        if vl.writer is not None:
            self.counters["fallbacks"] += 1
            return False
        vl.readers += 1
        task.holding_vma = True
        task.t_vma = self.now
        return True

    def _vma_read_unlock(self, task):
        """``vma_end_read()``: the last reader wakes a writer in ``vma_start_write()``."""
        vl = self.vmas[task.vma]
        vl.readers -= 1
        task.holding_vma = False
        self._record(task, lay.M_HOLD_VMA, self.now - task.t_vma)
        if vl.readers == 0 and vl.waiter is not None and not vl.waiter_woken:
            vl.waiter_woken = True
            self._wake(vl.waiter, PC_VMA)

    # ------------------------------------------------------------------ writers
    def _writer_start(self, task):
        self.counters["writes"] += 1
        if self._write_request(task):
            self._took_write(task)
        else:
            self._cpu_sleep(task)                   # queued for L (§14.1 item 1)

    def _took_write(self, task):
        """The writer runs holding L (a writer is never granted while asleep); a same-VMA
        writer then write-locks V and waits for its readers."""
        wait = self.now - task.t_req
        task.holding, task.t_grant = True, self.now
        self._lane_off(task, lay.LANE_WAIT)
        self._lane_on(task, lay.LANE_HOLD)
        self._record(task, lay.M_WRITER_WAIT, wait)
        task.waits.append(wait)
        if task.counted:
            self.trial["writes"] += 1
            self.trial["writer_wait_sum"] += wait
        if not (self.vma_writers and task.same_vma):
            self._hold_for(task, task.hold)
            return
        vl = self.vmas[task.vma]
        vl.writer = task                            # vma_start_write(): V write-locked
        if vl.readers:
            self.counters["vma_writer_waits"] += 1
            vl.waiter, vl.waiter_woken = task, False
            task.pc = PC_VMA
            self._block(task, BL_VMA_START_WRITE)
            self._cpu_sleep(task)                   # §14.1 item 5
            return                                  # the last reader wakes it
        self._writer_in_vma(task)

    def _writer_in_vma(self, task):
        """The writer has V to itself (at once, or woken by V's last reader)."""
        vl = self.vmas[task.vma]
        if vl.waiter is task:
            vl.waiter, vl.waiter_woken = None, False
            self._unblock(task)
        wait = self.now - task.t_grant
        self._record(task, lay.M_VMA_WRITER_WAIT, wait)
        task.waits.append(wait)
        task.in_vma = True
        self._hold_for(task, task.hold)

    def _hold_for(self, task, duration):
        """A writer's or HP reader's critical section; 0 releases in the same call."""
        if duration > 0:
            task.pc = PC_HOLD_DONE
            self._schedule(self.now + duration, EV_RUN, task)
        else:
            self._hold_done(task)

    def _hold_done(self, task):
        if task.kind == TK_WRITER:
            self._writer_done(task)
        else:
            self._hp_release(task)

    def _writer_done(self, task):
        """``mmap_write_unlock()``: V's write lock ends, then L is released."""
        if task.vma >= 0 and self.vmas[task.vma].writer is task:
            self.vmas[task.vma].writer = None
            task.in_vma = False
        self._release(task)
        self._finish(task)
