# The io.latency gate and the device (included by engine.pyx): docs/model.md §2.3, §7.11,
# §7.12.  Mirrors the gate seam of mcsim/reference.py.

cdef extern from *:
    # GCC's branch hint, for the tests of work outside the locks (§14.6), off by default
    bint rare "__builtin_expect"(bint x, long expected) nogil


# ------------------------------------------------------------------ io.latency gate
cdef inline bint gate_enter(Sim* s, int32_t t) noexcept nogil:
    s.tasks[t].t_req = s.now
    if s.inflight < s.depth and s.gate.len == 0:
        s.inflight += 1
        if PLAIN or s.tasks[t].counted:
            record(s, M_GATE_WAIT, 0)
        return True
    fifo_push(s, &s.gate, t)
    lane_on(s, t, LANE_GATE)
    cpu_free(s, t)                            # a submitter sleeps (§14.1 item 2)
    return False


cdef inline void issue(Sim* s, int32_t t, int64_t duration, int32_t notify) noexcept nogil:
    s.counters.bios += 1
    lane_on(s, t, LANE_IO)
    schedule(s, s.now + duration, EV_BIO_DONE, t, notify)
    if rare(not PLAIN and s.serve, 0):        # its server context (§14.6); it may move
        serve_io(s)                           # the task pool: callers re-read Task*


cdef inline void bio_done(Sim* s, int32_t t, int32_t notify) noexcept nogil:
    cdef int32_t fault
    s.inflight -= 1
    if s.gate.len > 0:                        # the freed slot goes to the first waiter
        s.inflight += 1
        wake(s, fifo_pop(&s.gate), PC_GATE)
    if notify == BIO_NOTIFY_NONE:             # async readahead: nobody waits (t may be gone)
        if not PLAIN and s.record_timeline:   # scripts never reuse task slots
            lane_off(s, t, LANE_IO)
        return
    lane_off(s, t, LANE_IO)
    if notify == BIO_BG:
        fault = s.tasks[t].page_waiter
        finish(s, t)
        if fault >= 0:
            s.tasks[fault].page_ready = 1
            if s.tasks[fault].waiting_page:
                s.tasks[fault].waiting_page = 0
                wake(s, fault, PC_WAITED)
    else:
        wake(s, t, PC_WAITED)
