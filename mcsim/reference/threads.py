"""Closed-loop threads, ``ps`` scans and window trials (docs/model.md §12.2–§12.5).

A thread runs its program of steps forever: a step creates one task like an arrival of its
kind (``fault``, ``write``, ``cmdline``, ``bg_io``), drawing its fields (§12.5); when that
task finishes, the thread draws the step's think time and schedules its next step at
``now + think``, always through an event.  A scan is a run of ``cmdline`` steps from one
flagged ``SCAN_START`` to one flagged ``SCAN_END``.

A window trial starts empty at time 0 on its own stream, runs ``warmup`` then ``window``
ns, measures only the tasks that start inside the window, and ends at the first event after
which ``now >= warmup + window``, no such task is alive and no scan or iteration whose first
step started inside the window is still open: each is followed to its end (§12.3).

>>> import numpy as np
>>> from mcsim.params import validate
>>> from mcsim.scenario import TRIAL_WINDOW, TK_BG, compile_scenario
>>> from mcsim.reference import ReferenceEngine
>>> rec = compile_scenario(validate(device="const(1ms)"))
>>> r = rec[0]
>>> r["trial_kind"], r["open_stream"] = TRIAL_WINDOW, 0
>>> r["warmup_ns"], r["window_ns"] = 0, 10_000_000
>>> r["n_threads"], r["n_steps"] = 1, 1
>>> r["threads"][0]["n_steps"] = 1     # one bg_io step, think 0: bios at 0, 1, …, 9 ms;
>>> r["steps"][0]["kind"] = TK_BG       # the one ending at 10 ms ends the trial
>>> raw = ReferenceEngine(rec, np.random.PCG64DXSM(0)).run_trials(1)
>>> raw.counters["steps"], raw.counters["thread_iterations_0"], raw.counters["sim_ns"]
(10, 10, 10000000)
"""
from __future__ import annotations

from .. import layout as lay
from ..policies import FK_HIT, FK_MKWRITE_FAST, WRITE_FAULT_KINDS
from ..scenario import FAULT_MIXED, HOLD_DEFAULT, SCAN_END, SCAN_START, TK_FAULT, TK_HP, TK_WRITER
from .base import EV_ARRIVAL, EV_STEP, Task


class ThreadState:
    """Where a thread stands: the step it runs, whether its current iteration counts, and
    the scan it is in."""

    def __init__(self, index, rec):
        self.index = index
        self.first = int(rec["first_step"])
        self.n = int(rec["n_steps"])
        self.ip = 0                  # the step running (or next to start), 0 … n − 1
        self.iter_counted = False    # the current iteration's first step was counted (it
                                     # stays open, holding the trial, until its last step ends)
        self.in_scan = False
        self.scan_t0 = 0             # the scan's first read's request (-1: not made yet)
        self.scan_wait = 0           # the sum of its reads' hp_wait so far
        self.scan_counted = False    # the scan's first read was counted
        self.last_cpu = None         # per-CPU run queues: its steps' last CPU (§14.7)
        self.timer = None            # its armed timer, with timer_slack > 0 (§14.8)


class ThreadMixin:
    """The steps of closed-loop threads and the window-trial driver."""

    # ------------------------------------------------------------------ window trials
    def _window_trial(self):
        """One window trial (§12.3): the open stream's first arrival at 0, then each thread's
        first step after its ``start`` draw, in thread order; it ends once past the window
        with no counted task alive and no counted scan or iteration open; ``sim_ns`` and
        ``busy_ns`` add ``window``; events in flight at the end are dropped with the trial."""
        end = self.warmup + self.window
        self._reset_trial()
        if self.open_stream:
            self._schedule(0, EV_ARRIVAL, None)
        self.thread_states = [ThreadState(k, th) for k, th in enumerate(self.threads)]
        for k, th in enumerate(self.threads):
            self._schedule(self._draw(th["start"]), EV_STEP, None, k)
        events = self._run_events(lambda: self.now >= end and self.alive_counted == 0
                                  and self.open_counted == 0)
        self._end_trial(events, self.window, 0)
        # the jiffy clock's base adds the trial's busy and idle time, as recorded (§11.6)
        self.base += self.window

    # ------------------------------------------------------------------ steps
    def _step(self, k):
        """Thread ``k`` starts its current step: one task, its draws (§12.5), then it runs."""
        th = self.thread_states[k]
        st = self.steps[th.first + th.ip]
        kind = int(st["kind"])
        task = Task(self._new_id(), kind, counted=self._counted_at(self.now), thread=k,
                    proc=int(st["process"]), vma=int(st["vma"]))
        self.counters["steps"] += 1
        if th.ip == 0:
            th.iter_counted = task.counted
            self.open_counted += task.counted
        if kind == TK_FAULT:
            task.proc = self.vma_process[task.vma]      # a fault takes its VMA's process's L
            self._draw_step_fault(task, int(st["fault"]))
            task.lead = self._draw(st["lead"])          # after the fault's draws (§14.6)
        elif kind == TK_WRITER:
            task.same_vma = int(task.vma >= 0)
            task.hold = self._draw_hold(st["hold"], "writer_hold")
        elif kind == TK_HP:
            task.hold = self._draw_hold(st["hold"], "hp_hold")
            if int(st["scan"]) & SCAN_START:
                self.counters["scans"] += 1
                if th.in_scan and th.scan_counted:
                    self.open_counted -= 1      # a scan left without its end (an odd record)
                # scan_time runs from the first read's request (§12.4), made when it runs
                th.in_scan, th.scan_t0, th.scan_wait = True, -1, 0
                th.scan_counted = task.counted
                self.open_counted += task.counted
        else:
            task.bio = self._draw(self.sc["device"])
        lets_go = self._cpu_step(task, th)
        self._start(task)
        if lets_go:
            self._cpu_step_started(th)

    def _draw_hold(self, dist, default):
        return self._draw(self.sc[default] if int(dist["kind"]) == HOLD_DEFAULT else dist)

    def _draw_step_fault(self, task, fault):
        """A fault step's draws: a mixed one draws as an open arrival's fault does; a fixed
        kind draws its bio or mkwrite, then cpu and minor, then (write kinds) the dirty
        throttling of §11.8 item 3."""
        if fault == FAULT_MIXED:
            self._draw_fault(task)
            return
        sc, gen = self.sc, self.gen
        task.fault = fault
        if fault not in (FK_HIT, FK_MKWRITE_FAST):
            task.bio = self._draw(sc["device"])
        if fault == FK_MKWRITE_FAST:
            task.mkwrite = self._draw(sc["mkwrite_fast"])
        task.cpu = self._draw(sc["fault_cpu"])
        task.minor = self._draw(sc["minor_cpu"])
        if (fault in WRITE_FAULT_KINDS and sc["p_dirty_throttle"] > 0
                and gen.random() < sc["p_dirty_throttle"]):
            task.dirty = self._draw(sc["dirty_throttle"])

    def _thread_next(self, task):
        """The step's task finished: close the scan if this read ends one, count the
        iteration if this was the last step, draw the step's think time and schedule the
        next step (think 0 included: through an event, after what is already scheduled)."""
        th = self.thread_states[task.thread]
        st = self.steps[th.first + th.ip]
        if task.kind == TK_HP and th.in_scan:
            th.scan_wait += task.wait_sum
            if int(st["scan"]) & SCAN_END:
                th.in_scan = False
                if th.scan_counted:
                    self.open_counted -= 1
                    self.samples[lay.M_SCAN_TIME].append(self.now - th.scan_t0)
                    self.samples[lay.M_SCAN_WAIT].append(th.scan_wait)
        think = self._draw(st["think"])
        self._cpu_thread_keeps(task, th, think)
        th.ip += 1
        if th.ip == th.n:
            th.ip = 0
            if th.iter_counted:
                self.open_counted -= 1
                if task.thread < lay.N_THREAD_COUNTERS:
                    self.counters[f"thread_iterations_{task.thread}"] += 1
        if self.timers:                         # a timer on its last CPU (§14.8)
            self._arm(task, th, think)
        else:
            self._schedule(self.now + think, EV_STEP, None, task.thread)

