# mcsim._engine: the compiled simulation core.
#
# A line-for-line twin of mcsim/reference.py (read that first: it is the readable
# specification, and tests hold the two to identical results for the same seed).
# Everything below the Python entry points is C: structs, arrays and `noexcept nogil`
# functions, so the event loop creates no Python object, allocates nothing per event
# (buffers grow by doubling and are reused) and never raises.

include "build_info.pxi"

import numpy as np

from cpython.pycapsule cimport PyCapsule_GetPointer
from libc.math cimport exp
from libc.stdint cimport INT64_MAX, int8_t, int32_t, int64_t
from libc.stdlib cimport free, malloc, realloc
from libc.string cimport memset
from numpy.random cimport bitgen_t
from numpy.random.c_distributions cimport (random_standard_exponential,
                                           random_standard_normal, random_standard_uniform)

from engine cimport (DistSpec, Event, Fifo, MAX_PROG, N_BLAME, N_LANES, N_METRICS,
                     N_TRIAL_FIELDS, Op, Scenario, Sim, Task, TaskRow)
from hist cimport HIST_OK, N_BUCKETS, Hist, hist_end_trial, hist_free, hist_init, hist_record
from numeric cimport MAX_DRAW_NS, MAX_TIME_NS, sat_add

# ---- constants shared with mcsim/layout.py, mcsim/policies.py, mcsim/reference.py ----
cdef enum:
    EV_ARRIVAL = 0
    EV_RUN = 1
    EV_BIO_DONE = 2
cdef enum:      # BIO_DONE arg: what a completion does besides freeing the slot
    BIO_NOTIFY_NONE = 0
    BIO_WAKE_OWNER = 1
    BIO_BG = 2
cdef enum:
    PC_LOCK = 0
    PC_GATE = 1
    PC_OP = 2
    PC_WAITED = 3
    PC_HOLD_DONE = 4
cdef enum:
    TK_HP = 0
    TK_WRITER = 1
    TK_FAULT = 2
    TK_BG = 3
cdef enum:
    FK_HIT = 0
    FK_MISS = 1
    FK_ASYNC_RA = 2
    FK_LOCKED = 3
    FK_MKWRITE_FAST = 4
    FK_MKWRITE_SLOW = 5
cdef enum:
    OP_CPU = 0
    OP_SUBMIT = 1
    OP_WAIT_IO = 2
    OP_WAIT_PAGE = 3
cdef enum:
    BL_NONE = -1
    BL_PASS2_READ = 3
cdef enum:
    ARG_NONE = 0
    ARG_BIO = 1
    ARG_MKWRITE = 2
    ARG_CPU = 3
    ARG_MINOR = 4
    ARG_EVICT_BIO = 5
cdef enum:
    M_HP_WAIT = 0
    M_INVERSION_WAIT = 1
    M_FAULT_LATENCY = 2
    M_FAULT_PASSES = 3
    M_WRITER_WAIT = 4
    M_HOLD_HP = 5
    M_HOLD_FAULT = 6
    M_HOLD_WRITER = 7
    M_GATE_WAIT = 8
    M_FAULT_LOCK_WAIT = 9
cdef enum:
    C_TRIALS = 0
    C_EVENTS = 1
    C_SIM_NS = 2
    C_BUSY_NS = 3
    C_HP_READS = 4
    C_WRITES = 5
    C_FAULTS = 6
    C_BG_BIOS = 7
    C_LOCK_ACQ = 8
    C_BIOS = 9
    C_RETRIES = 10
    C_EVICTIONS = 11
    C_REVALIDATE_FAILS = 12
    C_HANDOFFS = 13
    C_READER_STEALS = 14
    C_WRITER_STEALS = 15
    C_INVERSIONS = 16
    C_BLAME0 = 17
    C_FAULT_KIND0 = 22
    C_MAX_PENDING = 28
    C_MAX_TRIAL_EVENTS = 29
    C_BUFFER_GROWTHS = 30
    N_COUNTERS = 31
cdef enum:
    T_EVENTS = 0
    T_BUSY = 1
    T_IDLE = 2
    T_HP_READS = 3
    T_HP_WAIT_SUM = 4
    T_HP_WAIT_MAX = 5
    T_FAULTS = 6
    T_FAULT_LAT_SUM = 7
    T_WRITES = 8
    T_WRITER_WAIT_SUM = 9
    T_INVERSIONS = 10
cdef enum:
    LANE_WAIT = 0
    LANE_HOLD = 1
    LANE_GATE = 2
    LANE_IO = 3
cdef enum:
    ERR_NOMEM = 1
    ERR_TRIAL_TOO_LONG = 2
    ERR_HIST = 3
    ERR_PENDING_IN_EMPTY = 4
    ERR_TIME_LIMIT = 5
    ERR_INVARIANT = 100       # + the code of the broken invariant below
cdef enum:      # invariant codes: 1 + their index in mcsim.numeric.INVARIANTS
    INV_READER_AND_WRITER = 1
    INV_RANGE = 2
    INV_NOBODY_WOKEN = 3
    INV_GATE_SLOT_FREE = 4
    INV_OLD_ERA_RULES = 5
    INV_READER_FOR_NOTHING = 6
    INV_HANDOFF_EMPTY = 7

METRIC_NAMES = ("hp_wait", "inversion_wait", "lp_fault_latency", "fault_passes",
                "writer_wait", "hold_hp", "hold_fault", "hold_writer", "gate_wait",
                "fault_lock_wait")
N_COUNTER_SLOTS = N_COUNTERS

# Pass-1 fault programs, filled from mcsim.policies.program_table() on first use.
cdef Op PROGRAMS[6][2]
cdef int32_t PROGRAM_LEN[6]

include "engine_core.pxi"
include "engine_api.pxi"
