"""Expanding a normalized workload into the engines' tables (model.md §12).

``count`` copies and ``scan`` steps are unrolled, names become indexes (processes in
order, the open stream's process first; VMAs process by process; threads process by
process), and every limit of :mod:`mcsim.scenario` is checked while unrolling, so no
description, however large its counts, causes unbounded work.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import ParameterError
from ..policies import FAULT_KINDS
from ..scenario import (FAULT_MIXED, HOLD_DEFAULT, MAX_PROCESSES, MAX_STEPS, MAX_THREADS,
                        MAX_VMAS, NO_VMA, SCAN_END, SCAN_START, TASK_KINDS, TK_BG, TK_FAULT,
                        TK_HP, TK_WRITER, TRIAL_KINDS, dist_of_record, record_dist,
                        reset_tables)
from ..units import Dist, parse_dist

STEP_TASK = {"fault": TK_FAULT, "write": TK_WRITER, "cmdline": TK_HP, "bg_io": TK_BG}
#: Fault kinds whose task always waits for a bio (its own or the page's): device time.
_DEVICE_KINDS = ("miss", "mkwrite_slow", "locked", "mkwrite_writeback")
_ZERO = Dist("const", 0.0)


@dataclass(frozen=True)
class Step:
    """One step of the unrolled program (a row of STEP_DTYPE); ``hold`` None = default."""

    kind: int
    process: int
    vma: int
    fault: int
    scan: int
    hold: Dist | None
    think: Dist
    path: str
    lead: Dist | None = None    # fault steps: CPU work after the page's IO starts (§14.6)


@dataclass
class Thread:
    name: str
    process: int
    start: Dist
    path: str
    steps: list = field(default_factory=list)


@dataclass
class Plan:
    """The unrolled workload: what :meth:`fill` writes into a scenario record."""

    trial_kind: int
    has_open: bool
    process_names: list
    vma_names: list
    vma_process: list
    threads: list

    @property
    def n_steps(self) -> int:
        return sum(len(t.steps) for t in self.threads)

    def fill(self, r) -> None:
        """Write the workload fields of record ``r`` (one element of SCENARIO_DTYPE); the
        open stream runs only if the workload has one and its rates are not all zero."""
        r["trial_kind"] = self.trial_kind
        r["open_stream"] = int(self.has_open and r["arrival_mean_ns"] > 0)
        r["n_processes"] = len(self.process_names)
        r["n_vmas"] = len(self.vma_names)
        r["n_threads"] = len(self.threads)
        r["n_steps"] = self.n_steps
        r["vma_process"] = 0
        r["vma_process"][: len(self.vma_process)] = self.vma_process
        r["threads"] = 0
        r["steps"] = 0
        r["threads"]["start"]["kind"] = 0
        # Quantile tables after the scenario's, thread starts then steps (model.md §13.1).
        reset_tables(r)
        j = 0
        for i, t in enumerate(self.threads):
            r["threads"][i] = (j, len(t.steps), t.process,
                               record_dist(r, t.start, t.path + ".start"))
            j += len(t.steps)
        j = 0
        for t in self.threads:
            for s in t.steps:
                r["steps"][j] = (s.kind, s.process, s.vma, s.fault, s.scan,
                                 record_dist(r, s.hold, s.path + ".hold", _HOLD_DEFAULT),
                                 record_dist(r, s.think, s.path + ".think"),
                                 record_dist(r, s.lead, s.path + ".lead", _ZERO_DIST))
                j += 1

    def check_loops(self, r) -> None:
        """Refuse a thread none of whose steps must take time under record ``r``'s
        distributions: it would loop forever at one instant."""
        for t in self.threads:
            if not any(_takes_time(s, r) for s in t.steps):
                raise ParameterError(t.path + ".program", _program_text(t),
                                     "a program with a step that takes time: a think time, a "
                                     "hold, a bio or fault CPU work that is not always 0",
                                     "is an impossible loop (every step can take zero time)")


def _program_text(t: Thread) -> str:
    return ", ".join(TASK_KINDS[s.kind] for s in t.steps[:8]) + (" ..." if len(t.steps) > 8
                                                                 else "")


_HOLD_DEFAULT = (HOLD_DEFAULT, 0.0, 0.0)
_ZERO_DIST = (0, 0.0, 0.0)                  # const 0: no lead (§14.6)


def _nonzero(r, name: str) -> bool:
    """Record ``r``'s distribution ``name`` is not always 0: every kind's draws are
    non-negative, so it is always 0 exactly when its mean is 0."""
    return dist_of_record(r, r[name]).mean_ns() > 0


def _takes_time(s: Step, r) -> bool:
    if s.think.mean_ns() > 0:
        return True
    if s.kind in (TK_WRITER, TK_HP):
        if s.hold is not None:
            return s.hold.mean_ns() > 0
        return _nonzero(r, "writer_hold" if s.kind == TK_WRITER else "hp_hold")
    if s.kind == TK_BG:
        return _nonzero(r, "device")
    if _nonzero(r, "fault_cpu") or (s.lead is not None and s.lead.mean_ns() > 0):
        return True
    if s.fault >= 0 and FAULT_KINDS[s.fault] in _DEVICE_KINDS:
        return _nonzero(r, "device")
    return s.fault == FAULT_KINDS.index("mkwrite_fast") and _nonzero(r, "mkwrite_fast")


# --- unrolling ------------------------------------------------------------------------------

def _too_many(path: str, what: str, n: int, most: int) -> ParameterError:
    return ParameterError(path, f"{n} {what}", f"at most {most} {what} in a workload "
                          "(after count and scan expansion)", "is too many")


def _copies(table: dict) -> int:
    return table.get("count", 1)


def check_totals(declared: list) -> None:
    """Count processes, VMAs, threads and steps after expansion, before unrolling any,
    and refuse more than the record holds (the counts are exact, in O(declared) work)."""
    procs = sum(_copies(p) for p in declared)
    if procs > MAX_PROCESSES:
        raise _too_many("process", "processes", procs, MAX_PROCESSES)
    vmas = sum(_copies(p) * len(p["vmas"]) for p in declared)
    if vmas > MAX_VMAS:
        raise _too_many("process", "VMAs", vmas, MAX_VMAS)
    threads = sum(_copies(p) * sum(_copies(t) for t in p["thread"]) for p in declared)
    if threads > MAX_THREADS:
        raise _too_many("process", "threads", threads, MAX_THREADS)
    counted = {p["name"]: p["count"] for p in declared if "count" in p}
    steps = 0
    for p in declared:
        for t in p["thread"]:
            per = sum(_scan_size(st, procs, counted) for st in t["program"])
            steps += _copies(p) * _copies(t) * per
    if steps > MAX_STEPS:
        raise _too_many("process", "steps", steps, MAX_STEPS)


def _scan_size(step: dict, procs: int, counted: dict) -> int:
    if step["step"] != "scan":
        return 1
    if step["processes"] == "all":
        return procs
    return sum(counted.get(name, 1) for name in step["processes"])


class _Names:
    """Process names after count expansion: copies (``a-0``), uncounted names, and the
    counted base names (``a``: every copy)."""

    def __init__(self, declared: list):
        self.entries = []            # (name, declared index)
        self.groups: dict[str, list[str]] = {}
        for i, p in enumerate(declared):
            names = ([f"{p['name']}-{k}" for k in range(p["count"])] if "count" in p
                     else [p["name"]])
            if "count" in p:
                self.groups[p["name"]] = names
            self.entries += [(name, i) for name in names]
        seen: set[str] = set()
        for name, i in self.entries:
            if name in seen or name in self.groups:
                raise ParameterError(f"process[{i}].name", name, "process names unique "
                                     "after count expansion (a counted process a has "
                                     "copies a-0, a-1, ...)", "is a duplicate")
            seen.add(name)

    def one(self, name: str, path: str, order: dict) -> int:
        if name in self.groups:
            raise ParameterError(path, name, f"one process: an uncounted one or a copy such "
                                 f"as {self.groups[name][0]}", "names a counted process")
        if name not in order:
            raise ParameterError(path, name, "a process of the workload: "
                                 + _some(list(order)), "is not a process")
        return order[name]

    def many(self, names, path: str, order: dict) -> list[int]:
        if names == "all":
            return list(range(len(order)))
        out = []
        for i, name in enumerate(names):
            if name in self.groups:
                out += [order[n] for n in self.groups[name]]
            else:
                out.append(self.one(name, f"{path}[{i}]", order))
        return out


def _some(names: list, most: int = 8) -> str:
    return ", ".join(names[:most]) + (", ..." if len(names) > most else "")


def expand(norm: dict) -> Plan:
    """Unroll a normalized workload (:func:`mcsim.workload._parse.normalize`).

    >>> from mcsim.workload._parse import normalize
    >>> plan = expand(normalize({"workload": {"name": "w", "description": "d"},
    ...     "process": [{"name": "a", "count": 2},
    ...                 {"name": "ps", "thread": [{"name": "s", "program": [
    ...                     {"step": "scan", "processes": ["a"], "think": "1s"}]}]}]}, {}))
    >>> plan.process_names, [(s.process, s.scan) for s in plan.threads[0].steps]
    (['a-0', 'a-1', 'ps'], [(0, 1), (1, 2)])
    """
    declared = norm["process"]
    check_totals(declared)
    names = _Names(declared)
    entries = names.entries
    has_open = "open" in norm
    if has_open:
        if not entries:
            raise ParameterError("open.process", norm["open"].get("process"), "a [[process]] "
                                 "for the open stream to run in", "has no process")
        order0 = {n: k for k, (n, _) in enumerate(entries)}
        first = names.one(norm["open"].get("process", entries[0][0]), "open.process", order0)
        entries = [entries[first]] + entries[:first] + entries[first + 1:]
        if not declared[entries[0][1]]["vmas"]:
            raise ParameterError(f"process[{entries[0][1]}].vmas", [], "at least one VMA in "
                                 "the open stream's process (its faults are on its first VMA)",
                                 "is empty")
    order = {n: k for k, (n, _) in enumerate(entries)}
    vma_names, vma_process, vma_index = [], [], []
    for k, (pname, i) in enumerate(entries):
        vma_index.append({})
        for v in declared[i]["vmas"]:
            vma_index[k][v] = len(vma_names)
            vma_names.append(f"{pname}/{v}")
            vma_process.append(k)
    threads: list[Thread] = []
    for k, (pname, i) in enumerate(entries):
        for j, th in enumerate(declared[i]["thread"]):
            path = f"process[{i}].thread[{j}]"
            copies = ([f"{th['name']}-{c}" for c in range(th["count"])] if "count" in th
                      else [th["name"]])
            for tname in copies:
                t = Thread(f"{pname}/{tname}", k, parse_dist(th["start"]), path)
                for n, st in enumerate(th["program"]):
                    t.steps += _steps(st, f"{path}.program[{n}]", k, declared[i],
                                      vma_index[k], names, order)
                threads.append(t)
    trial = TRIAL_KINDS.index(norm["workload"]["trial"])
    return Plan(trial, has_open, [n for n, _ in entries], vma_names, vma_process, threads)


def _steps(st: dict, path: str, k: int, proc: dict, vmas: dict, names: _Names,
           order: dict) -> list[Step]:
    kind = st["step"]
    think = parse_dist(st["think"])
    hold = parse_dist(st["hold"]) if "hold" in st else None
    if kind == "scan":
        targets = names.many(st["processes"], path + ".processes", order)
        out = []
        for n, p in enumerate(targets):
            flags = (SCAN_START if n == 0 else 0) | (SCAN_END if n == len(targets) - 1 else 0)
            out.append(Step(TK_HP, p, NO_VMA, 0, flags, hold,
                            think if n == len(targets) - 1 else _ZERO, path))
        return out
    vma, fault, process = NO_VMA, 0, k
    if kind == "fault":
        if "vma" not in st and not proc["vmas"]:
            raise ParameterError(path + ".vma", None, "a VMA of the thread's process (it "
                                 "has none: list them in its vmas)", "is missing")
        vma = _vma(st.get("vma", proc["vmas"][0] if proc["vmas"] else None), path, vmas)
        fault = FAULT_MIXED if st["kind"] == "mixed" else FAULT_KINDS.index(st["kind"])
    elif kind == "write" and "vma" in st:
        vma = _vma(st["vma"], path, vmas)
    elif kind == "cmdline":
        process = names.one(st["process"], path + ".process", order)
    lead = parse_dist(st["lead"]) if "lead" in st else None
    return [Step(STEP_TASK[kind], process, vma, fault, 0, hold, think, path, lead)]


def _vma(name: str, path: str, vmas: dict) -> int:
    if name not in vmas:
        raise ParameterError(path + ".vma", name, "a VMA of the thread's own process: "
                             + (_some(list(vmas)) or "none listed"), "is not a VMA")
    return vmas[name]
