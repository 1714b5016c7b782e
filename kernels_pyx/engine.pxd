# The compiled engine's typed boundary: C structs that mirror the numpy dtypes in
# mcsim/scenario.py field for field (Cython checks the buffer format on entry).
from libc.stdint cimport int8_t, int32_t, int64_t
from numpy.random cimport bitgen_t

from hist cimport Hist

cdef packed struct DistSpec:
    int64_t kind            # 0 const(a), 1 exp(mean a), 2 lognormal(median a, sigma b)
    double a
    double b

cdef packed struct Scenario:
    int64_t era
    int64_t lp_depth
    int64_t wake_ns
    int64_t handoff_ns
    int64_t max_readers_wakeup
    int64_t max_trial_events
    int64_t policy[6]
    double arrival_mean_ns
    double cut_hp
    double cut_lp
    double writer_ratio
    double write_fault_ratio
    double p_mkwrite_slow
    double cut_miss
    double cut_async_ra
    double cut_locked
    double evict_per_ns
    double revalidate_fail
    DistSpec hp_hold
    DistSpec writer_hold
    DistSpec fault_cpu
    DistSpec minor_cpu
    DistSpec mkwrite_fast
    DistSpec device

cdef packed struct TaskRow:
    int64_t at
    int64_t kind
    int64_t fault
    int64_t hold
    int64_t cpu
    int64_t minor
    int64_t bio
    int64_t mkwrite
    int64_t evicted
    int64_t evict_bio
    int64_t revalidate_fail

cdef enum:
    N_METRICS = 10
    N_TRIAL_FIELDS = 11
    N_BLAME = 5
    N_LANES = 4
    MAX_PROG = 4

cdef struct Event:
    int64_t t
    int64_t seq
    int32_t kind
    int32_t task
    int32_t arg

cdef struct Op:
    int8_t op
    int8_t col
    int8_t blame
    int8_t arg

cdef struct Task:
    int64_t hold, cpu, minor, bio, mkwrite, evicted, evict_bio, revalidate_fail
    int64_t t_arrive, t_req, t_grant, t_pass_end, done
    int64_t snap[6]
    int64_t lane_start[4]
    int64_t waits[2]
    int32_t kind, fault, pc, passes, ip, nprog
    int32_t holding, dropped, woken, blocked, page_ready, waiting_page, page_waiter, nwaits
    Op prog[4]

cdef struct Fifo:
    int32_t* items
    int64_t head
    int64_t len
    int64_t cap

cdef struct Sim:
    const Scenario* sc
    bitgen_t* rng
    int32_t policy[6]
    int64_t era, depth, wake
    int64_t now, seq
    Event* heap
    int64_t nheap, capheap
    int64_t arr_t, arr_seq  # the pending random arrival, kept beside the heap
    int32_t arr_pending
    Task* tasks
    int32_t ntasks, captasks
    int32_t* free_ids
    int32_t nfree
    int32_t reuse_ids
    int64_t alive, inflight
    Fifo gate
    Fifo lockq              # entries are task * 2 + mode (0 read, 1 write)
    int32_t writer
    int64_t nreaders
    int32_t handoff
    int64_t nblocked[6]
    int64_t integral[6]
    int64_t last[6]
    Hist hists[10]
    int64_t* counters
    int64_t trial[11]
    int64_t* timeline
    int64_t ntimeline, captimeline
    int32_t record_timeline
    int32_t error
