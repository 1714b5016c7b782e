# The rwsem L of each process and its inversion clock (included by engine.pyx):
# docs/model.md §2.1, §7.13, §11.1 (the era as three flags), §11.6 (the handoff timeout in
# jiffies), §11.7, §12.1 (one L_p per process, nothing shared between them).  A task
# reaches its process's state through task.proc.  Mirrors the rwsem seam of
# mcsim/reference.py.

# ------------------------------------------------------------------ inversion clock
cdef inline void clock_change(Sim* s, Proc* p, int k, int64_t delta) noexcept nogil:
    if p.nblocked[k] > 0:
        p.integral[k] += s.now - p.last[k]
    p.last[k] = s.now
    p.nblocked[k] += delta


cdef inline void blocked_change(Sim* s, Proc* p, int kind, int64_t delta) noexcept nogil:
    clock_change(s, p, kind, delta)
    clock_change(s, p, N_BLAME, delta)


cdef inline int64_t integral_now(Sim* s, Proc* p, int k) noexcept nogil:
    if p.nblocked[k] > 0:
        return p.integral[k] + s.now - p.last[k]
    return p.integral[k]


cdef inline void block(Sim* s, int32_t t, int blame) noexcept nogil:
    """The task sleeps in a blamed step: counted only while it holds L (a task holding
    only V delays the HP reader through a writer, which is counted itself)."""
    cdef Task* task = &s.tasks[t]
    if task.holding and blame != BL_NONE:
        task.blocked = blame
        blocked_change(s, task.proc, blame, 1)


cdef inline void unblock(Sim* s, int32_t t) noexcept nogil:
    cdef Task* task = &s.tasks[t]
    if task.blocked != BL_NONE:
        blocked_change(s, task.proc, task.blocked, -1)
        task.blocked = BL_NONE


cdef inline void snapshot_clock(Sim* s, Task* task) noexcept nogil:
    cdef int k
    cdef Proc* p = task.proc
    for k in range(N_BLAME + 1):
        task.snap[k] = integral_now(s, p, k)


cdef inline void judge_inversion(Sim* s, int32_t t) noexcept nogil:
    """Only the holders of the reader's own L_p are judged (§12.1), at the grant; the
    acquisition's inversion_wait is its wait when it runs (hp_runs, §14.4)."""
    cdef Task* task = &s.tasks[t]
    cdef Proc* p = task.proc
    cdef int k, blame = 0
    cdef int64_t overlap, best = -1
    if integral_now(s, p, N_BLAME) - task.snap[N_BLAME] <= 0:
        return
    for k in range(N_BLAME):                  # longest overlap; ties go to the first kind
        overlap = integral_now(s, p, k) - task.snap[k]
        if overlap > best:
            best = overlap
            blame = k
    s.counters.inversions += 1
    counter_slot(s, C_BLAME_SUBMIT + blame)[0] += 1
    if PLAIN or task.counted:
        s.trial[T_INVERSIONS] += 1
        task.inverted = 1                     # inversion_wait is recorded as it runs (§14.4)


# ------------------------------------------------------------------ requests and release
cdef inline bint read_request(Sim* s, int32_t t, Task* task) noexcept nogil:
    """(task: &s.tasks[t], see fault_pass)"""
    if not PLAIN:
        task = &s.tasks[t]
    cdef Proc* p = task.proc
    s.counters.lock_acquisitions += 1
    task.t_req = s.now
    if p.writer < 0 and not p.handoff:
        if p.lockq.len == 0:
            p.nreaders += 1
            return True
        if s.reader_steal and p.nreaders == 0:    # 5.11+ reader lock stealing
            s.counters.reader_steals += 1
            p.nreaders += 1
            return True
    fifo_push(s, &p.lockq, t * 2)
    lane_on(s, t, LANE_WAIT)
    cpu_free(s, t)                            # it sleeps after its queue entry (§14.1)
    return False


cdef inline bint write_request(Sim* s, int32_t t, Task* task) noexcept nogil:
    """(task: &s.tasks[t], see fault_pass)"""
    cdef Proc* p
    if not PLAIN:
        task = &s.tasks[t]
    p = task.proc
    s.counters.lock_acquisitions += 1
    task.t_req = s.now
    if p.writer < 0 and p.nreaders == 0 and not p.handoff:
        if p.lockq.len > 0:
            s.counters.writer_steals += 1
        p.writer = t
        return True
    fifo_push(s, &p.lockq, t * 2 + 1)
    lane_on(s, t, LANE_WAIT)
    cpu_free(s, t)
    return False


cdef inline void release(Sim* s, int32_t t) noexcept nogil:
    """up_read / up_write of L; a writer's release also ends its VMA write lock
    (vma_end_write_all() in mmap_write_unlock())."""
    cdef Task* task = &s.tasks[t]
    cdef Proc* p = task.proc
    cdef int64_t held = s.now - task.t_grant
    cdef int32_t head
    lane_off(s, t, LANE_HOLD)
    task.holding = 0
    if p.writer == t:
        p.writer = -1
        if task.vm.writer == t:
            task.vm.writer = -1
        if PLAIN or task.counted:
            record(s, M_HOLD_WRITER, held)
    else:
        p.nreaders -= 1
        if PLAIN or task.counted:             # (two sites: each metric a constant)
            if task.kind == TK_HP_READ:
                record(s, M_HOLD_HP, held)
            else:
                record(s, M_HOLD_FAULT, held)
    if p.lockq.len > 0 and p.writer < 0 and p.nreaders == 0:
        head = p.lockq.items[p.lockq.head]    # (tested here, queue first: most releases
        if PLAIN and head & 1:                # queue nobody)  The plain build inlines
            if not s.tasks[head >> 1].woken:  # wake_waiters' first case: a writer at
                s.tasks[head >> 1].woken = 1  # the head is only woken
                wake(s, head >> 1, PC_LOCK)
        else:
            wake_waiters(s, p)


cdef inline void grant_read(Sim* s, Proc* p, int32_t t) noexcept nogil:
    """The reader holds L from the grant, whether it runs after its wake-up or waits for
    a CPU (§14.3); judging draws nothing, so the wake-up's one jitter draw (§13.2) comes
    at the same point of the stream as before."""
    cdef Task* task = &s.tasks[t]
    p.nreaders += 1
    task.holding = 1
    task.t_grant = s.now
    lane_on(s, t, LANE_HOLD)
    if task.kind == TK_HP_READ:
        judge_inversion(s, t)
    wake(s, t, PC_LOCK)


cdef void wake_waiters(Sim* s, Proc* p) noexcept nogil:
    cdef int32_t head, entry
    cdef int64_t i, kept = 0, granted = 0, limit
    cdef Fifo* q = &p.lockq
    if q.len == 0:
        return
    head = q.items[q.head]
    if head & 1:                              # a writer is only woken
        if not s.tasks[head >> 1].woken:
            s.tasks[head >> 1].woken = 1
            wake(s, head >> 1, PC_LOCK)
        return
    if not s.wake_all_readers:                # 4.x: the consecutive readers at the head
        while q.len > 0 and (q.items[q.head] & 1) == 0:
            grant_read(s, p, fifo_pop(q) >> 1)
    else:                                     # 5.3+: every queued reader, up to the limit
        limit = s.sc.max_readers_wakeup
        for i in range(q.len):
            entry = q.items[q.head + i]
            if (entry & 1) == 0 and granted < limit:
                granted += 1
                grant_read(s, p, entry >> 1)
            else:
                q.items[q.head + kept] = entry
                kept += 1
        q.len = kept
        if kept == 0:
            q.head = 0
        p.handoff = 0
    if q.len == 0:
        p.handoff = 0


cdef inline bint handoff_due(Sim* s, int64_t t_req) noexcept nogil:
    """The woken head writer's timeout test: continuous time, or (hz > 0) the kernel's
    time_after(jiffies, timeout) with timeout = jiffies at the request + RWSEM_WAIT_TIMEOUT,
    jiffies counted from the block's start (docs/model.md §11.6)."""
    if s.jiffy_ns > 0:
        return (sat_add(s.base, s.now) // s.jiffy_ns
                > sat_add(s.base, t_req) // s.jiffy_ns + s.handoff_jiffies)
    return s.now - t_req > s.sc.handoff_ns


cdef inline bint writer_runs(Sim* s, int32_t t) noexcept nogil:
    cdef Task* task = &s.tasks[t]
    cdef Proc* p = task.proc
    task.woken = 0
    if p.writer < 0 and p.nreaders == 0:
        fifo_pop(&p.lockq)
        p.writer = t
        p.handoff = 0
        return True
    if s.handoff_rule and handoff_due(s, task.t_req):
        if not p.handoff:
            s.counters.handoffs += 1
        p.handoff = 1
    cpu_free(s, t)                            # it sleeps again at the head (§14.1 item 1)
    return False
