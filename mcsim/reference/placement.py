"""Per-CPU run queues and wake-up affinity (docs/model.md §14.7): with ``cpus > 0`` and
``cpu_affinity > 0`` the CPUs are numbered, each has its own FIFO run queue, and a context
that becomes runnable has a *target* CPU: for a wake-up by a running context, the CPU that
context runs on; otherwise the CPU the context (or its thread) last ran on; none for a
context that never ran.

- the target idle: it takes it;
- the target busy (or none) and another CPU idle: with probability ``cpu_affinity`` it
  waits in the target's run queue (a uniform draw only when the probability is strictly
  between 0 and 1 and there is a target), else it takes the lowest-numbered idle CPU;
- no CPU idle: it waits in the target's run queue (no target: the lowest-numbered of the
  shortest queues);
- a CPU that frees goes to its own queue's head, else to the head of the longest other
  queue (lowest number on ties), else it becomes idle.

Here a CPU is a slot of :attr:`cpu_holder` (the context holding it, or None) and the waker
is the context whose event runs now (:attr:`running`), looked up among the holders.

>>> import mcsim
>>> rows = [{"at": 0, "kind": "writer", "hold": "10us"},
...         {"at": "1us", "kind": "hp_read", "hold": "5us"}]
>>> r = mcsim.run_script(rows, cpus=2, cpu_affinity=1, cpu_switch="1us", engine="reference")
>>> [t.done for t in r.tasks]   # the read, woken by the writer's release, queues behind it
[10000, 16000]
"""
from __future__ import annotations

from collections import deque

from ..numeric import sat_add
from ..scenario import TK_BG
from .base import EV_RUN, INITIAL_CAPACITY, PC_START, Task


class PlacementMixin:
    """The CPUs as numbered slots with their own run queues (§14.7)."""

    def _reset_placement(self):
        self.cpu_holder = [None] * self.cpus          # the context holding each CPU
        self.cpu_queues = [deque() for _ in range(self.cpus)]   # (context, runnable at)
        self.running = None                           # whose event runs now
        for c in range(self.cpus):
            self.capacity.setdefault(f"cpu{c}", INITIAL_CAPACITY)

    # ------------------------------------------------------------------ where it goes
    def _cpu_held_by(self, ctx):
        """The CPU ``ctx`` holds, or None."""
        for c, holder in enumerate(self.cpu_holder):
            if holder is ctx:
                return c
        return None

    def _last_cpu(self, ctx):
        """The CPU a context last ran on: a thread's step, its thread's (kept across its
        steps); None if it never ran."""
        if isinstance(ctx, Task) and ctx.thread >= 0:
            return self.thread_states[ctx.thread].last_cpu
        return ctx.last_cpu

    def _place(self, ctx, target, pc):
        """``ctx`` becomes runnable with ``target`` (None: no target): the CPU it takes, or
        None if it waits in a run queue (resuming at ``pc``)."""
        idle = [c for c, holder in enumerate(self.cpu_holder) if holder is None]
        if target is not None and target in idle:
            self._hold(ctx, target)
            return target
        if idle:
            if target is not None and self._stays(self.cpu_affinity):
                self.counters["cpu_affine_queued"] += 1
                self._queue_on(ctx, target, pc)
                return None
            self._hold(ctx, idle[0])
            return idle[0]
        if target is None:
            lengths = [len(q) for q in self.cpu_queues]
            target = lengths.index(min(lengths))
        self._queue_on(ctx, target, pc)
        return None

    def _stays(self, p):
        """With the target busy and a CPU idle, does the wakee stay (probability ``p``)?"""
        if p >= 1.0:
            return True
        return self.gen.random() < p

    def _hold(self, ctx, c):
        self.cpu_holder[c] = ctx
        ctx.last_cpu = c
        if isinstance(ctx, Task) and ctx.thread >= 0:
            self.thread_states[ctx.thread].last_cpu = c

    def _queue_on(self, ctx, c, pc):
        ctx.pc = pc
        self.counters["cpu_queued"] += 1
        self._grow(f"cpu{c}", len(self.cpu_queues[c]))
        self.cpu_queues[c].append((ctx, self.now))

    # ------------------------------------------------------------------ §14.2 (a), (b)
    def _placed_wake(self, task, pc):
        """A wake-up: the waker's CPU, or (a completion) the task's last CPU."""
        task.pc = pc
        waker = self._cpu_held_by(self.running) if self.running is not None else None
        target = waker if waker is not None else self._last_cpu(task)
        if self._place(task, target, pc) is not None:
            self._schedule(self.now + self._wake_delay(), EV_RUN, task)

    def _placed_timer(self, task, pc):
        """A timer: the task's last CPU.  True if it took a CPU: it runs now.  One of a
        timer firing's threads is placed by §14.8 instead."""
        if self.timers and self.firing_cpu is not None:
            return self._fired_place(task, pc)
        if self._place(task, self._last_cpu(task), pc) is None:
            return False
        self.running = task
        return True

    # ------------------------------------------------------------------ §14.3
    def _placed_sleep(self, ctx):
        """``ctx`` lets its CPU go: its queue's head, or a pulled head, or idle."""
        c = self._cpu_held_by(ctx)
        if c is None:
            return
        self.cpu_holder[c] = None
        queue = self.cpu_queues[c]
        if not queue:
            longest = max(len(q) for q in self.cpu_queues)
            if longest == 0:
                return
            queue = next(q for q in self.cpu_queues if len(q) == longest)
            self.counters["cpu_pulled"] += 1
        nxt, runnable_at = queue.popleft()
        self._hold(nxt, c)
        run_at = self.now + self._draw(self.cpu_switch)
        self.counters["cpu_queue_ns"] = sat_add(self.counters["cpu_queue_ns"],
                                                run_at - runnable_at)
        self._schedule(run_at, EV_RUN, nxt)

    # ------------------------------------------------------------------ threads
    def _placed_thread_keeps(self, task, th, think):
        c = self._cpu_held_by(task)
        if think == 0 and c is not None:
            self.cpu_holder[c] = th
            if self.running is task:
                self.running = th

    def _placed_step(self, task, th):
        """A step comes to its thread: the thread's kept CPU goes to the step's task unless
        the task is a bio or the CPU's own queue is not empty; True then (the thread lets
        the CPU go once the task has started or queued)."""
        c = self._cpu_held_by(th)
        if c is None:
            return False
        self.running = th
        if task.kind == TK_BG or self.cpu_queues[c]:
            return True
        self._hold(task, c)
        self.running = task
        return False

    def _placed_timer_or_kept(self, task):
        if self._cpu_held_by(task) is not None:       # on its thread's kept CPU
            return True
        return self._placed_timer(task, PC_START)

    def _placed_resumes(self, task):
        if self._cpu_held_by(task) is not None:
            self.running = task
            return True
        return self._placed_timer(task, task.pc)

    # ------------------------------------------------------------------ invariants
    def _broken_placement(self):
        """The index in CPU_INVARIANTS of a broken §14.7 invariant, or None."""
        held = [h for h in self.cpu_holder if h is not None]
        if len(set(map(id, held))) != len(held):
            return 0
        for c, q in enumerate(self.cpu_queues):
            if q and self.cpu_holder[c] is None:
                return 1
        queued = [ctx for q in self.cpu_queues for ctx, _ in q]
        if any(ctx in held for ctx in queued) or len(set(map(id, queued))) != len(queued):
            return 2
        if any(isinstance(ctx, Task) and ctx.kind == TK_BG for ctx in queued + held):
            return 3
        return None
