"""Termination signals and closed standard streams, handled the same way by every command.

SIGINT (Ctrl-C) and SIGTERM (``kill``, ``timeout``, a batch scheduler ending a job) both
raise :class:`Interrupted` in the main thread: a sweep stops its workers, keeps every
finished point and ``mcsim`` exits 130 with one line on stderr.  Later signals do not
interrupt that clean-up: a copy of the same signal that arrives within
:data:`DUPLICATE_WINDOW_S` (``timeout`` signals the process and then its group) is
ignored, and one that comes after it ends the process at once, still with exit 130 and no
traceback (the sweep's workers die with it, see :mod:`mcsim.executors`).

A standard stream that is closed when mcsim starts (``mcsim run >&-``) is pointed at
``/dev/null``, so that no file opened later can take its descriptor and receive output.

>>> handlers = install()
>>> signal.getsignal(signal.SIGTERM) is _on_signal
True
>>> restore(handlers)
>>> signal.getsignal(signal.SIGTERM) is _on_signal
False
"""
from __future__ import annotations

import os
import signal
import sys
import time

#: Signals that interrupt a command.
SIGNALS = (signal.SIGINT, signal.SIGTERM)

#: A second delivery within this many seconds of the first is the same request.
DUPLICATE_WINDOW_S = 1.0

_state = {"first": None, "signum": None, "reported": False, "resumable": True}


class Interrupted(KeyboardInterrupt):
    """A termination signal arrived (a KeyboardInterrupt, so code that cleans up after
    Ctrl-C cleans up after SIGTERM too).

    >>> Interrupted(signal.SIGTERM).signame
    'SIGTERM'
    """

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum

    @property
    def signame(self) -> str:
        return signal.Signals(self.signum).name


def signal_name() -> str:
    """The name of the first signal received (``SIGINT`` if none was: a plain
    KeyboardInterrupt)."""
    return signal.Signals(_state["signum"] or signal.SIGINT).name


def set_resumable(resumable: bool) -> None:
    """Whether the running command keeps finished work that a rerun resumes (a sweep) or
    has nothing to keep (run, script, ...): the interruption message says which."""
    _state["resumable"] = resumable


def interrupted_message() -> str:
    if not _state["resumable"]:
        return f"interrupted ({signal_name()}); nothing was written"
    return (f"interrupted ({signal_name()}); finished sweep points are kept, run the same "
            "command again to resume")


def report_interrupted() -> None:
    """Write the one-line message (once per process)."""
    if not _state["reported"]:
        _state["reported"] = True
        write_stderr(f"mcsim: error: {interrupted_message()}\n")


def write_stderr(text: str) -> None:
    """Write to stderr; a closed or broken stderr loses the text instead of raising."""
    try:
        sys.stderr.write(text)
        sys.stderr.flush()
    except (OSError, ValueError, AttributeError):
        pass


def _on_signal(signum, frame) -> None:
    now = time.monotonic()
    if _state["first"] is None:
        _state["first"], _state["signum"] = now, signum
        raise Interrupted(signum)
    if now - _state["first"] < DUPLICATE_WINDOW_S:
        return
    # The clean-up after the first signal takes too long for the user: stop now.
    report_interrupted()
    os._exit(130)


def raise_pending() -> None:
    """Raise :class:`Interrupted` again if a signal arrived and the work still goes on: the
    first raise can be swallowed where Python code runs under a caller that cannot pass
    exceptions on (seen once under load: a SIGTERM'd `mcsim run` kept simulating), so a
    long loop calls this between its steps.

    >>> raise_pending()                       # no signal: nothing happens
    """
    if _state["first"] is not None:
        raise Interrupted(_state["signum"])


def install() -> dict:
    """Handle SIGINT and SIGTERM (those not ignored by whoever started mcsim, as ``nohup``
    or a background job does) in the main thread; return the previous handlers for
    :func:`restore`.  Elsewhere than in the main thread, nothing changes."""
    _state.update(first=None, signum=None, reported=False)
    previous = {}
    for signum in SIGNALS:
        try:
            current = signal.getsignal(signum)
            if current == signal.SIG_IGN:
                continue
            signal.signal(signum, _on_signal)
            previous[signum] = current
        except (ValueError, OSError):      # not the main thread
            break
    return previous


def restore(previous: dict) -> None:
    for signum, handler in previous.items():
        try:
            signal.signal(signum, handler if handler is not None else signal.SIG_DFL)
        except (ValueError, OSError, TypeError):
            pass


def arm_for_exit() -> None:
    """After the command: a signal during interpreter shutdown (joining threads and
    processes) ends the process at once instead of raising where nothing can catch it."""
    if _state["first"] is None:
        _state["first"] = -DUPLICATE_WINDOW_S     # any later signal: exit now


def fill_closed_std_fds() -> None:
    """Point closed descriptors 0, 1, 2 at ``/dev/null`` and give Python stream objects
    for those it set to None at startup."""
    for fd, mode, name in ((0, os.O_RDONLY, "stdin"), (1, os.O_WRONLY, "stdout"),
                           (2, os.O_WRONLY, "stderr")):
        try:
            os.fstat(fd)
            continue
        except OSError:
            pass
        null = os.open(os.devnull, mode)
        if null != fd:
            os.dup2(null, fd)
            os.close(null)
        if getattr(sys, name) is None:
            setattr(sys, name, open(fd, "r" if fd == 0 else "w", closefd=False))


def discard_stdout() -> None:
    """After EPIPE on stdout: send what is still buffered to ``/dev/null`` (so that the
    flush at exit does not fail again), as the Python documentation recommends."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, ValueError, OSError):
        return
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, fd)
    finally:
        os.close(null)
