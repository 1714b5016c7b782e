"""The work of ``mcsim report`` and ``mcsim plot`` (:mod:`mcsim.cli.report` declares
their options): select the rows, draw, write the file atomically.  Options select rows
by one value each (lists only for ``--policy`` and ``--kernel``):

>>> _where(["throttle_depth=7"], "hold,rfc-v2")
{'throttle_depth': '7'}
"""
from pathlib import Path

from ..errors import UsageError
from .common import print_json, stdout_console
from .report import KINDS, figure_format, series_of


def save_figure(fig, out: Path, dpi: int = 200) -> Path:
    """Write ``fig`` to ``out`` atomically (format by suffix; ``dpi`` for PNG)."""
    import io

    from ..dataset import write_table_atomic

    fmt = figure_format(out)
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=dpi, metadata={"Software": None} if fmt == "png"
                else {"Creator": None, "Date": None} if fmt == "svg" else {"Creator": None})
    return write_table_atomic(buf.getvalue(), out, writer=lambda data, f: f.write(data))


def report(*, path, out, json_output) -> None:
    """The work of ``mcsim report`` (:func:`mcsim.cli.report.report`)."""
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


def plot(*, kind, path, out, x, metric, policy, kernel, set_values, dpi) -> None:
    """The work of ``mcsim plot`` (:func:`mcsim.cli.report.plot`)."""
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
