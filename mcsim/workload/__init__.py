"""Workloads as programs: processes, VMAs and closed-loop threads (docs/workloads.md,
model.md §12).

A workload is a TOML file (or the same structure as a dict): the processes of a machine,
each with its own mmap lock and VMAs, the closed-loop threads in them, each running a
program of steps (``fault``, ``write``, ``cmdline``, ``scan``, ``bg_io``) with think times,
and optionally the open Poisson stream of §4.3.  :func:`load_workload` reads, checks and
normalizes one; :meth:`Workload.apply` writes it into a compiled scenario record.

>>> wl = load_workload("ps-scan", vars={"n": 3})
>>> wl.name, wl.trial_kind, wl.process_names
('ps-scan', 'window', ['ps', 'app-0', 'app-1', 'app-2'])
>>> wl.thread_names[:4]
['ps/scanner', 'app-0/worker', 'app-0/mapper', 'app-1/worker']
>>> wl.hash == load_workload("ps-scan", vars={"n": 3}).hash != load_workload("ps-scan").hash
True
"""
from __future__ import annotations

import hashlib
import json
import os
import tomllib
from pathlib import Path
from typing import Any, Mapping

from ..errors import ParameterError, StorageError, UsageError
from . import _expand, _parse

#: Where the ready workloads live (``mcsim workloads`` lists them).
READY_DIR = Path(__file__).resolve().parents[2] / "sweeps" / "workloads"


class Workload:
    """A checked, normalized workload.  Build it with :func:`load_workload`.

    ``name``, ``description``; ``params`` (the mcsim parameters it sets, canonical values;
    the command line and sweep axes override them); ``vars`` (its variables, resolved);
    ``canonical`` (canonical JSON of the normalized structure, variables substituted) and
    ``hash`` (16 hex digits of its sha256); ``process_names``, ``thread_names`` (thread
    ``k`` is counter ``thread_iterations_k``), ``vma_names``; ``trial_kind`` ("cycle" or
    "window"); ``has_open`` (the open stream runs); ``n_threads``; ``source`` (the file, or
    None for a dict).
    """

    def __init__(self, raw: Mapping, vars: Mapping | None = None, source: str | None = None):
        self._raw = raw
        self.source = source
        self.vars = _parse.resolve_vars(raw.get("vars") if isinstance(raw, Mapping) else None,
                                        vars)
        self.structure = _parse.normalize(raw, self.vars)
        self._plan = _expand.expand(self.structure)
        self.params = dict(self.structure["params"])
        w = self.structure["workload"]
        self.name, self.description, self.trial_kind = w["name"], w["description"], w["trial"]
        self.canonical = json.dumps(self.structure, sort_keys=True, separators=(",", ":"))
        self.hash = hashlib.sha256(self.canonical.encode()).hexdigest()[:16]
        self.process_names = list(self._plan.process_names)
        self.vma_names = list(self._plan.vma_names)
        self.thread_names = [t.name for t in self._plan.threads]
        self.n_threads = len(self.thread_names)
        self.has_open = self._plan.has_open
        # Check the whole workload once with its own parameters (an impossible loop, a bad
        # combination of [params]); the parameters of a run are checked again in apply().
        try:
            from ..scenario import compile_scenario

            compile_scenario(self.config(), self)
        except ParameterError as err:
            if err.param.startswith(("process", "params.", "workload")):
                raise
            raise ParameterError(f"params.{err.param}", err.value, err.allowed,
                                 err.problem) from None

    def with_vars(self, vars: Mapping) -> Workload:
        """The same workload with some variables changed (a sweep axis).

        >>> load_workload("ps-scan").with_vars({"n": 2}).process_names
        ['ps', 'app-0', 'app-1']
        """
        return Workload(self._raw, {**self.vars, **vars}, self.source)

    def config(self, params: Mapping | None = None, **overrides):
        """The validated :class:`~mcsim.params.Config` of a run of this workload: its
        ``params`` overridden by ``params`` and ``overrides``.

        >>> load_workload("ps-scan").config(window="2s")["window"]
        2000000000
        """
        from ..params import validate

        merged = {**self.params, **(params or {}), **overrides}
        return validate(merged, closed_loop=self.n_threads > 0)

    def apply(self, record) -> None:
        """Fill the workload fields of a compiled scenario record (one element or a
        length-1 array of :data:`mcsim.scenario.SCENARIO_DTYPE`): trial kind, open
        stream, processes, VMAs, threads and steps.  ``warmup_ns``/``window_ns`` and the
        distributions a step without its own ``hold`` uses come from the record (from
        the parameters it was compiled with).

        >>> from mcsim.scenario import compile_scenario
        >>> wl = load_workload("ps-scan", vars={"n": 2})
        >>> rec = compile_scenario(wl.config())
        >>> wl.apply(rec)
        >>> r = rec[0]
        >>> int(r["n_processes"]), int(r["n_threads"]), int(r["n_steps"]), int(r["open_stream"])
        (3, 5, 6, 0)
        """
        import numpy as np

        r = np.asarray(record).reshape(-1)[0] if np.ndim(record) else record
        self._plan.check_loops(r)
        self._plan.fill(r)

    @property
    def has_cmdline_steps(self) -> bool:
        """Whether a thread reads a cmdline (a ``cmdline`` or ``scan`` step)."""
        return any(s.kind == _expand.TK_HP for t in self._plan.threads for s in t.steps)

    def __eq__(self, other) -> bool:
        return isinstance(other, Workload) and other.hash == self.hash

    def __hash__(self) -> int:
        return hash(self.hash)

    def __repr__(self) -> str:
        return f"Workload({self.name!r}, hash={self.hash!r})"


def _ready_names() -> list[str]:
    return sorted(p.stem for p in READY_DIR.glob("*.toml")) if READY_DIR.is_dir() else []


def _read_toml(path: Path) -> dict:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise UsageError(f"{path}: not a text file ({err.reason})") from None
    except OSError as err:
        raise StorageError(f"{path}: cannot read: {err.strerror or err}") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise UsageError(f"{path}: not valid TOML: {str(err).splitlines()[0]}") from None


def load_workload(source: Any, vars: Mapping | None = None) -> Workload:
    """Read and check a workload: ``source`` is a TOML file's path, a ready workload's
    name (a file of ``sweeps/workloads/``), a dict of the same structure, or a
    :class:`Workload` (its variables then change by ``vars``).  ``vars`` overrides the
    values of ``[vars]``; naming a variable the workload does not declare is an error.

    >>> load_workload({"workload": {"name": "one", "description": "A reader loop."},
    ...     "process": [{"name": "p", "thread": [{"name": "r",
    ...       "program": [{"step": "cmdline", "process": "p", "think": "exp(1ms)"}]}]}]}).hash
    '...'
    >>> load_workload("no-such-workload")
    Traceback (most recent call last):
    ...
    mcsim.errors.ParameterError: workload: 'no-such-workload' is not a workload; allowed: a workload file (.toml), a dict, or a ready workload: ...
    """
    if isinstance(source, Workload):
        return source.with_vars(vars) if vars else source
    if isinstance(source, Mapping):
        return Workload(source, vars)
    if isinstance(source, (str, os.PathLike)):
        text = os.fspath(source)
        if isinstance(source, str) and _parse.NAME_RE.match(text) and text in _ready_names():
            path = READY_DIR / f"{text}.toml"
        else:
            path = Path(text)
        if path.is_file():
            return Workload(_read_toml(path), vars, str(path))
        if path.suffix == ".toml" or os.sep in text:
            raise StorageError(f"{path}: cannot read: no such file")
    raise ParameterError("workload", source, "a workload file (.toml), a dict, or a ready "
                         "workload: " + ", ".join(_ready_names()), "is not a workload")


def list_workloads() -> list[Workload]:
    """The ready workloads of ``sweeps/workloads/``, by name.

    >>> [w.name for w in list_workloads()]
    ['mkwrite-vs-mprotect', 'mkwrite-vs-mprotect-2cpus', 'open', 'ps-scan', 'read-vs-mmap']
    """
    return [load_workload(name) for name in _ready_names()]


def workload_of(value) -> Workload | None:
    """None, or the :class:`Workload` that ``value`` (a Workload, a path, a ready name or
    a dict) describes: what ``workload=`` arguments accept."""
    return None if value is None else load_workload(value)


from .warmup import check_warmup  # noqa: E402  (needs Workload defined)

__all__ = ["Workload", "load_workload", "list_workloads", "workload_of", "check_warmup",
           "READY_DIR"]
