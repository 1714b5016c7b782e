# The compiled simulation core, included by engine.pyx (mcsim._engine, the general build)
# and by engine_plain.pyx (mcsim._engine_plain, the plain scenario family's build), which
# differ only in the C macro MCSIM_PLAIN each defines before including this file.
#
# A twin of mcsim/reference.py, organised by the same seams (the events and buffers, the
# rwsem L of each process, the io.latency gate, the per-VMA locks V, the fault passes, the
# HP reader's program, the closed-loop threads, the CPUs, the work outside the locks, the trial loop), each following docs/model.md; tests hold the two to identical
# results for the same seed.  Everything below the Python entry points is C: structs,
# arrays and `noexcept nogil` functions, so the event loop creates no Python object,
# allocates nothing per event (buffers grow by doubling and are reused) and never raises.
# The model data (the kernel row, the fault programs) arrive in the Scenario record; the
# names and positions shared with Python are generated into layout.pxd.  Besides one
# block (run_block), the core runs a chunk of blocks and merges outputs without the GIL
# (engine_merge.pxi), so that runs of one-trial window blocks scale over threads.


# PLAIN: this build runs only the plain scenario family (engine_family.pxi): the flags
# that family fixes are compile-time constants, and GCC drops the code they switch off.
cdef extern from *:
    bint PLAIN "MCSIM_PLAIN"

import numpy as np

from cpython.pycapsule cimport PyCapsule_GetPointer
from libc.math cimport INFINITY, NAN, exp
from libc.stdint cimport INT64_MAX, int8_t, int32_t, int64_t, uint64_t
from libc.stdlib cimport calloc, free, malloc, realloc
from libc.string cimport memset
from numpy.random cimport bitgen_t
from numpy.random.c_distributions cimport (random_standard_exponential,
                                           random_standard_normal, random_standard_uniform)

from engine cimport MAX_PROG, MAX_WAITS, Event, Fifo, NowRun, Op, Proc, Sim, Task, ThreadRt, Vma
from hist cimport (HIST_OK, N_BUCKETS, Hist, ctz64, hist_abandon_trial, opaque_ptr,
                   hist_close_trial, hist_close_trial_ones, hist_flush_ones, hist_free,
                   hist_init, hist_nn, hist_record_careful, hist_twin_start, hist_untwin,
                   hist_record_fast, unlikely)
from layout cimport *
from numeric cimport MAX_DRAW_NS, MAX_TIME_NS, sat_add

# ---- the core's own codes (not shared with Python) ----
cdef enum:
    EV_ARRIVAL = 0
    EV_RUN = 1
    EV_BIO_DONE = 2
    EV_STEP = 3               # a closed-loop thread's next step (task = the thread)
cdef enum:      # BIO_DONE arg: what a completion does besides freeing the slot
    BIO_NOTIFY_NONE = 0
    BIO_WAKE_OWNER = 1
    BIO_BG = 2
cdef enum:      # where a task resumes when it runs again
    PC_LOCK = 0
    PC_GATE = 1
    PC_OP = 2
    PC_WAITED = 3
    PC_HOLD_DONE = 4
    PC_SLEPT = 5
    PC_VMA = 6
    PC_START = 7              # an admitted arrival or step that waited for a CPU starts
    PC_SERVE = 8              # work outside the locks (§14.6, engine_outside.pxi): a
    PC_SERVE_END = 9          # server context runs / its CPU work ended;
    PC_LEAD = 10              # a thread's fault step's lead ended: its first pass starts
cdef enum:
    TK_SERVER = N_TASK_KINDS  # a server context (§14.6): no script's or step's kind
cdef enum:
    ERR_NOMEM = 1
    ERR_TRIAL_TOO_LONG = 2
    ERR_HIST = 3
    ERR_PENDING_IN_EMPTY = 4
    ERR_TIME_LIMIT = 5
    ERR_INVARIANT = 100       # + INV_* of the broken invariant (layout.pxd)

METRIC_NAMES = tuple(METRIC_NAMES_CSV.decode().split(","))
COUNTER_NAMES = tuple(COUNTER_NAMES_CSV.decode().split(","))
TRIAL_FIELD_NAMES = tuple(TRIAL_FIELDS_CSV.decode().split(","))
N_COUNTER_SLOTS = N_COUNTERS
MAX_SCRIPT_WAITS = MAX_WAITS

include "engine_family.pxi"
include "engine_random.pxi"
include "engine_events.pxi"
include "engine_cpus.pxi"
include "engine_rwsem.pxi"
include "engine_gate.pxi"
include "engine_vma.pxi"
include "engine_faults.pxi"
include "engine_hp.pxi"
include "engine_threads.pxi"
include "engine_timers.pxi"
include "engine_outside.pxi"
include "engine_trial.pxi"
include "engine_api.pxi"
include "engine_seed.pxi"
include "engine_merge.pxi"
