"""``mcsim show`` and ``mcsim compact``: look at and pack result files."""
from pathlib import Path
from typing import Annotated, Optional

import typer

from .app import app
from .common import JsonOpt, command_line, print_json, stdout_console

PathArg = Annotated[Path, typer.Argument(
    metavar="PATH", help="A sweep directory, a compacted file or an `mcsim run --out` file.")]


@app.command(epilog="Examples:\n\n  mcsim show out/quick\n\n  mcsim show out/bacik-2018.parquet "
                    "-C hp_wait_mean_ns -C gate_wait_p99_ns\n\n  mcsim show out/quick --json")
def show(
    path: PathArg,
    columns: Annotated[Optional[list[str]], typer.Option(
        "--column", "-C", metavar="NAME", help="Add a column of the result table "
        "(docs/results.md); repeatable.")] = None,
    json_output: JsonOpt = False,
) -> None:
    """Print a table of the points in a result directory or file: the parameters that
    vary, trials, and the hp_wait and inversion headline.  A file that is not an mcsim
    result of this version is refused in one line (exit 4)."""
    import mcsim

    from ..errors import UsageError
    from ..result import count
    from .render import points_table

    table = mcsim.load(path)
    for name in columns or []:
        if name not in table.column_names:
            raise UsageError(f"--column: {name!r} is not a column; allowed: the columns "
                             "listed in docs/results.md, e.g. hp_wait_mean_ns")
    wanted = [n for n in table.column_names if "_hist_" not in n or n in (columns or ())]
    rows = table.select(wanted).to_pylist()
    if json_output:
        print_json(rows)
        return
    stdout_console().print(points_table(rows, extra_columns=columns or (),
                                        title=f"{path}: {count(len(rows), 'point')}"))


@app.command(epilog="Example:\n\n  mcsim compact out/bacik-2018        # writes "
                    "out/bacik-2018.parquet")
def compact(
    path: Annotated[Path, typer.Argument(metavar="DIR", help="A sweep directory.")],
    out: Annotated[Optional[Path], typer.Option(
        "--out", "-o", metavar="FILE.parquet", help="Where to write [default: DIR.parquet "
        "beside the directory].", dir_okay=False, show_default=False)] = None,
    json_output: JsonOpt = False,
) -> None:
    """Write all points of a sweep directory into one Parquet file, atomically (much faster
    to read than many small files; the point files are kept)."""
    from ..dataset import compact as compact_dataset

    written, rows = compact_dataset(path, out, command=command_line())
    if json_output:
        print_json({"file": str(written), "rows": rows})
    else:
        from ..result import count

        stdout_console().print(f"wrote {written} ({count(rows, 'point')})")
