# The per-VMA lock V and the writers (included by engine.pyx): docs/model.md §11.2.  A fault
# pass takes V for read at once or falls back to L; a same-VMA writer write-locks V while
# holding L for write and waits in vma_start_write() for V's readers.  Mirrors the vma seam
# of mcsim/reference.py.

# ------------------------------------------------------------------ V for a fault pass
cdef inline bint vma_read_lock(Sim* s, int32_t t) noexcept nogil:
    """lock_vma_under_rcu(): V for read at once (no wait, no event), or False when V is
    write-locked: the pass falls back to L (counter fallbacks)."""
    cdef Task* task = &s.tasks[t]
    if s.vma_writer >= 0:
        s.counters.fallbacks += 1
        return False
    s.vma_readers += 1
    task.vma_held = 1
    task.t_req = s.now
    task.t_grant = s.now
    return True


cdef inline void vma_read_unlock(Sim* s, int32_t t) noexcept nogil:
    """vma_end_read(): the last reader out wakes a writer waiting in vma_start_write()."""
    cdef Task* task = &s.tasks[t]
    task.vma_held = 0
    s.vma_readers -= 1
    record(s, M_HOLD_VMA, s.now - task.t_grant)
    if s.vma_readers == 0 and s.vma_waiter >= 0 and not s.vma_woken:
        s.vma_woken = 1
        wake(s, s.vma_waiter, PC_VMA)


# ------------------------------------------------------------------ writers
cdef inline void took_write(Sim* s, int32_t t) noexcept nogil:
    """The writer runs holding L(W); a same-VMA writer on a kernel with VMA locks then
    vma_start_write()s V, sleeping (blamed vma_start_write) while V has readers."""
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
    if s.vma_writers and task.same_vma:
        s.vma_writer = t
        if s.vma_readers > 0:
            s.counters.vma_writer_waits += 1
            s.vma_waiter = t
            s.vma_woken = 0
            block(s, t, BL_VMA_START_WRITE)
            return                            # resumes in run_task at PC_VMA
        record(s, M_VMA_WRITER_WAIT, 0)
        note_wait(s, t, 0)
    hold_for(s, t, task.hold)


cdef inline void writer_in_vma(Sim* s, int32_t t) noexcept nogil:
    """Woken by V's last reader: V is write-locked and empty; the writer's section runs."""
    cdef Task* task = &s.tasks[t]
    cdef int64_t wait = s.now - task.t_grant
    unblock(s, t)
    s.vma_waiter = -1
    s.vma_woken = 0
    record(s, M_VMA_WRITER_WAIT, wait)
    note_wait(s, t, wait)
    hold_for(s, t, task.hold)
