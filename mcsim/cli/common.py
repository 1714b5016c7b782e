"""What the commands share: option types, terminal and JSON output, progress bars, and
turning flags plus a ``--config`` file into a :class:`~mcsim.sweep.SweepSpec`.

Human output goes to stdout through rich; progress goes to stderr unless ``--quiet`` is
given: a bar on a terminal, a line now and then otherwise; ``--json`` prints one JSON
document on stdout.
"""
from __future__ import annotations

import json
import math
import os
import shlex
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Iterator, Optional

import typer

from ..errors import UsageError

# ------------------------------------------------------------------ options
JsonOpt = Annotated[bool, typer.Option(
    "--json", help="Print one JSON document on stdout instead of tables (times in ns).")]
QuietOpt = Annotated[bool, typer.Option(
    "--quiet", "-q", help="No progress on stderr (a bar on a terminal, otherwise a line "
    "every 10 s at most).")]
ConfigOpt = Annotated[Optional[Path], typer.Option(
    "--config", "-c", metavar="FILE.toml", help="TOML file with [run] settings, [params] "
    "and [grid] axes; flags given on the command line win.", dir_okay=False)]
RunConfigOpt = Annotated[Optional[Path], typer.Option(
    "--config", "-c", metavar="FILE.toml", help="TOML file with [run] settings and "
    "[params]; flags given on the command line win.", dir_okay=False)]
SetOpt = Annotated[Optional[list[str]], typer.Option(
    "--set", "-s", metavar="NAME=VALUE", help="Set any model parameter (`mcsim params`); "
    "repeatable.  NAME=V1,V2 makes an axis.")]
PolicyOpt = Annotated[Optional[str], typer.Option(
    metavar="NAMES", help="Fault-path policies (`mcsim policies`): one, a list such as "
    "hold,rfc-v2, or `all`.")]
EraOpt = Annotated[Optional[str], typer.Option(
    metavar="ERAS", help="rwsem rules: 4.x, 5.3, 5.11+, a list, or `all`.")]
KernelOpt = Annotated[Optional[str], typer.Option(
    "--kernel", metavar="NAMES", help="Kernel presets (`mcsim kernels`): one, a list such "
    "as 4.19,6.18, or `all` (every preset); each sets the era and fault path, so it "
    "replaces --policy/--era.")]
ThrottleOpt = Annotated[Optional[str], typer.Option(
    "--throttle-depth", metavar="DEPTHS", help="io.latency halvings of the LP queue depth, "
    "0-7 (lp_depth = 128 >> d): one, a list, or a range such as 0..7.")]
WriterRatioOpt = Annotated[Optional[str], typer.Option(
    "--writer-ratio", metavar="RATIOS", help="Fraction of LP lock users that are "
    "mmap/munmap writers: one or a list such as 0,0.05,0.1.")]
TrialsOpt = Annotated[Optional[int], typer.Option(
    metavar="N", help="Trials to simulate per point, 1 to 1e12 [default: 1,000,000 "
    "regenerative cycles; 100 windows for a workload with threads]; with --p99-rel-ci the "
    "minimum.", show_default=False)]
SeedOpt = Annotated[Optional[int], typer.Option(
    metavar="N", help="Random seed, 0 to 2**63-1 [default: 0]; every point uses it.",
    show_default=False)]

WorkloadOpt = Annotated[Optional[str], typer.Option(
    "--workload", "-w", metavar="NAME|FILE", help="Simulate a workload (docs/model.md §12): "
    "a ready one's name (`mcsim workloads`) or a workload TOML file.", show_default=False)]
VarOpt = Annotated[Optional[list[str]], typer.Option(
    "--var", metavar="NAME=VALUE", help="Set a variable of the workload's [vars]; "
    "repeatable.  NAME=V1,V2 makes an axis.")]
VarOneOpt = Annotated[Optional[list[str]], typer.Option(
    "--var", metavar="NAME=VALUE", help="Set a variable of the workload's [vars]; "
    "repeatable.")]

# The same options as `mcsim run` and `mcsim script` see them: one value each.
SetOneOpt = Annotated[Optional[list[str]], typer.Option(
    "--set", "-s", metavar="NAME=VALUE", help="Set any model parameter (`mcsim params`); "
    "repeatable.")]
RunPolicyOpt = Annotated[Optional[str], typer.Option(
    "--policy", metavar="NAME", help="Fault-path policy (`mcsim policies`).")]
RunEraOpt = Annotated[Optional[str], typer.Option(
    "--era", metavar="ERA", help="rwsem rules: 4.x, 5.3 or 5.11+.")]
RunKernelOpt = Annotated[Optional[str], typer.Option(
    "--kernel", metavar="NAME", help="Kernel preset (`mcsim kernels`), e.g. 6.18: sets the "
    "era, fault path, VMA-lock rules and HP reader (not with --policy/--era).")]
RunThrottleOpt = Annotated[Optional[str], typer.Option(
    "--throttle-depth", metavar="DEPTH", help="io.latency halvings of the LP queue depth, "
    "0-7 (lp_depth = 128 >> d).")]
RunWriterRatioOpt = Annotated[Optional[str], typer.Option(
    "--writer-ratio", metavar="RATIO", help="Fraction of LP lock users that are "
    "mmap/munmap writers, 0 to 1.")]
RunTrialsOpt = Annotated[Optional[int], typer.Option(
    "--trials", metavar="N", help="Trials to simulate, 1 to 1e12 [default: 1,000,000 "
    "regenerative cycles; 100 windows for a workload with threads]; with --p99-rel-ci the "
    "minimum.", show_default=False)]
RunSeedOpt = Annotated[Optional[int], typer.Option(
    "--seed", metavar="N", help="Random seed, 0 to 2**63-1 [default: 0].",
    show_default=False)]
PrecisionOpt = Annotated[Optional[float], typer.Option(
    "--p99-rel-ci", metavar="FRACTION", help="Precision target: add blocks of trials "
    "until the hp_wait p99's 95% interval half-width is at most this fraction of the p99 "
    "(e.g. 0.01).")]
MaxTrialsOpt = Annotated[Optional[int], typer.Option(
    "--max-trials", metavar="N", help="Cap on trials under --p99-rel-ci, up to 1e12 "
    "[default: 100,000,000; 10,000 windows].", show_default=False)]


# ------------------------------------------------------------------ command line
_command_line: list[str] = []


def set_command_line(args: list[str]) -> None:
    """Remember the arguments of this invocation (written into result files)."""
    _command_line[:] = ["mcsim", *args]


def command_line() -> str:
    return shlex.join(_command_line or sys.argv)


def flag_values(set_items: list[str] | None, **flags: str | None) -> dict[str, list]:
    """Parameter values from convenience flags and ``--set NAME=VALUE`` items."""
    from ..sweep import parse_values

    given = {name: text for name, text in flags.items() if text is not None}
    for item in set_items or []:
        name, text = _name_value(item, "--set", "--set writer_hold=exp(50us) (names: "
                                 "`mcsim params`)")
        if name in given:
            raise UsageError(f"{name}: given twice on the command line; allowed: once")
        given[name] = text
    return {name: parse_values(name, text) for name, text in given.items()}


def _name_value(item: str, flag: str, example: str) -> tuple[str, str]:
    """``NAME=VALUE`` of a repeated option, or a one-line UsageError."""
    name, sep, text = item.partition("=")
    name = name.strip()
    if not sep or not name:
        raise UsageError(f"{flag}: {item!r} is not NAME=VALUE; allowed: e.g. {example}")
    return name, text


def var_values(items: list[str] | None) -> dict[str, list]:
    """Workload variables from ``--var NAME=VALUE`` items (``NAME=V1,V2``: several).

    >>> var_values(["n=1,2", "think=1ms"])
    {'n': [1, 2], 'think': ['1ms']}
    """
    from ..sweep import var_values as parse

    given: dict[str, list] = {}
    for item in items or []:
        name, text = _name_value(item, "--var", "--var n=4 (the names of the workload's "
                                 "[vars])")
        if name in given:
            raise UsageError(f"--var {name}: given twice; allowed: once")
        given[name] = parse(name, text.strip())
    return given


def workload_set_values(set_items: list[str] | None, workload: str | None,
                        config: Path | None) -> tuple[list[str], list[str]]:
    """Split ``--set`` items into parameters and variables of the workload in play
    (``--workload``, or the file's ``workload = ...``): ``--set n=8`` sets the variable
    ``n`` when no mcsim parameter has that name, as ``--var n=8`` does."""
    from ..params import PARAM_BY_NAME

    names = [item.partition("=")[0].strip() for item in set_items or []]
    if all(n in PARAM_BY_NAME for n in names):
        return list(set_items or []), []
    source = workload
    if source is None and config is not None:
        from ..sweep import SweepSpec

        source = SweepSpec.from_toml(config, allow_grid=True).workload
    if source is None:
        return list(set_items or []), []          # unknown names: refused as parameters
    from ..workload import load_workload

    declared = set(load_workload(source).vars)
    params, variables = [], []
    for name, item in zip(names, set_items):
        (variables if name not in PARAM_BY_NAME and name in declared else params).append(item)
    return params, variables


def build_spec(config: Path | None, values: dict[str, list], *, allow_grid: bool,
               workload: str | None = None, variables: dict[str, list] | None = None,
               **settings):
    """The file's spec (or an empty one), with flag values, the workload and its
    variables, and settings on top."""
    from ..sweep import SweepSpec

    spec = SweepSpec.from_toml(config, allow_grid=allow_grid) if config else SweepSpec()
    if workload is not None or variables:
        spec = spec.with_workload(workload, variables)
    return spec.with_values(values).with_settings(**settings)


def spec_from_options(config: Path | None, *, allow_grid: bool, set_values, var, workload,
                      kernel, policy, era, throttle_depth, writer_ratio, **settings):
    """The spec of ``mcsim run``/``sweep``'s options: ``--set`` split between parameters
    and the workload's variables, the parameter flags, ``--var``, and the settings, on
    top of the file ``config`` (:func:`build_spec`)."""
    set_values, set_vars = workload_set_values(set_values, workload, config)
    values = flag_values(set_values, kernel=kernel, policy=policy, era=era,
                         throttle_depth=throttle_depth, writer_ratio=writer_ratio)
    return build_spec(config, values, allow_grid=allow_grid, workload=workload,
                      variables=var_values((var or []) + set_vars), **settings)


# ------------------------------------------------------------------ output
def stdout_console():
    """Rich console on stdout; wide when stdout is a file or a pipe (no wrapping)."""
    from rich.console import Console

    wide = not sys.stdout.isatty() and not os.environ.get("COLUMNS")
    return Console(width=160 if wide else None, highlight=False)


#: How ``--json`` writes the floats JSON has no numbers for (docs/cli.md, docs/results.md):
#: strings that keep them apart and that ``float()`` reads back.
NONFINITE_JSON = {"nan": "nan", "inf": "inf", "-inf": "-inf"}


def jsonable(value):
    """``value`` as plain JSON data: NaN as ``"nan"``, infinities as ``"inf"``/``"-inf"``
    (JSON has no such numbers, and ``null`` means "does not apply"), tuples as lists,
    numpy scalars as Python numbers.

    >>> jsonable({"a": float("nan"), "b": (1, 2.5), "c": [float("inf"), -float("inf")],
    ...           "d": None})
    {'a': 'nan', 'b': [1, 2.5], 'c': ['inf', '-inf'], 'd': None}
    """
    if type(value).__module__ == "numpy" and hasattr(value, "tolist"):
        value = value.tolist()               # numpy scalar or array -> Python numbers
    if isinstance(value, float) and not math.isfinite(value):
        return NONFINITE_JSON[repr(value)]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


def print_json(value) -> None:
    """One JSON document on stdout (strictly valid JSON: no NaN or Infinity tokens)."""
    sys.stdout.write(json.dumps(jsonable(value), indent=2, allow_nan=False) + "\n")


def show_progress(quiet: bool) -> str | bool:
    """How to show progress on stderr: ``"bar"`` on a terminal, ``"log"`` (a line now and
    then) otherwise, False with ``--quiet``."""
    if quiet:
        return False
    try:
        return "bar" if sys.stderr.isatty() else "log"
    except (AttributeError, ValueError, OSError):
        return False


class ProgressBar:
    """What :func:`progress_bar` yields: ``advance(n)`` and ``update(completed, total,
    detail=None)``; does nothing when progress is not shown."""

    def __init__(self, target=None):
        self._target = target

    def advance(self, n: int = 1) -> None:
        if self._target is not None:
            self._target.advance(n)

    def update(self, completed: int, total: int | None, detail: str | None = None) -> None:
        if self._target is not None:
            self._target.update(completed, total, detail)


@contextmanager
def progress_bar(description: str, total: int | None, unit: str, *, enabled: str | bool,
                 eta: bool = False, interval: float | None = None) -> Iterator[ProgressBar]:
    """Progress of some work on stderr (see :mod:`mcsim.cli.progress`): a transient rich
    bar when ``enabled`` is ``"bar"`` (or True), lines at most every ``interval`` seconds
    when it is ``"log"``, nothing when it is false."""
    from .progress import LOG_INTERVAL_S, BarProgress, LogProgress, rich_progress

    if not enabled:
        yield ProgressBar()
    elif enabled == "log":
        log = LogProgress(description, unit,
                          interval=LOG_INTERVAL_S if interval is None else interval)
        log.total = total
        yield ProgressBar(log)
    else:
        with rich_progress(unit, eta=eta) as progress:
            task = progress.add_task(description, total=total, detail=None)
            yield ProgressBar(BarProgress(progress, task))
