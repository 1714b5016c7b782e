"""What ``mcsim`` loads before it runs a command, and what it leaves out.

A command line needs the module of its own command only: ``mcsim run ...`` registers
``run`` alone (:func:`load_commands`), while the help, ``--version`` and a mistyped command
load them all, in the order of :data:`COMMAND_MODULES`.  numpy's BLAS runs one thread
(:func:`one_blas_thread`).  The heavy libraries (numpy, pyarrow, matplotlib) load inside the
commands that use them; docs/benchmarks.md has the start-up times.
"""
from __future__ import annotations

import os
import sys
from importlib import import_module
from typing import MutableMapping

#: The command modules (``mcsim.cli.<module>``), in the order of their commands in
#: ``mcsim --help``, and the commands each one registers on the app when imported.
COMMAND_MODULES = (
    ("run", ("run",)),
    ("sweep", ("sweep",)),
    ("data", ("show", "compact")),
    ("script", ("script",)),
    ("info", ("policies", "kernels", "params")),
    ("bench", ("bench",)),
    ("report", ("report", "plot")),
    ("compare", ("compare",)),
)

_PACKAGE = __name__.rpartition(".")[0]

#: Variables through which a user sets OpenBLAS's thread count.
BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS")


def load_commands(app, args: list[str] | None = None) -> None:
    """Register on ``app`` the commands ``mcsim ARGS`` needs: those of the module of the
    command named first, or every command (help, ``--version``, a mistyped command).

    >>> from mcsim.cli.app import app
    >>> load_commands(app, ["policies"])
    >>> "policies" in [c.callback.__name__ for c in app.registered_commands]
    True
    """
    first = args[0] if args else None
    for module, commands in COMMAND_MODULES:
        if first in commands:
            import_module(f"{_PACKAGE}.{module}")
            return
    for module, _commands in COMMAND_MODULES:
        import_module(f"{_PACKAGE}.{module}")
    # A module imported earlier for its own command registered it first: restore the
    # documented order (the sort is stable: each module keeps its own order).
    order = {f"{_PACKAGE}.{module}": i for i, (module, _c) in enumerate(COMMAND_MODULES)}
    app.registered_commands.sort(key=lambda c: order.get(c.callback.__module__, len(order)))


def one_blas_thread(environ: MutableMapping[str, str] = os.environ,
                    loaded=sys.modules) -> None:
    """Ask OpenBLAS for one thread (``OPENBLAS_NUM_THREADS=1``) before numpy loads it,
    unless the user set a thread count.

    mcsim does no linear algebra, so the count changes no result; the threads OpenBLAS
    otherwise starts with numpy, as many as the machine has cores, spin on the cores the
    simulation needs (about a tenth of ``mcsim run``'s start on two cores:
    docs/benchmarks.md).  Only the ``mcsim`` program does this (its sweep workers inherit
    it), never a program that imports mcsim.

    >>> env = {}
    >>> one_blas_thread(env, loaded={})
    >>> env
    {'OPENBLAS_NUM_THREADS': '1'}
    >>> env = {"OMP_NUM_THREADS": "8"}
    >>> one_blas_thread(env, loaded={})
    >>> env
    {'OMP_NUM_THREADS': '8'}
    """
    if "numpy" in loaded or any(name in environ for name in BLAS_THREAD_VARIABLES):
        return
    environ["OPENBLAS_NUM_THREADS"] = "1"
