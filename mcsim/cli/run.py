"""``mcsim run``: simulate one configuration and print its headline."""
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..errors import UsageError
from .app import app
from .common import (JsonOpt, MaxTrialsOpt, PrecisionOpt, QuietOpt, RunConfigOpt,
                     RunEraOpt, RunKernelOpt, RunPolicyOpt, RunSeedOpt, RunThrottleOpt, RunTrialsOpt,
                     RunWriterRatioOpt, SetOneOpt, VarOneOpt, WorkloadOpt, build_spec,
                     command_line, flag_values, print_json, progress_bar, show_progress,
                     stdout_console, var_values, workload_set_values)

RUN_EPILOG = """Examples:

  mcsim run

  mcsim run --policy rfc-v2 --throttle-depth 7 --writer-ratio 0.1 --trials 2000000

  mcsim run --kernel 6.18 --set p_same_vma=1 --set p_mkwrite_writeback=0.3

  mcsim run --set device=ssd --set "writer_hold=exp(50us)" --json

  mcsim run -c my-config.toml --seed 3 --out result.parquet

  mcsim run --policy hold --p99-rel-ci 0.02

  mcsim run --workload ps-scan --var n=8 --trials 20

  mcsim run --workload my-workload.toml --kernel 6.18 --set window=2s --trials 50
"""


@app.command(epilog=RUN_EPILOG)
def run(
    workload: WorkloadOpt = None,
    var: VarOneOpt = None,
    kernel: RunKernelOpt = None,
    policy: RunPolicyOpt = None,
    era: RunEraOpt = None,
    throttle_depth: RunThrottleOpt = None,
    writer_ratio: RunWriterRatioOpt = None,
    set_values: SetOneOpt = None,
    trials: RunTrialsOpt = None,
    seed: RunSeedOpt = None,
    p99_rel_ci: PrecisionOpt = None,
    max_trials: MaxTrialsOpt = None,
    workers: Annotated[Optional[int], typer.Option(
        metavar="N", help="Threads sharing the blocks of trials, 1 to 256 [default: all "
        "cores]; the result is the same for any number.", show_default=False)] = None,
    config: RunConfigOpt = None,
    out: Annotated[Optional[Path], typer.Option(
        "--out", "-o", metavar="FILE.parquet", help="Also write the result (one row, "
        "histograms included; docs/results.md) as Parquet, atomically.",
        dir_okay=False)] = None,
    json_output: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Simulate one configuration: HP wait p50/p99/p99.9 with the p99 interval, the
    inversion fraction, fault latency, writer wait and the work done; with --workload,
    also each HP acquisition's wait, the ps scans' time and wait, and each thread's loop
    throughput."""
    from ..points import default_workers, simulate_point

    if out is not None:
        from ..dataset import check_parquet_path

        check_parquet_path(out, "--out")
    set_values, set_vars = workload_set_values(set_values, workload, config)
    values = flag_values(set_values, kernel=kernel, policy=policy, era=era,
                         throttle_depth=throttle_depth, writer_ratio=writer_ratio)
    spec = build_spec(config, values, allow_grid=False, workload=workload,
                      variables=var_values((var or []) + set_vars), trials=trials,
                      seed=seed, p99_rel_ci=p99_rel_ci, max_trials=max_trials)
    points = spec.points(command=command_line())
    if len(points) != 1:
        raise UsageError(f"run simulates one configuration, but the options give "
                         f"{len(points)}; allowed: one value per parameter and workload "
                         "variable (use `mcsim sweep` for lists)")
    point = points[0]
    workers = default_workers() if workers is None else workers
    total = None if point.p99_rel_ci is not None else point.trials
    with progress_bar("simulating", total, "trials", enabled=show_progress(quiet)) as bar:
        result = simulate_point(point, workers=workers, progress=_checked(bar.advance))
    if out is not None:
        _write_result(result, point, out, workers)
    if json_output:
        print_json(result_document(result))
        return
    console = stdout_console()
    from .render import result_tables

    for renderable in result_tables(result):
        console.print(renderable)
    if out is not None:
        console.print(f"wrote {out}")


def _write_result(result, point, out: Path, workers: int) -> None:
    from ..dataset import file_metadata, write_table_atomic
    from ..points import canonical_json

    metadata = file_metadata(command=point.command, point_key=point.key,
                             point=canonical_json(point.identity()), workers=str(workers))
    write_table_atomic(result.to_arrow(metadata), out)


def result_document(result) -> dict:
    """The JSON of `mcsim run --json`: configuration, run settings, counters and every
    statistic of every metric (the result row without its histograms).  Keys are the
    result columns' names, units included (``config.wake_ns``, ``config.hp_rate_per_s``,
    ``metrics.hp_wait.p99_ns``)."""
    from ..layout import METRICS
    from ..schema import STATS, counter_column, param_values, stat_column

    row = result.row()
    return {
        "workload": workload_document(result),
        "config": param_values(result.config.public()),
        "lp_depth": result.config.lp_depth,
        "run": {k: row[k] for k in ("point_key", "seed", "trials", "p99_rel_ci_target",
                                    "max_trials", "p99_rel_ci_met", "wall_s")},
        "inversion_fraction": row["inversion_fraction"],
        "counters": {counter_column(c): v for c, v in result.counters.items()},
        "metrics": {m: {stat_column(m, s)[len(m) + 1:]: row[stat_column(m, s)]
                        for s, _ in STATS} for m in METRICS},
    }


def workload_document(result) -> dict:
    """The workload part of ``mcsim run --json``: name, hash, variables, trial kind and
    each thread's counted iterations and loop throughput (per simulated second)."""
    wl = result.workload
    rates = result.thread_throughput()
    return {"name": result.workload_name, "hash": None if wl is None else wl.hash,
            "vars": {} if wl is None else dict(wl.vars), "trial_kind": result.trial_kind,
            "threads": [{"name": name, "iterations": result.counters[
                f"thread_iterations_{k}"], "throughput_per_s": rate}
                for k, (name, rate) in enumerate(rates)]}


def _checked(advance):
    """Progress that also acts on a signal whose first Interrupted went astray."""
    from . import signals

    def step(n: int) -> None:
        signals.raise_pending()
        advance(n)
    return step
