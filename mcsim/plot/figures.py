"""mcsim's figures: the tail CCDF, quantiles against a swept axis, inversion blame and
the timeline of a script (the data comes from :mod:`mcsim.plot.data`, the canvas from
:mod:`mcsim.plot.canvas`).

>>> import mcsim
>>> fig = ccdf([mcsim.simulate(policy="hold", trials=2000, seed=1).row()])
>>> fig.axes[0].get_xscale(), fig.mcsim_notes
('log', [])
"""
from __future__ import annotations

import math
from typing import Mapping, Sequence

from .canvas import (MAX_BARS, MAX_FACETS, MAX_LINES, arrange, cap, decade_formatter,
                     duration_formatter, empty_axes, new_figure, note, percent_formatter,
                     symlog_axis)
from .data import (STAT_LABELS, STAT_QUANTILES, axes_of, axis_column, ccdf_points,
                   check_metric, distinct, format_value, histogram, label, row_stat,
                   rows_of, select, sort_key)

#: The CCDF's y axis reaches at least this far down (the tail to one in a million).
CCDF_FLOOR = 1e-6
LANE_COLORS = {"wait": "#f2c14e", "hold": "#2a6f97", "gate": "#c8553d", "io": "#7b2d26"}
LINE_STYLES = ("-", "--", "-.", ":")
#: Titles sit just above their panel.  Giving y turns off matplotlib's search for tick
#: labels above the panel (there are none here), which measured every panel twice per draw.
TITLE_Y = 1.0


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
    ax.set_title(title or f"{metric}: CCDF" + (f" ({fixed})" if fixed else ""), fontsize=10,
                 y=TITLE_Y)
    _ccdf_lines(ax, fig, rows, metric)
    if own:
        arrange(fig, left=0.75)
    return fig


def _ccdf_lines(ax, fig, rows, metric, names: Sequence[str] | None = None) -> None:
    """One line per row, labelled by ``names`` (in the rows' order) or, without them, by
    the parameters that vary (rows sorted by them)."""
    if not rows:
        empty_axes(ax, "no rows match")
        return
    varying = [] if names else axes_of(rows)
    if not names:
        rows = sorted(rows, key=lambda r: tuple(sort_key(c)(r[c]) for c in varying))
    from matplotlib.ticker import NullFormatter

    low, drawn, empty = CCDF_FLOOR, 0, []
    left, right = math.inf, 0.0
    for i, row in enumerate(cap(rows, MAX_LINES, f"{metric} CCDF lines", fig)):
        h = histogram(row, metric)
        xs, ys = ccdf_points(h)
        name = (names[i] if names else label(row, varying) if varying
                else row.get("policy", metric))
        if not xs:
            empty.append(f"{name}: " + ("no samples" if h.n == 0 else
                                        f"all {h.n:,} samples are 0"))
            continue
        ax.step(xs, ys, where="post", label=name, color=f"C{i % 10}",
                linestyle=LINE_STYLES[(i // 10) % len(LINE_STYLES)], linewidth=1.4)
        low = min(low, 0.5 / h.n)
        left, right = min(left, xs[0]), max(right, xs[-1])
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
    # labels in units and plain text (never mathtext); minor ones only where the line
    # spans less than a decade, so a major label may be missing
    ax.xaxis.set_minor_formatter(duration_formatter() if right < 10 * left
                                 else NullFormatter())
    ax.yaxis.set_major_formatter(decade_formatter())
    ax.yaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel(f"t ({metric}, log scale)")
    ax.set_ylabel(f"P({metric} \u2265 t)")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=7, loc="lower left")


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
    from ..errors import UsageError

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
                    key=lambda t: tuple(sort_key(c)(v) for c, v in zip(facet_cols, t)))
    fig = new_figure(4.2 * len(stats) + 1.6, 0.9 + 2.4 * min(len(facets), MAX_FACETS))
    facets = cap(facets, MAX_FACETS, "facets (" + ", ".join(facet_cols) + ")", fig)
    axs = fig.subplots(len(facets), len(stats), squeeze=False, sharex=True)
    groups = distinct(rows, bycol) if bycol else [None]
    groups = cap(groups, MAX_LINES, f"{by} lines", fig)
    for f, facet in enumerate(facets):
        frows = [r for r in rows if all(r[c] == v for c, v in zip(facet_cols, facet))]
        for s, stat in enumerate(stats):
            ax = axs[f][s]
            head = f"{metric} {STAT_LABELS[stat]}"
            ftitle = label(dict(zip(facet_cols, facet)), facet_cols) if facet_cols else ""
            ax.set_title(head + (f" \u2014 {ftitle}" if ftitle else ""), fontsize=9,
                         y=TITLE_Y)
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
                       key=lambda r: sort_key(xcol)(r[xcol]))
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
    symlog_axis(ax, top, 1.0 if metric == "fault_passes" else 1000.0,
                 metric != "fault_passes")
    ax.grid(True, alpha=0.3)
    if top == 0:
        ax.text(0.5, 0.5, f"every {metric} is 0 here", transform=ax.transAxes,
                ha="center", va="center", color="#555555", fontsize=9)


# ----------------------------------------------------------------------- blame
def blame(table, by: str = "policy", where: Mapping | None = None):
    """Inversions as a share of HP reads, one stacked bar per row, split by the blamed
    step (columns ``blame_*``): the bar's height is the inversion fraction.  One panel per
    value of ``by``; bars beyond :data:`MAX_BARS` per panel are named in a note.  A
    segment of height 0 is not drawn, and the legend names the steps some row blames
    (``ax.containers``: one labelled bar container per step drawn).

    >>> import mcsim, mcsim.plot
    >>> row = mcsim.simulate(policy="hold", throttle_depth=7, writer_ratio=0.1,
    ...                      trials=2000, seed=1).row()
    >>> fig = mcsim.plot.blame([row])
    >>> total = sum(p.get_height() for p in fig.axes[0].patches)
    >>> bool(abs(total - row["inversion_fraction"]) < 1e-12)
    True
    """
    from ..policies import BLAME_NAMES

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
    groups = cap(groups, MAX_FACETS, f"{by} panels", fig)
    axs = fig.subplots(len(groups), 1, squeeze=False)
    for ax, g in zip(axs[:, 0], groups):
        grows = [r for r in rows if bycol is None or r[bycol] == g]
        ax.set_title(f"inversions by blamed step \u2014 {g}" if g is not None
                     else "inversions by blamed step", fontsize=9, y=TITLE_Y)
        grows = cap(grows, MAX_BARS, f"bars of {g}", fig)
        _blame_panel(ax, [r for r in grows if r["hp_wait_n"]],
                     [ticks[id(r)] for r in grows if r["hp_wait_n"]], rotated)
        ax.set_xlabel(", ".join(others), fontsize=8)
    handles = {h.get_label(): h for ax in axs.flat for h in ax.containers}
    if handles:
        names = [n for n in BLAME_NAMES if n in handles]     # the steps some row blames
        fig.legend([handles[n] for n in names], names, loc="upper right", fontsize=8,
                   frameon=False, title="blamed step", title_fontsize=8)
    arrange(fig, right=1.5, bottom=label_in, hspace=(label_in + 0.35) / 1.7)
    return fig


def _blame_panel(ax, rows, ticklabels, rotated: bool) -> None:
    """One panel of :func:`blame`: a stacked bar per row, blame counts over HP reads."""
    from ..policies import BLAME_NAMES

    if not rows:
        empty_axes(ax, "no HP reads in these rows: no inversion fraction")
        return
    colors = ("#2a6f97", "#c8553d", "#f2c14e", "#7b2d26", "#61a5c2", "#8f8f8f", "#6a994e",
              "#9c6644")
    assert len(colors) >= len(BLAME_NAMES), "a blame kind without a colour"
    pos = list(range(len(rows)))
    bottom = [0.0] * len(rows)
    for name, color in zip(BLAME_NAMES, colors):
        # inversions are judged per lock acquisition (model.md §11.5), as the fraction is
        share = [r.get(f"blame_{name}", 0) / r.get("hp_acq_wait_n", r["hp_wait_n"])
                 for r in rows]
        # Only the segments that have a height: most steps are blamed in few rows, and a
        # sweep's hundreds of empty rectangles cost most of the figure's time.
        drawn = [i for i, v in enumerate(share) if v > 0]
        if drawn:
            ax.bar([pos[i] for i in drawn], [share[i] for i in drawn],
                   bottom=[bottom[i] for i in drawn], color=color, label=name, width=0.8)
        bottom = [b + s for b, s in zip(bottom, share)]
    ax.set_ylim(bottom=0)
    ax.set_xticks(pos, ticklabels, rotation=60 if rotated else 0,
                  ha="right" if rotated else "center", rotation_mode="anchor",
                  fontsize=6 if len(pos) > 12 else 8)
    ax.yaxis.set_major_formatter(percent_formatter())
    ax.set_ylabel("share of HP acquisitions")
    ax.grid(True, axis="y", alpha=0.3)
    if max(bottom) == 0:
        ax.text(0.5, 0.5, "no inversions", transform=ax.transAxes, ha="center",
                color="#555555")


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
    from ..layout import LANES, LANE_GATE, LANE_HOLD, LANE_IO
    from ..result import ScriptResult

    if not isinstance(script_result, ScriptResult):
        from ..errors import ParameterError

        raise ParameterError("script_result", type(script_result).__name__, "the result of "
                             "mcsim.run_script", "is not a script result")
    tasks = script_result.tasks
    fig = new_figure(9, 1.2 + 0.45 * max(len(tasks), 1))
    ax = fig.add_subplot()
    name = ("policy " if script_result.kernel == "none" else "kernel ") + script_result.label
    ax.set_title(title or f"{name}: timeline", fontsize=10, y=TITLE_Y)
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
