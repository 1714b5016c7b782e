# Runs of several blocks in one call, and the merge of block outputs, without the GIL
# (included by engine.pyx).  A window trial is a block of its own (docs/model.md §12.3), so
# a run of window trials used to cost, per trial, a call of run_block and a merge of its
# arrays in numpy, all under the GIL: 2 threads ran no faster than 1.  Here the core runs a
# chunk of blocks, each exactly as run_block would into zeroed arrays, merging their
# integer sums into the output given (mcsim.engine.BlockOutput.add's rules), and
# merge_outputs merges two outputs by the same rules, in C.
#
# Why the bytes cannot change: every integer merge is associative and commutative
# (saturating sums of non-negative int64, min, max), so grouping blocks into chunks, or
# threads into sums of their own, changes nothing; the float sums are not, so each
# block's (ss, sn) is added to the total's in block order (here, or from the rows kept
# for it: add_float_rows), as BlockOutput.add adds them.

cdef extern from *:
    """
    /* sat_add_into (mcsim/numeric.py) on one row: add with int64 wrap-around, then any
       negative entry becomes INT64_MAX; for a, b >= 0, min(a + b, INT64_MAX).  numpy's
       wrap-around is the model, so the two merges agree on any input.  Two passes as
       numpy's: the add (which GCC vectorizes with the OR of the sums) and, only if a sum
       wrapped, the fix-up. */
    static void mcsim_merge_row(int64_t *a, const int64_t *b, Py_ssize_t n) {
        uint64_t any = 0;
        for (Py_ssize_t i = 0; i < n; i++) {
            uint64_t r = (uint64_t)a[i] + (uint64_t)b[i];
            a[i] = (int64_t)r;
            any |= r;
        }
        if ((int64_t)any < 0)
            for (Py_ssize_t i = 0; i < n; i++)
                if (a[i] < 0)
                    a[i] = INT64_MAX;
    }
    /* the same rule for one entry */
    static inline int64_t mcsim_merge_add(int64_t a, int64_t b) {
        int64_t r = (int64_t)((uint64_t)a + (uint64_t)b);
        return r < 0 ? INT64_MAX : r;
    }
    """
    void merge_ints "mcsim_merge_row"(int64_t* a, const int64_t* b, Py_ssize_t n) noexcept nogil
    int64_t merge_add "mcsim_merge_add"(int64_t a, int64_t b) noexcept nogil


cdef struct ChunkOut:
    # Where run_chunk merges its blocks (run_block's layout): the integer sums, and each
    # block's float sums either added to ``floats`` in block order or, if ``rows`` is not
    # NULL, kept in its own row ``rows[block, metric, (ss, sn)]`` (added later, in order).
    int64_t* arrays
    int64_t* scal
    double* floats
    double* rows
    int64_t* counters
    int64_t largest          # a bound of the yy and yn entries in arrays
    int64_t* spare           # SPARE zeroed int64s for the plain build's blocks, or NULL


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


cdef inline void hist_own(const Hist* h, int64_t* own) noexcept nogil:
    """One block's histogram scalars, in the columns of hist_scalars (run_block's
    layout), for merge_scalars."""
    own[HS_N] = h.n
    own[HS_TOTAL] = h.total
    own[HS_VMIN] = h.vmin
    own[HS_VMAX] = h.vmax
    own[HS_NN] = hist_nn(h)
    own[HS_TRIALS] = h.trials
    own[HS_OVERFLOW] = h.overflow


cdef void store_block(Sim* s, ChunkOut* out, Py_ssize_t k) noexcept nogil:
    """A finished block's histogram scalars merged into the output's, its float sums
    added to the output's (block order: as BlockOutput.add adds them) or kept in row k."""
    cdef int m
    cdef int64_t own[N_HIST_SCALARS]
    cdef Hist* h
    cdef double* flt = out.floats
    if out.rows != NULL:
        flt = out.rows + k * N_METRICS * N_HIST_FLOATS
    for m in range(N_METRICS):
        h = &s.hists[m]
        hist_own(h, own)
        merge_scalars(out.scal + m * N_HIST_SCALARS, own)
        if out.rows != NULL:
            flt[m * N_HIST_FLOATS + HF_SS] = h.ss
            flt[m * N_HIST_FLOATS + HF_SN] = h.sn
        else:
            flt[m * N_HIST_FLOATS + HF_SS] += h.ss
            flt[m * N_HIST_FLOATS + HF_SN] += h.sn


cdef void add_rows(double* flt, const double* rows, Py_ssize_t n_blocks) noexcept nogil:
    """Blocks' float sums ``rows[block, metric, (ss, sn)]`` added to ``flt`` one block
    after the other: block order, the float sums' only order."""
    cdef Py_ssize_t k, x, nfloat = N_METRICS * N_HIST_FLOATS
    for k in range(n_blocks):
        for x in range(nfloat):
            flt[x] = flt[x] + rows[k * nfloat + x]


cdef int64_t nn_bound(Sim* s, int64_t largest) noexcept nogil:
    """A bound of the yy and yn entries after the block: each grew by at most its
    metric's nn (a trial adds at most N**2 to any one; hist.pxd), from at most largest."""
    cdef int m
    cdef int64_t most = 0
    for m in range(N_METRICS):
        if hist_nn(&s.hists[m]) > most:
            most = hist_nn(&s.hists[m])
    return sat_add(largest, most)


cdef int run_chunk(const Scenario* sc, const uint32_t* seed, Py_ssize_t nseed,
                   const int64_t* blocks, const int64_t* trials, Py_ssize_t n_blocks,
                   ChunkOut* out) noexcept nogil:
    """The blocks one after the other, each from its own fresh generator (block_pcg:
    numpy's seeding of the block's stream) and zeroed counters, as run_block runs one; the
    histograms record straight into ``out.arrays`` (their sums merge in any grouping).
    Stops at the first error, returned."""
    cdef Sim s
    cdef int64_t own[N_COUNTERS]              # (an int64 array: aligned, unlike Counters)
    cdef mcsim_pcg64 pcg
    cdef Py_ssize_t k
    cdef int err = 0
    # The plain build's spare arrays (Sim.spare), zeroed once for all the blocks (each
    # leaves them zeroed): the caller's, or one allocation for the chunk.  (A calloc per
    # block would clear 0.7 MB each time.)
    cdef int64_t* spare = out.spare
    if PLAIN and spare == NULL:
        spare = <int64_t*>calloc(SPARE, sizeof(int64_t))
        if spare == NULL:
            return ERR_NOMEM
    for k in range(n_blocks):
        memset(own, 0, sizeof(own))
        block_pcg(&pcg, seed, nseed, <uint64_t>blocks[k])
        err = sim_init(&s, sc, NULL, &pcg, out.arrays, out.largest, <Counters*>own, spare)
        if err == 0:
            err = run_trials(&s, trials[k], NULL, False)
        store_block(&s, out, k)
        merge_counters(out.counters, own)
        out.largest = nn_bound(&s, out.largest)
        sim_free(&s)
        if err:
            break
    if spare != out.spare:
        free(spare)
    return err


cdef int _check_output(const Py_ssize_t* arrays, const Py_ssize_t* scalars) except -1:
    """The shapes of an output's histograms (``run_block``'s layout; its counters are
    checked by _counters_of), from their memoryviews."""
    if (arrays[0] != N_METRICS or arrays[1] != N_HIST_ARRAYS or arrays[2] != N_BUCKETS
            or scalars[0] != N_METRICS or scalars[1] != N_HIST_SCALARS):
        raise ValueError(f"hist_arrays must be [{N_METRICS}, {N_HIST_ARRAYS}, {N_BUCKETS}] "
                         f"and hist_scalars [{N_METRICS}, {N_HIST_SCALARS}]")
    return 0


cdef int64_t* _counter_words(object counters) except NULL:
    """The caller's counters (checked by _counters_of: a Counters record or an int64
    array) as N_COUNTERS int64 words, the same bytes (the Counters fields are packed
    int64), held alive by the caller's array."""
    _counters_of(counters)
    cdef int64_t[::1] words = np.asarray(counters).reshape(-1).view(np.int64)
    return &words[0]


cdef int _check_hist_floats(const Py_ssize_t* floats) except -1:
    if floats[0] != N_METRICS or floats[1] != N_HIST_FLOATS:
        raise ValueError(f"hist_floats must be [{N_METRICS}, {N_HIST_FLOATS}]")
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
                      double[:, ::1] hist_floats, object counters,
                      block_floats=None, int64_t largest=-1, spare=None):
    """Run the blocks ``blocks[k]`` of ``block_trials[k]`` trials of a run whose seed has
    the words ``seed`` (``seed_words``), each drawing from its own stream
    (``mcsim.engine.block_bitgen``, seeded here) as ``run_block`` runs one into zeroed
    arrays, and merge them one after the other into the output given (``run_block``'s
    layout) as ``mcsim.engine.BlockOutput.add`` does: integer sums saturate, vmin/vmax and
    the counters max_pending_events/max_trial_events by min/max, each block's float sums
    ``(ss, sn)`` added to ``hist_floats`` in block order, or, with ``block_floats`` (``[>=
    blocks, metrics, 2]``), kept in row ``k`` (to be added later, in block order:
    ``add_float_rows``, ``merge_outputs``).
    ``largest``: a bound of the yy/yn entries the arrays hold (-1: found here, a scan of
    the arrays); returns the bound after the blocks.  All of it runs without the GIL.
    Errors as ``run_block`` (the first failing block's; the output then holds a partial
    merge).  ``spare``: None, or a zeroed C-contiguous int64 array of ``spare_size()``
    that the plain family's build uses for its histograms and leaves zeroed, so that a
    caller running many chunks (``mcsim.engine.run_blocks``) zeroes it once; the general
    build ignores it."""
    from mcsim.numeric import check_scenario
    global _blocks_run
    cdef list keep = []
    cdef const Scenario* sc = _scenario_of(scenario_record, keep)
    plain = _plain_build(sc, None)
    if plain is not None:                     # the plain family's build (engine_family.pxi)
        return plain.run_blocks_merged(scenario_record, seed, blocks, block_trials,
                                       hist_arrays, hist_scalars, hist_floats, counters,
                                       block_floats, largest, spare)
    check_scenario(scenario_record)
    cdef Py_ssize_t k, n = block_trials.shape[0]
    cdef double[:, :, ::1] rows
    cdef ChunkOut out
    _check_output(hist_arrays.shape, hist_scalars.shape)
    cdef int64_t* words = _counter_words(counters)
    _check_hist_floats(hist_floats.shape)
    if blocks.shape[0] != n or seed.shape[0] < 1:
        raise ValueError(f"blocks must have {n} entries (one per block), seed at least 1")
    for k in range(n):
        if block_trials[k] < 0 or blocks[k] < 0:
            raise ValueError(f"block {blocks[k]} of {block_trials[k]} trials: negative")
    out.rows = NULL
    if block_floats is not None:
        rows = block_floats
        _check_floats(rows.shape, n)
        if n > 0:
            out.rows = &rows[0, 0, 0]
    if largest < 0:       # (the arrays accumulate; run_block scans them likewise)
        largest = max(int(np.asarray(hist_arrays)[:, 1:].max()), 0)
    if n == 0:
        return largest
    out.arrays = &hist_arrays[0, 0, 0]
    out.scal = &hist_scalars[0, 0]
    out.floats = &hist_floats[0, 0]
    out.counters = words
    out.largest = largest
    out.spare = NULL
    cdef int64_t[::1] spare_view
    if PLAIN and spare is not None:
        spare_view = spare
        if spare_view.shape[0] != SPARE:
            raise ValueError(f"spare has {spare_view.shape[0]} entries; it must have "
                             f"spare_size() = {SPARE}")
        out.spare = &spare_view[0]
    cdef int err
    _blocks_run += n
    with nogil:
        err = run_chunk(sc, &seed[0], seed.shape[0], &blocks[0], &block_trials[0], n, &out)
    if err:
        _raise_for(err, sc)
    return out.largest


def spare_size():
    """The entries of ``run_blocks_merged``'s ``spare`` array."""
    return SPARE


def merge_outputs(int64_t[:, :, ::1] hist_arrays, int64_t[:, ::1] hist_scalars,
                  double[:, ::1] hist_floats, object counters,
                  const int64_t[:, :, ::1] part_arrays, const int64_t[:, ::1] part_scalars,
                  const double[:, :, ::1] part_floats, object part_counters,
                  const int64_t[::1] filled):
    """Merge one output (``part_*``, several blocks' integer sums) into another in place,
    without the GIL, as ``mcsim.engine.BlockOutput.add`` does: the arrays of the metrics
    in ``filled`` (the only ones the part may hold) and every scalar and counter saturate
    as sums (``mcsim.numeric.sat_add_into``), vmin/vmax and the counters
    max_pending_events/max_trial_events merge by min/max; ``part_floats[k]`` (one row per
    block, ``[blocks, metrics, (ss, sn)]``) are added one block after the other."""
    cdef Py_ssize_t i, n_blocks = part_floats.shape[0]
    cdef Py_ssize_t nf = filled.shape[0], row = N_HIST_ARRAYS * N_BUCKETS
    _check_output(hist_arrays.shape, hist_scalars.shape)
    _check_output(part_arrays.shape, part_scalars.shape)
    cdef int64_t* into = _counter_words(counters)
    cdef const int64_t* part = _counter_words(part_counters)
    _check_floats(part_floats.shape, n_blocks)
    _check_hist_floats(hist_floats.shape)
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
        add_rows(flt, pf, n_blocks)
        merge_counters(into, part)


def add_float_rows(double[:, ::1] hist_floats, const double[:, :, ::1] rows):
    """Add ``rows[k]`` (blocks' float sums ``[block, metric, (ss, sn)]``, from
    ``run_blocks_merged``) to ``hist_floats`` one block after the other, in order, as
    ``mcsim.engine.BlockOutput.add`` adds each block's."""
    _check_floats(rows.shape, rows.shape[0])
    _check_hist_floats(hist_floats.shape)
    if rows.shape[0] == 0:
        return
    add_rows(&hist_floats[0, 0], &rows[0, 0, 0], rows.shape[0])
