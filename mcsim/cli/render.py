"""Rich tables for the terminal: one result, a table of points, scripts, policies, params.

Each function returns renderables (tables, text); the commands print them.  Times are
shown with :func:`mcsim.units.format_duration` (``8.05 ms``).
"""
from __future__ import annotations

from typing import Iterable, Sequence

from rich.table import Table
from rich.text import Text

from ..result import HEADLINE
from ..units import format_duration as _format_duration


def format_duration(ns) -> str:
    """``8.05 ms``; ``-`` where there is no value (a metric without samples)."""
    return "-" if ns is None or ns != ns else _format_duration(ns)


def _p99_with_interval(p99: float, lo: float, hi: float) -> str:
    return f"{format_duration(p99)} [{format_duration(lo)}, {format_duration(hi)}]"


def result_tables(result) -> list:
    """The headline of one :class:`~mcsim.result.Result`: configuration, metric table,
    inversions, work done."""
    cfg, counters = result.config, result.counters
    title = (f"{cfg['policy']} · era {cfg['era']} · throttle_depth {cfg['throttle_depth']} "
             f"(lp_depth {cfg.lp_depth}) · writer_ratio {cfg['writer_ratio']:g} · device "
             f"{cfg['device']} · seed {result.seed}")
    table = Table()
    for name in ("metric", "n", "mean", "p50", "p99 [95% interval]", "p99.9", "max"):
        table.add_column(name, justify="left" if name == "metric" else "right")
    for name in HEADLINE:
        h = result[name]
        table.add_row(name, f"{h.n:,}", format_duration(h.mean()),
                      format_duration(h.quantile(0.5)),
                      _p99_with_interval(h.quantile(0.99), *h.quantile_ci(0.99)),
                      format_duration(h.quantile(0.999)), format_duration(h.max()))
    blame = result.blame()
    inversions = counters["inversions"]
    blamed = ", ".join(f"{step} {n / inversions:.0%}" for step, n in blame.items()
                       if n) if inversions else "none"
    lines = Text(
        f"inversions: {result.inversion_fraction:.3%} of HP reads ({inversions:,} of "
        f"{result['hp_wait'].n:,}); blamed step: {blamed}\n"
        f"{result.trials:,} trials · {counters['events']:,} events · {result.wall_s:.2f} s "
        f"· {result.events_per_s / 1e6:.1f} M events/s")
    precision = result.extra.get("p99_rel_ci_target")
    if precision is not None:
        met = "met" if result.extra.get("p99_rel_ci_met") else "NOT met (max_trials reached)"
        lines.append(f"\nprecision target p99 ±{precision:.2%}: {met}")
    return [Text(title), table, lines]


def varying_parameters(rows: Sequence[dict]) -> list[str]:
    """Parameters (and seed) whose value differs between rows, in table order."""
    from ..params import PARAMS

    names = [p.name for p in PARAMS] + ["seed"]
    return [n for n in names if len({repr(r[n]) for r in rows}) > 1]


def sort_rows(rows: list[dict], keys: Sequence[str]) -> list[dict]:
    """Rows sorted by ``keys``; policies in the order of ``mcsim policies``."""
    from ..policies import POLICY_LIST

    order = {p.name: i for i, p in enumerate(POLICY_LIST)}

    def key(row):
        return tuple(order.get(row[k], 99) if k == "policy" else row[k] for k in keys)

    return sorted(rows, key=key)


def points_table(rows: Sequence[dict], extra_columns: Iterable[str] = (),
                 title: str | None = None) -> Table:
    """One line per point: the parameters that vary, then the headline statistics."""
    axes = varying_parameters(rows) if len(rows) > 1 else ["policy"]
    rows = sort_rows(list(rows), axes)
    table = Table(title=title, title_justify="left")
    stats = ("trials", "hp_wait p50", "hp_wait p99 [95% interval]", "±", "hp_wait p99.9",
             "inversions", "writer_wait p99")
    for name in (*axes, *stats, *extra_columns):
        table.add_column(name, justify="left" if name in axes else "right")
    for r in rows:
        table.add_row(
            *(_cell(r[a]) for a in axes), f"{r['trials']:,}",
            format_duration(r["hp_wait_p50_ns"]),
            _p99_with_interval(r["hp_wait_p99_ns"], r["hp_wait_p99_lo_ns"],
                               r["hp_wait_p99_hi_ns"]),
            _percent(r["hp_wait_p99_rel_ci"]), format_duration(r["hp_wait_p999_ns"]),
            _percent(r["inversion_fraction"]), format_duration(r["writer_wait_p99_ns"]),
            *(_cell(r[c]) for c in extra_columns))
    return table


def _percent(x) -> str:
    return "-" if x is None or x != x else "inf" if x == float("inf") else f"{x:.2%}"


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}" if abs(value) >= 10_000 else str(value)
    return str(value)


def script_waits_table(results: Sequence) -> Table:
    """Each task's waits (one column per task), one line per policy."""
    table = Table(title="waits for the mmap lock L", title_justify="left")
    table.add_column("policy")
    for task in results[0].tasks:
        table.add_column(f"{task.index} {task.kind}", justify="right")
    for res in results:
        table.add_row(res.policy, *(", ".join(format_duration(w) for w in t.waits) or "-"
                                    for t in res.tasks))
    return table


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


def params_table(params) -> Table:
    table = Table(title="model parameters (set with --set NAME=VALUE)", title_justify="left")
    for name in ("name", "default", "unit", "meaning"):
        table.add_column(name)
    for p in params:
        table.add_row(p.name, str(p.default), p.unit, p.help)
    return table
