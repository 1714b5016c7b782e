# Runs of several blocks in one call, and the merge of block outputs, without the GIL
# (included by engine.pyx).  A window trial is a block of its own (docs/model.md §12.3), so
# a run of window trials used to cost, per trial, a call of run_block and a merge of its
# arrays in numpy, all under the GIL: 2 threads ran no faster than 1.  Here the core runs a
# chunk of blocks, each exactly as run_block would into zeroed arrays, adding their
# integer sums into one set of arrays, and merge_outputs folds a chunk into a run's total
# by mcsim.engine.BlockOutput.add's rules, in C.
#
# Why the bytes cannot change: every integer merge is associative and commutative
# (saturating sums of non-negative int64, min, max), so grouping blocks into chunks changes
# nothing; the float sums are not, so each block's (ss, sn) is kept apart and added to the
# total one block at a time, in block order, as BlockOutput.add adds them.

cdef extern from *:
    """
    /* sat_add_into's rule (mcsim/numeric.py) for one entry: the wrapping int64 sum, or
       INT64_MAX where that is negative; for a, b >= 0, min(a + b, INT64_MAX).  (Unlike
       mcsim_sat_add it takes numpy's wrap-around as its model, so that the two merges
       agree on any input, and the loop over a row stays branch-free.) */
    static inline int64_t mcsim_merge_add(int64_t a, int64_t b) {
        int64_t r = (int64_t)((uint64_t)a + (uint64_t)b);
        return r < 0 ? INT64_MAX : r;
    }
    """
    int64_t merge_add "mcsim_merge_add"(int64_t a, int64_t b) noexcept nogil

cdef inline void merge_ints(int64_t* into, const int64_t* part, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t i
    for i in range(n):
        into[i] = merge_add(into[i], part[i])


cdef void merge_scalars(int64_t* into, const int64_t* part) noexcept nogil:
    """One metric's (n, total, vmin, vmax, nn, trials, overflow): sums saturate, the
    extremes merge by min and max (an empty side holds INT64_MAX and -1)."""
    cdef int j
    for j in range(N_HIST_SCALARS):
        if j == HS_VMIN:
            if part[j] < into[j]:
                into[j] = part[j]
        elif j == HS_VMAX:
            if part[j] > into[j]:
                into[j] = part[j]
        else:
            into[j] = merge_add(into[j], part[j])


cdef void merge_counters(int64_t* into, const int64_t* part) noexcept nogil:
    """All counters saturate as sums, but the two high-water marks merge by max.  (int64
    arrays, read as the packed Counters record only for those two fields.)"""
    cdef Counters* a = <Counters*>into
    cdef const Counters* b = <const Counters*>part
    cdef int64_t pending = max(a.max_pending_events, b.max_pending_events)
    cdef int64_t longest = max(a.max_trial_events, b.max_trial_events)
    merge_ints(into, part, N_COUNTERS)
    a.max_pending_events = pending
    a.max_trial_events = longest


cdef void store_block(Sim* s, int64_t* scal, double* flt) noexcept nogil:
    """A finished block's histogram scalars into the chunk's (merged) and its float sums
    into its own row ``flt`` (kept apart: see the top of this file)."""
    cdef int m
    cdef int64_t own[N_HIST_SCALARS]
    cdef Hist* h
    for m in range(N_METRICS):
        h = &s.hists[m]
        own[HS_N] = h.n
        own[HS_TOTAL] = h.total
        own[HS_VMIN] = h.vmin
        own[HS_VMAX] = h.vmax
        own[HS_NN] = h.nn
        own[HS_TRIALS] = h.trials
        own[HS_OVERFLOW] = h.overflow
        merge_scalars(scal + m * N_HIST_SCALARS, own)
        flt[m * N_HIST_FLOATS + HF_SS] = h.ss
        flt[m * N_HIST_FLOATS + HF_SN] = h.sn


cdef int64_t nn_bound(Sim* s, int64_t largest) noexcept nogil:
    """A bound of the yy and yn entries after the block: each grew by at most its
    metric's nn (a trial adds at most N**2 to any one; hist.pxd), from at most largest."""
    cdef int m
    cdef int64_t most = 0
    for m in range(N_METRICS):
        if s.hists[m].nn > most:
            most = s.hists[m].nn
    return sat_add(largest, most)


cdef int run_chunk(const Scenario* sc, const uint32_t* seed, Py_ssize_t nseed,
                   const int64_t* blocks, const int64_t* trials, Py_ssize_t n_blocks,
                   int64_t* arrays, int64_t* scal, double* flt, int64_t* counters,
                   int64_t largest) noexcept nogil:
    """The blocks one after the other, each from its own fresh generator (block_pcg:
    numpy's seeding of the block's stream) and zeroed counters, as run_block runs one; the
    histograms record straight into ``arrays`` (their sums merge in any grouping).  Stops
    at the first error, returned."""
    cdef Sim s
    cdef int64_t own[N_COUNTERS]              # (an int64 array: aligned, unlike Counters)
    cdef mcsim_pcg64 pcg
    cdef Py_ssize_t k
    cdef int err
    for k in range(n_blocks):
        memset(own, 0, sizeof(own))
        block_pcg(&pcg, seed, nseed, <uint64_t>blocks[k])
        err = sim_init(&s, sc, NULL, &pcg, arrays, largest, <Counters*>own)
        if err == 0:
            err = run_trials(&s, trials[k], NULL, False)
        store_block(&s, scal, flt + k * N_METRICS * N_HIST_FLOATS)
        merge_counters(counters, own)
        largest = nn_bound(&s, largest)
        sim_free(&s)
        if err:
            return err
    return 0


cdef int _check_output(const Py_ssize_t* arrays, const Py_ssize_t* scalars,
                       Py_ssize_t counters) except -1:
    """The shapes of an output (``run_block``'s layout), from its memoryviews."""
    if (arrays[0] != N_METRICS or arrays[1] != N_HIST_ARRAYS or arrays[2] != N_BUCKETS
            or scalars[0] != N_METRICS or scalars[1] != N_HIST_SCALARS
            or counters != N_COUNTERS):
        raise ValueError(f"hist_arrays must be [{N_METRICS}, {N_HIST_ARRAYS}, {N_BUCKETS}], "
                         f"hist_scalars [{N_METRICS}, {N_HIST_SCALARS}] and counters "
                         f"[{N_COUNTERS}]")
    return 0


cdef int _check_floats(const Py_ssize_t* floats, Py_ssize_t blocks) except -1:
    if floats[0] < blocks or floats[1] != N_METRICS or floats[2] != N_HIST_FLOATS:
        raise ValueError(f"block floats must be [>= {blocks}, {N_METRICS}, {N_HIST_FLOATS}]")
    return 0


cdef int _check_filled(const int64_t[::1] filled) except -1:
    cdef Py_ssize_t i
    for i in range(filled.shape[0]):
        if not 0 <= filled[i] < N_METRICS:
            raise ValueError(f"filled[{i}] = {filled[i]} is not a metric")
    return 0


def run_blocks_merged(object scenario_record, const uint32_t[::1] seed,
                      const int64_t[::1] blocks, const int64_t[::1] block_trials,
                      int64_t[:, :, ::1] hist_arrays, int64_t[:, ::1] hist_scalars,
                      double[:, :, ::1] block_floats, int64_t[::1] counters):
    """Run the blocks ``blocks[k]`` of ``block_trials[k]`` trials of a run whose seed has
    the words ``seed`` (``seed_words``), each drawing from its own stream
    (``mcsim.engine.block_bitgen``, seeded here) as ``run_block`` runs one into zeroed
    arrays; their outputs merge into the arrays given (``run_block``'s layout) by
    ``mcsim.engine.BlockOutput.add``'s rules, except the float sums: block ``k``'s ``(ss,
    sn)`` go to ``block_floats[k, metric]``, to be added in block order
    (``merge_outputs``).  All of it runs without the GIL.  Errors as ``run_block`` (the
    first failing block's; the arrays then hold a partial merge)."""
    from mcsim.numeric import check_scenario
    cdef list keep = []
    cdef const Scenario* sc = _scenario_of(scenario_record, keep)
    check_scenario(scenario_record)
    cdef Py_ssize_t k, n = block_trials.shape[0]
    _check_output(hist_arrays.shape, hist_scalars.shape, counters.shape[0])
    _check_floats(block_floats.shape, n)
    if blocks.shape[0] != n or seed.shape[0] < 1:
        raise ValueError(f"blocks must have {n} entries (one per block), seed at least 1")
    for k in range(n):
        if block_trials[k] < 0 or blocks[k] < 0:
            raise ValueError(f"block {blocks[k]} of {block_trials[k]} trials: negative")
    if n == 0:
        return
    # bounds the yy/yn entries the arrays already hold (they accumulate), as run_block
    cdef int64_t largest = max(int(np.asarray(hist_arrays)[:, 1:].max()), 0)
    cdef int err
    with nogil:
        err = run_chunk(sc, &seed[0], seed.shape[0], &blocks[0], &block_trials[0], n,
                        &hist_arrays[0, 0, 0], &hist_scalars[0, 0], &block_floats[0, 0, 0],
                        &counters[0], largest)
    if err:
        _raise_for(err, sc)


def merge_outputs(int64_t[:, :, ::1] hist_arrays, int64_t[:, ::1] hist_scalars,
                  double[:, ::1] hist_floats, int64_t[::1] counters,
                  const int64_t[:, :, ::1] part_arrays, const int64_t[:, ::1] part_scalars,
                  const double[:, :, ::1] part_floats, const int64_t[::1] part_counters,
                  const int64_t[::1] filled):
    """Merge one output (``part_*``, several blocks' integer sums) into another in place,
    without the GIL, as ``mcsim.engine.BlockOutput.add`` does: the arrays of the metrics
    in ``filled`` (the only ones the part may hold) and every scalar and counter saturate
    as sums (``mcsim.numeric.sat_add_into``), vmin/vmax and the counters
    max_pending_events/max_trial_events merge by min/max; ``part_floats[k]`` (one row per
    block, ``[blocks, metrics, (ss, sn)]``) are added one block after the other."""
    cdef Py_ssize_t i, k, x, n_blocks = part_floats.shape[0]
    cdef Py_ssize_t nf = filled.shape[0], row = N_HIST_ARRAYS * N_BUCKETS
    cdef Py_ssize_t nfloat = N_METRICS * N_HIST_FLOATS
    _check_output(hist_arrays.shape, hist_scalars.shape, counters.shape[0])
    _check_output(part_arrays.shape, part_scalars.shape, part_counters.shape[0])
    _check_floats(part_floats.shape, n_blocks)
    if hist_floats.shape[0] != N_METRICS or hist_floats.shape[1] != N_HIST_FLOATS:
        raise ValueError(f"hist_floats must be [{N_METRICS}, {N_HIST_FLOATS}]")
    _check_filled(filled)
    cdef int64_t* arrays = &hist_arrays[0, 0, 0]
    cdef const int64_t* parts = &part_arrays[0, 0, 0]
    cdef double* flt = &hist_floats[0, 0]
    cdef const double* pf = &part_floats[0, 0, 0] if n_blocks > 0 else NULL
    with nogil:
        for i in range(nf):
            merge_ints(arrays + filled[i] * row, parts + filled[i] * row, row)
        for i in range(N_METRICS):
            merge_scalars(&hist_scalars[i, 0], &part_scalars[i, 0])
        for k in range(n_blocks):            # block order: the float sums' only order
            for x in range(nfloat):
                flt[x] = flt[x] + pf[k * nfloat + x]
        merge_counters(&counters[0], &part_counters[0])


def clear_output(int64_t[:, :, ::1] hist_arrays, int64_t[:, ::1] hist_scalars,
                 int64_t[::1] counters, const int64_t[::1] filled):
    """Back to an empty output in place, without the GIL: the arrays of the metrics in
    ``filled`` (the only ones written) zeroed, the scalars empty (vmin INT64_MAX, vmax
    -1), the counters 0."""
    cdef Py_ssize_t i, nf = filled.shape[0], row = N_HIST_ARRAYS * N_BUCKETS
    _check_output(hist_arrays.shape, hist_scalars.shape, counters.shape[0])
    _check_filled(filled)
    cdef int64_t* arrays = &hist_arrays[0, 0, 0]
    with nogil:
        for i in range(nf):
            memset(arrays + filled[i] * row, 0, row * sizeof(int64_t))
        memset(&hist_scalars[0, 0], 0, N_METRICS * N_HIST_SCALARS * sizeof(int64_t))
        for i in range(N_METRICS):
            hist_scalars[i, HS_VMIN] = INT64_MAX
            hist_scalars[i, HS_VMAX] = -1
        memset(&counters[0], 0, N_COUNTERS * sizeof(int64_t))
