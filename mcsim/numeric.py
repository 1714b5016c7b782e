"""The engines' numeric limits: how draws become nanoseconds, how far a trial's clock may
run, and how int64 sums behave at the top of their range (docs/model.md §4.4).

Both engines follow these rules exactly (the compiled core in ``kernels_pyx/numeric.pxd``
mirrors the constants), so they agree bit for bit in the limit cases too:

* every random draw is rounded to ns and clamped to ``[0, MAX_DRAW_NS]``; ``+inf`` becomes
  ``MAX_DRAW_NS`` and NaN (``0 · ∞``: a lognormal with median 0 and a huge σ) becomes 0;
* a trial's clock may not pass ``MAX_TIME_NS``: scheduling an event later than that raises
  :class:`~mcsim.errors.SimulationError` (no wrap-around, ever);
* sums of non-negative int64 quantities (``sim_ns``, ``busy_ns``, ``events``, histogram
  totals and their ``yy``/``yn``/``nn`` sums) *saturate*: one that would pass
  ``SATURATED = 2**63 - 1`` stays at ``SATURATED``, which reads "at least this much, exact
  value unknown"; statistics derived from it (a mean, an interval) are NaN.

>>> to_ns(2.5), to_ns(-3.0), to_ns(float("nan")), to_ns(float("inf")) == MAX_DRAW_NS
(3, 0, 0, True)
>>> sat_add(SATURATED - 1, 5) == SATURATED, sat_add(2, 3)
(True, 5)
"""
from __future__ import annotations

import math

import numpy as np

from .errors import ParameterError, SimulationError

#: Largest duration one draw can produce: 2**53 ns (~104 days), exact in a double, so the
#: rounding of every smaller draw is exact too.
MAX_DRAW_NS = 1 << 53
#: A trial's clock may not pass 2**62 ns (~146 years).  Every single delay is at most
#: MAX_DRAW_NS, so ``now + delay`` never overflows int64 before the check sees it.
MAX_TIME_NS = 1 << 62
#: The value a saturated int64 sum sticks at.
SATURATED = (1 << 63) - 1
#: Most lock acquisitions one HP read may make (a kernel row's ``hp_acquisitions``).
MAX_HP_ACQUISITIONS = 8
#: Most CPUs a scenario may have (the ``cpus`` parameter's limit, model.md §14).
MAX_CPUS = 1024

#: The distribution kinds of a compiled record: const(a), exp(mean a), lognormal(a, b),
#: uniform(a, b), empirical(table a) (mcsim.units.DIST_CODES).
DIST_KINDS = (0, 1, 2, 3, 4)
_DIST_ALLOWED = "0 (const), 1 (exp), 2 (lognormal), 3 (uniform) or 4 (empirical)"
DIST_FIELDS = ("hp_hold", "writer_hold", "fault_cpu", "minor_cpu", "mkwrite_fast", "device",
               "dirty_throttle")
SCRIPT_DURATIONS = ("hold", "cpu", "minor", "bio", "mkwrite", "evict_bio", "dirty")

#: Properties the engines check after every event when asked to (``check_invariants``);
#: the compiled core reports a broken one by its index here.
INVARIANTS = (
    "reader and writer hold L",
    "readers or gate slots out of range",
    "L is free but nobody queued was woken",
    "a gate slot is free while bios wait",
    "4.x rules broken",
    "reader queued for nothing",
    "handoff set with nobody queued",
    "VMA write-locked by a task not holding L for write",
    "VMA has readers while its write-locker runs",
    "a writer waits in vma_start_write with no reader and no wake-up",
    "idle CPUs plus CPUs held differ from cpus",
    "a context waits for a CPU while one is idle",
    "a context in the run queue holds a CPU or has a run pending",
    "a background bio holds a CPU",
)


def to_ns(x: float) -> int:
    """Round a duration in ns (a double) to an integer in ``[0, MAX_DRAW_NS]``.

    ``⌊x + 0.5⌋`` as C truncates it; ``x + 0.5 < 1`` (negative, NaN) gives 0, anything at
    or past ``MAX_DRAW_NS`` (``+inf`` included) gives ``MAX_DRAW_NS``.
    """
    x = x + 0.5
    if x >= 1.0:                      # False for NaN
        return MAX_DRAW_NS if x >= MAX_DRAW_NS else int(x)
    return 0


def draw_ns(gen: np.random.Generator, dist, tables=None, points=None) -> int:
    """One duration in ns from a compiled distribution ``(kind, a, b)``; const uses no RNG.

    An empirical distribution (kind 4, docs/model.md §13.1) reads its quantile table from
    the record: ``tables`` and ``points`` are the record's ``tables`` and ``table_points``.

    >>> import numpy as np
    >>> d = np.array((2, 0.0, 1e6), dtype=[("kind", "<i8"), ("a", "<f8"), ("b", "<f8")])
    >>> draw_ns(np.random.default_rng(1), d)      # median 0: always 0, even for a huge sigma
    0
    >>> e = np.array((4, 0.0, 0.0), dtype=d.dtype)          # table 0: 10 ns to 20 ns
    >>> 10 <= draw_ns(np.random.default_rng(1), e, [[10.0, 20.0]], [2]) <= 20
    True
    """
    kind, a, b = int(dist["kind"]), float(dist["a"]), float(dist["b"])
    if kind == 0:
        return to_ns(a)
    if kind == 1:
        return to_ns(a * gen.standard_exponential())
    if kind == 3:                     # uniform(a, b): one uniform (docs/model.md §12.5)
        return to_ns(a + (b - a) * gen.random())
    if kind == 4:
        return _draw_empirical(gen, int(a), tables, points)
    try:
        factor = math.exp(b * gen.standard_normal())
    except OverflowError:             # C's exp() returns +inf here; so do we
        factor = math.inf
    return to_ns(a * factor)


def _draw_empirical(gen: np.random.Generator, index: int, tables, points) -> int:
    """The piecewise-linear quantile function of table ``index`` at one uniform (§13.1):
    ``p = U·m``, ``i = ⌊p⌋`` (at most ``m − 1``), ``x = q_i + (q_{i+1} − q_i)·(p − i)``."""
    if tables is None or points is None or not 0 <= index < len(points):
        raise ParameterError("dist.a", index, "the index of one of the record's quantile "
                             "tables", "is not a table")
    m = int(points[index]) - 1
    if not 1 <= m < len(tables[index]):
        raise ParameterError(f"table_points[{index}]", m + 1,
                             f"2 to {len(tables[index])} values", "is out of range")
    q = tables[index]
    p = gen.random() * m
    i = min(int(p), m - 1)            # p >= 0, so int() is the floor
    return to_ns(float(q[i]) + (float(q[i + 1]) - float(q[i])) * (p - i))


def sat_add(a: int, b: int) -> int:
    """``a + b`` for non-negative int64 sums, stuck at :data:`SATURATED`."""
    return min(a + b, SATURATED)


def sat_add_arrays(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Element-wise :func:`sat_add` of non-negative int64 arrays (no wrap-around).

    >>> sat_add_arrays(np.array([1, SATURATED - 1]), np.array([2, 2])).tolist() == [3, SATURATED]
    True
    """
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    room = SATURATED - a              # exact: a >= 0
    return a + np.minimum(b, room)    # never past SATURATED, so never wraps


def sat_add_into(a: np.ndarray, b: np.ndarray) -> None:
    """``a = sat_add_arrays(a, b)`` in place, for int64 arrays of non-negative sums: one
    add and one compare per element (two values below 2**63 wrap to a negative sum, which
    is exactly the overflow), so merging many small blocks stays cheap.

    >>> a = np.array([1, SATURATED - 1]); sat_add_into(a, np.array([2, 2]))
    >>> a.tolist() == [3, SATURATED]
    True
    """
    np.add(a, b, out=a)               # integer arrays wrap silently (no warning)
    if a.min(initial=0) < 0:
        a[a < 0] = SATURATED


def time_limit_error() -> SimulationError:
    """What both engines raise when an event would fall past :data:`MAX_TIME_NS`."""
    return SimulationError(
        f"a trial's clock would pass {MAX_TIME_NS} ns (2**62 ns, ~146 years): durations "
        "too long for the int64 nanosecond clock")


def check_scenario(record) -> None:
    """Reject a compiled record the engines could misread (validated configurations always
    pass): ``wake_ns`` outside ``[0, MAX_DRAW_NS]``, an unknown distribution kind, fewer
    than one gate slot, a lock other than 0 (mmap) or 1 (vma), ``hp_acquisitions`` outside
    ``1..MAX_HP_ACQUISITIONS``, negative jiffy fields, a fault-program step whose op,
    column, blame or operand is out of range (each indexes a table in the engines), an
    empirical distribution whose quantile table is missing or not 2 to
    ``MAX_TABLE_POINTS`` finite, non-negative, ascending values (docs/model.md §13.1), or a
    workload (docs/model.md §12) whose counts, indexes or kinds are out of range
    (:func:`check_workload`).  Everything else in a record, however odd, simulates without
    undefined behaviour.

    >>> from mcsim.params import validate
    >>> from mcsim.scenario import compile_scenario
    >>> rec = compile_scenario(validate())
    >>> check_scenario(rec)
    >>> rec["wake_ns"] = -1
    >>> check_scenario(rec)
    Traceback (most recent call last):
    ...
    mcsim.errors.ParameterError: scenario.wake_ns: -1 is out of range; allowed: 0 to 9007199254740992 ns
    """
    rec = np.asarray(record).reshape(-1)
    if rec.shape != (1,):
        raise ParameterError("scenario", f"{rec.shape[0]} records", "exactly one record")
    key = (rec.dtype, rec.tobytes())
    if key in _CHECKED:               # a run of window trials checks one record per trial
        return
    _check_record(rec[0])
    if len(_CHECKED) >= 16:
        _CHECKED.clear()
    _CHECKED[key] = None


#: Records that passed :func:`check_scenario` (dtype and bytes), a few at a time.
_CHECKED: dict = {}


def _check_record(rec) -> None:
    limits = (("wake_ns", 0, MAX_DRAW_NS, f"0 to {MAX_DRAW_NS} ns"),
              ("lp_depth", 1, SATURATED, "at least 1 gate slot"),
              ("first_lock", 0, 1, "0 (mmap) or 1 (vma)"),
              ("retry_lock", 0, 1, "0 (mmap) or 1 (vma)"),
              ("hp_lock", 0, 1, "0 (mmap) or 1 (vma)"),
              ("hp_acquisitions", 1, MAX_HP_ACQUISITIONS, f"1 to {MAX_HP_ACQUISITIONS}"),
              ("jiffy_ns", 0, SATURATED, "0 (continuous time) or a jiffy in ns"),
              ("handoff_jiffies", 0, SATURATED, "0 or more jiffies"),
              ("cpus", 0, MAX_CPUS, f"0 (a CPU per task) to {MAX_CPUS} CPUs"))
    for name, lo, hi, allowed in limits:
        value = int(rec[name])
        if not lo <= value <= hi:
            raise ParameterError(f"scenario.{name}", value, allowed, "is out of range")
    for name in DIST_FIELDS + ("wake_jitter", "cpu_switch", "io_cpu", "wake_remote"):
        _check_dist(f"scenario.{name}", rec[name], rec)
    affinity = float(rec["cpu_affinity"])
    if not 0.0 <= affinity <= 1.0:                  # nan fails too
        raise ParameterError("scenario.cpu_affinity", affinity, "a probability from 0 to 1",
                             "is out of range")
    slack = int(rec["timer_slack"])
    if not 0 <= slack <= MAX_DRAW_NS:
        raise ParameterError("scenario.timer_slack", slack, f"0 to {MAX_DRAW_NS} ns",
                             "is out of range")
    if slack > 0 and not (int(rec["cpus"]) > 0 and affinity > 0):
        raise ParameterError("scenario.timer_slack", slack, "0, or above 0 with cpus > 0 "
                             "and cpu_affinity > 0 (model.md §14.8)",
                             "needs per-CPU run queues")
    _check_programs(rec["programs"])
    check_workload(rec)


def _check_programs(programs) -> None:
    """Every step of a fault program (op >= 0; op -1 pads) indexes the engines' tables."""
    from .policies import ARG_DIRTY, BLAME_NAMES, OP_NAMES, STEP_COLUMNS

    fields = (("op", -1, len(OP_NAMES) - 1), ("col", -1, len(STEP_COLUMNS) - 1),
              ("blame", -1, len(BLAME_NAMES) - 1), ("arg", 0, ARG_DIRTY))
    programs = np.asarray(programs)
    active = programs[..., 0] >= 0
    for f, (name, lo, hi) in enumerate(fields):
        values = programs[..., f]
        bad = (values < lo) | (values > hi)
        if f:
            bad &= active
        if bad.any():
            kind, step = (int(x) for x in np.argwhere(bad)[0])
            raise ParameterError(f"scenario.programs[{kind}][{step}].{name}",
                                 int(values[kind, step]), f"{lo} to {hi}", "is out of range")


def _in_range(name: str, value, lo: int, hi: int, allowed: str) -> int:
    value = int(value)
    if not lo <= value <= hi:
        raise ParameterError(name, value, allowed, "is out of range")
    return value


def _check_dist(name: str, dist, rec, hold: bool = False) -> None:
    kind = int(dist["kind"])
    if kind not in DIST_KINDS and not (hold and kind == -1):
        raise ParameterError(f"{name}.kind", kind, ("-1 (the scenario's hold), "
                                                    if hold else "") + _DIST_ALLOWED)
    if kind == 4:
        _check_table(name, float(dist["a"]), rec)


def _check_table(name: str, a: float, rec) -> None:
    """An empirical distribution's table (docs/model.md §13.1): the engines index
    ``tables[a]`` and read ``table_points[a]`` values from it."""
    from .scenario import MAX_TABLE_POINTS, MAX_TABLES

    if not (math.isfinite(a) and a == int(a) and 0 <= a < MAX_TABLES):
        raise ParameterError(f"{name}.a", a, f"an integer table index 0 to {MAX_TABLES - 1}",
                             "is not a table")
    k = int(a)
    n = _in_range(f"scenario.table_points[{k}]", rec["table_points"][k], 2, MAX_TABLE_POINTS,
                  f"2 to {MAX_TABLE_POINTS} quantiles")
    q = np.asarray(rec["tables"][k][:n], dtype=np.float64)
    bad = ~np.isfinite(q) | (q < 0)
    if bad.any():
        i = int(np.argmax(bad))
        raise ParameterError(f"scenario.tables[{k}][{i}]", float(q[i]),
                             "a finite duration >= 0 ns")
    down = np.diff(q) < 0
    if down.any():
        i = int(np.argmax(down)) + 1
        raise ParameterError(f"scenario.tables[{k}][{i}]", float(q[i]),
                             f"at least {float(q[i - 1])} ns (quantiles ascend)")


def check_workload(rec) -> None:
    """The workload fields of one record (docs/model.md §12): counts within the record's
    arrays, every process and VMA index in range, each VMA owned by a process, fault and
    write steps in their thread's process on one of its VMAs, step and distribution kinds
    known, and a trial kind that can end (cycles: the open stream and no thread; windows:
    a window of 1 ns to ``MAX_DRAW_NS`` after a warm-up of at most ``MAX_DRAW_NS``).

    >>> from mcsim.params import validate
    >>> from mcsim.scenario import compile_scenario
    >>> rec = compile_scenario(validate())[0]
    >>> check_workload(rec)
    >>> rec["n_processes"] = 0
    >>> check_workload(rec)
    Traceback (most recent call last):
    ...
    mcsim.errors.ParameterError: scenario.n_processes: 0 is out of range; allowed: 1 to 64
    """
    from .scenario import MAX_PROCESSES, MAX_STEPS, MAX_THREADS, MAX_VMAS, TRIAL_CYCLE, \
        TRIAL_WINDOW

    kind = _in_range("scenario.trial_kind", rec["trial_kind"], TRIAL_CYCLE, TRIAL_WINDOW,
                     "0 (cycle) or 1 (window)")
    stream = _in_range("scenario.open_stream", rec["open_stream"], 0, 1, "0 or 1")
    n_proc = _in_range("scenario.n_processes", rec["n_processes"], 1, MAX_PROCESSES,
                       f"1 to {MAX_PROCESSES}")
    n_vma = _in_range("scenario.n_vmas", rec["n_vmas"], stream, MAX_VMAS,
                      f"{stream} to {MAX_VMAS}" + (" (the open stream faults on VMA 0)"
                                                   if stream else ""))
    n_thr = _in_range("scenario.n_threads", rec["n_threads"], 0, MAX_THREADS,
                      f"0 to {MAX_THREADS}")
    n_steps = _in_range("scenario.n_steps", rec["n_steps"], 0, MAX_STEPS, f"0 to {MAX_STEPS}")
    if kind == TRIAL_CYCLE and (not stream or n_thr):
        raise ParameterError("scenario.trial_kind", kind, "1 (window) for a workload with "
                             "threads or without the open stream", "cannot end a cycle")
    if kind == TRIAL_WINDOW:
        _in_range("scenario.warmup_ns", rec["warmup_ns"], 0, MAX_DRAW_NS,
                  f"0 to {MAX_DRAW_NS} ns")
        _in_range("scenario.window_ns", rec["window_ns"], 1, MAX_DRAW_NS,
                  f"1 to {MAX_DRAW_NS} ns")
        if not stream and not n_thr:
            raise ParameterError("scenario.n_threads", 0, "at least 1 thread without the "
                                 "open stream", "leaves nothing to simulate")
    owner = [_in_range(f"scenario.vma_process[{v}]", rec["vma_process"][v], 0, n_proc - 1,
                       f"0 to {n_proc - 1} (a process)") for v in range(n_vma)]
    if stream and owner[0] != 0:
        raise ParameterError("scenario.vma_process[0]", owner[0], "0 (the open stream's "
                             "process faults on VMA 0)")
    for i in range(n_thr):
        th = rec["threads"][i]
        name = f"scenario.threads[{i}]"
        first = _in_range(f"{name}.first_step", th["first_step"], 0, max(n_steps - 1, 0),
                          f"0 to {max(n_steps - 1, 0)}")
        _in_range(f"{name}.n_steps", th["n_steps"], 1, n_steps - first,
                  f"1 to {n_steps - first} (steps from first_step on)")
        proc = _in_range(f"{name}.process", th["process"], 0, n_proc - 1, f"0 to {n_proc - 1}")
        _check_dist(f"{name}.start", th["start"], rec)
        for j in range(first, first + int(th["n_steps"])):
            _check_step(rec, j, proc, n_proc, owner)
        _check_scans(rec, first, int(th["n_steps"]))


def _check_scans(rec, first: int, n: int) -> None:
    """A thread's scans open and close within its program, one at a time, so each one
    the trial waits for ends (docs/model.md §12.3)."""
    from .scenario import SCAN_END, SCAN_START

    open_at = -1
    for j in range(first, first + n):
        flags = int(rec["steps"][j]["scan"])
        if flags & SCAN_START:
            if open_at >= 0:
                raise ParameterError(f"scenario.steps[{j}].scan", flags, "no scan_start "
                                     f"while the scan of step {open_at} is open")
            open_at = j
        elif flags & SCAN_END and open_at < 0:
            raise ParameterError(f"scenario.steps[{j}].scan", flags, "scan_end only in an "
                                 "open scan")
        if flags & SCAN_END:
            open_at = -1
    if open_at >= 0:
        raise ParameterError(f"scenario.steps[{open_at}].scan", SCAN_START, "a scan that "
                             "ends (scan_end) before its thread's program does")


def _check_step(rec, j: int, proc: int, n_proc: int, owner: list) -> None:
    from .policies import FAULT_KINDS
    from .scenario import (FAULT_MIXED, NO_VMA, SCAN_END, SCAN_START, TASK_KINDS, TK_FAULT,
                           TK_HP, TK_WRITER)

    step = rec["steps"][j]
    name = f"scenario.steps[{j}]"
    kind = _in_range(f"{name}.kind", step["kind"], 0, len(TASK_KINDS) - 1,
                     "0 to 3 (cmdline, write, fault, bg_io)")
    process = _in_range(f"{name}.process", step["process"], 0, n_proc - 1,
                        f"0 to {n_proc - 1} (a process)")
    if kind != TK_HP and process != proc:
        raise ParameterError(f"{name}.process", process, f"{proc} (its thread's process)")
    _check_dist(f"{name}.think", step["think"], rec)
    _check_dist(f"{name}.hold", step["hold"], rec, hold=True)
    _check_dist(f"{name}.lead", step["lead"], rec)
    if kind != TK_FAULT and (int(step["lead"]["kind"]) != 0 or float(step["lead"]["a"]) != 0):
        raise ParameterError(f"{name}.lead", int(step["lead"]["kind"]), "const 0 (only a "
                             "fault step has a lead, docs/model.md §14.6)")
    if kind != TK_HP:
        _in_range(f"{name}.scan", step["scan"], 0, 0, "0 (only cmdline steps scan)")
    else:
        _in_range(f"{name}.scan", step["scan"], 0, SCAN_START | SCAN_END, "0 to 3")
    vma = int(step["vma"])
    if kind == TK_FAULT:
        _in_range(f"{name}.fault", step["fault"], FAULT_MIXED, len(FAULT_KINDS) - 1,
                  f"{FAULT_MIXED} (mixed) to {len(FAULT_KINDS) - 1} (a fault kind)")
        _in_range(f"{name}.vma", vma, 0, len(owner) - 1, f"0 to {len(owner) - 1} (a VMA)")
    elif kind == TK_WRITER:
        _in_range(f"{name}.vma", vma, NO_VMA, len(owner) - 1,
                  f"{NO_VMA} (elsewhere) to {len(owner) - 1}")
    if kind in (TK_FAULT, TK_WRITER) and vma >= 0 and owner[vma] != process:
        raise ParameterError(f"{name}.vma", vma, f"a VMA of process {process} (VMA {vma} "
                             f"belongs to process {owner[vma]})")


def check_script_rows(rows) -> None:
    """Reject scripted task rows the engines cannot run safely: times outside ``[0,
    MAX_TIME_NS]``, durations outside ``[0, MAX_DRAW_NS]``, an unknown task or fault kind,
    ``evicted``/``revalidate_fail``/``same_vma``/``fallback`` other than 0 or 1 (a script
    draws nothing).

    >>> from mcsim.scenario import compile_script
    >>> rows = compile_script([{"at": 0, "kind": "writer", "hold": "1ms"}])
    >>> check_script_rows(rows)
    >>> rows["hold"] = -5
    >>> check_script_rows(rows)
    Traceback (most recent call last):
    ...
    mcsim.errors.ParameterError: task[0].hold: -5 is out of range; allowed: 0 to 9007199254740992 ns
    """
    rows = np.asarray(rows).reshape(-1)
    limits = [("at", 0, MAX_TIME_NS, f"0 to {MAX_TIME_NS} ns"),
              ("kind", 0, 3, "0 to 3 (hp_read, writer, fault, bg_io)"),
              ("fault", 0, 6, "0 to 6 (a fault kind)"),
              ("evicted", 0, 1, "0 or 1"), ("revalidate_fail", 0, 1, "0 or 1"),
              ("same_vma", 0, 1, "0 or 1"), ("fallback", 0, 1, "0 or 1")]
    limits += [(name, 0, MAX_DRAW_NS, f"0 to {MAX_DRAW_NS} ns") for name in SCRIPT_DURATIONS]
    for name, lo, hi, allowed in limits:
        bad = np.flatnonzero((rows[name] < lo) | (rows[name] > hi))
        if bad.size:
            i = int(bad[0])
            raise ParameterError(f"task[{i}].{name}", int(rows[name][i]), allowed,
                                 "is out of range")
