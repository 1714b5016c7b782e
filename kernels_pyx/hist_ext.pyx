# mcsim._hist_ext: a thin window onto kernels_pyx/hist.pxd, for tests only.
# It lets tests feed the C histogram the same samples as mcsim.histogram and
# compare the results bit for bit; the engine cimports hist.pxd directly.

include "build_info.pxi"

import numpy as np

from libc.stdint cimport int32_t, int64_t

from hist cimport (HIST_ERR_NEGATIVE, HIST_OK, N_BUCKETS, Hist, bucket_index, hist_end_trial,
                   hist_free, hist_init, hist_nn, hist_record)


def bucket_index_array(const int64_t[:] values):
    """Bucket index of each value (all >= 0), as an int32 array."""
    cdef Py_ssize_t i, n = values.shape[0]
    out = np.empty(n, dtype=np.int32)
    cdef int32_t[:] out_view = out
    for i in range(n):
        if values[i] < 0:
            raise ValueError(f"values[{i}] = {values[i]} is negative")
        out_view[i] = bucket_index(values[i])
    return out


def record_trials(const int64_t[:] values, const int64_t[:] trial_lengths,
                  int64_t[:] counts, int64_t[:] yy, int64_t[:] yn):
    """Record ``values`` trial by trial (``trial_lengths`` consecutive samples each,
    zeros allowed) through hist_record/hist_end_trial, accumulating into the
    ``counts``/``yy``/``yn`` arrays; return the scalars as a dict (the keys of
    ``mcsim.histogram.Histogram.scalars()``).
    """
    cdef Hist h
    cdef Py_ssize_t t, pos = 0
    cdef int64_t k
    cdef int err = HIST_OK
    for name, arr in (("counts", counts), ("yy", yy), ("yn", yn)):
        if arr.shape[0] != N_BUCKETS:
            raise ValueError(f"{name} must have {N_BUCKETS} entries, not {arr.shape[0]}")
    if np.any(np.asarray(trial_lengths) < 0) or np.sum(trial_lengths) != values.shape[0]:
        raise ValueError("trial_lengths must be >= 0 and sum to len(values)")
    cdef int64_t largest = max(int(np.max(yy)), int(np.max(yn)), 0)
    if hist_init(&h, &counts[0], &yy[0], &yn[0], largest) != HIST_OK:
        raise MemoryError()
    try:
        with nogil:
            for t in range(trial_lengths.shape[0]):
                for k in range(trial_lengths[t]):
                    err = hist_record(&h, values[pos])
                    if err != HIST_OK:
                        break
                    pos += 1
                if err != HIST_OK:
                    break
                hist_end_trial(&h)
        if err == HIST_ERR_NEGATIVE:
            raise ValueError(f"values[{pos}] = {values[pos]} is negative")
        if err != HIST_OK:
            raise MemoryError()
        return dict(n=h.n, total=h.total, vmin=h.vmin, vmax=h.vmax, nn=hist_nn(&h),
                    trials=h.trials, overflow=h.overflow, ss=h.ss, sn=h.sn)
    finally:
        hist_free(&h)
