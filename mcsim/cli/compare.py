"""``mcsim compare``: one configuration, several policies, side by side.

The policies run as the points of a small sweep (one seed: common random numbers), or
their rows are read from results with ``--from``.  Cells show a value and, for each
policy after the first, its difference to the first with a 95% interval:

>>> cell({"value": 9000.0, "lo": 0.0, "hi": 20000.0, "diff": -6.6e7, "diff_lo": -7e7,
...       "diff_hi": -6.2e7})
'9 µs\\nΔ -66 ms [-70, -62] ms'
"""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ..errors import UsageError
from .app import app
from .common import (ConfigOpt, JsonOpt, MaxTrialsOpt, PrecisionOpt, QuietOpt, RunEraOpt,
                     SeedOpt, SetOneOpt, TrialsOpt, build_spec, command_line, flag_values,
                     print_json, progress_bar, show_progress, stdout_console)

EPILOG = """Examples:

  mcsim compare --throttle-depth 7 --writer-ratio 0.1 --trials 200000

  mcsim compare --policy hold,rfc-v2 --p99-rel-ci 0.05 --plot ccdf.png

  mcsim compare --from out/bacik-2018 --throttle-depth 7 --writer-ratio 0.1 --json
"""


def cell(stat: dict) -> str:
    """A value, and under it the difference to the baseline with its interval."""
    from .render import format_duration, format_interval

    text = format_duration(stat["value"])
    if stat.get("diff") is not None:
        sign = "+" if stat["diff"] > 0 else ""
        text += (f"\nΔ {sign}{format_duration(stat['diff'])} "
                 f"{format_interval(stat['diff_lo'], stat['diff_hi'])}")
    return text


@app.command(epilog=EPILOG)
def compare(
    policy: Annotated[Optional[str], typer.Option(
        metavar="NAMES", help="Policies to compare, the first is the baseline: a list "
        "such as hold,rfc-v2, or `all` [default: all].", show_default=False)] = None,
    era: RunEraOpt = None,
    throttle_depth: Annotated[Optional[str], typer.Option(
        "--throttle-depth", metavar="DEPTH", help="io.latency halvings of the LP queue "
        "depth, 0-7.")] = None,
    writer_ratio: Annotated[Optional[str], typer.Option(
        "--writer-ratio", metavar="RATIO", help="Fraction of LP lock users that are "
        "writers, 0 to 1.")] = None,
    set_values: SetOneOpt = None,
    trials: TrialsOpt = None,
    seed: SeedOpt = None,
    p99_rel_ci: PrecisionOpt = None,
    max_trials: MaxTrialsOpt = None,
    config: ConfigOpt = None,
    source: Annotated[Optional[Path], typer.Option(
        "--from", metavar="PATH", help="Read the rows from results (a sweep directory or "
        "result file) instead of simulating; the options select one row per policy.")] = None,
    plot_file: Annotated[Optional[Path], typer.Option(
        "--plot", metavar="FILE", help="Also write the hp_wait CCDFs (.png, .svg or .pdf).",
        dir_okay=False)] = None,
    json_output: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Compare one configuration under several policies: each statistic with its
    difference to the first policy and the interval, a verdict per policy, the blame."""
    from ..compare import comparison

    if plot_file is not None:
        from .report import figure_format

        figure_format(plot_file)
    values = flag_values(set_values, policy=policy or "all", era=era,
                         throttle_depth=throttle_depth, writer_ratio=writer_ratio)
    twice = sorted({p for p in values["policy"] if values["policy"].count(p) > 1})
    if twice:
        raise UsageError(f"--policy: {twice[0]!r} is given twice; allowed: each policy "
                         "once (the first is the baseline)")
    if source is not None:
        rows = _read_rows(source, values)
    else:
        spec = build_spec(config, values, allow_grid=True, trials=trials, seed=seed,
                          p99_rel_ci=p99_rel_ci, max_trials=max_trials)
        rows = _simulate(spec, len(values["policy"]), quiet)
    data = comparison(rows)
    if plot_file is not None:
        from ..plot import ccdf
        from .report import save_figure

        save_figure(ccdf(rows), plot_file)
    if json_output:
        print_json({"config": _config(rows[0]), "policies": data,
                    "plot": str(plot_file) if plot_file else None})
        return
    _print(rows, data, plot_file)


def _simulate(spec, npolicies: int, quiet: bool) -> list[dict]:
    from ..executors import default_workers
    from ..points import simulate_point

    points = spec.points(command=command_line())
    if len(points) != npolicies:
        raise UsageError(f"compare takes one configuration, but the options give "
                         f"{len(points)} points for {npolicies} policies; allowed: one "
                         "value per parameter besides --policy (mcsim sweep for grids)")
    rows = []
    total = sum(p.trials for p in points) if spec.p99_rel_ci is None else None
    with progress_bar("simulating", total, "trials", enabled=show_progress(quiet)) as bar:
        for point in points:
            rows.append(simulate_point(point, workers=default_workers(),
                                       progress=bar.advance).row())
    return rows


def _read_rows(source: Path, values: dict) -> list[dict]:
    import mcsim

    from ..params import validate
    from ..plot import axes_of, rows_of
    from ..schema import param_column

    policies = values.pop("policy")
    rows = rows_of(mcsim.load(source))
    for name, vals in values.items():
        if len(vals) != 1:
            raise UsageError(f"{name}: {len(vals)} values; allowed: one value per parameter "
                             "besides --policy")
        canonical = validate({name: vals[0]}).public()[name]
        rows = [r for r in rows if r[param_column(name)] == canonical]
    picked = []
    for p in policies:
        mine = [r for r in rows if r["policy"] == p]
        if len(mine) != 1:
            others = [a for a in axes_of(mine) if a != "policy"] or ["none"]
            what = "no row" if not mine else f"{len(mine)} rows (they differ in " \
                f"{', '.join(others)}; select one with --set NAME=VALUE)"
            raise UsageError(f"--from: {source} has {what} for policy {p}; allowed: "
                             "options that select one row per policy")
        picked.append(mine[0])
    return picked


def _config(row: dict) -> dict:
    from ..params import PARAMS
    from ..schema import param_column

    return {param_column(p.name): row[param_column(p.name)] for p in PARAMS
            if p.name != "policy"}


def _print(rows, data, plot_file) -> None:
    from rich.table import Table

    from ..plot import axes_of, label
    from ..policies import BLAME_NAMES
    from ..result import count

    console = stdout_console()
    fixed = [c for c in ("era", "throttle_depth", "writer_ratio") if c not in axes_of(rows)]
    console.print(f"{label(rows[0], fixed)}; {count(rows[0]['trials'], 'trial')}, seed "
                  f"{rows[0]['seed']}; Δ: difference to {rows[0]['policy']} with its 95% "
                  "interval")
    table = Table(show_lines=True)
    table.add_column("statistic")
    for d in data:
        table.add_column(d["policy"], justify="right")
    table.add_row("inversions", *(
        "-" if d["hp_reads"] == 0 else f"{d['inversion_fraction']:.2%}" for d in data))
    for name in data[0]["statistics"]:
        table.add_row(name, *(cell(d["statistics"][name]) for d in data))
    console.print(table)
    for d in data:
        console.print(f"{d['policy']}: {d['verdict']}")
    blame = Table(title="inversions by blamed step (share of the policy's inversions)",
                  title_justify="left")
    blame.add_column("policy")
    for b in BLAME_NAMES:
        blame.add_column(b, justify="right")
    for d in data:
        total = d["inversions"]
        blame.add_row(d["policy"], *(f"{d['blame'][b]:,}" + (f" ({d['blame'][b] / total:.0%})"
                                                              if total else "")
                                     for b in BLAME_NAMES))
    console.print(blame)
    if plot_file is not None:
        console.print(f"wrote {plot_file}")
