"""The work of ``mcsim run`` (:mod:`mcsim.cli.run` declares its options): simulate the
point, print its tables or its JSON document, write its Parquet file.

>>> import mcsim
>>> doc = result_document(mcsim.simulate(policy="hold", trials=200, seed=1))
>>> doc["run"]["trials"], doc["config"]["policy"], "p99_ns" in doc["metrics"]["hp_wait"]
(200, 'hold', True)
"""
from pathlib import Path

from ..errors import UsageError
from .common import (command_line, print_json, progress_bar, show_progress,
                     spec_from_options, stdout_console)


def run(*, workload, var, kernel, policy, era, throttle_depth, writer_ratio, set_values,
        trials, seed, p99_rel_ci, max_trials, workers, config, out, json_output,
        quiet) -> None:
    """The work of ``mcsim run`` (:func:`mcsim.cli.run.run`)."""
    from ..points import default_workers, simulate_point

    if out is not None:
        from ..dataset import check_parquet_path

        check_parquet_path(out, "--out")
    spec = spec_from_options(config, allow_grid=False, set_values=set_values, var=var,
                             workload=workload, kernel=kernel, policy=policy, era=era,
                             throttle_depth=throttle_depth, writer_ratio=writer_ratio,
                             trials=trials, seed=seed, p99_rel_ci=p99_rel_ci,
                             max_trials=max_trials)
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
