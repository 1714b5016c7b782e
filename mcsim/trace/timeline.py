"""The lock acquisitions of a simulated run, from the engines' timelines.

Both engines record, per task, intervals ``(task, lane, start, end)`` on the lanes of
:data:`mcsim.layout.LANES`: ``wait`` from an ``L`` request that queued until the task runs
with ``L``, ``hold`` from the grant until the release (``L`` only: a per-VMA lock leaves
no interval, as it leaves no mmap_lock event in the kernel), ``gate`` and ``io`` for bios.
An acquisition is a hold with, when it queued, the wait that ends inside it:
request ≤ grant ≤ runs ≤ release.  A reader granted from the queue holds ``L`` from the
grant and runs ``wake`` later (docs/model.md §5).

>>> import mcsim
>>> r = mcsim.run_script([{"at": 0, "kind": "writer", "hold": "1ms"},
...                       {"at": "100us", "kind": "hp_read", "hold": "10us"}],
...                      kernel="5.1", wake="5us", engine="reference")
>>> trial = script_trial(r, [0, 100_000])
>>> [(a.t_req, a.t_grant, a.t_run, a.t_release) for a in trial.tasks[1].acquisitions()]
[(100000, 1000000, 1005000, 1015000)]
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .. import layout as lay
from ..scenario import TASK_KINDS


@dataclass
class Acquisition:
    """One acquisition of ``L``: request, grant, the task runs with it, release (ns)."""

    t_req: int
    t_grant: int
    t_run: int
    t_release: int
    write: bool


@dataclass
class SimTask:
    """A simulated task: its kind (:data:`mcsim.scenario.TASK_KINDS`), when it started and
    finished, its timeline intervals ``(lane, start, end)``, and its process (its ``L``)."""

    id: int
    kind: str
    start: int
    end: int
    intervals: list = field(default_factory=list)
    process: int = 0

    def acquisitions(self) -> list[Acquisition]:
        """Pair each hold with the wait that ends in it (none: granted at once)."""
        holds = sorted((s, e) for lane, s, e in self.intervals if lane == lay.LANE_HOLD)
        waits = sorted((s, e) for lane, s, e in self.intervals if lane == lay.LANE_WAIT)
        out, j = [], 0
        for hs, he in holds:
            if j < len(waits) and waits[j][0] <= hs <= waits[j][1] <= he:
                ws, we = waits[j]
                j += 1
                out.append(Acquisition(ws, hs, we, he, self.kind == "writer"))
            else:
                out.append(Acquisition(hs, hs, hs, he, self.kind == "writer"))
        if j != len(waits):
            raise ValueError(f"task {self.id}: a wait for L without a hold in the timeline")
        return out


@dataclass
class SimTrial:
    """The tasks of one trial, times from the trial's start; ``length`` the trial's
    simulated time (the next trial starts that much later)."""

    tasks: list
    length: int


def _group(timeline) -> dict:
    by_task: dict = {}
    for task, lane, start, end in timeline:
        by_task.setdefault(int(task), []).append((int(lane), int(start), int(end)))
    return by_task


def script_trial(result, arrivals) -> SimTrial:
    """A :class:`~mcsim.result.ScriptResult` as one trial; ``arrivals[i]`` is task i's
    ``at`` in ns.  Tasks the engine made itself (another context's bio for a page) are
    ``bg_io`` tasks."""
    by_task = _group(result.timeline)
    tasks = []
    for t in result.tasks:
        tasks.append(SimTask(t.index, t.kind, int(arrivals[t.index]), int(t.done),
                             by_task.pop(t.index, [])))
    for tid, ivs in sorted(by_task.items()):
        tasks.append(SimTask(tid, "bg_io", min(s for _, s, _ in ivs),
                             max(e for _, _, e in ivs), ivs))
    end = max([t.end for t in tasks] + [0])
    return SimTrial(tasks, end)


def run_script_trial(tasks, params=None, engine: str = "reference", **overrides):
    """Run a script (as :func:`mcsim.run_script` takes it) and return ``(result, trial)``.

    >>> res, trial = run_script_trial([{"at": 0, "kind": "hp_read", "hold": "10us"}],
    ...                               kernel="4.19")
    >>> [(t.kind, t.start, t.end) for t in trial.tasks]
    [('hp_read', 0, 10000)]
    """
    import mcsim
    from ..scenario import compile_script

    result = mcsim.run_script(tasks, params, engine=engine, **overrides)
    arrivals = [int(r["at"]) for r in compile_script(tasks)]
    return result, script_trial(result, arrivals)


def _timeline_engine():
    from ..reference import ReferenceEngine

    class TimelineEngine(ReferenceEngine):
        """The reference engine, keeping each random trial's timeline (it draws, decides
        and records exactly as :class:`~mcsim.reference.ReferenceEngine`)."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.timeline, self.started, self.trials_seen = [], {}, []

        def _start(self, task):
            self.started[task.id] = task
            super()._start(task)

        def _end_trial(self, events, busy, idle):
            by_task = _group(self.timeline)
            tasks = [SimTask(tid, TASK_KINDS[t.kind], t.t_arrive, t.done,
                             by_task.pop(tid, [])) for tid, t in sorted(self.started.items())]
            for tid, ivs in sorted(by_task.items()):
                tasks.append(SimTask(tid, "bg_io", min(s for _, s, _ in ivs),
                                     max(e for _, _, e in ivs), ivs))
            self.trials_seen.append(SimTrial(tasks, busy + idle))
            self.timeline, self.started = [], {}
            super()._end_trial(events, busy, idle)

    return TimelineEngine


def simulate_trials(params=None, *, trials: int = 100, seed: int = 0, **overrides):
    """Simulate ``trials`` random trials on the reference engine (block 0 of ``seed``, so
    the histograms are those of ``mcsim.simulate(..., engine="reference")``) and return
    ``(raw, trials)``: the engine's raw result and each trial's :class:`SimTrial`.

    >>> raw, ts = simulate_trials(kernel="5.1", trials=5, seed=1)
    >>> len(ts), raw.counters["trials"]
    (5, 5)
    """
    from ..engine import BLOCK_TRIALS, block_bitgen
    from ..params import validate
    from ..scenario import compile_scenario

    if not 0 < trials <= BLOCK_TRIALS:
        raise ValueError(f"trials must be in 1..{BLOCK_TRIALS}")
    engine = _timeline_engine()(compile_scenario(validate(params, **overrides)),
                                block_bitgen(seed, 0))
    raw = engine.run_trials(trials)
    return raw, engine.trials_seen
