"""The root Typer application: name, help, ``--version`` and the exit-code table.

Command modules (``run``, ``sweep``, ...) register themselves on :data:`app`; nothing here
imports numpy, pyarrow or the engine, so ``mcsim --help`` is instant.
"""
from typing import Annotated

import typer
from typer.core import TyperOption

from . import coercion
from .startup import resume_gc

_display_type = TyperOption.display_type_rich


def _flag_shows_no_type(self, ctx):
    # Typer labels on/off flags (--json, --help) with a "<bool>" value column, as if
    # they took a value; a flag takes none, so its type column stays empty.
    return None if self.is_flag else _display_type(self, ctx)


TyperOption.display_type_rich = _flag_shows_no_type

# Plain option values (a number, a string) without importing pydantic: see coercion.py.
coercion.install()

#: Exit codes, documented in ``mcsim --help`` and docs/cli.md.
EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_SIMULATION, EXIT_IO = 0, 1, 2, 3, 4
EXIT_INTERRUPTED = 130
EXIT_CODES = (
    (EXIT_OK, "success (also when the reader of stdout goes away, as `| head` does, or "
              "stdout is closed: the output is dropped)"),
    (EXIT_ERROR, "any other mcsim error (e.g. a sweep worker process died)"),
    (EXIT_USAGE, "bad parameter, option or input file (unknown name, out of range, bad TOML)"),
    (EXIT_SIMULATION, "simulation error: a configuration is overloaded (never empties)"),
    (EXIT_IO, "I/O error: unreadable input (or not an mcsim result of this version), "
             "unwritable output, disk full, unreachable Dask scheduler"),
    (5, "the machine lacks what a real-kernel command (trace record, repro) needs (root, "
        "tracefs, the mmap_lock tracepoints, /dev/fuse, a C compiler, libfuse3); the "
        "message says how to get it"),
    (EXIT_INTERRUPTED, "interrupted by SIGINT (Ctrl-C) or SIGTERM (kill, timeout, a batch "
                       "scheduler); finished sweep points are kept"),
)
EPILOG = ("Exit codes: " + "; ".join(f"{code} {what}" for code, what in EXIT_CODES)
          + ".  Errors print one line on stderr.  Docs: docs/cli.md, docs/results.md.")

app = typer.Typer(
    name="mcsim",
    help="Monte Carlo simulation of the mmap-lock / io.latency priority inversion "
         "(Bacik 2018).  Start with `mcsim run`, then `mcsim sweep sweeps/quick.toml`.",
    epilog=EPILOG,
    no_args_is_help=True,
    rich_markup_mode="markdown",
    add_completion=False,
    pretty_exceptions_show_locals=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _print_version(value: bool) -> None:
    if value:
        from mcsim import __version__

        typer.echo(f"mcsim {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[bool, typer.Option(
        "--version", callback=_print_version, is_eager=True,
        help="Print the version and exit.")] = False,
) -> None:
    """Monte Carlo simulation of the mmap-lock / io.latency priority inversion."""
    resume_gc()                # a command starts its work (see mcsim.cli.startup)
