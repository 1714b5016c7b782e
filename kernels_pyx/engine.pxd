# The compiled engine's internal state.  The records it shares with Python (Scenario,
# TaskRow, Counters) and every enum of names and positions come from layout.pxd, which
# `python -m mcsim.layout` generates from mcsim/layout.py, mcsim/scenario.py and
# mcsim/policies.py; Cython checks the buffer format of each record on entry.
from libc.stdint cimport int8_t, int32_t, int64_t, uint32_t, uint64_t
from numpy.random cimport bitgen_t

from hist cimport Hist
from layout cimport (MAX_HP_ACQUISITIONS, MAX_PROGRAM, MAX_THREADS, N_BLAME, N_COLUMNS,
                     N_KINDS, N_LANES, N_METRICS, N_TRIAL_FIELDS, Counters, Scenario)

cdef extern from *:
    # The core's own copy of a numpy PCG64DXSM state (numpy's pcg64_state, flattened);
    # engine_random.pxi steps it (see the comment there for why).
    """
    typedef struct {
        unsigned __int128 state, inc;
        int has_uint32;
        uint32_t uinteger;
    } mcsim_pcg64;
    """
    ctypedef struct mcsim_pcg64:
        int has_uint32
        uint32_t uinteger

cdef enum:
    MAX_PROG = 1 + MAX_PROGRAM      # a pass's lookup CPU step, then its program
    MAX_WAITS = MAX_HP_ACQUISITIONS # waits a scripted task reports (faults make <= 3)

cdef struct Event:
    int64_t t
    int64_t seq
    int32_t kind
    int32_t task
    int32_t arg

cdef struct NowRun:                 # an EV_RUN at now, arg 0 (wake_now)
    int64_t seq
    int32_t task

cdef struct Op:
    int8_t op
    int8_t col
    int8_t blame
    int8_t arg

cdef struct Fifo:
    int32_t* items
    int64_t head
    int64_t len
    int64_t cap

cdef struct Proc:
    # One process's mmap lock L_p and its inversion clock (docs/model.md §12.1)
    Fifo lockq              # entries are task * 2 + mode (0 read, 1 write)
    int64_t nreaders
    int32_t writer
    int32_t handoff
    int64_t nblocked[N_BLAME + 1]
    int64_t integral[N_BLAME + 1]
    int64_t last[N_BLAME + 1]

cdef struct Vma:
    # One VMA's lock V_v (§11.2, §12.1)
    int64_t readers
    int32_t writer                  # the write-locker (a same-VMA writer holding L), or -1
    int32_t waiter                  # a writer sleeping in vma_start_write(), or -1
    int32_t woken                   # that writer was woken, not yet run
    int32_t process                 # the process owning the VMA (vma_process)

cdef struct ThreadRt:
    # A closed-loop thread as it runs (§12.2): its next step, its iteration and its scan
    int64_t scan_t0, scan_wait      # the scan's first request; its reads' hp_wait so far
    int32_t step, first, end        # steps[first:end] is the program; step the next one
    int32_t iter_counted            # the current iteration's first step was counted
    int32_t in_scan, scan_counted
    int32_t keeps_cpu               # a step ended with think 0: the thread kept its CPU (§14.1)
    int32_t cpu_home                # cpu_affinity > 0: 1 + the CPU its steps last ran on, or
                                    # 0 (none yet), kept across its steps (§14.7)
    # timer_slack > 0 (§14.8): the thread's pending step event is the one with arg ==
    # step_arg (-1: spent, fired early by another's timer); its timer, armed on CPU
    # timer_cpu (-1: none) as the timer_order-th arming, expires at timer_soft
    int64_t timer_soft
    int32_t step_arg, timer_cpu, timer_order

cdef struct Task:
    # new_task stores the start values by runs of one type, each contiguous and in this
    # order, so that the compiler merges their stores (16 bytes at a time).  Both builds
    # store bio to inverted and kind to pc; the plain build writes each of the others
    # before it reads it, or never reads it, or init_slots set it once per slot (see
    # new_task).  hold..minor: what the arrival drew or the script stated; bio..evict_bio:
    # a fault program's operands (zeroed whatever the record's programs read)
    int64_t wait_sum                # HP: the read's acquisition waits so far
    int64_t hold, cpu, minor
    int64_t bio, mkwrite, dirty, evict_bio
    int32_t acq
    int32_t holding                 # holds L (the only lock the inversion clock counts)
    int32_t vma_held                # holds V for read (a fault pass)
    int32_t tried, dirty_retry
    int32_t woken, waiting_page
    int32_t inverted                # the acquisition was judged an inversion at its grant
    int32_t ip, nprog, dropped, completed, major, nwaits, same_vma
    int32_t on_cpu                  # holds a CPU (cpus > 0, §14.1)
    int32_t queued                  # waits in the run queue (§14.2)
    int32_t cpu_home                # cpu_affinity > 0: 1 + the CPU it holds or last ran on,
                                    # 0: none yet (§14.7); unused otherwise
    int32_t kind, passes, blocked, page_ready, page_waiter
    int32_t lock                    # LOCK_MMAP / LOCK_VMA: the lock of this pass or acquisition
    int32_t fault, pc
    int32_t fallback
    int32_t thread                  # the closed-loop thread running it, or -1 (open stream)
    int32_t counted                 # started inside the window: records metrics (§12.3)
    int32_t step                    # its step in Scenario.steps (threads only)
    int64_t evicted, revalidate_fail, done
    Proc* proc                      # the process whose L it takes
    Vma* vm                         # the VMA it faults on or changes (same_vma writers)
    # new_task leaves these as it finds them: each is written before it is read (see
    # there): the admission, a request (a lock's or the gate's), a grant, a pass's end
    int64_t t_arrive, t_req, t_grant, t_pass_end
    int64_t t_runnable              # when it entered the run queue
    int64_t lead                    # a thread's fault step: CPU work before its first pass
                                    # (§14.6); set by step_start, read for thread tasks only
    int64_t snap[N_BLAME + 1]
    int64_t lane_start[N_LANES]
    int64_t waits[MAX_WAITS]
    Op prog[MAX_PROG]
    # Padding to 512 bytes (456 without it): indexing s.tasks, done at nearly every step
    # of the state machine, is then one shift, not a multiply by 7 and a shift.
    # engine_events.pxi checks the size when it compiles.
    int64_t pad[7]

cdef struct Sim:
    const Scenario* sc
    bitgen_t* rng                   # own_rng on the PCG64DXSM fast path, else numpy's
    int32_t fast_rng                # draws step pcg inline (the block's generator is PCG64DXSM)
    mcsim_pcg64 pcg                 # the fast path's stream: numpy's state, written back
    bitgen_t own_rng                # pcg behind numpy's interface, for its ziggurat draws
    Counters* counters
    # the kernel row, unpacked once per block
    int32_t policy[N_COLUMNS]
    int32_t handoff_rule, wake_all_readers, reader_steal
    int32_t keeps_page, dirty_completes, first_lock, retry_lock, tried_on_major
    int32_t vma_writers, hp_acquisitions, hp_lock
    Op programs[N_KINDS][MAX_PROGRAM]
    int32_t prog_len[N_KINDS]
    int32_t major[N_KINDS]
    int32_t page_bio[N_KINDS]
    int32_t write_kind[N_KINDS]
    Op reread[MAX_PROGRAM]
    int32_t reread_len
    int64_t depth, wake, jiffy_ns, handoff_jiffies
    int64_t jitter_const             # a const wake_jitter (also inside wake), else 0
    int32_t jitter                   # wake_jitter is drawn at every wake-up (not const)
    int32_t cpu_const               # fault_cpu and minor_cpu are both const: a fault's
    int64_t fault_cpu_ns, minor_cpu_ns  # arrival copies their ns, computed once per block
    int64_t base                    # simulated time of the block before this trial (jiffies)
    int64_t clock_restart           # reset_cycle zeroes the inversion clocks when base reaches it
    int64_t now, seq
    int64_t max_time                # MAX_TIME_NS (schedule compares with it in memory: GCC
                                    # built the 64-bit constant at each inlined site)
    Event* heap
    int64_t nheap, capheap
    int64_t arr_t, arr_seq  # the pending random arrival, kept beside the heap (t: INT64_MAX if none)
    NowRun* nowq                    # pending runs at now (wake-ups with wake 0) beside the
    int64_t nowq_head, nowq_end     # heap, first in first out (wake_now); capheap of them
    int64_t pending_high            # the most events pending so far in this Sim (<= the counter)
    int64_t heap_quiet              # schedule's push onto a heap of at most this many events
                                    # needs neither growth nor note_pending (quiet_update)
    Task* tasks
    int32_t ntasks, captasks
    int32_t* free_ids
    int32_t nfree
    int32_t reuse_ids
    int64_t alive, inflight
    Fifo gate
    int64_t cpus, idle              # CPUs (0: one per task) and the idle ones (§14)
    int32_t serve                   # cpus > 0 and io_cpu not const 0: every issued bio
                                    # wakes a server context (§14.6)
    Fifo runq                       # the machine's run queue of CPU contexts (§14.2)
    # Per-CPU run queues (§14.7), with cpus > 0 and cpu_affinity > 0 only (s.affine)
    int32_t affine
    int32_t waker_cpu               # the CPU of the context whose event runs now, or -1
    double affinity                 # cpu_affinity: a busy target keeps a wakee this often
    int32_t* cpu_busy               # [cpus]: 1 while a context (or a thread) holds the CPU
    Fifo* cpu_queues                # [cpus]: each CPU's run queue
    # Timers coalesced per CPU (§14.8), with s.affine and timer_slack > 0 only (s.timers)
    int32_t timers
    int32_t timer_arms              # the trial's step events armed so far (their arg)
    int32_t group_cpu               # during one firing's wakees: its CPU, else -1
    int32_t group_placed            # contexts of that firing placed so far
    Proc* procs                     # n_procs processes, each with its L (§12.1)
    Vma* vmas                       # n_vmas VMAs (at least one slot), each with its V
    int32_t n_procs, n_vmas, n_threads
    ThreadRt threads[MAX_THREADS]
    int64_t count_from, count_to    # tasks starting in [count_from, count_to) are counted
    uint64_t count_span             # count_to - count_from (>= 0): new_task's one compare
    int64_t counted_alive           # counted tasks not finished (a window trial's end)
    int64_t counted_open            # counted scans and iterations not ended (the same)
    Hist hists[N_METRICS]
    # The plain build's zeroed spare arrays (hist.pxd): the hists' ones, N_METRICS *
    # N_BUCKETS, then, with hp_acquisitions 1, the hp_wait/hp_acq_wait pair's sums, 3 *
    # N_BUCKETS (hist_twin_start).  A block leaves them zeroed again, so a caller running
    # several blocks passes the same ones to each (own_spare 0); NULL in the general build.
    int64_t* spare
    int32_t own_spare               # sim_init allocated spare: sim_free frees it
    int64_t trial[N_TRIAL_FIELDS]
    int32_t trial_rows              # run_trials was given rows: s.trial is kept (else the
                                    # per-trial sums are skipped: nothing reads them)
    int64_t* timeline
    int64_t ntimeline, captimeline
    int32_t record_timeline         # a script (run_script): the timeline and each task's waits
    int32_t error
    # The cycle loop's one test per event: events >= stop_events.  The trial's event limit,
    # or 0 once an error is set (fail()), so the loop needs no separate test of error.
    int64_t stop_events
    # The histograms' trial bookkeeping: only the metrics that got a sample are closed at
    # a trial's end, and every Hist counts the block's trials at its end (hists_settle).
    uint64_t hist_touched           # bit m: metric m got a sample in the open trial
                                    # (so N_METRICS <= 64)
    int64_t hist_trials             # trials ended in this block
