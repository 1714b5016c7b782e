"""``mcsim compare``: one configuration under several policies or kernels, side by side.

For each policy or kernel preset (one result row each; :func:`row_label` names it): the headline statistics with their 95% intervals,
the difference to the first row (the baseline) with an interval, a one-line verdict
computed from the numbers, the inversions by blamed step and how often each kernel path
ran (:data:`PATH_COUNTERS`).  The interval of a
difference combines the two rows' intervals as if they were independent; rows simulated
with one seed share their random numbers (positively correlated estimates), so the
combined interval is if anything too wide, never too narrow.

>>> rows = [{"policy": "hold", "inversion_fraction": 0.1, "inversions": 10,
...          "hp_wait_n": 100, "hp_wait_p999_ns": 66e6, "lp_fault_latency_mean_ns": 100.0,
...          "lp_fault_latency_mean_lo_ns": 99.0, "lp_fault_latency_mean_hi_ns": 101.0},
...         {"policy": "rfc-v2", "inversion_fraction": 0.0, "inversions": 0,
...          "hp_wait_n": 100, "hp_wait_p999_ns": 9e3, "lp_fault_latency_mean_ns": 110.0,
...          "lp_fault_latency_mean_lo_ns": 109.0, "lp_fault_latency_mean_hi_ns": 111.0}]
>>> verdict(rows[1], rows[0])
'removes all inversions; p99.9 66 ms → 9 µs; costs the LP side +10.0% fault latency (mean)'
"""
from __future__ import annotations

import math
from typing import Sequence

from .policies import BLAME_NAMES
from .units import format_duration

#: (label, metric, statistic) of each compared line; statistics as in mcsim.schema.STATS.
LINES = (
    ("hp_wait p50", "hp_wait", "p50"),
    ("hp_wait p99", "hp_wait", "p99"),
    ("hp_wait p99.9", "hp_wait", "p999"),
    ("hp_wait mean", "hp_wait", "mean"),
    ("LP fault latency mean", "lp_fault_latency", "mean"),
    ("LP fault latency p99", "lp_fault_latency", "p99"),
    ("writer_wait p99", "writer_wait", "p99"),
)


#: Counters of the paths kernel presets add (model.md §11), shown per 1,000 of ``per``:
#: ``(counter, per, what)``.
PATH_COUNTERS = (
    ("fallbacks", "faults", "fault passes falling back to mmap_lock"),
    ("tried_passes", "faults", "TRIED retry passes"),
    ("retry_misses", "faults", "retry passes finding the page not uptodate"),
    ("vma_writer_waits", "writes", "writers waiting in vma_start_write()"),
    ("hp_fallbacks", "hp_reads", "HP acquisitions falling back to mmap_lock"),
    ("dirty_throttles", "faults", "faults sleeping in balance_dirty_pages()"),
)


def row_label(row: dict) -> str:
    """What a compared row is: its kernel preset, or its policy in the 2018 model.

    >>> row_label({"kernel": "6.18", "policy": "upstream-5.1"}), row_label({"policy": "hold"})
    ('6.18', 'hold')
    """
    kernel = row.get("kernel", "none")
    return row["policy"] if kernel == "none" else kernel


def per_thousand(row: dict, counter: str, per: str) -> float:
    """``row[counter]`` per 1,000 ``row[per]`` (NaN when there are none).

    >>> per_thousand({"fallbacks": 3, "faults": 1500}, "fallbacks", "faults")
    2.0
    """
    return 1000 * row[counter] / row[per] if row[per] else math.nan


def estimate(row: dict, metric: str, stat: str) -> tuple[float, float, float]:
    """``(value, lo, hi)`` of a statistic with its 95% interval, from the row's exact
    histogram (p99.9 and p50 intervals are not stored as columns)."""
    from .plot import row_stat

    return row_stat(row, metric, stat)


def difference(a: tuple, b: tuple) -> tuple[float, float, float]:
    """``b - a`` with an interval from both intervals (as if independent; each side's
    distance to its bounds combined in quadrature).

    >>> [round(x, 4) for x in difference((10.0, 8.0, 12.0), (20.0, 17.0, 23.0))]  # 10 ± √13
    [10.0, 6.3944, 13.6056]
    """
    (va, la, ha), (vb, lb, hb) = a, b
    d = vb - va
    lo = d - math.hypot(vb - lb, ha - va)
    hi = d + math.hypot(hb - vb, va - la)
    return d, lo, hi


def _change(before: float, after: float, what: str) -> str:
    return f"{what} {format_duration(before)} → {format_duration(after)}"


def verdict(row: dict, base: dict) -> str:
    """One line: what ``row``'s policy or kernel does to inversions, the hp_wait p99.9 and the LP
    side's fault latency, compared with ``base`` (numbers from the rows)."""
    if row is base:
        return "baseline"
    parts = []
    fi, fb = row["inversion_fraction"], base["inversion_fraction"]
    if row["hp_wait_n"] == 0:
        parts.append("no HP reads were simulated")
    elif row["inversions"] == 0 and base["inversions"] > 0:
        parts.append("removes all inversions")
    elif row["inversions"] == 0:
        parts.append("no inversions (nor in the baseline)")
    elif fb == fb and fi == fi:
        from .result import acquisitions_noun

        word = "fewer" if fi < fb else "more" if fi > fb else "as many"
        nouns = {acquisitions_noun(r) for r in (row, base)}
        noun = nouns.pop() if len(nouns) == 1 else "HP reads / acquisitions"
        parts.append(f"{word} inversions ({fb:.2%} → {fi:.2%} of {noun})")
    p999, p999b = row["hp_wait_p999_ns"], base["hp_wait_p999_ns"]
    if p999 == p999 and p999b == p999b:
        parts.append(_change(p999b, p999, "p99.9"))
    parts.append(_lp_cost(row, base))
    return "; ".join(parts)


def _lp_cost(row: dict, base: dict) -> str:
    key = "lp_fault_latency_mean"
    m, mb = row[f"{key}_ns"], base[f"{key}_ns"]
    if not (m == m and mb == mb) or mb == 0:
        return "no LP faults to compare"
    _, lo, hi = difference((mb, base[f"{key}_lo_ns"], base[f"{key}_hi_ns"]),
                           (m, row[f"{key}_lo_ns"], row[f"{key}_hi_ns"]))
    pct = (m - mb) / mb
    if lo == lo and lo <= 0 <= hi:
        return f"LP fault latency unchanged within its interval ({pct:+.1%}, mean)"
    if pct > 0:
        return f"costs the LP side {pct:+.1%} fault latency (mean)"
    return f"LP side faster: {pct:+.1%} fault latency (mean)"


def comparison(rows: Sequence[dict]) -> list[dict]:
    """Per row (policy or kernel): the compared statistics, their differences to the
    first row, the verdict, the blame and the kernel paths per 1,000 (plain data, times in
    ns)."""
    base = rows[0]
    out = []
    for row in rows:
        stats = {}
        for name, metric, stat in LINES:
            value = estimate(row, metric, stat)
            diff = difference(estimate(base, metric, stat), value) if row is not base \
                else None
            stats[name] = {"value": value[0], "lo": value[1], "hi": value[2],
                           "diff": None if diff is None else diff[0],
                           "diff_lo": None if diff is None else diff[1],
                           "diff_hi": None if diff is None else diff[2]}
        out.append({"label": row_label(row), "kernel": row.get("kernel", "none"),
                    "policy": row["policy"], "trials": row["trials"],
                    "hp_reads": row["hp_wait_n"], "inversions": row["inversions"],
                    "inversion_fraction": row["inversion_fraction"],
                    "statistics": stats, "verdict": verdict(row, base),
                    "blame": {b: row[f"blame_{b}"] for b in BLAME_NAMES},
                    "paths_per_1000": {c: per_thousand(row, c, per)
                                       for c, per, _ in PATH_COUNTERS}})
    return out
