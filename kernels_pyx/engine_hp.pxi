# The HP reader's program (included by engine.pyx): docs/model.md §2.2, §11.5.  One cmdline
# read() makes hp_acquisitions acquisitions in a row, each under hp_lock (the arguments'
# VMA lock, at once, unless it falls back to the read process's L) and each holding for the read's one hold.
# Mirrors the hp seam of mcsim/reference.py.

cdef inline always_inline_void hp_request(Sim* s, int32_t t, Task* task) noexcept nogil:
    """(task: &s.tasks[t], see fault_pass)"""
    cdef bint fallback
    if not PLAIN:
        task = &s.tasks[t]
    if s.hp_lock == LOCK_VMA:
        if task.fallback >= 0:                # a script states it
            fallback = task.fallback != 0
        else:
            fallback = s.sc.p_hp_fallback > 0 and uniform(s) < s.sc.p_hp_fallback
        if not fallback:                      # the arguments' VMA: never write-locked
            task.lock = LOCK_VMA
            task.t_req = s.now
            task.t_grant = s.now
            hp_runs(s, t, task)
            return
        s.counters.hp_fallbacks += 1
    task.lock = LOCK_MMAP
    if read_request(s, t, task):
        task.holding = 1
        task.t_grant = s.now
        lane_on(s, t, LANE_HOLD)
        hp_runs(s, t, task)
    else:
        snapshot_clock(s, task)               # judged at the grant (judge_inversion)


cdef inline always_inline_void hp_runs(Sim* s, int32_t t, Task* task) noexcept nogil:
    """An acquisition runs holding its lock; the last one completes the read's hp_wait
    (task: &s.tasks[t], see fault_pass)."""
    cdef int64_t wait
    if not PLAIN:
        task = &s.tasks[t]
    wait = s.now - task.t_req
    lane_off(s, t, LANE_WAIT)
    note_wait(s, t, wait)
    task.wait_sum = sat_add(task.wait_sum, wait)
    task.acq += 1
    if task.inverted:                         # judged at its grant, recorded as it runs:
        task.inverted = 0                     # the acquisition's wait (§14.4)
        record(s, M_INVERSION_WAIT, wait)
    if PLAIN or task.counted:                 # outside a window: runs, records nothing
        # With hp_acquisitions 1, wait_sum is wait: the plain build's hp_wait records it
        # for hp_acq_wait too, while they are twins (sim_init, hist.pxd hist_twin_start).
        if not PLAIN or s.hists[M_HP_WAIT].twin == NULL:
            record(s, M_HP_ACQ_WAIT, wait)
        if task.acq >= s.hp_acquisitions:
            record(s, M_HP_WAIT, task.wait_sum)
            if s.trial_rows:                  # (only end_trial's rows read them)
                s.trial[T_HP_READS] += 1
                s.trial[T_HP_WAIT_SUM] = sat_add(s.trial[T_HP_WAIT_SUM], task.wait_sum)
                if task.wait_sum > s.trial[T_HP_WAIT_MAX]:
                    s.trial[T_HP_WAIT_MAX] = task.wait_sum
    hold_for(s, t, task, task.hold)


cdef inline void hp_release(Sim* s, int32_t t) noexcept nogil:
    """The acquisition's hold ends: release, then the next request at the same instant."""
    cdef Task* task = &s.tasks[t]
    if task.lock == LOCK_MMAP:
        release(s, t)
    elif PLAIN or task.counted:
        record(s, M_HOLD_HP, s.now - task.t_grant)
    if task.acq < s.hp_acquisitions:
        hp_next_request(s, t)
    else:
        finish(s, t)


cdef void hp_next_request(Sim* s, int32_t t) noexcept nogil:
    """hp_request() as a call, for the read's next acquisition: it closes the cycle
    request -> runs -> release -> request, so hp_request itself can inline at the read's
    start."""
    hp_request(s, t, &s.tasks[t])
