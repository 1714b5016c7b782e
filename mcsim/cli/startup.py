"""What ``mcsim`` loads before it runs a command, and what it leaves out.

A command line needs the module of its own command only: ``mcsim run ...`` registers
``run`` alone (:func:`load_commands`), while the help, ``--version`` and a mistyped command
load them all, in the order of :data:`COMMAND_MODULES`.  The help loads Typer's renderer
without rich's tracebacks and code highlighting (:func:`load_help_renderer`).  numpy's BLAS
runs one thread (:func:`one_blas_thread`), and the garbage collector waits until a
command starts its work (:func:`pause_gc`).  The heavy libraries (numpy, pyarrow,
matplotlib) load inside the commands that use them.  The modules that define commands do
without ``from __future__ import annotations``: Typer reads each option from its
command's signature, and a string annotation is compiled and evaluated at every start.
They hold the options and the help; where a command's work is more than a few lines it
is in ``mcsim.cli.<module>_impl``, which the command imports when it runs, so the help
(which imports every command module, compiled from source where no bytecode is written)
does not compile it.  docs/benchmarks.md has the start-up times.
"""
from __future__ import annotations

import os
import sys
import types
from importlib import import_module
from typing import MutableMapping

#: The command modules (``mcsim.cli.<module>``), in the order of their commands in
#: ``mcsim --help``, and the commands each one registers on the app when imported.
COMMAND_MODULES = (
    ("run", ("run",)),
    ("sweep", ("sweep",)),
    ("data", ("show", "compact")),
    ("script", ("script",)),
    ("info", ("policies", "kernels", "params", "workloads")),
    ("bench", ("bench",)),
    ("report", ("report", "plot")),
    ("compare", ("compare",)),
    ("repro", ("repro",)),
    ("trace", ("trace",)),
)

_PACKAGE = "mcsim.cli"

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
            __import__(f"{_PACKAGE}.{module}")
            return
    for module, _commands in COMMAND_MODULES:
        __import__(f"{_PACKAGE}.{module}")
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


#: Modules that Typer's help renderer (``typer.rich_utils``) imports for other work: rich's
#: tracebacks (for an uncaught exception) and rich's syntax highlighting (for code blocks,
#: which mcsim's help has none of; it loads pygments).  They take a third of the time the
#: help takes to print.
DEFERRED_MODULES = ("rich.traceback", "rich.syntax")


#: Set while :func:`pause_gc` holds the cyclic garbage collector off.
_gc_paused: list = []


def pause_gc() -> None:
    """Hold Python's cyclic garbage collector off while the program starts: registering
    the commands, importing Typer's help renderer and printing a help allocate tens of
    thousands of objects that live as long as the process (modules, classes, functions,
    options), and the collector would walk them again and again for nothing.
    :func:`resume_gc` turns it back on when a command starts its work.  Only the
    ``mcsim`` program does this (:func:`mcsim.cli.main` without arguments), never a
    program that calls ``main(argv)``.

    >>> import gc
    >>> pause_gc(); gc.isenabled()
    False
    >>> resume_gc(); gc.isenabled(), gc.get_freeze_count() > 0
    (True, True)
    >>> gc.unfreeze()            # (a program that goes on as usual after this example)
    """
    import gc

    if gc.isenabled():
        gc.disable()
        _gc_paused.append(True)


def resume_gc() -> None:
    """Turn the garbage collector back on if :func:`pause_gc` turned it off, with what
    the start left alive frozen (``gc.freeze()``: kept, and not walked again), so that
    turning it on costs no collection of everything the start allocated."""
    if _gc_paused:
        import gc

        _gc_paused.clear()
        gc.freeze()
        gc.enable()


def wants_help(args: list[str]) -> bool:
    """Whether ``mcsim ARGS`` prints a help (or may: an option's value can read -h).

    >>> wants_help([]), wants_help(["run", "-h"]), wants_help(["run", "--trials", "9"])
    (True, True, False)
    """
    return not args or "--help" in args or "-h" in args


def load_help_renderer() -> None:
    """Import ``typer.rich_utils`` with stand-ins for :data:`DEFERRED_MODULES`: each name
    it (or a module it loads) imports from them is a :class:`Deferred`, which imports the
    real module the first time it is used.  The stand-ins leave ``sys.modules`` at once,
    so a later ``import rich.syntax`` gets the real module.  Should a rich or Typer of
    another version use such a name while loading, everything it loaded is forgotten and
    imported again as usual.

    >>> import sys
    >>> load_help_renderer()
    >>> "typer.rich_utils" in sys.modules
    True
    """
    import typer.core

    if "typer.rich_utils" in sys.modules or not getattr(typer.core, "HAS_RICH", True):
        return                  # loaded already, or not used (TYPER_USE_RICH=0)
    before = set(sys.modules)
    stand_ins = {name: _stand_in(name) for name in DEFERRED_MODULES if name not in sys.modules}
    sys.modules.update(stand_ins)
    try:
        __import__("typer.rich_utils")
        loaded = True
    except Exception:
        loaded = False
    finally:
        for name, module in stand_ins.items():
            if sys.modules.get(name) is module:
                del sys.modules[name]
            parent, _, child = name.rpartition(".")
            if vars(sys.modules.get(parent, types)).get(child) is module:
                delattr(sys.modules[parent], child)
    if not loaded:
        for name in set(sys.modules) - before:
            del sys.modules[name]
        __import__("typer.rich_utils")


class Deferred:
    """Stands for the object ``name`` of ``module`` until it is used (called, or an
    attribute read), then imports the module and hands the use on to that object.

    >>> join = Deferred("os.path", "join")
    >>> join("a", "b"), join.__name__
    ('a/b', 'join')
    """

    __slots__ = ("_where",)

    def __init__(self, module: str, name: str):
        self._where = (module, name)

    def _target(self):
        module, name = self._where
        return getattr(import_module(module), name)

    def __call__(self, *args, **kwargs):
        return self._target()(*args, **kwargs)

    def __getattr__(self, attr: str):
        if attr == "_where":
            raise AttributeError(attr)
        return getattr(self._target(), attr)

    def __repr__(self) -> str:
        return f"<deferred {'.'.join(self._where)}>"


def _stand_in(name: str) -> types.ModuleType:
    module = types.ModuleType(name, "Stand-in while typer.rich_utils loads (mcsim.cli.startup).")

    def __getattr__(attr: str):            # PEP 562: `from NAME import attr`
        if attr.startswith("__"):
            raise AttributeError(attr)
        return Deferred(name, attr)

    module.__getattr__ = __getattr__
    return module
