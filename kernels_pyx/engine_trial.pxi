# The trial loop (included by engine.pyx): arrivals and their draws, critical sections,
# dispatch of events to the seams, the invariants, regenerative cycles and window trials
# (docs/model.md §4, §11.8, §11.9, §12.3).  Mirrors the trial seam of mcsim/reference.py.

# ------------------------------------------------------------------ tasks
cdef inline void hold_for(Sim* s, int32_t t, Task* task, int64_t duration) noexcept nogil:
    """A critical section (an HP acquisition's or a writer's): a zero-length one ends in
    the call that began it (model.md §4.1).  (task: &s.tasks[t], see fault_pass)"""
    if not PLAIN:
        task = &s.tasks[t]
    if duration > 0:
        task.pc = PC_HOLD_DONE
        schedule(s, s.now + duration, EV_RUN, t, 0)
    else:
        hold_done(s, t)


cdef inline void hold_done(Sim* s, int32_t t) noexcept nogil:
    if s.tasks[t].kind == TK_HP_READ:
        hp_release(s, t)
    else:
        release(s, t)
        finish(s, t)


cdef inline void admit(Sim* s, int32_t t) noexcept nogil:
    admit_task(s, &s.tasks[t])


cdef inline void admit_task(Sim* s, Task* task) noexcept nogil:
    """A task arrives (or its step starts): it is alive and its latency counts from now,
    even while it waits for a CPU (§14.2)."""
    s.alive += 1
    if not PLAIN:                             # (read by window trials only)
        s.counted_alive += task.counted
    task.t_arrive = s.now


cdef inline void start_task(Sim* s, int32_t t, bint arrival) noexcept nogil:
    """An arrival, a scripted task at its ``at`` or a step at its timer: admitted, then
    started at once unless it waits for a CPU (§14.2 case b).  Only an ``arrival``
    inlines begin_task: one copy in the loop, at the hot call."""
    admit(s, t)
    if not PLAIN and s.cpus and s.tasks[t].kind != TK_BG_IO and not cpu_timer(s, t, PC_START):
        return                                # starts in run_task at PC_START
    if arrival:
        begin_task(s, t)
    else:
        begin_task_call(s, t)


cdef inline always_inline_void begin_task(Sim* s, int32_t t) noexcept nogil:
    begin_task_of(s, t, &s.tasks[t])


cdef inline always_inline_void begin_task_of(Sim* s, int32_t t, Task* task) noexcept nogil:
    """The task runs for the first time: its request, gate entry or first pass.  (task:
    &s.tasks[t], passed down as to fault_pass: the plain build's arrival has it.)"""
    if task.kind == TK_HP_READ:
        s.counters.hp_reads += 1
        if not PLAIN and s.cpus and task.thread >= 0 and s.sc.steps[task.step].scan & SCAN_START:
            # scan_time runs from the first read's request (§12.4), made when it runs
            # (§14.2); without CPUs that is the step's start, where step_start set it.
            s.threads[task.thread].scan_t0 = s.now
        hp_request(s, t, task)
    elif task.kind == TK_WRITER:
        s.counters.writes += 1
        if write_request(s, t, task):
            took_write(s, t, task)
    elif task.kind == TK_BG_IO:
        s.counters.bg_bios += 1
        if gate_enter(s, t):
            issue(s, t, task.bio, BIO_BG)
    else:
        fault_start(s, t, task)


cdef void begin_task_call(Sim* s, int32_t t) noexcept nogil:
    """begin_task() as a call, for the rare callers (a scripted task's or a step's start,
    a queued task's first CPU): only an arrival inlines it."""
    begin_task(s, t)


# ------------------------------------------------------------------ dispatch
cdef inline void run_task(Sim* s, int32_t t) noexcept nogil:
    cdef Task* task = &s.tasks[t]
    cdef int32_t pc = task.pc
    if pc == PC_HOLD_DONE:
        hold_done(s, t)
    elif pc == PC_LOCK:
        if task.kind == TK_WRITER:
            if writer_runs(s, t):
                took_write(s, t, task)
        elif task.kind == TK_HP_READ:
            hp_runs(s, t, task)
        else:
            fault_runs(s, t, task)
    elif pc == PC_GATE:                       # handed a gate slot: issue the bio
        lane_off(s, t, LANE_GATE)
        if PLAIN or task.counted:
            record(s, M_GATE_WAIT, s.now - task.t_req)
        if task.kind == TK_BG_IO:
            issue(s, t, task.bio, BIO_BG)
        else:
            unblock(s, t)
            submit_issue(s, t)
            advance_steps(s, t)
    elif pc == PC_WAITED:                     # the awaited bio or page completed
        unblock(s, t)
        if task.prog[task.ip].op == OP_WAIT_PAGE:
            lane_off(s, t, LANE_IO)
        task.ip += 1
        advance_steps(s, t)
    elif pc == PC_OP:                         # a CPU stretch ended
        # The pass's last step (a hit's one CPU stretch, most of these on the reference
        # scenario) ends it here, inline: advance_steps' call would only reach end_pass
        # (78,745 of its 94,711 calls on the reference block).
        if task.ip < task.nprog:
            advance_steps(s, t)
        else:
            end_pass(s, t)
    elif pc == PC_SLEPT:                      # a dirty-throttling sleep ended: its
        if not PLAIN and s.cpus and not task.on_cpu and not cpu_timer(s, t, PC_SLEPT):
            return                            # timer, then (queued) its run (§14.2 b)
        unblock(s, t)
        advance_steps(s, t)
    elif pc == PC_VMA:                        # V's last reader left
        writer_in_vma(s, t)
    elif pc >= PC_SERVE:                      # work outside the locks (§14.6)
        outside_runs(s, t)
    else:                                     # PC_START: it got a CPU after queueing
        begin_task_call(s, t)


cdef inline void arrive_fault(Sim* s, Task* task) noexcept nogil:
    cdef const Scenario* sc = s.sc
    cdef double k
    cdef bint write = uniform(s) < sc.write_fault_ratio
    task.kind = TK_FAULT
    if write:
        k = uniform(s)
        if k < sc.cut_mkwrite_slow:
            task.fault = FK_MKWRITE_SLOW
            task.bio = draw_ns(s, &sc.device)
        elif k < sc.cut_mkwrite_writeback:
            task.fault = FK_MKWRITE_WRITEBACK
            task.bio = draw_ns(s, &sc.device)
        else:
            task.fault = FK_MKWRITE_FAST
            task.mkwrite = draw_ns(s, &sc.mkwrite_fast)
    else:
        k = uniform(s)
        if k < sc.cut_miss:
            task.fault = FK_MISS
        elif k < sc.cut_async_ra:
            task.fault = FK_ASYNC_RA
        elif k < sc.cut_locked:
            task.fault = FK_LOCKED
        else:
            task.fault = FK_HIT
        if task.fault != FK_HIT:
            task.bio = draw_ns(s, &sc.device)
    if s.cpu_const:
        # Both const (their defaults, as on the bench scenarios): a const draws nothing,
        # and its ns were computed once by sim_init (each draw cost ~15 instructions:
        # draw_ns's tests of the kind, then to_ns).
        task.cpu = s.fault_cpu_ns
        task.minor = s.minor_cpu_ns
    else:
        task.cpu = draw_ns(s, &sc.fault_cpu)
        task.minor = draw_ns(s, &sc.minor_cpu)
    if write and sc.p_dirty_throttle > 0:
        if uniform(s) < sc.p_dirty_throttle:
            task.dirty = draw_ns(s, &sc.dirty_throttle)


cdef inline void arrive(Sim* s) noexcept nogil:
    """A Poisson arrival: type and attributes, then the next gap (model.md §4.3, §11.8;
    the same draws in the same order as the reference's arrival)."""
    cdef const Scenario* sc = s.sc
    cdef Task* task
    cdef int32_t t = new_task_at(s, TK_BG_IO, &task)
    cdef double u = uniform(s)
    cdef double gap
    if u < sc.cut_hp:
        task.kind = TK_HP_READ
        task.hold = draw_ns(s, &sc.hp_hold)
        if PLAIN:                             # (new_task zeroes it in the general build)
            task.wait_sum = 0
    elif u < sc.cut_lp:
        if uniform(s) < sc.writer_ratio:
            task.kind = TK_WRITER
            task.hold = draw_ns(s, &sc.writer_hold)
            if not PLAIN and s.vma_writers and sc.p_same_vma > 0:
                task.same_vma = uniform(s) < sc.p_same_vma
        else:
            arrive_fault(s, task)
    else:
        task.bio = draw_ns(s, &sc.device)
    # The next gap, exp(arrival_mean_ns): draw_ns's kind 1 written out (a DistSpec on
    # the stack cost two stores per arrival), rounded by to_ns's memory-operand twin
    gap = std_exponential(s)
    schedule(s, s.now + mcsim_to_ns_m(sc.arrival_mean_ns * gap), EV_ARRIVAL, -1, 0)
    if PLAIN:                                 # start_task, with the task's pointer (the
        admit_task(s, task)                   # family has no CPUs; see begin_task_of)
        begin_task_of(s, t, task)
    else:
        start_task(s, t, True)


cdef inline void dispatch(Sim* s, Event* ev) noexcept nogil:
    if not PLAIN and s.affine:                # per-CPU run queues: who wakes (§14.7)
        note_waker(s, ev)
    if ev.kind == EV_RUN:
        run_task(s, ev.task)
    elif ev.kind == EV_BIO_DONE:
        bio_done(s, ev.task, ev.arg)
    elif not PLAIN and ev.kind == EV_STEP:    # a closed-loop thread's next step
        if s.timers:                          # (§14.8: spent, or one firing's group)
            timer_step(s, ev.task, ev.arg)
        else:
            step_start(s, ev.task)
    elif PLAIN or ev.task < 0:                # random mode: draw the arrival (the plain
        arrive(s)                             # build runs no script)
    else:                                     # scripted mode: the task is ready-made
        start_task(s, ev.task, False)


cdef void dispatch_call(Sim* s, Event* ev) noexcept nogil:
    """dispatch() as a call, for the scripted loop: only the trial loops inline the state
    machine."""
    dispatch(s, ev)


# ------------------------------------------------------------------ invariants
cdef int check_proc(Sim* s, Proc* p) noexcept nogil:
    """The invariants of one process's L (docs/model.md §12.6): 0 or an INV_* code."""
    cdef Fifo* q = &p.lockq
    cdef int64_t i
    cdef int32_t head
    cdef bint writer_ahead
    if p.writer >= 0 and p.nreaders > 0:
        return INV_READER_AND_WRITER_HOLD_L
    if p.nreaders < 0:
        return INV_READERS_OR_GATE_SLOTS_OUT_OF_RANGE
    if p.writer < 0 and p.nreaders == 0 and q.len > 0:
        head = q.items[q.head]
        if not (head & 1) or not s.tasks[head >> 1].woken:
            return INV_L_IS_FREE_BUT_NOBODY_QUEUED_WAS_WOKEN
    if p.handoff and not s.handoff_rule:
        return INV_4_X_RULES_BROKEN
    if not s.wake_all_readers:
        # 4.x: a reader is queued only behind a writer or while the lock is write-held
        writer_ahead = p.writer >= 0
        for i in range(q.len):
            if q.items[q.head + i] & 1:
                writer_ahead = True
            elif not writer_ahead:
                return INV_READER_QUEUED_FOR_NOTHING
    if p.handoff and q.len == 0:
        return INV_HANDOFF_SET_WITH_NOBODY_QUEUED
    return 0


cdef int check_vma(Sim* s, Vma* v) noexcept nogil:
    """The invariants of one VMA's V: write-locked only by a writer holding its own
    process's L for write (§11.9, §12.6)."""
    if v.readers < 0:
        return INV_READERS_OR_GATE_SLOTS_OUT_OF_RANGE
    if v.writer >= 0 and s.procs[v.process].writer != v.writer:
        return INV_VMA_WRITE_LOCKED_BY_A_TASK_NOT_HOLDING_L_FOR_WRITE
    if v.writer >= 0 and v.waiter != v.writer and v.readers > 0:
        return INV_VMA_HAS_READERS_WHILE_ITS_WRITE_LOCKER_RUNS
    if v.waiter >= 0 and v.readers == 0 and not v.woken:
        return INV_A_WRITER_WAITS_IN_VMA_START_WRITE_WITH_NO_READER_AND_NO_WAKE_UP
    return 0


cdef int check_state(Sim* s) noexcept nogil:
    """The safety and liveness properties of the reference's invariant check, after an
    event, for every L_p and every V_v: 0, or the INV_* code of the first one broken (1 +
    its index in mcsim.numeric.INVARIANTS).  Called only when run_block is asked to check,
    so the default loop pays one branch."""
    cdef int i, broken
    for i in range(s.n_procs):
        broken = check_proc(s, &s.procs[i])
        if broken:
            return broken
    if s.inflight < 0 or s.inflight > s.depth:
        return INV_READERS_OR_GATE_SLOTS_OUT_OF_RANGE
    if s.gate.len > 0 and s.inflight != s.depth:
        return INV_A_GATE_SLOT_IS_FREE_WHILE_BIOS_WAIT
    if s.counters.reader_steals != 0 and not s.reader_steal:
        return INV_4_X_RULES_BROKEN
    for i in range(s.n_vmas):
        broken = check_vma(s, &s.vmas[i])
        if broken:
            return broken
    if s.cpus:
        return check_cpus(s)
    return 0


# ------------------------------------------------------------------ trials
cdef extern from *:
    # A Hist (hist.pxd) is padded to 256 bytes; a change of its fields must adjust the
    # padding, or the C compiler stops here (an array of negative size).
    """
    #define MCSIM_CHECK_HIST_SIZE(size) ((void)sizeof(char[(size) == 256 ? 1 : -1]))
    """
    void MCSIM_CHECK_HIST_SIZE(size_t size)

MCSIM_CHECK_HIST_SIZE(sizeof(Hist))


cdef void reset_trial(Sim* s) noexcept nogil:
    """A trial starts with every lock free, nothing queued and no bio in flight.  (Its
    row, s.trial, starts zeroed: by sim_init, then by end_trial, which alone reads it.)"""
    cdef int i, k
    cdef Proc* p
    cdef Vma* v
    cdef Proc* procs = s.procs                # (read once: the stores could alias s)
    cdef Vma* vmas = s.vmas
    s.now = 0
    s.seq = 0
    s.nheap = 0
    s.heap[0].t = INT64_MAX                   # an empty heap's top (pop_event)
    s.arr_t = INT64_MAX                       # no arrival pending
    s.nowq_head = 0                           # no run at now pending (an error may
    s.nowq_end = 0                            # have left some)
    quiet_update(s)
    s.ntasks = 0
    s.nfree = 0
    s.alive = 0
    s.counted_alive = 0
    s.counted_open = 0
    s.inflight = 0
    s.gate.head = 0
    s.gate.len = 0
    s.idle = s.cpus                           # every CPU idle, nobody queued (§14.5)
    s.runq.head = 0
    s.runq.len = 0                            # (threads_start clears keeps_cpu)
    if s.affine:
        affine_reset(s)
    for i in range(s.n_procs):
        p = &procs[i]
        p.lockq.head = 0
        p.lockq.len = 0
        p.writer = -1
        p.nreaders = 0
        p.handoff = 0
        for k in range(N_BLAME + 1):          # (last is written before it is read)
            p.nblocked[k] = 0
            p.integral[k] = 0
    for i in range(s.n_vmas):
        v = &vmas[i]
        v.readers = 0
        v.writer = -1
        v.waiter = -1
        v.woken = 0


cdef inline void reset_cycle(Sim* s) noexcept nogil:
    """reset_trial() for a cycle after one that ended empty (cycles()): with no task alive
    and no bio in flight, every L and V is free with nobody queued or blocked, the gate
    and the run queue are empty and every CPU is idle already (the invariants of
    docs/model.md §12.6 and §14.5), so only the clock and the task table restart (about 25
    instructions a trial less).  The inversion clocks' integrals are read only as
    differences within one trial (judge_inversion), so they carry on: each grows by at
    most the simulated time, which s.base sums (saturating), so they restart at 0 once
    s.base has grown by 2**61 since they last did; a trial adds at most MAX_TIME_NS
    (2**62), so an integral stays below 2**63."""
    cdef int i, k
    s.now = 0
    s.seq = 0                                 # (cycles() schedules the arrival at once)
    s.ntasks = 0
    s.nfree = 0
    if s.base >= s.clock_restart:             # (0 from sim_init: at the first call)
        for i in range(s.n_procs):
            for k in range(N_BLAME + 1):
                s.procs[i].integral[k] = 0
        s.clock_restart = sat_add(s.base, <int64_t>1 << 61)


cdef struct TrialSums:
    # What the trials of a cycles() call add to the Counters, summed there and added once
    # at its end (cycles_booked, with the count of trials): sums of non-negative terms
    # that saturate at INT64_MAX give the same totals in either grouping.
    int64_t events, busy, span


cdef inline void end_trial(Sim* s, int64_t i, int64_t* rows, int64_t events, int64_t busy,
                           int64_t span) noexcept nogil:
    """Book a finished trial: ``busy`` and ``span`` (busy + idle) simulated ns."""
    cdef Counters* c = s.counters             # (read once: the stores could alias s)
    c.trials += 1
    c.events = sat_add(c.events, events)
    c.busy_ns = sat_add(c.busy_ns, busy)
    c.sim_ns = sat_add(c.sim_ns, span)
    s.hist_trials += 1
    book_trial(s, i, rows, events, busy, span)


cdef inline void end_cycle(Sim* s, TrialSums* k, int64_t i, int64_t* rows, int64_t events,
                           int64_t busy, int64_t span) noexcept nogil:
    """end_trial for cycles(): the Counters' sums wait in k."""
    k.events = sat_add(k.events, events)
    k.busy = sat_add(k.busy, busy)
    k.span = sat_add(k.span, span)
    book_trial(s, i, rows, events, busy, span)


cdef inline int cycles_booked(Sim* s, const TrialSums* k, int64_t done,
                              int err) noexcept nogil:
    """cycles() returns err after ``done`` trials: their sums join the Counters, their
    count s.hist_trials."""
    cdef Counters* c = s.counters
    c.trials += done
    c.events = sat_add(c.events, k.events)
    c.busy_ns = sat_add(c.busy_ns, k.busy)
    c.sim_ns = sat_add(c.sim_ns, k.span)
    s.hist_trials += done
    return err


cdef inline void book_trial(Sim* s, int64_t i, int64_t* rows, int64_t events, int64_t busy,
                            int64_t span) noexcept nogil:
    """end_trial's part that both loops share: the clock's base, the maximum, the
    histograms' closes and the trial's row."""
    cdef int m
    cdef uint64_t touched = s.hist_touched
    cdef Hist* h
    cdef Counters* c = s.counters             # (read once: the stores could alias s)
    s.base = sat_add(s.base, span)            # the next trial's jiffy phase (§11.6)
    if events > c.max_trial_events:
        c.max_trial_events = events
    # Only the metrics that got a sample: an empty trial folds nothing into a histogram
    # (hists_settle counts every trial in each at the block's end).
    while touched:
        h = <Hist*>opaque_ptr(&s.hists[ctz64(touched)])  # (hist_c.pxd: one register less)
        if PLAIN:                             # (the plain build's hists have ones)
            hist_close_trial_ones(h)
        else:
            hist_close_trial(h)
        touched &= touched - 1
    s.hist_touched = 0
    if rows != NULL:
        s.trial[T_EVENTS] = events
        s.trial[T_BUSY_NS] = busy
        s.trial[T_IDLE_NS] = span - busy
        for m in range(N_TRIAL_FIELDS):
            rows[i * N_TRIAL_FIELDS + m] = s.trial[m]
        memset(s.trial, 0, sizeof(s.trial))  # (kept only with rows: s.trial_rows)


# The cycle loop comes in two specializations, one per mode: the default one pays no test
# for ``check`` per event.  (A fused type, not a bint argument: GCC merges the two calls
# of an inline function with a constant bint into one call with a variable.)
cdef struct InvariantsChecked:
    int32_t unused
cdef struct InvariantsUnchecked:
    int32_t unused
ctypedef fused CheckMode:
    InvariantsChecked
    InvariantsUnchecked


# (noinline: the state machine inlines into the loop's own function; see engine_events.pxi)
cdef noinline_int cycles(Sim* s, int64_t n_trials, int64_t* rows, CheckMode* check) noexcept nogil:
    """The hot loop: regenerative cycles, each ended when the system is empty again.
    With InvariantsChecked, the invariants are checked after every event."""
    cdef int64_t i, events
    cdef Event ev
    cdef int broken
    cdef TrialSums k
    memset(&k, 0, sizeof(k))
    s.stop_events = s.sc.max_trial_events     # (fail() sets it to 0)
    for i in range(n_trials):
        if i == 0:
            reset_trial(s)
            schedule_first_arrival(s)
        else:                                 # the cycle before ended empty (below)
            reset_cycle(s)
            # (schedule_first_arrival without its note_pending: one event pending, the
            # count the first trial's arrival noted already)
            schedule(s, 0, EV_ARRIVAL, -1, 0)
        events = 0
        while True:
            ev = pop_event(s)
            s.now = ev.t
            if CheckMode is InvariantsChecked:
                dispatch_call(s, &ev)         # (the state machine inlines only once)
            else:
                dispatch(s, &ev)
            events += 1
            if unlikely(events >= s.stop_events, 0):
                # An error, or the trial's last allowed event: the same tests, in the
                # same order, as below.  One test per event for both.
                if s.error:
                    return cycles_booked(s, &k, i, s.error)
                if CheckMode is InvariantsChecked:
                    broken = check_state(s)
                    if broken:
                        return cycles_booked(s, &k, i, ERR_INVARIANT + broken)
                if s.alive == 0 and s.inflight == 0:
                    break
                return cycles_booked(s, &k, i, ERR_TRIAL_TOO_LONG)
            if CheckMode is InvariantsChecked:
                broken = check_state(s)
                if broken:
                    return cycles_booked(s, &k, i, ERR_INVARIANT + broken)
            if s.alive == 0 and s.inflight == 0:
                break
        # An empty system has nothing pending but the next arrival, the next cycle's
        # first event: its time ends this cycle (read from its slot, not popped).
        if s.nheap != 0 or s.arr_t == INT64_MAX or s.nowq_end != 0:
            return cycles_booked(s, &k, i, ERR_PENDING_IN_EMPTY)
        end_cycle(s, &k, i, rows, events, s.now, s.arr_t)
    return cycles_booked(s, &k, n_trials if n_trials > 0 else 0, 0)


cdef int run_cycles(Sim* s, int64_t n_trials, int64_t* rows, bint check) noexcept nogil:
    cdef InvariantsChecked checked
    cdef InvariantsUnchecked unchecked
    if check:
        return cycles(s, n_trials, rows, &checked)
    return cycles(s, n_trials, rows, &unchecked)


cdef int run_windows(Sim* s, int64_t n_trials, int64_t* rows, bint check) noexcept nogil:
    """Window trials (docs/model.md §12.3): warm-up, then the counted window; a trial ends
    at the first event after which the window is over, no counted task is alive and no
    counted scan or iteration is open."""
    cdef int64_t i, events, limit = s.sc.max_trial_events
    cdef int64_t window = s.sc.window_ns, end = s.count_to
    cdef Event ev
    cdef int broken
    for i in range(n_trials):
        reset_trial(s)
        if s.sc.open_stream:
            schedule_first_arrival(s)
        threads_start(s)
        events = 0
        while s.nheap > 0 or s.arr_t != INT64_MAX or s.nowq_end != 0:
            ev = pop_event(s)
            s.now = ev.t
            dispatch(s, &ev)
            events += 1
            if s.error:
                return s.error
            if check:
                broken = check_state(s)
                if broken:
                    return ERR_INVARIANT + broken
            if s.now >= end and s.counted_alive == 0 and s.counted_open == 0:
                break
            if events >= limit:
                return ERR_TRIAL_TOO_LONG
        end_trial(s, i, rows, events, window, window)
    return 0


cdef void hists_settle(Sim* s) noexcept nogil:
    """The block is over: every metric's histogram counts its trials, empty ones included
    (end_trial closes only the metrics that got samples); a trial an error cut short keeps
    its samples counted, in no trial."""
    cdef int m
    for m in range(N_METRICS):
        s.hists[m].trials += s.hist_trials
        hist_abandon_trial(&s.hists[m])
        hist_flush_ones(&s.hists[m])          # (plain build: ones into the arrays)
    hist_untwin(&s.hists[M_HP_WAIT])          # (plain build: hp_acq_wait takes its sums)
    s.hist_trials = 0


cdef int run_trials(Sim* s, int64_t n_trials, int64_t* rows, bint check) noexcept nogil:
    cdef int err
    s.trial_rows = rows != NULL
    if s.sc.trial_kind == TRIAL_WINDOW:
        err = run_windows(s, n_trials, rows, check)
    else:
        err = run_cycles(s, n_trials, rows, check)
    hists_settle(s)
    return err
