# The log-linear latency histogram, C side.  The Python twin is mcsim/histogram.py;
# the two must agree bit for bit (tests/test_histogram.py checks it), and the
# module docstring there explains the layout and the yy/yn arrays.
#
# Everything here is `cdef inline ... noexcept nogil` on C types only, so the
# engine can record samples from its nogil inner loop.  Functions that can fail
# (memory) return an int error flag (HIST_OK == 0) instead of raising.
#
# Usage (the arrays are owned by the caller, e.g. zeroed numpy int64 arrays of
# N_BUCKETS, and are accumulated into, never cleared):
#     cdef Hist h
#     if hist_init(&h, &counts[0], &yy[0], &yn[0], 0) != HIST_OK: raise MemoryError()
#     for each trial:
#         for each sample v: err |= hist_record(&h, v)
#         hist_end_trial(&h)
#     ... read h.n, h.total, ...;  hist_free(&h)
# A caller juggling many histograms may instead close only those that got samples
# (hist_close_trial, which leaves h.trials alone) and count every trial in h.trials itself.

from libc.stdint cimport int32_t, int64_t, uint64_t, INT64_MAX
from libc.stdlib cimport free, malloc, realloc

from numeric cimport sat_add, sat_mul

from hist_c cimport (HIST_RANKED_MAX, __builtin_clzll, __builtin_ctzll, ctz64, hist_add_ones,
                    hist_add_saturating, hist_add_twice, hist_cold_void, hist_counting_sort,
                    hist_fold_ranked, hist_noinline_void, opaque_ptr, unlikely)

cdef enum:
    SUB_BITS = 7            # sub-buckets per power of two = 2**SUB_BITS
    SUB = 128
    N_EXACT = 256           # values below this get a bucket of their own
    MAX_EXP = 43            # values >= 2**MAX_EXP overflow into the last bucket
    N_BUCKETS = 4736        # N_EXACT + (MAX_EXP - 8) * SUB

cdef enum:
    HIST_OK = 0
    HIST_ERR_NOMEM = -1     # realloc/malloc failed; the sample was not recorded
    HIST_ERR_NEGATIVE = -2  # v < 0 has no bucket; the sample was not recorded

cdef enum:
    TBUF_INITIAL_CAPACITY = 64
    # tcheck stays at or below this, so that a close (tlen and tsum back to 0) keeps
    # tcheck * 2**MAX_EXP < 2**63; a trial's samples past it all take the careful path.
    TCHECK_MAX = 1 << (62 - MAX_EXP)


cdef struct Hist:
    # Per-bucket arrays of N_BUCKETS, owned elsewhere.
    int64_t* counts   # samples per bucket
    int64_t* yy       # cumsum(yy)[b] = sum over trials of Y_t(b)**2
    int64_t* yn       # cumsum(yn)[b] = sum over trials of Y_t(b) * N_t
    # Totals over all closed and abandoned trials (n, counts), over those and the open one
    # (vmin, vmax, overflow) or over closed trials (total, nn, trials, ss, sn).  A sample's
    # bucket is counted when its trial closes, which walks the trial's buckets anyway.
    # Sums of values (total, tsum) and of squares (nn, yy, yn) saturate at INT64_MAX
    # (numeric.pxd): a saturated one reads "at least this", and its statistics are NaN.
    # Plain counts (n, counts, trials, overflow) grow by one per sample or trial, so the
    # work needed to overflow them (2**63 samples) is out of reach.
    int64_t n         # samples (but those of the one-sample trials pending in ones)
    int64_t total     # sum of values
    int64_t vmin      # INT64_MAX while empty
    int64_t vmax      # -1 while empty
    # nn_fast - nn, where nn (hist_nn) is the sum over trials of N_t**2: an inline close
    # of N <= 5 samples tests nn_room >= N**2 and takes N**2 from it (nn_fast below), nn
    # itself is not stored (a compare with nn_fast and an add to nn less per close).  A
    # sample >= 2**MAX_EXP sets it to 0 (nn_fast to nn): its trial closes through
    # _fold_trial.
    int64_t nn_room
    # (ss and sn apart: side by side, GCC adds the pair as one vector, whose packing and
    # unpacking take more instructions than two scalar adds in an inline close)
    double ss         # sum over trials of S_t**2 (S_t = sum of the trial's values)
    int64_t trials    # closed trials, empty ones included
    double sn         # sum over trials of S_t * N_t
    int64_t overflow  # samples >= 2**MAX_EXP
    # The open trial: its samples' bucket indices and the sum of its values (tlen and
    # tsum side by side: a close zeroes both with one store).
    int32_t* tbuf
    int64_t tlen
    int64_t tsum
    int64_t tcap
    # hist_record's fast path, a plain add to tsum, runs while tlen < tcheck; the sample
    # at tlen == tcheck takes the careful one (hist_record_careful), which grows tbuf and
    # sets tcheck so that tsum + (tcheck - tlen) * 2**MAX_EXP stays below 2**63: the
    # fast samples (each < 2**MAX_EXP) cannot overflow tsum before the next check.
    int64_t tcheck
    int32_t* cbuf     # a long trial's counts per bucket and bitmap (mcsim_hist_cbuf), or NULL
    # INT64_MAX minus the largest yy or yn entry given to hist_init.  Every entry stays
    # below that entry + nn (a trial adds at most N**2 to any one), so while nn is below
    # nn_safe, hist_end_trial adds without checking each entry.
    int64_t nn_safe
    # A trial of N <= 5 samples closes inline while nn + N**2 <= nn_fast (_set_nn_fast):
    # nn stays below nn_safe, and total below 2**63 without saturating, as such a close
    # adds < 2**MAX_EXP to total per unit of nn.
    int64_t nn_fast
    # Or NULL: N_BUCKETS counts of one-sample trials' buckets not yet added to counts, yy
    # and yn (hist_close_trial_ones; hist_flush_ones adds them).  Owned elsewhere, zeroed.
    int64_t* ones
    # Or NULL: a Hist that gets the same samples as this one at the same times, which this
    # one records for both (hist_twin_start); counts, yy and yn are then zeroed arrays of
    # the pair's sums since, and real_* this Hist's own arrays.  hist_untwin parts them.
    Hist* twin
    int64_t* real_counts
    int64_t* real_yy
    int64_t* real_yn
    # Padding to 256 bytes (200 without it): the engine indexes its array of Hists by a
    # metric known only at run time (a trial's close of each metric it touched, a hold's
    # metric by the holder's kind), and a power of two makes that index a shift, not a
    # multiply by 5 and a shift recomputed at each field's use.  engine_trial.pxi checks
    # the size when it compiles.
    int64_t pad[7]


cdef inline int32_t _bucket_below_overflow(int64_t v) noexcept nogil:
    """bucket_index of 0 <= v < 2**MAX_EXP."""
    cdef int k
    if v < N_EXACT:
        return <int32_t>v
    # v = 2**e * (1.f), 8 <= e <= 42: bucket N_EXACT + (e - 8) * SUB + (v >> (e - SUB_BITS))
    # - SUB, which is (k << SUB_BITS) + (v >> k) with k = e - SUB_BITS, as N_EXACT = 2 * SUB
    # = 2**8 (fewer instructions).
    k = 63 - SUB_BITS - __builtin_clzll(<unsigned long long>v)
    return <int32_t>((k << SUB_BITS) + (v >> k))


cdef inline int32_t bucket_index(int64_t v) noexcept nogil:
    """Bucket of a value v >= 0 (the caller guarantees the sign)."""
    if v >= (<int64_t>1 << MAX_EXP):
        return N_BUCKETS - 1
    return _bucket_below_overflow(v)


cdef inline int64_t hist_nn(const Hist* h) noexcept nogil:
    """The sum over closed trials of N_t**2 (see nn_room)."""
    return h.nn_fast - h.nn_room


cdef inline void _set_nn_fast(Hist* h, int64_t nn) noexcept nogil:
    """nn_fast from nn, nn_safe and total (see Hist), and nn_room for nn."""
    cdef int64_t room = (INT64_MAX - h.total) >> MAX_EXP
    cdef int64_t limit = h.nn_safe - 1
    if room < limit - nn:
        limit = nn + room
    h.nn_fast = limit
    h.nn_room = limit - nn      # (>= -1 - nn: no overflow)


cdef inline int hist_init(Hist* h, int64_t* counts, int64_t* yy, int64_t* yn,
                          int64_t largest) noexcept nogil:
    """``largest``: an upper bound of the entries already in yy and yn (0 for zeroed
    arrays; the caller knows it cheaply, e.g. numpy's max())."""
    h.nn_safe = INT64_MAX - largest if largest > 0 else INT64_MAX
    h.counts = counts
    h.yy = yy
    h.yn = yn
    h.n = 0
    h.total = 0
    h.vmin = INT64_MAX
    h.vmax = -1
    h.trials = 0
    h.overflow = 0
    h.ss = 0.0
    h.sn = 0.0
    h.tlen = 0
    h.tsum = 0
    h.cbuf = NULL
    h.ones = NULL
    h.twin = NULL
    h.tbuf = <int32_t*>malloc(TBUF_INITIAL_CAPACITY * sizeof(int32_t))
    h.tcap = TBUF_INITIAL_CAPACITY if h.tbuf != NULL else 0
    h.tcheck = h.tcap           # (TBUF_INITIAL_CAPACITY <= TCHECK_MAX)
    _set_nn_fast(h, 0)
    return HIST_OK if h.tbuf != NULL else HIST_ERR_NOMEM


cdef inline void _set_tcheck(Hist* h) noexcept nogil:
    """The next careful sample: the fast ones before it (each < 2**MAX_EXP) keep tsum
    below 2**63, tbuf has room for them, and tcheck stays <= TCHECK_MAX (or at tlen)."""
    cdef int64_t room = (INT64_MAX - h.tsum) >> MAX_EXP
    if room > TCHECK_MAX - h.tlen:
        room = TCHECK_MAX - h.tlen
    if room > h.tcap - h.tlen:
        room = h.tcap - h.tlen
    h.tcheck = h.tlen + room if room > 0 else h.tlen


cdef inline void _append(Hist* h, int64_t v, int32_t idx) noexcept nogil:
    """A sample joins the extremes and the open trial's list (tbuf has room)."""
    if v < h.vmin:
        h.vmin = v
    if v > h.vmax:
        h.vmax = v
    h.tbuf[h.tlen] = idx
    h.tlen += 1


cdef inline int hist_record_careful(Hist* h, int64_t v) noexcept nogil:
    """hist_record without its fast path: for any sample, and needed for those the fast
    path refuses (tbuf full, tsum near the int64 limit, a trial past TCHECK_MAX samples,
    v outside [0, 2**MAX_EXP))."""
    cdef int32_t* grown
    cdef int32_t idx
    if v < 0:
        return HIST_ERR_NEGATIVE
    if h.tlen == h.tcap:
        # Grow before touching any counter, so a failure leaves h consistent.
        grown = <int32_t*>realloc(h.tbuf, 2 * h.tcap * sizeof(int32_t))
        if grown == NULL:
            return HIST_ERR_NOMEM
        h.tbuf = grown
        h.tcap *= 2
    if v >= (<int64_t>1 << MAX_EXP):
        h.overflow += 1
        h.nn_fast -= h.nn_room  # so this trial closes through _fold_trial (see Hist)
        h.nn_room = 0
        idx = N_BUCKETS - 1
    else:
        idx = _bucket_below_overflow(v)
    _append(h, v, idx)
    h.tsum = sat_add(h.tsum, v)
    _set_tcheck(h)
    return HIST_OK


cdef inline bint hist_record_fast(Hist* h, int64_t v) noexcept nogil:
    """Record v as hist_record does, if it needs neither the careful path nor an error
    return (tlen < tcheck, 0 <= v < 2**MAX_EXP); false, with h unchanged, if it does.
    (For a caller that keeps hist_record_careful out of line.)"""
    cdef int k
    cdef int32_t idx
    if unlikely(h.tlen == h.tcheck, 0):
        return False
    # _bucket_below_overflow with the range test inside: a v below N_EXACT (unsigned, so
    # not a negative one) is its own bucket; any other has k = e - SUB_BITS for v = 2**e *
    # (1.f), and a negative v (e = 63) or one >= 2**MAX_EXP has k >= MAX_EXP - SUB_BITS
    if <uint64_t>v < N_EXACT:
        idx = <int32_t>v
    else:
        k = 63 - SUB_BITS - __builtin_clzll(<unsigned long long>v)
        if unlikely(k >= MAX_EXP - SUB_BITS, 0):
            return False
        idx = <int32_t>((k << SUB_BITS) + (v >> k))
    _append(h, v, idx)
    h.tsum += v                 # cannot overflow: see tcheck
    return True


cdef inline int hist_record(Hist* h, int64_t v) noexcept nogil:
    """Record one sample of the open trial: its bucket joins the trial's list, its value
    the extremes, overflow and the trial's sum; the close counts it in n and counts."""
    if hist_record_fast(h, v):
        return HIST_OK
    return hist_record_careful(h, v)


cdef inline void _fold_trial(Hist* h, int64_t N) noexcept nogil:
    """hist_close_trial's general case: N >= 6 samples, or fewer near the int64 limits."""
    cdef int32_t blo = 0, bhi = N_BUCKETS - 1
    cdef int64_t nn = sat_add(hist_nn(h), sat_mul(N, N))
    if unlikely(h.twin != NULL and nn >= h.nn_safe, 0):
        _untwin_fold(h, N)      # the pair's entries may saturate, each its own way
    h.n += N
    if unlikely(nn >= h.nn_safe and h.ones != NULL, 0):
        _flush_ones_cold(h)     # the entries must be exact before they saturate
    # while nn is below nn_safe, no yy or yn entry can reach the int64 limit
    if N > HIST_RANKED_MAX:     # (a fold by counts walks the buckets of [vmin, vmax])
        blo = bucket_index(h.vmin)
        bhi = bucket_index(h.vmax)
    hist_fold_ranked(h.counts, h.yy, h.yn, h.tbuf, N, &h.cbuf, N_BUCKETS, nn >= h.nn_safe,
                     blo, bhi)
    h.total = sat_add(h.total, h.tsum)
    h.ss += <double>h.tsum * <double>h.tsum
    h.sn += <double>h.tsum * <double>N
    _set_nn_fast(h, nn)


cdef inline hist_noinline_void _fold_open(Hist* h) noexcept nogil:
    """_fold_trial of the open trial, which then closes: out of line, as its fold is."""
    _fold_trial(h, h.tlen)
    h.tlen = 0
    h.tsum = 0


cdef struct Arrays:
    # A Hist's counts, yy and yn read into locals once per close: GCC (which compiles
    # without strict aliasing) reloads each pointer from the Hist after every int64
    # store through another, three loads per sample of the inline closes otherwise.
    int64_t* counts
    int64_t* yy
    int64_t* yn


cdef inline Arrays _arrays(Hist* h) noexcept nogil:
    cdef Arrays a
    a.counts = h.counts
    a.yy = h.yy
    a.yn = h.yn
    return a


cdef inline void _add_ranked(Arrays a, int32_t b, int64_t rank, int64_t N) noexcept nogil:
    """A closing trial's sample of the given rank, in bucket b, of N: what
    mcsim_hist_fold_ranked adds for it (2 rank + 1 to yy, N to yn), for the inline closes
    of N <= 5 samples far from the int64 limits."""
    a.counts[b] += 1
    a.yy[b] += 2 * rank + 1
    a.yn[b] += N


cdef inline void _close_small(Hist* h, int64_t t, int64_t N) noexcept nogil:
    """The trial sums of an inline close of N <= 5 samples whose sum is t, then the next
    trial opens.  (t * 1.0 is t, so N = 1 adds the same sn.)"""
    h.n += N
    h.nn_room -= N * N
    h.total += t                # cannot overflow: see nn_fast
    h.ss += <double>t * <double>t
    h.sn += <double>t * <double>N
    h.tlen = 0
    h.tsum = 0


cdef inline void _close_three(Hist* h, int64_t t) noexcept nogil:
    """hist_close_trial's three-sample case: a sorting network for the ranks 0, 1, 2 (in
    one bucket the order does not matter); N = 3."""
    cdef int32_t lo = h.tbuf[0], mid = h.tbuf[1], hi = h.tbuf[2]
    cdef Arrays a = _arrays(h)
    if mid < lo:
        lo, mid = mid, lo
    if hi < mid:
        mid, hi = hi, mid
        if mid < lo:
            lo, mid = mid, lo
    _add_ranked(a, lo, 0, 3)
    _add_ranked(a, mid, 1, 3)
    _add_ranked(a, hi, 2, 3)
    _close_small(h, t, 3)


cdef inline void _close_four(Hist* h, int64_t t) noexcept nogil:
    """hist_close_trial's four-sample case: a sorting network of five compare-swaps for
    the ranks 0 to 3 (in one bucket the order does not matter); N = 4."""
    cdef int32_t a = h.tbuf[0], b = h.tbuf[1], c = h.tbuf[2], d = h.tbuf[3]
    cdef Arrays ar = _arrays(h)
    if b < a:
        a, b = b, a
    if d < c:
        c, d = d, c
    if c < a:
        a, c = c, a
    if d < b:
        b, d = d, b
    if c < b:
        b, c = c, b
    _add_ranked(ar, a, 0, 4)
    _add_ranked(ar, b, 1, 4)
    _add_ranked(ar, c, 2, 4)
    _add_ranked(ar, d, 3, 4)
    _close_small(h, t, 4)


cdef inline void _swap_if(int32_t* v, int i, int j) noexcept nogil:
    """A sorting network's compare-swap: v[i] <= v[j] after it."""
    cdef int32_t a = v[i], b = v[j]
    if b < a:
        v[i] = b
        v[j] = a


cdef inline void _close_five(Hist* h, int64_t t) noexcept nogil:
    """hist_close_trial's five-sample case: a sorting network of nine compare-swaps for
    the ranks 0 to 4; N = 5."""
    cdef int32_t v[5]
    cdef int k
    cdef Arrays a = _arrays(h)
    for k in range(5):
        v[k] = h.tbuf[k]
    _swap_if(v, 0, 1)
    _swap_if(v, 3, 4)
    _swap_if(v, 2, 4)
    _swap_if(v, 2, 3)
    _swap_if(v, 0, 3)
    _swap_if(v, 0, 2)
    _swap_if(v, 1, 4)
    _swap_if(v, 1, 3)
    _swap_if(v, 1, 2)
    for k in range(5):
        _add_ranked(a, v[k], k, 5)
    _close_small(h, t, 5)


cdef inline void hist_close_trial(Hist* h) noexcept nogil:
    """Fold the open trial into counts, yy, yn and the trial sums, and open the next; an
    empty trial changes none of them (it adds zeros).  h.trials is the caller's."""
    cdef int64_t t = h.tsum
    cdef int32_t b, hi
    cdef Arrays a
    if h.tlen == 1 and h.nn_room >= 1:
        # The commonest trial, one sample, far from the int64 limits: rank 0 adds 1 to
        # yy (mcsim_hist_fold_ranked), N = 1 to yn and nn, and sn gains t * 1.0 = t.
        _add_ranked(_arrays(h), h.tbuf[0], 0, 1)
        _close_small(h, t, 1)    # (in each branch, where h is at hand)
    elif h.tlen == 2 and h.nn_room >= 4:
        # Two samples: ranks 0 and 1 without a sort (in one bucket, the order does not
        # matter); N = 2.
        b = h.tbuf[0]
        hi = h.tbuf[1]
        if hi < b:
            b, hi = hi, b
        a = _arrays(h)
        _add_ranked(a, b, 0, 2)
        _add_ranked(a, hi, 1, 2)
        _close_small(h, t, 2)
    elif h.tlen == 3 and h.nn_room >= 9:
        _close_three(h, t)
    elif h.tlen == 4 and h.nn_room >= 16:
        _close_four(h, t)
    elif h.tlen == 5 and h.nn_room >= 25:
        _close_five(h, t)
    elif h.tlen > 0:
        _fold_open(h)


cdef inline void hist_close_trial_ones(Hist* h) noexcept nogil:
    """hist_close_trial for a Hist with ones: a one-sample trial far from the int64 limits
    adds 1 to ones[b] instead of to counts[b], yy[b] and yn[b] alike (hist_flush_ones
    adds ones to the three later: the same sums, as nothing saturates before it), and
    leaves its sample out of n until then."""
    cdef int64_t t
    if h.tlen == 1 and h.nn_room >= 1:
        # _close_small(h, t, 1) but for n, which takes the trial's sample when
        # hist_flush_ones adds ones (n decides nothing before: the folds only add to it)
        t = h.tsum
        h.ones[h.tbuf[0]] += 1
        h.nn_room -= 1
        h.total += t            # cannot overflow: see nn_fast
        h.ss += <double>t * <double>t
        h.sn += <double>t
        h.tlen = 0
        h.tsum = 0
    else:
        hist_close_trial(h)


cdef inline void hist_flush_ones(Hist* h) noexcept nogil:
    """Add the pending one-sample trials (ones) to counts, yy, yn and n, and zero ones.  A
    sample lies in the buckets of [vmin, vmax], so only those are read.  Called before
    anything reads the arrays, and before an entry may saturate (_fold_trial): until then
    each of them only grows by plain adds, which any order sums alike."""
    if h.ones != NULL and h.vmax >= 0:
        h.n += hist_add_ones(h.counts, h.yy, h.yn, h.ones, bucket_index(h.vmin),
                             bucket_index(h.vmax))


cdef inline hist_cold_void _flush_ones_cold(Hist* h) noexcept nogil:
    """hist_flush_ones for _fold_trial, which needs it only once nn reaches nn_safe: out
    of line and cold (inlined, its loop changed how GCC compiled the fold's)."""
    hist_flush_ones(h)


cdef inline void hist_twin_start(Hist* h, Hist* twin, int64_t* scratch) noexcept nogil:
    """From now on h records its samples for twin as well, which must then get exactly
    h's samples, at the same times (each trial the same ones), and nothing else until
    hist_untwin; both fresh from hist_init with the same largest.  scratch: 3 * N_BUCKETS
    zeroed entries, owned by the caller, for the pair's counts, yy and yn (zeroed again
    by hist_untwin)."""
    h.twin = twin
    h.real_counts = h.counts
    h.real_yy = h.yy
    h.real_yn = h.yn
    h.counts = scratch
    h.yy = scratch + N_BUCKETS
    h.yn = scratch + 2 * N_BUCKETS


cdef inline hist_cold_void hist_untwin(Hist* h) noexcept nogil:
    """Part h from its twin (if any): the pair's sums since hist_twin_start are added to
    both Hists' own arrays, and the twin takes h's scalars, as if it had recorded the
    same samples itself.  Exact while no entry saturated: h untwins before its first fold
    that may saturate (_fold_trial), and before its arrays are read.  The twin's open
    trial stays empty; h's is h's own.  The scratch arrays are left zeroed."""
    cdef Hist* tw = h.twin
    cdef int32_t lo, hi
    if tw == NULL:
        return
    h.twin = NULL
    hist_flush_ones(h)
    if h.vmax >= 0:             # every sample's bucket lies in [vmin's, vmax's]
        lo = bucket_index(h.vmin)
        hi = bucket_index(h.vmax)
        hist_add_twice(h.counts, h.real_counts, tw.counts, lo, hi)
        hist_add_twice(h.yy, h.real_yy, tw.yy, lo, hi)
        hist_add_twice(h.yn, h.real_yn, tw.yn, lo, hi)
    h.counts = h.real_counts
    h.yy = h.real_yy
    h.yn = h.real_yn
    tw.n = h.n
    tw.total = h.total
    tw.vmin = h.vmin
    tw.vmax = h.vmax
    tw.nn_room = h.nn_room
    tw.trials = h.trials
    tw.overflow = h.overflow
    tw.ss = h.ss
    tw.sn = h.sn
    tw.nn_fast = h.nn_fast


cdef inline hist_cold_void _untwin_fold(Hist* h, int64_t N) noexcept nogil:
    """hist_untwin before h's fold of its open trial of N samples, which the twin then
    folds too (the fold reads only the multiset of h's bucket indices)."""
    cdef Hist* tw = h.twin
    cdef int32_t* own = tw.tbuf
    hist_untwin(h)
    tw.tbuf = h.tbuf
    tw.tlen = N
    tw.tsum = h.tsum
    _fold_trial(tw, N)
    tw.tbuf = own
    tw.tlen = 0
    tw.tsum = 0


cdef inline void _count_open(Hist* h) noexcept nogil:
    """counts and n take the open trial's samples."""
    cdef int64_t m
    for m in range(h.tlen):
        h.counts[h.tbuf[m]] += 1
    h.n += h.tlen


cdef inline void hist_abandon_trial(Hist* h) noexcept nogil:
    """Drop the open trial unclosed (its run was cut short): its samples stay counted as
    recorded (counts, n, overflow, vmin, vmax) but enter no trial statistic."""
    _count_open(h)
    h.tlen = 0
    h.tsum = 0
    _set_nn_fast(h, hist_nn(h)) # (a sample >= 2**MAX_EXP may have zeroed nn_room)


cdef inline void hist_end_trial(Hist* h) noexcept nogil:
    """Close the open trial (possibly empty) and count it."""
    hist_close_trial(h)
    h.trials += 1


cdef inline void hist_free(Hist* h) noexcept nogil:
    free(h.cbuf)
    h.cbuf = NULL
    free(h.tbuf)
    h.tbuf = NULL
    h.tcap = 0
    h.tcheck = 0
    h.tlen = 0
