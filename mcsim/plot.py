"""Figures of mcsim results, with matplotlib: tail CCDFs, quantiles against a swept axis,
inversion blame, and the timeline of a script.

Every function takes a result table (:func:`mcsim.load`, :meth:`Result.to_arrow
<mcsim.result.Result.to_arrow>`, or a list of its rows as dicts) and returns a
:class:`matplotlib.figure.Figure` built without pyplot, so nothing is left in pyplot's
global state and any backend (or none: ``fig.savefig("x.svg")``) works.  Values are read
from the table: quantiles and their 95% intervals from the exact histograms stored in each
row (``<metric>_hist_*``, :func:`mcsim.dataset.row_histogram`), never re-estimated from
summaries.  What a figure had to leave out (too many facets, metrics without samples) is
said on the figure and listed in ``fig.mcsim_notes``.

>>> import mcsim, mcsim.plot
>>> table = mcsim.simulate(policy="hold", throttle_depth=7, trials=3000, seed=1).to_arrow()
>>> fig = mcsim.plot.ccdf(table)
>>> ax = fig.axes[0]
>>> ax.get_xscale(), ax.get_yscale(), len(ax.get_lines())
('log', 'log', 1)
"""
from __future__ import annotations

import math
from typing import Iterable, Mapping, Sequence

#: Facets (panel rows) and lines a figure shows at most; the rest is named in a note.
MAX_FACETS = 6
MAX_LINES = 12
MAX_BARS = 48
#: The CCDF's y axis reaches at least this far down (the tail to one in a million).
CCDF_FLOOR = 1e-6
#: Statistics :func:`quantiles` can draw, and the quantile each stands for.
STAT_QUANTILES = {"p50": 0.5, "p90": 0.9, "p99": 0.99, "p999": 0.999, "mean": None}
STAT_LABELS = {"p50": "p50", "p90": "p90", "p99": "p99", "p999": "p99.9", "mean": "mean"}
LANE_COLORS = {"wait": "#f2c14e", "hold": "#2a6f97", "gate": "#c8553d", "io": "#7b2d26"}
LINE_STYLES = ("-", "--", "-.", ":")


# ----------------------------------------------------------------------- table access
def rows_of(table) -> list[dict]:
    """The rows of a result table as dicts (a list of dicts is returned as is).

    >>> rows_of([{"policy": "hold"}])
    [{'policy': 'hold'}]
    """
    if isinstance(table, list) and all(isinstance(r, Mapping) for r in table):
        return table
    if hasattr(table, "to_pylist") and hasattr(table, "column_names"):
        return _rows_with_array_histograms(table)
    from .errors import UsageError

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
            values = array.values.to_numpy(zero_copy_only=False)
            offsets = array.offsets.to_numpy()
            columns[name] = [values[offsets[i]:offsets[i + 1]] for i in range(len(array))]
        else:
            columns[name] = column.to_pylist()
    names = list(columns)
    return [dict(zip(names, values)) for values in zip(*columns.values())]


def axes_of(rows: Sequence[dict]) -> list[str]:
    """The parameter columns (and ``seed``) whose value differs between rows: the swept
    axes, in table order.

    >>> axes_of([{"policy": "hold", "wake_ns": 0}, {"policy": "rfc-v2", "wake_ns": 0}])
    ['policy']
    """
    from .params import PARAMS
    from .schema import param_column

    if not rows:
        return []
    names = [param_column(p.name) for p in PARAMS] + ["seed"]
    return [n for n in names if n in rows[0] and len({repr(r[n]) for r in rows}) > 1]


def axis_column(name: str, rows: Sequence[dict]) -> str:
    """The column of axis ``name``, given as a parameter (``wake``) or a column
    (``wake_ns``); a one-line :class:`~mcsim.errors.UsageError` if it is neither."""
    from .errors import UsageError
    from .params import PARAM_BY_NAME
    from .schema import param_column

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
    from .dataset import row_histogram

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
    from .schema import stat_column

    if stat in ("p99", "mean"):
        return tuple(row[stat_column(metric, s)] for s in (stat, f"{stat}_lo", f"{stat}_hi"))
    return stat_value(histogram(row, metric), stat)


def format_value(column: str, value) -> str:
    """An axis value with its unit: ``20 µs`` for ``wake_ns``, ``200/s`` for a rate.

    >>> format_value("wake_ns", 20000), format_value("hp_rate_per_s", 200.0), format_value("policy", "hold")
    ('20 µs', '200/s', 'hold')
    """
    from .units import format_duration

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


def _sort_key(column: str):
    from .policies import POLICY_LIST

    order = {p.name: i for i, p in enumerate(POLICY_LIST)}

    def key(value):
        if column == "policy":
            return (0, order.get(value, 99), str(value))
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return (0, value, "")
        return (1, 0, str(value))
    return key


def distinct(rows: Sequence[dict], column: str) -> list:
    """The values of ``column`` in ``rows``, sorted (policies in `mcsim policies` order)."""
    seen = {repr(r[column]): r[column] for r in rows}
    return sorted(seen.values(), key=_sort_key(column))


def check_metric(metric) -> str:
    """``metric`` if it is one of :data:`mcsim.layout.METRICS`, else a one-line
    :class:`~mcsim.errors.ParameterError`.

    >>> check_metric("gate_wait")
    'gate_wait'
    """
    from .errors import ParameterError
    from .layout import METRICS

    if not isinstance(metric, str) or metric not in METRICS:
        raise ParameterError("metric", metric, "one of " + ", ".join(METRICS),
                             "is not a metric")
    return metric


def select(rows: Sequence[dict], where: Mapping | None) -> list[dict]:
    """Rows whose columns equal ``where``'s values (parameter names or columns)."""
    if not where:
        return list(rows)
    if not isinstance(where, Mapping):
        from .errors import ParameterError

        raise ParameterError("where", where, "a dict of parameter values such as "
                             "{'throttle_depth': 7}", "is not a mapping")
    cols = {axis_column(k, rows): v for k, v in where.items()}
    return [r for r in rows if all(r[c] == v for c, v in cols.items())]


# ----------------------------------------------------------------------- figure helpers
def new_figure(width: float, height: float):
    """A matplotlib Figure on its own Agg canvas (pyplot is never involved).  Its margins
    are set by :func:`arrange` in inches: a layout engine would cost seconds per figure
    in a report of hundreds of points."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    fig.mcsim_notes = []
    return fig


def note(fig, text: str) -> None:
    """Say on the figure (and in ``fig.mcsim_notes``) what it leaves out or why it is empty."""
    if not hasattr(fig, "mcsim_notes"):
        fig.mcsim_notes = []
    fig.mcsim_notes.append(text)


def arrange(fig, left: float = 0.85, right: float = 0.2, top: float = 0.45,
            bottom: float = 0.55, hspace: float = 0.5, wspace: float = 0.3) -> None:
    """Margins in inches (room below for the notes, which are drawn here), so a figure of
    any number of panels keeps the same spacing."""
    notes = getattr(fig, "mcsim_notes", [])
    extra = 0.14 * sum(1 + len(n) // 160 for n in notes)
    width, height = fig.get_size_inches()
    if extra:
        height += extra
        fig.set_figheight(height)
        fig.text(0.01, 0.01, "\n".join(_wrap(n) for n in notes), fontsize=7,
                 color="#555555", ha="left", va="bottom")
    fig.subplots_adjust(left=left / width, right=1 - right / width, top=1 - top / height,
                        bottom=(bottom + extra) / height, hspace=hspace, wspace=wspace)


def _wrap(text: str, width: int = 160) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width)) or text


def empty_axes(ax, text: str) -> None:
    """An honest empty panel: the reason in the middle, no ticks."""
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center",
            fontsize=9, color="#555555", wrap=True)
    ax.set_xticks([])
    ax.set_yticks([])


def duration_formatter():
    """Tick labels in human units (``10 µs``, ``8 ms``) for an axis in ns."""
    from matplotlib.ticker import FuncFormatter

    from .units import format_duration

    return FuncFormatter(lambda v, _pos: format_duration(v) if v >= 0 else "")


def _cap(items: list, limit: int, what: str, fig) -> list:
    if len(items) > limit:
        note(fig, f"{what}: {limit} of {len(items)} shown; left out: "
             + "; ".join(str(i) for i in items[limit:limit + 5])
             + (" ..." if len(items) > limit + 5 else ""))
    return items[:limit]


# ----------------------------------------------------------------------- CCDF
def ccdf_points(hist) -> tuple[list[float], list[float]]:
    """``(t, P(X >= t))`` at the lower edge of each non-empty bucket above 0, from the
    exact histogram: the data of a CCDF on log-log axes (0 has no place there; its share
    is ``1 - P(X >= first t)``).

    >>> from mcsim.histogram import Histogram
    >>> ccdf_points(Histogram.from_trials([0, 0, 5, 1000], [4]))
    ([5.0, 1000.0], [0.5, 0.25])
    """
    import numpy as np

    from .histogram import bucket_lower

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


def ccdf(table, metric: str = "hp_wait", where: Mapping | None = None,
         title: str | None = None, ax=None):
    """The CCDF ``P(metric >= t)`` of each row, on log-log axes, from the exact
    histograms; the y axis reaches down to 1e-6 (or 1/n if lower), so the tail shows.

    ``where`` keeps the rows whose parameters equal its values (``{"throttle_depth": 7}``);
    one line per row (at most :data:`MAX_LINES`), labelled with the parameters that vary.
    ``ax``: draw into these axes instead of a new figure.

    >>> import mcsim, mcsim.plot
    >>> rows = [mcsim.simulate(policy="hold", throttle_depth=d, writer_ratio=0.1,
    ...                        trials=2000, seed=1).row() for d in (0, 7)]
    >>> fig = mcsim.plot.ccdf(rows)
    >>> [line.get_label() for line in fig.axes[0].get_lines()]
    ['throttle_depth 0', 'throttle_depth 7']
    """
    check_metric(metric)
    rows = select(rows_of(table), where)
    own = ax is None
    fig = new_figure(6.4, 4.2) if own else ax.figure
    ax = fig.add_subplot() if own else ax
    fixed = ", ".join(f"{k} {format_value(axis_column(k, rows), v)}" if rows else str(v)
                      for k, v in (where or {}).items())
    ax.set_title(title or f"{metric}: CCDF" + (f" ({fixed})" if fixed else ""), fontsize=10)
    _ccdf_lines(ax, fig, rows, metric)
    if own:
        arrange(fig, left=0.75)
    return fig


def _ccdf_lines(ax, fig, rows, metric) -> None:
    if not rows:
        empty_axes(ax, "no rows match")
        return
    varying = axes_of(rows)
    rows = sorted(rows, key=lambda r: tuple(_sort_key(c)(r[c]) for c in varying))
    low, drawn, empty = CCDF_FLOOR, 0, []
    for i, row in enumerate(_cap(rows, MAX_LINES, f"{metric} CCDF lines", fig)):
        h = histogram(row, metric)
        xs, ys = ccdf_points(h)
        name = label(row, varying) if varying else row.get("policy", metric)
        if not xs:
            empty.append(f"{name}: " + ("no samples" if h.n == 0 else
                                        f"all {h.n:,} samples are 0"))
            continue
        ax.step(xs, ys, where="post", label=name, color=f"C{i % 10}",
                linestyle=LINE_STYLES[(i // 10) % len(LINE_STYLES)], linewidth=1.4)
        low = min(low, 0.5 / h.n)
        drawn += 1
    for text in empty:
        note(fig, f"{metric} CCDF, not drawn: {text} (nothing above 0 on a log axis)")
    if not drawn:
        empty_axes(ax, f"no {metric} above 0 to draw:\n" + "\n".join(empty))
        return
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_ylim(low, 1.5)
    ax.xaxis.set_major_formatter(duration_formatter())
    ax.set_xlabel(f"t ({metric}, log scale)")
    ax.set_ylabel(f"P({metric} \u2265 t)")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=7, loc="lower left")


# ----------------------------------------------------------------------- quantiles
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


def _positions(values: list) -> tuple[list, list | None]:
    """x positions of axis values: the numbers, or 0, 1, ... for text (with labels)."""
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return list(values), None
    return list(range(len(values))), [str(v) for v in values]


def quantiles(table, x: str | None = None, metric: str = "hp_wait",
              stats: Sequence[str] = ("p99", "p999"), by: str = "policy",
              where: Mapping | None = None):
    """Statistics of ``metric`` against the swept axis ``x``: one column of panels per
    statistic (default p99 and p99.9), one line per value of ``by`` (policy), the 95%
    intervals as shaded bands, one row of panels per combination of the other swept axes
    (at most :data:`MAX_FACETS`; the rest is named in a note).  The y axis is linear up
    to 1 µs and logarithmic above, so 0 and 60 ms both show.

    >>> import mcsim, mcsim.plot
    >>> rows = [mcsim.simulate(policy="hold", throttle_depth=d, trials=2000, seed=1).row()
    ...         for d in (0, 7)]
    >>> fig = mcsim.plot.quantiles(rows, x="throttle_depth")
    >>> line = fig.axes[0].get_lines()[0]
    >>> list(line.get_xdata()) == [0, 7], bool(line.get_ydata()[1] == rows[1]["hp_wait_p99_ns"])
    (True, True)
    """
    from .errors import UsageError

    check_metric(metric)
    rows = select(rows_of(table), where)
    for s in stats:
        if s not in STAT_QUANTILES:
            raise UsageError(f"stats: {s!r} is not a statistic; allowed: "
                             + ", ".join(STAT_QUANTILES))
    swept = axes_of(rows)
    if x is None:
        x = next((a for a in swept if a != by), swept[0] if swept else "throttle_depth")
    xcol = axis_column(x, rows)
    bycol = axis_column(by, rows) if by else None
    facet_cols = [a for a in swept if a not in (xcol, bycol)]
    facets = sorted({tuple(repr(r[c]) for c in facet_cols): tuple(r[c] for c in facet_cols)
                     for r in rows}.values(),
                    key=lambda t: tuple(_sort_key(c)(v) for c, v in zip(facet_cols, t)))
    fig = new_figure(4.2 * len(stats) + 1.6, 0.9 + 2.4 * min(len(facets), MAX_FACETS))
    facets = _cap(facets, MAX_FACETS, "facets (" + ", ".join(facet_cols) + ")", fig)
    axs = fig.subplots(len(facets), len(stats), squeeze=False, sharex=True)
    groups = distinct(rows, bycol) if bycol else [None]
    groups = _cap(groups, MAX_LINES, f"{by} lines", fig)
    for f, facet in enumerate(facets):
        frows = [r for r in rows if all(r[c] == v for c, v in zip(facet_cols, facet))]
        for s, stat in enumerate(stats):
            ax = axs[f][s]
            head = f"{metric} {STAT_LABELS[stat]}"
            ftitle = label(dict(zip(facet_cols, facet)), facet_cols) if facet_cols else ""
            ax.set_title(head + (f" \u2014 {ftitle}" if ftitle else ""), fontsize=9)
            _quantile_panel(ax, frows, xcol, bycol, groups, metric, stat)
            if f == len(facets) - 1:
                ax.set_xlabel(xcol)
    handles = {}
    for ax in axs.flat:
        for h, name in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(name, h)
    if handles:
        fig.legend(list(handles.values()), list(handles), loc="upper right", fontsize=8,
                   frameon=False)
    xlabels = [str(v) for v in distinct(rows, xcol)] if rows else []
    long_x = _positions(distinct(rows, xcol))[1] is not None and \
        max(map(len, xlabels)) > 10
    arrange(fig, right=1.5, hspace=0.45, bottom=1.3 if long_x else 0.55)
    return fig


def _quantile_panel(ax, rows, xcol, bycol, groups, metric, stat) -> None:
    xvalues = distinct(rows, xcol)
    pos, ticklabels = _positions(xvalues)
    where_x = {repr(v): p for v, p in zip(xvalues, pos)}
    drawn, top = 0, 0.0
    for i, g in enumerate(groups):
        grows = sorted((r for r in rows if bycol is None or r[bycol] == g),
                       key=lambda r: _sort_key(xcol)(r[xcol]))
        xs, ys, los, his = [], [], [], []
        for r in grows:
            value, lo, hi = row_stat(r, metric, stat)
            if math.isnan(value):
                continue
            xs.append(where_x[repr(r[xcol])])
            ys.append(value)
            los.append(lo if not math.isnan(lo) else value)
            his.append(hi if not math.isnan(hi) else value)
        if not xs:
            continue
        name = str(g) if g is not None else metric
        if ticklabels:           # categories: no line between them, the interval as bars
            shift = (i - (len(groups) - 1) / 2) * 0.06
            ax.errorbar([x + shift for x in xs], ys, yerr=[[max(y - lo, 0) for y, lo in zip(ys, los)],
                        [max(hi - y, 0) for y, hi in zip(ys, his)]], fmt="o", markersize=4,
                        capsize=3, color=f"C{i % 10}", label=name)
        else:
            ax.plot(xs, ys, marker="o", markersize=3, linewidth=1.4, color=f"C{i % 10}",
                    linestyle=LINE_STYLES[(i // 10) % len(LINE_STYLES)], label=name)
            ax.fill_between(xs, los, his, color=f"C{i % 10}", alpha=0.18, linewidth=0)
        drawn += 1
        top = max(top, *his, *ys)
    if ticklabels:
        long = max(len(t) for t in ticklabels) > 10
        ax.set_xticks(pos, ticklabels, rotation=20 if long else 0,
                      ha="right" if long else "center", fontsize=7 if long else 9)
        ax.set_xlim(-0.5, len(pos) - 0.5)
    if not drawn:
        empty_axes(ax, f"no {metric} samples in these rows")
        return
    _symlog_axis(ax, top, 1.0 if metric == "fault_passes" else 1000.0,
                 metric != "fault_passes")
    ax.grid(True, alpha=0.3)
    if top == 0:
        ax.text(0.5, 0.5, f"every {metric} is 0 here", transform=ax.transAxes,
                ha="center", va="center", color="#555555", fontsize=9)


def _symlog_axis(ax, top: float, linthresh: float, durations: bool) -> None:
    """Linear from 0 to ``linthresh``, logarithmic above; ticks at 0 and the decades
    from ``linthresh`` up to ``top``, so 0, 9 µs and 60 ms share one axis."""
    from matplotlib.ticker import FixedLocator, NullLocator

    ax.set_yscale("symlog", linthresh=linthresh)
    decades = max(1, math.ceil(math.log10(max(top, linthresh) / linthresh)))
    step = 1 if decades <= 6 else 2
    ticks = [0.0] + [linthresh * 10 ** k for k in range(0, decades + 1, step)]
    ax.yaxis.set_major_locator(FixedLocator(ticks))
    ax.yaxis.set_minor_locator(NullLocator())
    ax.set_ylim(0, max(top * 1.5, linthresh * 10 ** decades if top > 0 else linthresh))
    if durations:
        ax.yaxis.set_major_formatter(duration_formatter())


# ----------------------------------------------------------------------- blame
def blame(table, by: str = "policy", where: Mapping | None = None):
    """Inversions as a share of HP reads, one stacked bar per row, split by the blamed
    step (columns ``blame_*``): the bar's height is the inversion fraction.  One panel per
    value of ``by``; bars beyond :data:`MAX_BARS` per panel are named in a note.

    >>> import mcsim, mcsim.plot
    >>> row = mcsim.simulate(policy="hold", throttle_depth=7, writer_ratio=0.1,
    ...                      trials=2000, seed=1).row()
    >>> fig = mcsim.plot.blame([row])
    >>> total = sum(p.get_height() for p in fig.axes[0].patches)
    >>> bool(abs(total - row["inversion_fraction"]) < 1e-12)
    True
    """
    rows = select(rows_of(table), where)
    bycol = axis_column(by, rows) if by and rows else None
    groups = distinct(rows, bycol) if bycol else [None]
    others = [a for a in axes_of(rows) if a != bycol]
    per_panel = max((sum(1 for r in rows if bycol is None or r[bycol] == g) for g in groups),
                    default=0)
    # Bars are named by their values only; the axis label says whose values they are.
    ticks = {id(r): ", ".join(format_value(c, r[c]) for c in others) for r in rows}
    longest = max(map(len, ticks.values()), default=0)
    rotated = per_panel * longest > 90
    label_in = 0.075 * longest * (0.75 if rotated else 0) + 0.45
    panel = 1.7 + label_in
    fig = new_figure(10, 0.9 + panel * min(max(len(groups), 1), MAX_FACETS))
    groups = _cap(groups, MAX_FACETS, f"{by} panels", fig)
    axs = fig.subplots(len(groups), 1, squeeze=False)
    for ax, g in zip(axs[:, 0], groups):
        grows = [r for r in rows if bycol is None or r[bycol] == g]
        ax.set_title(f"inversions by blamed step \u2014 {g}" if g is not None
                     else "inversions by blamed step", fontsize=9)
        grows = _cap(grows, MAX_BARS, f"bars of {g}", fig)
        _blame_panel(ax, [r for r in grows if r["hp_wait_n"]],
                     [ticks[id(r)] for r in grows if r["hp_wait_n"]], rotated)
        ax.set_xlabel(", ".join(others), fontsize=8)
    handles = {h.get_label(): h for ax in axs.flat for h in ax.containers}
    if handles:
        fig.legend(list(handles.values()), list(handles), loc="upper right", fontsize=8,
                   frameon=False, title="blamed step", title_fontsize=8)
    arrange(fig, right=1.5, bottom=label_in, hspace=(label_in + 0.35) / 1.7)
    return fig


def _blame_panel(ax, rows, ticklabels, rotated: bool) -> None:
    """One panel of :func:`blame`: a stacked bar per row, blame counts over HP reads."""
    from .policies import BLAME_NAMES

    if not rows:
        empty_axes(ax, "no HP reads in these rows: no inversion fraction")
        return
    colors = ("#2a6f97", "#c8553d", "#f2c14e", "#7b2d26", "#61a5c2", "#8f8f8f")
    pos = list(range(len(rows)))
    bottom = [0.0] * len(rows)
    for name, color in zip(BLAME_NAMES, colors):
        share = [r[f"blame_{name}"] / r["hp_wait_n"] for r in rows]
        ax.bar(pos, share, bottom=bottom, color=color, label=name, width=0.8)
        bottom = [b + s for b, s in zip(bottom, share)]
    ax.set_ylim(bottom=0)
    ax.set_xticks(pos, ticklabels, rotation=60 if rotated else 0,
                  ha="right" if rotated else "center", rotation_mode="anchor",
                  fontsize=6 if len(pos) > 12 else 8)
    ax.yaxis.set_major_formatter(_percent_formatter())
    ax.set_ylabel("share of HP reads")
    ax.grid(True, axis="y", alpha=0.3)
    if max(bottom) == 0:
        ax.text(0.5, 0.5, "no inversions", transform=ax.transAxes, ha="center",
                color="#555555")


def _percent_formatter():
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda v, _pos: f"{v:.1%}" if v < 0.1 else f"{v:.0%}")


# ----------------------------------------------------------------------- timeline
def timeline(script_result, title: str | None = None):
    """The timeline of a scripted run (:func:`mcsim.run_script`): one row per task, bars
    for waiting for L, holding L, and the IO gate and IO (hatched where L is held: the
    inversion).

    >>> import mcsim, mcsim.plot
    >>> r = mcsim.run_script([{"at": 0, "kind": "writer", "hold": "50us"},
    ...                       {"at": "10us", "kind": "hp_read", "hold": "10us"}])
    >>> fig = mcsim.plot.timeline(r)
    >>> [t.get_text() for t in fig.axes[0].get_yticklabels()]
    ['0 writer', '1 hp_read']
    """
    from .layout import LANES, LANE_GATE, LANE_HOLD, LANE_IO
    from .result import ScriptResult

    if not isinstance(script_result, ScriptResult):
        from .errors import ParameterError

        raise ParameterError("script_result", type(script_result).__name__, "the result of "
                             "mcsim.run_script", "is not a script result")
    tasks = script_result.tasks
    fig = new_figure(9, 1.2 + 0.45 * max(len(tasks), 1))
    ax = fig.add_subplot()
    ax.set_title(title or f"policy {script_result.policy}: timeline", fontsize=10)
    if not script_result.timeline:
        empty_axes(ax, "nothing happened (an empty timeline)")
        arrange(fig)
        return fig
    holds = {}
    for (t, lane, a, b) in script_result.timeline:
        if lane == LANE_HOLD:
            holds.setdefault(t, []).append((a, b))
    seen = set()
    for (t, lane, a, b) in script_result.timeline:
        name = LANES[lane]
        row = t
        under_l = lane in (LANE_GATE, LANE_IO) and any(x <= a < y for x, y in holds.get(t, ()))
        height = 0.7 if lane in (0, LANE_HOLD) else 0.35
        ax.broken_barh([(a, max(b - a, 0))], (row - height / 2, height),
                       facecolors=LANE_COLORS[name], hatch="////" if under_l else None,
                       edgecolor="black" if under_l else "none", linewidth=0.3,
                       label=None if name in seen else name)
        seen.add(name)
    ax.set_yticks(range(len(tasks)), [f"{t.index} {t.kind}" for t in tasks])
    ax.invert_yaxis()
    ax.xaxis.set_major_formatter(duration_formatter())
    ax.set_xlabel("time")
    ax.grid(True, axis="x", alpha=0.3)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False,
              title="hatched: IO\nwhile holding L", title_fontsize=7)
    arrange(fig, left=1.0, right=1.4)
    return fig
