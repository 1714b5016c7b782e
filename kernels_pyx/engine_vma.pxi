# The per-VMA locks V and the writers (included by engine.pyx): docs/model.md §11.2, §12.1.
# A fault pass takes its VMA's V for read at once or falls back to its process's L; a
# same-VMA writer write-locks the VMA it changes while holding L for write and waits in
# vma_start_write() for that VMA's readers.  A task reaches its VMA through task.vm.
# Mirrors the vma seam of mcsim/reference.py.

# ------------------------------------------------------------------ V for a fault pass
cdef inline bint vma_read_lock(Sim* s, int32_t t) noexcept nogil:
    """lock_vma_under_rcu(): V for read at once (no wait, no event), or False when V is
    write-locked: the pass falls back to L (counter fallbacks)."""
    cdef Task* task = &s.tasks[t]
    cdef Vma* v = task.vm
    if v.writer >= 0:
        s.counters.fallbacks += 1
        return False
    v.readers += 1
    task.vma_held = 1
    task.t_req = s.now
    task.t_grant = s.now
    return True


cdef inline void vma_read_unlock(Sim* s, int32_t t) noexcept nogil:
    """vma_end_read(): the last reader out wakes a writer waiting in vma_start_write()."""
    cdef Task* task = &s.tasks[t]
    cdef Vma* v = task.vm
    task.vma_held = 0
    v.readers -= 1
    if PLAIN or task.counted:
        record(s, M_HOLD_VMA, s.now - task.t_grant)
    if v.readers == 0 and v.waiter >= 0 and not v.woken:
        v.woken = 1
        wake(s, v.waiter, PC_VMA)


# ------------------------------------------------------------------ writers
cdef inline always_inline_void took_write(Sim* s, int32_t t, Task* task) noexcept nogil:
    """The writer runs holding L(W); a same-VMA writer on a kernel with VMA locks then
    vma_start_write()s its VMA, sleeping (blamed vma_start_write) while it has readers.
    (task: &s.tasks[t], see fault_pass)"""
    cdef Vma* v
    cdef int64_t wait
    if not PLAIN:
        task = &s.tasks[t]
    wait = s.now - task.t_req
    task.holding = 1
    task.t_grant = s.now
    lane_off(s, t, LANE_WAIT)
    lane_on(s, t, LANE_HOLD)
    note_wait(s, t, wait)
    if PLAIN or task.counted:
        record(s, M_WRITER_WAIT, wait)
        if s.trial_rows:                      # (only end_trial's rows read them)
            s.trial[T_WRITES] += 1
            s.trial[T_WRITER_WAIT_SUM] = sat_add(s.trial[T_WRITER_WAIT_SUM], wait)
    if not PLAIN and s.vma_writers and task.same_vma:
        v = task.vm
        v.writer = t
        if v.readers > 0:
            s.counters.vma_writer_waits += 1
            v.waiter = t
            v.woken = 0
            block(s, t, BL_VMA_START_WRITE)
            cpu_free(s, t)                    # it sleeps in vma_start_write() (§14.1)
            return                            # resumes in run_task at PC_VMA
        if PLAIN or task.counted:
            record(s, M_VMA_WRITER_WAIT, 0)
        note_wait(s, t, 0)
    hold_for(s, t, task, task.hold)


cdef inline void writer_in_vma(Sim* s, int32_t t) noexcept nogil:
    """Woken by the VMA's last reader: it is write-locked and empty; the section runs."""
    cdef Task* task = &s.tasks[t]
    cdef Vma* v = task.vm
    cdef int64_t wait = s.now - task.t_grant
    unblock(s, t)
    v.waiter = -1
    v.woken = 0
    if PLAIN or task.counted:
        record(s, M_VMA_WRITER_WAIT, wait)
    note_wait(s, t, wait)
    hold_for(s, t, task, task.hold)
