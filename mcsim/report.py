"""``mcsim report``: one self-contained HTML page about a sweep.

The page holds what was swept (the axes and their values, the fixed parameters, seed,
trials, mcsim version), p99 and p99.9 of ``hp_wait`` against each swept axis with their
95% intervals (:func:`mcsim.plot.quantiles`), the CCDF of ``hp_wait`` per policy at a few
chosen points (:func:`mcsim.plot.ccdf`), inversions by blamed step
(:func:`mcsim.plot.blame`), what each policy costs the low-priority side (LP fault
latency), the numbers as a table, and provenance.  Figures are inline SVG; the page has no
script and no external reference, so it opens offline in any browser.  Whatever a figure
had to leave out (facets beyond :data:`mcsim.plot.MAX_FACETS`, empty metrics) is said
under it.

>>> import mcsim
>>> rows = [mcsim.simulate(policy=p, trials=2000, seed=1).row() for p in ("hold", "rfc-v2")]
>>> page = report_html(rows, source="example")
>>> page.startswith("<!DOCTYPE html>"), page.count("<svg") >= 3, "http://" in page.split("<svg")[0]
(True, True, False)
"""
from __future__ import annotations

import html
import io
import math
import multiprocessing
import os
import re
import sys
from pathlib import Path
from typing import Callable, NamedTuple, Sequence

from . import plot
from .result import OPEN_WORKLOAD

#: Points whose CCDF the page shows at most (each a panel, one line per policy).
MAX_CCDF_POINTS = 3
#: Rows of the numbers table at most (the rest: ``mcsim show``).
MAX_TABLE_ROWS = 500

STYLE = """
body { font-family: sans-serif; margin: 1.5em auto; max-width: 1100px; color: #222;
       padding: 0 1em; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; font-size: 0.8em; margin: 0.5em 0; }
td, th { border: 1px solid #ddd; padding: 2px 6px; text-align: right; }
th { background: #f2f2f2; } td.l, th.l { text-align: left; }
figure { margin: 1em 0; } figure svg { max-width: 100%; height: auto; }
figcaption, .note { font-size: 0.85em; color: #555; }
"""


def _esc(value) -> str:
    return html.escape(str(value), quote=True)


def svg(fig, salt: str) -> str:
    """``fig`` as an inline ``<svg>`` element: text kept as text, no XML prolog, no
    metadata (which would carry URLs), ids salted per figure so several figures on one page
    never share an id.

    >>> from mcsim.plot import new_figure
    >>> text = svg(new_figure(2, 2), "a")
    >>> text.startswith("<svg"), "DOCTYPE" in text, "http://purl" in text
    (True, False, False)
    """
    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": salt}):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None,
                                                 "Format": None, "Type": None})
    text = buf.getvalue()
    text = text[text.index("<svg"):]
    return re.sub(r"<metadata>.*?</metadata>", "", text, flags=re.S)


def _figure(fig, salt: str, caption: str) -> str:
    # What the figure left out is written under its panels (arrange), not repeated here.
    out = f"<figure>{svg(fig, salt)}<figcaption>{_esc(caption)}</figcaption></figure>"
    fig.clear()
    return out


class Figure(NamedTuple):
    """A figure of the page still to draw: ``make()`` returns the matplotlib Figure."""
    make: Callable
    salt: str
    caption: str


_PENDING: list[Figure] = []


def _draw(index: int) -> str:
    job = _PENDING[index]
    return _figure(job.make(), job.salt, job.caption)


def render(parts: Sequence) -> str:
    """The page's HTML from ``parts``: strings as they are, each :class:`Figure` drawn to
    inline SVG.  matplotlib draws in one thread, and a sweep's figures take most of a
    report's time, so where the machine has two processors (on Linux, where workers can
    be forked) two processes draw them; the page is the same byte for byte either way.

    >>> from mcsim.plot import new_figure
    >>> render(["<h2>a</h2>", Figure(lambda: new_figure(1, 1), "x", "empty")]).count("<svg")
    1
    """
    jobs = [p for p in parts if isinstance(p, Figure)]
    workers = min(2, os.cpu_count() or 1, len(jobs))
    _PENDING[:] = jobs
    try:
        drawn = None
        if workers > 1 and sys.platform == "linux":     # fork is safe here, not on macOS
            drawn = _draw_in_workers(len(jobs), workers)
        drawn = iter(drawn or [_draw(i) for i in range(len(jobs))])
        return "".join(next(drawn) if isinstance(p, Figure) else p for p in parts)
    finally:
        _PENDING.clear()


def _draw_in_workers(count: int, workers: int) -> list[str] | None:
    """The figures drawn by forked workers (they inherit the rows and the figures'
    closures: nothing is pickled but the SVG text coming back); None if a worker died
    (then this process draws them)."""
    import signal
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"),
                               initializer=_worker_init, initargs=(os.getpid(),))
    try:
        # Ctrl-C or SIGTERM while a worker is being forked would reach it with this
        # process's handlers: hold them until the workers exist (each sets its own),
        # then this process takes them as usual.
        held = signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
        try:
            futures = [pool.submit(_draw, i) for i in range(count)]
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)
        return [f.result() for f in futures]
    except BrokenProcessPool:
        return None
    finally:
        # on Ctrl-C or SIGTERM: leave at once (the workers end with this process)
        pool.shutdown(wait=False, cancel_futures=True)


def _worker_init(parent: int) -> None:
    import signal

    from .executors import die_with_parent

    # Ctrl-C reaches the whole process group; only the parent reacts (it exits 130 with
    # one line).  A forked worker inherited the parent's handlers: SIGTERM gets back its
    # default action, so the worker ends at once and never prints a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _SIGNALS)
    die_with_parent(parent)


_SIGNALS = {2, 15}      # SIGINT, SIGTERM (numbers: the signal module is imported late)


# ----------------------------------------------------------------------- sections
def _fmt(column: str, value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return plot.format_value(column, value)


def swept_section(rows: Sequence[dict], meta: dict) -> str:
    """What was swept: the axes and their values, the fixed parameters, seed, trials."""
    from .params import PARAMS
    from .schema import param_column

    axes = plot.axes_of(rows)
    params = [param_column(p.name) for p in PARAMS]
    fixed = [c for c in params if c not in axes]
    trials = sorted({r["trials"] for r in rows})
    seeds = sorted({r["seed"] for r in rows})
    target = {r["p99_rel_ci_target"] for r in rows} - {None}
    items = [f"<li><b>{len(rows)} point{'s' if len(rows) != 1 else ''}</b></li>"]
    workloads = plot.distinct(rows, "workload") if "workload" in rows[0] else []
    if workloads and workloads != [OPEN_WORKLOAD] and "workload" not in axes:
        items.append(f"<li>workload <b>{_esc(workloads[0])}</b></li>")
    for a in axes:
        values = plot.distinct(rows, a)
        items.append(f"<li>axis <b>{_esc(a)}</b>: " + ", ".join(
            _esc(_fmt(a, v)) for v in values) + "</li>")
    if not axes:
        items.append("<li>one configuration: no swept axis</li>")
    items.append("<li>seed: " + ", ".join(map(str, seeds)) + "</li>")
    items.append("<li>trials per point: " + (f"{trials[0]:,}" if len(trials) == 1 else
                                             f"{trials[0]:,} to {trials[-1]:,}") + "</li>")
    if target:
        met = sum(1 for r in rows if r["p99_rel_ci_met"])
        items.append(f"<li>precision target: hp_wait p99 to ±{min(target):.2%}; met at "
                     f"{met} of {len(rows)} points</li>")
    items.append(f"<li>mcsim {_esc(meta.get('version', '?'))}</li>")
    table = "".join(f"<tr><td class=l>{_esc(c)}</td><td class=l>"
                    f"{_esc(_fmt(c, rows[0][c]))}</td></tr>" for c in fixed)
    return (f"<h2>What was swept</h2><ul>{''.join(items)}</ul>"
            f"<details><summary>fixed parameters ({len(fixed)})</summary><table>"
            f"<tr><th class=l>parameter</th><th class=l>value</th></tr>{table}</table>"
            "</details>")


def chosen_points(rows: Sequence[dict], limit: int = MAX_CCDF_POINTS) -> list[dict]:
    """Configurations (values of the swept axes other than policy) whose CCDF the page
    shows: the one with the largest hp_wait p99.9, then the first and last of the grid
    where some hp_wait is above 0.

    >>> rows = [{"policy": p, "throttle_depth": d, "hp_wait_p999_ns": p999}
    ...         for p, d, p999 in (("hold", 0, 1.0), ("hold", 7, 9.0), ("rfc-v2", 0, 0.0),
    ...                            ("rfc-v2", 7, 0.0))]
    >>> chosen_points(rows)
    [{'throttle_depth': 7}, {'throttle_depth': 0}]
    """
    others = [a for a in plot.axes_of(rows) if a != "policy"]
    if not others:
        return [{}]
    ordered = sorted(rows, key=lambda r: tuple(plot.sort_key(c)(r[c]) for c in others))
    # a point where every policy's waits are all 0 has no CCDF to draw: others first
    waits = [r for r in ordered if (r.get("hp_wait_max_ns") or 0) > 0] or ordered
    finite = [r for r in rows if r["hp_wait_p999_ns"] == r["hp_wait_p999_ns"]]
    picks = ([max(finite, key=lambda r: r["hp_wait_p999_ns"])] if finite else []) \
        + [waits[0], waits[-1]]
    out = []
    for r in picks:
        config = {c: r[c] for c in others}
        if config not in out:
            out.append(config)
    return out[:limit]


def figures_section(rows: Sequence[dict]) -> str:
    """Quantiles per swept axis, CCDFs at chosen points, blame, LP cost."""
    axes = plot.axes_of(rows)
    parts = ["<h2>hp_wait p99 and p99.9 against each swept axis</h2>"]
    xs = [a for a in axes if a != "policy"] or (["policy"] if "policy" in axes else [])
    if not xs:
        parts.append("<p class=note>One configuration: there is no axis to plot against "
                     "(the CCDF below shows its whole distribution).</p>")
    for i, x in enumerate(xs):
        by = "policy" if x != "policy" else None
        parts.append(Figure(lambda x=x, by=by: plot.quantiles(rows, x=x, by=by), f"q{i}",
                            f"hp_wait p99 and p99.9 against {x}, one line per policy; 95% "
                            "intervals as shaded bands (bars where the axis has no order), "
                            "cluster-robust over trials, from the exact histograms"))
    parts.append("<h2>CCDF of hp_wait per policy at chosen points</h2>")
    for i, config in enumerate(chosen_points(rows)):
        where = plot.label(config, list(config)) if config else "the configuration"
        parts.append(Figure(lambda config=config: plot.ccdf(rows, where=config), f"c{i}",
                            f"P(hp_wait ≥ t) at {where}, log-log, from the exact "
                            "histograms; the axis reaches 1e-6"))
    parts.append("<h2>Inversions and where the waiting went</h2>")
    parts.append(Figure(lambda: plot.blame(rows, by="policy" if "policy" in axes else None),
                        "b", "share of HP reads that were inversions, split by the blamed "
                        "step (columns blame_*)"))
    parts.append("<h2>What each policy costs the low-priority side</h2>")
    lp_x = xs[0] if xs else None
    if lp_x:
        def lp():
            return plot.quantiles(rows, x=lp_x, metric="lp_fault_latency",
                                  stats=("mean", "p99"),
                                  by="policy" if lp_x != "policy" else None)
    else:
        def lp():
            return plot.ccdf(rows, metric="lp_fault_latency")
    parts.append(Figure(lp, "lp", "LP fault latency (arrival to done, all passes): mean "
                        "and p99 with 95% intervals"))
    return render(parts)


def numbers_section(rows: Sequence[dict]) -> str:
    """The numbers as an HTML table: swept axes, then the headline statistics."""
    axes = plot.axes_of(rows)
    cols = [("trials", "trials"), ("hp_wait_p50_ns", "hp_wait p50"),
            ("hp_wait_p99_ns", "hp_wait p99"), ("p99ci", "p99 95% interval"),
            ("hp_wait_p999_ns", "hp_wait p99.9"), ("inversion_fraction", "inversions"),
            ("lp_fault_latency_mean_ns", "LP fault mean"),
            ("lp_fault_latency_p99_ns", "LP fault p99"), ("writer_wait_p99_ns",
                                                          "writer_wait p99")]
    head = "".join(f"<th class=l>{_esc(a)}</th>" for a in axes) + "".join(
        f"<th>{_esc(t)}</th>" for _, t in cols)
    body = []
    for r in rows[:MAX_TABLE_ROWS]:
        cells = [f"<td class=l>{_esc(_fmt(a, r[a]))}</td>" for a in axes]
        for c, _ in cols:
            if c == "p99ci":
                text = f"[{_fmt('x_ns', r['hp_wait_p99_lo_ns'])}, " \
                       f"{_fmt('x_ns', r['hp_wait_p99_hi_ns'])}]"
            elif c == "inversion_fraction":
                v = r[c]
                text = "-" if v is None or v != v else f"{v:.2%}"
            elif c == "trials":
                text = f"{r[c]:,}"
            else:
                text = _fmt(c, r[c])
            cells.append(f"<td>{_esc(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    more = (f"<p class=note>{MAX_TABLE_ROWS} of {len(rows)} rows shown; `mcsim show` "
            "lists them all.</p>" if len(rows) > MAX_TABLE_ROWS else "")
    return (f"<h2>The numbers</h2><table><tr>{head}</tr>{''.join(body)}</table>{more}"
            "<p class=note>Every column: <code>mcsim show PATH --json</code> or "
            "<code>mcsim.load(PATH)</code> (docs/results.md).</p>")


def _signed(value) -> str:
    """A difference of durations with its sign: ``+1.2 ms``, ``−30 µs``, ``0``."""
    if value is None:
        return "-"
    if value == 0:
        return "0"
    return ("+" if value > 0 else "\u2212") + _fmt("x_ns", abs(value))


def _twin_cells(row: dict, base: dict | None) -> list[str]:
    """The compared statistics of ``row``; with ``base``, their differences from it."""
    cells = []
    for metric in plot.TWIN_METRICS:
        n = row.get(f"{metric}_n")
        cells.append("" if base is not None else "-" if n is None else f"{n:,}")
        for stat in plot.TWIN_STATS:
            cells.append(_signed(plot.difference(row, base, metric, stat)) if base is not None
                         else _fmt("x_ns", row.get(f"{metric}_{stat}_ns")))
    return cells


def measured_section(rows: Sequence[dict]) -> str:
    """Each measured row beside its simulated twins (:func:`mcsim.plot.twins`): a table
    grouped by run, the measured row first, each model row followed by its differences
    from the measurement (model − measured), and the CCDFs of hp_wait and writer_wait of
    the run's rows on shared panels."""
    pairs = plot.twins(rows)
    stats = list(plot.TWIN_STATS)
    head = ("<tr><th class=l rowspan=2>run</th><th class=l rowspan=2>row</th>"
            "<th rowspan=2>trials</th>" + "".join(
                f"<th colspan={1 + len(stats)}>{_esc(m)}</th>" for m in plot.TWIN_METRICS)
            + "</tr><tr>" + "".join("<th>n</th>" + "".join(f"<th>{_esc(s)}</th>"
                                                          for s in stats)
                                    for _ in plot.TWIN_METRICS) + "</tr>")
    body, parts = [], []
    for i, twin in enumerate(pairs):
        lines = [("measured", twin.measured, None)]
        for role, r in twin.models:
            lines += [(role, r, None), (f"\u0394 {role} \u2212 measured", r, twin.measured)]
        for j, (name, r, base) in enumerate(lines):
            trials = "" if base is not None else f"{r['trials']:,}" if r.get("trials") \
                else "-"
            cells = [trials] + _twin_cells(r, base)
            run = (f"<td class=l rowspan={len(lines)}>{_esc(twin.run)}</td>" if j == 0
                   else "")
            body.append(f"<tr class={'diff' if base is not None else 'row'}>{run}"
                        f"<td class=l>{_esc(name)}</td>"
                        + "".join(f"<td>{_esc(c)}</td>" for c in cells) + "</tr>")
        if not twin.models:
            body.append(f"<tr><td class=l colspan={3 + 2 * (1 + len(stats))}>"
                        f"{_esc(twin.run)}: no simulated twin in this table</td></tr>")
        parts.append(Figure(lambda twin=twin: plot.ccdf_twin(twin), f"m{i}",
                            f"{twin.run}: P(wait \u2265 t) of the measured row and its "
                            "simulated twins, log-log, from the exact histograms (the same "
                            "histograms for both)"))
    return ("<h2>Measured beside simulated</h2><p class=note>Measured rows (source = "
            "measured: a kernel's trace) with the simulated rows of the same run (the "
            "file's mcsim.repro_rows) or, without that, of equal parameters.  \u0394 rows: "
            "model \u2212 measured.</p>"
            f"<table class=twins>{head}{''.join(body)}</table>" + render(parts))


def provenance_section(meta: dict, source: str, nfiles: int, rows) -> str:
    keys = ("version", "schema_version", "command", "created", "build_flags",
            "numpy_version", "pyarrow_version", "compacted_from")
    items = [f"<tr><td class=l>source</td><td class=l>{_esc(source)} ({nfiles} "
             f"file{'s' if nfiles != 1 else ''})</td></tr>"]
    items += [f"<tr><td class=l>{k}</td><td class=l>{_esc(meta[k])}</td></tr>"
              for k in keys if meta.get(k)]
    wall = sum(r["wall_s"] or 0 for r in rows)
    items.append(f"<tr><td class=l>simulation time</td><td class=l>{wall:.1f} s over "
                 f"all points</td></tr>")
    return ("<h2>Provenance</h2><p class=note>From the first result file's metadata "
            f"(docs/results.md).</p><table>{''.join(items)}</table>")


# ----------------------------------------------------------------------- the page
def report_html(rows: Sequence[dict], source: str = "", meta: dict | None = None,
                nfiles: int = 1) -> str:
    """The report page of result rows (``mcsim.load(path).to_pylist()``) as one string.
    Measured rows (``source = "measured"``) are shown beside their simulated twins
    (:func:`measured_section`); the other sections describe the simulated rows."""
    from . import __version__
    from .errors import UsageError

    if not rows:
        raise UsageError(f"{source or 'table'}: no result rows; allowed: a sweep directory "
                         "or result file with at least one point")
    rows = plot.with_workload_vars(rows)     # once, so the figures share these rows
    sim, measured = plot.split(rows)
    meta = dict(meta or {})
    meta.setdefault("version", __version__)
    title = f"mcsim report: {source}" if source else "mcsim report"
    body = (swept_section(sim, meta) + figures_section(sim) + numbers_section(sim)) if sim \
        else ("<h2>Simulated rows</h2><p class=note>None: every row of this table was "
              "measured on a kernel.</p>")
    return ("<!DOCTYPE html><html lang=en><head><meta charset=utf-8>"
            f"<title>{_esc(title)}</title><style>{STYLE}</style></head><body>"
            f"<h1>{_esc(title)}</h1>" + (measured_section(rows) if measured else "")
            + body + provenance_section(meta, source, nfiles, rows) + "</body></html>\n")


def report_columns(measured: bool = False) -> list[str]:
    """The result columns the page reads (:func:`mcsim.load`'s ``columns``): every
    parameter (the fixed ones are listed), the run's size and precision, and the
    statistics and histograms of hp_wait and lp_fault_latency, the blame counters and the
    table's few others; with ``measured`` (a table with measured rows) writer_wait's too,
    which the measured rows are compared on.  Reading only these is what makes a report
    of hundreds of points take seconds, not tens of seconds.

    >>> cols = report_columns()
    >>> "hp_wait_hist_counts" in cols, "writer_wait_hist_counts" in cols, "source" in cols
    (True, False, True)
    >>> "writer_wait_hist_counts" in report_columns(measured=True)
    True
    """
    from .params import PARAMS
    from .policies import BLAME_NAMES
    from .schema import column_names, param_column

    wanted = {param_column(p.name) for p in PARAMS} | {
        "seed", "trials", "p99_rel_ci_target", "p99_rel_ci_met", "wall_s",
        "inversion_fraction", "hp_acq_wait_n", "writer_wait_p99_ns", "workload",
        "workload_vars", "source"} | {
        f"blame_{name}" for name in BLAME_NAMES}
    metrics = ("hp_wait_", "lp_fault_latency_") + (("writer_wait_",) if measured else ())
    return [c for c in column_names() if c in wanted or c.startswith(metrics)]


def read_rows(path: str | Path) -> tuple[list[dict], list[Path]]:
    """The rows of the results at ``path`` for the page, and its files.  A plain sweep is
    read as :func:`mcsim.load` reads it; a table with measured rows is read again with the
    columns they are compared on, and the rows of an ``mcsim repro -o`` file (metadata
    ``mcsim.repro_rows``, one entry per row in file order) carry their run and role."""
    import json

    import mcsim

    from .dataset import _projection, _read_result_file, read_file_metadata, result_files
    from .plot.paired import is_measured, with_repro_roles

    files = result_files(path)
    rows = plot.rows_of(mcsim.load(path, columns=report_columns()))
    if not any(is_measured(r) for r in rows):
        return rows, files
    columns = report_columns(measured=True)
    repro = {f: read_file_metadata(f).get("repro_rows") for f in files}
    if not any(repro.values()):
        return plot.rows_of(mcsim.load(path, columns=columns)), files
    wanted = _projection(columns, [])
    rows = []
    for f in files:
        part = plot.rows_of(_read_result_file(f, columns=wanted))
        if repro[f]:
            try:
                names = json.loads(repro[f])
            except ValueError:
                names = []
            part = with_repro_roles(part, names if isinstance(names, list)
                                          else [])
        rows += part
    return rows, files


def write_report(path: str | Path, out: str | Path | None = None) -> Path:
    """Write the report of the results at ``path`` (a sweep directory or result file) to
    ``out`` (default: ``<path>.html`` beside it), atomically; returns the file written."""
    from .dataset import read_file_metadata, write_table_atomic

    path = Path(path)
    out = check_html_path(out) if out else path.with_name(path.stem + ".html")
    rows, files = read_rows(path)
    page = report_html(rows, source=str(path), meta=read_file_metadata(files[0]),
                       nfiles=len(files))
    return write_table_atomic(page, out, writer=lambda text, f: f.write(text.encode()))


def check_html_path(path: str | Path) -> Path:
    """Refuse an output name that does not end in ``.html`` (the report is HTML only).

    >>> check_html_path("r.pdf")
    Traceback (most recent call last):
    ...
    mcsim.errors.UsageError: --out: 'r.pdf' is not an .html file name; allowed: a path ending in .html, e.g. r.html
    """
    from .errors import UsageError

    path = Path(path)
    if path.suffix.lower() not in (".html", ".htm") or not path.stem:
        raise UsageError(f"--out: {str(path)!r} is not an .html file name; allowed: a path "
                         f"ending in .html, e.g. {path.stem or 'report'}.html")
    return path
