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
        wake_now(s, t, wake_delay(s))
    elif s.affine:
        affine_wake(s, t)
    elif s.idle > 0:
        s.idle -= 1
        task.on_cpu = 1
        wake_now(s, t, wake_delay(s))
    else:
        cpu_enqueue(s, t, task.pc)


cdef bint cpu_timer(Sim* s, int32_t t, int32_t pc) noexcept nogil:
    """A context becomes runnable at a timer (§14.2 case b) with cpus > 0: True if it
    took an idle CPU and runs at once; False if it queued, to resume at ``pc``."""
    if s.affine:
        return affine_timer(s, t, pc)
    if s.idle > 0:
        s.idle -= 1
        s.tasks[t].on_cpu = 1
        return True
    cpu_enqueue(s, t, pc)
    return False


cdef void cpu_handover(Sim* s, int32_t t) noexcept nogil:
    """Task t sleeps or ends holding a CPU (§14.1)."""
    s.tasks[t].on_cpu = 0
    if s.affine:
        affine_give(s, s.tasks[t].cpu_home - 1)
    else:
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
    """The invariants of §14.5 (§14.7 with per-CPU run queues): 0 or an INV_* code."""
    cdef int64_t held = 0, i
    cdef int32_t t
    if s.affine:
        return check_affine(s)
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
    for i in range(s.nowq_head, s.nowq_end):  # (the runs at now, wake_now)
        if s.tasks[s.nowq[i].task].queued:
            return INV_A_CONTEXT_IN_THE_RUN_QUEUE_HOLDS_A_CPU_OR_HAS_A_RUN_PENDING
    return 0


# ------------------------------------------------------------------ per-CPU run queues
# With cpus > 0 and cpu_affinity > 0 (s.affine) each CPU has its own FIFO run queue and a
# context that becomes runnable goes to a target CPU: its waker's for a wake-up by a
# running context, else the CPU it last ran on (docs/model.md §14.7).  s.idle still counts
# the idle CPUs; s.cpu_busy says which.  None of this runs with cpu_affinity = 0.
# The entry points are kept out of line (noinline): inlined, they grow their callers on
# the one-queue path (cpu_timer stopped being inlined into the event loop, +9
# instructions per event at cpus = 2), which must stay as it was.
cdef extern from *:
    """
    #define mcsim_noinline_flag __attribute__((noinline)) int
    #define mcsim_noinline_void __attribute__((noinline)) void
    """
    ctypedef int noinline_flag "mcsim_noinline_flag"
    ctypedef void noinline_void "mcsim_noinline_void"


cdef int affine_init(Sim* s, const Scenario* sc) noexcept nogil:
    """Allocate the per-CPU state when the scenario asks for it; 0 or -1 (no memory)."""
    cdef int64_t c
    s.affine = sc.cpus > 0 and sc.cpu_affinity > 0.0
    s.affinity = sc.cpu_affinity
    s.waker_cpu = -1
    s.timers = s.affine and sc.timer_slack > 0    # timers coalesced per CPU (§14.8)
    s.group_cpu = -1
    s.group_placed = 0
    s.timer_arms = 0
    if not s.affine:
        return 0
    s.cpu_busy = <int32_t*>calloc(sc.cpus, sizeof(int32_t))
    s.cpu_queues = <Fifo*>calloc(sc.cpus, sizeof(Fifo))
    if s.cpu_busy == NULL or s.cpu_queues == NULL:
        return -1
    for c in range(sc.cpus):                  # each starts with room for 64 (§14.5)
        if fifo_init(&s.cpu_queues[c], 64) != 0:
            return -1
    return 0


cdef void affine_free(Sim* s) noexcept nogil:
    cdef int64_t c
    if s.cpu_queues != NULL:
        for c in range(s.cpus):
            free(s.cpu_queues[c].items)
    free(s.cpu_queues)
    free(s.cpu_busy)


cdef noinline_void affine_reset(Sim* s) noexcept nogil:
    """A trial starts with every CPU idle and every run queue empty (§14.5)."""
    cdef int64_t c
    for c in range(s.cpus):
        s.cpu_busy[c] = 0
        s.cpu_queues[c].head = 0
        s.cpu_queues[c].len = 0


cdef inline void note_waker(Sim* s, const Event* ev) noexcept nogil:
    """Before an event runs: the CPU of the context whose run it is, or -1 (a completion,
    an arrival or a step's timer: a context that takes a CPU there sets it, affine_timer)."""
    s.waker_cpu = -1
    if ev.kind == EV_RUN and s.tasks[ev.task].on_cpu:
        s.waker_cpu = s.tasks[ev.task].cpu_home - 1


cdef inline void affine_hold(Sim* s, int32_t t, int32_t c) noexcept nogil:
    """Context t holds CPU c: its last CPU from now on, and its thread's."""
    cdef Task* task = &s.tasks[t]
    task.on_cpu = 1
    task.cpu_home = c + 1
    if task.thread >= 0:
        s.threads[task.thread].cpu_home = c + 1


cdef int32_t affine_place(Sim* s, int32_t t, int32_t target, int32_t pc) noexcept nogil:
    """Context t becomes runnable with ``target`` (-1: none): the CPU it takes (now held,
    no longer idle), or -1 if it entered a run queue, to resume at ``pc`` (§14.7)."""
    cdef int32_t c
    cdef Fifo* q
    if target >= 0 and not s.cpu_busy[target]:
        c = target
    elif s.idle > 0:
        if target >= 0 and (s.affinity >= 1.0 or uniform(s) < s.affinity):
            s.counters.cpu_affine_queued += 1
            affine_enqueue(s, t, target, pc)
            return -1
        c = 0
        while s.cpu_busy[c]:                  # the lowest-numbered idle CPU
            c += 1
    else:
        if target < 0:                        # the lowest-numbered of the shortest queues
            target = 0
            for c in range(1, <int32_t>s.cpus):
                if s.cpu_queues[c].len < s.cpu_queues[target].len:
                    target = c
        affine_enqueue(s, t, target, pc)
        return -1
    s.cpu_busy[c] = 1
    s.idle -= 1
    affine_hold(s, t, c)
    return c


cdef void affine_enqueue(Sim* s, int32_t t, int32_t c, int32_t pc) noexcept nogil:
    """The context waits in CPU c's run queue and draws nothing."""
    cdef Task* task = &s.tasks[t]
    task.pc = pc
    task.queued = 1
    task.t_runnable = s.now
    s.counters.cpu_queued += 1
    fifo_push(s, &s.cpu_queues[c], t)


cdef noinline_void affine_wake(Sim* s, int32_t t) noexcept nogil:
    """A wake-up (§14.2 a): the target is the waker's CPU, or with no running waker (a
    completion) the wakee's last CPU; taking a CPU it runs after wake + j, j drawn after
    the placement's draw."""
    cdef int32_t target = s.waker_cpu
    if target < 0:
        target = s.tasks[t].cpu_home - 1
    if affine_place(s, t, target, s.tasks[t].pc) >= 0:
        wake_now(s, t, wake_delay(s))


cdef noinline_flag affine_timer(Sim* s, int32_t t, int32_t pc) noexcept nogil:
    """A timer (§14.2 b): the target is the context's last CPU (a thread's step: its
    thread's); True if it took a CPU and runs at once, which makes it the waker."""
    cdef Task* task = &s.tasks[t]
    cdef int32_t c
    if task.thread >= 0:
        task.cpu_home = s.threads[task.thread].cpu_home
    if s.group_cpu >= 0:                      # one of a timer firing's wakees (§14.8)
        return group_place(s, t, pc)
    c = affine_place(s, t, task.cpu_home - 1, pc)
    if c < 0:
        return 0
    s.waker_cpu = c
    return 1


cdef noinline_void affine_give(Sim* s, int32_t c) noexcept nogil:
    """CPU c frees (§14.3): its own queue's head takes it after a cpu_switch draw; with
    an empty queue it pulls the head of the longest other queue (the lowest-numbered on
    ties: newidle balance), which then last ran on c; else it becomes idle."""
    cdef Fifo* q = &s.cpu_queues[c]
    cdef int32_t head, other
    cdef int64_t switch
    if q.len == 0:
        for other in range(<int32_t>s.cpus):
            if s.cpu_queues[other].len > q.len:
                q = &s.cpu_queues[other]
        if q.len == 0:
            s.cpu_busy[c] = 0
            s.idle += 1
            return
        s.counters.cpu_pulled += 1
    head = fifo_pop(q)
    s.tasks[head].queued = 0
    affine_hold(s, head, c)
    switch = draw_ns(s, &s.sc.cpu_switch)     # a const draws nothing
    s.counters.cpu_queue_ns = sat_add(s.counters.cpu_queue_ns,
                                      s.now + switch - s.tasks[head].t_runnable)
    schedule(s, s.now + switch, EV_RUN, head, 0)


cdef noinline_void affine_kept_step(Sim* s, ThreadRt* th, int32_t t) noexcept nogil:
    """A step on the CPU c its thread kept (§14.1 item 6; the step is admitted): a bg_io
    bio starts and c frees; with c's own queue not empty (preemption at a step boundary)
    the step's task becomes runnable at a timer with c still held (it queues, or takes
    an idle CPU and starts there), then c frees; else the task runs on c."""
    cdef int32_t c = th.cpu_home - 1
    cdef int32_t d
    s.waker_cpu = c
    if s.tasks[t].kind == TK_BG_IO:
        begin_task_call(s, t)
        affine_give(s, c)
    elif s.cpu_queues[c].len > 0:
        d = affine_place(s, t, c, PC_START)
        if d >= 0:
            s.waker_cpu = d
            begin_task_call(s, t)
        affine_give(s, c)
    else:
        affine_hold(s, t, c)
        begin_task_call(s, t)


cdef int check_affine(Sim* s) noexcept nogil:
    """The invariants of §14.7: per CPU, busy = 1 exactly when one context or a thread
    holds it, and busy + idle CPUs = cpus; an idle CPU's queue is empty; a queued context
    holds no CPU, has no run pending and is no background bio."""
    cdef int64_t i, c, busy = 0
    cdef int32_t t
    cdef int32_t held[1024]
    for c in range(s.cpus):
        held[c] = 0
        busy += s.cpu_busy[c]
        if not s.cpu_busy[c] and s.cpu_queues[c].len > 0:
            return INV_A_CONTEXT_WAITS_FOR_A_CPU_WHILE_ONE_IS_IDLE
    if s.idle + busy != s.cpus:
        return INV_IDLE_CPUS_PLUS_CPUS_HELD_DIFFER_FROM_CPUS
    for i in range(s.ntasks):
        if s.tasks[i].on_cpu:
            if s.tasks[i].kind == TK_BG_IO:
                return INV_A_BACKGROUND_BIO_HOLDS_A_CPU
            if s.tasks[i].queued:
                return INV_A_CONTEXT_IN_THE_RUN_QUEUE_HOLDS_A_CPU_OR_HAS_A_RUN_PENDING
            c = s.tasks[i].cpu_home - 1
            if c < 0 or c >= s.cpus:
                return INV_IDLE_CPUS_PLUS_CPUS_HELD_DIFFER_FROM_CPUS
            held[c] += 1
    for i in range(s.n_threads):
        if s.threads[i].keeps_cpu:
            c = s.threads[i].cpu_home - 1
            if c < 0 or c >= s.cpus:
                return INV_IDLE_CPUS_PLUS_CPUS_HELD_DIFFER_FROM_CPUS
            held[c] += 1
    for c in range(s.cpus):
        if held[c] != s.cpu_busy[c]:
            return INV_IDLE_CPUS_PLUS_CPUS_HELD_DIFFER_FROM_CPUS
        for i in range(s.cpu_queues[c].len):
            t = s.cpu_queues[c].items[s.cpu_queues[c].head + i]
            if not s.tasks[t].queued or s.tasks[t].kind == TK_BG_IO:
                return INV_A_CONTEXT_IN_THE_RUN_QUEUE_HOLDS_A_CPU_OR_HAS_A_RUN_PENDING
    for i in range(s.nheap):                  # it runs only once it takes a CPU
        if s.heap[i].kind == EV_RUN and s.tasks[s.heap[i].task].queued:
            return INV_A_CONTEXT_IN_THE_RUN_QUEUE_HOLDS_A_CPU_OR_HAS_A_RUN_PENDING
    for i in range(s.nowq_head, s.nowq_end):  # (the runs at now, wake_now)
        if s.tasks[s.nowq[i].task].queued:
            return INV_A_CONTEXT_IN_THE_RUN_QUEUE_HOLDS_A_CPU_OR_HAS_A_RUN_PENDING
    return 0
