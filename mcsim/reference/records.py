"""The workload fields of a scenario record, checked before a run (docs/model.md §12).

A record built by :func:`mcsim.scenario.compile_scenario` (and a validated workload) always
passes.  A record assembled by hand is rejected, with one line naming the field, when the
reference could misread it: a count out of its limits, a thread whose steps fall outside
the record, a step naming a process or VMA that does not exist, a writer changing another
process's VMA (§12.6: a VMA is write-locked only under its own process's ``L``), an unknown
distribution kind, or a trial that could never end (cycles need the open stream and no
thread, §12.3).

>>> from mcsim.params import validate
>>> from mcsim.scenario import compile_scenario
>>> rec = compile_scenario(validate())
>>> check_workload(rec[0])
>>> rec["n_threads"] = 1
>>> check_workload(rec[0])
Traceback (most recent call last):
...
mcsim.errors.ParameterError: scenario.n_threads: 1 is not valid; allowed: no thread in a cycle trial (trial_kind 0): closed loops never let the system empty
"""
from __future__ import annotations

from ..errors import ParameterError
from ..policies import FAULT_KINDS
from ..scenario import (FAULT_MIXED, HOLD_DEFAULT, MAX_PROCESSES, MAX_STEPS, MAX_THREADS,
                        MAX_VMAS, NO_VMA, TASK_KINDS, TK_FAULT, TK_HP, TK_WRITER, TRIAL_CYCLE,
                        TRIAL_WINDOW)

#: Distribution kinds: const, exp, lognormal, uniform (mcsim.units.DIST_CODES).
DIST_KINDS = (0, 1, 2, 3)


def _bad(name, value, allowed, problem="is out of range"):
    return ParameterError(f"scenario.{name}", value, allowed, problem)


def _in(name, value, lo, hi, allowed):
    if not lo <= value <= hi:
        raise _bad(name, value, allowed)


def _dist(name, dist, hold=False):
    kind = int(dist["kind"])
    kinds = DIST_KINDS + ((HOLD_DEFAULT,) if hold else ())
    if kind not in kinds:
        raise _bad(f"{name}.kind", kind, "0 (const), 1 (exp), 2 (lognormal), 3 (uniform)"
                   + (f" or {HOLD_DEFAULT} (the scenario's hold)" if hold else ""))


def check_workload(sc) -> None:
    """Raise :class:`~mcsim.errors.ParameterError` for workload fields of the record ``sc``
    (one record, not an array) that the engine could misread; return None otherwise."""
    kind = int(sc["trial_kind"])
    _in("trial_kind", kind, TRIAL_CYCLE, TRIAL_WINDOW, "0 (cycle) or 1 (window)")
    _in("warmup_ns", int(sc["warmup_ns"]), 0, 2**62, "0 to 2**62 ns")
    _in("window_ns", int(sc["window_ns"]), 0, 2**62 - int(sc["warmup_ns"]),
        "0 to 2**62 ns, warm-up included")
    n_p, n_v = int(sc["n_processes"]), int(sc["n_vmas"])
    n_t, n_s = int(sc["n_threads"]), int(sc["n_steps"])
    _in("n_processes", n_p, 1, MAX_PROCESSES, f"1 to {MAX_PROCESSES}")
    _in("n_vmas", n_v, 1, MAX_VMAS, f"1 to {MAX_VMAS}")
    _in("n_threads", n_t, 0, MAX_THREADS, f"0 to {MAX_THREADS}")
    _in("n_steps", n_s, 0, MAX_STEPS, f"0 to {MAX_STEPS}")
    if kind == TRIAL_CYCLE and n_t:
        raise _bad("n_threads", n_t, "no thread in a cycle trial (trial_kind 0): closed "
                   "loops never let the system empty", "is not valid")
    if kind == TRIAL_CYCLE and not int(sc["open_stream"]):
        raise _bad("open_stream", int(sc["open_stream"]), "1 in a cycle trial (a cycle "
                   "starts with an arrival)", "is not valid")
    for v in range(n_v):
        _in(f"vma_process[{v}]", int(sc["vma_process"][v]), 0, n_p - 1,
            f"a process 0 to {n_p - 1}")
    for t in range(n_t):
        th = sc["threads"][t]
        first, n = int(th["first_step"]), int(th["n_steps"])
        _in(f"threads[{t}].first_step", first, 0, max(n_s - 1, 0), f"0 to {n_s - 1}")
        _in(f"threads[{t}].n_steps", n, 1, n_s - first, f"1 to {n_s - first}")
        _in(f"threads[{t}].process", int(th["process"]), 0, n_p - 1, f"0 to {n_p - 1}")
        _dist(f"threads[{t}].start", th["start"])
    for j in range(n_s):
        _check_step(sc, j, n_p, n_v)


def _check_step(sc, j, n_p, n_v):
    st, name = sc["steps"][j], f"steps[{j}]"
    kind = int(st["kind"])
    _in(f"{name}.kind", kind, 0, len(TASK_KINDS) - 1,
        "0 to 3 (" + ", ".join(TASK_KINDS) + ")")
    proc, vma = int(st["process"]), int(st["vma"])
    _in(f"{name}.process", proc, 0, n_p - 1, f"0 to {n_p - 1}")
    if kind == TK_FAULT:
        _in(f"{name}.vma", vma, 0, n_v - 1, f"a VMA 0 to {n_v - 1}")
        _in(f"{name}.fault", int(st["fault"]), FAULT_MIXED, len(FAULT_KINDS) - 1,
            f"{FAULT_MIXED} (mixed) or 0 to {len(FAULT_KINDS) - 1}")
    elif kind == TK_WRITER:
        _in(f"{name}.vma", vma, NO_VMA, n_v - 1, f"{NO_VMA} (elsewhere) or 0 to {n_v - 1}")
        if vma >= 0 and int(sc["vma_process"][vma]) != proc:
            raise _bad(f"{name}.vma", vma, f"a VMA of process {proc} (the writer's)",
                       "belongs to another process")
    if kind in (TK_WRITER, TK_HP):
        _dist(f"{name}.hold", st["hold"], hold=True)
    _dist(f"{name}.think", st["think"])
