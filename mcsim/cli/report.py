"""``mcsim report`` and ``mcsim plot``: pictures of results, as an HTML page or one figure.

matplotlib, numpy and pyarrow are imported inside the commands, and the commands' work is
in :mod:`mcsim.cli.report_impl`, so ``mcsim --help`` stays fast.  A figure's format
follows its file name's suffix:

>>> figure_format("fig.svg"), figure_format("out/ccdf.PNG")
('svg', 'png')
>>> figure_format("fig.jpg")
Traceback (most recent call last):
...
mcsim.errors.UsageError: --out: 'fig.jpg' has no figure suffix mcsim writes; allowed: .png, .svg or .pdf
"""
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..errors import UsageError
from .app import app
from .common import JsonOpt, KernelOpt, PolicyOpt, SetOneOpt

FORMATS = ("png", "svg", "pdf")
KINDS = ("ccdf", "quantiles", "blame", "timeline")

PathArg = Annotated[Path, typer.Argument(
    metavar="PATH", help="A sweep directory, a compacted file or an `mcsim run --out` file.")]


def figure_format(path: str | Path) -> str:
    """The format of figure file ``path`` (by suffix); a one-line error for any other."""
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in FORMATS or not Path(path).stem:
        raise UsageError(f"--out: {str(path)!r} has no figure suffix mcsim writes; "
                         "allowed: .png, .svg or .pdf")
    return suffix


@app.command(epilog="Examples:\n\n  mcsim report out/quick                 # writes "
                    "out/quick.html\n\n  mcsim report out/bacik-2018.parquet -o bacik.html")
def report(
    path: PathArg,
    out: Annotated[Optional[Path], typer.Option(
        "--out", "-o", metavar="FILE.html", help="Where to write [default: PATH.html "
        "beside PATH].", dir_okay=False, show_default=False)] = None,
    json_output: JsonOpt = False,
) -> None:
    """Write one self-contained HTML page about a sweep: what was swept, hp_wait p99 and
    p99.9 against each axis with 95% intervals, CCDFs per policy, inversions by blamed
    step, the LP side's cost, the numbers and provenance (inline SVG, no network)."""
    from . import report_impl

    report_impl.report(path=path, out=out, json_output=json_output)


def series_of(rows: list[dict]) -> str:
    """What one line (or panel) of a figure stands for: the kernel preset when the rows
    have one (several presets share a 2018 policy), else the policy.

    >>> series_of([{"kernel": "none", "policy": "hold"}]), series_of([{"kernel": "6.18"}])
    ('policy', 'kernel')
    """
    return "kernel" if any(r.get("kernel", "none") != "none" for r in rows) else "policy"


@app.command(epilog="Examples:\n\n  mcsim plot ccdf out/quick --set throttle_depth=7 -o "
                    "ccdf.png\n\n  mcsim plot quantiles out/bacik-2018 --x throttle_depth -o "
                    "q.svg\n\n  mcsim plot blame out/quick -o blame.pdf\n\n  mcsim plot "
                    "timeline sweeps/scripts/read-miss.toml --policy rfc-v2 -o tl.png")
def plot(
    kind: Annotated[str, typer.Argument(metavar="KIND", help="ccdf, quantiles, blame or "
                                        "timeline.")],
    path: Annotated[Path, typer.Argument(metavar="PATH", help="Results (a sweep directory "
                                         "or result file); for timeline a script file.")],
    out: Annotated[Path, typer.Option(
        "--out", "-o", metavar="FILE", help="Figure file: .png, .svg or .pdf.",
        dir_okay=False)],
    x: Annotated[Optional[str], typer.Option(
        "--x", metavar="AXIS", help="quantiles: the swept axis on x [default: the first "
        "swept axis other than policy].", show_default=False)] = None,
    metric: Annotated[str, typer.Option(
        metavar="NAME", help="ccdf, quantiles: the metric (docs/results.md).")] = "hp_wait",
    policy: PolicyOpt = None,
    kernel: KernelOpt = None,
    set_values: SetOneOpt = None,
    dpi: Annotated[int, typer.Option(metavar="N", min=30, max=1200,
                                     help="PNG resolution, dots per inch.")] = 200,
) -> None:
    """Write one figure: the CCDF of a metric, p99/p99.9 against a swept axis, inversions
    by blamed step, or the timeline of a script.  --set NAME=VALUE (and --policy,
    --kernel) select rows of the results, or set a script's parameters; with kernel
    presets in the rows, lines and panels are kernels."""
    from . import report_impl

    report_impl.plot(kind=kind, path=path, out=out, x=x, metric=metric, policy=policy,
                     kernel=kernel, set_values=set_values, dpi=dpi)
