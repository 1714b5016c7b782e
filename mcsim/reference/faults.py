"""LP page faults: passes, their programs, the retry and ``TRIED`` (docs/model.md §2.4,
§11.3, §11.4).

A fault is one or more *passes*.  A pass takes its lock (pass 1 ``first_lock``, later
passes ``retry_lock``; ``vma`` falls back to ``L`` when ``V`` is write-locked), then runs a
program of steps read from the scenario record: ``fault_cpu`` and the kind's steps on
pass 1; ``minor_cpu`` and the re-read or re-validation steps on a retry pass.  A step runs
under the pass's lock iff the pass is ``TRIED``, the step has no column, or the kernel's
column says so; otherwise the lock is dropped before it.  A dropped pass returns
``VM_FAULT_RETRY`` (the next pass starts at once) unless the drop was the dirty-throttling
one of a ``dirty_completes`` kernel, which ends the fault.

>>> import mcsim
>>> r = mcsim.run_script([{"at": 0, "kind": "fault", "fault": "miss", "bio": "1ms"}],
...                      kernel="6.18", engine="reference")
>>> r.tasks[0].waits, r.tasks[0].done      # V pass (drops for the IO), TRIED pass on L
([0, 0], 1000000)
"""
from __future__ import annotations

from .. import layout as lay
from ..policies import (ARG_BIO, ARG_CPU, ARG_DIRTY, ARG_EVICT_BIO, ARG_MINOR, ARG_MKWRITE,
                        BL_NONE, FAULT_KINDS, FK_MKWRITE_FAST, FK_MKWRITE_SLOW, OP_CPU,
                        OP_SLEEP, OP_SUBMIT, OP_WAIT_IO, OP_WAIT_PAGE, REREAD_PROGRAM,
                        WRITE_FAULT_KINDS)
from ..scenario import LOCK_VMA, TK_BG
from .base import BIO_BG, BIO_NOTIFY_NONE, BIO_WAKE_OWNER, EV_RUN, PC_LOCK, PC_OP, Task


class FaultMixin:
    """The fault state machine, driven by the record's programs and kernel flags."""

    def _fault_start(self, task):
        """A fault arrives; a kind with ``page_bio`` also starts another context's bio for
        its page (a read that locked it, or writeback), which enters the gate now.  Then a
        thread's fault step runs its ``lead`` before its first pass (§14.6)."""
        self.counters["faults"] += 1
        self.counters["faults_" + FAULT_KINDS[task.fault]] += 1
        if self.page_bio[task.fault]:
            page = Task(self._new_id(), TK_BG, bio=task.bio, counted=task.counted)
            page.page_waiter = task
            task.page_ready = False
            self.alive += 1
            self.alive_counted += page.counted     # it arrives with its fault (§12.3)
            if self._gate_enter(page):
                self._issue(page, page.bio, BIO_BG)
        if task.lead > 0:                          # a step's lead runs first (§14.6)
            self._lead(task)
            return
        self._fault_pass(task)

    def _fault_pass(self, task):
        """Start a pass: take V (unless write-locked) or request L for read; a retry on L
        is a plain newcomer (it queues behind a waiting writer)."""
        task.pc = PC_LOCK
        lock = self.first_lock if task.passes == 1 else self.retry_lock
        task.pass_vma = lock == LOCK_VMA and self._vma_read_lock(task)
        if task.pass_vma:
            self._fault_runs(task, 0)
        elif self._read_request(task):
            task.holding, task.t_grant = True, self.now
            self._lane_on(task, lay.LANE_HOLD)
            self._fault_locked(task)
        else:
            self._cpu_sleep(task)                  # queued for L (§14.1 item 1)

    def _fault_locked(self, task):
        """An L pass runs holding L."""
        self._lane_off(task, lay.LANE_WAIT)
        wait = self.now - task.t_req
        self._record(task, lay.M_FAULT_LOCK_WAIT, wait)
        self._fault_runs(task, wait)

    def _fault_runs(self, task, wait):
        """The pass holds its lock: build its program and advance."""
        task.waits.append(wait)
        task.dropped = task.completed = False
        task.ip = 0
        if task.passes == 1:
            task.major = self.major[task.fault]
            task.program = [(OP_CPU, -1, BL_NONE, ARG_CPU)] + self.programs[task.fault]
        else:
            if task.tried:
                self.counters["tried_passes"] += 1
            task.major = False
            task.program = [(OP_CPU, -1, BL_NONE, ARG_MINOR)] + self._retry_steps(task)
        self._advance(task)

    # ------------------------------------------------------------------ retry passes
    def _retry_steps(self, task):
        """The first retry pass re-reads a page that is not uptodate (kernels that keep no
        page; not after a drop before dirty throttling, whose page is mapped already) or
        redoes a failed re-validation's mkwrite (kernels that keep it).  Later passes do
        neither, and no retry pass throttles dirty pages again."""
        if task.passes != 2:
            return []
        if not self.keeps_page:
            if task.dirty_retry or not self._not_uptodate(task):
                return []
            self.counters["evictions"] += 1
            task.major = True
            return list(REREAD_PROGRAM)
        if task.fault in WRITE_FAULT_KINDS and self._revalidation_fails(task):
            self.counters["revalidate_fails"] += 1
            return [step for step in self.programs[task.fault] if step[0] != OP_SLEEP]
        return []

    def _not_uptodate(self, task):
        """Decided once per fault (random mode): the eviction hazard over the gap since the
        drop, then a ``p_retry_miss`` draw; either way a re-read bio from ``device``."""
        if task.evicted < 0:
            miss = False
            if self.sc["evict_per_ns"] > 0:
                e = self.gen.standard_exponential()
                miss = float(self.sc["evict_per_ns"]) * (self.now - task.t_pass_end) > e
            if not miss and self.sc["p_retry_miss"] > 0:
                miss = self.gen.random() < float(self.sc["p_retry_miss"])
                if miss:
                    self.counters["retry_misses"] += 1
            if miss:
                task.evict_bio = self._draw(self.sc["device"])
            task.evicted = int(miss)
        return bool(task.evicted)

    def _revalidation_fails(self, task):
        """RFC v2: the kept page fails re-validation with ``revalidate_fail`` (once per
        fault); the redone mkwrite gets fresh durations.  A writeback wait has nothing to
        redraw: that writeback has completed, so its redone wait is skipped."""
        if task.revalidate_fail < 0:
            fail = False
            if self.sc["revalidate_fail"] > 0:
                fail = self.gen.random() < float(self.sc["revalidate_fail"])
                if fail and task.fault == FK_MKWRITE_SLOW:
                    task.bio = self._draw(self.sc["device"])
                elif fail and task.fault == FK_MKWRITE_FAST:
                    task.mkwrite = self._draw(self.sc["mkwrite_fast"])
            task.revalidate_fail = int(fail)
        return bool(task.revalidate_fail)

    # ------------------------------------------------------------------ running steps
    def _operand(self, task, arg):
        return {ARG_BIO: task.bio, ARG_MKWRITE: task.mkwrite, ARG_CPU: task.cpu,
                ARG_MINOR: task.minor, ARG_EVICT_BIO: task.evict_bio,
                ARG_DIRTY: task.dirty}[arg]

    def _drop(self, task):
        """Release the pass's lock before a step (``release_fault_lock()``)."""
        if task.holding:
            self._release(task)
        else:
            self._vma_read_unlock(task)
        task.dropped = True

    def _advance(self, task):
        """Run the pass's steps until one sleeps; at the end, finish or retry."""
        prog = task.program
        while task.ip < len(prog):
            op, col, blame, arg = prog[task.ip]
            if op == OP_WAIT_PAGE and task.page_ready:
                task.ip += 1                       # the other bio is done: nothing to drop
                continue
            locked = task.tried or col < 0 or self.policy[col]
            dropped_here = not locked and (task.holding or task.holding_vma)
            if dropped_here:
                self._drop(task)
            if op == OP_CPU or op == OP_SLEEP:
                task.ip += 1
                if op == OP_SLEEP and dropped_here:
                    # fault_dirty_shared_page() drops after mapping the page: the fault
                    # ends (VM_FAULT_COMPLETED) or its retry finds the PTE in place
                    task.completed = bool(self.dirty_completes)
                    task.dirty_retry = True
                duration = self._operand(task, arg)
                if duration > 0:
                    task.pc = PC_OP
                    if op == OP_SLEEP:             # balance_dirty_pages()
                        self.counters["dirty_throttles"] += 1
                        self._block(task, blame)
                        duration = self._sleep_end(task, duration)
                    self._schedule(self.now + duration, EV_RUN, task)
                    if op == OP_SLEEP:             # after its timer is set (§14.1 item 4);
                        self._cpu_sleep(task)      # a CPU stretch keeps the CPU
                    return                         # resumes in _run at PC_OP
            elif op == OP_SUBMIT:
                if not self._gate_enter(task):
                    self._block(task, blame)
                    self._cpu_sleep(task)          # in the gate's queue (§14.1 item 2)
                    return                         # resumes in _run at PC_GATE
                self._submit_issue(task)
            else:
                if op == OP_WAIT_PAGE:
                    task.waiting_page = True
                    self._lane_on(task, lay.LANE_IO)
                self._block(task, blame)
                self._cpu_sleep(task)              # waits for its bio or page (item 3)
                return                             # resumes in _run at PC_WAITED
        self._end_pass(task)

    def _sleep_end(self, task, duration):
        """The end of a dirty-throttling sleep is a wake-up (§13.2) whose time is set when the
        sleep starts (the sleep's timer), so its jitter is drawn now; a const jitter draws
        nothing.  The sleep's end has no ``wake`` (§4.1 never gave it one; §13.2 keeps
        results at ``wake_jitter = 0``)."""
        return duration + self._draw(self.wake_jitter)

    def _submit_issue(self, task):
        op, col, blame, arg = task.program[task.ip]
        nxt = task.ip + 1
        waited = nxt < len(task.program) and task.program[nxt][0] == OP_WAIT_IO
        self._issue(task, self._operand(task, arg), BIO_WAKE_OWNER if waited else BIO_NOTIFY_NONE)
        task.ip += 1

    def _end_pass(self, task):
        """Dropped and not completed: ``VM_FAULT_RETRY``, the next pass starts at once; it
        is ``TRIED`` unless ``tried_on_major`` and this pass held V and was not major."""
        if task.dropped and not task.completed:
            self.counters["retries"] += 1
            task.tried = not (self.tried_on_major and task.pass_vma and not task.major)
            task.passes += 1
            task.t_pass_end = self.now
            self._fault_pass(task)
            return
        if task.holding:
            self._release(task)
        elif task.holding_vma:
            self._vma_read_unlock(task)
        latency = self.now - task.t_arrive
        self._record(task, lay.M_FAULT_LATENCY, latency)
        self._record(task, lay.M_FAULT_PASSES, task.passes)
        if task.counted:
            self.trial["faults"] += 1
            self.trial["fault_latency_sum"] += latency
        self._finish(task)
