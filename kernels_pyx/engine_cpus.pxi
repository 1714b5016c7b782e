# CPUs (included by engine.pyx): docs/model.md §14.  With cpus = 0 every task has a CPU
# of its own and nothing here runs: the callers test s.cpus or task.on_cpu (always 0
# then), one predictable branch.  A CPU context is any task but a background bio; a
# closed-loop thread is one context across its steps (ThreadRt.keeps_cpu).  Mirrors the
# cpus seam of mcsim/reference.

cdef inline void cpu_enqueue(Sim* s, int32_t t, int32_t pc) noexcept nogil:
    """No CPU is idle: the context waits in the run queue and draws nothing (§14.2)."""
    cdef Task* task = &s.tasks[t]
    task.pc = pc
    task.queued = 1
    task.t_runnable = s.now
    s.counters.cpu_queued += 1
    fifo_push(s, &s.runq, t)


cdef void cpu_wake(Sim* s, int32_t t) noexcept nogil:
    """A wake-up (§14.2 case a) with cpus > 0: an idle CPU is taken and the task runs
    after wake + j, j drawn now (§13.2); else it queues.  A background bio keeps the
    wake-up of §4.1 and never takes a CPU (§14.1)."""
    cdef Task* task = &s.tasks[t]
    if task.kind == TK_BG_IO:
        schedule(s, s.now + wake_delay(s), EV_RUN, t, 0)
    elif s.idle > 0:
        s.idle -= 1
        task.on_cpu = 1
        schedule(s, s.now + wake_delay(s), EV_RUN, t, 0)
    else:
        cpu_enqueue(s, t, task.pc)


cdef bint cpu_timer(Sim* s, int32_t t, int32_t pc) noexcept nogil:
    """A context becomes runnable at a timer (§14.2 case b) with cpus > 0: True if it
    took an idle CPU and runs at once; False if it queued, to resume at ``pc``."""
    if s.idle > 0:
        s.idle -= 1
        s.tasks[t].on_cpu = 1
        return True
    cpu_enqueue(s, t, pc)
    return False


cdef void cpu_handover(Sim* s, int32_t t) noexcept nogil:
    """Task t sleeps or ends holding a CPU (§14.1)."""
    s.tasks[t].on_cpu = 0
    cpu_give(s)


cdef void cpu_give(Sim* s) noexcept nogil:
    """A CPU frees: the run queue's head takes it and runs after a cpu_switch draw made
    now, or the CPU becomes idle (§14.3)."""
    cdef int32_t head
    cdef int64_t switch
    if s.runq.len == 0:
        s.idle += 1
        return
    head = fifo_pop(&s.runq)
    s.tasks[head].queued = 0
    s.tasks[head].on_cpu = 1
    switch = draw_ns(s, &s.sc.cpu_switch)     # a const draws nothing
    s.counters.cpu_queue_ns = sat_add(s.counters.cpu_queue_ns,
                                      s.now + switch - s.tasks[head].t_runnable)
    schedule(s, s.now + switch, EV_RUN, head, 0)


cdef inline void cpu_free(Sim* s, int32_t t) noexcept nogil:
    """Called where a context sleeps or finishes, after everything the sleep does; with
    cpus = 0 it costs one branch on a field of s, not a look-up of the task."""
    if not PLAIN and s.cpus and s.tasks[t].on_cpu:
        cpu_handover(s, t)


cdef int check_cpus(Sim* s) noexcept nogil:
    """The invariants of §14.5: 0 or an INV_* code."""
    cdef int64_t held = 0, i
    cdef int32_t t
    for i in range(s.ntasks):                 # finished tasks hold no CPU
        if s.tasks[i].on_cpu:
            held += 1
            if s.tasks[i].kind == TK_BG_IO:
                return INV_A_BACKGROUND_BIO_HOLDS_A_CPU
            if s.tasks[i].queued:
                return INV_A_CONTEXT_IN_THE_RUN_QUEUE_HOLDS_A_CPU_OR_HAS_A_RUN_PENDING
    for i in range(s.n_threads):
        held += s.threads[i].keeps_cpu
    if s.idle < 0 or s.idle + held != s.cpus:
        return INV_IDLE_CPUS_PLUS_CPUS_HELD_DIFFER_FROM_CPUS
    if s.idle > 0 and s.runq.len > 0:
        return INV_A_CONTEXT_WAITS_FOR_A_CPU_WHILE_ONE_IS_IDLE
    for i in range(s.runq.len):
        t = s.runq.items[s.runq.head + i]
        if not s.tasks[t].queued or s.tasks[t].kind == TK_BG_IO:
            return INV_A_CONTEXT_IN_THE_RUN_QUEUE_HOLDS_A_CPU_OR_HAS_A_RUN_PENDING
    for i in range(s.nheap):                  # it runs only once it takes a CPU
        if s.heap[i].kind == EV_RUN and s.tasks[s.heap[i].task].queued:
            return INV_A_CONTEXT_IN_THE_RUN_QUEUE_HOLDS_A_CPU_OR_HAS_A_RUN_PENDING
    return 0
