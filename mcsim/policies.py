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

#: Policy columns, in the order of the scenario's ``policy`` flags (model.md §3).
STEP_COLUMNS = ("miss_submit", "miss_io", "ra_submit", "locked_wait", "mkwrite")
COL_MISS_SUBMIT, COL_MISS_IO, COL_RA_SUBMIT, COL_LOCKED_WAIT, COL_MKWRITE = range(5)


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
    locked: tuple[bool, bool, bool, bool, bool]
    keeps_page: bool

    def holds(self, column: str) -> bool:
        return self.locked[STEP_COLUMNS.index(column)]


L, DROP = True, False
POLICY_LIST = (
    Policy("hold", "no fault retry at all (before 2.6.37): every step under L, one pass",
           (L, L, L, L, L), keeps_page=False),
    Policy("stock-4.19", "the kernel the RFC patched: submit under L, drop only to wait "
           "for a locked page", (L, DROP, L, DROP, L), keeps_page=False),
    Policy("rfc-v1", "RFC v1: drop before all read-side IO; mkwrite retry never ran",
           (DROP, DROP, DROP, DROP, L), keeps_page=True),
    Policy("rfc-v2", "RFC v2: drop before all IO and ->page_mkwrite; page kept and "
           "re-validated", (DROP, DROP, DROP, DROP, DROP), keeps_page=True),
    Policy("upstream-5.1", "merged in 5.1 (6b4c9f446981): read side dropped, mkwrite "
           "under L, no page kept", (DROP, DROP, DROP, DROP, L), keeps_page=False),
)
POLICIES = {p.name: p for p in POLICY_LIST}

# --- fault kinds and their programs -------------------------------------------------------

FAULT_KINDS = ("hit", "miss", "async_ra", "locked", "mkwrite_fast", "mkwrite_slow")
(FK_HIT, FK_MISS, FK_ASYNC_RA, FK_LOCKED, FK_MKWRITE_FAST, FK_MKWRITE_SLOW) = range(6)

# Step opcodes of a fault program.
OP_CPU = 0          # on-CPU work for a fixed duration (the task keeps running)
OP_SUBMIT = 1       # submit the fault's bio through the io.latency gate (may sleep there)
OP_WAIT_IO = 2      # sleep until the fault's own bio completes
OP_WAIT_PAGE = 3    # sleep until another context's read of the page completes (page lock)
OP_NAMES = ("cpu", "submit", "wait_io", "wait_page")

# Blame: the blocking step an inversion is attributed to (model.md §7.13).
BLAME_NAMES = ("submit", "io", "locked_page", "pass2_read", "mkwrite")
(BL_SUBMIT, BL_IO, BL_LOCKED_PAGE, BL_PASS2_READ, BL_MKWRITE) = range(5)
BL_NONE = -1

# Operand of an op: which of the fault's durations it uses.
ARG_NONE, ARG_BIO, ARG_MKWRITE = 0, 1, 2

#: Pass-1 program of each fault kind after the lookup CPU work:
#: ``(opcode, policy column, blame kind, operand)``.
FAULT_PROGRAMS: dict[int, tuple[tuple[int, int, int, int], ...]] = {
    FK_HIT: (),
    FK_MISS: ((OP_SUBMIT, COL_MISS_SUBMIT, BL_SUBMIT, ARG_BIO),
              (OP_WAIT_IO, COL_MISS_IO, BL_IO, ARG_NONE)),
    FK_ASYNC_RA: ((OP_SUBMIT, COL_RA_SUBMIT, BL_SUBMIT, ARG_BIO),),
    FK_LOCKED: ((OP_WAIT_PAGE, COL_LOCKED_WAIT, BL_LOCKED_PAGE, ARG_NONE),),
    FK_MKWRITE_FAST: ((OP_CPU, COL_MKWRITE, BL_NONE, ARG_MKWRITE),),
    FK_MKWRITE_SLOW: ((OP_SUBMIT, COL_MKWRITE, BL_MKWRITE, ARG_BIO),
                      (OP_WAIT_IO, COL_MKWRITE, BL_MKWRITE, ARG_NONE)),
}
MAX_PROGRAM = 2


def policy_flags(name: str) -> tuple[int, ...]:
    """The policy row as integers, as stored in the compiled scenario."""
    p = POLICIES[name]
    return tuple(int(x) for x in p.locked) + (int(p.keeps_page),)


def program_table():
    """FAULT_PROGRAMS as an int64 array ``[kind, step, field]`` (field: op, col, blame, arg,
    padded with op = -1), the form the compiled engine consumes."""
    import numpy as np

    table = np.full((len(FAULT_KINDS), MAX_PROGRAM, 4), -1, dtype=np.int64)
    for kind, prog in FAULT_PROGRAMS.items():
        for i, step in enumerate(prog):
            table[kind, i] = step
    return table
