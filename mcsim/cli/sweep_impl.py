"""The work of ``mcsim sweep`` (:mod:`mcsim.cli.sweep` declares its options): plan the
points, run them on the executor, print the report.  The Dask options go with the Dask
executor only:

>>> _executor_options("local", scheduler=None, scheduler_file=None)
{}
>>> _executor_options("local", scheduler="tcp://head:8786")
Traceback (most recent call last):
...
mcsim.errors.UsageError: --scheduler: only with --executor dask; allowed: add --executor dask, or leave it out
"""
from pathlib import Path

from ..errors import UsageError
from .common import (command_line, print_json, progress_bar, show_progress,
                     spec_from_options, stdout_console)

#: Workload columns each point of ``mcsim sweep --json`` carries beside its summary.
WORKLOAD_SUMMARY = ("workload", "workload_hash", "workload_vars", "trial_kind",
                    "thread_names", "thread_throughput_per_s")


def sweep(*, sweep_file, workload, var, kernel, policy, era, throttle_depth, writer_ratio,
          set_values, trials, seed, p99_rel_ci, max_trials, workers, executor, scheduler,
          scheduler_file, connect_timeout, shard, out, force, dry_run, log_interval, config,
          json_output, quiet) -> None:
    """The work of ``mcsim sweep`` (:func:`mcsim.cli.sweep.sweep`)."""
    from ..executors import parse_shard, run_sweep, shard_points
    from ..plan import plan_sweep
    from ..points import check_workers
    from .plan import TrialsDone, announce, show_plan

    if sweep_file is not None and config is not None:
        raise UsageError("give the sweep file once: as SWEEP.toml or as --config, not both")
    source = sweep_file or config
    spec = spec_from_options(source, allow_grid=True, set_values=set_values, var=var,
                             workload=workload, kernel=kernel, policy=policy, era=era,
                             throttle_depth=throttle_depth, writer_ratio=writer_ratio,
                             trials=trials, seed=seed, p99_rel_ci=p99_rel_ci,
                             max_trials=max_trials)
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
