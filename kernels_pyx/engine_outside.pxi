# Work outside the locks (included by engine.pyx): docs/model.md §14.6.  CPU work that
# holds no lock but takes a CPU: a server context per issued bio (io_cpu: a FUSE daemon's
# thread receiving the request) and a thread's fault step's lead (the sync_file_range()
# between starting the page's writeback and the write fault).  Both are off by default
# (io_cpu const 0, lead const 0) and then draw nothing.  Mirrors the outside seam of
# mcsim/reference.

cdef void serve_io(Sim* s) noexcept nogil:
    """A bio was just issued, with cpus > 0 and io_cpu not const 0 (s.serve): its server
    context draws its CPU work and becomes runnable by a wake-up (§14.2 (a)).  It is
    alive (a cycle ends only once it has ended) but never counted (§12.3: it records
    nothing, so a window trial does not wait for it).  new_task may move s.tasks."""
    cdef int32_t t = new_task(s, TK_SERVER)
    cdef Task* task = &s.tasks[t]
    task.hold = draw_ns(s, &s.sc.io_cpu)
    task.counted = 0
    s.alive += 1
    wake(s, t, PC_SERVE)


cdef void lead_starts(Sim* s, int32_t t) noexcept nogil:
    """A thread's fault started (its page bio, if any, is in the gate): the thread runs
    its lead on the CPU it holds, no lock taken; the first pass starts when it ends."""
    s.tasks[t].pc = PC_LEAD
    schedule(s, s.now + s.tasks[t].lead, EV_RUN, t, 0)


cdef void outside_runs(Sim* s, int32_t t) noexcept nogil:
    """An EV_RUN at PC_SERVE, PC_SERVE_END or PC_LEAD: a server context got its CPU and
    holds it for its drawn work (0: it ends at once, §4.1), or its work ended and it
    ends, freeing the CPU (finish, §14.3); or a lead ended and the fault's first pass
    takes its lock (fault_pass, §2.4)."""
    cdef Task* task = &s.tasks[t]
    if task.pc == PC_LEAD:
        fault_pass(s, t, task)
    elif task.pc == PC_SERVE and task.hold > 0:
        task.pc = PC_SERVE_END
        schedule(s, s.now + task.hold, EV_RUN, t, 0)
    else:
        finish(s, t)
