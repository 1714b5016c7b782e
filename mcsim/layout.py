"""Names and positions of everything the engines report.

Both engines fill the same arrays: one log-linear histogram per entry of :data:`METRICS`,
one int64 per entry of :data:`COUNTERS`, and (optionally, for differential tests) one row of
:data:`TRIAL_FIELDS` per trial.  The compiled engine exports the same tuples and a test
checks they agree.

Sums (``sim_ns``, ``busy_ns``, ``events``, the trial rows' ``*_sum``) saturate at
:data:`mcsim.numeric.SATURATED` instead of wrapping (docs/model.md §4.4):
:func:`saturated` names the counters that did.
"""
from __future__ import annotations

import numpy as np

from .policies import BLAME_NAMES, FAULT_KINDS

#: Histogram metrics (all in nanoseconds except ``fault_passes``).
METRICS = (
    "hp_wait",            # HP read(): the sum of its acquisitions' waits (the headline)
    "inversion_wait",     # an HP acquisition's wait, when it was an inversion (model.md §7.13)
    "lp_fault_latency",   # fault arrival → fault done, all passes
    "fault_passes",       # passes per fault (1 to 3)
    "writer_wait",        # LP writer: request → running with L
    "hold_hp",            # L hold by an HP reader (grant → release)
    "hold_fault",         # L hold by one fault pass (grant → drop or release)
    "hold_writer",        # L hold by a writer
    "gate_wait",          # an LP bio's wait for an io.latency slot (0 when one was free)
    "fault_lock_wait",    # a fault pass's wait for L (request → running with L)
    "hp_acq_wait",        # one HP lock acquisition: request → running with the lock
    "hold_vma",           # per-VMA read lock held by one fault pass (grant → drop or release)
    "vma_writer_wait",    # a same-VMA writer's wait in vma_start_write() while holding L(W)
    "scan_time",          # a ps scan: first read's request → last read's release (§12.4)
    "scan_wait",          # a ps scan: the sum of its reads' hp_wait
)
M_HP_WAIT, M_INVERSION_WAIT, M_FAULT_LATENCY, M_FAULT_PASSES, M_WRITER_WAIT, M_HOLD_HP, \
    M_HOLD_FAULT, M_HOLD_WRITER, M_GATE_WAIT, M_FAULT_LOCK_WAIT, M_HP_ACQ_WAIT, \
    M_HOLD_VMA, M_VMA_WRITER_WAIT, M_SCAN_TIME, M_SCAN_WAIT = range(len(METRICS))

#: Threads whose iterations are counted (mcsim.scenario.MAX_THREADS, kept equal by a test).
N_THREAD_COUNTERS = 32

COUNTERS = (
    "trials", "events", "sim_ns", "busy_ns",
    "hp_reads", "writes", "faults", "bg_bios",
    "lock_acquisitions", "bios", "retries", "evictions", "revalidate_fails",
    "handoffs", "reader_steals", "writer_steals", "inversions",
    "fallbacks",          # fault passes that found their VMA write-locked and took L(R)
    "tried_passes",       # retry passes run with FAULT_FLAG_TRIED (never drop)
    "retry_misses",       # retry passes that found the page not uptodate by p_retry_miss
    "vma_writer_waits",   # same-VMA writers that waited in vma_start_write()
    "hp_fallbacks",       # HP acquisitions (cmdline-vma) that fell back to L(R)
    "dirty_throttles",    # write faults that slept in balance_dirty_pages()
    *(f"blame_{b}" for b in BLAME_NAMES),
    *(f"faults_{k}" for k in FAULT_KINDS),
    "max_pending_events", "max_trial_events",
    "buffer_growths",     # times the event heap, task table, lock or gate queue doubled
    "steps",              # closed-loop thread steps started (§12.2)
    "scans",              # ps scans started
    *(f"thread_iterations_{k}" for k in range(N_THREAD_COUNTERS)),  # counted iterations
    "cpu_queued",         # runnable tasks that found no idle CPU and queued (§14.2)
    "cpu_queue_ns",       # their time from runnable to running, switch included (§14.3)
    "cpu_affine_queued",  # of those, queued on their target CPU while one was idle (§14.7)
    "cpu_pulled",         # queued contexts a freeing CPU pulled from another's queue (§14.7)
    "timers_coalesced",   # thread timers fired by another's firing on their CPU (§14.8)
    "wakees_remote",      # later wakees of a firing that took an idle CPU (§14.8)
)
C = {name: i for i, name in enumerate(COUNTERS)}

TRIAL_FIELDS = (
    "events", "busy_ns", "idle_ns", "hp_reads", "hp_wait_sum", "hp_wait_max",
    "faults", "fault_latency_sum", "writes", "writer_wait_sum", "inversions",
)
T = {name: i for i, name in enumerate(TRIAL_FIELDS)}

#: Timeline lanes of a scripted run.
LANES = ("wait", "hold", "gate", "io")
LANE_WAIT, LANE_HOLD, LANE_GATE, LANE_IO = range(4)


def saturated(counters: dict) -> list[str]:
    """Names of the counters stuck at the int64 limit (their exact value is unknown).

    >>> saturated({"sim_ns": 2**63 - 1, "events": 5})
    ['sim_ns']
    """
    from .numeric import SATURATED
    return [name for name, value in counters.items() if value >= SATURATED]


# ------------------------------------------------------------------ the C side
#: The counters as one typed record: one int64 field per name of :data:`COUNTERS`, in
#: order, so a record and an int64 array of ``len(COUNTERS)`` are the same bytes
#: (``counters.view(COUNTERS_DTYPE)``).  The compiled core writes the matching C struct.
COUNTERS_DTYPE = np.dtype([(name, "<i8") for name in COUNTERS])

#: Where the generated C layout lives, relative to the checkout root.
C_LAYOUT_PATH = "kernels_pyx/layout.pxd"


def _enum(prefix: str, names, start: int = 0, count: str | None = None) -> list[str]:
    lines = ["cdef enum:"]
    lines += [f"    {prefix}{_c_name(n)} = {i + start}" for i, n in enumerate(names)]
    if count:
        lines.append(f"    {count} = {len(names)}")
    return lines + [""]


def _c_name(text: str) -> str:
    """An upper-case C identifier for a name or a sentence ("reader and writer hold L" →
    READER_AND_WRITER_HOLD_L)."""
    import re
    return re.sub(r"[^0-9A-Za-z]+", "_", text).strip("_").upper()


def _c_struct(name: str, dtype, known: dict) -> list[str]:
    """A packed C struct mirroring a numpy structured dtype field for field (Cython checks
    the buffer format against it when a record is handed over)."""
    lines = [f"cdef packed struct {name}:"]
    for field in dtype.names:
        ftype = dtype.fields[field][0]
        dims = ""
        if ftype.subdtype is not None:
            ftype, shape = ftype.subdtype
            dims = "".join(f"[{n}]" for n in shape)
        if ftype in known:
            ctype = known[ftype]
        elif ftype == "<i8":
            ctype = "int64_t"
        elif ftype == "<f8":
            ctype = "double"
        else:                                       # pragma: no cover - a new field type
            raise TypeError(f"{name}.{field}: no C type for {ftype}")
        lines.append(f"    {ctype} {field}{dims}")
    return lines + [""]


#: Workload constants of :mod:`mcsim.scenario` the compiled core needs by name (§12).
_WORKLOAD_CONSTANTS = ("MAX_PROCESSES", "MAX_VMAS", "MAX_THREADS", "MAX_STEPS", "FAULT_MIXED",
                       "NO_VMA", "SCAN_START", "SCAN_END", "HOLD_DEFAULT", "MAX_TABLES",
                       "MAX_TABLE_POINTS", "DIST_EMPIRICAL")


def _buffer_format(dtype) -> str:
    """The PEP 3118 format numpy exports for a record of ``dtype``."""
    return memoryview(np.zeros(1, dtype=dtype)).format


def c_layout() -> str:
    """The text of ``kernels_pyx/layout.pxd``: the enums and packed structs the compiled
    core uses, generated from this module, :mod:`mcsim.policies`, :mod:`mcsim.scenario`,
    :mod:`mcsim.histogram` and :mod:`mcsim.numeric`, so the C side has no hand-numbered offset of its own.

    >>> text = c_layout()
    >>> "    M_HP_WAIT = 0" in text and "cdef packed struct Counters:" in text
    True
    """
    from . import histogram as hist, numeric, policies as pol, scenario as scn

    out = ["# Generated by `python -m mcsim.layout` from mcsim/layout.py, mcsim/policies.py,",
           "# mcsim/scenario.py, mcsim/histogram.py and mcsim/numeric.py: do not edit by hand",
           "# (a test regenerates it and compares).  The names and positions of everything the",
           "# engines share.",
           "from libc.stdint cimport int64_t", ""]
    out += _enum("M_", METRICS, count="N_METRICS")
    out += _enum("C_", COUNTERS, count="N_COUNTERS")
    out += _enum("T_", TRIAL_FIELDS, count="N_TRIAL_FIELDS")
    out += _enum("HA_", hist.ARRAYS, count="N_HIST_ARRAYS")
    out += _enum("HS_", hist.INT_SCALARS, count="N_HIST_SCALARS")
    out += _enum("HF_", hist.FLOAT_SCALARS, count="N_HIST_FLOATS")
    out += _enum("LANE_", LANES, count="N_LANES")
    out += ["cdef enum:", f"    BL_NONE = {pol.BL_NONE}"] + _enum("BL_", pol.BLAME_NAMES,
                                                                  count="N_BLAME")[1:]
    out += _enum("FK_", pol.FAULT_KINDS, count="N_KINDS")
    out += _enum("COL_", pol.STEP_COLUMNS, count="N_COLUMNS")
    out += _enum("OP_", pol.OP_NAMES, count="N_OPS")
    args = [n[4:] for n in sorted((n for n in dir(pol) if n.startswith("ARG_")),
                                  key=lambda n: getattr(pol, n))]
    assert [getattr(pol, "ARG_" + a) for a in args] == list(range(len(args)))
    out += _enum("ARG_", args, count="N_ARGS")
    out += _enum("TK_", scn.TASK_KINDS, count="N_TASK_KINDS")
    out += _enum("LOCK_", ("mmap", "vma"))
    out += _enum("TRIAL_", scn.TRIAL_KINDS)
    out += ["cdef enum:"] + [f"    {name} = {getattr(scn, name)}" for name in _WORKLOAD_CONSTANTS]
    out += [""]
    out += _enum("INV_", numeric.INVARIANTS, start=1, count="N_INVARIANTS")
    out += ["cdef enum:", f"    MAX_PROGRAM = {pol.MAX_PROGRAM}",
            f"    MAX_HP_ACQUISITIONS = {numeric.MAX_HP_ACQUISITIONS}",
            f"    REREAD_LEN = {len(pol.REREAD_PROGRAM)}", ""]
    reread = ", ".join("{" + ", ".join(str(x) for x in step) + "}"
                       for step in pol.REREAD_PROGRAM)
    out += ["cdef extern from *:", '    """',
            "    /* The retry pass's re-read steps (op, col, blame, arg), and the names",
            "       the core reports in, comma-separated. */",
            f"    static const int64_t MCSIM_REREAD_PROGRAM[{len(pol.REREAD_PROGRAM)}][4] = "
            f"{{{reread}}};",
            f'    static const char MCSIM_METRIC_NAMES[] = "{",".join(METRICS)}";',
            f'    static const char MCSIM_COUNTER_NAMES[] = "{",".join(COUNTERS)}";',
            f'    static const char MCSIM_TRIAL_FIELDS[] = "{",".join(TRIAL_FIELDS)}";',
            "    /* The buffer format of a scenario record (PEP 3118, as numpy writes it):",
            "       the core compares it, since Cython's own check cannot parse arrays of",
            "       structs inside a struct. */",
            f'    static const char MCSIM_SCENARIO_FORMAT[] = "{_buffer_format(scn.SCENARIO_DTYPE)}";',
            '    """',
            f'    const int64_t REREAD_PROGRAM "MCSIM_REREAD_PROGRAM"[{len(pol.REREAD_PROGRAM)}][4]',
            '    const char* METRIC_NAMES_CSV "MCSIM_METRIC_NAMES"',
            '    const char* COUNTER_NAMES_CSV "MCSIM_COUNTER_NAMES"',
            '    const char* TRIAL_FIELDS_CSV "MCSIM_TRIAL_FIELDS"',
            '    const char* SCENARIO_FORMAT "MCSIM_SCENARIO_FORMAT"', ""]
    known = {scn.DIST_DTYPE: "DistSpec"}
    out += _c_struct("DistSpec", scn.DIST_DTYPE, {})
    out += _c_struct("ThreadSpec", scn.THREAD_DTYPE, known)
    out += _c_struct("StepSpec", scn.STEP_DTYPE, known)
    known.update({scn.THREAD_DTYPE: "ThreadSpec", scn.STEP_DTYPE: "StepSpec"})
    out += _c_struct("Scenario", scn.SCENARIO_DTYPE, known)
    out += _c_struct("TaskRow", scn.TASK_DTYPE, known)
    out += _c_struct("Counters", COUNTERS_DTYPE, known)
    return "\n".join(out).rstrip("\n") + "\n"


def write_c_layout(path: str) -> bool:
    """Write :func:`c_layout` to ``path``; True if the file changed."""
    from pathlib import Path
    text = c_layout()
    p = Path(path)
    if p.is_file() and p.read_text() == text:
        return False
    p.write_text(text)
    return True


if __name__ == "__main__":
    import argparse
    cli = argparse.ArgumentParser(prog="python -m mcsim.layout",
                                  description="Regenerate the core's layout.pxd from this module.")
    cli.add_argument("target", nargs="?", default=C_LAYOUT_PATH,
                     help="where to write it (default: %(default)s)")
    target = cli.parse_args().target
    print(("wrote " if write_c_layout(target) else "unchanged: ") + target)
