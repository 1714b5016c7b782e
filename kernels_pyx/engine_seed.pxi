# A block's generator, seeded in C (included by engine.pyx).  Block b of a run with seed s
# draws from PCG64DXSM(SeedSequence(s, spawn_key=(b,))) (mcsim.engine.block_bitgen).  Built
# through numpy's objects that costs ~25 us of Python per block under the GIL: for window
# trials, a block each, a few percent of a trial, paid by every worker in turn.  So the
# chunk runner (engine_merge.pxi) seeds each block here, without the GIL, with numpy's own
# algorithms: SeedSequence's entropy assembly, mixing and generate_state
# (numpy/random/bit_generator.pyx, after M. O'Neill's seed_seq alternative; pool of 4
# words) and PCG64DXSM's seeding from generate_state(4, uint64) (pcg64.c: pcg64_set_seed,
# the PCG setseq seeding with the 128-bit multiplier).  tests/test_block_merge.py holds the
# result to numpy's own state for seeds and blocks of every length.

cdef extern from *:
    """
    /* SeedSequence's hash of one word (hash_const advances: its MULT_A) */
    static inline uint32_t mcsim_ss_hashmix(uint32_t value, uint32_t *hash_const) {
        value ^= *hash_const;
        *hash_const *= 0x931e8875U;
        value *= *hash_const;
        return value ^ (value >> 16);
    }
    static inline uint32_t mcsim_ss_mix(uint32_t x, uint32_t y) {
        uint32_t r = 0xca01f9ddU * x - 0x4973f715U * y;
        return r ^ (r >> 16);
    }
    /* Word i of the assembled entropy: the seed's words, zeros up to the pool size (a
       spawn key follows), then the key's words. */
    static inline uint32_t mcsim_ss_word(const uint32_t *seed, int64_t nseed, int64_t run,
                                         const uint32_t *key, int64_t i) {
        if (i < nseed)
            return seed[i];
        return i < run ? 0 : key[i - run];
    }

    /* p: the fresh PCG64DXSM of SeedSequence(seed, spawn_key=(block,)), where `seed` is the
       seed's little-endian 32-bit words (numpy's _coerce_to_uint32_array: [0] for 0). */
    static void mcsim_block_pcg(mcsim_pcg64 *p, const uint32_t *seed, int64_t nseed,
                                uint64_t block) {
        const unsigned __int128 mult = ((unsigned __int128)0x2360ed051fc65da4ULL << 64)
                                       | 0x4385df649fccf645ULL;
        uint32_t key[2], pool[4], out[8], hash = 0x43b0d7e5U;
        int64_t nkey = 0, run = nseed > 4 ? nseed : 4, n, i, j;
        uint64_t w[4];
        key[nkey++] = (uint32_t)block;              /* block 0 is the one word 0 */
        if (block >> 32)
            key[nkey++] = (uint32_t)(block >> 32);
        n = run + nkey;                             /* > 4: every pool word has entropy */
        for (i = 0; i < 4; i++)
            pool[i] = mcsim_ss_hashmix(mcsim_ss_word(seed, nseed, run, key, i), &hash);
        for (i = 0; i < 4; i++)
            for (j = 0; j < 4; j++)
                if (i != j)
                    pool[j] = mcsim_ss_mix(pool[j], mcsim_ss_hashmix(pool[i], &hash));
        for (i = 4; i < n; i++)
            for (j = 0; j < 4; j++)
                pool[j] = mcsim_ss_mix(pool[j], mcsim_ss_hashmix(
                    mcsim_ss_word(seed, nseed, run, key, i), &hash));
        hash = 0x8b51f9ddU;                         /* generate_state(4, uint64) */
        for (i = 0; i < 8; i++) {
            uint32_t v = pool[i & 3] ^ hash;
            hash *= 0x58f38dedU;
            v *= hash;
            out[i] = v ^ (v >> 16);
        }
        for (i = 0; i < 4; i++)                     /* little-endian pairs */
            w[i] = (uint64_t)out[2 * i] | ((uint64_t)out[2 * i + 1] << 32);
        p->state = 0;                               /* pcg_setseq_128_srandom_r */
        p->inc = ((((unsigned __int128)w[2] << 64) | w[3]) << 1) | 1;
        p->state = p->state * mult + p->inc;
        p->state += ((unsigned __int128)w[0] << 64) | w[1];
        p->state = p->state * mult + p->inc;
        p->has_uint32 = 0;
        p->uinteger = 0;
    }
    static uint64_t mcsim_pcg64_inc_hi(const mcsim_pcg64 *p) { return (uint64_t)(p->inc >> 64); }
    static uint64_t mcsim_pcg64_inc_lo(const mcsim_pcg64 *p) { return (uint64_t)p->inc; }
    """
    void block_pcg "mcsim_block_pcg"(mcsim_pcg64* p, const uint32_t* seed, int64_t nseed,
                                     uint64_t block) noexcept nogil
    uint64_t mcsim_pcg64_inc_hi(const mcsim_pcg64* p) noexcept nogil
    uint64_t mcsim_pcg64_inc_lo(const mcsim_pcg64* p) noexcept nogil


def seed_words(seed):
    """The little-endian 32-bit words of a non-negative integer seed, as numpy's
    SeedSequence takes its entropy (``[0]`` for 0): the form the chunk runner takes."""
    cdef object n = int(seed)
    if n < 0:
        raise ValueError(f"a seed must be a non-negative integer, not {seed}")
    words = [int(n & 0xFFFFFFFF)]
    n >>= 32
    while n:
        words.append(int(n & 0xFFFFFFFF))
        n >>= 32
    return np.array(words, dtype=np.uint32)


def _block_pcg_state(seed, uint64_t block):
    """Test hook: ``(state, inc)`` of block ``block``'s generator as the core seeds it,
    to compare with ``mcsim.engine.block_bitgen(seed, block).state``."""
    cdef const uint32_t[::1] words = seed_words(seed)
    cdef mcsim_pcg64 p
    block_pcg(&p, &words[0], words.shape[0], block)
    return ((int(mcsim_pcg64_state_hi(&p)) << 64) | int(mcsim_pcg64_state_lo(&p)),
            (int(mcsim_pcg64_inc_hi(&p)) << 64) | int(mcsim_pcg64_inc_lo(&p)))
