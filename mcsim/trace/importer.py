"""A kernel trace into the histograms and result row of a simulation (docs/traces.md).

Per task (pid) a state machine follows the mmap_lock tracepoints:

- ``mmap_lock_start_locking`` opens an acquisition (its request);
- ``sched_waking`` of that task while it waits for a *read* acquisition is the grant:
  the waker's ``rwsem_mark_wake()`` hands the lock to queued readers before waking them,
  so a reader holds the lock from then on (docs/model.md §5: holds count from the grant);
- ``mmap_lock_acquire_returned`` with ``success=true`` ends the wait (the task runs with
  the lock); without an open request it is a ``mmap_read_trylock()`` that succeeded
  (wait 0); ``success=false`` is a failed trylock or an interrupted killable wait;
- ``mmap_lock_released`` ends the hold;
- a read ``acquire_returned`` of a task holding ``L`` for write with no request open is
  ``mmap_write_downgrade()`` (munmap): the writer's hold ends there, and the release of
  the read lock it keeps records nothing.

Acquisitions made inside a ``read()``/``pread64()`` syscall of a reader are the HP
reader's (``hp_acq_wait``, ``hold_hp``; the sum of one syscall's waits is its
``hp_wait``); write acquisitions are writers' (``writer_wait``, ``hold_writer``); other
read acquisitions are faults' (``fault_lock_wait``, ``hold_fault``).  Every line that is
not used is counted by category (:attr:`Imported.lines`), never dropped silently.

Trials: ``tracing_mark_write: mcsim-trial`` markers (mcsim's export writes one before each
simulated trial) delimit trials; without them each ``slice_ns`` of trace time is one
trial, so the intervals of docs/model.md §8 treat seconds of a measured run as the
independent units.

>>> text = '''
... ps-9 [000] ..... 1.000000: sys_pread64(fd: 3, buf: 0, count: 4096, pos: 0)
... ps-9 [000] ..... 1.000001: mmap_lock_start_locking: mm=0000000a memcg_id=0 write=false
... ps-9 [000] ..... 1.000031: mmap_lock_acquire_returned: mm=0000000a memcg_id=0 write=false success=true
... ps-9 [000] ..... 1.000035: mmap_lock_released: mm=0000000a memcg_id=0 write=false
... ps-9 [000] ..... 1.000040: sys_pread64 -> 0x20
... '''
>>> imp = import_lines(text.splitlines())
>>> imp.hists["hp_wait"].n, imp.hists["hp_wait"].max(), imp.hists["hold_hp"].max()
(1, 30000.0, 4000.0)
"""
from __future__ import annotations

from dataclasses import dataclass, field
from collections import Counter
from typing import Iterable

from .. import layout as lay
from ..histogram import Histogram
from .parse import Event, parse_line
from .placement import Placement, PlacementTracker

LOCK_EVENTS = ("mmap_lock_start_locking", "mmap_lock_acquire_returned", "mmap_lock_released")
READ_CALLS = ("read", "pread64")
TRIAL_MARK = "mcsim-trial"
DEFAULT_SLICE_NS = 1_000_000_000
#: What the importer records per role of an acquisition: (wait metric, hold metric).
ROLE_METRICS = {"hp": ("hp_acq_wait", "hold_hp"), "writer": ("writer_wait", "hold_writer"),
                "fault": ("fault_lock_wait", "hold_fault")}


@dataclass
class _Acq:
    mm: str
    write: bool
    t_req: int
    role: str
    grant: int = -1
    hold_from: int = -1
    runnable_from: int = 0         # the task's runnable total when the hold began


@dataclass
class _Task:
    comm: str = ""
    pending: _Acq | None = None
    held: list = field(default_factory=list)
    frame: list | None = None      # waits of the acquisitions in the current read()
    # The scheduler's view (sched_switch, sched_waking): "run", "sleep", "runnable" or
    # None (not seen yet); the time it became runnable; its total time runnable.
    cpu_state: str | None = None
    runnable_since: int = 0
    runnable_ns: int = 0


@dataclass
class Imported:
    """What a trace gave: the histograms (every metric of :data:`mcsim.layout.METRICS`,
    those a trace cannot show left empty), counters, line counts by category, and the
    trace's own metadata (``# mcsim-trace: key=value`` header lines).  ``samples`` keeps
    each metric's values (ns, in trace order) exactly, for what needs more than the
    histograms' resolution (a calibration's quantile tables, mcsim.realkernel).
    ``runnable`` has, for each hold metric, the holder's time runnable but not running
    during each hold (ns, parallel to ``samples``), when the trace has ``sched_switch``
    lines (else it is empty)."""

    hists: dict
    counters: dict
    lines: Counter
    meta: dict
    trials: int
    samples: dict = field(default_factory=dict)
    runnable: dict = field(default_factory=dict)
    #: Where the kernel put woken tasks (:mod:`mcsim.trace.placement`); classified only
    #: when the trace has ``sched_switch``, ``sched_waking`` and ``sched_wakeup``.
    placement: Placement = field(default_factory=Placement)

    def on_cpu_holds(self, metric: str) -> list:
        """Each hold of ``metric`` less the holder's time runnable but not running in it
        (waiting for a CPU after a wake-up, or preempted): the part of the hold a model
        that draws wake-ups and CPU waits itself must not draw again.  The plain holds
        when the trace has no ``sched_switch`` lines."""
        waits = self.runnable.get(metric)
        if not waits:
            return list(self.samples[metric])
        return [h - w for h, w in zip(self.samples[metric], waits)]

    def report(self) -> str:
        """The line counts, one ``category: n`` per line."""
        return "\n".join(f"{k}: {v:,}" for k, v in sorted(self.lines.items()))


class TraceImporter:
    """Feed lines with :meth:`feed`, then :meth:`finish`.  ``readers``: pids or comms
    whose ``read()``/``pread64()`` syscalls are HP reads (default: any task's); ``mm``:
    only acquisitions of these ``mm=`` values count (default: all)."""

    def __init__(self, readers: Iterable[str] = (), mm: Iterable[str] = (),
                 slice_ns: int = DEFAULT_SLICE_NS):
        if slice_ns <= 0:
            raise ValueError("slice_ns must be positive")
        self.readers = {str(r) for r in readers}
        self.mm = {m.lower().removeprefix("0x").lstrip("0") for m in mm}
        self.slice_ns = slice_ns
        self.tasks: dict[int, _Task] = {}
        self.lines: Counter = Counter()
        self.meta: dict = {}
        self.counters = Counter()
        self.samples = {m: [] for m in lay.METRICS}
        self.runnable = {hold: [] for _, hold in ROLE_METRICS.values()}
        self.trial_lengths = {m: [] for m in lay.METRICS}
        self.marked = False            # trials delimited by markers
        self.t0 = self.t_last = None
        self.slice_index = 0
        self.placement = PlacementTracker()

    # ------------------------------------------------------------------ trials
    def _close_trial(self):
        for m in lay.METRICS:
            done = sum(self.trial_lengths[m])
            self.trial_lengths[m].append(len(self.samples[m]) - done)

    def _clock(self, ts: int):
        """Close the slices that ``ts`` is past (slice mode)."""
        if self.t0 is None:
            self.t0 = ts
        self.t_last = ts if self.t_last is None else max(self.t_last, ts)
        if self.marked:
            return
        while ts - self.t0 >= (self.slice_index + 1) * self.slice_ns:
            self._close_trial()
            self.slice_index += 1

    def _marker(self):
        if not self.marked:
            self.marked = True
            if any(len(s) for s in self.samples.values()) or self.lines["mmap_lock"]:
                self._close_trial()
            else:                      # nothing before the first marker: no trial
                for m in lay.METRICS:
                    self.trial_lengths[m].clear()
        else:
            self._close_trial()

    def _record(self, metric: str, value: int):
        self.samples[metric].append(value)

    def _record_hold(self, metric: str, acq: _Acq, task: _Task, end: int):
        self._record(metric, end - acq.hold_from)
        runnable = task.runnable_ns - acq.runnable_from
        if not 0 <= runnable <= end - acq.hold_from:      # lost or reordered events
            self.counters["runnable_out_of_range"] += 1
            runnable = min(max(runnable, 0), end - acq.hold_from)
        self.runnable[metric].append(runnable)

    # ------------------------------------------------------------------ lines
    def feed(self, line: str) -> None:
        ev = parse_line(line)
        if ev.kind == "comment":
            self.lines["comment"] += 1
            if ev.body.startswith("# mcsim-trace:"):
                for key, _, value in (kv.partition("=") for kv in ev.body[14:].split()):
                    self.meta[key] = value
            return
        if ev.kind in ("blank", "malformed"):
            self.lines[ev.kind] += 1
            return
        if ev.kind == "lost":
            self.lines["lost_markers"] += 1
            self.counters["lost_events"] += ev.lost
            return
        self._event(ev)

    def _event(self, ev: Event):
        name = ev.name.rsplit(":", 1)[-1]
        if name == "tracing_mark_write" or name == "print":
            if TRIAL_MARK in ev.body:
                self.lines["trial_marker"] += 1
                self._clock(ev.ts)
                self._marker()
            else:
                self.lines["foreign_event"] += 1
            return
        self._clock(ev.ts)
        task = self.tasks.setdefault(ev.pid, _Task())
        task.comm = ev.comm
        self.placement.look(ev)
        if name in LOCK_EVENTS or name.startswith(("sys_enter_", "sys_exit_")):
            self.placement.own_event(ev)
        if name in LOCK_EVENTS:
            self._lock_event(ev, name, task)
        elif name.startswith(("sys_enter_", "sys_exit_")):
            self._syscall(ev, name, task)
        elif name == "sched_waking":
            self._waking(ev)
        elif name == "sched_wakeup":
            self._wakeup(ev)
        elif name == "sched_switch":
            self._switch(ev)
        else:
            self.lines["foreign_event"] += 1

    def _is_reader(self, pid: int, task: _Task) -> bool:
        return not self.readers or str(pid) in self.readers or task.comm in self.readers

    def _syscall(self, ev: Event, name: str, task: _Task):
        enter = name.startswith("sys_enter_")
        call = name[len("sys_enter_"):] if enter else name[len("sys_exit_"):]
        if call not in READ_CALLS or not self._is_reader(ev.pid, task):
            self.lines["other_syscall"] += 1
            return
        self.lines["read_syscall"] += 1
        if enter:
            if task.frame is not None:
                self.counters["reads_unfinished"] += 1     # enter without exit
            task.frame = []
            return
        if task.frame is None:
            self.counters["exit_without_enter"] += 1
            return
        if task.pending is not None:
            self.counters["reads_unfinished"] += 1         # left with an open request
        else:
            self.counters["hp_reads"] += 1
            self._record("hp_wait", sum(task.frame))
        task.frame = None

    def _waking(self, ev: Event):
        self.lines["sched_waking"] += 1
        try:
            target = self.tasks.get(int(ev.fields.get("pid", "")))
        except ValueError:
            self.lines["bad_field"] += 1
            return
        self.placement.waking(ev, int(ev.fields["pid"]), ev.fields.get("comm", ""))
        if target is not None and target.cpu_state == "sleep":
            target.cpu_state, target.runnable_since = "runnable", ev.ts
        acq = target.pending if target else None
        if acq is not None and not acq.write and acq.grant < 0:
            acq.grant = ev.ts
            acq.runnable_from = target.runnable_ns
            self.counters["grants_seen"] += 1

    def _wakeup(self, ev: Event):
        """``sched_wakeup``: the CPU the woken task was put on (placement only)."""
        try:
            pid, cpu = int(ev.fields["pid"]), int(ev.fields["target_cpu"])
        except (KeyError, ValueError):
            self.lines["bad_field"] += 1
            return
        self.lines["sched_wakeup"] += 1
        self.placement.wakeup(pid, cpu)

    def _switch(self, ev: Event):
        """``sched_switch``: the previous task leaves its CPU runnable (``prev_state``
        R, preempted) or asleep; the next one's time runnable ends."""
        f = ev.fields
        try:
            prev, nxt = int(f["prev_pid"]), int(f["next_pid"])
            prev_state = f["prev_state"]
        except (KeyError, ValueError):
            self.lines["bad_field"] += 1
            return
        self.lines["sched_switch"] += 1
        self.placement.switch(ev.cpu, prev, prev_state.startswith("R"), nxt)
        out = self.tasks.setdefault(prev, _Task()) if prev else None
        if out is not None:
            out.cpu_state = "runnable" if prev_state.startswith("R") else "sleep"
            out.runnable_since = ev.ts
        into = self.tasks.setdefault(nxt, _Task()) if nxt else None
        if into is not None:
            if into.cpu_state == "runnable":
                into.runnable_ns += ev.ts - into.runnable_since
            into.cpu_state = "run"

    def _lock_event(self, ev: Event, name: str, task: _Task):
        f = ev.fields
        if "mm" not in f or f.get("write") not in ("true", "false", "1", "0") or (
                name == "mmap_lock_acquire_returned"
                and f.get("success") not in ("true", "false", "1", "0")):
            self.lines["bad_field"] += 1
            return
        mm, write = f["mm"].lower().removeprefix("0x").lstrip("0"), f["write"] in ("true", "1")
        if self.mm and mm not in self.mm:
            self.lines["other_mm"] += 1
            return
        self.lines["mmap_lock"] += 1
        if name == "mmap_lock_start_locking":
            if task.pending is not None:
                self.counters["restarted_requests"] += 1
            role = "writer" if write else "hp" if task.frame is not None else "fault"
            task.pending = _Acq(mm, write, ev.ts, role)
        elif name == "mmap_lock_acquire_returned":
            self._returned(ev, task, mm, write, f["success"] in ("true", "1"))
        else:
            self._released(ev, task, mm, write)

    def _returned(self, ev: Event, task: _Task, mm: str, write: bool, success: bool):
        acq = task.pending
        if acq is not None and (acq.mm != mm or acq.write != write):
            self.counters["mismatched_returns"] += 1
            task.pending = acq = None
        if not success:
            self.counters["failed_acquisitions"] += 1   # failed trylock / killed waiter
            task.pending = None
            return
        if acq is None and not write and self._downgrade(ev, task, mm):
            return
        if acq is None:                                   # mmap_read_trylock(): no wait
            self.counters["trylocks"] += 1
            role = "writer" if write else "hp" if task.frame is not None else "fault"
            acq = _Acq(mm, write, ev.ts, role)
        task.pending = None
        wait = ev.ts - acq.t_req
        acq.hold_from = acq.grant if acq.grant >= 0 else ev.ts
        if acq.grant < 0:
            acq.runnable_from = task.runnable_ns
        self.counters["lock_acquisitions"] += 1
        self.counters["writes" if write else "read_acquisitions"] += 1
        self._record(ROLE_METRICS[acq.role][0], wait)
        if acq.role == "hp" and task.frame is not None:
            task.frame.append(wait)
        task.held.append(acq)

    def _downgrade(self, ev: Event, task: _Task, mm: str) -> bool:
        """``mmap_write_downgrade()`` reports a read acquisition that returned, with no
        request and no release of the write lock (include/linux/mmap_lock.h): the
        writer's exclusive hold ends here and it keeps ``L`` for read, released later."""
        for acq in reversed(task.held):
            if acq.mm == mm and acq.write:
                task.held.remove(acq)
                self._record_hold(ROLE_METRICS[acq.role][1], acq, task, ev.ts)
                task.held.append(_Acq(mm, False, ev.ts, "downgraded", hold_from=ev.ts))
                self.counters["downgrades"] += 1
                return True
        return False

    def _released(self, ev: Event, task: _Task, mm: str, write: bool):
        for i in range(len(task.held) - 1, -1, -1):
            acq = task.held[i]
            if acq.mm == mm and acq.write == write:
                del task.held[i]
                if acq.role != "downgraded":      # the writer's hold ended at the downgrade
                    self._record_hold(ROLE_METRICS[acq.role][1], acq, task, ev.ts)
                return
        self.counters["release_without_acquire"] += 1    # taken before the trace began

    # ------------------------------------------------------------------ the end
    def finish(self) -> Imported:
        """Close the last trial, count what was left unfinished, build the histograms."""
        for task in self.tasks.values():
            self.counters["unfinished_acquisitions"] += task.pending is not None
            self.counters["unreleased_holds"] += len(task.held)
            self.counters["reads_unfinished"] += task.frame is not None
        if self.t0 is not None:
            self._close_trial()
        hists = {}
        for m in lay.METRICS:
            h = Histogram.empty()
            h.add_trials(self.samples[m], self.trial_lengths[m])
            hists[m] = h
        trials = len(self.trial_lengths[lay.METRICS[0]])
        self.counters["trials"] = trials
        self.counters["sim_ns"] = (self.t_last - self.t0) if self.t0 is not None else 0
        runnable = self.runnable if self.lines["sched_switch"] else {}
        return Imported(hists, dict(self.counters), self.lines, self.meta, trials,
                        self.samples, runnable, self.placement.result)


def import_lines(lines: Iterable[str], **options) -> Imported:
    """Import an iterable of lines (see :class:`TraceImporter` for the options)."""
    imp = TraceImporter(**options)
    for line in lines:
        imp.feed(line)
    return imp.finish()
