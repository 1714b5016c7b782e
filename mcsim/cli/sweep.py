"""``mcsim sweep``: a grid of configurations, one Parquet file per point, resumable."""
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..errors import UsageError
from .app import app
from .common import (ConfigOpt, EraOpt, JsonOpt, KernelOpt, MaxTrialsOpt, PolicyOpt, PrecisionOpt,
                     QuietOpt, SeedOpt, SetOpt, ThrottleOpt, TrialsOpt, VarOpt, WorkloadOpt,
                     WriterRatioOpt, build_spec, command_line, flag_values, print_json,
                     progress_bar, show_progress, stdout_console, var_values, workload_set_values)
from .plan import TrialsDone, announce, show_plan

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
    from ..executors import parse_shard, run_sweep, shard_points
    from ..plan import plan_sweep
    from ..points import check_workers

    if sweep_file is not None and config is not None:
        raise UsageError("give the sweep file once: as SWEEP.toml or as --config, not both")
    source = sweep_file or config
    set_values, set_vars = workload_set_values(set_values, workload, source)
    values = flag_values(set_values, kernel=kernel, policy=policy, era=era,
                         throttle_depth=throttle_depth, writer_ratio=writer_ratio)
    spec = build_spec(source, values, allow_grid=True, workload=workload,
                      variables=var_values((var or []) + set_vars), trials=trials,
                      seed=seed, p99_rel_ci=p99_rel_ci, max_trials=max_trials)
    if out is None:
        if source is None:
            raise UsageError("--out: missing; allowed: a directory for the point files, "
                             "e.g. --out out/my-sweep")
        out = Path("out") / spec.name
    points = spec.points(command=command_line())
    if shard is not None:
        points = shard_points(points, *parse_shard(shard))
    options = _executor_options(executor, scheduler=scheduler,
                                scheduler_file=scheduler_file,
                                connect_timeout=connect_timeout)
    if workers is not None:
        check_workers(workers)                 # a dry run never reaches run_sweep
    plan = plan_sweep(points, out, force=force)
    name = f"sweep {spec.name or out.name}"
    if dry_run:
        show_plan(plan, name, workers, executor, json_output)
        return
    mode = show_progress(quiet)
    if mode and plan.is_big:
        announce(plan, name, workers, executor)
    with progress_bar(name, None, "trials", enabled=mode, eta=True,
                      interval=log_interval) as bar:
        report = run_sweep(points, out, workers=workers, force=force, executor=executor,
                           executor_options=options, plan=plan,
                           on_point=TrialsDone(plan, bar))
    _print_report(report, points, out, spec, executor, shard, json_output)


def _executor_options(executor: str, **given) -> dict:
    """The options for the executor's factory; raises UsageError for a mismatch."""
    options = {k: v for k, v in given.items() if v is not None}
    if executor != "dask" and options:
        raise UsageError(f"--{next(iter(options)).replace('_', '-')}: only with --executor "
                         "dask; allowed: add --executor dask, or leave it out")
    if executor == "dask" and not options.keys() & {"scheduler", "scheduler_file"}:
        raise UsageError("--executor dask: no scheduler; allowed: --scheduler "
                         "tcp://HOST:8786 or --scheduler-file FILE")
    return options


#: Workload columns each point of ``mcsim sweep --json`` carries beside its summary.
WORKLOAD_SUMMARY = ("workload", "workload_hash", "workload_vars", "trial_kind",
                    "thread_names", "thread_throughput_per_s")


def _print_report(report, points, out: Path, spec, executor: str, shard, json_output: bool):
    """The sweep's points as a table (or the --json summary)."""
    import mcsim

    from ..points import summarize
    from .render import points_table

    keys = {p.key for p in points}
    rows = [r for r in mcsim.load(out).to_pylist() if r["point_key"] in keys]
    if json_output:
        by_key = {r["point_key"]: r for r in rows}
        print_json({"out": str(out), "points": len(points), "computed": len(report.computed),
                    "skipped": len(report.skipped), "wall_s": report.wall_s,
                    "executor": executor, "shard": shard,
                    "results": [{**summarize(by_key[p.key]),
                                 **{k: by_key[p.key][k] for k in WORKLOAD_SUMMARY}}
                                for p in points]})
        return
    console = stdout_console()
    console.print(points_table(rows, title=spec.description or None))
    console.print(f"{len(points)} points: {len(report.computed)} computed, "
                  f"{len(report.skipped)} already present · {report.wall_s:.1f} s · {out}")
