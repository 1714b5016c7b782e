"""The data behind mcsim's figures and reports: rows of a result table, the swept axes,
statistics with their 95% intervals from the exact histograms, and labels with units.
Nothing here needs matplotlib.

>>> rows = [{"policy": "rfc-v2", "wake_ns": 20000}, {"policy": "hold", "wake_ns": 20000}]
>>> axes_of(rows), distinct(rows, "policy"), label(rows[0], ["policy", "wake_ns"])
(['policy'], ['hold', 'rfc-v2'], 'rfc-v2, wake_ns 20 µs')
"""
from __future__ import annotations

from typing import Iterable, Mapping, Sequence

#: Statistics :func:`mcsim.plot.quantiles` can draw, and the quantile each stands for.
STAT_QUANTILES = {"p50": 0.5, "p90": 0.9, "p99": 0.99, "p999": 0.999, "mean": None}
STAT_LABELS = {"p50": "p50", "p90": "p90", "p99": "p99", "p999": "p99.9", "mean": "mean"}


def rows_of(table) -> list[dict]:
    """The rows of a result table as dicts, each workload variable a key of its own
    (:func:`with_workload_vars`; a list of dicts that has them is returned as is).

    >>> rows_of([{"policy": "hold"}])
    [{'policy': 'hold'}]
    """
    if isinstance(table, list) and all(isinstance(r, Mapping) for r in table):
        return with_workload_vars(table)
    if hasattr(table, "to_pylist") and hasattr(table, "column_names"):
        return with_workload_vars(_rows_with_array_histograms(table))
    from ..errors import UsageError

    raise UsageError(f"table: {type(table).__name__} is not a result table; allowed: a "
                     "pyarrow Table from mcsim.load or Result.to_arrow, or its rows")


def _rows_with_array_histograms(table) -> list[dict]:
    """``table.to_pylist()``, except that list columns (the sparse histograms) become
    numpy arrays sliced from one buffer: a 120-point sweep holds ~10^5 histogram entries
    per metric, and making each a Python int took longer than reading the files."""
    import pyarrow as pa

    columns = {}
    for name in table.column_names:
        column = table.column(name)
        if pa.types.is_list(column.type) and column.null_count == 0:
            array = column.combine_chunks()
            values = _numpy(array.values)
            offsets = _numpy(array.offsets)
            columns[name] = [values[offsets[i]:offsets[i + 1]] for i in range(len(array))]
        else:
            columns[name] = column.to_pylist()
    names = list(columns)
    return [dict(zip(names, values)) for values in zip(*columns.values())]


def _numpy(array):
    """A numpy view of an integer Arrow array without nulls, read off its buffer:
    ``Array.to_numpy`` imports pandas (half a second, and a Ctrl-C during that import is
    lost)."""
    import numpy as np

    if array.null_count == 0 and str(array.type) in ("int32", "int64"):
        data = np.frombuffer(array.buffers()[1], dtype=str(array.type))
        return data[array.offset:array.offset + len(array)]
    return array.to_numpy(zero_copy_only=False)


def _vars(row: Mapping) -> dict:
    """A row's workload variables (its ``workload_vars`` JSON; none without one)."""
    import json

    try:
        out = json.loads(row.get("workload_vars") or "{}")
    except (TypeError, ValueError):
        return {}
    return out if isinstance(out, dict) else {}


def workload_var_columns(rows: Sequence[Mapping]) -> dict[str, str]:
    """``{variable: key}``: the workload variables of ``rows`` and the key each takes in a
    row (:func:`with_workload_vars`): its name, or ``var.<name>`` where the name is a
    result column already (a variable ``seed`` or ``policy``).

    >>> workload_var_columns([{"workload_vars": '{"n":4,"seed":1}'}, {"workload_vars": "{}"}])
    {'n': 'n', 'seed': 'var.seed'}
    """
    from ..schema import column_names

    names = sorted({k for r in rows for k in _vars(r)})
    if not names:
        return {}
    taken = set(column_names())
    return {n: (f"var.{n}" if n in taken else n) for n in names}


def with_workload_vars(rows: Sequence[Mapping]) -> list:
    """``rows`` with each workload variable as a key of its own (None in a row whose
    workload lacks it), so a sweep over a variable has an axis like a parameter's; the
    rows themselves when they have those keys already (or no workload variables).

    >>> rows = with_workload_vars([{"workload_vars": '{"n":1}'}, {"workload_vars": '{"n":8}'}])
    >>> [r["n"] for r in rows], with_workload_vars(rows) is rows
    ([1, 8], True)
    """
    keys = workload_var_columns(rows)
    if all(key in r for r in rows for key in keys.values()):
        return rows if isinstance(rows, list) else list(rows)
    out = []
    for r in rows:
        values = _vars(r)
        out.append({**r, **{key: values.get(name) for name, key in keys.items()}})
    return out


def axes_of(rows: Sequence[dict]) -> list[str]:
    """The parameter columns, ``seed``, the workload's name and its variables (keys added
    by :func:`with_workload_vars`) whose value differs between rows: the swept axes, in
    table order.

    >>> axes_of([{"policy": "hold", "wake_ns": 0}, {"policy": "rfc-v2", "wake_ns": 0}])
    ['policy']
    >>> axes_of(with_workload_vars([{"policy": "hold", "workload_vars": f'{{"n":{n}}}'}
    ...                             for n in (2, 4)]))
    ['n']
    """
    from ..params import PARAMS
    from ..schema import param_column

    if not rows:
        return []
    names = [param_column(p.name) for p in PARAMS] + ["seed", "workload"] \
        + list(workload_var_columns(rows).values())
    return [n for n in names if n in rows[0] and len({repr(r.get(n)) for r in rows}) > 1]


def axis_column(name: str, rows: Sequence[dict]) -> str:
    """The column of axis ``name``, given as a parameter (``wake``) or a column
    (``wake_ns``); a one-line :class:`~mcsim.errors.UsageError` if it is neither."""
    from ..errors import UsageError
    from ..params import PARAM_BY_NAME
    from ..schema import param_column

    col = param_column(name) if name in PARAM_BY_NAME else name
    if not rows or col not in rows[0] or col.endswith(tuple(f"_hist_{k}" for k in
                                                            ("idx", "counts"))):
        swept = ", ".join(axes_of(rows)) or "none (one configuration)"
        raise UsageError(f"x: {name!r} is not a parameter column of this table; allowed: "
                         f"a parameter (mcsim params), swept here: {swept}")
    return col


_HIST_CACHE: dict = {}
_HIST_CACHE_SIZE = 1024


def histogram(row: Mapping, metric: str):
    """The exact histogram of ``metric`` in ``row`` (see :mod:`mcsim.histogram`); the
    histograms of recently seen rows are kept, since a report asks for each several times."""
    from ..dataset import row_histogram

    key = (id(row), metric)
    hit = _HIST_CACHE.get(key)
    if hit is not None and hit[0] is row:      # the same row object, not a reused id
        return hit[1]
    hist = row_histogram(row, metric)
    if len(_HIST_CACHE) >= _HIST_CACHE_SIZE:
        _HIST_CACHE.clear()
    _HIST_CACHE[key] = (row, hist)
    return hist


def row_stat(row: Mapping, metric: str, stat: str) -> tuple[float, float, float]:
    """``(value, lo, hi)`` of a statistic of ``row`` with its 95% interval: from the
    statistic columns where the table has them (p99's and the mean's intervals), else
    read off the exact histogram (p50, p90, p99.9 intervals).

    >>> import mcsim
    >>> row = mcsim.simulate(policy="hold", throttle_depth=7, trials=2000, seed=1).row()
    >>> row_stat(row, "hp_wait", "p99") == (row["hp_wait_p99_ns"], row["hp_wait_p99_lo_ns"],
    ...                                     row["hp_wait_p99_hi_ns"])
    True
    >>> row_stat(row, "hp_wait", "p999") == stat_value(histogram(row, "hp_wait"), "p999")
    True
    """
    from ..schema import stat_column

    if stat in ("p99", "mean"):
        return tuple(row[stat_column(metric, s)] for s in (stat, f"{stat}_lo", f"{stat}_hi"))
    return stat_value(histogram(row, metric), stat)


def format_value(column: str, value) -> str:
    """An axis value with its unit: ``20 µs`` for ``wake_ns``, ``200/s`` for a rate.

    >>> format_value("wake_ns", 20000), format_value("hp_rate_per_s", 200.0), format_value("policy", "hold")
    ('20 µs', '200/s', 'hold')
    """
    from ..units import format_duration

    if isinstance(value, bool) or value is None:
        return str(value)
    if column.endswith("_ns") and isinstance(value, (int, float)):
        return format_duration(value)
    if column.endswith("_per_s") and isinstance(value, (int, float)):
        return f"{value:g}/s"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def label(row: Mapping, columns: Iterable[str]) -> str:
    """``policy hold, throttle_depth 7``: the values of ``columns`` in ``row``."""
    parts = [f"{c} {format_value(c, row[c])}" if c != "policy" else str(row[c])
             for c in columns]
    return ", ".join(parts) or "all rows"


def sort_key(column: str):
    """A sort key for the values of ``column``: policies in `mcsim policies` order, kernel
    presets in timeline order (`mcsim kernels`, the 2018 model first), numbers by value,
    the rest as text.

    >>> sorted(["6.18", "5.11", "none", "5.5"], key=sort_key("kernel"))
    ['none', '5.5', '5.11', '6.18']
    >>> sorted(["100ms", "1s", "10ms"], key=sort_key("think"))
    ['10ms', '100ms', '1s']
    """
    from ..errors import McsimError
    from ..kernels import KERNELS
    from ..params import NO_KERNEL
    from ..policies import POLICY_LIST
    from ..units import parse_duration

    order = {"policy": {p.name: i for i, p in enumerate(POLICY_LIST)},
             "kernel": {name: i for i, name in enumerate((NO_KERNEL, *KERNELS))}}

    def key(value):
        if column in order:
            return (0, order[column].get(value, len(order[column])), str(value))
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return (0, value, "")
        if isinstance(value, str):
            # Durations written as text (a workload variable "10ms") sort by length of time.
            try:
                return (0, parse_duration(value), "")
            except McsimError:
                pass
        return (1, 0, str(value))
    return key


def distinct(rows: Sequence[dict], column: str) -> list:
    """The values of ``column`` in ``rows``, sorted (policies in `mcsim policies` order)."""
    seen = {repr(r[column]): r[column] for r in rows}
    return sorted(seen.values(), key=sort_key(column))


def check_metric(metric) -> str:
    """``metric`` if it is one of :data:`mcsim.layout.METRICS`, else a one-line
    :class:`~mcsim.errors.ParameterError`.

    >>> check_metric("gate_wait")
    'gate_wait'
    """
    from ..errors import ParameterError
    from ..layout import METRICS

    if not isinstance(metric, str) or metric not in METRICS:
        raise ParameterError("metric", metric, "one of " + ", ".join(METRICS),
                             "is not a metric")
    return metric


def select(rows: Sequence[dict], where: Mapping | None) -> list[dict]:
    """Rows whose columns equal ``where``'s values (parameter names or columns)."""
    if not where:
        return list(rows)
    if not isinstance(where, Mapping):
        from ..errors import ParameterError

        raise ParameterError("where", where, "a dict of parameter values such as "
                             "{'throttle_depth': 7}", "is not a mapping")
    cols = {axis_column(k, rows): v for k, v in where.items()}
    return [r for r in rows if all(r[c] == v for c, v in cols.items())]



def ccdf_points(hist) -> tuple[list[float], list[float]]:
    """``(t, P(X >= t))`` at the lower edge of each non-empty bucket above 0, from the
    exact histogram: the data of a CCDF on log-log axes (0 has no place there; its share
    is ``1 - P(X >= first t)``).

    >>> from mcsim.histogram import Histogram
    >>> ccdf_points(Histogram.from_trials([0, 0, 5, 1000], [4]))
    ([5.0, 1000.0], [0.5, 0.25])
    """
    import numpy as np

    from ..histogram import bucket_lower

    if hist.n == 0:
        return [], []
    idx = np.flatnonzero(hist.counts)
    counts = hist.counts[idx]
    before = np.concatenate(([0], np.cumsum(counts)[:-1]))
    keep = idx > 0
    xs = bucket_lower(idx[keep]).astype(float)
    if keep.any() and hist.vmin > 0:
        xs[0] = float(hist.vmin)          # the smallest sample is known exactly
    ys = (hist.n - before[keep]) / hist.n
    return xs.tolist(), ys.tolist()


def stat_value(hist, stat: str) -> tuple[float, float, float]:
    """``(value, lo, hi)``: a statistic and its 95% interval, from the histogram.

    >>> from mcsim.histogram import Histogram
    >>> stat_value(Histogram.from_trials(list(range(1000)), [1] * 1000), "p50")
    (498.5, 468.0, 531.0)
    """
    if stat == "mean":
        return (hist.mean(), *hist.mean_ci())
    p = STAT_QUANTILES[stat]
    return (hist.quantile(p), *hist.quantile_ci(p))
