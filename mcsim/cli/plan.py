"""A sweep's plan on the command line: ``mcsim sweep --dry-run``, the line a big sweep
prints before it starts, and its progress weighted by trials."""
from __future__ import annotations

import time

from ..plan import SweepPlan, estimate_seconds, format_duration, pilot_seconds_per_trial
from .common import print_json, stdout_console
from .signals import write_stderr


def plural(n: int, word: str) -> str:
    """``"1 point"``, ``"2 points"`` (with thousands separators).

    >>> plural(1, "point"), plural(12000, "trial")
    ('1 point', '12,000 trials')
    """
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _workers(plan: SweepPlan, workers: int | None, executor: str) -> int | None:
    """Processes the sweep will use (as run_sweep decides), None on a Dask cluster."""
    from ..executors import default_workers

    if executor != "local":
        return None
    return max(1, min(workers or default_workers(), len(plan.todo) or 1))


def estimate(plan: SweepPlan, workers: int | None) -> dict:
    """The pilot's measurement and the estimated time (None where unknown)."""
    started = time.perf_counter()
    per_trial = pilot_seconds_per_trial(plan.todo) if plan.todo else None
    pilot_s = time.perf_counter() - started
    seconds = None
    if per_trial is not None:
        seconds = estimate_seconds(plan, per_trial, workers or 1)
    return {"seconds": seconds, "seconds_per_trial": per_trial, "pilot_s": pilot_s,
            "per_worker": workers is None}


def _trials_text(plan: SweepPlan) -> str:
    if plan.max_trials is None:
        return plural(plan.trials, "trial")
    return (f"at least {plan.trials:,} trials (at most {plan.max_trials:,} under the "
            "precision target)")


def _estimate_text(plan: SweepPlan, guess: dict) -> str:
    if not plan.todo:
        return "nothing to compute"
    if guess["seconds"] is None:
        return "unknown (the pilot run could not simulate the points)"
    where = " of work for one core, shared by the workers" if guess["per_worker"] else ""
    more = " or more" if plan.max_trials is not None else ""
    return (f"{format_duration(guess['seconds'])}{more}{where} (an estimate from a "
            f"{guess['pilot_s']:.2f} s pilot run on this machine)")


def show_plan(plan: SweepPlan, name: str, workers: int | None, executor: str,
              json_output: bool) -> None:
    """``--dry-run``: print the plan and its estimate; simulate and create nothing."""
    used = _workers(plan, workers, executor)
    guess = estimate(plan, used)
    if json_output:
        print_json({"dry_run": True, "out": str(plan.out_dir), "out_exists":
                    plan.out_dir.exists(), "points": len(plan.points),
                    "present": len(plan.present), "to_compute": len(plan.todo),
                    "trials": plan.trials, "max_trials": plan.max_trials,
                    "executor": executor, "workers": used,
                    "estimate_s": guess["seconds"],
                    "estimate_per_worker": guess["per_worker"],
                    "pilot_s": guess["pilot_s"],
                    "pilot_seconds_per_trial": guess["seconds_per_trial"]})
        return
    where = (f"{used} local process{'' if used == 1 else 'es'}" if used is not None
             else "the workers of the Dask cluster")
    exists = "" if plan.out_dir.exists() else " (not created yet)"
    lines = [f"{name}: dry run, nothing simulated or written",
             f"  points:     {len(plan.points):,} ({len(plan.present):,} already present, "
             f"{len(plan.todo):,} to compute)",
             f"  trials:     {_trials_text(plan)}",
             f"  workers:    {where}",
             f"  output:     {plan.out_dir}{exists}",
             f"  time:       {_estimate_text(plan, guess)}"]
    stdout_console().print("\n".join(lines), markup=False, soft_wrap=True)


def announce(plan: SweepPlan, name: str, workers: int | None, executor: str) -> None:
    """One line on stderr before a big sweep starts: what it will do and how long."""
    used = _workers(plan, workers, executor)
    guess = estimate(plan, used)
    where = f"on {plural(used, 'worker')}" if used is not None else "on the Dask cluster"
    write_stderr(f"mcsim: {name}: {plural(len(plan.todo), 'point')} to compute "
                 f"({len(plan.present):,} already present), {_trials_text(plan)}, {where}; "
                 f"time: {_estimate_text(plan, guess)}\n")


class TrialsDone:
    """``on_point`` for :func:`mcsim.executors.run_sweep`: moves a progress bar by each
    finished point's trials (the minimum under a precision target), so the time left
    weighs points by their work."""

    def __init__(self, plan: SweepPlan, bar):
        self.bar, self.total = bar, plan.trials
        self.points, self.done, self.trials, self.failed = len(plan.todo), 0, 0, 0
        self._show()

    def __call__(self, point, summary) -> None:
        self.done += 1
        self.trials += point.trials
        self.failed += summary is None
        self._show()

    def _show(self) -> None:
        detail = f"{self.done:,}/{plural(self.points, 'point')}"
        if self.failed:
            detail += f" ({self.failed:,} failed)"
        self.bar.update(self.trials, self.total, detail)
