"""The warm-up check: is ``warmup`` long enough for the counted window to start near the
steady state?  (docs/workloads.md, "Choosing warmup and window".)

The point runs twice, with warm-up ``W`` and ``2W`` (the same window, trials and engine;
independent seeds, so that the two runs share no trial's history), and the HP wait's mean
and median are compared: if either pair of 95% intervals is disjoint, what the window
measures still drifts with the warm-up, and ``W`` is too short.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping

from ..errors import ParameterError
from ..units import format_duration

#: Trials per run unless told otherwise: enough for intervals of a few percent on the
#: ready workloads' HP waits, in seconds with the compiled engine.
DEFAULT_CHECK_TRIALS = 40
#: The statistics compared, with how to get each one's 95% interval from a Histogram.
STATS = {"mean": (lambda h: h.mean(), lambda h: h.mean_ci()),
         "p50": (lambda h: h.quantile(0.5), lambda h: h.quantile_ci(0.5))}


@dataclass(frozen=True)
class WarmupCheck:
    """The outcome of :func:`check_warmup`: per statistic, the value and 95% interval at
    warm-up ``W`` (``short``) and ``2W`` (``long``); ``ok`` when no pair of intervals is
    disjoint (NaN statistics, no samples, are not ok)."""

    metric: str
    warmup_ns: int
    short: dict
    long: dict
    ok: bool

    def differs(self, stat: str) -> bool:
        return _disjoint(self.short[stat][1], self.long[stat][1])

    def format(self) -> str:
        """One line per statistic, then the verdict."""
        lines = []
        for stat in STATS:
            (v1, (lo1, hi1)), (v2, (lo2, hi2)) = self.short[stat], self.long[stat]
            lines.append(f"{self.metric} {stat}: warm-up {format_duration(self.warmup_ns)} "
                         f"{format_duration(v1)} [{format_duration(lo1)}, "
                         f"{format_duration(hi1)}], warm-up "
                         f"{format_duration(2 * self.warmup_ns)} {format_duration(v2)} "
                         f"[{format_duration(lo2)}, {format_duration(hi2)}]"
                         + ("  DIFFERS" if self.differs(stat) else ""))
        lines.append("warm-up long enough" if self.ok else
                     "warm-up too short (or too few trials): lengthen warmup")
        return "\n".join(lines)


def _disjoint(a: tuple, b: tuple) -> bool:
    """Two intervals that do not overlap (an unknown one, NaN, counts as disjoint).

    >>> _disjoint((1, 2), (2, 3)), _disjoint((1, 2), (2.5, 3)), _disjoint((1, 2), (math.nan, 3))
    (False, True, True)
    """
    if any(math.isnan(x) for x in (*a, *b)):
        return True
    return a[1] < b[0] or b[1] < a[0]


def _stats(hist) -> dict:
    return {stat: (value(hist), ci(hist)) for stat, (value, ci) in STATS.items()}


def check_warmup(workload, params: Mapping | None = None, seed: int = 0,
                 trials: int = DEFAULT_CHECK_TRIALS, *, engine: str = "compiled",
                 workers: int = 1, metric: str = "hp_wait") -> WarmupCheck:
    """Run ``workload`` (a Workload, file, ready name or dict) with its ``params``
    overridden by ``params``, at warm-up ``W`` (the ``warmup`` parameter) and ``2W``,
    ``trials`` window trials each, and compare ``metric``'s mean and p50.

    The run at ``W`` uses ``seed``; the run at ``2W`` the next seed (the previous one at
    the largest seed), so that the two share no trial's random stream.

    >>> check_warmup("open")
    Traceback (most recent call last):
    ...
    mcsim.errors.ParameterError: workload: 'open' has no warm-up; allowed: a workload with window trials (trial = "window", or threads)
    """
    from ..api import simulate
    from ..points import MAX_SEED
    from . import load_workload

    wl = load_workload(workload)
    if wl.trial_kind != "window":
        raise ParameterError("workload", wl.name, "a workload with window trials (trial = "
                             "\"window\", or threads)", "has no warm-up")
    cfg = wl.config(params)
    warmup = cfg["warmup"]
    if warmup <= 0:
        raise ParameterError("warmup", warmup, "a warm-up above zero to compare with its "
                             "double", "cannot be checked")
    base = {name: value for name, value in cfg.public().items() if name != "warmup"}
    other_seed = seed + 1 if seed < MAX_SEED else seed - 1
    runs = [simulate(base, workload=wl, trials=trials, seed=s, engine=engine,
                     workers=workers, warmup=w)
            for s, w in ((seed, warmup), (other_seed, 2 * warmup))]
    short, long = (_stats(r[metric]) for r in runs)
    ok = not any(_disjoint(short[stat][1], long[stat][1]) for stat in STATS)
    return WarmupCheck(metric, warmup, short, long, ok)
