"""``mcsim report`` and ``mcsim plot``: pictures of results, as an HTML page or one figure.

matplotlib, numpy and pyarrow are imported inside the commands, so ``mcsim --help`` stays
fast.  A figure's format follows its file name's suffix:

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
from .common import JsonOpt, KernelOpt, PolicyOpt, SetOneOpt, print_json, stdout_console

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


def save_figure(fig, out: Path, dpi: int = 200) -> Path:
    """Write ``fig`` to ``out`` atomically (format by suffix; ``dpi`` for PNG)."""
    import io

    from ..dataset import write_table_atomic

    fmt = figure_format(out)
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=dpi, metadata={"Software": None} if fmt == "png"
                else {"Creator": None, "Date": None} if fmt == "svg" else {"Creator": None})
    return write_table_atomic(buf.getvalue(), out, writer=lambda data, f: f.write(data))


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
    import time

    from ..report import check_html_path, write_report

    if out is not None:
        check_html_path(out)
    started = time.perf_counter()
    written = write_report(path, out)
    seconds = time.perf_counter() - started
    if json_output:
        print_json({"file": str(written), "seconds": seconds})
    else:
        stdout_console().print(f"wrote {written} ({seconds:.1f} s)")


def _where(set_values: list[str] | None, policy: str | None, kernel: str | None = None
           ) -> dict:
    from .common import flag_values

    values = flag_values(set_values, policy=policy, kernel=kernel)
    where = {}
    for name, vals in values.items():
        if name in ("policy", "kernel") and len(vals) > 1:
            continue                       # a list: kept by _rows
        if len(vals) != 1:
            raise UsageError(f"{name}: {len(vals)} values; allowed: one value to select "
                             "rows (lists only for --policy and --kernel)")
        where[name] = vals[0]
    return where


def _rows(path: Path, set_values, policy, kernel=None) -> list[dict]:
    import mcsim

    from ..params import validate
    from ..plot import rows_of, select
    from .common import flag_values

    rows = rows_of(mcsim.load(path))
    where = _where(set_values, policy, kernel)
    if where:
        canonical = validate(where).public()
        where = {k: canonical[k] for k in where}
    picked = select(rows, where)
    lists = {name: vals for name, vals in flag_values(None, policy=policy,
                                                      kernel=kernel).items() if len(vals) > 1}
    for name, vals in lists.items():
        picked = [r for r in picked if r[name] in vals]
    if not picked:
        raise UsageError(f"{path}: no rows match {where or lists}; allowed: values "
                         "present in the table (mcsim show PATH)")
    return picked


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
    from .. import plot as plots
    from ..layout import METRICS

    if kind not in KINDS:
        raise UsageError(f"KIND: {kind!r} is not a figure; allowed: " + ", ".join(KINDS))
    figure_format(out)
    if metric not in METRICS:
        raise UsageError(f"--metric: {metric!r} is not a metric; allowed: "
                         + ", ".join(METRICS))
    if kind == "timeline":
        fig = _timeline(path, policy, set_values, kernel)
    else:
        rows = _rows(path, set_values, policy, kernel)
        if kind == "ccdf":
            fig = plots.ccdf(rows, metric=metric)
        elif kind == "quantiles":
            fig = plots.quantiles(rows, x=x, metric=metric, by=series_of(rows))
        else:
            fig = plots.blame(rows, by=series_of(rows))
    written = save_figure(fig, out, dpi=dpi)
    stdout_console().print(f"wrote {written}")


def _timeline(path: Path, policy: str | None, set_values, kernel: str | None = None):
    import mcsim

    from ..params import validate
    from ..plot import timeline
    from .common import flag_values
    from .script import read_script, script_runs

    description, params, tasks = read_script(path)
    values = flag_values(set_values, policy=policy, kernel=kernel)
    for name, vals in values.items():
        if len(vals) > 1:
            raise UsageError(f"{name}: {len(vals)} values; allowed: one value (a timeline "
                             "shows one run)")
    (params,) = script_runs(params, values)
    result = mcsim.run_script(tasks, params)
    result.kernel = validate(params)["kernel"]
    what = "policy" if result.kernel == "none" else "kernel"
    return timeline(result, title=f"{path.name}, {what} {result.label}"
                    + (f": {description}" if description else ""))
