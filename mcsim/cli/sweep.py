"""``mcsim sweep``: a grid of configurations, one Parquet file per point, resumable (the
work is in :mod:`mcsim.cli.sweep_impl`)."""
from pathlib import Path
from typing import Annotated, Optional

import typer

from .app import app
from .common import (ConfigOpt, EraOpt, JsonOpt, KernelOpt, MaxTrialsOpt, PolicyOpt, PrecisionOpt,
                     QuietOpt, SeedOpt, SetOpt, ThrottleOpt, TrialsOpt, VarOpt, WorkloadOpt,
                     WriterRatioOpt)

SWEEP_EPILOG = """Examples:

  mcsim sweep sweeps/quick.toml

  mcsim sweep sweeps/bacik-2018.toml --workers 2 --out out/bacik-2018

  mcsim sweep --policy all --throttle-depth 0..7 --writer-ratio 0,0.05,0.1
              --trials 200000 --out out/grid

  mcsim sweep sweeps/quick.toml --set device=ssd,hdd --p99-rel-ci 0.05 --out out/devices

  mcsim sweep sweeps/kernels.toml

  mcsim sweep --kernel 4.19,6.18,6.18+vma-retry --set p_retry_miss=0.45 --out out/retry

A workload with its variables as axes (or workload = "..." and [grid] vars.n = [...] in
the sweep file):

  mcsim sweep --workload ps-scan --var n=1,2,4,8 --kernel 4.19,6.18 --trials 20
              --out out/ps-scan

On a Dask cluster (pip install 'mcsim[dask]'; see docs/cli.md, Clusters):

  mcsim sweep sweeps/bacik-2018.toml --executor dask --scheduler tcp://head:8786

  mcsim sweep sweeps/bacik-2018.toml --executor dask --scheduler-file sched.json

As one of the tasks of a job array (then `mcsim compact out/bacik-2018`):

  mcsim sweep sweeps/bacik-2018.toml --shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT

Check the plan and an estimated time first, without simulating:

  mcsim sweep sweeps/bacik-2018.toml --dry-run

A rerun skips points whose file is present and valid (--force recomputes them); Ctrl-C,
SIGTERM (exit 130) or a killed run keeps every finished point.
"""


@app.command(epilog=SWEEP_EPILOG)
def sweep(
    sweep_file: Annotated[Optional[Path], typer.Argument(
        metavar="[SWEEP.toml]", help="Sweep file ([run], [params], [grid]; see sweeps/), "
        "the same as --config.", dir_okay=False, show_default=False)] = None,
    workload: WorkloadOpt = None,
    var: VarOpt = None,
    kernel: KernelOpt = None,
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
        metavar="N", help="Processes running points in parallel, one single-threaded point "
        "each, 1 to 256 [default: all cores].", show_default=False)] = None,
    executor: Annotated[str, typer.Option(
        "--executor", metavar="local|dask", help="Where points run: `local` processes, or "
        "`dask` workers of the scheduler given by --scheduler or --scheduler-file (they "
        "write into --out, which must be on a filesystem they share).")] = "local",
    scheduler: Annotated[Optional[str], typer.Option(
        "--scheduler", metavar="ADDRESS", help="Dask scheduler address, e.g. "
        "tcp://head:8786 (with --executor dask).", show_default=False)] = None,
    scheduler_file: Annotated[Optional[Path], typer.Option(
        "--scheduler-file", metavar="FILE", help="Dask scheduler file written by `dask "
        "scheduler --scheduler-file FILE` (with --executor dask).", dir_okay=False,
        show_default=False)] = None,
    connect_timeout: Annotated[Optional[float], typer.Option(
        "--connect-timeout", metavar="SECONDS", help="How long to wait for the Dask "
        "scheduler [default: 30].", show_default=False, min=0.1)] = None,
    shard: Annotated[Optional[str], typer.Option(
        "--shard", metavar="I/N", help="Compute only shard I (0 <= I < N) of N: the points "
        "whose rank among the sorted point keys is I mod N.  For job arrays writing into "
        "one --out; `mcsim compact` merges.", show_default=False)] = None,
    out: Annotated[Optional[Path], typer.Option(
        "--out", "-o", metavar="DIR", help="Directory for the point files.  Required "
        "without a sweep file; with one, out/NAME if not given (NAME: the file's name "
        "without .toml).", file_okay=False, show_default=False)] = None,
    force: Annotated[bool, typer.Option(
        "--force", help="Recompute points whose file is already present.")] = False,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Print the plan (points, trials, workers, output directory, "
        "points already present, an estimated time from a short pilot run) and exit "
        "without simulating or creating anything.")] = False,
    log_interval: Annotated[float, typer.Option(
        "--log-interval", metavar="SECONDS", help="With stderr not a terminal: at most "
        "one progress line per SECONDS (0: one per finished point).", min=0)] = 10.0,
    config: ConfigOpt = None,
    json_output: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Simulate every combination of the grid's values with the same seed (common random
    numbers), in parallel, writing one Parquet file per point into the output directory."""
    from . import sweep_impl

    sweep_impl.sweep(sweep_file=sweep_file, workload=workload, var=var, kernel=kernel,
                     policy=policy, era=era, throttle_depth=throttle_depth,
                     writer_ratio=writer_ratio, set_values=set_values, trials=trials,
                     seed=seed, p99_rel_ci=p99_rel_ci, max_trials=max_trials,
                     workers=workers, executor=executor, scheduler=scheduler,
                     scheduler_file=scheduler_file, connect_timeout=connect_timeout,
                     shard=shard, out=out, force=force, dry_run=dry_run,
                     log_interval=log_interval, config=config, json_output=json_output,
                     quiet=quiet)
