# Events and buffers (included by engine.pyx): the growable queues, the event heap,
# wake-ups, the task table and a scripted run's timeline (docs/model.md §4); the random
# draws are in engine_random.pxi.
# Mirrors the plumbing of mcsim/reference.py.

# GCC's inlining, where its heuristics choose badly for the event loop: the return types
# of a few functions carry an attribute (Cython has no syntax for one).
cdef extern from *:
    """
    #define mcsim_always_inline_void __attribute__((always_inline)) void
    #define mcsim_noinline_int __attribute__((noinline)) int
    """
    # inlined even past GCC's growth limit for the loop (called at every arrival)
    ctypedef void always_inline_void "mcsim_always_inline_void"
    # kept a function of its own: the state machine inlines into it, within GCC's growth
    # limit for one function (relative to the function's size, so a small caller would
    # stop inlining early)
    ctypedef int noinline_int "mcsim_noinline_int"


cdef extern from *:
    """
    /* (t, seq) of one event before another's, without a branch: both fields lie in
       [0, INT64_MAX], so their unsigned 128-bit concatenation orders as the pair does
       (GCC: cmp, sbb, setc). */
    static inline int mcsim_key_before(int64_t t1, int64_t seq1, int64_t t0, int64_t seq0) {
        return (((unsigned __int128)(uint64_t)t1 << 64) | (uint64_t)seq1)
             < (((unsigned __int128)(uint64_t)t0 << 64) | (uint64_t)seq0);
    }
    """
    int64_t key_before "mcsim_key_before"(int64_t t1, int64_t seq1, int64_t t0,
                                          int64_t seq0) nogil


cdef inline void fail(Sim* s, int err) noexcept nogil:
    """An error stops the run after the event that met it: the loops test stop_events."""
    s.error = err
    s.stop_events = 0


# ------------------------------------------------------------------ growable buffers
cdef inline void fifo_push(Sim* s, Fifo* q, int32_t item) noexcept nogil:
    cdef int32_t* grown
    cdef int64_t i
    if q.head + q.len == q.cap:
        if q.head > 0:                       # slide down before growing
            for i in range(q.len):
                q.items[i] = q.items[q.head + i]
            q.head = 0
        else:
            grown = <int32_t*>realloc(q.items, 2 * q.cap * sizeof(int32_t))
            if grown == NULL:
                fail(s, ERR_NOMEM)
                return
            q.items = grown
            q.cap *= 2
            s.counters.buffer_growths += 1
    q.items[q.head + q.len] = item
    q.len += 1


cdef inline int32_t fifo_pop(Fifo* q) noexcept nogil:
    cdef int32_t item = q.items[q.head]
    q.head += 1
    q.len -= 1
    if q.len == 0:
        q.head = 0
    return item


cdef inline int fifo_init(Fifo* q, int64_t cap) noexcept nogil:
    q.items = <int32_t*>malloc(cap * sizeof(int32_t))
    q.head = 0
    q.len = 0
    q.cap = cap
    return 0 if q.items != NULL else -1


# ------------------------------------------------------------------ event queue
cdef inline void note_pending(Sim* s, int64_t nheap) noexcept nogil:
    # nheap is s.nheap.  s.pending_high (0 from sim_init) never exceeds the counter, so
    # only a new high for this Sim can raise it: the common case reads no Counters.
    # (+1 with an arrival pending, + the runs at now)
    cdef int64_t n = nheap + (s.arr_t != INT64_MAX) + s.nowq_end - s.nowq_head
    if n > s.pending_high:
        s.pending_high = n
        quiet_update(s)
        if n > s.counters.max_pending_events:
            s.counters.max_pending_events = n


cdef inline void quiet_update(Sim* s) noexcept nogil:
    """After pending_high or capheap changed: a push onto a heap of n <= heap_quiet
    events leaves room (n < capheap) and no new high (n + 1 + (0 or 1 arrival) <= n + 2 <=
    pending_high), so schedule tests the two with one comparison.  The runs at now
    pending beside the heap (wake_now) count in both (the heap's capacity stands for all
    pending events but the arrival, as when they were in the heap): heap_quiet is one less
    for each slot of the queue used since it was last empty (nowq_end >= the runs), so
    the same test also sends a push onto a full queue (nowq_end == capheap) to
    nowq_room."""
    s.heap_quiet = min(s.capheap - 1, s.pending_high - 2) - s.nowq_end


cdef noinline_int heap_room(Sim* s, int64_t n) noexcept nogil:
    """schedule's push onto a heap of n > heap_quiet events (rare, out of line): grow
    it if full (with the runs at now), note the count it will have; 0 when out of
    memory."""
    if n + s.nowq_end - s.nowq_head == s.capheap and not grow_heap(s):
        return 0
    note_pending(s, n + 1)
    return 1


cdef inline void schedule(Sim* s, int64_t t, int32_t kind, int32_t task, int32_t arg) noexcept nogil:
    # t is now + a delay; now <= MAX_TIME_NS and every delay <= 2 * MAX_DRAW_NS (draws
    # are clamped, wake_ns and script rows checked on entry; a wake-up adds a jitter draw
    # to wake or to a sleep), so t itself cannot overflow.
    cdef Event* heap
    cdef Event* ev
    cdef int64_t i, parent, n
    if t > s.max_time:                        # (MAX_TIME_NS)
        fail(s, ERR_TIME_LIMIT)
        return
    if kind == EV_ARRIVAL and task < 0:
        # The random-mode arrival: exactly one is pending at any time, so it waits in a
        # slot of its own beside the heap (pop_event compares the two by (t, seq)).  No
        # note_pending: arrive() schedules the next arrival right after its own was
        # popped, before anything else is scheduled, so the count returns to one already
        # noted; a trial's first arrival is noted by schedule_first_arrival.
        s.arr_t = t
        s.arr_seq = s.seq
        s.seq += 1
        return
    # The heap's pointer and size in locals: the stores into the heap could alias s (no
    # strict aliasing), and GCC would reload them at every step.
    n = s.nheap
    if n > s.heap_quiet and not heap_room(s, n):
        return
    heap = s.heap
    s.nheap = n + 1
    # Sift the hole up.  The new event's seq exceeds every pending one's (seq only grows,
    # and a trial starts with an empty heap), so it goes before a parent iff its t is
    # smaller: t alone decides.  Its fields are then written in place.
    i = n
    if i > 0:                                 # (an empty heap, half the pushes on the
        parent = (i - 1) >> 1                 # reference scenario, skips the loop)
        while t < heap[parent].t:
            heap[i] = heap[parent]
            i = parent
            if i == 0:
                break
            parent = (i - 1) >> 1
    ev = &heap[i]
    ev.t = t
    ev.seq = s.seq
    ev.kind = kind
    ev.task = task
    ev.arg = arg
    s.seq += 1


cdef bint grow_heap(Sim* s) noexcept nogil:
    """The heap is full: double it (out of line, rare); False when out of memory."""
    cdef Event* grown = <Event*>realloc(s.heap, 2 * s.capheap * sizeof(Event))
    cdef NowRun* runs
    if grown == NULL:
        fail(s, ERR_NOMEM)
        return False
    s.heap = grown
    runs = <NowRun*>realloc(s.nowq, 2 * s.capheap * sizeof(NowRun))
    if runs == NULL:
        fail(s, ERR_NOMEM)
        return False
    s.nowq = runs
    s.capheap *= 2
    s.counters.buffer_growths += 1
    quiet_update(s)
    return True


cdef inline void schedule_first_arrival(Sim* s) noexcept nogil:
    """A trial's first random arrival, at 0 (see schedule for why only it is noted)."""
    schedule(s, 0, EV_ARRIVAL, -1, 0)
    note_pending(s, s.nheap)


cdef noinline_int nowq_room(Sim* s) noexcept nogil:
    """wake_now's push past heap_quiet (rare, out of line): the queue's runs slid to
    its start if its end is the array's, then as heap_room."""
    cdef int64_t i, k = s.nowq_end - s.nowq_head
    if s.nowq_end == s.capheap and s.nowq_head > 0:
        for i in range(k):
            s.nowq[i] = s.nowq[s.nowq_head + i]
        s.nowq_head = 0
        s.nowq_end = k
        quiet_update(s)
    if s.nheap + k == s.capheap and not grow_heap(s):
        return 0
    note_pending(s, s.nheap + 1)
    return 1


cdef inline void wake_now(Sim* s, int32_t t, int64_t delay) noexcept nogil:
    """Task t runs at now + delay, delay >= 0 (a wake-up's).  With delay 0 (wake 0, the
    default, and no jitter) it waits beside the heap, in a queue of runs at now (on
    throttled 28% of the heap's pushes were such runs, each climbing to the heap's root
    and sifted out of it again at once).  Every pending time is >= now, so a run at now
    pops before any later event, and the queue is empty again before now moves on: all
    its runs are at the same now, in the order of their seq, and pop_event compares only
    the first.  Its time, now, needs no limit test (now <= MAX_TIME_NS)."""
    cdef NowRun* run
    if delay != 0:
        schedule(s, s.now + delay, EV_RUN, t, 0)
        return
    # The same test as a push onto the heap's (its growth and the pending count treat
    # the queue's runs as the heap's events, so both happen where they did)
    if s.nheap > s.heap_quiet and not nowq_room(s):
        return
    s.heap_quiet -= 1                         # (quiet_update: one less for each slot)
    run = &s.nowq[s.nowq_end]
    run.seq = s.seq
    run.task = t
    s.nowq_end += 1
    s.seq += 1


cdef inline Event take_now_run(Sim* s) noexcept nogil:
    """pop_event's take of the first run at now."""
    cdef Event top
    cdef NowRun* run = &s.nowq[s.nowq_head]
    top.t = s.now
    top.seq = run.seq
    top.kind = EV_RUN
    top.task = run.task
    top.arg = 0
    s.nowq_head += 1
    if s.nowq_head == s.nowq_end:             # empty: back to the start
        s.heap_quiet += s.nowq_end            # (quiet_update)
        s.nowq_head = 0
        s.nowq_end = 0
    return top


cdef inline Event pop_event(Sim* s) noexcept nogil:
    """The earliest pending event by (t, seq); something must be pending.

    The arrival slot's arr_t is INT64_MAX exactly when no arrival is pending (sim_init
    and reset_trial set it, taking the arrival here resets it, and reset_cycle is
    followed at once by the cycle's first arrival; a pending time is at most
    MAX_TIME_NS), and an empty heap's slot 0 has t
    INT64_MAX (sim_init, reset_trial and the pop that empties it set it; a pending time
    is at most MAX_TIME_NS), so one comparison against the heap's top decides.  The runs
    at now (wake_now) come first, but for an arrival or heap top at now with a smaller
    seq."""
    cdef Event top
    cdef Event* heap = s.heap
    cdef Event* c
    cdef int64_t i = 0, child, n, last_t, last_seq, right
    cdef NowRun* run
    if s.nowq_end != 0:
        # The first run at now goes first unless the arrival or the heap's top is at now
        # too and was pushed before it (now is the least pending time).
        run = &s.nowq[s.nowq_head]
        if not ((s.arr_t == s.now and s.arr_seq < run.seq)
                or (heap[0].t == s.now and heap[0].seq < run.seq)):
            return take_now_run(s)
    if s.arr_t < heap[0].t or (s.arr_t == heap[0].t and s.arr_seq < heap[0].seq):
        top.t = s.arr_t
        s.arr_t = INT64_MAX
        top.seq = s.arr_seq
        top.kind = EV_ARRIVAL
        top.task = -1
        top.arg = 0
        return top
    top = heap[0]
    n = s.nheap - 1
    s.nheap = n
    if n > 0:
        # Sift the hole down.  The last event, heap[n], stays where it is until the hole
        # stops (the hole only visits slots below n), so only its key is held in locals.
        # A left child at n - 1 has the last event itself as its right "child": when
        # that one is the earlier, it is not before itself and the hole stops there, as
        # it should (it goes before the left child), so no test of child + 1 < n.
        last_t = heap[n].t
        last_seq = heap[n].seq
        while True:
            child = 2 * i + 1
            if child >= n:
                break
            c = &heap[child]
            # The earlier child, as arithmetic (cmp/sbb/setc, no branch): which child
            # wins is a coin toss, missed ~0.4 times per event on throttled in
            # callgrind's branch simulation (its heaps hold 9-64 events a fifth of the
            # time, and half its sibling comparisons are ties of t, decided by seq).
            # The hole's stop is one branch on the same comparison.  Round 7 dropped
            # 128-bit keys for their instructions (+2.6 here on throttled); they are
            # kept for the mispredicts (docs/benchmarks.md, round 8).
            right = key_before(c[1].t, c[1].seq, c[0].t, c[0].seq)
            c += right
            child += right
            if not key_before(c.t, c.seq, last_t, last_seq):
                break
            heap[i] = c[0]
            i = child
        heap[i] = heap[n]
    else:
        heap[0].t = INT64_MAX                 # empty: slot 0 loses to any arrival
    return top


cdef inline void wake(Sim* s, int32_t t, int32_t pc) noexcept nogil:
    """A wake-up (§4.1, §13.2): the task runs at now + wake + j, or, with cpus > 0, only
    if it finds an idle CPU (§14.2)."""
    s.tasks[t].pc = pc
    if not PLAIN and s.cpus:
        cpu_wake(s, t)
        return
    wake_now(s, t, wake_delay(s))


cdef inline int64_t* counter_slot(Sim* s, int index) noexcept nogil:
    """A counter of an indexed family (blame_<kind>, faults_<kind>): the Counters struct
    is N_COUNTERS int64s in layout.COUNTERS order, so C_* is its index."""
    return (<int64_t*>s.counters) + index


cdef void record_careful(Hist* h, Sim* s, int64_t value) noexcept nogil:
    # record's rare case, out of line so that each record site stays small
    if hist_record_careful(h, value) != HIST_OK:
        fail(s, ERR_HIST)


cdef inline void record(Sim* s, int metric, int64_t value) noexcept nogil:
    s.hist_touched |= (<uint64_t>1) << metric  # end_trial closes only these metrics
    if not hist_record_fast(&s.hists[metric], value):
        record_careful(&s.hists[metric], s, value)


# ------------------------------------------------------------------ tasks and timeline
cdef extern from *:
    # A Task (engine.pxd) is padded to a power of two: a change of its fields or of the
    # layout's sizes must adjust the padding, or the C compiler stops here (an array of
    # negative size).
    """
    #define MCSIM_CHECK_TASK_SIZE(size) ((void)sizeof(char[(size) == 512 ? 1 : -1]))
    """
    void MCSIM_CHECK_TASK_SIZE(size_t size)

MCSIM_CHECK_TASK_SIZE(sizeof(Task))


cdef void init_slots(Sim* s, int32_t first, int32_t end) noexcept nogil:
    """The plain build: the slots [first, end) of s.tasks take the start values that its
    tasks never change (no scripts, threads or window trials there) once, when they are
    allocated (sim_init, new_task's growth), not at every new_task."""
    cdef int32_t t
    cdef Task* task
    for t in range(first, end):
        task = &s.tasks[t]
        task.fallback = -1
        task.thread = -1
        task.counted = 1
        task.proc = s.procs
        task.vm = s.vmas


cdef inline int32_t new_task(Sim* s, int32_t kind) noexcept nogil:
    cdef Task* task
    return new_task_at(s, kind, &task)


cdef inline int32_t new_task_at(Sim* s, int32_t kind, Task** at) noexcept nogil:
    """new_task, which also gives the new task's address in at[0] (&s.tasks[t]: loaded
    again by the caller, GCC read s.tasks after the stores)."""
    cdef int32_t t
    cdef Task* grown
    if s.nfree > 0:
        s.nfree -= 1
        t = s.free_ids[s.nfree]
    else:
        if s.ntasks == s.captasks:
            grown = <Task*>realloc(s.tasks, 2 * s.captasks * sizeof(Task))
            if grown == NULL:
                fail(s, ERR_NOMEM)
                at[0] = s.tasks
                return 0
            s.tasks = grown
            s.captasks *= 2
            s.free_ids = <int32_t*>realloc(s.free_ids, s.captasks * sizeof(int32_t))
            if s.free_ids == NULL:
                fail(s, ERR_NOMEM)
                at[0] = s.tasks
                return 0
            s.counters.buffer_growths += 1
            if PLAIN:
                init_slots(s, s.ntasks, s.captasks)
        t = s.ntasks
        s.ntasks += 1
    # Every scalar field read before it is written, explicitly (a memset of the whole
    # Task costs ~50 instructions per task; a memset of the zeroed block stops GCC
    # inlining schedule), in engine.pxd's order, so that the compiler merges the stores.
    # The plain build stores fewer: hold, cpu and minor are the arrival's draws (a
    # fault's cpu and minor, an HP read's or a writer's hold: read only for those), and
    # arrive zeroes an HP read's wait_sum; ip, nprog, dropped, completed and major are
    # set by fault_runs before a pass reads them; a page's bio task (fault_start) reads
    # none of them.  nwaits, same_vma, the CPUs' fields, thread, counted and done are read
    # only by scripts, same-VMA writers, CPUs, threads and window trials, none of them in
    # its family; and init_slots set fallback, proc and vm once per slot, which nothing
    # there changes.  The arrays are written before they are read: snap by hp_request,
    # prog by fault_runs, waits via nwaits, lane_start only in scripts.  So are four
    # scalars, which neither build stores here: t_arrive by admit (start_task: every
    # arrival, scripted task and step; read at a fault's end, and a page's bio task, the
    # one task not admitted, never ends a fault); t_req by each request (read_request,
    # write_request, gate_enter, vma_read_lock, hp_request's VMA case), read only as the
    # wait of the request it made; t_grant at each grant (fault_pass, hp_request,
    # grant_read, took_write, vma_read_lock), read only after it (a hold's length at the
    # release, writer_in_vma's wait); t_pass_end by end_pass before the retry pass that
    # reads it (retry_steps).
    cdef Task* task = &s.tasks[t]
    cdef int lane
    if not PLAIN:
        task.wait_sum = 0
        task.hold = 0
        task.cpu = 0
        task.minor = 0
    task.bio = 0
    task.mkwrite = 0
    task.dirty = 0
    task.evict_bio = 0
    task.acq = 0
    task.holding = 0
    task.vma_held = 0
    task.tried = 0
    task.dirty_retry = 0
    task.woken = 0
    task.waiting_page = 0
    task.inverted = 0
    if not PLAIN:
        task.ip = 0
        task.nprog = 0
        task.dropped = 0
        task.completed = 0
        task.major = 0
        task.nwaits = 0
        task.same_vma = 0
        task.on_cpu = 0
        task.queued = 0
        task.cpu_home = 0
    task.kind = kind
    task.passes = 1
    task.blocked = BL_NONE
    task.page_ready = 1
    task.page_waiter = -1
    task.lock = LOCK_MMAP
    task.fault = 0
    task.pc = 0
    if not PLAIN:
        task.fallback = -1
        task.thread = -1                      # (step is set, and read, for threads only)
        # count_from <= now < count_to as one unsigned compare (now - count_from cannot
        # overflow: both lie in [0, MAX_TIME_NS], and a negative difference wraps above
        # span)
        task.counted = <uint64_t>(s.now - s.count_from) < s.count_span
    task.evicted = -1
    task.revalidate_fail = -1
    if not PLAIN:
        task.done = -1                        # (only run_script reads done)
        task.proc = s.procs                   # the open stream's process 0 and VMA 0
        task.vm = s.vmas                      # (t_runnable is set when it queues)
        if s.record_timeline:
            for lane in range(N_LANES):
                task.lane_start[lane] = -1
    at[0] = task
    return t


cdef inline void finish(Sim* s, int32_t t) noexcept nogil:
    cdef Task* task = &s.tasks[t]
    s.alive -= 1
    if not PLAIN:                             # (read by window trials only)
        s.counted_alive -= task.counted
    if PLAIN or s.reuse_ids:
        s.free_ids[s.nfree] = t
        s.nfree += 1
    else:                                     # only a script (run_script) reads done,
        task.done = s.now                     # and a script never reuses ids
    if not PLAIN and task.thread >= 0:        # a closed-loop thread's step ended
        step_done(s, task)                    # (with think 0 its thread keeps the CPU)
    cpu_free(s, t)                            # after the next step is scheduled (§14.1)


cdef inline void lane_on(Sim* s, int32_t t, int lane) noexcept nogil:
    if not PLAIN and s.record_timeline:
        s.tasks[t].lane_start[lane] = s.now


cdef inline void lane_off(Sim* s, int32_t t, int lane) noexcept nogil:
    cdef int64_t* grown
    cdef Task* task = &s.tasks[t]
    if PLAIN or not s.record_timeline or task.lane_start[lane] < 0:
        return
    if s.ntimeline + 4 > s.captimeline:
        grown = <int64_t*>realloc(s.timeline, 2 * s.captimeline * sizeof(int64_t))
        if grown == NULL:
            fail(s, ERR_NOMEM)
            return
        s.timeline = grown
        s.captimeline *= 2
    s.timeline[s.ntimeline] = t
    s.timeline[s.ntimeline + 1] = lane
    s.timeline[s.ntimeline + 2] = task.lane_start[lane]
    s.timeline[s.ntimeline + 3] = s.now
    s.ntimeline += 4
    task.lane_start[lane] = -1


cdef inline void note_wait(Sim* s, int32_t t, int64_t wait) noexcept nogil:
    # Only run_script reads a task's waits, and only a script records the timeline: the
    # trial loops skip them (GCC folds the test into the lane_on/lane_off ones nearby).
    cdef Task* task = &s.tasks[t]
    if PLAIN or not s.record_timeline:
        return
    if task.nwaits < MAX_WAITS:
        task.waits[task.nwaits] = wait
    task.nwaits += 1
