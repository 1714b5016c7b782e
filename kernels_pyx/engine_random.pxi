# Randomness (included by engine.pyx): the core's draws from the block's generator, their
# rounding to ns and the duration kinds (docs/model.md §4.3, §12.5, §13): numpy's stream
# and numpy's values, bit for bit.  Mirrors the draws of mcsim/reference.py.

cdef extern from *:
    # to_ns at every draw (~2 per event): on x86-64, SSE2's MAXSD and MINSD clamp without
    # a branch (4 instructions instead of 7 and two jumps).  MAXSD returns its second
    # operand when either one is NaN, so NaN, like anything below 0.5, truncates to 0 (as
    # the branches give); -inf gives 0, +inf MAX_DRAW_NS; the clamped value lies in
    # [0, 2**53], where the truncating conversion is exact and defined.
    """
    static inline int64_t mcsim_to_ns(double x) {
        double y = x + 0.5;
    #if defined(__x86_64__) && defined(__SSE2__)
        __asm__("maxsd %1, %0" : "+x"(y) : "x"(0.0));
        __asm__("minsd %1, %0" : "+x"(y) : "xm"((double)MCSIM_MAX_DRAW_NS));
        return (int64_t)y;
    #else
        if (y >= 1.0) {                           /* false for NaN */
            if (y >= (double)MCSIM_MAX_DRAW_NS)
                return MCSIM_MAX_DRAW_NS;
            return (int64_t)y;
        }
        return 0;
    #endif
    }
    """
    int64_t mcsim_to_ns(double x) noexcept nogil

# to_ns at the arrival's gap, the one draw every arrival makes: the same instructions
# with the three constants as memory operands.  With to_ns there, GCC kept 0.5 and 2**53
# in stack slots for the site, so each path into it (the kinds' draws before it) stored
# them there (4 instructions on each); with mcsim_to_ns_m the gap reads them from
# .rodata.  Used at every draw site instead it cost 8 per event more (the loop's
# register allocation; docs/benchmarks.md, round 8), so only here.
cdef extern from *:
    """
    #if defined(__x86_64__) && defined(__SSE2__)
    static const double mcsim_to_ns_k[3] = {0.5, 0.0, (double)MCSIM_MAX_DRAW_NS};
    static inline int64_t mcsim_to_ns_m(double x) {
        double y = x;                 /* ADDSD is C's x + 0.5 (-ffp-contract=off) */
        __asm__("addsd %1, %0" : "+x"(y) : "m"(mcsim_to_ns_k[0]));
        __asm__("maxsd %1, %0" : "+x"(y) : "m"(mcsim_to_ns_k[1]));
        __asm__("minsd %1, %0" : "+x"(y) : "m"(mcsim_to_ns_k[2]));
        return (int64_t)y;
    }
    #else
    #define mcsim_to_ns_m mcsim_to_ns
    #endif
    """
    int64_t mcsim_to_ns_m(double x) noexcept nogil


cdef inline int64_t to_ns(double x) noexcept nogil:
    """Round to ns and clamp to [0, MAX_DRAW_NS] (mcsim.numeric.to_ns): NaN and anything
    below 0.5 give 0, +inf gives MAX_DRAW_NS; casting NaN or inf to int64 is undefined."""
    return mcsim_to_ns(x)


# The PCG64DXSM fast path.  Every block's generator is a numpy PCG64DXSM
# (mcsim.engine.block_bitgen), and a draw through its bitgen_t costs an indirect call into
# numpy's module (~25 instructions, ~100 per event).  So run_block copies the generator's
# state (numpy's public `state` dict) into s.pcg, the core steps that copy with numpy's
# own algorithm (pcg64.h: the DXSM output of the pre-iterated state, then the "cheap
# multiplier" LCG step), and run_block writes the state back, so the stream, its order
# and where the caller's generator ends are exactly numpy's.  The rare paths of numpy's
# ziggurat draws (random_standard_exponential/normal, below) take a bitgen_t: s.own_rng,
# whose state is s.pcg and whose functions are these, so every draw comes from the one
# stream.  Any other bit generator keeps numpy's bitgen_t (s.fast_rng == 0).
from libc.stdint cimport uint32_t, uint64_t
from engine cimport mcsim_pcg64

cdef extern from *:
    """
    static inline uint64_t mcsim_pcg64_next64(mcsim_pcg64 *p) {
        uint64_t hi = (uint64_t)(p->state >> 64);
        uint64_t lo = (uint64_t)p->state | 1;
        hi ^= hi >> 32;
        hi *= 0xda942042e4dd58b5ULL;
        hi ^= hi >> 48;
        hi *= lo;
        p->state = p->state * (unsigned __int128)0xda942042e4dd58b5ULL + p->inc;
        return hi;
    }
    static inline double mcsim_pcg64_double(mcsim_pcg64 *p) {
        return (double)(mcsim_pcg64_next64(p) >> 11) * (1.0 / 9007199254740992.0);
    }
    static uint64_t mcsim_pcg64_next64_cb(void *st) { return mcsim_pcg64_next64((mcsim_pcg64 *)st); }
    static double mcsim_pcg64_double_cb(void *st) { return mcsim_pcg64_double((mcsim_pcg64 *)st); }
    static uint32_t mcsim_pcg64_next32_cb(void *st) {   /* numpy's pcg64_cm_next32 */
        mcsim_pcg64 *p = (mcsim_pcg64 *)st;
        uint64_t next;
        if (p->has_uint32) {
            p->has_uint32 = 0;
            return p->uinteger;
        }
        next = mcsim_pcg64_next64(p);
        p->has_uint32 = 1;
        p->uinteger = (uint32_t)(next >> 32);
        return (uint32_t)(next & 0xffffffffULL);
    }
    static void mcsim_pcg64_set(mcsim_pcg64 *p, uint64_t state_hi, uint64_t state_lo,
                                uint64_t inc_hi, uint64_t inc_lo) {
        p->state = ((unsigned __int128)state_hi << 64) | state_lo;
        p->inc = ((unsigned __int128)inc_hi << 64) | inc_lo;
    }
    static uint64_t mcsim_pcg64_state_hi(const mcsim_pcg64 *p) { return (uint64_t)(p->state >> 64); }
    static uint64_t mcsim_pcg64_state_lo(const mcsim_pcg64 *p) { return (uint64_t)p->state; }
    """
    uint64_t mcsim_pcg64_next64(mcsim_pcg64* p) noexcept nogil
    double mcsim_pcg64_double(mcsim_pcg64* p) noexcept nogil
    uint64_t mcsim_pcg64_next64_cb(void* st) noexcept nogil
    double mcsim_pcg64_double_cb(void* st) noexcept nogil
    uint32_t mcsim_pcg64_next32_cb(void* st) noexcept nogil
    void mcsim_pcg64_set(mcsim_pcg64* p, uint64_t state_hi, uint64_t state_lo,
                         uint64_t inc_hi, uint64_t inc_lo) noexcept nogil
    uint64_t mcsim_pcg64_state_hi(const mcsim_pcg64* p) noexcept nogil
    uint64_t mcsim_pcg64_state_lo(const mcsim_pcg64* p) noexcept nogil


# numpy's ziggurat draws, their fast path on s.pcg.  numpy's random_standard_exponential
# and random_standard_normal (numpy/random/src/distributions/distributions.c, numpy 2.4.6)
# take one uint64, split it into a table index and a mantissa, multiply the mantissa by
# the index's width and return that if the mantissa lies under the index's bound (97.8%
# of exponential draws, 98.5% of normal ones, over 2,000,000 each; the rest take the
# tail or a wedge test).  mcsim_zig_* do exactly that with numpy's own tables
# (ziggurat_tables.h, copied from numpy 2.4.6) and the same C arithmetic; where the bound
# is not met they put back the state they found and say so, and the caller calls numpy's
# function, which draws the same uint64 again, fails the same test and follows its own
# rare path (so no rare-path code or fe/fi tables here; mcsim_zig_*_of: the test on a
# given uint64).  Each draw and the stream after it are numpy's bit for bit
# (tests/test_core_rng.py).  With the PCG step inline and no call through s.rng a draw
# costs ~34 instructions (exponential) and ~36 (normal), where numpy's function and the
# PCG callback took ~47 and ~59 (callgrind, reference scenario).
cdef extern from "ziggurat_tables.h":
    """
    #include <string.h>
    static inline int mcsim_zig_exponential_of(uint64_t r, double *out) {
        uint64_t ri = r >> 3;
        uint8_t idx = ri & 0xFF;
        ri >>= 8;
        *out = ri * we_double[idx];
        return ri < ke_double[idx];
    }
    static inline int mcsim_zig_normal_of(uint64_t r, double *out) {
        int idx = r & 0xff;
        uint64_t rabs;
        double x;
        r >>= 8;
        rabs = (r >> 1) & 0x000fffffffffffffULL;
        uint64_t bits;
        x = rabs * wi_double[idx];
        /* numpy's `if (sign & 0x1) x = -x;` as a flip of the sign bit, which is what
           negation does to any double: the same value, without a branch that a random
           bit mispredicts half the time */
        memcpy(&bits, &x, sizeof bits);
        bits ^= (r & 0x1) << 63;
        memcpy(&x, &bits, sizeof bits);
        *out = x;
        return rabs < ki_double[idx];
    }
    static inline int mcsim_zig_exponential(mcsim_pcg64 *p, double *out) {
        unsigned __int128 saved = p->state;
        if (__builtin_expect(mcsim_zig_exponential_of(mcsim_pcg64_next64(p), out), 1))
            return 1;
        p->state = saved;
        return 0;
    }
    static inline int mcsim_zig_normal(mcsim_pcg64 *p, double *out) {
        unsigned __int128 saved = p->state;
        if (__builtin_expect(mcsim_zig_normal_of(mcsim_pcg64_next64(p), out), 1))
            return 1;
        p->state = saved;
        return 0;
    }
    """
    const uint64_t ke_double[256]             # the bounds, for a test hook
    const uint64_t ki_double[256]
    int mcsim_zig_exponential_of(uint64_t r, double* out) noexcept nogil
    int mcsim_zig_normal_of(uint64_t r, double* out) noexcept nogil
    int mcsim_zig_exponential(mcsim_pcg64* p, double* out) noexcept nogil
    int mcsim_zig_normal(mcsim_pcg64* p, double* out) noexcept nogil

# std_exponential and std_normal stay functions of their own: inlined at each draw site
# of the event loop they saved 2.3 instructions per event instead of 10.4 (reference
# scenario; docs/benchmarks.md, round 7).
cdef extern from *:
    """
    #define mcsim_noinline_double __attribute__((noinline)) double
    """
    ctypedef double noinline_double "mcsim_noinline_double"


# libm's exp for the lognormal draws (model.md §4.3), without glibc's wrapper.  On glibc
# (2.36 here) `exp` is exp@@GLIBC_2.29 (math/w_exp_template.c): it calls __ieee754_exp
# (an ifunc: __exp_fma on a CPU with FMA) and returns that result unchanged, only setting
# errno to ERANGE when the result overflowed or underflowed (~16 instructions a call,
# 3.8 per event on the reference scenario).  __exp_finite@GLIBC_2.15 is that same
# __ieee754_exp (the one ifunc the wrapper's PLT entry calls; objdump of libm.so.6), kept
# by glibc as a compatibility symbol, so the core binds to that version explicitly.  The
# same bits for every argument (tests/test_core_rng.py compares it with libm's exp);
# nothing in the core reads errno.  Elsewhere (not glibc on x86-64) plain exp.
cdef extern from *:
    """
    #include <math.h>
    #if defined(__GLIBC__) && defined(__x86_64__) && !defined(MCSIM_LIBM_EXP)
    extern double mcsim_exp_finite(double) __asm__("__exp_finite");
    __asm__(".symver __exp_finite,__exp_finite@GLIBC_2.15");
    #define mcsim_exp(x) mcsim_exp_finite(x)
    #define MCSIM_EXP_NAME "__exp_finite@GLIBC_2.15"
    #else
    #define mcsim_exp(x) exp(x)
    #define MCSIM_EXP_NAME "exp"
    #endif
    """
    double mcsim_exp(double x) noexcept nogil
    const char* MCSIM_EXP_NAME


cdef inline void use_fast_rng(Sim* s) noexcept nogil:
    """Draw from s.pcg (set by the caller) instead of numpy's bitgen_t."""
    s.own_rng.state = &s.pcg
    s.own_rng.next_uint64 = mcsim_pcg64_next64_cb
    s.own_rng.next_uint32 = mcsim_pcg64_next32_cb
    s.own_rng.next_double = mcsim_pcg64_double_cb
    s.own_rng.next_raw = mcsim_pcg64_next64_cb
    s.rng = &s.own_rng
    s.fast_rng = 1


cdef inline double uniform(Sim* s) noexcept nogil:
    # What numpy's random_standard_uniform(s.rng) does, inline on the fast path.
    if PLAIN or s.fast_rng:
        return mcsim_pcg64_double(&s.pcg)
    return s.rng.next_double(s.rng.state)


cdef noinline_double std_exponential(Sim* s) noexcept nogil:
    """numpy's random_standard_exponential(s.rng), its fast path inline on s.pcg."""
    cdef double x
    if (PLAIN or s.fast_rng) and mcsim_zig_exponential(&s.pcg, &x):
        return x
    return random_standard_exponential(s.rng)


cdef noinline_double std_normal(Sim* s) noexcept nogil:
    """numpy's random_standard_normal(s.rng), its fast path inline on s.pcg."""
    cdef double x
    if (PLAIN or s.fast_rng) and mcsim_zig_normal(&s.pcg, &x):
        return x
    return random_standard_normal(s.rng)


cdef inline int64_t draw_ns(Sim* s, const DistSpec* d) noexcept nogil:
    # The draw first, then d's parameters, in statements of their own: read in one
    # expression, GCC loaded a and b before the call and kept them across it on the stack
    # (a store and a load each); after the call it reads them from *d (the same values:
    # nothing a draw does writes the scenario) as memory operands.
    cdef double x
    if d.kind == 0:
        x = d.a
    elif d.kind == 1:
        x = std_exponential(s)
        x = d.a * x
    elif d.kind == 2:
        x = std_normal(s)
        x = mcsim_exp(d.b * x)
        x = d.a * x
    else:
        x = draw_table_or_uniform(s, d)
    return to_ns(x)


cdef double draw_table_or_uniform(Sim* s, const DistSpec* d) noexcept nogil:
    """The uniform and empirical kinds, out of line: each inlines a generator step, and
    draw_ns, inlined at every draw, stays small."""
    if d.kind == 3:                           # uniform(a, b): one uniform (model.md §12.5)
        return d.a + (d.b - d.a) * uniform(s)
    return empirical(s, <int>d.a)


cdef inline double empirical(Sim* s, int k) noexcept nogil:
    """Quantile table k (check_scenario: 2 to MAX_TABLE_POINTS ascending values), read
    as a piecewise-linear quantile function at one uniform (model.md §13.1)."""
    cdef int64_t m = s.sc.table_points[k] - 1
    cdef double p = uniform(s) * m
    cdef int64_t i = <int64_t>p               # p >= 0: truncation is the floor
    cdef double lo
    if i > m - 1:
        i = m - 1
    lo = s.sc.tables[k][i]
    return lo + (s.sc.tables[k][i + 1] - lo) * (p - i)


cdef inline int64_t jitter_ns(Sim* s) noexcept nogil:
    """wake_jitter at a wake-up (model.md §13.2): a const one draws nothing."""
    if not PLAIN and s.jitter:
        return draw_ns(s, &s.sc.wake_jitter)
    return s.jitter_const


cdef inline int64_t wake_delay(Sim* s) noexcept nogil:
    """wake + wake_jitter: s.wake already holds a const jitter, so the default costs
    one branch."""
    if not PLAIN and s.jitter:
        return s.wake + draw_ns(s, &s.sc.wake_jitter)
    return s.wake
