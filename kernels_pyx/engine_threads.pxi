# Closed-loop threads (included by engine.pyx): docs/model.md §12.2, §12.4, §12.5.  A thread
# repeats its program of steps; each step creates one task exactly like an arrival of its
# kind, and when that task finishes the thread draws the step's think time and schedules
# its next step through an event (even after a think time of 0).  Mirrors the threads
# seam of mcsim/reference.py.

cdef void threads_start(Sim* s) noexcept nogil:
    """At the start of a trial: each thread, in thread order, draws its start delay and
    schedules its first step (after the open stream's first arrival, already scheduled)."""
    cdef const Scenario* sc = s.sc
    cdef ThreadRt* th
    cdef int32_t i
    s.timer_arms = 0                          # every first step event has arg 0 (§14.8)
    for i in range(s.n_threads):
        th = &s.threads[i]
        th.step_arg = 0
        th.timer_cpu = -1
        th.step = th.first
        th.iter_counted = 0
        th.in_scan = 0
        th.scan_counted = 0
        th.scan_t0 = 0
        th.scan_wait = 0
        th.keeps_cpu = 0
        th.cpu_home = 0                       # no CPU yet (§14.7)
        schedule(s, draw_ns(s, &sc.threads[i].start), EV_STEP, i, 0)


cdef inline int64_t step_hold(Sim* s, const DistSpec* step_hold,
                              const DistSpec* scenario_hold) noexcept nogil:
    if step_hold.kind == HOLD_DEFAULT:
        return draw_ns(s, scenario_hold)
    return draw_ns(s, step_hold)


cdef inline void fixed_fault(Sim* s, Task* task, int32_t kind) noexcept nogil:
    """A fault step of a stated kind: bio, or mkwrite, then cpu and minor, then (write
    kinds) the dirty-throttling draw of §11.8 item 3 (model.md §12.5 item 1)."""
    cdef const Scenario* sc = s.sc
    task.kind = TK_FAULT
    task.fault = kind
    if kind == FK_MKWRITE_FAST:
        task.mkwrite = draw_ns(s, &sc.mkwrite_fast)
    elif kind != FK_HIT:
        task.bio = draw_ns(s, &sc.device)
    task.cpu = draw_ns(s, &sc.fault_cpu)
    task.minor = draw_ns(s, &sc.minor_cpu)
    if (kind == FK_MKWRITE_FAST or kind == FK_MKWRITE_SLOW or kind == FK_MKWRITE_WRITEBACK) \
            and sc.p_dirty_throttle > 0:
        if uniform(s) < sc.p_dirty_throttle:
            task.dirty = draw_ns(s, &sc.dirty_throttle)


cdef void step_start(Sim* s, int32_t i) noexcept nogil:
    """Thread i's next step starts: one task of the step's kind, its draws (§12.5), then
    it runs like an arrival."""
    cdef const Scenario* sc = s.sc
    cdef ThreadRt* th = &s.threads[i]
    cdef const StepSpec* sp = &sc.steps[th.step]
    cdef int32_t t = new_task(s, <int32_t>sp.kind)
    cdef Task* task = &s.tasks[t]
    task.thread = i
    task.step = th.step
    task.proc = &s.procs[sp.process]
    s.counters.steps += 1
    if th.step == th.first:
        th.iter_counted = task.counted
        s.counted_open += task.counted        # the trial waits for its end (§12.3)
    if sp.kind == TK_FAULT:
        task.vm = &s.vmas[sp.vma]
        if sp.fault == FAULT_MIXED:
            arrive_fault(s, task)
        else:
            fixed_fault(s, task, <int32_t>sp.fault)
        task.lead = 0                         # after the fault's draws (§14.6); the
        if sp.lead.kind != 0 or sp.lead.a != 0.0:     # default const 0 costs a test
            task.lead = draw_ns(s, &sp.lead)
    elif sp.kind == TK_WRITER:
        task.hold = step_hold(s, &sp.hold, &sc.writer_hold)
        if sp.vma >= 0:                       # mprotect/madvise of that VMA
            task.same_vma = 1
            task.vm = &s.vmas[sp.vma]
    elif sp.kind == TK_HP_READ:
        task.hold = step_hold(s, &sp.hold, &sc.hp_hold)
        if sp.scan & SCAN_START:
            s.counters.scans += 1
            th.in_scan = 1
            th.scan_counted = task.counted
            s.counted_open += task.counted
            th.scan_t0 = s.now
            th.scan_wait = 0
    else:
        task.bio = draw_ns(s, &sc.device)
    if th.keeps_cpu:
        step_on_kept_cpu(s, th, t)
    else:
        start_task(s, t, False)


cdef void step_on_kept_cpu(Sim* s, ThreadRt* th, int32_t t) noexcept nogil:
    """The step after a think time of 0 comes to a thread that kept its CPU (§14.1 item
    6): its task runs on it, unless the run queue is not empty (preemption at a step
    boundary: the task queues at the tail and the CPU frees to the head); a bg_io step's
    bio starts at once and the thread sleeps, freeing its CPU (item 7)."""
    th.keeps_cpu = 0
    admit(s, t)
    if s.affine:                              # per-CPU run queues (§14.7)
        affine_kept_step(s, th, t)
    elif s.tasks[t].kind == TK_BG_IO:
        begin_task(s, t)
        cpu_give(s)
    elif s.runq.len > 0:
        cpu_enqueue(s, t, PC_START)
        cpu_give(s)
    else:
        s.tasks[t].on_cpu = 1
        begin_task(s, t)


cdef void step_done(Sim* s, Task* task) noexcept nogil:
    """The step's task finished: close a scan, count an iteration, draw the think time and
    schedule the next step (the step after the last is the first)."""
    cdef const StepSpec* sp = &s.sc.steps[task.step]
    cdef int32_t i = task.thread
    cdef ThreadRt* th = &s.threads[i]
    cdef int64_t think
    if sp.kind == TK_HP_READ and th.in_scan:
        th.scan_wait = sat_add(th.scan_wait, task.wait_sum)
        if sp.scan & SCAN_END:
            th.in_scan = 0
            if th.scan_counted:
                s.counted_open -= 1
                record(s, M_SCAN_TIME, s.now - th.scan_t0)
                record(s, M_SCAN_WAIT, th.scan_wait)
    th.step += 1
    if th.step == th.end:                     # one iteration of the program ended
        th.step = th.first
        if th.iter_counted:
            s.counted_open -= 1
            counter_slot(s, C_THREAD_ITERATIONS_0 + i)[0] += 1
    think = draw_ns(s, &sp.think)
    if not PLAIN and s.timers:                # a timer on its last CPU (§14.8)
        timer_arm(s, i, think)
    else:
        schedule(s, s.now + think, EV_STEP, i, 0)
    if think == 0 and task.on_cpu:            # the thread does not sleep: it keeps the
        task.on_cpu = 0                       # CPU for its next step (§14.1 item 6); a
        th.keeps_cpu = 1                      # bg_io step's task never held one (item 7)
