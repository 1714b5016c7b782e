"""What a sweep will do, before it does it: which points are missing, how many trials they
take, and roughly how long (measured by a short pilot run on this machine).

:func:`plan_sweep` reads the output directory and creates nothing;
:func:`pilot_seconds_per_trial` runs a few thousand trials of one or two points (well
under a second) and :func:`estimate_seconds` scales that to the plan.  ``mcsim sweep
--dry-run`` prints this plan; a big sweep prints its one-line summary before it starts.

>>> import tempfile
>>> from mcsim.sweep import SweepSpec
>>> points = SweepSpec(grid={"throttle_depth": [6, 7]}, trials=3000).points(command="")
>>> plan = plan_sweep(points, tempfile.mkdtemp() + "/new")
>>> len(plan.todo), len(plan.present), plan.trials, plan.out_dir.exists()
(2, 0, 6000, False)
>>> format_duration(150), format_duration(7200)
('about 2.5 min', 'about 2.0 h')
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from typing import TYPE_CHECKING

from .errors import SimulationError

if TYPE_CHECKING:              # `mcsim --help` imports this module: keep it light
    from .points import PointSpec

#: A sweep with at least this many trials (or :data:`BIG_SWEEP_POINTS` points) to compute
#: says how many and how long before it starts.
BIG_SWEEP_TRIALS = 10_000_000
BIG_SWEEP_POINTS = 1000

#: The pilot run's budget in seconds (all its points together) and its trials per point.
PILOT_BUDGET_S = 0.3
PILOT_MAX_TRIALS = 8192


@dataclass
class SweepPlan:
    """The points of a sweep, split into those to compute and those already present."""

    out_dir: Path
    points: list
    todo: list
    present: list

    @property
    def trials(self) -> int:
        """Trials of the points to compute (the minimum under a precision target)."""
        return sum(p.trials for p in self.todo)

    @property
    def max_trials(self) -> int | None:
        """The most trials the points to compute may take, or None without a target."""
        if not any(p.p99_rel_ci is not None for p in self.todo):
            return None
        return sum(p.max_trials or p.trials for p in self.todo)

    @property
    def is_big(self) -> bool:
        return self.trials >= BIG_SWEEP_TRIALS or len(self.todo) >= BIG_SWEEP_POINTS


def plan_sweep(points: list[PointSpec], out_dir: str | Path, *,
               force: bool = False) -> SweepPlan:
    """Which of ``points`` have no valid file in ``out_dir`` yet (all with ``force``).
    Reads only: the directory is not created."""
    from .dataset import point_file_is_valid

    out = Path(out_dir)
    try:
        names = set(os.listdir(out)) if not force else set()
    except OSError:                  # missing (or unreadable: run_sweep will say so)
        names = set()
    todo, present = [], []
    for point in points:
        if point.file_name in names and point_file_is_valid(out / point.file_name, point.key):
            present.append(point)
        else:
            todo.append(point)
    return SweepPlan(out_dir=out, points=list(points), todo=todo, present=present)


def pilot_seconds_per_trial(points: list[PointSpec],
                            budget_s: float = PILOT_BUDGET_S) -> float | None:
    """Seconds per trial on this thread, from the first and last of ``points`` run for at
    most ``budget_s`` in all (runs of 256, 512, ... trials, at most
    :data:`PILOT_MAX_TRIALS` each point; window trials, long and a block each, from 1,
    2, 4, ...).  None if no point could be measured (an overloaded configuration)."""
    from .engine import block_sizes, run_blocks, trial_block_size
    from .scenario import compile_scenario

    sample = [points[0], points[-1]] if len(points) > 1 else list(points[:1])
    rates = []
    for point in sample:
        # validated by PointSpec.make; the point's workload, if any, is its own
        scenario = compile_scenario(point.config, point.workload)
        block_trials = trial_block_size(scenario)
        spent, chunk, last = 0.0, min(256, block_trials), None
        try:
            while chunk <= PILOT_MAX_TRIALS:
                started = time.perf_counter()
                run_blocks(scenario, point.seed, block_sizes(chunk,
                                                             block_trials=block_trials))
                took = time.perf_counter() - started
                spent += took
                last = took / chunk
                if spent + 2 * took > budget_s / len(sample):
                    break
                chunk *= 2
        except SimulationError:
            pass
        if last is not None:
            rates.append(last)
    return sum(rates) / len(rates) if rates else None


def estimate_seconds(plan: SweepPlan, seconds_per_trial: float, workers: int) -> float:
    """Wall time for the plan's points on ``workers`` processes: the trials shared out,
    but never less than the longest point."""
    per_point = [p.trials * seconds_per_trial for p in plan.todo] or [0.0]
    return max(sum(per_point) / max(1, workers), max(per_point))


def format_duration(seconds: float) -> str:
    """A rough duration for people: seconds, minutes or hours."""
    if seconds < 90:
        return f"about {seconds:.0f} s" if seconds >= 1 else "under a second"
    if seconds < 90 * 60:
        return f"about {seconds / 60:.1f} min"
    return f"about {seconds / 3600:.1f} h"
