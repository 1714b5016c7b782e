"""``mcsim trace``: record mmap_lock traces of the running kernel, import a trace into a
result row, export a simulated run as a trace (docs/traces.md).

Exit codes besides those of ``mcsim --help``: 5 when the machine lacks what a live
trace needs (root, tracefs, the mmap_lock tracepoints); the message says which and how
to get it.

>>> from mcsim.cli import main
>>> main(["trace", "export", "--format", "svg"])
2
"""
from pathlib import Path
from typing import Annotated, Optional

import typer

from .app import app
from .common import JsonOpt, KernelOpt, SetOneOpt

trace_app = typer.Typer(
    name="trace", no_args_is_help=True, rich_markup_mode="markdown",
    help="mmap_lock traces: record the running kernel, import a trace as a result row "
         "(source = measured), export a simulated run as a trace (docs/traces.md).  "
         "Exit code 5: no root, no tracefs or no mmap_lock tracepoints (record).")
app.add_typer(trace_app)


@trace_app.callback()
def trace() -> None:
    """mmap_lock traces: record the running kernel, import a trace as a result row
    (source = measured), export a simulated run as a trace (docs/traces.md)."""

RECORD_EPILOG = """Examples:

  mcsim trace record -o run.trace --duration 5 -- ./target

  mcsim trace record -o run.trace --pid 4242 --pid 4243 --duration 2
"""
IMPORT_EPILOG = """Examples:

  mcsim trace import run.trace --reader hp-reader

  mcsim trace import run.trace --reader 4243 -o measured.parquet --json
"""
EXPORT_EPILOG = """Examples:

  mcsim trace export sweeps/scripts/vma-mkwrite.toml --kernel 6.18 -o mkwrite.trace

  mcsim trace export --kernel 6.18 --trials 20 --set wake=20us -o run.json
"""
#: Random runs go through the reference engine (it keeps timelines): a bound on the work.
MAX_EXPORT_TRIALS = 10_000


@trace_app.command("record", epilog=RECORD_EPILOG)
def record_cmd(
    out: Annotated[Path, typer.Option("--out", "-o", metavar="FILE", dir_okay=False,
                                      help="The trace file (tracefs text), written whole.")],
    pid: Annotated[Optional[list[int]], typer.Option(
        "--pid", metavar="PID", help="A process to trace, all its threads and children "
        "(repeat for several).")] = None,
    duration: Annotated[Optional[float], typer.Option(
        metavar="SECONDS", help="Stop after this long (and end the command if still "
        "running).")] = None,
    max_mb: Annotated[int, typer.Option(metavar="MB", min=1,
                                        help="Stop when the file reaches this size.")] = 1024,
    command: Annotated[Optional[list[str]], typer.Argument(
        metavar="[-- COMMAND ...]", help="A command to run and trace until it exits.",
        show_default=False)] = None,
) -> None:
    """Record the mmap_lock tracepoints, the HP reader's read()/pread64() syscalls, the
    writers' syscalls and sched_waking of the given processes through a private tracefs
    instance (removed at the end, also on Ctrl-C).  Needs root."""
    from . import trace_impl

    trace_impl.record_cmd(out=out, pid=pid, duration=duration, max_mb=max_mb,
                          command=command)


@trace_app.command("import", epilog=IMPORT_EPILOG)
def import_cmd(
    path: Annotated[Path, typer.Argument(metavar="FILE", dir_okay=False,
                                         help="tracefs text or `trace-cmd report` output.")],
    reader: Annotated[Optional[list[str]], typer.Option(
        metavar="PID|COMM", help="The HP reader: only its read()/pread64() syscalls are HP "
        "reads (repeat for several) [default: every task's].", show_default=False)] = None,
    mm: Annotated[Optional[list[str]], typer.Option(
        metavar="MM", help="Only acquisitions of this mm= value count (repeat for "
        "several) [default: all].", show_default=False)] = None,
    slice_: Annotated[str, typer.Option(
        "--slice", metavar="DURATION", help="Trace time per trial when the trace has no "
        "mcsim-trial markers.")] = "1s",
    out: Annotated[Optional[Path], typer.Option(
        "--out", "-o", metavar="FILE.parquet", dir_okay=False,
        help="Also write the measured result row as Parquet, atomically.")] = None,
    json_output: JsonOpt = False,
) -> None:
    """Turn a kernel trace into the histograms of a simulation: the HP reader's wait per
    read and per acquisition, writer waits, hold times; unused lines are counted."""
    from . import trace_impl

    trace_impl.import_cmd(path=path, reader=reader, mm=mm, slice_=slice_, out=out,
                          json_output=json_output)


@trace_app.command("export", epilog=EXPORT_EPILOG)
def export_cmd(
    script: Annotated[Optional[Path], typer.Argument(
        metavar="[SCRIPT.toml]", dir_okay=False,
        help="A script (as `mcsim script` takes it) [default: a random run].",
        show_default=False)] = None,
    out: Annotated[Path, typer.Option("--out", "-o", metavar="FILE", dir_okay=False,
                                      help="Where to write: tracefs text, or Perfetto JSON "
                                      "for a .json name.")] = Path("-"),
    fmt: Annotated[Optional[str], typer.Option(
        "--format", metavar="text|perfetto", help="Output format [default: perfetto for "
        "a .json file, else text].", show_default=False)] = None,
    kernel: KernelOpt = None,
    set_values: SetOneOpt = None,
    trials: Annotated[int, typer.Option(metavar="N", min=1, max=MAX_EXPORT_TRIALS,
                                        help="Trials of a random run.")] = 20,
    seed: Annotated[int, typer.Option(metavar="N", min=0, help="Seed of a random run "
                                      "(block 0, as `mcsim run --engine reference`).")] = 0,
) -> None:
    """Write a simulated run as tracefs-format mmap_lock events (what `mcsim trace import`
    reads back exactly) or as a Perfetto / Chrome trace-event timeline."""
    from . import trace_impl

    trace_impl.export_cmd(script=script, out=out, fmt=fmt, kernel=kernel,
                          set_values=set_values, trials=trials, seed=seed)
