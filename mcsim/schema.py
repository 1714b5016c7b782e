"""The columns of an mcsim result table: one row per simulated configuration.

Every result mcsim writes (``mcsim run --out``, one file per sweep point, ``mcsim compact``)
has exactly these columns, in this order; docs/results.md explains them.  Names carry their
unit: statistics of time metrics end in ``_ns``.  This module only names and types columns
(no numpy, no pyarrow at import); :meth:`mcsim.result.Result.row` fills them.

>>> names = column_names()
>>> names[:3], "hp_wait_p99_ns" in names, "fault_passes_p99" in names
(['era', 'policy', 'throttle_depth'], True, True)
>>> stat_column("hp_wait", "p99_lo"), stat_column("hp_wait", "n")
('hp_wait_p99_lo_ns', 'hp_wait_n')
"""
from __future__ import annotations

from dataclasses import dataclass

from .layout import COUNTERS, METRICS
from .params import PARAMS

SCHEMA_VERSION = 1

#: Unit of each metric's samples.
METRIC_UNITS = {m: ("passes" if m == "fault_passes" else "ns") for m in METRICS}

#: Per-metric statistics, as :meth:`mcsim.histogram.Histogram.summary` names them, and
#: whether each is a count (int), a value in the metric's unit, or a plain ratio.
STATS = (
    ("n", "count"), ("overflow", "count"),
    ("mean", "value"), ("mean_lo", "value"), ("mean_hi", "value"),
    ("min", "value"), ("p50", "value"), ("p90", "value"), ("p99", "value"),
    ("p99_lo", "value"), ("p99_hi", "value"), ("p999", "value"), ("max", "value"),
    ("p99_rel_ci", "ratio"),
)

#: The histogram's sparse arrays (bucket index, then the three per-bucket sums) ...
HIST_ARRAYS = (("idx", "list<int32>"), ("counts", "list<int64>"), ("yy", "list<int64>"),
               ("yn", "list<int64>"))
#: ... and its scalars (see mcsim.histogram); ``ss`` and ``sn`` are float sums.
HIST_SCALARS = (("n", "int64"), ("total", "int64"), ("vmin", "int64"), ("vmax", "int64"),
                ("nn", "int64"), ("trials", "int64"), ("overflow", "int64"),
                ("ss", "float64"), ("sn", "float64"))

PARAM_TYPES = {"choice": "string", "int": "int64", "prob": "float64", "rate": "float64",
               "duration": "int64", "dist": "string"}


@dataclass(frozen=True)
class Column:
    name: str
    type: str       # string, int64, float64, bool, list<int32>, list<int64>
    group: str      # parameter, run, counter, statistic, histogram, provenance
    unit: str = ""


def stat_column(metric: str, stat: str) -> str:
    """Column name of one statistic of one metric: ``<metric>_<stat>[_ns]``."""
    kind = dict(STATS)[stat]
    suffix = "_ns" if kind == "value" and METRIC_UNITS[metric] == "ns" else ""
    return f"{metric}_{stat}{suffix}"


def counter_column(counter: str) -> str:
    """Column of an engine counter: its own name, with ``_seen`` added where a parameter
    has the same name (``max_trial_events`` is both the limit and the largest trial seen)."""
    return f"{counter}_seen" if any(p.name == counter for p in PARAMS) else counter


RUN_COLUMNS = (
    Column("lp_depth", "int64", "parameter", "bios"),
    Column("point_key", "string", "run"),
    Column("seed", "int64", "run"),
    Column("trials", "int64", "run", "trials"),
    Column("p99_rel_ci_target", "float64", "run"),
    Column("max_trials", "int64", "run", "trials"),
    Column("p99_rel_ci_met", "bool", "run"),
)


def columns() -> list[Column]:
    """Every column, in table order."""
    units = {"duration": "ns", "dist": ""}          # a distribution is text with units
    out = [Column(p.name, PARAM_TYPES[p.kind], "parameter", units.get(p.kind, p.unit))
           for p in PARAMS]
    out += RUN_COLUMNS
    out += [Column(counter_column(c), "int64", "counter") for c in COUNTERS if c != "trials"]
    out.append(Column("inversion_fraction", "float64", "statistic"))
    for m in METRICS:
        for stat, kind in STATS:
            typ = "int64" if kind == "count" else "float64"
            unit = METRIC_UNITS[m] if kind == "value" else ""
            out.append(Column(stat_column(m, stat), typ, "statistic", unit))
    for m in METRICS:
        out += [Column(f"{m}_hist_{k}", t, "histogram") for k, t in HIST_ARRAYS]
        out += [Column(f"{m}_hist_{k}", t, "histogram") for k, t in HIST_SCALARS]
    out.append(Column("wall_s", "float64", "provenance", "s"))
    return out


def column_names() -> list[str]:
    return [c.name for c in columns()]


def arrow_schema(metadata: dict | None = None):
    """The columns as a :class:`pyarrow.Schema` (with optional file-level metadata)."""
    import pyarrow as pa

    types = {"string": pa.string(), "int64": pa.int64(), "float64": pa.float64(),
             "bool": pa.bool_(), "list<int32>": pa.list_(pa.int32()),
             "list<int64>": pa.list_(pa.int64())}
    return pa.schema([pa.field(c.name, types[c.type]) for c in columns()], metadata=metadata)
