"""``mcsim compare``: one configuration under several policies or kernel presets, side by
side.

The policies (or, with ``--kernel``, the kernels) run as the points of a small sweep (one
seed: common random numbers), or their rows are read from results with ``--from``.  Cells
show a value and, for each row after the first, its difference to the first with a 95%
interval (:mod:`mcsim.cli.compare_impl`, imported when the command runs, so that
``mcsim --help`` does not compile it).

>>> from mcsim.cli import main
>>> main(["compare", "--policy", "hold,hold"])
2
"""
from pathlib import Path
from typing import Annotated, Optional

import typer

from .app import app
from .common import (ConfigOpt, JsonOpt, MaxTrialsOpt, PrecisionOpt, QuietOpt, RunEraOpt,
                     SeedOpt, SetOneOpt, TrialsOpt, VarOneOpt, WorkloadOpt)

EPILOG = """Examples:

  mcsim compare --throttle-depth 7 --writer-ratio 0.1 --trials 200000

  mcsim compare --policy hold,rfc-v2 --p99-rel-ci 0.05 --plot ccdf.png

  mcsim compare --from out/bacik-2018 --throttle-depth 7 --writer-ratio 0.1 --json

  mcsim compare --kernel 6.18,6.18+vma-retry,6.18+cmdline-vma,6.18+vma-retry+cmdline-vma
                --set p_retry_miss=0.45 --set p_mkwrite_writeback=0.3 --trials 200000

  mcsim compare --kernel all --from out/kernels --set p_same_vma=1 --writer-ratio 0.1

  mcsim compare --kernel 4.19,6.18 --workload ps-scan --var n=8 --trials 20
"""


@app.command(epilog=EPILOG)
def compare(
    kernel: Annotated[Optional[str], typer.Option(
        "--kernel", "--kernels", metavar="NAMES", help="Kernel presets to compare instead "
        "of policies (`mcsim kernels`), the first is the baseline: a list such as "
        "4.19,6.18,6.18+vma-retry, or `all`.", show_default=False)] = None,
    policy: Annotated[Optional[str], typer.Option(
        metavar="NAMES", help="Policies to compare, the first is the baseline: a list "
        "such as hold,rfc-v2, or `all` [default: all, without --kernel].",
        show_default=False)] = None,
    era: RunEraOpt = None,
    workload: WorkloadOpt = None,
    var: VarOneOpt = None,
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
    """Compare one configuration under several policies, or kernel presets with --kernel:
    each statistic with its difference to the first and the interval, a verdict each,
    the blame, and (kernels) how often each kernel path ran."""
    from . import compare_impl

    compare_impl.compare(kernel=kernel, policy=policy, era=era, workload=workload, var=var,
                         throttle_depth=throttle_depth, writer_ratio=writer_ratio,
                         set_values=set_values, trials=trials, seed=seed,
                         p99_rel_ci=p99_rel_ci, max_trials=max_trials, config=config,
                         source=source, plot_file=plot_file, json_output=json_output,
                         quiet=quiet)
