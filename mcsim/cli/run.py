"""``mcsim run``: simulate one configuration and print its headline (the work is in
:mod:`mcsim.cli.run_impl`)."""
from pathlib import Path
from typing import Annotated, Optional

import typer

from .app import app
from .common import (JsonOpt, MaxTrialsOpt, PrecisionOpt, QuietOpt, RunConfigOpt,
                     RunEraOpt, RunKernelOpt, RunPolicyOpt, RunSeedOpt, RunThrottleOpt, RunTrialsOpt,
                     RunWriterRatioOpt, SetOneOpt, VarOneOpt, WorkloadOpt)

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
    from . import run_impl

    run_impl.run(workload=workload, var=var, kernel=kernel, policy=policy, era=era,
                 throttle_depth=throttle_depth, writer_ratio=writer_ratio,
                 set_values=set_values, trials=trials, seed=seed, p99_rel_ci=p99_rel_ci,
                 max_trials=max_trials, workers=workers, config=config, out=out,
                 json_output=json_output, quiet=quiet)
