"""Where the kernel puts a woken task: on its *affine* CPU although another CPU is idle?

For each wake-up of a task of the trace (a task whose comm made a syscall or lock event
in it), from ``sched_waking`` (who woke it, in what context), ``sched_wakeup`` (the CPU
``select_task_rq()`` chose) and ``sched_switch`` (what runs on each CPU):

- the **affine target** is the waker's CPU when a task woke it (the line's task, not in
  an interrupt: the irq-info column's third character is ``.``), else (an interrupt,
  e.g. its timer, or the idle task) the wakee's previous CPU, from its last
  ``sched_switch``; before that it is unknown and the wake-up is not classified;
- a CPU is **busy** when it runs a task other than the idle task (pid 0), or a task was
  woken onto it or preempted on it and has not run since; it is **idle** when it runs
  the idle task with nothing queued; a CPU the trace has not shown yet is neither;
- a wake-up is a **choice** when its affine target is busy and another CPU is idle, and
  it **stayed** when ``sched_wakeup`` puts the task on the affine target.

``sched_waking``'s own ``target_cpu`` is no answer: the tracepoint fires in
``try_to_wake_up()`` before ``select_task_rq()`` and ``set_task_cpu()``
(kernel/sched/core.c), and the event records ``task_cpu(p)`` (include/trace/events/
sched.h), the CPU the task last ran on.  ``sched_wakeup`` fires once the task is on its
new run queue (``ttwu_do_wakeup()``), with the chosen CPU.  A task woken while still on
a run queue (``ttwu_runnable()``: it had not yet switched out) is not placed and not
classified.

A recording filtered to some processes (``mcsim trace record``: ``set_event_pid``) keeps
a ``sched_switch`` only when its previous or next task is one of them, so a CPU going
between other tasks (or the idle task) is not seen.  Every event line says which task
runs on its CPU at that moment (in an interrupt, the interrupted one): the tracker takes
each as a fresh look, and counts in :attr:`Placement.stale` the looks that contradicted
what it held; a look that finds the idle task where it held another task also empties
that CPU's queue (the CPU went idle meanwhile, so nothing was queued there), and a look
that finds a task it held queued takes it off the queue (it was switched in unseen).

>>> from mcsim.trace.importer import import_lines
>>> text = '''
... a-10 [000] ..... 1.000000: sys_read(fd: 0, buf: 0, count: 1)
... b-11 [001] ..... 1.000000: sys_read(fd: 0, buf: 0, count: 1)
... a-10 [000] d..2. 1.000001: sched_switch: prev_comm=a prev_pid=10 prev_prio=120 prev_state=S ==> next_comm=swapper/0 next_pid=0 next_prio=120
... b-11 [001] d..3. 1.000002: sched_waking: comm=a pid=10 prio=120 target_cpu=000
... b-11 [001] d..3. 1.000003: sched_wakeup: comm=a pid=10 prio=120 target_cpu=001
... '''
>>> p = import_lines(text.splitlines()).placement
>>> p.choices, p.stayed, p.affinity
(1, 1, 1.0)
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

#: Who woke the task: a running task, or an interrupt (or the idle task).
WAKER_KINDS = ("task", "interrupt")
#: The irq-info column's context characters (kernel/trace/trace_output.c,
#: trace_print_lat_fmt(): h/H hard interrupt, s soft interrupt, z/Z NMI).
INTERRUPT_CONTEXT = frozenset("hHszZ")
#: What became of each wake-up, per waker kind (see the module's docstring).
OUTCOMES = ("wakeups", "on_rq", "no_target", "target_idle", "none_idle", "choices",
            "stayed", "undecided")


@dataclass
class Placement:
    """The wake-ups of a trace by waker kind and outcome (:data:`OUTCOMES`):
    ``wakeups`` seen; ``on_rq`` woken while still on a run queue; ``no_target`` affine
    target unknown; ``target_idle``; ``none_idle`` (target busy, no other CPU idle);
    ``choices`` (target busy, another CPU idle), of which ``stayed`` went onto the target
    and ``undecided`` had no ``sched_wakeup``.  ``stale``: looks at a CPU that
    contradicted the tracked state (see the module's docstring).

    >>> p = Placement()
    >>> p.by_kind["task"].update(choices=3, stayed=2)
    >>> p.by_kind["interrupt"].update(choices=1, stayed=1)
    >>> p.choices, p.stayed, p.affinity
    (4, 3, 0.75)
    >>> Placement().affinity is None
    True
    """

    by_kind: dict = field(default_factory=lambda: {k: Counter() for k in WAKER_KINDS})
    stale: int = 0

    @classmethod
    def pooled(cls, placements) -> "Placement":
        """The counts of several traces added up (a calibration's controls)."""
        out = cls()
        for p in placements:
            for kind, counts in p.by_kind.items():
                out.by_kind[kind].update(counts)
            out.stale += p.stale
        return out

    def total(self, outcome: str) -> int:
        """One outcome summed over the waker kinds."""
        return sum(c[outcome] for c in self.by_kind.values())

    @property
    def choices(self) -> int:
        return self.total("choices") - self.total("undecided")

    @property
    def stayed(self) -> int:
        return self.total("stayed")

    @property
    def affinity(self) -> float | None:
        """Stayed / choices (decided ones), None without a choice: what the model's
        ``cpu_affinity`` is."""
        return self.stayed / self.choices if self.choices else None

    def as_dict(self) -> dict:
        """Plain numbers, for JSON and a calibration's metadata."""
        return {"choices": self.choices, "stayed": self.stayed, "affinity": self.affinity,
                "by_waker": {k: {o: c[o] for o in OUTCOMES} for k, c in self.by_kind.items()},
                "stale": self.stale}

    def summary(self) -> str:
        """One line: choices, stayed, affinity, the split by waker, what was left out.

        >>> p = Placement(); p.by_kind["task"].update(wakeups=5, choices=4, stayed=3)
        >>> p.summary()
        'placement: 5 wake-ups, 4 choices (affine CPU busy, another idle), 3 stayed: affinity 0.750; by a task 3/4, by an interrupt or idle 0/0; not classified 0, undecided 0, view stale 0'
        """
        aff = "n/a" if self.affinity is None else f"{self.affinity:.3f}"
        t, i = self.by_kind["task"], self.by_kind["interrupt"]
        return (f"placement: {self.total('wakeups'):,} wake-ups, {self.choices:,} choices "
                f"(affine CPU busy, another idle), {self.stayed:,} stayed: affinity {aff}; "
                f"by a task {t['stayed']:,}/{t['choices'] - t['undecided']:,}, "
                f"by an interrupt or idle {i['stayed']:,}/{i['choices'] - i['undecided']:,}; "
                f"not classified {self.total('no_target') + self.total('on_rq'):,}, "
                f"undecided {self.total('undecided'):,}, view stale {self.stale:,}")


class PlacementTracker:
    """Follows what runs and waits on each CPU and classifies each wake-up; the importer
    feeds it every event line (:meth:`look`) and the scheduler's events."""

    def __init__(self):
        self.running: dict[int, int] = {}     # CPU -> the pid it runs (0: idle)
        self.queued: dict[int, set] = {}      # CPU -> woken or preempted, not run since
        self.last_cpu: dict[int, int] = {}    # pid -> the CPU it last ran on
        self.own_comms: set = set()           # comms of the trace's tasks
        self.deciding: dict[int, tuple] = {}  # pid -> (kind, affine CPU, a choice?)
        self.result = Placement()

    def look(self, ev) -> None:
        """An event line: its task runs on its CPU now."""
        if ev.cpu < 0:
            return
        known = self.running.get(ev.cpu)
        if known is not None and known != ev.pid:
            self.result.stale += 1
            if ev.pid == 0:
                # The CPU went idle since: its run queue was empty then (a task
                # preempted there has run on unseen), and what is woken onto it now
                # comes after this line.
                self.queued.pop(ev.cpu, None)
            else:
                # it runs, so it was switched in (unseen): it waits nowhere any more
                for queue in self.queued.values():
                    queue.discard(ev.pid)
        self.running[ev.cpu] = ev.pid

    def own_event(self, ev) -> None:
        """A syscall or lock event: its task is one of the trace's."""
        self.own_comms.add(ev.comm)

    def _busy(self, cpu: int) -> bool:
        return bool(self.queued.get(cpu)) or self.running.get(cpu, 0) != 0

    def _idle(self, cpu: int) -> bool:
        return self.running.get(cpu) == 0 and not self.queued.get(cpu)

    def _on_rq(self, pid: int) -> bool:
        return pid in self.running.values() or any(pid in q for q in self.queued.values())

    def switch(self, cpu: int, prev: int, prev_runnable: bool, nxt: int) -> None:
        """``sched_switch`` on ``cpu``: a preempted ``prev`` stays queued there; the
        idle task next means nothing is queued there any more."""
        self.running[cpu] = nxt
        self.deciding.pop(nxt, None)       # it runs: a missing sched_wakeup stays undecided
        for queue in self.queued.values():
            queue.discard(nxt)
        if nxt == 0:
            self.queued.pop(cpu, None)
        elif prev and prev_runnable:
            self.queued.setdefault(cpu, set()).add(prev)
        for pid in (prev, nxt):
            if pid:
                self.last_cpu[pid] = cpu

    def waking(self, ev, pid: int, comm: str) -> None:
        """``sched_waking`` of ``pid``: who woke it, and whether it is a choice."""
        if comm not in self.own_comms or pid in self.deciding:
            return                 # another's task, or the wakelist's second waking
        interrupt = ev.pid == 0 or (len(ev.flags) >= 3 and ev.flags[2] in INTERRUPT_CONTEXT)
        kind = "interrupt" if interrupt else "task"
        count = self.result.by_kind[kind]
        count["wakeups"] += 1
        if self._on_rq(pid):
            count["on_rq"] += 1
            return
        affine = self.last_cpu.get(pid) if interrupt else ev.cpu
        if affine is None:
            count["no_target"] += 1
            choice = False
        elif not self._busy(affine):
            count["target_idle"] += 1
            choice = False
        elif not any(self._idle(c) for c in self.running if c != affine):
            count["none_idle"] += 1
            choice = False
        else:
            count["choices"] += 1
            count["undecided"] += 1      # until its sched_wakeup
            choice = True
        self.deciding[pid] = (kind, affine, choice)

    def wakeup(self, pid: int, cpu: int) -> None:
        """``sched_wakeup`` of ``pid`` onto ``cpu`` (``select_task_rq()``'s choice)."""
        decision = self.deciding.pop(pid, None)
        if decision is None:
            return
        kind, affine, choice = decision
        if choice:
            count = self.result.by_kind[kind]
            count["undecided"] -= 1
            count["stayed"] += cpu == affine
        self.queued.setdefault(cpu, set()).add(pid)
