"""Sweep specifications: base parameters, grid axes and run settings, from TOML or flags.

A sweep file (see ``sweeps/*.toml`` and docs/cli.md) has up to three tables::

    description = "what this sweep shows"

    [run]                    # how every point runs
    trials = 1_000_000       # trials per point (the minimum, with a precision target);
                             # default 1,000,000 cycles, or 100 windows for a workload
    seed = 2018              # the same seed for every point: common random numbers
    p99_rel_ci = 0.01        # optional: add blocks until the hp_wait p99 is this precise
    max_trials = 50_000_000  # optional: cap under a precision target

    [params]                 # parameters shared by every point
    device = "hdd"

    [grid]                   # axes: every combination is one point
    policy = "all"
    writer_ratio = [0, 0.05, 0.1]
    throttle_depth = "0..7"

``mcsim run --config`` reads the same format without ``[grid]``.  An axis is a TOML list,
a comma-separated string, ``"a..b"`` (integers a to b) or ``"all"`` (every choice).

A sweep may run a workload (docs/model.md §12; ``mcsim workloads`` lists the ready ones)
and sweep its variables (the ``[vars]`` of the workload file) as axes::

    workload = "ps-scan"     # a ready workload's name, or a workload file's path
                             # (relative to the sweep file's folder)
    [vars]                   # variables fixed for every point
    think = "1ms"

    [grid]
    vars.n = [1, 2, 4, 8]    # an axis over the workload variable n
    kernel = "4.19,6.18"

>>> spec = SweepSpec(grid={"policy": parse_values("policy", "hold,rfc-v2"),
...                        "throttle_depth": parse_values("throttle_depth", "6..7")})
>>> [(p.params["policy"], p.params["throttle_depth"]) for p in spec.points(command="")]
[('hold', 6), ('hold', 7), ('rfc-v2', 6), ('rfc-v2', 7)]
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping

from .errors import ParameterError, StorageError, UsageError
from .params import NO_KERNEL, PARAM_BY_NAME, check_param_name
from .points import PointSpec


def _tomllib():
    """The TOML parser, imported when a file or a ``--var`` value is read (``mcsim run``
    without either does not load it)."""
    try:
        import tomllib
    except ModuleNotFoundError:      # Python 3.10
        import tomli as tomllib
    return tomllib


#: Most values one axis may list, and most points one sweep may have: checked before any
#: list is built, so a typo such as ``1..10000000`` fails at once instead of after minutes.
MAX_AXIS_VALUES = 10_000
MAX_POINTS = 100_000

#: Keys of a file's ``[run]`` table and their types.
RUN_KEYS = {"trials": int, "seed": int, "p99_rel_ci": float, "max_trials": int}
FILE_KEYS = ("description", "run", "params", "grid", "workload", "vars")
#: The ``[grid]`` key holding the axes over workload variables (``vars.n = [1, 2]``).
VARS_KEY = "vars"


def split_top_level(text: str) -> list[str]:
    """Split on commas outside parentheses: ``"exp(5us),lognormal(1ms, 0.5)"`` -> 2 items.

    >>> split_top_level("0, 0.05,0.1"), split_top_level("lognormal(8ms, 0.5)")
    (['0', '0.05', '0.1'], ['lognormal(8ms, 0.5)'])
    """
    items, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if ch == "," and depth == 0:
            items.append(text[start:i].strip())
            start = i + 1
    items.append(text[start:].strip())
    return items


def parse_values(name: str, value: Any) -> list:
    """The values of one parameter, from a flag's text or a TOML value.

    >>> parse_values("throttle_depth", "0..3"), parse_values("writer_ratio", [0, 0.1])
    ([0, 1, 2, 3], [0, 0.1])
    >>> parse_values("era", "all"), parse_values("device", "ssd")
    (['4.x', '5.3', '5.11+'], ['ssd'])
    >>> parse_values("kernel", "all")[:3], "none" in parse_values("kernel", "all")
    (['2.6.36', '4.19', '4.19+rfc-v1'], False)
    """
    check_param_name(name, value)
    param = PARAM_BY_NAME[name]
    if isinstance(value, list):
        items = value
    elif isinstance(value, str):
        items = split_top_level(value)
    else:
        items = [value]
    out = []
    for item in items:
        if isinstance(item, str) and item == "all" and param.kind == "choice":
            # every kernel preset; `none` (the 2018 model) is no kernel
            out.extend(c for c in param.choices if name != "kernel" or c != NO_KERNEL)
        elif isinstance(item, str) and ".." in item and param.kind == "int":
            out.extend(_int_range(param, item, MAX_AXIS_VALUES - len(out)))
        elif item == "" or isinstance(item, (list, dict)) and param.kind != "dist":
            raise ParameterError(name, value, AXIS_ALLOWED, "is not a list of values")
        else:
            out.append(item)
        if len(out) > MAX_AXIS_VALUES:
            raise ParameterError(name, _short(value), f"at most {MAX_AXIS_VALUES} values "
                                 "per axis", "has too many values")
    if not out:
        raise ParameterError(name, value, AXIS_ALLOWED + " (at least one value)", "is empty")
    return out


AXIS_ALLOWED = "a value, a comma-separated list, a..b for integers or `all` for choices"


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _int_range(param, text: str, room: int) -> range:
    """The integers of ``"a..b"``, checked against the parameter's range and ``room``
    (how many more values the axis may take) before any list is built."""
    lo, _, hi = text.partition("..")
    try:
        a, b = int(lo), int(hi)
    except ValueError:
        a, b = 0, -1
    if a > b:
        raise ParameterError(param.name, text, "an integer range a..b with a <= b, such as "
                             "0..7", "is not a range")
    if a < param.lo or b > param.hi:
        raise ParameterError(param.name, text, f"integers from {param.lo} to {param.hi}",
                             "is out of range")
    if b - a + 1 > room:
        raise ParameterError(param.name, text, f"at most {MAX_AXIS_VALUES} values per axis",
                             "has too many values")
    return range(a, b + 1)


@dataclass(frozen=True)
class SweepSpec:
    """Base parameters, grid axes (name -> values, in order) and run settings."""

    params: Mapping[str, Any] = field(default_factory=dict)
    grid: Mapping[str, list] = field(default_factory=dict)
    trials: int | None = None     # None: DEFAULT_TRIALS cycles, or fewer windows (points.py)
    seed: int = 0
    p99_rel_ci: float | None = None
    max_trials: int | None = None
    name: str = ""
    description: str = ""
    workload: Any = None          # a ready workload's name, a path, a dict, or a Workload
    vars: Mapping[str, Any] = field(default_factory=dict)       # fixed workload variables
    var_grid: Mapping[str, list] = field(default_factory=dict)  # axes over them

    @classmethod
    def from_toml(cls, path: str | Path, *, allow_grid: bool = True) -> SweepSpec:
        """Read a sweep (or, with ``allow_grid=False``, a run) file."""
        data = read_toml(path)
        check_keys(data, FILE_KEYS if allow_grid else
                   tuple(k for k in FILE_KEYS if k != "grid"), str(path))
        run = _table(data, "run", path)
        check_keys(run, RUN_KEYS, f"{path} [run]")
        settings = {k: _typed(run[k], t, f"{path} [run] {k}") for k, t in RUN_KEYS.items()
                    if k in run}
        params = _table(data, "params", path)
        workload, variables, var_grid = _workload_of(data, path)
        grid = {name: parse_values(name, v) for name, v in _table(data, "grid", path).items()
                if name != VARS_KEY}
        for name, values in grid.items():
            for value in values:
                require_unit(name, value)
        for name, value in params.items():
            check_param_name(name, value)
            require_unit(name, value)
            if name in grid:
                raise UsageError(f"{path}: {name} is in both [params] and [grid]; allowed: "
                                 "one of them (a fixed value or an axis)")
        description = data.get("description", "")
        if not isinstance(description, str):
            raise UsageError(f"{path}: description must be a string")
        if not (run or params or grid or workload):
            raise UsageError(f"{path}: nothing to run (no [run], [params] or [grid] "
                             "entries); allowed: a file such as sweeps/quick.toml")
        return cls(params=params, grid=grid, name=Path(path).stem, description=description,
                   workload=workload, vars=variables, var_grid=var_grid, **settings)

    def with_workload(self, workload=None, variables: Mapping[str, list] | None = None
                      ) -> SweepSpec:
        """The workload (a name, path, dict or Workload; None keeps the file's) and
        variables from the command line: one value fixes a variable, several make an axis
        (in place of the file's).

        >>> spec = SweepSpec(vars={"n": 2}).with_workload("ps-scan", {"n": [1, 4]})
        >>> spec.workload, spec.vars, spec.var_grid
        ('ps-scan', {}, {'n': [1, 4]})
        """
        fixed, grid = dict(self.vars), dict(self.var_grid)
        for name, values in (variables or {}).items():
            fixed.pop(name, None)
            grid.pop(name, None)
            if len(values) == 1:
                fixed[name] = values[0]
            else:
                grid[name] = list(values)
        if (fixed or grid) and workload is None and self.workload is None:
            name = next(iter({**fixed, **grid}))
            raise UsageError(f"--var {name}: no workload to set it in; allowed: with "
                             "--workload NAME|FILE (or a file's workload = ...)")
        return replace(self, workload=self.workload if workload is None else workload,
                       vars=fixed, var_grid=grid)

    def with_values(self, values: Mapping[str, list]) -> SweepSpec:
        """Parameters from the command line replace the file's: one value sets a base
        parameter, several make an axis (in place of any axis of that name).  A kernel
        preset sets ``policy`` and ``era``, so a kernel given here also replaces the file's
        policy and era, and a policy or era given here the file's kernel.

        >>> spec = SweepSpec(params={"era": "4.x", "policy": "hold", "wake": "1us"})
        >>> spec.with_values({"kernel": ["6.18"]}).params
        {'wake': '1us', 'kernel': '6.18'}
        >>> SweepSpec(grid={"kernel": ["4.19", "6.18"]}).with_values({"era": ["5.3"]}).grid
        {}
        """
        params, grid = dict(self.params), dict(self.grid)
        replaced = set(values)
        if any(v != NO_KERNEL for v in values.get("kernel", ())):
            replaced |= {"policy", "era"}
        if values.keys() & {"policy", "era"}:
            replaced.add("kernel")
        for name in replaced - set(values):
            params.pop(name, None)
            grid.pop(name, None)
        for name, vals in values.items():
            params.pop(name, None)
            grid.pop(name, None)
            if len(vals) == 1:
                params[name] = vals[0]
            else:
                grid[name] = list(vals)
        return replace(self, params=params, grid=grid)

    def with_settings(self, **settings) -> SweepSpec:
        """Run settings (trials, seed, p99_rel_ci, max_trials) given, i.e. not None."""
        return replace(self, **{k: v for k, v in settings.items() if v is not None})

    def points(self, command: str | None = None) -> list[PointSpec]:
        """Every combination of the axes as a validated point, in grid order, without
        duplicates (two spellings of one value are one point)."""
        axes = {**{f"vars.{k}": v for k, v in self.var_grid.items()}, **self.grid}
        size = math.prod(len(values) for values in axes.values())
        if size > MAX_POINTS:
            sizes = " x ".join(f"{len(v)} {k}" for k, v in axes.items())
            raise UsageError(f"grid: {size:,} points ({sizes}); allowed: at most "
                             f"{MAX_POINTS:,} points per sweep (split the grid into several "
                             "sweep files)")
        workloads = self._workloads()
        points, seen = [], set()
        for workload, combo in itertools.product(workloads, itertools.product(
                *self.grid.values())):
            params = dict(self.params)
            params.update(zip(self.grid, combo))
            extra = {} if workload is None else {"workload": workload}
            point = PointSpec.make(params, seed=self.seed, trials=self.trials,
                                   p99_rel_ci=self.p99_rel_ci, max_trials=self.max_trials,
                                   command=command, **extra)
            if point.key not in seen:
                seen.add(point.key)
                points.append(point)
        return points

    def _workloads(self) -> list:
        """The workload of every combination of the variable axes, loaded and checked
        (``[None]``: the open model, no workload)."""
        if self.workload is None:
            return [None]
        from .workload import load_workload

        out = []
        for combo in itertools.product(*self.var_grid.values()):
            variables = {**self.vars, **dict(zip(self.var_grid, combo))}
            out.append(load_workload(self.workload, vars=variables or None))
        return out


def _workload_of(data: Mapping, path) -> tuple:
    """A file's ``workload`` (a path relative to the file's folder, or a ready workload's
    name), its ``[vars]`` and the ``[grid] vars.NAME`` axes."""
    workload = data.get("workload")
    if workload is not None:
        if not isinstance(workload, str) or not workload:
            raise UsageError(f"{path}: workload must be a ready workload's name or a "
                             "workload file's path (a string); allowed: e.g. workload = "
                             '"ps-scan" (`mcsim workloads`)')
        beside = Path(path).parent / workload
        if workload.endswith(".toml") and not Path(workload).is_absolute() \
                and beside.is_file():
            workload = str(beside)
    variables = _table(data, "vars", path)
    raw = _table(data, "grid", path).get(VARS_KEY, {})
    if not isinstance(raw, dict):
        raise UsageError(f"{path}: [grid] vars must be a table of workload variable axes; "
                         "allowed: e.g. vars.n = [1, 2, 4]")
    var_grid = {name: var_values(name, value) for name, value in raw.items()}
    if (variables or var_grid) and workload is None:
        raise UsageError(f"{path}: workload variables without a workload; allowed: add "
                         'workload = "NAME" or a workload file\'s path')
    for name in sorted(variables.keys() & var_grid.keys())[:1]:
        raise UsageError(f"{path}: variable {name} is in both [vars] and [grid]; allowed: "
                         "one of them (a fixed value or an axis)")
    return workload, variables, var_grid


def var_values(name: str, value: Any) -> list:
    """The values of a workload variable's axis: a TOML list, or text (from ``--var``)
    whose comma-separated items read as TOML values where they can (``4`` an integer,
    ``1ms`` the string "1ms").

    >>> var_values("n", [1, 2]), var_values("n", "1,2,4"), var_values("think", "1ms")
    ([1, 2], [1, 2, 4], ['1ms'])
    """
    items = value if isinstance(value, list) else \
        [_var_value(v) for v in split_top_level(value)] if isinstance(value, str) else [value]
    if not items or any(isinstance(v, (list, dict)) or v == "" for v in items) \
            or len(items) > MAX_AXIS_VALUES:
        raise ParameterError(f"vars.{name}", _short(value), "a value or a list of at most "
                             f"{MAX_AXIS_VALUES} values (numbers, strings, booleans)",
                             "is not a list of values")
    return list(items)


def _var_value(text: str):
    """A ``--var`` item as the TOML value it spells (``4`` -> 4, ``true`` -> True), or
    the text itself (``1ms``, ``exp(1ms)``)."""
    tomllib = _tomllib()
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def require_unit(name: str, value, kind: str | None = None) -> None:
    """In a file, a time is written with its unit: ``wake = 5`` (5 what?) is refused, as
    on the command line; only 0 may stand alone.  (The Python API takes numbers as ns.)

    >>> require_unit("wake", 5)
    Traceback (most recent call last):
    ...
    mcsim.errors.ParameterError: wake: 5 has no unit; allowed: a duration such as "50us" or "8ms" (a bare number only for 0)
    """
    kind = kind or PARAM_BY_NAME[name].kind
    if kind == "dist" and isinstance(value, dict):       # {dist = "exp", mean = "20us"}
        for field in ("value", "mean", "median"):         # sigma has no unit
            if field in value:
                require_unit(f"{name}.{field}", value[field], kind="duration")
        return
    if kind in ("duration", "dist") and isinstance(value, (int, float)) \
            and not isinstance(value, bool) and value != 0:
        raise ParameterError(name, value, 'a duration such as "50us" or "8ms" (a bare '
                             "number only for 0)", "has no unit")


def read_toml(path: str | Path) -> dict:
    """Parse a TOML file; an unreadable file is a StorageError, bad TOML a UsageError."""
    try:
        text = Path(path).read_bytes().decode("utf-8")
    except OSError as exc:
        raise StorageError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path}: not valid TOML (not UTF-8 text); allowed: a TOML file "
                         "such as sweeps/quick.toml") from None
    tomllib = _tomllib()
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path}: not valid TOML ({exc}); allowed: a TOML file such as "
                         "sweeps/quick.toml") from None


def check_keys(table: Mapping, allowed, where: str) -> None:
    """Raise UsageError naming the first key of ``table`` that is not ``allowed``."""
    for key in table:
        if key not in allowed:
            raise UsageError(f"{where}: unknown key {key!r}; allowed: {', '.join(allowed)}")


def _table(data: Mapping, name: str, path) -> dict:
    value = data.get(name, {})
    if not isinstance(value, dict):
        raise UsageError(f"{path}: {name} must be a table ([{name}])")
    return value


def _typed(value, typ, where: str):
    ok = (isinstance(value, int) and not isinstance(value, bool)
          or typ is float and isinstance(value, float))
    if not ok:
        expected = "a number" if typ is float else "an integer"
        raise UsageError(f"{where}: {value!r} is not {expected}; allowed: {expected}")
    return typ(value)
