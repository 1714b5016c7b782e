"""``mcsim sweep``: a grid of configurations, one Parquet file per point, resumable."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ..errors import UsageError
from .app import app
from .common import (ConfigOpt, EraOpt, JsonOpt, MaxTrialsOpt, PolicyOpt, PrecisionOpt,
                     QuietOpt, SeedOpt, SetOpt, ThrottleOpt, TrialsOpt, WriterRatioOpt,
                     build_spec, command_line, flag_values, print_json, progress_bar,
                     show_progress, stdout_console)

SWEEP_EPILOG = """Examples:

  mcsim sweep sweeps/quick.toml

  mcsim sweep sweeps/bacik-2018.toml --workers 2 --out out/bacik-2018

  mcsim sweep --policy all --throttle-depth 0..7 --writer-ratio 0,0.05,0.1
              --trials 200000 --out out/grid

  mcsim sweep sweeps/quick.toml --set device=ssd,hdd --p99-rel-ci 0.05 --out out/devices

A rerun skips points whose file is present and valid (--force recomputes them); Ctrl-C or
a killed run keeps every finished point.
"""


@app.command(epilog=SWEEP_EPILOG)
def sweep(
    sweep_file: Annotated[Optional[Path], typer.Argument(
        metavar="[SWEEP.toml]", help="Sweep file ([run], [params], [grid]; see sweeps/), "
        "the same as --config.", dir_okay=False, show_default=False)] = None,
    policy: PolicyOpt = None,
    era: EraOpt = None,
    throttle_depth: ThrottleOpt = None,
    writer_ratio: WriterRatioOpt = None,
    set_values: SetOpt = None,
    trials: TrialsOpt = None,
    seed: SeedOpt = None,
    p99_rel_ci: PrecisionOpt = None,
    max_trials: MaxTrialsOpt = None,
    workers: Annotated[Optional[int], typer.Option(
        help="Processes running points in parallel, one single-threaded point each "
             "[default: all cores].", show_default=False, min=1)] = None,
    out: Annotated[Optional[Path], typer.Option(
        "--out", "-o", metavar="DIR", help="Directory for the point files [default: "
        "out/<name of the sweep file>].", file_okay=False, show_default=False)] = None,
    force: Annotated[bool, typer.Option(
        "--force", help="Recompute points whose file is already present.")] = False,
    config: ConfigOpt = None,
    json_output: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Simulate every combination of the grid's values with the same seed (common random
    numbers), in parallel, writing one Parquet file per point into the output directory."""
    import mcsim

    from ..executors import run_sweep
    from ..points import summarize
    from .render import points_table

    if sweep_file is not None and config is not None:
        raise UsageError("give the sweep file once: as SWEEP.toml or as --config, not both")
    source = sweep_file or config
    values = flag_values(set_values, policy=policy, era=era, throttle_depth=throttle_depth,
                         writer_ratio=writer_ratio)
    spec = build_spec(source, values, allow_grid=True, trials=trials, seed=seed,
                      p99_rel_ci=p99_rel_ci, max_trials=max_trials)
    if out is None:
        if source is None:
            raise UsageError("--out: missing; allowed: a directory for the point files, "
                             "e.g. --out out/my-sweep")
        out = Path("out") / spec.name
    points = spec.points(command=command_line())

    with progress_bar(f"sweep {spec.name or out.name}", None, "points",
                      enabled=show_progress(quiet), eta=True) as bar:
        report = run_sweep(points, out, workers=workers, force=force,
                           progress=bar.update)
    keys = {p.key for p in points}
    rows = [r for r in mcsim.load(out).to_pylist() if r["point_key"] in keys]
    if json_output:
        by_key = {r["point_key"]: r for r in rows}
        print_json({"out": str(out), "points": len(points), "computed": len(report.computed),
                    "skipped": len(report.skipped), "wall_s": report.wall_s,
                    "results": [summarize(by_key[p.key]) for p in points]})
        return
    console = stdout_console()
    console.print(points_table(rows, title=spec.description or None))
    console.print(f"{len(points)} points: {len(report.computed)} computed, "
                  f"{len(report.skipped)} already present · {report.wall_s:.1f} s · {out}")
