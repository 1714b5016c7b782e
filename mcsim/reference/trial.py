"""Trials: the event loop, random arrivals, scripted runs and the invariants (docs/model.md
§4, §11.8, §11.9, §12.3, §12.6).

Random mode runs regenerative cycles (the open model's default): a trial starts with an
arrival into an empty system and ends when it is empty again; the gap to the already drawn
next arrival is idle time.  A record with ``trial_kind`` window runs window trials instead
(:mod:`.threads`).  Draws follow §4.3, §11.8 and §12.5 in exactly this order (the compiled
core draws in the same order).  Script mode plays given rows with no draw at all.

>>> import numpy as np
>>> from mcsim.params import validate
>>> from mcsim.reference import ReferenceEngine
>>> from mcsim.scenario import compile_scenario
>>> eng = ReferenceEngine(compile_scenario(validate(kernel="6.18", p_dirty_throttle=0.5)),
...                       np.random.PCG64DXSM(3), check_invariants=True)
>>> raw = eng.run_trials(300)
>>> raw.counters["trials"], raw.counters["tried_passes"] > 0
(300, True)
"""
from __future__ import annotations

from .. import layout as lay
from ..errors import ParameterError, SimulationError
from ..numeric import INVARIANTS, SATURATED, check_script_rows, sat_add, to_ns
from ..policies import (FK_ASYNC_RA, FK_HIT, FK_LOCKED, FK_MISS, FK_MKWRITE_FAST,
                        FK_MKWRITE_SLOW, FK_MKWRITE_WRITEBACK, OP_WAIT_PAGE)
from ..scenario import TK_BG, TK_FAULT, TK_HP, TK_WRITER
from .base import (BIO_BG, EV_ARRIVAL, EV_BIO_DONE, EV_RUN, EV_STEP, PC_GATE, PC_HOLD_DONE,
                   PC_LEAD, PC_LOCK, PC_SERVE, PC_SERVE_END, PC_START, PC_VMA, PC_WAITED,
                   WRITE, RawResult, Task)
from .cpus import CPU_INVARIANTS


class TrialMixin:
    """Dispatch, the random and scripted drivers, and the per-event checks."""

    # ------------------------------------------------------------------ dispatch
    def _start(self, task):
        """A task arrives (or a thread's step starts) at ``self.now``: it is alive from now
        and its latency counts from now; it starts now, or, with no idle CPU, when it runs
        (§14.2 (b))."""
        self.alive += 1
        self.alive_counted += task.counted
        task.t_arrive = self.now
        if self._started_on_cpu(task):
            self._begin(task)

    def _begin(self, task):
        """The task starts as §2.2/§12.2 say."""
        if task.kind == TK_HP:
            self._hp_start(task)
        elif task.kind == TK_WRITER:
            self._writer_start(task)
        elif task.kind == TK_BG:
            self.counters["bg_bios"] += 1
            if self._gate_enter(task):
                self._issue(task, task.bio, BIO_BG)
        else:
            self._fault_start(task)

    def _run(self, task):
        """A task runs again: after a wake-up, a CPU stretch, a sleep or a hold; or a
        queued arrival or step starts (§14.3)."""
        if not self._cpu_resumes(task):
            return                                # a timed sleep ended; no idle CPU
        pc = task.pc
        if pc == PC_START:
            self._begin(task)
        elif pc == PC_HOLD_DONE:
            self._hold_done(task)
        elif pc == PC_LOCK:
            if task.kind == TK_WRITER:
                if self._writer_runs(task):
                    self._took_write(task)
            elif task.kind == TK_HP:
                self._hp_runs(task)
            else:
                self._fault_locked(task)
        elif pc == PC_VMA:                        # V's last reader left
            self._writer_in_vma(task)
        elif pc in (PC_SERVE, PC_SERVE_END, PC_LEAD):   # outside the locks (§14.6)
            self._outside_runs(task)
        elif pc == PC_GATE:                       # handed a gate slot: issue the bio
            self._gate_granted(task)
            if task.kind == TK_BG:
                self._issue(task, task.bio, BIO_BG)
            else:
                self._unblock(task)
                self._submit_issue(task)
                self._advance(task)
        elif pc == PC_WAITED:                     # the awaited bio or page completed
            self._unblock(task)
            if task.program[task.ip][0] == OP_WAIT_PAGE:
                self._lane_off(task, lay.LANE_IO)
            task.ip += 1
            self._advance(task)
        else:                                     # PC_OP: a CPU stretch or a sleep ended
            self._unblock(task)
            self._advance(task)

    def _dispatch(self, ev, task, arg):
        self.running = task if ev == EV_RUN else None   # the waker, for §14.7
        if ev == EV_RUN:
            self._run(task)
        elif ev == EV_BIO_DONE:
            self._bio_done(task, arg)
        elif ev == EV_STEP:
            if self.timers:
                self._timer_fires(arg, task)    # task: the step's timer (§14.8)
            else:
                self._step(arg)
        else:
            self._arrive()

    # ------------------------------------------------------------------ random mode
    def _arrive(self):
        """A Poisson arrival: draw its type and attributes, then the next gap (this order
        of draws is part of the contract with the compiled engine).  The open stream
        belongs to process 0: its faults are on VMA 0, its same-VMA writers change VMA 0
        (§12.1)."""
        sc, gen = self.sc, self.gen
        task = Task(self._new_id(), TK_BG, counted=self._counted_at(self.now))
        u = gen.random()
        if u < sc["cut_hp"]:
            task.kind = TK_HP
            task.hold = self._draw(sc["hp_hold"])
        elif u < sc["cut_lp"]:
            if gen.random() < sc["writer_ratio"]:
                task.kind = TK_WRITER
                task.hold = self._draw(sc["writer_hold"])
                if self.vma_writers and sc["p_same_vma"] > 0:
                    task.same_vma = int(gen.random() < sc["p_same_vma"])
                task.vma = 0 if task.same_vma else -1
            else:
                task.kind = TK_FAULT
                task.proc = self.vma_process[0]
                self._draw_fault(task)
        else:
            task.bio = self._draw(sc["device"])
        gap = to_ns(float(sc["arrival_mean_ns"]) * gen.standard_exponential())
        self._schedule(self.now + gap, EV_ARRIVAL, None)
        self._start(task)

    def _draw_fault(self, task):
        sc, gen = self.sc, self.gen
        write = gen.random() < sc["write_fault_ratio"]
        if write:
            w = gen.random()
            if w < sc["cut_mkwrite_slow"]:
                task.fault = FK_MKWRITE_SLOW
                task.bio = self._draw(sc["device"])
            elif w < sc["cut_mkwrite_writeback"]:
                task.fault = FK_MKWRITE_WRITEBACK
                task.bio = self._draw(sc["device"])
            else:
                task.fault = FK_MKWRITE_FAST
                task.mkwrite = self._draw(sc["mkwrite_fast"])
        else:
            k = gen.random()
            task.fault = (FK_MISS if k < sc["cut_miss"] else
                          FK_ASYNC_RA if k < sc["cut_async_ra"] else
                          FK_LOCKED if k < sc["cut_locked"] else FK_HIT)
            if task.fault != FK_HIT:
                task.bio = self._draw(sc["device"])
        task.cpu = self._draw(sc["fault_cpu"])
        task.minor = self._draw(sc["minor_cpu"])
        if write and sc["p_dirty_throttle"] > 0 and gen.random() < sc["p_dirty_throttle"]:
            task.dirty = self._draw(sc["dirty_throttle"])

    def run_trials(self, n_trials: int) -> RawResult:
        """Simulate ``n_trials`` trials: regenerative cycles, or window trials when the
        record's ``trial_kind`` says so (:meth:`_window_trial`).

        A cycle starts with an arrival into an empty system and ends when the system is
        empty again (L free, nobody queued, no bio waiting or in flight).  The arrival that
        was already drawn for after that moment is the first arrival of the next trial: the
        exponential gap is memoryless, so trials are independent and identically
        distributed, and the gap is counted as idle simulated time.  The jiffy clock of the
        handoff timeout continues over the trials of this call (``base``).
        """
        self.base = 0
        for _ in range(n_trials):
            if self.window_trials:
                self._window_trial()
            else:
                self._cycle()
        return RawResult(self.hists, self.counters, self.trial_rows)

    def _run_events(self, done) -> int:
        """Dispatch events in ``(time, seq)`` order until ``done()`` holds after one (or
        nothing is pending); the number dispatched.  Invariants are checked after each
        event when asked; ``max_trial_events`` bounds the trial."""
        limit = int(self.sc["max_trial_events"])
        events = 0
        while self.heap:
            t, _, ev, task, arg = self._pop()
            self.now = t
            self._dispatch(ev, task, arg)
            events += 1
            if self.check_invariants:
                self._check()
            if done():
                break
            if events >= limit:
                raise self._overloaded(limit)
        return events

    def _cycle(self):
        self._reset_trial()
        self._schedule(0, EV_ARRIVAL, None)
        events = self._run_events(lambda: self.alive == 0 and self.inflight == 0)
        next_arrival = self._pop()[0]
        assert not self.heap, "events pending in an empty system"
        assert self.cpu_idle == self.cpus, "a CPU held in an empty system"   # §14.5
        assert not self.affine or self.cpu_holder == [None] * self.cpus
        self._end_trial(events, self.now, next_arrival - self.now)
        self.base += next_arrival

    @staticmethod
    def _overloaded(limit):
        return SimulationError(
            f"a trial reached max_trial_events={limit} events without the "
            "system emptying: the configuration is overloaded (LP IO or lock "
            "demand above capacity)")

    def _end_trial(self, events, busy, idle):
        c = self.counters
        c["trials"] += 1
        c["events"] = sat_add(c["events"], events)
        c["busy_ns"] = sat_add(c["busy_ns"], busy)
        c["sim_ns"] = sat_add(c["sim_ns"], busy + idle)
        c["max_trial_events"] = max(c["max_trial_events"], events)
        for hist, values in zip(self.hists, self.samples):
            hist.add_trial(values)
        if self.record_trials:
            self.trial.update(events=events, busy_ns=busy, idle_ns=idle)
            # the per-trial sums saturate in the core (this engine's ints never overflow)
            self.trial_rows.append([min(self.trial[f], SATURATED) for f in lay.TRIAL_FIELDS])

    # ------------------------------------------------------------------ invariants
    def _check(self):
        """Safety and liveness properties that must hold after every event, in the order
        of :data:`mcsim.numeric.INVARIANTS` (the compiled core checks the same ones)."""
        broken = self._broken_invariant()
        if broken is not None:
            raise AssertionError(f"mcsim engine: invariant broken: {INVARIANTS[broken]}")
        broken = self._broken_cpu()
        if broken is not None:
            raise AssertionError(f"mcsim engine: invariant broken: {CPU_INVARIANTS[broken]}")

    def _broken_invariant(self):
        for lk in self.locks:
            broken = self._broken_lock(lk)
            if broken is not None:
                return broken
        for vl in self.vmas:
            if vl.writer is not None and self.locks[vl.writer.proc].writer is not vl.writer:
                return 7                               # V write-locked without its L(W)
            if vl.writer is not None and vl.writer.in_vma and vl.readers > 0:
                return 8
            if vl.waiter is not None and not vl.waiter_woken and not vl.readers:
                return 9
        return None

    def _broken_lock(self, lk):
        """The invariants of one process's ``L`` (and the gate's, checked with each)."""
        if lk.writer is not None and lk.nreaders > 0:
            return 0                                   # reader and writer hold L
        if not (lk.nreaders >= 0 and 0 <= self.inflight <= self.depth):
            return 1
        if lk.writer is None and lk.nreaders == 0 and lk.queue:
            head, mode = lk.queue[0]
            if not (mode == WRITE and head.woken):
                return 2                               # L free, nobody queued woken
        if self.gate_queue and self.inflight != self.depth:
            return 3
        if ((lk.handoff and not self.rw_handoff)
                or (self.counters["reader_steals"] and not self.rw_reader_steal)):
            return 4                                   # a rule of a later era was used
        if not self.rw_wake_all_readers:
            # 4.x: a reader is queued only behind a writer or while the lock is write-held
            writer_ahead = lk.writer is not None
            for _, mode in lk.queue:
                if mode == WRITE:
                    writer_ahead = True
                elif not writer_ahead:
                    return 5
        if lk.handoff and not lk.queue:
            return 6
        return None

    # ------------------------------------------------------------------ scripted mode
    def run_script(self, rows):
        """Run scripted tasks (no randomness).  Returns ``(tasks, timeline)``: the
        :class:`~mcsim.reference.base.Task` objects (``waits`` holds each lock
        acquisition's wait in order, ``done`` the end time) and a list of
        ``(task, lane, start, end)`` intervals."""
        check_script_rows(rows)
        for name in ("wake_jitter", "cpu_switch", "io_cpu"):     # §13.2, §14.5, §14.6
            kind = int(self.sc[name]["kind"])
            if kind != 0:
                raise ParameterError(name, f"kind {kind}",
                                     "a constant in scripted runs (a script draws nothing)")
        if self.cpu_affinity not in (0.0, 1.0):                   # §14.7
            raise ParameterError("cpu_affinity", self.cpu_affinity,
                                 "0 or 1 in scripted runs (a script draws nothing)")
        self._reset_trial()
        self.base = 0
        self.reuse_ids = False
        self.timeline = []
        tasks = []
        for row in rows:
            task = Task(self._new_id(), int(row["kind"]), fault=int(row["fault"]),
                        hold=int(row["hold"]), cpu=int(row["cpu"]), minor=int(row["minor"]),
                        bio=int(row["bio"]), mkwrite=int(row["mkwrite"]),
                        dirty=int(row["dirty"]), evicted=int(row["evicted"]),
                        evict_bio=int(row["evict_bio"]),
                        revalidate_fail=int(row["revalidate_fail"]),
                        same_vma=int(row["same_vma"]), fallback=int(row["fallback"]))
            tasks.append(task)
            self._schedule(int(row["at"]), EV_ARRIVAL, task)
        while self.heap:
            t, _, ev, task, arg = self._pop()
            self.now = t
            if ev == EV_ARRIVAL:
                self.running = None
                self._start(task)
            else:
                self._dispatch(ev, task, arg)
            if self.check_invariants:
                self._check()
        return tasks, sorted(self.timeline, key=lambda r: (r[0], r[2], r[1]))
