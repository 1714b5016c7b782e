"""Fault-path policies and fault programs, as rows of data.

A *policy* says, for each blocking step of the first fault pass, whether the step runs
holding the mmap lock ``L`` or whether ``L`` is dropped before it (the fault then finishes
pass 1 unlocked and returns ``VM_FAULT_RETRY``).  A *fault program* says which steps a fault
of a given kind performs and which policy column governs each step.  The fault state machine
in both engines only ever looks these tables up; there is no per-policy branch anywhere.

>>> POLICIES["stock-4.19"].holds("miss_submit"), POLICIES["stock-4.19"].holds("miss_io")
(True, False)
>>> [p.name for p in POLICY_LIST]
['hold', 'stock-4.19', 'rfc-v1', 'rfc-v2', 'upstream-5.1']
"""
from __future__ import annotations

from dataclasses import dataclass

#: Policy columns, in the order of the scenario's ``policy`` flags (model.md §3).  ``dirty``
#: is the dirty-throttling sleep at the end of a write fault (``fault_dirty_shared_page``,
#: model.md §11): under the lock before 5.5, dropped after (89b15332af7c).
STEP_COLUMNS = ("miss_submit", "miss_io", "ra_submit", "locked_wait", "mkwrite", "dirty")
COL_MISS_SUBMIT, COL_MISS_IO, COL_RA_SUBMIT, COL_LOCKED_WAIT, COL_MKWRITE, COL_DIRTY = range(6)


@dataclass(frozen=True)
class Policy:
    """One kernel behaviour: which pass-1 steps hold ``L`` and whether the page survives.

    ``locked`` has one flag per entry of :data:`STEP_COLUMNS` (True = the step runs under
    ``L``).  ``keeps_page`` is RFC v1/v2's ``vmf->cached_page``: the retry pass finds the
    page even if reclaim ran between the passes (policies without it re-read an evicted
    page on pass 2, under ``L``).
    """

    name: str
    stands_for: str
    locked: tuple[bool, bool, bool, bool, bool, bool]
    keeps_page: bool

    def holds(self, column: str) -> bool:
        return self.locked[STEP_COLUMNS.index(column)]


L, DROP = True, False
POLICY_LIST = (
    Policy("hold", "no fault retry at all (before 2.6.37): every step under L, one pass",
           (L, L, L, L, L, L), keeps_page=False),
    Policy("stock-4.19", "the kernel the RFC patched: submit under L, drop only to wait "
           "for a locked page", (L, DROP, L, DROP, L, L), keeps_page=False),
    Policy("rfc-v1", "RFC v1: drop before all read-side IO; mkwrite retry never ran",
           (DROP, DROP, DROP, DROP, L, L), keeps_page=True),
    Policy("rfc-v2", "RFC v2: drop before all IO and ->page_mkwrite; page kept and "
           "re-validated", (DROP, DROP, DROP, DROP, DROP, L), keeps_page=True),
    Policy("upstream-5.1", "merged in 5.1 (6b4c9f446981): read side dropped, mkwrite "
           "under L, no page kept", (DROP, DROP, DROP, DROP, L, L), keeps_page=False),
)
POLICIES = {p.name: p for p in POLICY_LIST}

# --- fault kinds and their programs -------------------------------------------------------

FAULT_KINDS = ("hit", "miss", "async_ra", "locked", "mkwrite_fast", "mkwrite_slow",
               "mkwrite_writeback")
(FK_HIT, FK_MISS, FK_ASYNC_RA, FK_LOCKED, FK_MKWRITE_FAST, FK_MKWRITE_SLOW,
 FK_MKWRITE_WRITEBACK) = range(7)
WRITE_FAULT_KINDS = (FK_MKWRITE_FAST, FK_MKWRITE_SLOW, FK_MKWRITE_WRITEBACK)

# Step opcodes of a fault program.
OP_CPU = 0          # on-CPU work for a fixed duration (the task keeps running)
OP_SUBMIT = 1       # submit the fault's bio through the io.latency gate (may sleep there)
OP_WAIT_IO = 2      # sleep until the fault's own bio completes
OP_WAIT_PAGE = 3    # sleep until another context's bio for the page completes (page lock,
                    # or writeback in ->page_mkwrite)
OP_SLEEP = 4        # sleep for a fixed duration (balance_dirty_pages); the column's drop
                    # happens even when the duration is 0
OP_NAMES = ("cpu", "submit", "wait_io", "wait_page", "sleep")

# Blame: the blocking step an inversion is attributed to (model.md §7.13, §11).
BLAME_NAMES = ("submit", "io", "locked_page", "pass2_read", "mkwrite", "writeback",
               "dirty_throttle", "vma_start_write")
(BL_SUBMIT, BL_IO, BL_LOCKED_PAGE, BL_PASS2_READ, BL_MKWRITE, BL_WRITEBACK,
 BL_DIRTY_THROTTLE, BL_VMA_START_WRITE) = range(8)
BL_NONE = -1

# Operand of an op: which of the task's durations it uses.
ARG_NONE, ARG_BIO, ARG_MKWRITE, ARG_CPU, ARG_MINOR, ARG_EVICT_BIO, ARG_DIRTY = range(7)

_DIRTY = (OP_SLEEP, COL_DIRTY, BL_DIRTY_THROTTLE, ARG_DIRTY)

#: Pass-1 program of each fault kind after the lookup CPU work:
#: ``(opcode, policy column, blame kind, operand)``.
FAULT_PROGRAMS: dict[int, tuple[tuple[int, int, int, int], ...]] = {
    FK_HIT: (),
    FK_MISS: ((OP_SUBMIT, COL_MISS_SUBMIT, BL_SUBMIT, ARG_BIO),
              (OP_WAIT_IO, COL_MISS_IO, BL_IO, ARG_NONE)),
    FK_ASYNC_RA: ((OP_SUBMIT, COL_RA_SUBMIT, BL_SUBMIT, ARG_BIO),),
    FK_LOCKED: ((OP_WAIT_PAGE, COL_LOCKED_WAIT, BL_LOCKED_PAGE, ARG_NONE),),
    FK_MKWRITE_FAST: ((OP_CPU, COL_MKWRITE, BL_NONE, ARG_MKWRITE), _DIRTY),
    FK_MKWRITE_SLOW: ((OP_SUBMIT, COL_MKWRITE, BL_MKWRITE, ARG_BIO),
                      (OP_WAIT_IO, COL_MKWRITE, BL_MKWRITE, ARG_NONE), _DIRTY),
    FK_MKWRITE_WRITEBACK: ((OP_WAIT_PAGE, COL_MKWRITE, BL_WRITEBACK, ARG_NONE), _DIRTY),
}
MAX_PROGRAM = 3

#: Per kind: pass 1 reads the faulting page from the device (``VM_FAULT_MAJOR``).
FAULT_MAJOR = {FK_MISS: True}
#: Per kind: another context's bio for the page enters the gate as the fault arrives (a
#: read that locked the page, or writeback in flight); the fault's OP_WAIT_PAGE waits for it.
FAULT_PAGE_BIO = {FK_LOCKED: True, FK_MKWRITE_WRITEBACK: True}

#: The retry pass re-reads a page that is not uptodate (evicted, or a ``p_retry_miss``
#: miss) with these steps; a TRIED pass runs them under its lock whatever the columns say.
REREAD_PROGRAM = ((OP_SUBMIT, COL_MISS_SUBMIT, BL_PASS2_READ, ARG_EVICT_BIO),
                  (OP_WAIT_IO, COL_MISS_IO, BL_PASS2_READ, ARG_NONE))


def policy_flags(name: str) -> tuple[int, ...]:
    """The policy row as integers: one flag per step column (1 = under the pass's lock)."""
    return tuple(int(x) for x in POLICIES[name].locked)


def program_table():
    """FAULT_PROGRAMS as an int64 array ``[kind, step, field]`` (field: op, col, blame, arg,
    padded with op = -1), the form the scenario record carries to the engines."""
    import numpy as np

    table = np.full((len(FAULT_KINDS), MAX_PROGRAM, 4), -1, dtype=np.int64)
    for kind, prog in FAULT_PROGRAMS.items():
        for i, step in enumerate(prog):
            table[kind, i] = step
    return table
