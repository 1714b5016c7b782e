"""mcsim's command line (``mcsim`` and ``python -m mcsim``), built with Typer.

One module per group of commands registers on the root :data:`app`: ``run``, ``sweep``,
``data`` (show, compact), ``script`` and ``info`` (policies, params).  :func:`main` runs the
app and turns every error into one line on stderr and a documented exit code (see
:data:`mcsim.cli.app.EXIT_CODES`): no tracebacks for bad input.
"""
from __future__ import annotations

import errno
import sys

import typer

from ..errors import McsimError
# Importing a command module registers its commands, in this order in `mcsim --help`.
from . import run, sweep, data, script, info, bench  # noqa: F401,I001
from .app import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_IO, EXIT_OK, app
from .common import set_command_line

__all__ = ["app", "main"]


def _error(message: str, code: int) -> int:
    sys.stderr.write(f"mcsim: error: {' '.join(message.split())}\n")
    return code


def _given_value(exc, args: list[str]) -> str:
    """`` ('VALUE')`` of the option a usage error is about, as the user typed it: Click's
    messages ("Input should be a valid integer") do not repeat the value."""
    param = getattr(exc, "param", None)
    for opt in getattr(param, "opts", None) or ():
        if not opt.startswith("-"):
            continue
        for i, arg in enumerate(args):
            if arg == opt and i + 1 < len(args):
                return f" ({args[i + 1]!r})"
            if arg.startswith(opt + "="):
                return f" ({arg[len(opt) + 1:]!r})"
    return ""


def main(argv: list[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); return the exit code."""
    args = sys.argv[1:] if argv is None else list(argv)
    set_command_line(args)
    try:
        outcome = app(args=args, prog_name="mcsim", standalone_mode=False)
    except McsimError as exc:
        return _error(str(exc), exc.exit_code)
    except typer.TyperException as exc:          # Click's usage errors (exit code 2)
        if not exc.format_message():             # bare `mcsim`: the help was printed
            return getattr(exc, "exit_code", EXIT_ERROR)
        ctx = getattr(exc, "ctx", None)
        hint = f" (see `{ctx.command_path} --help`)" if ctx is not None else ""
        message = exc.format_message().replace(":", _given_value(exc, args) + ":", 1)
        return _error(message + hint, getattr(exc, "exit_code", EXIT_ERROR))
    except typer.Abort:
        return _error("aborted", EXIT_ERROR)
    except KeyboardInterrupt:
        return _error("interrupted", EXIT_INTERRUPTED)
    except OSError as exc:
        if exc.errno == errno.EPIPE:              # `mcsim show ... | head`
            return EXIT_OK
        return _error(f"{getattr(exc, 'filename', None) or 'I/O'}: {exc.strerror or exc}",
                      EXIT_IO)
    if outcome == EXIT_INTERRUPTED:
        return _error("interrupted; finished points are kept, run again to resume",
                      EXIT_INTERRUPTED)
    return outcome if isinstance(outcome, int) else EXIT_OK
