# The event loop and the model's state machines (included by engine.pyx).
# Function names follow mcsim/reference.py so the two can be read side by side.

# ------------------------------------------------------------------ randomness
cdef inline int64_t to_ns(double x) noexcept nogil:
    """Round to ns and clamp to [0, MAX_DRAW_NS] (mcsim.numeric.to_ns): NaN and anything
    below 0.5 give 0, +inf gives MAX_DRAW_NS; casting NaN or inf to int64 is undefined."""
    x = x + 0.5
    if x >= 1.0:                              # false for NaN
        if x >= <double>MAX_DRAW_NS:
            return MAX_DRAW_NS
        return <int64_t>x
    return 0


cdef inline int64_t draw_ns(Sim* s, const DistSpec* d) noexcept nogil:
    cdef double x
    if d.kind == 0:
        x = d.a
    elif d.kind == 1:
        x = d.a * random_standard_exponential(s.rng)
    else:
        x = d.a * exp(d.b * random_standard_normal(s.rng))
    return to_ns(x)


cdef inline double uniform(Sim* s) noexcept nogil:
    # What numpy's random_standard_uniform(s.rng) does, minus one call level.
    return s.rng.next_double(s.rng.state)


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
                s.error = ERR_NOMEM
                return
            q.items = grown
            q.cap *= 2
            s.counters[C_BUFFER_GROWTHS] += 1
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
cdef inline bint ev_before(const Event* a, const Event* b) noexcept nogil:
    return a.t < b.t or (a.t == b.t and a.seq < b.seq)


cdef inline void note_pending(Sim* s) noexcept nogil:
    cdef int64_t n = s.nheap + s.arr_pending
    if n > s.counters[C_MAX_PENDING]:
        s.counters[C_MAX_PENDING] = n


cdef inline void schedule(Sim* s, int64_t t, int32_t kind, int32_t task, int32_t arg) noexcept nogil:
    # t is now + a delay; now <= MAX_TIME_NS and every delay <= MAX_DRAW_NS (draws are
    # clamped, wake_ns and script rows checked on entry), so t itself cannot overflow.
    cdef Event ev
    cdef Event* grown
    cdef int64_t i, parent
    if t > MAX_TIME_NS:
        s.error = ERR_TIME_LIMIT
        return
    if kind == EV_ARRIVAL and task < 0:
        # The random-mode arrival: exactly one is pending at any time, so it waits in a
        # slot of its own beside the heap (pop_event compares the two by (t, seq)).
        s.arr_t = t
        s.arr_seq = s.seq
        s.arr_pending = 1
        s.seq += 1
        note_pending(s)
        return
    if s.nheap == s.capheap:
        grown = <Event*>realloc(s.heap, 2 * s.capheap * sizeof(Event))
        if grown == NULL:
            s.error = ERR_NOMEM
            return
        s.heap = grown
        s.capheap *= 2
        s.counters[C_BUFFER_GROWTHS] += 1
    ev.t = t
    ev.seq = s.seq
    ev.kind = kind
    ev.task = task
    ev.arg = arg
    s.seq += 1
    i = s.nheap
    s.nheap += 1
    while i > 0:                              # sift the hole up
        parent = (i - 1) >> 1
        if not ev_before(&ev, &s.heap[parent]):
            break
        s.heap[i] = s.heap[parent]
        i = parent
    s.heap[i] = ev
    note_pending(s)


cdef inline Event pop_event(Sim* s) noexcept nogil:
    cdef Event top
    cdef Event last
    cdef int64_t i = 0, child, n
    if s.arr_pending and (s.nheap == 0 or s.arr_t < s.heap[0].t or
                          (s.arr_t == s.heap[0].t and s.arr_seq < s.heap[0].seq)):
        s.arr_pending = 0
        top.t = s.arr_t
        top.seq = s.arr_seq
        top.kind = EV_ARRIVAL
        top.task = -1
        top.arg = 0
        return top
    top = s.heap[0]
    s.nheap -= 1
    n = s.nheap
    if n > 0:
        last = s.heap[n]
        while True:                           # sift the hole down
            child = 2 * i + 1
            if child >= n:
                break
            if child + 1 < n and ev_before(&s.heap[child + 1], &s.heap[child]):
                child += 1
            if not ev_before(&s.heap[child], &last):
                break
            s.heap[i] = s.heap[child]
            i = child
        s.heap[i] = last
    return top


cdef inline void wake(Sim* s, int32_t t, int32_t pc) noexcept nogil:
    s.tasks[t].pc = pc
    schedule(s, s.now + s.wake, EV_RUN, t, 0)


cdef inline void record(Sim* s, int metric, int64_t value) noexcept nogil:
    if hist_record(&s.hists[metric], value) != HIST_OK:
        s.error = ERR_HIST


# ------------------------------------------------------------------ tasks and timeline
cdef inline int32_t new_task(Sim* s, int32_t kind) noexcept nogil:
    cdef int32_t t
    cdef Task* grown
    if s.nfree > 0:
        s.nfree -= 1
        t = s.free_ids[s.nfree]
    else:
        if s.ntasks == s.captasks:
            grown = <Task*>realloc(s.tasks, 2 * s.captasks * sizeof(Task))
            if grown == NULL:
                s.error = ERR_NOMEM
                return 0
            s.tasks = grown
            s.captasks *= 2
            s.free_ids = <int32_t*>realloc(s.free_ids, s.captasks * sizeof(int32_t))
            if s.free_ids == NULL:
                s.error = ERR_NOMEM
                return 0
            s.counters[C_BUFFER_GROWTHS] += 1
        t = s.ntasks
        s.ntasks += 1
    # Every scalar field, explicitly (a memset of the whole 272-byte Task cost ~50
    # instructions per task); the arrays are written before they are read: snap by
    # start_task, prog by fault_locked, waits via nwaits, lane_start only in scripts.
    cdef Task* task = &s.tasks[t]
    task.hold = 0
    task.cpu = 0
    task.minor = 0
    task.bio = 0
    task.mkwrite = 0
    task.evicted = -1
    task.evict_bio = 0
    task.revalidate_fail = -1
    task.t_arrive = 0
    task.t_req = 0
    task.t_grant = 0
    task.t_pass_end = 0
    task.done = -1
    task.kind = kind
    task.fault = 0
    task.pc = 0
    task.passes = 1
    task.ip = 0
    task.nprog = 0
    task.holding = 0
    task.dropped = 0
    task.woken = 0
    task.blocked = BL_NONE
    task.page_ready = 1
    task.waiting_page = 0
    task.page_waiter = -1
    task.nwaits = 0
    if s.record_timeline:
        task.lane_start[0] = -1
        task.lane_start[1] = -1
        task.lane_start[2] = -1
        task.lane_start[3] = -1
    return t


cdef inline void finish(Sim* s, int32_t t) noexcept nogil:
    s.alive -= 1
    s.tasks[t].done = s.now
    if s.reuse_ids:
        s.free_ids[s.nfree] = t
        s.nfree += 1


cdef inline void lane_on(Sim* s, int32_t t, int lane) noexcept nogil:
    if s.record_timeline:
        s.tasks[t].lane_start[lane] = s.now


cdef inline void lane_off(Sim* s, int32_t t, int lane) noexcept nogil:
    cdef int64_t* grown
    cdef Task* task = &s.tasks[t]
    if not s.record_timeline or task.lane_start[lane] < 0:
        return
    if s.ntimeline + 4 > s.captimeline:
        grown = <int64_t*>realloc(s.timeline, 2 * s.captimeline * sizeof(int64_t))
        if grown == NULL:
            s.error = ERR_NOMEM
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
    cdef Task* task = &s.tasks[t]
    if task.nwaits < 2:
        task.waits[task.nwaits] = wait
    task.nwaits += 1


# ------------------------------------------------------------------ inversion clock
cdef inline void clock_change(Sim* s, int k, int64_t delta) noexcept nogil:
    if s.nblocked[k] > 0:
        s.integral[k] += s.now - s.last[k]
    s.last[k] = s.now
    s.nblocked[k] += delta


cdef inline void blocked_change(Sim* s, int kind, int64_t delta) noexcept nogil:
    clock_change(s, kind, delta)
    clock_change(s, N_BLAME, delta)


cdef inline int64_t integral_now(Sim* s, int k) noexcept nogil:
    if s.nblocked[k] > 0:
        return s.integral[k] + s.now - s.last[k]
    return s.integral[k]


cdef inline void block(Sim* s, int32_t t, int blame) noexcept nogil:
    cdef Task* task = &s.tasks[t]
    if task.holding and blame != BL_NONE:
        task.blocked = blame
        blocked_change(s, blame, 1)


cdef inline void unblock(Sim* s, int32_t t) noexcept nogil:
    cdef Task* task = &s.tasks[t]
    if task.blocked != BL_NONE:
        blocked_change(s, task.blocked, -1)
        task.blocked = BL_NONE


cdef inline void judge_inversion(Sim* s, int32_t t) noexcept nogil:
    cdef Task* task = &s.tasks[t]
    cdef int k, blame = 0
    cdef int64_t overlap, best = -1
    if integral_now(s, N_BLAME) - task.snap[N_BLAME] <= 0:
        return
    for k in range(N_BLAME):                  # longest overlap; ties go to the first kind
        overlap = integral_now(s, k) - task.snap[k]
        if overlap > best:
            best = overlap
            blame = k
    s.counters[C_INVERSIONS] += 1
    s.counters[C_BLAME0 + blame] += 1
    s.trial[T_INVERSIONS] += 1
    record(s, M_INVERSION_WAIT, s.now + s.wake - task.t_req)


# ------------------------------------------------------------------ the rwsem L
cdef inline bint read_request(Sim* s, int32_t t) noexcept nogil:
    s.counters[C_LOCK_ACQ] += 1
    s.tasks[t].t_req = s.now
    if s.writer < 0 and not s.handoff:
        if s.lockq.len == 0:
            s.nreaders += 1
            return True
        if s.era == 1 and s.nreaders == 0:   # 5.11+ reader lock stealing
            s.counters[C_READER_STEALS] += 1
            s.nreaders += 1
            return True
    fifo_push(s, &s.lockq, t * 2)
    lane_on(s, t, LANE_WAIT)
    return False


cdef inline bint write_request(Sim* s, int32_t t) noexcept nogil:
    s.counters[C_LOCK_ACQ] += 1
    s.tasks[t].t_req = s.now
    if s.writer < 0 and s.nreaders == 0 and not s.handoff:
        if s.lockq.len > 0:
            s.counters[C_WRITER_STEALS] += 1
        s.writer = t
        return True
    fifo_push(s, &s.lockq, t * 2 + 1)
    lane_on(s, t, LANE_WAIT)
    return False


cdef inline void release(Sim* s, int32_t t) noexcept nogil:
    cdef Task* task = &s.tasks[t]
    cdef int64_t held = s.now - task.t_grant
    lane_off(s, t, LANE_HOLD)
    task.holding = 0
    if s.writer == t:
        s.writer = -1
        record(s, M_HOLD_WRITER, held)
    else:
        s.nreaders -= 1
        record(s, M_HOLD_HP if task.kind == TK_HP else M_HOLD_FAULT, held)
    if s.writer < 0 and s.nreaders == 0:
        wake_waiters(s)


cdef inline void grant_read(Sim* s, int32_t t) noexcept nogil:
    cdef Task* task = &s.tasks[t]
    s.nreaders += 1
    task.holding = 1
    task.t_grant = s.now
    lane_on(s, t, LANE_HOLD)
    if task.kind == TK_HP:
        judge_inversion(s, t)
    wake(s, t, PC_LOCK)


cdef void wake_waiters(Sim* s) noexcept nogil:
    cdef int32_t head, entry
    cdef int64_t i, kept = 0, granted = 0, limit
    cdef Fifo* q = &s.lockq
    if q.len == 0:
        return
    head = q.items[q.head]
    if head & 1:                              # a writer is only woken
        if not s.tasks[head >> 1].woken:
            s.tasks[head >> 1].woken = 1
            wake(s, head >> 1, PC_LOCK)
        return
    if s.era == 0:                            # 4.x: the consecutive readers at the head
        while q.len > 0 and (q.items[q.head] & 1) == 0:
            grant_read(s, fifo_pop(q) >> 1)
    else:                                     # 5.11+: every queued reader, up to the limit
        limit = s.sc.max_readers_wakeup
        for i in range(q.len):
            entry = q.items[q.head + i]
            if (entry & 1) == 0 and granted < limit:
                granted += 1
                grant_read(s, entry >> 1)
            else:
                q.items[q.head + kept] = entry
                kept += 1
        q.len = kept
        if kept == 0:
            q.head = 0
        s.handoff = 0
    if q.len == 0:
        s.handoff = 0


cdef inline bint writer_runs(Sim* s, int32_t t) noexcept nogil:
    s.tasks[t].woken = 0
    if s.writer < 0 and s.nreaders == 0:
        fifo_pop(&s.lockq)
        s.writer = t
        s.handoff = 0
        return True
    if s.era == 1 and s.now - s.tasks[t].t_req > s.sc.handoff_ns:
        if not s.handoff:
            s.counters[C_HANDOFFS] += 1
        s.handoff = 1
    return False


# ------------------------------------------------------------------ io.latency gate
cdef inline bint gate_enter(Sim* s, int32_t t) noexcept nogil:
    s.tasks[t].t_req = s.now
    if s.inflight < s.depth and s.gate.len == 0:
        s.inflight += 1
        record(s, M_GATE_WAIT, 0)
        return True
    fifo_push(s, &s.gate, t)
    lane_on(s, t, LANE_GATE)
    return False


cdef inline void issue(Sim* s, int32_t t, int64_t duration, int32_t notify) noexcept nogil:
    s.counters[C_BIOS] += 1
    lane_on(s, t, LANE_IO)
    schedule(s, s.now + duration, EV_BIO_DONE, t, notify)


cdef inline void bio_done(Sim* s, int32_t t, int32_t notify) noexcept nogil:
    cdef int32_t fault
    s.inflight -= 1
    if s.gate.len > 0:                        # the freed slot goes to the first waiter
        s.inflight += 1
        wake(s, fifo_pop(&s.gate), PC_GATE)
    if notify == BIO_NOTIFY_NONE:             # async readahead: nobody waits (t may be gone)
        if s.record_timeline:                 # scripts never reuse task slots
            lane_off(s, t, LANE_IO)
        return
    lane_off(s, t, LANE_IO)
    if notify == BIO_BG:
        fault = s.tasks[t].page_waiter
        finish(s, t)
        if fault >= 0:
            s.tasks[fault].page_ready = 1
            if s.tasks[fault].waiting_page:
                s.tasks[fault].waiting_page = 0
                wake(s, fault, PC_WAITED)
    else:
        wake(s, t, PC_WAITED)


# ------------------------------------------------------------------ HP readers, writers
cdef inline void hold_for(Sim* s, int32_t t, int64_t duration) noexcept nogil:
    if duration > 0:
        s.tasks[t].pc = PC_HOLD_DONE
        schedule(s, s.now + duration, EV_RUN, t, 0)
    else:
        release(s, t)
        finish(s, t)


cdef inline void hp_runs(Sim* s, int32_t t) noexcept nogil:
    cdef int64_t wait = s.now - s.tasks[t].t_req
    lane_off(s, t, LANE_WAIT)
    record(s, M_HP_WAIT, wait)
    note_wait(s, t, wait)
    s.trial[T_HP_READS] += 1
    s.trial[T_HP_WAIT_SUM] = sat_add(s.trial[T_HP_WAIT_SUM], wait)
    if wait > s.trial[T_HP_WAIT_MAX]:
        s.trial[T_HP_WAIT_MAX] = wait
    hold_for(s, t, s.tasks[t].hold)


cdef inline void took_write(Sim* s, int32_t t) noexcept nogil:
    cdef Task* task = &s.tasks[t]
    cdef int64_t wait = s.now - task.t_req
    task.holding = 1
    task.t_grant = s.now
    lane_off(s, t, LANE_WAIT)
    lane_on(s, t, LANE_HOLD)
    record(s, M_WRITER_WAIT, wait)
    note_wait(s, t, wait)
    s.trial[T_WRITES] += 1
    s.trial[T_WRITER_WAIT_SUM] = sat_add(s.trial[T_WRITER_WAIT_SUM], wait)
    hold_for(s, t, task.hold)


cdef inline void start_task(Sim* s, int32_t t) noexcept nogil:
    cdef Task* task = &s.tasks[t]
    cdef int32_t page
    cdef int k
    s.alive += 1
    task.t_arrive = s.now
    if task.kind == TK_HP:
        s.counters[C_HP_READS] += 1
        if read_request(s, t):
            task.holding = 1
            task.t_grant = s.now
            lane_on(s, t, LANE_HOLD)
            hp_runs(s, t)
        else:
            for k in range(N_BLAME + 1):
                task.snap[k] = integral_now(s, k)
    elif task.kind == TK_WRITER:
        s.counters[C_WRITES] += 1
        if write_request(s, t):
            took_write(s, t)
    elif task.kind == TK_BG:
        s.counters[C_BG_BIOS] += 1
        if gate_enter(s, t):
            issue(s, t, task.bio, BIO_BG)
    else:
        s.counters[C_FAULTS] += 1
        s.counters[C_FAULT_KIND0 + task.fault] += 1
        if task.fault == FK_LOCKED:
            # Another LP context is reading this page: its bio enters the gate now.
            page = new_task(s, TK_BG)
            task = &s.tasks[t]                # new_task may have moved the pool
            s.tasks[page].bio = task.bio
            s.tasks[page].page_waiter = t
            task.page_ready = 0
            s.alive += 1
            if gate_enter(s, page):
                issue(s, page, task.bio, BIO_BG)
        fault_pass(s, t)


# ------------------------------------------------------------------ faults
cdef inline void fault_pass(Sim* s, int32_t t) noexcept nogil:
    cdef Task* task = &s.tasks[t]
    task.pc = PC_LOCK
    if read_request(s, t):
        task.holding = 1
        task.t_grant = s.now
        lane_on(s, t, LANE_HOLD)
        fault_locked(s, t)


cdef inline void push_op(Task* task, int8_t op, int8_t col, int8_t blame, int8_t arg) noexcept nogil:
    task.prog[task.nprog].op = op
    task.prog[task.nprog].col = col
    task.prog[task.nprog].blame = blame
    task.prog[task.nprog].arg = arg
    task.nprog += 1


cdef inline void fault_locked(Sim* s, int32_t t) noexcept nogil:
    cdef Task* task = &s.tasks[t]
    cdef int32_t i
    cdef int64_t wait = s.now - task.t_req
    lane_off(s, t, LANE_WAIT)
    record(s, M_FAULT_LOCK_WAIT, wait)
    note_wait(s, t, wait)
    task.dropped = 0
    task.ip = 0
    task.nprog = 0
    if task.passes == 1:
        push_op(task, OP_CPU, -1, BL_NONE, ARG_CPU)
        for i in range(PROGRAM_LEN[task.fault]):
            task.prog[task.nprog] = PROGRAMS[task.fault][i]
            task.nprog += 1
    else:
        push_op(task, OP_CPU, -1, BL_NONE, ARG_MINOR)
        retry_steps(s, task)
    advance(s, t)


cdef inline void retry_steps(Sim* s, Task* task) noexcept nogil:
    cdef double e
    cdef int32_t i
    if not s.policy[5]:
        if task.evicted < 0:
            task.evicted = 0
            if s.sc.evict_per_ns > 0:
                e = random_standard_exponential(s.rng)
                if s.sc.evict_per_ns * <double>(s.now - task.t_pass_end) > e:
                    task.evicted = 1
                    task.evict_bio = draw_ns(s, &s.sc.device)
        if task.evicted:
            s.counters[C_EVICTIONS] += 1
            push_op(task, OP_SUBMIT, -1, BL_PASS2_READ, ARG_EVICT_BIO)
            push_op(task, OP_WAIT_IO, -1, BL_PASS2_READ, ARG_NONE)
    elif task.fault == FK_MKWRITE_FAST or task.fault == FK_MKWRITE_SLOW:
        if task.revalidate_fail < 0:
            task.revalidate_fail = 0
            if s.sc.revalidate_fail > 0:
                if uniform(s) < s.sc.revalidate_fail:
                    task.revalidate_fail = 1
                    if task.fault == FK_MKWRITE_SLOW:
                        task.bio = draw_ns(s, &s.sc.device)
                    else:
                        task.mkwrite = draw_ns(s, &s.sc.mkwrite_fast)
        if task.revalidate_fail:
            s.counters[C_REVALIDATE_FAILS] += 1
            for i in range(PROGRAM_LEN[task.fault]):
                task.prog[task.nprog] = PROGRAMS[task.fault][i]
                task.nprog += 1


cdef inline int64_t operand(Task* task, int arg) noexcept nogil:
    if arg == ARG_BIO:
        return task.bio
    if arg == ARG_MKWRITE:
        return task.mkwrite
    if arg == ARG_CPU:
        return task.cpu
    if arg == ARG_MINOR:
        return task.minor
    return task.evict_bio


cdef void advance(Sim* s, int32_t t) noexcept nogil:
    cdef Task* task = &s.tasks[t]
    cdef Op* o
    cdef bint locked
    cdef int64_t duration
    while task.ip < task.nprog:
        o = &task.prog[task.ip]
        if o.op == OP_WAIT_PAGE and task.page_ready:
            task.ip += 1                      # trylock_page succeeds: nothing to drop
            continue
        locked = task.passes == 2 or o.col < 0 or s.policy[o.col]
        if not locked and task.holding:
            release(s, t)                     # the policy drops L before this step
            task.dropped = 1
        if o.op == OP_CPU:
            task.ip += 1
            duration = operand(task, o.arg)
            if duration > 0:
                task.pc = PC_OP
                schedule(s, s.now + duration, EV_RUN, t, 0)
                return
        elif o.op == OP_SUBMIT:
            if not gate_enter(s, t):
                block(s, t, o.blame)
                return                        # resumes in run_task at PC_GATE
            submit_issue(s, t)
        else:
            if o.op == OP_WAIT_PAGE:
                task.waiting_page = 1
                lane_on(s, t, LANE_IO)
            block(s, t, o.blame)
            return                            # resumes in run_task at PC_WAITED
    end_pass(s, t)


cdef inline void submit_issue(Sim* s, int32_t t) noexcept nogil:
    cdef Task* task = &s.tasks[t]
    cdef Op* o = &task.prog[task.ip]
    cdef int32_t nxt = task.ip + 1
    cdef bint waited = nxt < task.nprog and task.prog[nxt].op == OP_WAIT_IO
    issue(s, t, operand(task, o.arg), BIO_WAKE_OWNER if waited else BIO_NOTIFY_NONE)
    task.ip += 1


cdef inline void end_pass(Sim* s, int32_t t) noexcept nogil:
    cdef Task* task = &s.tasks[t]
    cdef int64_t latency
    if task.passes == 1 and task.dropped:     # VM_FAULT_RETRY: retry once, with TRIED
        s.counters[C_RETRIES] += 1
        task.passes = 2
        task.t_pass_end = s.now
        fault_pass(s, t)
        return
    if task.holding:
        release(s, t)
    latency = s.now - task.t_arrive
    record(s, M_FAULT_LATENCY, latency)
    record(s, M_FAULT_PASSES, task.passes)
    s.trial[T_FAULTS] += 1
    s.trial[T_FAULT_LAT_SUM] = sat_add(s.trial[T_FAULT_LAT_SUM], latency)
    finish(s, t)


# ------------------------------------------------------------------ dispatch
cdef void run_task(Sim* s, int32_t t) noexcept nogil:
    cdef Task* task = &s.tasks[t]
    cdef int32_t pc = task.pc
    if pc == PC_HOLD_DONE:
        release(s, t)
        finish(s, t)
    elif pc == PC_LOCK:
        if task.kind == TK_WRITER:
            if writer_runs(s, t):
                took_write(s, t)
        elif task.kind == TK_HP:
            hp_runs(s, t)
        else:
            fault_locked(s, t)
    elif pc == PC_GATE:                       # handed a gate slot: issue the bio
        lane_off(s, t, LANE_GATE)
        record(s, M_GATE_WAIT, s.now - task.t_req)
        if task.kind == TK_BG:
            issue(s, t, task.bio, BIO_BG)
        else:
            unblock(s, t)
            submit_issue(s, t)
            advance(s, t)
    elif pc == PC_WAITED:                     # the awaited bio or page completed
        unblock(s, t)
        if task.prog[task.ip].op == OP_WAIT_PAGE:
            lane_off(s, t, LANE_IO)
        task.ip += 1
        advance(s, t)
    else:                                     # PC_OP: a CPU stretch ended
        advance(s, t)


cdef inline void arrive(Sim* s) noexcept nogil:
    """A Poisson arrival: type and attributes, then the next gap (same draws, same order
    as ReferenceEngine._arrive)."""
    cdef const Scenario* sc = s.sc
    cdef int32_t t = new_task(s, TK_BG)
    cdef Task* task = &s.tasks[t]
    cdef double u = uniform(s), k
    cdef DistSpec gap
    if u < sc.cut_hp:
        task.kind = TK_HP
        task.hold = draw_ns(s, &sc.hp_hold)
    elif u < sc.cut_lp:
        if uniform(s) < sc.writer_ratio:
            task.kind = TK_WRITER
            task.hold = draw_ns(s, &sc.writer_hold)
        else:
            task.kind = TK_FAULT
            if uniform(s) < sc.write_fault_ratio:
                if uniform(s) < sc.p_mkwrite_slow:
                    task.fault = FK_MKWRITE_SLOW
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
            task.cpu = draw_ns(s, &sc.fault_cpu)
            task.minor = draw_ns(s, &sc.minor_cpu)
    else:
        task.bio = draw_ns(s, &sc.device)
    gap.kind = 1
    gap.a = sc.arrival_mean_ns
    gap.b = 0.0
    schedule(s, s.now + draw_ns(s, &gap), EV_ARRIVAL, -1, 0)
    start_task(s, t)


cdef inline void dispatch(Sim* s, Event* ev) noexcept nogil:
    if ev.kind == EV_RUN:
        run_task(s, ev.task)
    elif ev.kind == EV_BIO_DONE:
        bio_done(s, ev.task, ev.arg)
    elif ev.task < 0:                         # random mode: draw the arrival
        arrive(s)
    else:                                     # scripted mode: the task is ready-made
        start_task(s, ev.task)


# ------------------------------------------------------------------ invariants
cdef int check_state(Sim* s) noexcept nogil:
    """The safety and liveness properties of ReferenceEngine._check, after an event: 0, or
    the code of the first one broken (1 + its index in mcsim.numeric.INVARIANTS).  Called
    only when run_block is asked to check, so the default loop pays one branch."""
    cdef Fifo* q = &s.lockq
    cdef int64_t i
    cdef int32_t head
    cdef bint writer_ahead
    if s.writer >= 0 and s.nreaders > 0:
        return INV_READER_AND_WRITER
    if s.nreaders < 0 or s.inflight < 0 or s.inflight > s.depth:
        return INV_RANGE
    if s.writer < 0 and s.nreaders == 0 and q.len > 0:
        head = q.items[q.head]
        if not (head & 1) or not s.tasks[head >> 1].woken:
            return INV_NOBODY_WOKEN
    if s.gate.len > 0 and s.inflight != s.depth:
        return INV_GATE_SLOT_FREE
    if s.era == 0:
        if s.handoff or s.counters[C_READER_STEALS] != 0:
            return INV_OLD_ERA_RULES
        # 4.x: a reader is queued only behind a writer or while the lock is write-held
        writer_ahead = s.writer >= 0
        for i in range(q.len):
            if q.items[q.head + i] & 1:
                writer_ahead = True
            elif not writer_ahead:
                return INV_READER_FOR_NOTHING
    if s.handoff and q.len == 0:
        return INV_HANDOFF_EMPTY
    return 0
