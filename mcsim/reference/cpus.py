"""The machine's CPUs (docs/model.md §14): ``cpus`` CPUs shared by every task except a
background bio, one FIFO run queue, and no preemption of kernel code.

With ``cpus = 0`` every task has a CPU of its own and nothing here runs: no state changes,
no draw.  With ``cpus = N > 0``:

- a *context* holds a CPU from the moment it takes one until it sleeps (§14.1); a closed-loop
  thread is one context across its steps, so a step that ends with a think time of 0 hands
  the CPU to the thread, and the thread's next step runs on it — unless the run queue is not
  empty at that step: then the step's task queues and the CPU goes to the queue's head
  (preemption at a step boundary, §14.1); a ``bg_io`` step lets the thread's CPU go once its
  bio has started (§14.1 item 7);
- a context that becomes runnable takes an idle CPU if there is one (after ``wake + j`` for
  a wake-up, at once for a timer), else it enters the run queue and draws nothing (§14.2);
- a CPU that frees goes to the run queue's head, which runs ``cpu_switch`` later (§14.3).

>>> import mcsim
>>> r = mcsim.run_script([{"at": 0, "kind": "writer", "hold": "10us"},
...                       {"at": "1us", "kind": "writer", "hold": "10us"}],
...                      cpus=1, cpu_switch="1us", engine="reference")
>>> [t.waits for t in r.tasks], [t.done for t in r.tasks]   # the second waits for the CPU
([[0], [0]], [10000, 21000])
"""
from __future__ import annotations

from collections import deque

from ..numeric import INVARIANTS, sat_add
from ..scenario import TK_BG
from .base import EV_RUN, PC_START, Task

#: The invariants of §14.5, checked after every event when invariant checking is on: the
#: last four of :data:`mcsim.numeric.INVARIANTS`, which the compiled core reports by the
#: same names (idle + holders = cpus; no CPU idle while a context waits; a queued context
#: holds no CPU, and is queued once; a background bio never holds or waits for a CPU).
CPU_INVARIANTS = INVARIANTS[-4:]


class CpuMixin:
    """Idle CPUs, the contexts holding one, the run queue (§14)."""

    def _reset_cpus(self):
        """A trial starts with every CPU idle and the run queue empty (§14.5)."""
        self.cpu_idle = self.cpus
        self.cpu_holders = set()      # tasks, and threads between two steps (think 0)
        self.run_queue = deque()      # (context, the moment it became runnable), FIFO
        if self.affine:               # per-CPU run queues instead (§14.7)
            self._reset_placement()

    def _is_context(self, task):
        """Every task but a background bio (§14.1: bg_io tasks and a fault's page bio are
        IO issued elsewhere) is a CPU context, when the machine has CPUs at all."""
        return self.cpus > 0 and task.kind != TK_BG

    # ------------------------------------------------------------------ becoming runnable
    def _cpu_wake(self, task, pc):
        """§14.2 (a): a wake-up.  An idle CPU is taken now and the context runs after the
        idle path's latency ``wake + j``, ``j`` drawn now (§13.2); with no idle CPU it enters
        the run queue and draws nothing."""
        if self.affine:
            self._placed_wake(task, pc)
            return
        task.pc = pc
        if self.cpu_idle:
            self._cpu_take(task)
            self._schedule(self.now + self._wake_delay(), EV_RUN, task)
        else:
            self._cpu_enqueue(task)

    def _cpu_timer(self, task):
        """§14.2 (b): a timer made ``task`` runnable (an arrival, a scripted task, a thread's
        step after a sleep, a dirty-throttling sleep's end).  True if it took an idle CPU and
        runs at once, as without CPUs; False if it waits in the run queue."""
        if self.affine:
            return self._placed_timer_or_kept(task)
        if task in self.cpu_holders:          # a thread's step on the thread's kept CPU
            return True
        if self.cpu_idle:
            self._cpu_take(task)
            return True
        self._cpu_enqueue(task)
        return False

    def _cpu_take(self, ctx):
        """From now on this CPU is not idle (§14.2), even before the context runs."""
        self.cpu_idle -= 1
        self.cpu_holders.add(ctx)

    def _cpu_enqueue(self, task):
        """No idle CPU: the run queue's tail, counted in ``cpu_queued`` (§14.2).  The compiled
        core's run queue starts with room for 64 and doubles when full (§14.5)."""
        self.counters["cpu_queued"] += 1
        self._grow("cpu", len(self.run_queue))
        self.run_queue.append((task, self.now))

    # ------------------------------------------------------------------ letting go
    def _cpu_sleep(self, ctx):
        """``ctx`` sleeps (§14.1 items 1–7) and frees its CPU, if it holds one: the caller has
        done everything the sleep itself does (queue entry, timer, think time).  The run
        queue's head takes the CPU and runs ``s`` later, ``s`` a ``cpu_switch`` draw made now;
        ``cpu_queue_ns`` adds ``now + s`` minus the moment it became runnable (§14.3).  With
        an empty run queue the CPU becomes idle."""
        if self.affine:
            self._placed_sleep(ctx)
            return
        if ctx not in self.cpu_holders:
            return
        self.cpu_holders.discard(ctx)
        if not self.run_queue:
            self.cpu_idle += 1
            return
        nxt, runnable_at = self.run_queue.popleft()
        self.cpu_holders.add(nxt)
        run_at = self.now + self._draw(self.cpu_switch)
        self.counters["cpu_queue_ns"] = sat_add(self.counters["cpu_queue_ns"],
                                                run_at - runnable_at)   # §4.4
        self._schedule(run_at, EV_RUN, nxt)

    # ------------------------------------------------------------------ threads
    def _cpu_thread_keeps(self, task, th, think):
        """§14.1 item 6: a thread's step that ends with a think time of 0 does not sleep; the
        thread keeps the step's CPU and its next step's task runs on it."""
        if self.affine:
            self._placed_thread_keeps(task, th, think)
            return
        if think == 0 and task in self.cpu_holders:
            self.cpu_holders.discard(task)
            self.cpu_holders.add(th)

    def _cpu_step(self, task, th):
        """A thread's step starts (§12.2): the thread's kept CPU passes to the step's task,
        unless the task is a ``bg_io`` bio (no context: the thread keeps the CPU until the
        bio has started, §14.1 item 7) or the run queue is not empty (preemption at a step
        boundary, §14.1: the thread keeps the CPU until the task has entered the run queue's
        tail; no CPU is idle then, §14.5, so :meth:`_cpu_timer` queues it).  True in those
        two cases: the thread lets its CPU go once the task has started or queued
        (:meth:`_cpu_step_started`).  Decided here, before the task runs: a task that ends
        in the call that starts it, with a think time of 0, hands the CPU back to the
        thread for its next step (item 6), which the thread keeps."""
        if self.affine:
            return self._placed_step(task, th)
        if th not in self.cpu_holders:
            return False
        if task.kind == TK_BG or self.run_queue:
            return True
        self.cpu_holders.discard(th)
        self.cpu_holders.add(task)
        return False

    def _cpu_step_started(self, th):
        """The step's task has started, or queued: the thread still holding its CPU lets it
        go to the run queue's head, or to idle (§14.1 item 7 and preemption at a step
        boundary: "the CPU frees to the queue's head")."""
        self._cpu_sleep(th)

    def _started_on_cpu(self, task):
        """An arrival or step was admitted (§14.2: it is alive, its latency counts from now).
        True if it starts now; else it waits in the run queue and starts as §2.2/§12.2 say
        when it runs (``PC_START``, §14.3)."""
        if not self._is_context(task) or self._cpu_timer(task):
            return True
        task.pc = PC_START
        return False

    def _cpu_resumes(self, task):
        """An ``EV_RUN`` for a context without a CPU is the end of its timed sleep (the
        dirty-throttling sleep, §14.2 (b)): it runs now on an idle CPU, or queues."""
        if self.affine and self._is_context(task):
            return self._placed_resumes(task)
        return (not self._is_context(task) or task in self.cpu_holders
                or self._cpu_timer(task))

    # ------------------------------------------------------------------ invariants
    def _broken_cpu(self):
        """The index in :data:`CPU_INVARIANTS` of a broken §14.5 invariant, or None."""
        if not self.cpus:
            return None
        if self.affine:
            return self._broken_placement()
        if self.cpu_idle < 0 or self.cpu_idle + len(self.cpu_holders) != self.cpus:
            return 0
        if self.cpu_idle and self.run_queue:
            return 1
        queued = [ctx for ctx, _ in self.run_queue]
        if (any(ctx in self.cpu_holders for ctx in queued)
                or len(set(queued)) != len(queued)):
            return 2
        holders = [ctx for ctx in self.cpu_holders if isinstance(ctx, Task)]
        if any(ctx.kind == TK_BG for ctx in queued + holders):
            return 3
        return None
