"""Rich tables for the terminal: one result, a table of points, scripts, policies, params.

Each function returns renderables (tables, text); the commands print them.  Times are
shown with :func:`mcsim.units.format_duration` (``8.05 ms``).  The result and point tables
fit the console: on a narrow terminal (80 columns) headers wrap onto two lines and the
least important statistics are left out, and the caption says which (``--json`` and
``mcsim show -C`` have every column); numbers are never cut.

>>> table = FitTable([FitColumn("policy", ["hold"], justify="left"),
...                   FitColumn("hp_wait p99", ["24.1 ms"]),
...                   FitColumn("writer_wait p99", ["1.2 ms"], priority=1)])
>>> print(render_text(table, width=40))
 policy   hp_wait p99   writer_wait p99
────────────────────────────────────────
 hold         24.1 ms            1.2 ms
>>> print(render_text(table, width=30))
 policy   hp_wait p99
──────────────────────
 hold         24.1 ms
not shown at this
width: writer_wait p99
(widen the terminal;
--json has every
column)
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Iterable, Sequence

from rich import box
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from ..result import acquisitions_noun, count, headline
from ..units import format_duration as _format_duration

#: What the ``±`` and ``inversions`` columns of a table of points mean (its caption).
REL_CI_NOTE = "p99 ±: half-width of the p99's 95% interval, relative to the p99"
INVERSIONS_NOTE = ("inversions: share of HP reads that waited on an inversion (of HP lock "
                   "acquisitions, under kernels whose reads make several)")


def render_text(renderable, width: int = 80) -> str:
    """What ``renderable`` looks like on a console ``width`` columns wide (plain text,
    trailing spaces removed)."""
    import io

    from rich.console import Console

    console = Console(width=width, file=io.StringIO(), record=True, highlight=False)
    console.print(renderable)
    return "\n".join(line.rstrip() for line in console.export_text().splitlines())


def format_duration(ns) -> str:
    """``8.05 ms``; ``-`` where there is no value (a metric without samples)."""
    return "-" if ns is None or ns != ns else _format_duration(ns)


def format_interval(lo, hi) -> str:
    """A 95% interval, its unit written once where both ends share it.

    >>> format_interval(23.8e6, 24.5e6), format_interval(980e3, 1.02e6), format_interval(0, 0)
    ('[23.8, 24.5] ms', '[980 µs, 1.02 ms]', '[0, 0]')
    """
    a, b = format_duration(lo), format_duration(hi)
    unit_a, unit_b = a.rpartition(" ")[2], b.rpartition(" ")[2]
    if " " in a and " " in b and unit_a == unit_b:
        return f"[{a.rpartition(' ')[0]}, {b.rpartition(' ')[0]}] {unit_a}"
    return f"[{a}, {b}]"


@dataclass
class FitColumn:
    """A column of a :class:`FitTable`: ``priority`` 0 is always shown; on a narrow
    console columns of the highest priority go first."""

    header: str
    cells: list
    justify: str = "right"
    priority: int = 0
    narrow_header: str = ""        # the header on a narrow console (two lines) ...
    narrow_from: int = 1           # ... from this narrowing step on


@dataclass
class FitTable:
    """A table that fits the console it is printed on (see the module docstring)."""

    columns: list
    title: str | None = None
    notes: list = field(default_factory=list)
    more: str = "--json has every column"      # where the left-out columns are

    def build(self, narrow: int = 0, dropped: frozenset = frozenset()) -> Table:
        """The table with headers narrowed up to step ``narrow`` and the columns of the
        ``dropped`` priorities left out (the caption says which)."""
        shown = [c for c in self.columns if c.priority not in dropped]
        notes = list(self.notes)
        left_out = [c.header for c in self.columns if c.priority in dropped]
        if left_out:
            notes.append(f"not shown at this width: {', '.join(left_out)} (widen the "
                         f"terminal; {self.more})")
        table = Table(title=self.title, title_justify="left", box=box.SIMPLE_HEAD,
                      show_edge=False, caption="\n".join(notes) or None,
                      caption_justify="left")
        for c in shown:
            header = (c.narrow_header or c.header) if narrow >= c.narrow_from else c.header
            table.add_column(header, justify=c.justify, overflow="fold")
        for row in zip(*(c.cells for c in shown)):
            table.add_row(*(Text(cell) for cell in row))    # text, never rich markup
        return table

    def variants(self):
        """Tables from the widest to the narrowest."""
        steps = max([c.narrow_from for c in self.columns if c.narrow_header] + [0])
        for narrow in range(steps + 1):
            yield self.build(narrow)
        priorities = sorted({c.priority for c in self.columns if c.priority}, reverse=True)
        for i in range(len(priorities)):
            yield self.build(steps, dropped=frozenset(priorities[:i + 1]))

    def __rich_console__(self, console, options):
        unbounded = options.update(max_width=1 << 20)
        table = None
        for table in self.variants():
            if Measurement.get(console, unbounded, table).maximum <= options.max_width:
                break
        yield table


def _two_lines(header: str) -> str:
    """``hp_wait p99`` -> ``hp_wait\\np99``, ``throttle_depth`` -> ``throttle_\\ndepth``."""
    if " " in header:
        return header.replace(" ", "\n", 1)
    if "_" in header and len(header) > 8:
        cut = min((i for i, ch in enumerate(header) if ch == "_"),
                  key=lambda i: abs(i - len(header) / 2))
        return header[:cut + 1] + "\n" + header[cut + 1:]
    return header


def _col(header, cells, justify="right", priority=0, narrow_from=1) -> FitColumn:
    return FitColumn(header, list(cells), justify, priority, _two_lines(header), narrow_from)


def result_tables(result) -> list:
    """The headline of one :class:`~mcsim.result.Result`: configuration, metric table,
    inversions, work done."""
    cfg, counters = result.config, result.counters
    what = f"{cfg['policy']} · era {cfg['era']}" if cfg["kernel"] == "none" else \
        f"kernel {cfg['kernel']} · era {cfg['era']} · HZ {cfg['hz']}"
    title = (f"{what} · throttle_depth {cfg['throttle_depth']} "
             f"(lp_depth {cfg.lp_depth}) · writer_ratio {cfg['writer_ratio']:g} · device "
             f"{cfg['device']} · seed {result.seed}")
    metrics = headline(cfg)
    if result.workload is not None:
        title = f"{workload_label(result)}\n{title}"
        metrics = workload_metrics(metrics, counters)
    hists = [result[name] for name in metrics]
    table = FitTable([
        _col("metric", metrics, justify="left"),
        _col("n", [f"{h.n:,}" for h in hists], priority=2),
        _col("mean", [format_duration(h.mean()) for h in hists], priority=3),
        _col("p50", [format_duration(h.quantile(0.5)) for h in hists]),
        _col("p99", [format_duration(h.quantile(0.99)) for h in hists]),
        _col("p99 95% interval", [format_interval(*h.quantile_ci(0.99)) for h in hists]),
        _col("p99.9", [format_duration(h.quantile(0.999)) for h in hists]),
        _col("max", [format_duration(h.max()) for h in hists], priority=1),
    ], more="--json has every statistic")
    blame = result.blame()
    inversions = counters["inversions"]
    blamed = ", ".join(f"{step} {n / inversions:.0%}" for step, n in blame.items()
                       if n) if inversions else "none"
    lines = Text(
        f"inversions: {result.inversion_fraction:.3%} of {acquisitions_noun(cfg)} "
        f"({inversions:,} of {result['hp_acq_wait'].n:,}); blamed step: {blamed}\n"
        f"{trials_label(result)} · {count(counters['events'], 'event')} · "
        f"{result.wall_s:.2f} s · {result.events_per_s / 1e6:.1f} M events/s")
    if cfg["kernel"] != "none":
        lines.append("\n" + kernel_paths_line(result.row()))
    precision = result.extra.get("p99_rel_ci_target")
    if precision is not None:
        met = result.row()["p99_rel_ci_met"]
        verdict = "met" if met else "NOT met (max_trials reached, or no interval)"
        lines.append(f"\nprecision target: hp_wait p99 to ±{precision:.2%} (95% interval "
                     f"half-width): {verdict}")
    threads = [threads_table(result)] if result.thread_throughput() else []
    return [Text(title), table, *threads, lines]


def workload_label(result) -> str:
    """``workload ps-scan (n=8) · window trials`` for a result of a workload."""
    wl = result.workload
    variables = ", ".join(f"{k}={v}" for k, v in sorted(dict(wl.vars).items()))
    return (f"workload {wl.name}" + (f" ({variables})" if variables else "")
            + f" · {result.trial_kind} trials · hash {wl.hash}")


def workload_metrics(metrics: Sequence[str], counters: dict) -> tuple:
    """The metrics a workload's result shows: ``metrics``, each HP acquisition's wait
    (a scan's read may make several), and the ps scans' time and wait when there were
    scans.

    >>> workload_metrics(("hp_wait",), {"scans": 3})
    ('hp_wait', 'hp_acq_wait', 'scan_time', 'scan_wait')
    """
    out = tuple(metrics) + (() if "hp_acq_wait" in metrics else ("hp_acq_wait",))
    return out + (("scan_time", "scan_wait") if counters.get("scans") else ())


def trials_label(result) -> str:
    """``1,000 trials``, or for window trials ``20 trials (windows of 10 s after a 1 s
    warm-up)``."""
    text = count(result.trials, "trial")
    if result.trial_kind != "window":
        return text
    cfg = result.config
    return (f"{text} (windows of {format_duration(cfg['window'])} after a "
            f"{format_duration(cfg['warmup'])} warm-up)")


def threads_table(result) -> FitTable:
    """Each closed-loop thread of a workload: counted iterations and loop throughput per
    simulated second (what a reproducer reports)."""
    rates = result.thread_throughput()
    iterations = [result.counters[f"thread_iterations_{k}"] for k in range(len(rates))]
    return FitTable([
        _col("thread", [name for name, _ in rates], justify="left"),
        _col("iterations", [f"{n:,}" for n in iterations]),
        _col("per simulated s", [_cell_number(r) if r == r else "-" for _, r in rates]),
    ], notes=[f"steps {result.counters['steps']:,} · ps scans "
              f"{result.counters['scans']:,}"] if rates or result.counters["steps"] else [],
       more="--json has every thread")


def kernel_paths_line(row: dict) -> str:
    """How often the paths of the kernel presets ran, per 1,000 faults, writes or HP
    reads (the counters of :data:`mcsim.compare.PATH_COUNTERS`).

    >>> row = {"fallbacks": 2, "tried_passes": 40, "retry_misses": 0, "vma_writer_waits": 1,
    ...        "hp_fallbacks": 0, "dirty_throttles": 0, "faults": 1000, "writes": 100,
    ...        "hp_reads": 500}
    >>> print(kernel_paths_line(row).replace("; ", ";\\n"))
    per 1,000 faults: 2 fallbacks to mmap_lock, 40 TRIED passes, 0 retry misses, 0 dirty throttles;
    per 1,000 writes: 10 vma_start_write() waits;
    per 1,000 HP reads: 0 HP fallbacks
    """
    from ..compare import per_thousand

    names = {"fallbacks": "fallbacks to mmap_lock", "tried_passes": "TRIED passes",
             "retry_misses": "retry misses", "dirty_throttles": "dirty throttles",
             "vma_writer_waits": "vma_start_write() waits", "hp_fallbacks": "HP fallbacks"}
    groups = {"faults": ("fallbacks", "tried_passes", "retry_misses", "dirty_throttles"),
              "writes": ("vma_writer_waits",), "HP reads": ("hp_fallbacks",)}
    parts = []
    for per, counters in groups.items():
        key = "hp_reads" if per == "HP reads" else per
        cells = [f"{_cell_number(per_thousand(row, c, key))} {names[c]}" for c in counters]
        parts.append(f"per 1,000 {per}: " + ", ".join(cells))
    return "; ".join(parts)


def _cell_number(x: float) -> str:
    """``12``, ``0.35``, ``-`` (NaN: nothing to count per)."""
    if x != x:
        return "-"
    return f"{x:.3g}" if x < 100 else f"{x:,.0f}"


def varying_parameters(rows: Sequence[dict]) -> list[str]:
    """Parameter columns (and seed) whose value differs between rows, in table order;
    ``policy``, ``era`` and ``hz`` are left out where the kernel column decides them.

    >>> varying_parameters([{"kernel": "4.19", "era": "4.x", "hz": 250, "seed": 0},
    ...                     {"kernel": "6.18", "era": "5.11+", "hz": 250, "seed": 0},
    ...                     {"kernel": "6.18", "era": "5.11+", "hz": 1000, "seed": 0}])
    ['kernel', 'hz']
    """
    from ..params import PARAMS
    from ..schema import param_column

    names = [param_column(p.name) for p in PARAMS] + ["seed"]
    axes = [n for n in names if n in rows[0] and len({repr(r[n]) for r in rows}) > 1]
    if "kernel" in axes:
        axes = [a for a in axes if a not in ("policy", "era", "hz")
                or len({(r["kernel"], repr(r[a])) for r in rows})
                > len({r["kernel"] for r in rows})]
    return axes


def sort_rows(rows: list[dict], keys: Sequence[str]) -> list[dict]:
    """Rows sorted by ``keys``; policies and kernels in the order of ``mcsim policies``
    and ``mcsim kernels`` (``none``, the 2018 model, first)."""
    from ..kernels import KERNEL_LIST
    from ..policies import POLICY_LIST

    order = {"policy": {p.name: i for i, p in enumerate(POLICY_LIST)},
             "kernel": {"none": -1, **{k.name: i for i, k in enumerate(KERNEL_LIST)}}}

    def key(row):
        return tuple(order[k].get(row[k], 99) if k in order else row[k] for k in keys)

    return sorted(rows, key=key)


def points_table(rows: Sequence[dict], extra_columns: Iterable[str] = (),
                 title: str | None = None) -> FitTable:
    """One line per point: the parameters that vary, then the headline statistics
    (``extra_columns``: more result columns, always shown)."""
    from ..schema import param_name

    one = ["policy"] if rows[0].get("kernel", "none") == "none" else ["kernel"]
    axes = varying_parameters(rows) if len(rows) > 1 else one
    rows = sort_by_workload(sort_rows(list(rows), axes))
    extra_columns = list(extra_columns)

    def stat(fmt, name):
        return [fmt(r[name]) for r in rows]

    columns = [_col(header, cells, "left", narrow_from=2)
               for header, cells in workload_axes(rows)]
    columns += [_col(param_name(a) or a, [_axis_cell(a, r[a]) for r in rows], "left",
                     narrow_from=2) for a in axes]          # parameter names split last
    columns += [
        # a constant trial count is in the caption, so its column goes first
        _col("trials", [f"{r['trials']:,}" for r in rows],
             priority=3 if len({r["trials"] for r in rows}) > 1 else 7),
        _col("hp_wait p50", stat(format_duration, "hp_wait_p50_ns"), priority=4),
        _col("hp_wait p99", stat(format_duration, "hp_wait_p99_ns")),
        _col("p99 ±", stat(_percent, "hp_wait_p99_rel_ci")),
        _col("p99 95% interval", [format_interval(r["hp_wait_p99_lo_ns"],
                                                  r["hp_wait_p99_hi_ns"]) for r in rows],
             priority=6),
        _col("hp_wait p99.9", stat(format_duration, "hp_wait_p999_ns"), priority=2),
        _col("inversions", stat(_percent, "inversion_fraction"), priority=1),
        _col("writer_wait p99", stat(format_duration, "writer_wait_p99_ns"), priority=5),
    ]
    columns += [FitColumn(c, [_axis_cell(c, r[c]) for r in rows])      # as the user typed it
                for c in extra_columns]
    notes = [REL_CI_NOTE, INVERSIONS_NOTE]
    workloads = {r.get("workload", "open") for r in rows}
    if len(workloads) == 1 and workloads != {"open"}:
        notes.append(f"workload {workloads.pop()} ({rows[0]['trial_kind']} trials)")
    trials = {r["trials"] for r in rows}
    if len(trials) == 1:
        notes.append(f"{count(trials.pop(), 'trial')} per point")
    return FitTable(columns, title=title, notes=notes,
                    more="mcsim show --json or -C NAME has every column")


def sort_by_workload(rows: list[dict]) -> list[dict]:
    """``rows`` sorted by workload name and then variables (numbers by value), keeping
    their order otherwise: the workload columns come first in a table of points.

    >>> [r["workload_vars"] for r in sort_by_workload([
    ...     {"workload": "w", "workload_vars": '{"n":16,"t":"10ms"}'},
    ...     {"workload": "w", "workload_vars": '{"n":4,"t":"100ms"}'},
    ...     {"workload": "w", "workload_vars": '{"n":4,"t":"1ms"}'}])]
    ['{"n":4,"t":"1ms"}', '{"n":4,"t":"100ms"}', '{"n":16,"t":"10ms"}']
    """
    import json

    def key(row):
        variables = json.loads(row.get("workload_vars") or "{}")
        return (row.get("workload", "open"),
                tuple((name, *_var_order(v)) for name, v in sorted(variables.items())))

    return sorted(rows, key=key)


def _var_order(value) -> tuple:
    """A sort key for a workload variable: numbers and durations by size, other text
    after them, alphabetically."""
    from ..errors import McsimError
    from ..units import parse_duration

    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (0, value, "")
    try:
        return (0, parse_duration(value), "")
    except (McsimError, TypeError, ValueError):
        return (1, 0, str(value))


def workload_axes(rows: Sequence[dict]) -> list[tuple[str, list]]:
    """``(header, cells)`` of the workload columns of a table of points: the workload's
    name where rows differ in it, then each workload variable whose value differs
    between rows (one workload is named in the caption instead).

    >>> workload_axes([{"workload": "ps-scan", "workload_vars": '{"n":1}'},
    ...                {"workload": "ps-scan", "workload_vars": '{"n":8}'}])
    [('n', ['1', '8'])]
    >>> workload_axes([{"workload": "open", "workload_vars": "{}"},
    ...                {"workload": "ps-scan", "workload_vars": '{"n":8}'}])
    [('workload', ['open', 'ps-scan']), ('n', ['-', '8'])]
    """
    import json

    names = [r.get("workload", "open") for r in rows]
    parsed = [json.loads(r.get("workload_vars") or "{}") for r in rows]
    keys = sorted({k for v in parsed for k in v})
    varying = [k for k in keys if len({repr(v.get(k)) for v in parsed}) > 1]
    return [("workload", names)] * (len(set(names)) > 1) + \
        [(k, [_cell(v.get(k)) for v in parsed]) for k in varying]


def _percent(x) -> str:
    if x is None or x != x:
        return "-"
    return "inf" if x == math.inf else f"{x:.2%}"


def _axis_cell(column: str, value) -> str:
    """A value with its unit: ``20 µs`` for ``wake_ns``, ``200/s`` for a rate.

    >>> _axis_cell("wake_ns", 20000), _axis_cell("gate_wait_p99_ns", 3.8142e7)
    ('20 µs', '38.1 ms')
    >>> _axis_cell("thread_names", ["a/w", "b/r"]), _axis_cell("thread_throughput_per_s",
    ...                                                        [110.2, 67.25])
    ('a/w, b/r', '110, 67.2 /s')
    """
    if column == "thread_names" and isinstance(value, (list, tuple)):
        return ", ".join(value) or "-"
    if column == "thread_throughput_per_s" and isinstance(value, (list, tuple)):
        return (", ".join(_cell_number(x) for x in value) + " /s") if value else "-"
    if column.endswith("_ns") and isinstance(value, (int, float)) \
            and not isinstance(value, bool):
        return format_duration(value)
    if column.endswith("_per_s") and isinstance(value, float):
        return f"{value:g}/s"
    return _cell(value)


def _cell(value) -> str:
    """A table cell: lists (histogram columns) by their length, numbers compactly.

    >>> _cell([3, 5, 9]), _cell(0.05), _cell(123456), _cell(None), _cell(float("nan"))
    ('3 values', '0.05', '123,456', '-', '-')
    """
    if value is None or (isinstance(value, float) and value != value):
        return "-"
    if isinstance(value, (list, tuple)):
        return count(len(value), "value")
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}" if abs(value) >= 10_000 else str(value)
    return str(value)


def script_waits_table(results: Sequence) -> Table:
    """Each task's waits for the lock (one column per task), the HP reads' waits and when
    the last task was done, one line per policy or kernel preset.

    A fault lists its passes' waits for L; an HP read its acquisitions' (``8.05 ms + 0``),
    whose sum, what a ``ps`` user feels, is the ``HP wait`` column.
    """
    kernels = any(r.kernel != "none" for r in results)
    table = Table(title="waits for the lock, task by task (--json: every time)",
                  title_justify="left", box=box.SIMPLE_HEAD, show_edge=False,
                  pad_edge=False)
    table.add_column("kernel" if kernels else "policy", no_wrap=True)
    for task in results[0].tasks:
        table.add_column(f"{task.index}\n{task.kind}", justify="right", no_wrap=True)
    table.add_column("HP\nwait", justify="right", no_wrap=True)
    table.add_column("all\ndone", justify="right", no_wrap=True)
    for res in results:
        table.add_row(fold_name(res.label), *(Text(_task_waits(t)) for t in res.tasks),
                      ", ".join(format_duration(w) for w in res.hp_read_waits()) or "-",
                      format_duration(max((t.done for t in res.tasks), default=0)))
    return table


def fold_name(name: str, width: int = 16) -> str:
    """A long preset name on several lines, broken before a ``+``.

    >>> fold_name("6.18+vma-retry+cmdline-vma"), fold_name("6.18+cmdline-vma")
    ('6.18+vma-retry\\n+cmdline-vma', '6.18+cmdline-vma')
    """
    lines = [""]
    for i, part in enumerate(name.split("+")):
        piece = part if i == 0 else "+" + part
        if lines[-1] and len(lines[-1]) + len(piece) > width:
            lines.append(piece)
        else:
            lines[-1] += piece
    return "\n".join(lines)


def _task_waits(task) -> str:
    """``8.05 ms + 0`` for an HP read of two acquisitions; ``0, 0`` for a fault's two
    passes; ``-`` for a task that never waits (a background bio).

    >>> from mcsim.result import ScriptTask
    >>> _task_waits(ScriptTask(3, "hp_read", [8050000, 0], 1)), _task_waits(ScriptTask(
    ...     1, "fault", [0, 0], 1)), _task_waits(ScriptTask(0, "bg_io", [], 1))
    ('8.05 ms + 0', '0, 0', '-')
    """
    waits = [format_duration(w) for w in task.waits]
    return (" + " if task.kind == "hp_read" else ", ").join(waits) or "-"


def policies_table(policies) -> Table:
    from ..policies import STEP_COLUMNS

    table = Table(title="fault-path policies: which pass-1 steps hold the mmap lock L "
                  "(L = held, - = dropped, then VM_FAULT_RETRY)", title_justify="left")
    table.add_column("policy")
    table.add_column("stands for")
    for column in STEP_COLUMNS:
        table.add_column(column, justify="center")
    table.add_column("page kept", justify="center")
    for p in policies:
        table.add_row(p.name, p.stands_for, *("L" if flag else "-" for flag in p.locked),
                      "yes" if p.keeps_page else "no")
    return table


def workloads_table(workloads) -> Table:
    """One line per workload: name, trial kind, processes, threads, variables and the
    sentence saying what it represents."""
    table = Table(title="ready workloads (mcsim run --workload NAME; sweeps/workloads/)",
                  title_justify="left")
    for name in ("name", "trials", "processes", "threads", "vars", "represents"):
        table.add_column(name, justify="right" if name in ("processes", "threads")
                         else "left", overflow="fold")
    for w in workloads:
        variables = ", ".join(f"{k}={v}" for k, v in sorted(dict(w.vars).items()))
        table.add_row(Text(w.name), w.trial_kind, str(len(w.process_names)),
                      str(len(w.thread_names)), Text(variables or "-"),
                      Text(w.description))
    return table


def workload_detail(workload) -> list:
    """One workload in full: its sentence, processes, threads, variables and the mcsim
    parameters it sets."""
    variables = ", ".join(f"{k} = {v!r}" for k, v in sorted(dict(workload.vars).items()))
    settings = ", ".join(f"{k} = {v!r}" for k, v in sorted(dict(workload.params).items()))
    return [Text(f"{workload.name}: {workload.description}"),
            Text(f"trials: {workload.trial_kind} · hash {workload.hash}\n"
                 f"processes ({len(workload.process_names)}): "
                 f"{', '.join(workload.process_names)}\n"
                 f"threads ({len(workload.thread_names)}, in counter order): "
                 f"{', '.join(workload.thread_names) or '-'}\n"
                 f"vars (--var NAME=VALUE): {variables or '-'}\n"
                 f"params it sets (--set wins): {settings or '-'}")]


def params_table(params) -> Table:
    from ..schema import param_column

    table = Table(title="model parameters (set with --set NAME=VALUE; result column in "
                  "brackets where it adds the unit)", title_justify="left")
    for name in ("name", "default", "unit", "meaning"):
        table.add_column(name)
    for p in params:
        column = param_column(p.name)
        name = p.name if column == p.name else f"{p.name}\n[{column}]"
        table.add_row(Text(name), str(p.default), p.unit, Text(p.help))
    return table
