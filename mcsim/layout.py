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

from .policies import BLAME_NAMES, FAULT_KINDS

#: Histogram metrics (all in nanoseconds except ``fault_passes``).
METRICS = (
    "hp_wait",            # HP read(): the sum of its acquisitions' waits (the headline)
    "inversion_wait",     # an HP acquisition's wait, when it was an inversion (model.md §7.13)
    "lp_fault_latency",   # fault arrival → fault done, all passes
    "fault_passes",       # passes per fault (1 or 2)
    "writer_wait",        # LP writer: request → running with L
    "hold_hp",            # L hold by an HP reader (grant → release)
    "hold_fault",         # L hold by one fault pass (grant → drop or release)
    "hold_writer",        # L hold by a writer
    "gate_wait",          # an LP bio's wait for an io.latency slot (0 when one was free)
    "fault_lock_wait",    # a fault pass's wait for L (request → running with L)
    "hp_acq_wait",        # one HP lock acquisition: request → running with the lock
    "hold_vma",           # per-VMA read lock held by one fault pass (grant → drop or release)
    "vma_writer_wait",    # a same-VMA writer's wait in vma_start_write() while holding L(W)
)
M_HP_WAIT, M_INVERSION_WAIT, M_FAULT_LATENCY, M_FAULT_PASSES, M_WRITER_WAIT, M_HOLD_HP, \
    M_HOLD_FAULT, M_HOLD_WRITER, M_GATE_WAIT, M_FAULT_LOCK_WAIT, M_HP_ACQ_WAIT, \
    M_HOLD_VMA, M_VMA_WRITER_WAIT = range(len(METRICS))

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
