# The histogram's C side in C proper: the loops that sort and fold a closing trial's
# samples and add the plain build's spare arrays, and GCC's builtins and attributes.
# Declared here for hist.pxd, their one user (split from it to keep each file readable);
# the rules they implement are described there and in mcsim/histogram.py.

from libc.stdint cimport int32_t, int64_t, uint64_t

from numeric cimport sat_add      # (its C, mcsim_sat_add, is used below)

cdef extern from *:
    # Count of leading (trailing) zero bits; undefined for 0, which never reaches them.
    int __builtin_clzll(unsigned long long x) nogil
    int __builtin_ctzll(unsigned long long x) nogil
    # x, telling GCC it is almost always false (the code it guards is laid out cold)
    bint unlikely "__builtin_expect"(bint x, long expected) nogil

cdef extern from *:
    """
    /* __builtin_ctzll(x) (x != 0) as a 64-bit index: GCC sign-extends the builtin's int
       (cltq) before indexing with it, and clears the output register before its tzcnt
       (xor), two instructions per use that the 64-bit tzcnt (encoded rep bsf, as GCC
       encodes the builtin) does not need. */
    static inline uint64_t mcsim_ctz64(uint64_t x) {
    #if defined(__x86_64__)
        uint64_t r;
        __asm__("rep bsfq %1, %0" : "=r"(r) : "r"(x));
        return r;
    #else
        return (uint64_t)__builtin_ctzll(x);
    #endif
    }
    """
    uint64_t ctz64 "mcsim_ctz64"(uint64_t x) nogil

cdef extern from *:
    """
    /* p, which GCC can no longer see as base + offset: it then addresses the fields through
       p, not through the base and the offset in a register each (a copy of the offset
       more, as in book_trial's loop over the Hists). */
    #define mcsim_opaque_ptr(p) \\
        ({ __typeof__(p) mcsim_p_ = (p); __asm__("" : "+r"(mcsim_p_)); mcsim_p_; })
    """
    void* opaque_ptr "mcsim_opaque_ptr"(void* p) nogil

cdef extern from *:
    """
    /* (uint64_t)1 << (b & 63) by bts into a zeroed register: GCC's shift needs the count
       in cl (a move more), and a shift by cl is three micro-ops on Intel cores, bts one. */
    static inline uint64_t mcsim_bit64(uint64_t b) {
    #if defined(__x86_64__)
        uint64_t m = 0;
        __asm__("btsq %1, %0" : "+r"(m) : "r"(b));
        return m;
    #else
        return (uint64_t)1 << (b & 63);
    #endif
    }
    """

cdef extern from *:
    """
    /* mcsim_hist_fold_ranked's loop with every entry saturating: out of line and cold. */
    static __attribute__((noinline, cold)) void mcsim_hist_add_saturating(
            int64_t* yy, int64_t* yn, const int32_t* idx, int64_t n) {
        for (int64_t m = 0; m < n; m++) {
            yy[idx[m]] = mcsim_sat_add(yy[idx[m]], 2 * m + 1);
            yn[idx[m]] = mcsim_sat_add(yn[idx[m]], n);
        }
    }
    """
    void hist_add_saturating "mcsim_hist_add_saturating"(
        int64_t* yy, int64_t* yn, const int32_t* idx, int64_t n) noexcept nogil

cdef extern from *:
    # A function kept out of line and laid out cold (Cython has no syntax for attributes):
    # for the rare paths that would otherwise inline into the engine's event loop.
    """
    #define mcsim_hist_cold_void __attribute__((noinline, cold)) void
    #define mcsim_hist_noinline_void __attribute__((noinline)) void
    """
    ctypedef void hist_cold_void "mcsim_hist_cold_void"
    ctypedef void hist_noinline_void "mcsim_hist_noinline_void"

cdef extern from *:
    """
    /* hist_flush_ones' loop: ones[lo..hi] added to counts, yy and yn, then zeroed; returns
       their sum (the one-sample trials they held).  In C for `restrict` (the four arrays
       never overlap), so that GCC vectorizes it. */
    static int64_t mcsim_hist_add_ones(int64_t* restrict counts, int64_t* restrict yy,
                                       int64_t* restrict yn, int64_t* restrict ones,
                                       int32_t lo, int32_t hi) {
        /* (a count of entries, not b <= hi: a loop GCC can count before it starts) */
        int64_t n = (int64_t)hi - lo + 1, sum = 0;
        counts += lo;
        yy += lo;
        yn += lo;
        ones += lo;
        for (int64_t b = 0; b < n; b++) {
            int64_t o = ones[b];
            counts[b] += o;
            yy[b] += o;
            yn[b] += o;
            ones[b] = 0;
            sum += o;
        }
        return sum;
    }
    """
    int64_t hist_add_ones "mcsim_hist_add_ones"(int64_t* counts, int64_t* yy, int64_t* yn,
                                                int64_t* ones, int32_t lo, int32_t hi) noexcept nogil

cdef extern from *:
    """
    /* hist_untwin's loop, one array of the pair at a time: sums[lo..hi] added to a and to
       b, then zeroed; `restrict` as in mcsim_hist_add_ones. */
    static void mcsim_hist_add_twice(int64_t* restrict sums, int64_t* restrict a,
                                     int64_t* restrict b, int32_t lo, int32_t hi) {
        int64_t n = (int64_t)hi - lo + 1;
        sums += lo;
        a += lo;
        b += lo;
        for (int64_t k = 0; k < n; k++) {
            int64_t d = sums[k];
            a[k] += d;
            b[k] += d;
            sums[k] = 0;
        }
    }
    """
    void hist_add_twice "mcsim_hist_add_twice"(int64_t* sums, int64_t* a, int64_t* b,
                                               int32_t lo, int32_t hi) noexcept nogil

cdef extern from *:
    """
    #include <stdlib.h>
    #include <string.h>
    enum {
        MCSIM_HIST_SEEN_WORDS = 74  /* N_BUCKETS / 64: a bitmap of the buckets a trial uses */
    };

    /* The count buffer of a long trial's sort or fold, allocated on first use, zeroed: nb
       int32 counts per bucket, then a bitmap of MCSIM_HIST_SEEN_WORDS words.  Its users
       leave it all zero again.  NULL if it cannot be allocated (the caller sorts). */
    static int32_t* mcsim_hist_cbuf(int32_t** cbuf, int32_t nb) {
        if (*cbuf == NULL && nb <= 64 * MCSIM_HIST_SEEN_WORDS)
            *cbuf = (int32_t*)calloc((size_t)nb + 2 * MCSIM_HIST_SEEN_WORDS, sizeof(int32_t));
        return *cbuf;
    }

    /* Sort a long trial's bucket indices (0 <= a[i] < nb) by counting: O(n + nb), for
       window trials with thousands of samples, where Shell sort's passes dominate.  Out
       of line, so hist_end_trial stays small enough to inline.  -1 if the count buffer
       cannot be allocated (the caller sorts otherwise). */
    static __attribute__((noinline)) int mcsim_hist_counting_sort(
            int32_t** cbuf, int32_t* a, int64_t n, int32_t nb) {
        int32_t* c = mcsim_hist_cbuf(cbuf, nb);
        if (c == NULL)
            return -1;
        for (int64_t i = 0; i < n; i++)
            c[a[i]]++;
        int64_t pos = 0;
        for (int32_t b = 0; b < nb; b++) {
            for (int32_t k = c[b]; k > 0; k--)
                a[pos++] = b;
            c[b] = 0;
        }
        return 0;
    }
    """
    int hist_counting_sort "mcsim_hist_counting_sort"(
        int32_t** cbuf, int32_t* a, int64_t n, int32_t nb) noexcept nogil

cdef extern from *:
    """
    enum {
        MCSIM_HIST_INSERTION_SORT_MAX = 32,  /* longer trials get Shell-sort passes first */
        MCSIM_HIST_COUNTING_SORT_MIN = 1024, /* still longer ones (window trials) a
                                                counting sort by bucket */
        MCSIM_HIST_RANKED_MAX = 20           /* a longer trial's fold counts by bucket
                                                (mcsim_hist_fold_counted), unsorted */
    };

    /* Sort a trial's bucket indices (0 <= a[i] < nb): insertion sort, after Shell-sort
       passes with Knuth's gaps (..., 40, 13, 4) for a longer trial, or by counting for a
       still longer one.  All inline: no comparison callback as qsort would need. */
    static void mcsim_hist_sort(int32_t** cbuf, int32_t* a, int64_t n, int32_t nb) {
        int64_t gap = 1;
        if (n >= MCSIM_HIST_COUNTING_SORT_MIN && mcsim_hist_counting_sort(cbuf, a, n, nb) == 0)
            return;
        if (n > MCSIM_HIST_INSERTION_SORT_MAX) {
            while (gap < n / 3)
                gap = 3 * gap + 1;
            for (; gap > 1; gap /= 3)
                for (int64_t i = gap; i < n; i++) {
                    int32_t key = a[i];
                    int64_t j = i;
                    while (j >= gap && a[j - gap] > key) {
                        a[j] = a[j - gap];
                        j -= gap;
                    }
                    a[j] = key;
                }
        }
        /* the insertion pass: a trial's samples often come in order, so a sample not
           below its predecessor costs one comparison */
        int32_t prev = a[0];
        for (int32_t *p = a + 1, *end = a + n; p < end; p++) {
            int32_t key = *p;
            if (key >= prev) {
                prev = key;
                continue;
            }
            int32_t* q = p;
            if (key < a[0]) {       /* to the front (the empty asm: a loop, not a call of
                                       memmove, whose set-up costs more for a few moves) */
                do {
                    *q = q[-1];
                    q--;
                    __asm__("" : "+r"(q));
                } while (q > a);
            } else {                /* a[0] <= key stops the loop: no bound test */
                do {
                    *q = q[-1];
                    q--;
                } while (q[-1] > key);
            }
            *q = key;
        }
    }

    /* mcsim_hist_fold_ranked's non-saturating case without a sort, for a longer trial:
       count the samples per bucket, marking the buckets used in a bitmap, then walk the
       bitmap upwards over the words of [blo, bhi] (buckets that hold every sample: those
       of the Hist's vmin and vmax, known without a test per sample); the k samples of
       bucket b, of ranks P..P+k-1 (P: the samples below b), add k * (2P + k) to yy.  The
       walk zeroes what the count set.  -1 (nothing done) if the count buffer cannot be
       allocated. */
    static int mcsim_hist_fold_counted(
            int64_t* counts, int64_t* yy, int64_t* yn, const int32_t* a, int64_t n,
            int32_t** cbuf, int32_t nb, int32_t blo, int32_t bhi) {
        int32_t* c = mcsim_hist_cbuf(cbuf, nb);
        if (c == NULL)
            return -1;
        uint64_t* seen = (uint64_t*)(c + nb);
        int64_t wlo = blo >> 6, whi = bhi >> 6;
        #pragma GCC unroll 2
        for (int64_t i = 0; i < n; i++) {
            int64_t b = a[i];
            c[b]++;
            seen[b >> 6] |= mcsim_bit64(b);
        }
        int64_t below = 0;
        for (int64_t w = wlo; w <= whi; w++) {
            uint64_t bits = seen[w];
            seen[w] = 0;
            while (bits) {
                int64_t b = 64 * w + (int64_t)mcsim_ctz64(bits);
                int64_t k = c[b];
                bits &= bits - 1;
                c[b] = 0;
                counts[b] += k;
                yy[b] += k * (2 * below + k);
                yn[b] += k * n;
                below += k;
            }
        }
        return 0;
    }

    /* Whether the n >= 1 samples a all lie in one bucket (a loop GCC vectorizes). */
    static inline int mcsim_hist_one_bucket(const int32_t* a, int64_t n) {
        int32_t first = a[0], diff = 0;
        for (int64_t i = 1; i < n; i++)
            diff |= a[i] ^ first;
        return diff == 0;
    }

    /* A closing trial's n >= 1 samples (bucket indices a, reordered) into counts, yy and
       yn.  The sample of rank m adds 2m+1 to yy, so the cumulative sum up to bucket b is
       1 + 3 + ... + (2Y-1) = Y**2 with Y = the trial's samples <= b; each adds n to yn.
       With `saturating` (near the int64 limit) every yy and yn entry saturates on its
       own.  Its caller, _fold_open, is out of line, so the close of a short trial (most)
       stays small; inlined there, it needs no call of its own.  [blo, bhi]: buckets that
       hold every sample. */
    static void mcsim_hist_fold_ranked(
            int64_t* counts, int64_t* yy, int64_t* yn, int32_t* a, int64_t n,
            int32_t** cbuf, int32_t nb, int saturating, int32_t blo, int32_t bhi) {
        /* all in one bucket (as a count metric's samples often are): ranks 0 to n - 1,
           whose 2m + 1 sum to n * n in yy; n * n in yn too */
        if (!saturating && a[0] == a[n - 1] && mcsim_hist_one_bucket(a, n)) {
            counts[a[0]] += n;
            yy[a[0]] += n * n;
            yn[a[0]] += n * n;
            return;
        }
        if (!saturating && n > MCSIM_HIST_RANKED_MAX
                && mcsim_hist_fold_counted(counts, yy, yn, a, n, cbuf, nb, blo, bhi) == 0)
            return;
        mcsim_hist_sort(cbuf, a, n, nb);
        if (saturating) {
            for (int64_t m = 0; m < n; m++)
                counts[a[m]] += 1;
            mcsim_hist_add_saturating(yy, yn, a, n);
            return;
        }
        #pragma GCC unroll 2
        for (int64_t m = 0; m < n; m++) {
            int32_t b = a[m];       /* (read once: the int64 stores could alias it) */
            counts[b] += 1;
            yy[b] += 2 * m + 1;
            yn[b] += n;
        }
    }
    """
    enum: HIST_RANKED_MAX "MCSIM_HIST_RANKED_MAX"
    void hist_fold_ranked "mcsim_hist_fold_ranked"(
        int64_t* counts, int64_t* yy, int64_t* yn, int32_t* a, int64_t n,
        int32_t** cbuf, int32_t nb, int saturating, int32_t blo, int32_t bhi) noexcept nogil

# Bucket layout: the contract shared with mcsim/histogram.py and the engine.
