# The engines' numeric limits, C side; mcsim/numeric.py holds the same constants and
# explains them (docs/model.md §4.4).  Sums of non-negative int64 quantities saturate at
# INT64_MAX instead of wrapping (signed overflow is undefined behaviour in C).
from libc.stdint cimport int64_t

cdef extern from *:
    """
    #include <stdint.h>
    #define MCSIM_MAX_DRAW_NS 9007199254740992LL    /* 2**53: the largest draw, exact in a double */
    #define MCSIM_MAX_TIME_NS 4611686018427387904LL /* 2**62: a trial's clock stops here */

    /* a + b for a, b >= 0, stuck at INT64_MAX: an add and a jump on overflow that is
       never taken in practice, so the hot path pays about one instruction. */
    static inline int64_t mcsim_sat_add(int64_t a, int64_t b) {
        int64_t r;
        if (__builtin_expect(__builtin_add_overflow(a, b, &r), 0))
            return INT64_MAX;
        return r;
    }

    /* a * b for a, b >= 0, stuck at INT64_MAX. */
    static inline int64_t mcsim_sat_mul(int64_t a, int64_t b) {
        int64_t r;
        if (__builtin_expect(__builtin_mul_overflow(a, b, &r), 0))
            return INT64_MAX;
        return r;
    }
    """
    const int64_t MAX_DRAW_NS "MCSIM_MAX_DRAW_NS"
    const int64_t MAX_TIME_NS "MCSIM_MAX_TIME_NS"
    int64_t sat_add "mcsim_sat_add"(int64_t a, int64_t b) noexcept nogil
    int64_t sat_mul "mcsim_sat_mul"(int64_t a, int64_t b) noexcept nogil
