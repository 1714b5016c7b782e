"""Thread timers coalesced per CPU (docs/model.md §14.8): with ``cpus > 0``,
``cpu_affinity > 0`` and ``timer_slack > 0``, a closed-loop thread's think time above 0 is
a timer armed on the CPU the thread last ran on.  It fires when the think ends, as before;
it has *expired* from ``timer_slack`` before that.  When a timer fires on CPU ``c`` every
other timer armed on ``c`` that has expired fires with it: the threads of that one firing
start their steps in the order their timers were armed, all before any of them runs.

- the first context of a firing takes ``c`` if it is idle, else §14.7 places it (target
  ``c``, its last CPU);
- each later one takes the lowest-numbered idle CPU and runs a ``wake_remote`` draw later;
  with no CPU idle it enters ``c``'s run queue;
- a context that takes a CPU runs through an event (at once for the first), so that the
  firing has woken all of them before the first runs;
- a thread fired early: its own timer, when its time comes, does nothing.

Here a thread's armed timer is a :class:`Timer`; the step event carries the timer that
scheduled it, and an event whose timer is no longer its thread's is spent.

>>> t = Timer(cpu=0, soft=950, order=3)
>>> (t.cpu, t.soft, t.order)
(0, 950, 3)
"""
from __future__ import annotations

from dataclasses import dataclass

from .base import EV_RUN, EV_STEP


@dataclass
class Timer:
    """A thread's pending step: ``cpu`` the CPU its timer is armed on (None: no timer, a
    think of 0 or a thread that never ran), ``soft`` when it expires, ``order`` its place
    among the trial's armings."""
    cpu: int | None
    soft: int
    order: int


class TimerMixin:
    """Timers armed per CPU, one firing waking every expired one (§14.8)."""

    def _reset_timers(self):
        self.armings = 0
        self.firing_cpu = None        # while one firing's threads start: its CPU
        self.firing_placed = 0        # and how many of its contexts became runnable

    def _arm(self, task, th, think):
        """The thread's step ended, its think drawn: its next step's event, carrying its
        timer (a timer on its last CPU when it sleeps, think > 0, and has run)."""
        self.armings += 1
        cpu = th.last_cpu if think > 0 else None
        th.timer = Timer(cpu, self.now + think - self.timer_slack, self.armings)
        self._schedule(self.now + think, EV_STEP, th.timer, task.thread)

    def _timer_fires(self, k, timer):
        """Thread ``k``'s step event: the one firing of its CPU."""
        th = self.thread_states[k]
        if timer is not None and timer is not th.timer:
            return                                      # fired early: spent
        th.timer = None
        if timer is None or timer.cpu is None:
            self._step(k)
            return
        fired = [s for s in self.thread_states if s.timer is not None
                 and s.timer.cpu == timer.cpu and s.timer.soft <= self.now]
        if not fired:
            self._step(k)
            return
        self.counters["timers_coalesced"] += len(fired)
        order = sorted([(timer.order, th)] + [(s.timer.order, s) for s in fired],
                       key=lambda pair: pair[0])
        for _, s in order:
            s.timer = None
        self.firing_cpu, self.firing_placed = timer.cpu, 0
        for _, s in order:
            self._step(s.index)
        self.firing_cpu = None

    def _fired_place(self, task, pc):
        """A context of the firing becomes runnable; False: it does not run now."""
        c = self.firing_cpu
        first = self.firing_placed == 0
        self.firing_placed += 1
        idle = [d for d, holder in enumerate(self.cpu_holder) if holder is None]
        if first:
            took = self._place(task, c, pc)
            delay = 0
        elif idle:
            took = idle[0]
            self._hold(task, took)
            self.counters["wakees_remote"] += 1
            delay = self._draw(self.wake_remote)
        else:
            self._queue_on(task, c, pc)
            took = None
        if took is not None:
            task.pc = pc
            self._schedule(self.now + delay, EV_RUN, task)
        return False
