"""Simulated runs as kernel traces: tracefs text and Perfetto / Chrome JSON.

**Text** (:func:`tracefs_lines`): the lines ``trace_pipe`` would print for the same
acquisitions, with nanosecond timestamps: ``mmap_lock_start_locking`` at the request,
``sched_waking`` at the grant of a reader that queued, ``mmap_lock_acquire_returned`` when
the task runs with ``L``, ``mmap_lock_released`` at the release, each HP ``read()`` framed
by ``sys_pread64(...)`` / ``sys_pread64 -> 0x...`` and each trial opened by a
``tracing_mark_write: mcsim-trial K`` line.  :mod:`mcsim.trace.importer` reads it back into
exactly the simulated ``hp_wait``, ``hp_acq_wait``, ``writer_wait``, ``hold_hp``,
``hold_writer``, ``fault_lock_wait`` and ``hold_fault`` (those of ``L``: per-VMA lock
acquisitions leave no mmap_lock event, in the kernel as here).

**JSON** (:func:`perfetto_json`): the trace-event format that ui.perfetto.dev and
chrome://tracing open: one process per trial, one thread (track) per task with the task as
a slice and, inside it, its lock waits, wake-ups and holds, and a second track per task
with bios for its bios (gate and IO), which may outlive a hold.

>>> from mcsim.trace.timeline import run_script_trial
>>> _, trial = run_script_trial([{"at": 0, "kind": "writer", "hold": "1ms"}], kernel="4.19")
>>> print("\\n".join(tracefs_lines([trial])))  # doctest: +NORMALIZE_WHITESPACE
# mcsim-trace: source=simulated trials=1
<idle>-0 [000] ..... 1.000000000: tracing_mark_write: mcsim-trial 0
writer-1000 [000] ..... 1.000000000: mmap_lock_start_locking: mm=00000000c0ffee00 memcg_id=0 write=true
writer-1000 [000] ..... 1.000000000: mmap_lock_acquire_returned: mm=00000000c0ffee00 memcg_id=0 write=true success=true
writer-1000 [000] ..... 1.001000000: mmap_lock_released: mm=00000000c0ffee00 memcg_id=0 write=true
"""
from __future__ import annotations

import json
from typing import Iterable, Iterator

from .. import layout as lay
from .importer import TRIAL_MARK

#: The first trial starts at this trace time (a timestamp of 0 looks like a missing one).
START_NS = 1_000_000_000
PID_BASE = 1000
COMMS = {"hp_read": "ps", "writer": "writer", "fault": "fault", "bg_io": "bio"}
MM_BASE = 0xC0FFEE00


def _mm(process: int) -> str:
    return f"{MM_BASE + 0x100 * process:016x}"


def _ts(ns: int) -> str:
    return f"{ns // 1_000_000_000}.{ns % 1_000_000_000:09d}"


def _line(comm: str, pid: int, ns: int, text: str) -> str:
    return f"{comm:>16}-{pid:<7} [000] ..... {_ts(ns)}: {text}"


def _task_events(task, offset: int) -> list[tuple[int, str]]:
    """A task's lines in its own causal order (times never decrease along it)."""
    comm, pid = COMMS.get(task.kind, task.kind), PID_BASE + task.id
    mm, events = _mm(task.process), []
    hp = task.kind == "hp_read"
    if hp:
        events.append((task.start, "sys_pread64(fd: 3, buf: 0, count: 1000, pos: 0)"))
    for a in task.acquisitions():
        w = "true" if a.write else "false"
        lock = f"mm={mm} memcg_id=0 write={w}"
        events.append((a.t_req, f"mmap_lock_start_locking: {lock}"))
        if not a.write and a.t_grant < a.t_run:
            events.append((a.t_grant, f"sched_waking: comm={comm} pid={pid} prio=120 "
                                      "target_cpu=000"))
        events.append((a.t_run, f"mmap_lock_acquire_returned: {lock} success=true"))
        events.append((a.t_release, f"mmap_lock_released: {lock}"))
    if hp:
        events.append((task.end, "sys_pread64 -> 0x0"))
    return [(offset + t, _line(comm, pid, offset + t, text)) for t, text in events]


def tracefs_lines(trials: Iterable, meta: dict | None = None) -> Iterator[str]:
    """The text trace of simulated trials (:class:`~mcsim.trace.timeline.SimTrial`), line
    by line: a ``# mcsim-trace:`` header, then per trial a marker and its tasks' events
    merged in time order (a stable sort keeps each task's own order at equal times)."""
    trials = list(trials)
    head = {"source": "simulated", "trials": len(trials), **(meta or {})}
    yield "# mcsim-trace: " + " ".join(f"{k}={v}" for k, v in head.items())
    offset = START_NS
    for k, trial in enumerate(trials):
        yield _line("<idle>", 0, offset, f"tracing_mark_write: {TRIAL_MARK} {k}")
        events = [ev for task in trial.tasks for ev in _task_events(task, offset)]
        events.sort(key=lambda ev: ev[0])
        for _, line in events:
            yield line
        offset += max(trial.length, max([t.end for t in trial.tasks] + [0]))


#: Slice names of the lanes on a task's IO track.
IO_SLICES = {lay.LANE_GATE: "io.latency gate", lay.LANE_IO: "bio in flight"}
#: The slice spanning a whole task, by kind.
TASK_SLICES = {"hp_read": "read() of /proc/<pid>/cmdline", "fault": "page fault",
               "writer": "mmap/munmap/mprotect"}


def _us(ns: int) -> float:
    return ns / 1000.0


def _slice(name, cat, start, end, pid, tid, args=None) -> dict:
    ev = {"name": name, "cat": cat, "ph": "X", "ts": _us(start), "dur": _us(end - start),
          "pid": pid, "tid": tid}
    if args:
        ev["args"] = args
    return ev


def _task_slices(task, pid: int, offset: int) -> list[dict]:
    tid = 2 * task.id + 1                     # the lock track; tid + 1 the IO track
    label = f"{task.kind} {task.id}"
    out = [{"name": "thread_name", "ph": "M", "pid": pid, "tid": tid,
            "args": {"name": label}}]
    if any(lane in IO_SLICES for lane, _s, _e in task.intervals):
        out.append({"name": "thread_name", "ph": "M", "pid": pid, "tid": tid + 1,
                    "args": {"name": label + " IO"}})
    if task.kind in TASK_SLICES:              # the whole operation, around its lock slices
        out.append(_slice(TASK_SLICES[task.kind], "task", offset + task.start,
                          offset + task.end, pid, tid))
    for a in task.acquisitions():
        mode = "write" if a.write else "read"
        if a.t_grant > a.t_req:
            out.append(_slice(f"wait mmap_lock ({mode})", "lock", offset + a.t_req,
                              offset + a.t_grant, pid, tid))
        if a.t_run > a.t_grant:
            out.append(_slice("granted, waking up" if not a.write else "woken, taking",
                              "lock", offset + a.t_grant, offset + a.t_run, pid, tid))
        out.append(_slice(f"hold mmap_lock ({mode})", "lock", offset + a.t_run,
                          offset + a.t_release, pid, tid,
                          {"wait_ns": a.t_run - a.t_req, "hold_ns": a.t_release - a.t_grant}))
    for lane, start, end in task.intervals:
        if lane in IO_SLICES:
            out.append(_slice(IO_SLICES[lane], "io", offset + start, offset + end, pid,
                              tid + 1))
    return out


def perfetto_json(trials: Iterable) -> dict:
    """Trace-event JSON of simulated trials: open it in ui.perfetto.dev.

    >>> from mcsim.trace.timeline import run_script_trial
    >>> _, trial = run_script_trial([{"at": 0, "kind": "writer", "hold": "1ms"}])
    >>> [e["name"] for e in perfetto_json([trial])["traceEvents"] if e["ph"] == "X"]
    ['mmap/munmap/mprotect', 'hold mmap_lock (write)']
    """
    events, offset = [], 0
    for k, trial in enumerate(trials):
        pid = k + 1
        events.append({"name": "process_name", "ph": "M", "pid": pid, "tid": 0,
                       "args": {"name": f"trial {k}"}})
        for task in trial.tasks:
            events += _task_slices(task, pid, offset)
        offset += max(trial.length, max([t.end for t in trial.tasks] + [0]))
    return {"traceEvents": events, "displayTimeUnit": "ns"}


def write_perfetto(trials, f) -> None:
    json.dump(perfetto_json(trials), f, separators=(",", ":"))
