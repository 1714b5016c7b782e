# Python entry points of mcsim._engine (included by engine.pyx).  Python validates and
# allocates; these functions check shapes, set up the C state and run without the GIL.

cdef void unpack_kernel(Sim* s, const Scenario* sc) noexcept nogil:
    """The kernel row and the fault programs of the record, in the core's compact form
    (flags read as bool() reads them; programs end at the first op < 0)."""
    cdef int k, i
    for i in range(N_COLUMNS):
        s.policy[i] = sc.policy[i] != 0
    s.handoff_rule = sc.rw_handoff != 0
    s.wake_all_readers = sc.rw_wake_all_readers != 0
    s.reader_steal = sc.rw_reader_steal != 0
    s.keeps_page = sc.keeps_page != 0
    s.dirty_completes = sc.dirty_completes != 0
    s.first_lock = <int32_t>sc.first_lock
    s.retry_lock = <int32_t>sc.retry_lock
    s.tried_on_major = sc.tried_on_major != 0
    s.vma_writers = sc.vma_writers != 0
    s.hp_acquisitions = <int32_t>sc.hp_acquisitions
    s.hp_lock = <int32_t>sc.hp_lock
    s.jiffy_ns = sc.jiffy_ns
    s.handoff_jiffies = sc.handoff_jiffies
    for k in range(N_KINDS):
        s.prog_len[k] = 0
        s.write_kind[k] = 0
        for i in range(MAX_PROGRAM):
            if sc.programs[k][i][0] < 0:
                break
            s.programs[k][i].op = <int8_t>sc.programs[k][i][0]
            s.programs[k][i].col = <int8_t>sc.programs[k][i][1]
            s.programs[k][i].blame = <int8_t>sc.programs[k][i][2]
            s.programs[k][i].arg = <int8_t>sc.programs[k][i][3]
            if sc.programs[k][i][1] == COL_MKWRITE:   # a write fault (re-validated)
                s.write_kind[k] = 1
            s.prog_len[k] += 1
        s.major[k] = sc.major[k] != 0
        s.page_bio[k] = sc.page_bio[k] != 0
    s.reread_len = REREAD_LEN
    for i in range(REREAD_LEN):
        s.reread[i].op = <int8_t>REREAD_PROGRAM[i][0]
        s.reread[i].col = <int8_t>REREAD_PROGRAM[i][1]
        s.reread[i].blame = <int8_t>REREAD_PROGRAM[i][2]
        s.reread[i].arg = <int8_t>REREAD_PROGRAM[i][3]


cdef int workload_init(Sim* s, const Scenario* sc) noexcept nogil:
    """The processes (each L_p with its own queue), the VMAs (at least one slot, so a task
    outside any VMA can point at one it never write-locks), the threads' programs and the
    counted window (docs/model.md §12); check_scenario has bounded every count and index."""
    cdef int i
    s.n_procs = <int32_t>sc.n_processes
    s.n_vmas = <int32_t>sc.n_vmas
    s.n_threads = <int32_t>sc.n_threads
    s.procs = <Proc*>malloc(s.n_procs * sizeof(Proc))
    s.vmas = <Vma*>malloc((s.n_vmas if s.n_vmas > 0 else 1) * sizeof(Vma))
    if s.procs == NULL or s.vmas == NULL:
        return ERR_NOMEM
    memset(s.procs, 0, s.n_procs * sizeof(Proc))
    memset(s.vmas, 0, (s.n_vmas if s.n_vmas > 0 else 1) * sizeof(Vma))
    for i in range(s.n_procs):
        if fifo_init(&s.procs[i].lockq, 64) != 0:
            return ERR_NOMEM
    s.vmas[0].writer = -1
    s.vmas[0].waiter = -1
    for i in range(s.n_vmas):
        s.vmas[i].process = <int32_t>sc.vma_process[i]
    for i in range(s.n_threads):
        s.threads[i].first = <int32_t>sc.threads[i].first_step
        s.threads[i].end = <int32_t>(sc.threads[i].first_step + sc.threads[i].n_steps)
    s.count_from = 0
    s.count_to = INT64_MAX
    if sc.trial_kind == TRIAL_WINDOW:
        s.count_from = sc.warmup_ns
        s.count_to = sc.warmup_ns + sc.window_ns
    s.count_span = <uint64_t>(s.count_to - s.count_from)
    return 0


cdef enum:
    SPARE = (N_METRICS + 3) * N_BUCKETS       # Sim.spare's int64s (engine.pxd)


cdef int sim_init(Sim* s, const Scenario* sc, bitgen_t* rng, const mcsim_pcg64* fast,
                  int64_t* hist_arrays, int64_t largest, Counters* counters,
                  int64_t* spare) noexcept nogil:
    """``fast``: the block's PCG64DXSM state to draw from inline (then ``rng`` is unused;
    run_block writes ``s.pcg`` back), or NULL to draw through ``rng``.  ``spare``: SPARE
    zeroed int64s that the plain build uses as s.spare and leaves zeroed, or NULL (it
    allocates them)."""
    cdef int m
    memset(s, 0, sizeof(Sim))
    s.sc = sc
    s.rng = rng
    if fast != NULL:                          # before anything that can fail: s.pcg is
        s.pcg = fast[0]                       # written back whatever happens
        use_fast_rng(s)
    unpack_kernel(s, sc)
    s.depth = sc.lp_depth
    s.wake = sc.wake_ns
    s.jitter = sc.wake_jitter.kind != 0
    if not s.jitter:                          # drawn once: a const draws nothing
        s.jitter_const = to_ns(sc.wake_jitter.a)
        s.wake += s.jitter_const
    s.cpu_const = sc.fault_cpu.kind == 0 and sc.minor_cpu.kind == 0
    if s.cpu_const:                           # (what draw_ns gives for a const)
        s.fault_cpu_ns = to_ns(sc.fault_cpu.a)
        s.minor_cpu_ns = to_ns(sc.minor_cpu.a)
    s.cpus = sc.cpus
    s.idle = sc.cpus
    s.serve = sc.cpus > 0 and not (sc.io_cpu.kind == 0 and sc.io_cpu.a == 0.0)
    s.counters = counters
    if workload_init(s, sc) != 0 or affine_init(s, sc) != 0:
        return ERR_NOMEM
    s.reuse_ids = 1
    s.max_time = MAX_TIME_NS
    s.capheap = 64
    s.heap = <Event*>malloc(s.capheap * sizeof(Event))
    s.nowq = <NowRun*>malloc(s.capheap * sizeof(NowRun))
    s.nowq_head = 0                           # no run at now pending (see pop_event)
    s.nowq_end = 0
    quiet_update(s)
    s.captasks = 64
    s.tasks = <Task*>malloc(s.captasks * sizeof(Task))
    s.free_ids = <int32_t*>malloc(s.captasks * sizeof(int32_t))
    s.captimeline = 256
    s.timeline = <int64_t*>malloc(s.captimeline * sizeof(int64_t))
    if (s.heap == NULL or s.nowq == NULL or s.tasks == NULL or s.free_ids == NULL or s.timeline == NULL
            or fifo_init(&s.gate, 64) != 0 or fifo_init(&s.runq, 64) != 0):
        return ERR_NOMEM
    if PLAIN:                                 # (after workload_init: s.procs, s.vmas)
        init_slots(s, 0, s.captasks)
    s.arr_t = INT64_MAX                       # no arrival pending (see pop_event), and
    s.heap[0].t = INT64_MAX                   # pop_event reads slot 0 of an empty heap:
    s.heap[0].seq = 0                         # something defined
    for m in range(N_METRICS):
        if hist_init(&s.hists[m], hist_arrays + (N_HIST_ARRAYS * m + HA_COUNTS) * N_BUCKETS,
                     hist_arrays + (N_HIST_ARRAYS * m + HA_YY) * N_BUCKETS,
                     hist_arrays + (N_HIST_ARRAYS * m + HA_YN) * N_BUCKETS, largest) != HIST_OK:
            return ERR_NOMEM
    if not PLAIN:
        return 0
    s.spare = spare
    if spare == NULL:
        s.spare = <int64_t*>calloc(SPARE, sizeof(int64_t))
        if s.spare == NULL:
            return ERR_NOMEM
        s.own_spare = 1
    for m in range(N_METRICS):                # one-sample trials close into ones
        s.hists[m].ones = s.spare + m * N_BUCKETS
    if s.hp_acquisitions == 1 and sc.cut_hp > 0:
        # a read's one wait is both hp_acq_wait's and hp_wait's sample (engine_hp.pxi)
        hist_twin_start(&s.hists[M_HP_WAIT], &s.hists[M_HP_ACQ_WAIT],
                        s.spare + N_METRICS * N_BUCKETS)
    return 0


cdef void sim_free(Sim* s) noexcept nogil:
    cdef int m
    if s.procs != NULL:
        for m in range(s.n_procs):
            free(s.procs[m].lockq.items)
    free(s.procs)
    free(s.vmas)
    for m in range(N_METRICS):
        hist_free(&s.hists[m])
    if s.own_spare:
        free(s.spare)
    s.spare = NULL
    free(s.heap)
    free(s.nowq)
    free(s.tasks)
    free(s.free_ids)
    free(s.timeline)
    free(s.gate.items)
    free(s.runq.items)
    affine_free(s)


cdef _raise_for(int err, const Scenario* sc):
    from mcsim.errors import SimulationError
    from mcsim.numeric import INVARIANTS, time_limit_error
    if err == ERR_TIME_LIMIT:
        raise time_limit_error()
    if ERR_INVARIANT < err <= ERR_INVARIANT + len(INVARIANTS):
        raise AssertionError(f"mcsim engine: invariant broken: {INVARIANTS[err - ERR_INVARIANT - 1]}")
    if err == ERR_NOMEM:
        raise MemoryError("mcsim engine: out of memory")
    if err == ERR_TRIAL_TOO_LONG and sc.trial_kind == TRIAL_WINDOW:
        raise SimulationError(
            f"a window trial reached max_trial_events={sc.max_trial_events} events before "
            "its counted tasks ended: the workload is overloaded or its window too long "
            "for that limit")
    if err == ERR_TRIAL_TOO_LONG:
        raise SimulationError(
            f"a trial reached max_trial_events={sc.max_trial_events} events without the "
            "system emptying: the configuration is overloaded (LP IO or lock demand above "
            "capacity)")
    if err == ERR_PENDING_IN_EMPTY:
        raise AssertionError("mcsim engine: events pending in an empty system")
    raise AssertionError(f"mcsim engine: internal error {err}")


_SCENARIO_DTYPES_OK = set()


cdef const Scenario* _scenario_of(object record, list keep) except NULL:
    """The C view of a scenario record: one record whose buffer format is exactly the
    generated Scenario struct's (mcsim.scenario.SCENARIO_DTYPE), checked here because
    Cython's buffer check cannot parse the arrays of structs it holds.  ``keep`` holds the
    buffer alive while the core reads it."""
    arr = np.ascontiguousarray(np.asarray(record).reshape(-1))
    if (arr.shape[0] != 1 or arr.dtype.names is None or arr.itemsize != sizeof(Scenario)
            or (arr.dtype not in _SCENARIO_DTYPES_OK
                and memoryview(arr).format.encode() != SCENARIO_FORMAT)):
        raise ValueError("the scenario must be one record of mcsim.scenario.SCENARIO_DTYPE "
                         f"({sizeof(Scenario)} bytes), not {arr.dtype} x {arr.shape[0]}")
    _SCENARIO_DTYPES_OK.add(arr.dtype)       # numpy rebuilds the format string each time
    cdef const unsigned char[::1] raw = arr.view(np.uint8)
    keep.append(raw)
    return <const Scenario*>&raw[0]


cdef bitgen_t* _bitgen_of(object bit_generator) except NULL:
    return <bitgen_t*>PyCapsule_GetPointer(bit_generator.capsule, "BitGenerator")


cdef object _pcg64_state_of(object bit_generator, mcsim_pcg64* out):
    """The core's copy of a numpy PCG64DXSM's state (numpy's public ``state``), or None
    (and ``out`` untouched) for any other bit generator, which the core draws from through
    its bitgen_t.  Returns the state dict for _pcg64_write_back."""
    if type(bit_generator) is not np.random.PCG64DXSM:
        return None
    cdef uint64_t mask = 0xFFFFFFFFFFFFFFFF
    st = bit_generator.state
    state, inc = st["state"]["state"], st["state"]["inc"]
    mcsim_pcg64_set(out, <uint64_t>(state >> 64), <uint64_t>(state & mask),
                    <uint64_t>(inc >> 64), <uint64_t>(inc & mask))
    out.has_uint32 = st["has_uint32"]
    out.uinteger = st["uinteger"]
    return st


cdef _pcg64_write_back(object bit_generator, object st, const mcsim_pcg64* p):
    """Leave the caller's generator where numpy's own draws would have left it."""
    st["state"]["state"] = (int(mcsim_pcg64_state_hi(p)) << 64) | int(mcsim_pcg64_state_lo(p))
    st["has_uint32"] = p.has_uint32
    st["uinteger"] = p.uinteger
    bit_generator.state = st


cdef Counters* _counters_of(object counters) except NULL:
    """The C view of the caller's counters: a typed record (its buffer format is checked
    against the Counters struct) or an int64 array of N_COUNTERS, the same bytes."""
    cdef Counters[::1] record
    cdef int64_t[::1] flat
    arr = np.asarray(counters)
    if arr.dtype.names is not None:
        record = arr.reshape(-1)
        if record.shape[0] != 1:
            raise ValueError("counters must be one record")
        return &record[0]
    flat = arr
    if flat.shape[0] != N_COUNTERS:
        raise ValueError(f"counters must have {N_COUNTERS} entries")
    return <Counters*>&flat[0]              # packed int64 fields: the same layout


def run_block(object scenario_record, object bit_generator, int64_t n_trials,
              int64_t[:, :, ::1] hist_arrays, int64_t[:, ::1] hist_scalars,
              double[:, ::1] hist_floats, object counters, trial_rows=None,
              bint check_invariants=False):
    """Simulate ``n_trials`` trials with one bit generator, accumulating into the given
    arrays: ``hist_arrays[metric, (counts, yy, yn), bucket]``, ``hist_scalars[metric,
    (n, total, vmin, vmax, nn, trials, overflow)]``, ``hist_floats[metric, (ss, sn)]`` and
    ``counters`` (a ``mcsim.layout.COUNTERS_DTYPE`` record, or the same bytes as an int64
    array of ``len(mcsim.layout.COUNTERS)``); ``trial_rows`` (optional, int64 ``[n_trials, 11]``) receives one row of
    ``mcsim.layout.TRIAL_FIELDS`` per trial.

    ``scenario_record`` is checked first (``mcsim.numeric.check_scenario``: ParameterError).
    With ``check_invariants``, the invariants of ``mcsim.numeric.INVARIANTS`` are checked
    after every event and the first broken one stops the block with an AssertionError."""
    from mcsim.numeric import check_scenario
    global _blocks_run
    cdef list keep = []
    cdef const Scenario* sc = _scenario_of(scenario_record, keep)
    plain = _plain_build(sc, bit_generator)
    if plain is not None:                     # the plain family's build (engine_family.pxi)
        return plain.run_block(scenario_record, bit_generator, n_trials, hist_arrays,
                               hist_scalars, hist_floats, counters, trial_rows,
                               check_invariants)
    check_scenario(scenario_record)
    cdef Sim s
    cdef int err = 0, m
    cdef int64_t[:, ::1] rows_view
    cdef int64_t* rows = NULL
    if hist_arrays.shape[0] != N_METRICS or hist_arrays.shape[1] != N_HIST_ARRAYS or \
            hist_arrays.shape[2] != N_BUCKETS:
        raise ValueError(f"hist_arrays must be [{N_METRICS}, {N_HIST_ARRAYS}, {N_BUCKETS}]")
    if hist_scalars.shape[0] != N_METRICS or hist_scalars.shape[1] != N_HIST_SCALARS or \
            hist_floats.shape[0] != N_METRICS or hist_floats.shape[1] != N_HIST_FLOATS:
        raise ValueError(f"hist_scalars must be [metrics, {N_HIST_SCALARS}] and hist_floats "
                         f"[metrics, {N_HIST_FLOATS}]")
    cdef Counters* cptr = _counters_of(counters)
    if trial_rows is not None:
        rows_view = trial_rows
        if rows_view.shape[0] != n_trials or rows_view.shape[1] != N_TRIAL_FIELDS:
            raise ValueError(f"trial_rows must be [{n_trials}, {N_TRIAL_FIELDS}]")
        if n_trials > 0:
            rows = &rows_view[0, 0]
    cdef bitgen_t* rng = _bitgen_of(bit_generator)
    cdef mcsim_pcg64 pcg
    cdef const mcsim_pcg64* fast = NULL
    # bounds the yy/yn entries the arrays already hold (they accumulate)
    cdef int64_t largest = max(int(np.asarray(hist_arrays)[:, 1:].max()), 0)
    _blocks_run += 1
    with bit_generator.lock:
        pcg_state = _pcg64_state_of(bit_generator, &pcg)
        if pcg_state is not None:
            fast = &pcg
        with nogil:
            err = sim_init(&s, sc, rng, fast, &hist_arrays[0, 0, 0], largest, cptr, NULL)
            if err == 0:
                err = run_trials(&s, n_trials, rows, check_invariants)
        if pcg_state is not None:
            _pcg64_write_back(bit_generator, pcg_state, &s.pcg)
    for m in range(N_METRICS):
        _store_hist(&s.hists[m], hist_scalars, hist_floats, m)
    sim_free(&s)
    if err:
        _raise_for(err, sc)


cdef void _store_hist(Hist* h, int64_t[:, ::1] scal, double[:, ::1] flt, int m):
    # Accumulate, so one set of arrays can collect several calls: merge_scalars' rules
    # (sums saturate, vmin/vmax by min/max; callers start vmin at INT64_MAX, vmax at -1).
    cdef int64_t own[N_HIST_SCALARS]
    hist_own(h, own)
    merge_scalars(&scal[m, 0], own)
    flt[m, HF_SS] += h.ss
    flt[m, HF_SN] += h.sn


def run_script(object scenario_record, object task_rows):
    """Run scripted tasks (no randomness).  Returns a dict: ``waits`` int64
    ``[n, MAX_SCRIPT_WAITS]`` (each task's waits in order, -1 = none: an HP read's
    acquisitions, a writer's wait for L then, for a same-VMA writer, for V's readers; a
    fault pass's wait for its lock, 0 for V), ``nwaits``, ``done`` (end time of each task) and
    ``timeline`` int64 ``[k, 4]`` rows of ``(task, lane, start, end)``.  The record and the
    rows are checked first (``mcsim.numeric``: ParameterError); a script draws nothing, so
    its ``wake_jitter``, ``cpu_switch`` and ``io_cpu`` must be const."""
    from mcsim.numeric import check_scenario, check_script_rows
    if PLAIN:                                 # a script's timeline and ids are runtime flags
        raise ValueError("mcsim._engine_plain runs no script: use mcsim._engine")
    cdef list keep = []
    cdef const Scenario* sc = _scenario_of(scenario_record, keep)
    check_scenario(scenario_record)
    check_script_rows(task_rows)
    if sc.wake_jitter.kind != 0:              # the script runs without a random stream
        from mcsim.errors import ParameterError
        raise ParameterError("scenario.wake_jitter.kind", sc.wake_jitter.kind,
                             "0 (const) in a script, which draws nothing")
    if sc.cpu_switch.kind != 0:               # likewise (model.md §14.5)
        from mcsim.errors import ParameterError
        raise ParameterError("scenario.cpu_switch.kind", sc.cpu_switch.kind,
                             "0 (const) in a script, which draws nothing")
    if sc.io_cpu.kind != 0:                   # likewise (model.md §14.6)
        from mcsim.errors import ParameterError
        raise ParameterError("scenario.io_cpu.kind", sc.io_cpu.kind,
                             "0 (const) in a script, which draws nothing")
    if sc.cpu_affinity != 0.0 and sc.cpu_affinity != 1.0:   # likewise (model.md §14.7)
        from mcsim.errors import ParameterError
        raise ParameterError("scenario.cpu_affinity", sc.cpu_affinity,
                             "0 or 1 in a script, which draws nothing")
    cdef const TaskRow[::1] rows = task_rows
    cdef Sim s
    cdef int err
    cdef Py_ssize_t i, n = rows.shape[0]
    cdef int32_t t
    cdef Event ev
    hist_arrays = np.zeros((N_METRICS, N_HIST_ARRAYS, N_BUCKETS), dtype=np.int64)
    counters = np.zeros(N_COUNTERS, dtype=np.int64)
    cdef int64_t[:, :, ::1] hv = hist_arrays
    cdef int64_t[::1] cv = counters
    err = sim_init(&s, sc, NULL, NULL, &hv[0, 0, 0], 0, <Counters*>&cv[0], NULL)
    if err:
        sim_free(&s)
        _raise_for(err, sc)
    s.reuse_ids = 0
    s.record_timeline = 1
    s.count_from = 0                          # a script counts every task it lists
    s.count_to = INT64_MAX
    s.count_span = <uint64_t>INT64_MAX
    reset_trial(&s)
    for i in range(n):
        t = new_task(&s, <int32_t>rows[i].kind)
        s.tasks[t].fault = <int32_t>rows[i].fault
        s.tasks[t].hold = rows[i].hold
        s.tasks[t].cpu = rows[i].cpu
        s.tasks[t].minor = rows[i].minor
        s.tasks[t].bio = rows[i].bio
        s.tasks[t].mkwrite = rows[i].mkwrite
        s.tasks[t].evicted = rows[i].evicted
        s.tasks[t].evict_bio = rows[i].evict_bio
        s.tasks[t].revalidate_fail = rows[i].revalidate_fail
        s.tasks[t].same_vma = <int32_t>rows[i].same_vma
        s.tasks[t].dirty = rows[i].dirty
        s.tasks[t].fallback = <int32_t>rows[i].fallback
        schedule(&s, rows[i].at, EV_ARRIVAL, t, 0)
    with nogil:
        while (s.nheap > 0 or s.arr_t != INT64_MAX or s.nowq_end != 0) and not s.error:
            ev = pop_event(&s)
            s.now = ev.t
            dispatch_call(&s, &ev)
    waits = np.full((n, MAX_WAITS), -1, dtype=np.int64)
    nwaits = np.zeros(n, dtype=np.int64)
    done = np.zeros(n, dtype=np.int64)
    for i in range(n):
        nwaits[i] = s.tasks[i].nwaits
        done[i] = s.tasks[i].done
        for t in range(min(MAX_WAITS, s.tasks[i].nwaits)):
            waits[i, t] = s.tasks[i].waits[t]
    timeline = np.array([s.timeline[i] for i in range(s.ntimeline)],
                        dtype=np.int64).reshape(-1, 4)
    err = s.error
    sim_free(&s)
    if err:
        _raise_for(err, sc)
    return {"waits": waits, "nwaits": nwaits, "done": done, "timeline": timeline,
            "counters": counters}


cdef extern from *:
    # _ziggurat_bounds' generator: a given uint64 first, then a PCG64DXSM stream.
    """
    typedef struct { uint64_t first; int64_t used; mcsim_pcg64 pcg; } mcsim_fed;
    static uint64_t mcsim_fed_next64(void *st) {
        mcsim_fed *f = (mcsim_fed *)st;
        return f->used++ == 0 ? f->first : mcsim_pcg64_next64(&f->pcg);
    }
    static double mcsim_fed_double(void *st) {
        return (double)(mcsim_fed_next64(st) >> 11) * (1.0 / 9007199254740992.0);
    }
    static uint32_t mcsim_fed_next32(void *st) { return (uint32_t)mcsim_fed_next64(st); }
    """
    ctypedef struct mcsim_fed:
        uint64_t first
        int64_t used
        mcsim_pcg64 pcg
    uint64_t mcsim_fed_next64(void* st) noexcept nogil
    double mcsim_fed_double(void* st) noexcept nogil
    uint32_t mcsim_fed_next32(void* st) noexcept nogil


def _ziggurat_bounds(str what):
    """Test hook: the inline fast path's test against numpy's own function (the one linked
    in) at each index's bound in ziggurat_tables.h, where a wrong bound would show: for
    each index, the uint64 whose mantissa is one below the bound and the one whose
    mantissa is the bound (both signs for "normal").  Rows (index, mantissa, whether the
    fast path took it, the uint64s numpy's function drew, our value, numpy's value)."""
    cdef mcsim_fed fed
    cdef bitgen_t bg
    cdef mcsim_pcg64 p
    cdef uint64_t r, m
    cdef double x, y
    cdef int idx, sign, took
    if what not in ("exponential", "normal"):
        raise ValueError(f"what={what!r}: 'exponential' or 'normal'")
    _pcg64_state_of(np.random.PCG64DXSM(0), &p)
    bg.state = &fed
    bg.next_uint64 = mcsim_fed_next64
    bg.next_uint32 = mcsim_fed_next32
    bg.next_double = mcsim_fed_double
    bg.next_raw = mcsim_fed_next64
    rows = []
    signs = [0] if what == "exponential" else [0, 1]
    for idx in range(256):
        bound = ke_double[idx] if what == "exponential" else ki_double[idx]
        for m in ([bound - 1] if bound > 0 else []) + [bound]:
            for sign in signs:
                if what == "exponential":
                    r = ((m << 8) | <uint64_t>idx) << 3
                    took = mcsim_zig_exponential_of(r, &x)
                else:
                    r = (m << 9) | (<uint64_t>sign << 8) | <uint64_t>idx
                    took = mcsim_zig_normal_of(r, &x)
                fed.first = r
                fed.used = 0
                fed.pcg = p
                y = (random_standard_exponential(&bg) if what == "exponential"
                     else random_standard_normal(&bg))
                rows.append((idx, m, took, fed.used, x, y))
    return rows


def _pcg64_draws(object bit_generator, int64_t n, str what="raw"):
    """Test hook: ``n`` values drawn the way the core draws them from a PCG64DXSM
    (``what``: "raw" uint64, "uint32", "double", "exponential", "normal" or "mixed",
    which cycles through double, exponential, normal and raw), writing the state back.
    "exponential-fast" and "normal-fast": the inline ziggurat fast path alone, NaN where
    it declines (numpy's function then draws, as in the core), -inf where it declined
    without putting back the state it found."""
    cdef Sim s
    cdef int64_t i, k, k0
    cdef mcsim_pcg64 p
    cdef double x
    kinds = {"raw": 3, "uint32": 4, "double": 0, "exponential": 1, "normal": 2,
             "exponential-fast": 5, "normal-fast": 6}
    if what not in kinds and what != "mixed":
        raise ValueError(f"what={what!r}: one of {sorted(kinds) + ['mixed']}")
    st = _pcg64_state_of(bit_generator, &p)
    if st is None:
        raise TypeError("a numpy PCG64DXSM is required")
    s.pcg = p
    use_fast_rng(&s)
    k0 = kinds.get(what, -1)
    out = np.empty(n, dtype=np.uint64 if what in ("raw", "uint32") else np.float64)
    cdef uint64_t[::1] ints = out if out.dtype == np.uint64 else np.empty(0, np.uint64)
    cdef double[::1] reals = out if out.dtype == np.float64 else np.empty(0)
    for i in range(n):
        k = k0 if k0 >= 0 else i % 4
        if k == 0:
            reals[i] = uniform(&s)
        elif k == 1:
            reals[i] = std_exponential(&s)
        elif k == 2:
            reals[i] = std_normal(&s)
        elif k == 3 and k0 == 3:
            ints[i] = s.rng.next_uint64(s.rng.state)
        elif k == 3:
            reals[i] = <double>(s.rng.next_uint64(s.rng.state) >> 11)
        elif k == 4:
            ints[i] = s.rng.next_uint32(s.rng.state)
        else:
            p = s.pcg
            if (mcsim_zig_exponential(&s.pcg, &x) if k == 5
                    else mcsim_zig_normal(&s.pcg, &x)):
                reals[i] = x
                continue
            reals[i] = NAN if (mcsim_pcg64_state_hi(&p) == mcsim_pcg64_state_hi(&s.pcg)
                               and mcsim_pcg64_state_lo(&p) == mcsim_pcg64_state_lo(&s.pcg)) \
                else -INFINITY
            s.pcg = p
            if k == 5:
                random_standard_exponential(s.rng)
            else:
                random_standard_normal(s.rng)
    _pcg64_write_back(bit_generator, st, &s.pcg)
    return out



def _exp_values(double[::1] x):
    """Test hook: the core's exp (engine_random.pxi's mcsim_exp) at each of ``x``, and the
    name of the libm function it calls."""
    out = np.empty(x.shape[0])
    cdef double[::1] y = out
    cdef Py_ssize_t i
    for i in range(x.shape[0]):
        y[i] = mcsim_exp(x[i])
    return out, MCSIM_EXP_NAME.decode()


def _to_ns_values(double[::1] x):
    """Test hook: the core's two roundings to ns (engine_random.pxi's to_ns and
    mcsim_to_ns_m, the arrival gap's) at each of ``x``."""
    a = np.empty(x.shape[0], dtype=np.int64)
    b = np.empty(x.shape[0], dtype=np.int64)
    cdef int64_t[::1] va = a
    cdef int64_t[::1] vb = b
    cdef Py_ssize_t i
    for i in range(x.shape[0]):
        va[i] = to_ns(x[i])
        vb[i] = mcsim_to_ns_m(x[i])
    return a, b
