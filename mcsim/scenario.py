"""Compile a validated :class:`~mcsim.params.Config` into the engines' input records.

This is mcsim's small typed boundary, in the spirit of numpy's ``bitgen_t``: a numpy
structured record whose layout matches the C ``Scenario`` struct in
``kernels_pyx/engine.pxd`` field for field (Cython checks the buffer format when the record
is handed over, so a mismatch is an immediate error, never a silent misread).  Both the
compiled engine and the pure-Python reference read only this record; neither knows about
units, names or defaults.

Scripted interleavings compile to an array of :data:`TASK_DTYPE` rows, the same fields an
arrival draws at random, so one state machine serves both modes.

>>> from mcsim.params import validate
>>> rec = compile_scenario(validate({"throttle_depth": 3}))
>>> int(rec["lp_depth"][0]), int(rec["policy"][0][1])
(16, 0)
>>> rec = compile_scenario(validate({"kernel": "6.18"}))
>>> int(rec["first_lock"][0]) == LOCK_VMA, int(rec["jiffy_ns"][0]), int(rec["handoff_jiffies"][0])
(True, 4000000, 1)
"""
from __future__ import annotations

import itertools
from typing import Iterable, Mapping

import numpy as np

from .errors import ParameterError
from .kernels import ERA_RULES, KERNELS, LOCKS, Kernel, legacy
from .params import NO_KERNEL, Config
from .policies import (FAULT_KINDS, FAULT_MAJOR, FAULT_PAGE_BIO, MAX_PROGRAM, STEP_COLUMNS,
                       program_table)
from .units import DIST_CODES, Dist, parse_duration

N_COLUMNS = len(STEP_COLUMNS)
N_KINDS = len(FAULT_KINDS)

DIST_DTYPE = np.dtype([("kind", "<i8"), ("a", "<f8"), ("b", "<f8")])

LOCK_MMAP, LOCK_VMA = 0, 1      # which lock a fault pass or an HP acquisition takes

# Empirical distributions (docs/model.md §13.1): kind 4, a = the index of its quantile table.
MAX_TABLES, MAX_TABLE_POINTS = 12, 257
DIST_EMPIRICAL = 4

# Workloads (docs/model.md §12): the most processes, VMAs, threads and steps one record holds.
MAX_PROCESSES, MAX_VMAS, MAX_THREADS, MAX_STEPS = 64, 128, 32, 256
TRIAL_CYCLE, TRIAL_WINDOW = 0, 1            # regenerative cycles (§4.2) / window trials (§12.3)
TRIAL_KINDS = ("cycle", "window")
FAULT_MIXED = -1                            # a fault step whose kind is drawn (§12.5)
NO_VMA = -1                                 # a writer elsewhere (mmap/munmap), §12.1
SCAN_START, SCAN_END = 1, 2                 # flags of a cmdline step in a scan (§12.2)
HOLD_DEFAULT = -1                           # a step hold of this kind uses writer_hold/hp_hold

#: One step of a closed-loop thread's program (§12.2).  ``kind`` is a task kind
#: (TASK_KINDS: hp_read = a cmdline step, writer = a write step, fault, bg_io).
STEP_DTYPE = np.dtype([
    ("kind", "<i8"),
    ("process", "<i8"),             # cmdline: the process read; others: the thread's process
    ("vma", "<i8"),                 # fault: its VMA; write: the VMA changed or NO_VMA; else -1
    ("fault", "<i8"),               # fault: a FAULT_KINDS index or FAULT_MIXED
    ("scan", "<i8"),                # cmdline: SCAN_START | SCAN_END bits, 0 outside a scan
    ("hold", DIST_DTYPE),           # write/cmdline; kind HOLD_DEFAULT = the scenario's hold
    ("think", DIST_DTYPE),          # drawn when the step's task finishes
    ("lead", DIST_DTYPE),           # fault: CPU work after the page's IO starts (§14.6)
])

#: One closed-loop thread: its steps are ``steps[first_step : first_step + n_steps]``.
THREAD_DTYPE = np.dtype([
    ("first_step", "<i8"), ("n_steps", "<i8"), ("process", "<i8"),
    ("start", DIST_DTYPE),          # delay of the first step, drawn at the trial start
])

SCENARIO_DTYPE = np.dtype([
    ("lp_depth", "<i8"),
    ("wake_ns", "<i8"),
    ("max_trial_events", "<i8"),
    # the rwsem era, as data (mcsim.kernels.ERA_RULES)
    ("rw_handoff", "<i8"),          # 1: the first waiter may set the handoff bit (5.3+)
    ("rw_wake_all_readers", "<i8"), # 1: a wake-up grants every queued reader (up to max)
    ("rw_reader_steal", "<i8"),     # 1: 5.11+ reader lock stealing
    ("handoff_ns", "<i8"),          # continuous handoff timeout (used when jiffy_ns == 0)
    ("jiffy_ns", "<i8"),            # > 0: handoff once jiffy(now) > jiffy(t_req) + handoff_jiffies
    ("handoff_jiffies", "<i8"),
    ("max_readers_wakeup", "<i8"),
    # the fault path (mcsim.kernels.Kernel)
    ("policy", "<i8", (N_COLUMNS,)),  # per step column: 1 = under the pass's lock, 0 = dropped
    ("keeps_page", "<i8"),
    ("dirty_completes", "<i8"),     # dropping before dirty throttling ends the fault
    ("first_lock", "<i8"),          # LOCK_MMAP / LOCK_VMA: the lock pass 1 takes
    ("retry_lock", "<i8"),          # the lock a retry pass takes
    ("tried_on_major", "<i8"),      # a retry after a VMA-locked pass is TRIED only if major
    ("vma_writers", "<i8"),         # writers vma_start_write() the VMA they change
    ("hp_acquisitions", "<i8"),     # lock acquisitions per HP read
    ("hp_lock", "<i8"),             # LOCK_MMAP / LOCK_VMA: the lock an HP acquisition takes
    ("programs", "<i8", (N_KINDS, MAX_PROGRAM, 4)),  # pass-1 steps: op, col, blame, arg; op -1 pads
    ("major", "<i8", (N_KINDS,)),   # per kind: pass 1 reads the page (VM_FAULT_MAJOR)
    ("page_bio", "<i8", (N_KINDS,)),  # per kind: another context's bio for the page at arrival
    # the workload
    ("arrival_mean_ns", "<f8"),     # mean gap of the merged Poisson arrival stream
    ("cut_hp", "<f8"),              # arrival type: u < cut_hp → HP, u < cut_lp → LP, else bg
    ("cut_lp", "<f8"),
    ("writer_ratio", "<f8"),
    ("p_same_vma", "<f8"),
    ("write_fault_ratio", "<f8"),
    ("cut_mkwrite_slow", "<f8"),    # write-fault kind: w < cut_mkwrite_slow → slow,
    ("cut_mkwrite_writeback", "<f8"),  # w < cut_mkwrite_writeback → writeback, else fast
    ("cut_miss", "<f8"),            # read-fault kind: cumulative p_miss, +p_async_ra, +p_locked
    ("cut_async_ra", "<f8"),
    ("cut_locked", "<f8"),
    ("p_dirty_throttle", "<f8"),
    ("evict_per_ns", "<f8"),
    ("p_retry_miss", "<f8"),
    ("revalidate_fail", "<f8"),
    ("p_hp_fallback", "<f8"),
    ("hp_hold", DIST_DTYPE),
    ("writer_hold", DIST_DTYPE),
    ("fault_cpu", DIST_DTYPE),
    ("minor_cpu", DIST_DTYPE),
    ("mkwrite_fast", DIST_DTYPE),
    ("device", DIST_DTYPE),
    ("dirty_throttle", DIST_DTYPE),
    # the workload (§12); the open model: 1 process, 1 VMA, no thread, the open stream
    ("trial_kind", "<i8"),          # TRIAL_CYCLE / TRIAL_WINDOW
    ("warmup_ns", "<i8"),           # window trials: warm-up, then the counted window
    ("window_ns", "<i8"),
    ("open_stream", "<i8"),         # 1: the Poisson stream of §4.3 runs (process 0, VMA 0)
    ("n_processes", "<i8"),
    ("n_vmas", "<i8"),
    ("n_threads", "<i8"),
    ("n_steps", "<i8"),
    ("vma_process", "<i8", (MAX_VMAS,)),
    ("threads", THREAD_DTYPE, (MAX_THREADS,)),
    ("steps", STEP_DTYPE, (MAX_STEPS,)),
    # measured durations and wake-up jitter (§13)
    ("wake_jitter", DIST_DTYPE),    # added to wake at every wake-up, drawn then
    # CPUs (§14)
    ("cpus", "<i8"),                # 0: every task has its own CPU (no run queue)
    ("cpu_switch", DIST_DTYPE),     # a queued task runs this long after a CPU frees
    ("io_cpu", DIST_DTYPE),         # a server context's CPU work per issued bio (§14.6)
    ("cpu_affinity", "<f8"),        # 0: one run queue; > 0: per-CPU run queues (§14.7)
    ("timer_slack", "<i8"),         # > 0: threads' timers coalesce per CPU (§14.8), ns
    ("wake_remote", DIST_DTYPE),    # a later wakee's cross-CPU wake-up (§14.8)
    ("table_points", "<i8", (MAX_TABLES,)),   # values used in each quantile table
    ("tables", "<f8", (MAX_TABLES, MAX_TABLE_POINTS)),  # empirical quantiles, ascending, ns
])

# Task kinds (also the ``kind`` of a scripted row).
TASK_KINDS = ("hp_read", "writer", "fault", "bg_io")
TK_HP, TK_WRITER, TK_FAULT, TK_BG = range(4)
#: The engines' own kind for a server context (docs/model.md §14.6): never a script's or a
#: step's kind, never in a record.
TK_SERVER = len(TASK_KINDS)

#: One task: what a random arrival draws, or what a script states.  ``evicted``,
#: ``revalidate_fail`` and ``fallback`` are -1 in random mode (decided by the engine's
#: draws when they matter) and 0/1 in a script.  ``evicted`` = the retry pass finds the
#: page not uptodate (reclaim or a p_retry_miss miss); ``fallback`` = every acquisition of
#: an HP read under the cmdline-vma series falls back to mmap_lock.
TASK_DTYPE = np.dtype([
    ("at", "<i8"), ("kind", "<i8"), ("fault", "<i8"),
    ("hold", "<i8"), ("cpu", "<i8"), ("minor", "<i8"), ("bio", "<i8"), ("mkwrite", "<i8"),
    ("evicted", "<i8"), ("evict_bio", "<i8"), ("revalidate_fail", "<i8"),
    ("same_vma", "<i8"), ("dirty", "<i8"), ("fallback", "<i8"),
])


#: The record's distribution fields, in record order: the order in which their quantile
#: tables are numbered (docs/model.md §13.1), before the workload's.
DIST_FIELDS = ("hp_hold", "writer_hold", "fault_cpu", "minor_cpu", "mkwrite_fast", "device",
               "dirty_throttle", "wake_jitter", "cpu_switch", "io_cpu", "wake_remote")
TABLES_ALLOWED = (f"at most {MAX_TABLES} different empirical distributions in one run "
                  "(the parameters' and the workload's together; identical ones count once)")


def table_index(r, dist: Dist, name: str) -> int:
    """The index of ``dist``'s quantile table in record ``r`` (one element of
    :data:`SCENARIO_DTYPE`), added after the tables already there unless an identical one
    is (docs/model.md §13.1); ``name`` is what a :class:`~mcsim.errors.ParameterError`
    names when the record has no room left.

    >>> from mcsim.units import parse_dist
    >>> r = np.zeros(1, dtype=SCENARIO_DTYPE)[0]
    >>> [table_index(r, parse_dist(t), "x") for t in
    ...  ("empirical(1us, 2us)", "empirical(1us, 3us)", "empirical(1us, 2us)")]
    [0, 1, 0]
    >>> r["table_points"][:3].tolist(), r["tables"][1][:3].tolist()
    ([2, 2, 0], [1000.0, 3000.0, 0.0])
    """
    table, points = dist.table, r["table_points"]
    for i in range(MAX_TABLES):
        n = int(points[i])
        if n == 0:                       # tables fill from 0 up: the first free one
            r["tables"][i] = 0.0
            r["tables"][i][: len(table)] = table
            points[i] = len(table)
            return i
        if n == len(table) and tuple(float(q) for q in r["tables"][i][:n]) == table:
            return i
    raise ParameterError(name, str(dist), TABLES_ALLOWED, "needs one table too many")


def record_dist(r, dist: Dist | None, name: str, default: tuple | None = None) -> tuple:
    """``(kind, a, b)`` of ``dist`` for a distribution field of record ``r``: an empirical
    one gets kind :data:`DIST_EMPIRICAL` and ``a`` = the index of its table
    (:func:`table_index`); ``None`` is ``default``.

    >>> from mcsim.units import parse_dist
    >>> r = np.zeros(1, dtype=SCENARIO_DTYPE)[0]
    >>> e, x = parse_dist("empirical(0, 1ms)"), parse_dist("exp(5us)")
    >>> record_dist(r, x, "x"), record_dist(r, e, "x")
    ((1, 5000.0, 0.0), (4, 0.0, 0.0))
    """
    if dist is None:
        return default
    if dist.kind == "empirical":
        return (DIST_EMPIRICAL, float(table_index(r, dist, name)), 0.0)
    return (DIST_CODES[dist.kind], float(dist.a), float(dist.b))


def dist_of_record(r, field) -> Dist:
    """The :class:`~mcsim.units.Dist` a distribution field of record ``r`` holds (its
    table looked up for an empirical one).

    >>> from mcsim.params import validate
    >>> rec = compile_scenario(validate(wake_jitter="empirical(1us, 4us)"))[0]
    >>> str(dist_of_record(rec, rec["wake_jitter"]))
    'empirical(1us, 4us)'
    """
    kind, a, b = int(field["kind"]), float(field["a"]), float(field["b"])
    if kind != DIST_EMPIRICAL:
        return Dist(next(k for k, c in DIST_CODES.items() if c == kind), a, b)
    i = int(a)
    return Dist("empirical", table=tuple(r["tables"][i][: int(r["table_points"][i])]))


def reset_tables(r) -> None:
    """Keep in record ``r`` only the tables of its distribution fields (:data:`DIST_FIELDS`),
    numbered again in record order: what a workload's tables are added to, however often
    a workload is applied to the record."""
    dists = [dist_of_record(r, r[name]) for name in DIST_FIELDS]
    r["table_points"] = 0
    r["tables"] = 0.0
    for name, dist in zip(DIST_FIELDS, dists):
        r[name] = record_dist(r, dist, name)


def kernel_of(cfg: Config) -> Kernel:
    """The kernel row a configuration runs: its preset, or the 2018 policy on its era."""
    if cfg["kernel"] != NO_KERNEL:
        return KERNELS[cfg["kernel"]]
    return legacy(cfg["policy"], cfg["era"])


def _kernel_fields(r, cfg: Config) -> None:
    k = kernel_of(cfg)
    for rule, value in ERA_RULES[k.era].items():
        r["rw_" + rule] = int(value)
    r["handoff_ns"] = cfg["handoff_timeout"]
    if cfg["hz"] > 0:
        r["jiffy_ns"] = round(1e9 / cfg["hz"])
        r["handoff_jiffies"] = -(-cfg["hz"] // 250)      # DIV_ROUND_UP(HZ, 250)
    r["max_readers_wakeup"] = cfg["max_readers_wakeup"]
    r["policy"] = [int(x) for x in k.locked]
    r["keeps_page"] = int(k.keeps_page)
    r["dirty_completes"] = int(k.dirty_completes)
    r["first_lock"] = LOCKS.index(k.first_lock)
    r["retry_lock"] = LOCKS.index(k.retry_lock)
    r["tried_on_major"] = int(k.tried_on_major)
    r["vma_writers"] = int(k.vma_writers)
    r["hp_acquisitions"] = k.hp_acquisitions
    r["hp_lock"] = LOCKS.index(k.hp_lock)
    r["programs"] = program_table()
    r["major"] = [int(FAULT_MAJOR.get(kind, False)) for kind in range(N_KINDS)]
    r["page_bio"] = [int(FAULT_PAGE_BIO.get(kind, False)) for kind in range(N_KINDS)]


def compile_scenario(cfg: Config, workload=None) -> np.ndarray:
    """The C record (a length-1 structured array) for a validated configuration, running
    the open model, or ``workload`` (a :class:`mcsim.workload.Workload`) when given.

    All-zero rates (a configuration validated for closed-loop threads) compile to
    ``arrival_mean_ns = 0`` and no open stream.
    """
    rec = np.zeros(1, dtype=SCENARIO_DTYPE)
    total = cfg["hp_rate"] + cfg["lp_rate"] + cfg["bg_io_rate"]
    r = rec[0]
    r["lp_depth"] = cfg.lp_depth
    r["wake_ns"] = cfg["wake"]
    r["max_trial_events"] = cfg["max_trial_events"]
    _kernel_fields(r, cfg)
    if total > 0:
        r["arrival_mean_ns"] = 1e9 / total
        r["cut_hp"] = cfg["hp_rate"] / total
        r["cut_lp"] = (cfg["hp_rate"] + cfg["lp_rate"]) / total
    for name in ("writer_ratio", "p_same_vma", "write_fault_ratio", "p_dirty_throttle",
                 "p_retry_miss", "revalidate_fail", "p_hp_fallback"):
        r[name] = cfg[name]
    r["cut_mkwrite_slow"] = cfg["p_mkwrite_slow"]
    r["cut_mkwrite_writeback"] = cfg["p_mkwrite_slow"] + cfg["p_mkwrite_writeback"]
    r["cut_miss"] = cfg["p_miss"]
    r["cut_async_ra"] = cfg["p_miss"] + cfg["p_async_ra"]
    r["cut_locked"] = cfg["p_miss"] + cfg["p_async_ra"] + cfg["p_locked"]
    r["evict_per_ns"] = cfg["evict_rate"] * 1e-9
    for name in DIST_FIELDS:             # record order: tables are numbered in it (§13.1)
        r[name] = record_dist(r, cfg[name], name)
    r["cpus"] = cfg["cpus"]
    r["cpu_affinity"] = cfg["cpu_affinity"]
    r["timer_slack"] = cfg["timer_slack"]
    r["warmup_ns"] = cfg["warmup"]
    r["window_ns"] = cfg["window"]
    open_model(r)
    if total <= 0:
        r["open_stream"] = 0
    if workload is not None:
        workload.apply(r)
    return rec


def open_model(r) -> None:
    """The workload fields of the open model (§12): one process owning VMA 0, no thread,
    the open stream, regenerative cycles.  :mod:`mcsim.workload` overwrites them."""
    r["trial_kind"] = TRIAL_CYCLE
    r["open_stream"] = 1
    r["n_processes"] = 1
    r["n_vmas"] = 1
    r["n_threads"] = 0
    r["n_steps"] = 0
    r["vma_process"] = 0


SCRIPT_FIELDS = {
    "hp_read": ("hold", "fallback"),
    "writer": ("hold", "same_vma"),
    "fault": ("fault", "cpu", "minor", "bio", "mkwrite", "evicted", "evict_bio",
              "revalidate_fail", "dirty"),
    "bg_io": ("bio",),
}


#: Most tasks one script may list.
MAX_SCRIPT_TASKS = 100_000


def _script_error(i: int, field: str, value, allowed: str) -> ParameterError:
    return ParameterError(f"task[{i}]" + (f".{field}" if field else ""), value, allowed)


def compile_script(entries: Iterable[Mapping]) -> np.ndarray:
    """Scripted tasks → :data:`TASK_DTYPE` rows, in the order listed (that order breaks ties).

    Each entry has ``at`` (a duration, required), ``kind`` (hp_read, writer, fault, bg_io)
    and the kind's fields; the other durations default to 0 and ``fault`` to ``miss``.
    A script has 1 to :data:`MAX_SCRIPT_TASKS` tasks.

    >>> rows = compile_script([{"at": "1ms", "kind": "writer", "hold": "50us"}])
    >>> int(rows[0]["at"]), int(rows[0]["hold"])
    (1000000, 50000)
    """
    if isinstance(entries, (str, bytes, Mapping)) or not isinstance(entries, Iterable):
        raise ParameterError("tasks", entries, "a list of task dicts such as [{'at': 0, "
                             "'kind': 'writer', 'hold': '50us'}]", "is not a list of tasks")
    entries = list(itertools.islice(entries, MAX_SCRIPT_TASKS + 1))
    if not 1 <= len(entries) <= MAX_SCRIPT_TASKS:
        raise ParameterError("tasks", f"{len(entries)} tasks", f"1 to {MAX_SCRIPT_TASKS} tasks",
                             "is not a script")
    rows = np.zeros(len(entries), dtype=TASK_DTYPE)
    for i, entry in enumerate(entries):
        if not isinstance(entry, Mapping):
            raise _script_error(i, "", entry, "a dict with at, kind and the kind's fields")
        entry = dict(entry)
        kind = entry.pop("kind", None)
        if not isinstance(kind, str) or kind not in SCRIPT_FIELDS:
            raise _script_error(i, "kind", kind, "one of " + ", ".join(TASK_KINDS))
        row = rows[i]
        row["kind"] = TASK_KINDS.index(kind)
        if "at" not in entry:
            raise ParameterError(f"task[{i}].at", None, "a start time such as 0 or \"1ms\" "
                                 "(every task states when it arrives)", "is missing")
        row["at"] = parse_duration(entry.pop("at"), f"task[{i}].at")
        row["fault"] = FAULT_KINDS.index("miss")
        allowed = SCRIPT_FIELDS[kind]
        for field, value in entry.items():
            if field not in allowed:
                raise _script_error(i, field, value, f"fields of a {kind} task: at, kind, "
                                    + ", ".join(allowed))
            if field == "fault":
                if not isinstance(value, str) or value not in FAULT_KINDS:
                    raise _script_error(i, field, value, "one of " + ", ".join(FAULT_KINDS))
                row["fault"] = FAULT_KINDS.index(value)
            elif field in ("evicted", "revalidate_fail", "same_vma", "fallback"):
                if not isinstance(value, bool):
                    raise _script_error(i, field, value, "true or false")
                row[field] = int(value)
            else:
                row[field] = parse_duration(value, f"task[{i}].{field}")
    if len(rows) and np.any(np.diff(rows["at"]) < 0):
        raise ParameterError("script", "task times", "tasks listed in order of their `at`",
                             "are not in time order")
    return rows
