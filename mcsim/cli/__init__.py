"""mcsim's command line (``mcsim`` and ``python -m mcsim``), built with Typer.

One module per group of commands registers on the root :data:`app`: ``run``, ``sweep``,
``data`` (show, compact), ``script``, ``info`` (policies, kernels, params), ``bench``,
``report`` (report, plot), ``compare``, ``repro`` and ``trace``; the work of the bigger
ones is in ``mcsim.cli.<module>_impl``, imported when the command runs.  :func:`main`
registers those a command line needs (:mod:`mcsim.cli.startup`: ``mcsim run ...`` starts
sooner with ``run`` alone), runs the app and turns every error into one line on stderr
and a documented exit code (see :data:`mcsim.cli.app.EXIT_CODES`): no tracebacks for bad
input.
"""
from __future__ import annotations

import errno
import sys

import typer

from ..errors import McsimError
from .app import EXIT_ERROR, EXIT_SIMULATION, EXIT_INTERRUPTED, EXIT_IO, EXIT_OK, app
from . import signals
from .common import set_command_line
from .startup import (load_commands, load_help_renderer, one_blas_thread, pause_gc,
                      resume_gc, wants_help)

__all__ = ["app", "main"]


def _error(message: str, code: int) -> int:
    signals.write_stderr(f"mcsim: error: {' '.join(message.split())}\n")
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
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); return the exit code.

    SIGINT and SIGTERM end a command with exit 130 and one line on stderr (see
    :mod:`mcsim.cli.signals`); a closed stdout or a reader that goes away (``| head``)
    ends it quietly with exit 0.  Called with ``argv`` (from Python), the previous signal
    handlers are restored on return; as the program, they stay to cover the shutdown,
    numpy's BLAS gets one thread (:func:`mcsim.cli.startup.one_blas_thread`) and the
    garbage collector is held off until a command starts its work
    (:func:`mcsim.cli.startup.pause_gc`).
    """
    if argv is None:
        one_blas_thread()
        pause_gc()
    args = sys.argv[1:] if argv is None else list(argv)
    signals.set_resumable("sweep" in args[:1])
    signals.fill_closed_std_fds()
    previous = signals.install()
    try:
        return _main(args)
    except KeyboardInterrupt:          # a signal while an error was being reported
        signals.report_interrupted()
        return EXIT_INTERRUPTED
    finally:
        if argv is None:
            signals.arm_for_exit()
            resume_gc()
        else:
            signals.restore(previous)


def _main(args: list[str]) -> int:
    set_command_line(args)
    load_commands(app, args)
    if wants_help(args):
        load_help_renderer()
    try:
        outcome = app(args=args, prog_name="mcsim", standalone_mode=False)
        sys.stdout.flush()              # here, so that EPIPE is handled below
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
    except MemoryError:
        return _error("out of memory: a trial queued more tasks than fit in memory (an "
                      "overloaded configuration); allowed: a lower max_trial_events (--set "
                      "max_trial_events=N stops such a trial sooner), fewer --workers, or a "
                      "lighter load", EXIT_SIMULATION)
    except KeyboardInterrupt:
        outcome = EXIT_INTERRUPTED
    except SystemExit as exc:           # Click turns EPIPE into SystemExit(1)
        if _is_broken_pipe(exc.__context__):
            return _broken_pipe()
        if exc.code is None or isinstance(exc.code, int):
            return exc.code or EXIT_OK
        return _error(str(exc.code), EXIT_ERROR)
    except OSError as exc:
        if _is_broken_pipe(exc):                  # `mcsim show ... | head`
            return _broken_pipe()
        return _error(f"{getattr(exc, 'filename', None) or 'I/O'}: {exc.strerror or exc}",
                      EXIT_IO)
    if outcome == EXIT_INTERRUPTED:
        signals.report_interrupted()
        return EXIT_INTERRUPTED
    return outcome if isinstance(outcome, int) else EXIT_OK


def _is_broken_pipe(exc: BaseException | None) -> bool:
    return isinstance(exc, OSError) and exc.errno == errno.EPIPE


def _broken_pipe() -> int:
    """The reader of stdout went away: not an error (the work is done or not wanted)."""
    signals.discard_stdout()
    return EXIT_OK
