# Faults: passes, programs, the retry and TRIED (included by engine.pyx): docs/model.md
# §2.4, §7.6–§7.10, §11.3, §11.4.  A fault is a program of steps interpreted by one state
# machine; the kernel row (policy columns, locks, TRIED rule) and the programs come from
# the scenario record.  Mirrors the faults seam of mcsim/reference.py.

cdef inline void fault_start(Sim* s, int32_t t, Task* task) noexcept nogil:
    """(task: &s.tasks[t], see fault_pass)"""
    cdef int32_t page
    if not PLAIN:
        task = &s.tasks[t]
    s.counters.faults += 1
    counter_slot(s, C_FAULTS_HIT + task.fault)[0] += 1
    if s.page_bio[task.fault]:
        # Another LP context's bio for this page (a read holding the page lock, or
        # writeback in flight) enters the gate now.
        page = new_task(s, TK_BG_IO)
        task = &s.tasks[t]                    # new_task may have moved the pool
        s.tasks[page].bio = task.bio
        s.tasks[page].page_waiter = t
        # Counted as the fault: without CPUs it is the fault's instant anyway; with CPUs
        # a queued fault starts after its admission (§14.2), maybe across the window's
        # edge, and the trial's count of counted tasks must balance.
        s.tasks[page].counted = task.counted
        task.page_ready = 0
        s.alive += 1
        if not PLAIN:                         # (read by window trials only)
            s.counted_alive += task.counted
        if gate_enter(s, page):
            issue(s, page, task.bio, BIO_BG)
        task = &s.tasks[t]                    # issue may have moved the pool (§14.6)
    if rare(not PLAIN and task.thread >= 0 and task.lead > 0, 0):   # the step's lead first (§14.6)
        lead_starts(s, t)
        return
    fault_pass(s, t, task)


cdef inline void fault_pass(Sim* s, int32_t t, Task* task) noexcept nogil:
    """A pass takes its lock as it starts: pass 1 first_lock, a retry retry_lock; V is
    taken at once unless write-locked, which falls back to a read request on L.  (task
    is &s.tasks[t], passed down the pass's start, as fault_runs' and read_request's: none
    of them adds a task, so the pool stays where it is, and GCC, which cannot tell that
    their stores leave s.tasks as it was, loaded it again in each.  The general build
    loads it again all the same: with the pointer passed, GCC stopped inlining
    fault_start, fault_pass and end_pass there, +4.5 instructions per event.)"""
    if not PLAIN:
        task = &s.tasks[t]
    cdef int32_t lock = s.first_lock if task.passes == 1 else s.retry_lock
    if lock == LOCK_VMA and vma_read_lock(s, t):
        task.lock = LOCK_VMA
        fault_runs(s, t, task)
        return
    task.lock = LOCK_MMAP
    task.pc = PC_LOCK
    if read_request(s, t, task):
        task.holding = 1
        task.t_grant = s.now
        lane_on(s, t, LANE_HOLD)
        fault_runs(s, t, task)


cdef inline void fault_runs(Sim* s, int32_t t, Task* task) noexcept nogil:
    """The pass runs holding its lock: build its program and start it (task: &s.tasks[t],
    see fault_pass)."""
    if not PLAIN:
        task = &s.tasks[t]
    cdef int32_t i
    cdef int64_t wait = 0                     # a V pass holds at once
    cdef int64_t lookup
    if task.lock == LOCK_MMAP:                # fault_lock_wait: waits for L only
        wait = s.now - task.t_req
        lane_off(s, t, LANE_WAIT)
        if PLAIN or task.counted:
            record(s, M_FAULT_LOCK_WAIT, wait)
    note_wait(s, t, wait)
    task.dropped = 0
    task.completed = 0
    # Every pass starts with its lookup, a CPU stretch of fault_cpu (pass 1) or minor_cpu
    # (a retry) with no column, so never dropping the lock: it runs here, as step 0 of
    # the program, which is not stored (nothing reads a step behind ip); the kind's
    # steps or the retry's follow from prog[1].
    task.ip = 1
    task.nprog = 1
    if task.tried:
        s.counters.tried_passes += 1
    if task.passes == 1:
        lookup = task.cpu
        for i in range(s.prog_len[task.fault]):
            task.prog[task.nprog] = s.programs[task.fault][i]
            task.nprog += 1
        task.major = s.major[task.fault]
    else:
        lookup = task.minor
        task.major = 0
        if task.passes == 2:                  # decided once, by the first retry pass
            retry_steps(s, task)
    if lookup > 0:
        task.pc = PC_OP
        schedule(s, s.now + lookup, EV_RUN, t, 0)
    else:
        advance_steps(s, t)


cdef inline void redraw_operands(Sim* s, Task* task) noexcept nogil:
    """A failed re-validation redoes the kind's mkwrite program with fresh durations."""
    cdef int32_t i
    cdef int arg
    for i in range(s.prog_len[task.fault]):
        arg = s.programs[task.fault][i].arg
        if arg == ARG_BIO:
            task.bio = draw_ns(s, &s.sc.device)
        elif arg == ARG_MKWRITE:
            task.mkwrite = draw_ns(s, &s.sc.mkwrite_fast)


cdef inline void retry_steps(Sim* s, Task* task) noexcept nogil:
    """The first retry pass: without a kept page, re-read it if it is not uptodate
    (evicted, or a p_retry_miss miss), unless the drop was before dirty throttling (the
    page is mapped already); with one, re-validate a write fault's page."""
    cdef double e
    cdef int32_t i
    cdef Op* o
    if not s.keeps_page:
        if task.dirty_retry:
            return
        if task.evicted < 0:
            task.evicted = 0
            if s.sc.evict_per_ns > 0:
                e = std_exponential(s)
                if s.sc.evict_per_ns * <double>(s.now - task.t_pass_end) > e:
                    task.evicted = 1
            if not task.evicted and s.sc.p_retry_miss > 0:
                if uniform(s) < s.sc.p_retry_miss:
                    task.evicted = 1
                    s.counters.retry_misses += 1
            if task.evicted:
                task.evict_bio = draw_ns(s, &s.sc.device)
        if task.evicted:
            s.counters.evictions += 1
            task.major = 1                    # the pass reads the page: VM_FAULT_MAJOR
            for i in range(s.reread_len):
                task.prog[task.nprog] = s.reread[i]
                task.nprog += 1
    elif s.write_kind[task.fault]:
        if task.revalidate_fail < 0:
            task.revalidate_fail = 0
            if s.sc.revalidate_fail > 0:
                if uniform(s) < s.sc.revalidate_fail:
                    task.revalidate_fail = 1
                    redraw_operands(s, task)
        if task.revalidate_fail:
            s.counters.revalidate_fails += 1
            for i in range(s.prog_len[task.fault]):
                o = &s.programs[task.fault][i]
                if o.op != OP_SLEEP:          # a fault is dirty-throttled at most once
                    task.prog[task.nprog] = o[0]
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
    if arg == ARG_DIRTY:
        return task.dirty
    return task.evict_bio


cdef inline void drop_lock(Sim* s, int32_t t) noexcept nogil:
    if s.tasks[t].holding:
        release(s, t)
    else:
        vma_read_unlock(s, t)


cdef void advance_steps(Sim* s, int32_t t) noexcept nogil:
    """Run the pass's steps from ip: a step runs under the pass's lock iff the pass is
    TRIED, the step has no column, or the kernel's column says so; otherwise the lock is
    dropped before it and the pass ends in VM_FAULT_RETRY (model.md §11.3).  Out of line:
    fault_runs runs a pass's first step itself, and run_task ends a pass after it."""
    cdef Task* task = &s.tasks[t]
    cdef Op* o
    cdef bint dropped_here
    cdef int64_t duration
    while task.ip < task.nprog:
        o = &task.prog[task.ip]
        if o.op == OP_WAIT_PAGE and task.page_ready:
            task.ip += 1                      # trylock_page succeeds: nothing to drop
            continue
        dropped_here = False
        if not (task.tried or o.col < 0 or s.policy[o.col]) and (task.holding or task.vma_held):
            drop_lock(s, t)
            task.dropped = 1
            dropped_here = True
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
            task = &s.tasks[t]                # issue may have moved the pool (§14.6)
        elif o.op == OP_SLEEP:                # balance_dirty_pages()
            task.ip += 1
            if dropped_here:                  # after the page is mapped: the fault ends
                task.completed = s.dirty_completes   # (VM_FAULT_COMPLETED) or its
                task.dirty_retry = 1          # retry finds the PTE in place
            duration = operand(task, o.arg)
            if duration > 0:
                s.counters.dirty_throttles += 1
                block(s, t, o.blame)
                task.pc = PC_SLEPT            # its end is a wake-up: + wake_jitter (§13.2)
                schedule(s, s.now + duration + jitter_ns(s), EV_RUN, t, 0)
                cpu_free(s, t)                # after its timer is set (§14.1 item 4)
                return
        else:
            if o.op == OP_WAIT_PAGE:
                task.waiting_page = 1
                lane_on(s, t, LANE_IO)
            block(s, t, o.blame)
            cpu_free(s, t)                    # it waits for its bio or page (§14.1)
            return                            # resumes in run_task at PC_WAITED
    end_pass(s, t)


cdef inline void submit_issue(Sim* s, int32_t t) noexcept nogil:
    cdef Task* task = &s.tasks[t]
    cdef Op* o = &task.prog[task.ip]
    cdef int32_t nxt = task.ip + 1
    cdef bint waited = nxt < task.nprog and task.prog[nxt].op == OP_WAIT_IO
    task.ip += 1                              # before issue, which may move the pool
    issue(s, t, operand(task, o.arg), BIO_WAKE_OWNER if waited else BIO_NOTIFY_NONE)


cdef inline void end_pass(Sim* s, int32_t t) noexcept nogil:
    """Dropped and not completed: VM_FAULT_RETRY, the next pass starts at once, TRIED
    unless (tried_on_major) this pass held V and was not major.  Otherwise the fault is
    done."""
    cdef Task* task = &s.tasks[t]
    cdef int64_t latency
    if task.dropped and not task.completed:
        s.counters.retries += 1
        task.tried = not (s.tried_on_major and task.lock == LOCK_VMA and not task.major)
        task.passes += 1
        task.t_pass_end = s.now
        fault_pass(s, t, task)
        return
    if task.holding:
        release(s, t)
    elif task.vma_held:
        vma_read_unlock(s, t)
    if PLAIN or task.counted:
        latency = s.now - task.t_arrive
        record(s, M_LP_FAULT_LATENCY, latency)
        record(s, M_FAULT_PASSES, task.passes)
        if s.trial_rows:                      # (only end_trial's rows read them)
            s.trial[T_FAULTS] += 1
            s.trial[T_FAULT_LATENCY_SUM] = sat_add(s.trial[T_FAULT_LATENCY_SUM], latency)
    finish(s, t)
