# Thread timers coalesced per CPU (included by engine.pyx): docs/model.md §14.8.  With
# cpus > 0, cpu_affinity > 0 and timer_slack > 0 (s.timers) a closed-loop thread's think
# time > 0 is a timer armed on the CPU the thread last ran on, expiring (soft expiry)
# timer_slack before it fires.  A firing on CPU c wakes, with its own thread, every other
# thread whose timer is armed on c and already expired, in arming order, before any of
# them runs: the first context takes c if idle (else §14.7's placement), each later one
# an idle CPU after a wake_remote draw, else c's queue.  A thread woken early leaves its
# own step event spent: it does nothing when it comes.  None of this runs with
# timer_slack = 0, nor in the plain build.  Mirrors mcsim/reference/timers.py.

cdef void timer_arm(Sim* s, int32_t i, int64_t think) noexcept nogil:
    """Thread i's step ended (step_done): its next step's event, with a timer on its last
    CPU when it sleeps (think > 0) and has run on a CPU."""
    cdef ThreadRt* th = &s.threads[i]
    s.timer_arms += 1
    th.step_arg = s.timer_arms
    th.timer_cpu = -1
    if think > 0 and th.cpu_home > 0:
        th.timer_cpu = th.cpu_home - 1
        th.timer_order = s.timer_arms
        th.timer_soft = s.now + think - s.sc.timer_slack
    schedule(s, s.now + think, EV_STEP, i, s.timer_arms)


cdef noinline_void timer_step(Sim* s, int32_t i, int32_t arg) noexcept nogil:
    """Thread i's step event: spent (fired early) it does nothing; with a timer, the
    firing's group on its CPU, in arming order; a group of one starts as §14.7 says."""
    cdef ThreadRt* th = &s.threads[i]
    cdef int32_t group[MAX_THREADS]
    cdef int32_t n = 0, j, k, c = th.timer_cpu
    if arg != th.step_arg:
        return
    if c >= 0:
        for j in range(s.n_threads):
            if s.threads[j].timer_cpu == c and (j == i or s.threads[j].timer_soft <= s.now):
                k = n                         # insert in arming order
                while k > 0 and s.threads[group[k - 1]].timer_order > s.threads[j].timer_order:
                    group[k] = group[k - 1]
                    k -= 1
                group[k] = j
                n += 1
    th.timer_cpu = -1
    if n <= 1:
        step_start(s, i)
        return
    s.counters.timers_coalesced += n - 1
    for k in range(n):
        s.threads[group[k]].timer_cpu = -1
        if group[k] != i:
            s.threads[group[k]].step_arg = -1     # its own event is spent
    s.group_cpu = c
    s.group_placed = 0
    for k in range(n):
        step_start(s, group[k])
    s.group_cpu = -1


cdef int32_t group_place(Sim* s, int32_t t, int32_t pc) noexcept nogil:
    """A context of one firing's group on CPU c becomes runnable (affine_timer): the
    first takes c if idle, else §14.7 places it (target c, its last CPU); a later one
    takes the lowest-numbered idle CPU and runs after a wake_remote draw, else queues on
    c.  None runs before the firing has woken them all: one that takes a CPU runs
    through an event (0: the caller does not start it)."""
    cdef Task* task = &s.tasks[t]
    cdef int32_t c = s.group_cpu, d
    cdef int64_t delay = 0
    if s.group_placed == 0:
        d = affine_place(s, t, c, pc)
    elif s.idle > 0:
        d = 0
        while s.cpu_busy[d]:                  # the lowest-numbered idle CPU
            d += 1
        s.cpu_busy[d] = 1
        s.idle -= 1
        affine_hold(s, t, d)
        s.counters.wakees_remote += 1
        delay = draw_ns(s, &s.sc.wake_remote)   # a const draws nothing
    else:
        affine_enqueue(s, t, c, pc)
        d = -1
    s.group_placed += 1
    if d >= 0:
        task.pc = pc
        schedule(s, s.now + delay, EV_RUN, t, 0)
    return 0
