"""The log-linear histogram: bucket layout, C == Python bit for bit, exact merging,
quantile accuracy, and the coverage of the cluster-robust confidence intervals."""

import functools
import math
import operator

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import brentq

from mcsim._build import load_extension
from mcsim.histogram import (ARRAYS, FLOAT_SCALARS, INT_SCALARS, N_BUCKETS, N_EXACT,
                             OVERFLOW_START, Histogram, bucket_index, bucket_lower, bucket_mid,
                             bucket_upper)

hist_ext = load_extension("_hist_ext")


def c_histogram(values, trial_lengths) -> Histogram:
    """The same samples recorded through kernels_pyx/hist.pxd."""
    arrays = [np.zeros(N_BUCKETS, dtype=np.int64) for _ in ARRAYS]
    scalars = hist_ext.record_trials(np.asarray(values, dtype=np.int64),
                                     np.asarray(trial_lengths, dtype=np.int64), *arrays)
    return Histogram.from_arrays(*arrays, scalars)


# ------------------------------------------------------------------ layout

def check_buckets_contain(values):
    idx = bucket_index(values)
    lower, upper, mid = bucket_lower(idx), bucket_upper(idx), bucket_mid(idx)
    assert np.all((lower <= values) & (values <= upper))
    positive = values > 0
    assert np.all(np.abs(mid - values)[positive] / values[positive] <= 0.005)
    order = np.argsort(values, kind="stable")
    assert np.all(np.diff(idx[order]) >= 0), "indices must grow with the value"


def test_every_value_below_2_pow_20_lies_in_its_bucket():
    values = np.arange(1 << 20, dtype=np.int64)
    check_buckets_contain(values)
    assert np.array_equal(bucket_index(values[:N_EXACT]), values[:N_EXACT])


def test_random_large_values_lie_in_their_buckets():
    rng = np.random.default_rng(1)
    log_uniform = np.exp(rng.uniform(np.log(256), np.log(OVERFLOW_START - 1), 200_000))
    powers = np.array([1 << k for k in range(8, 43)], dtype=np.int64)
    values = np.concatenate([log_uniform.astype(np.int64), powers, powers - 1, powers + 1])
    check_buckets_contain(values)


def test_buckets_tile_the_range_without_gaps():
    idx = np.arange(N_BUCKETS)
    assert np.array_equal(bucket_upper(idx[:-1]) + 1, bucket_lower(idx[1:]))
    assert bucket_lower(0) == 0 and bucket_upper(N_BUCKETS - 1) == OVERFLOW_START - 1
    assert N_BUCKETS == 4736


def test_overflow_values_go_to_the_last_bucket_and_are_counted():
    values = [OVERFLOW_START - 1, OVERFLOW_START, 2**63 - 1]
    assert bucket_index(values).tolist() == [N_BUCKETS - 1] * 3
    for h in (Histogram.from_trials(values, [3]), c_histogram(values, [3])):
        assert h.overflow == 2 and h.counts[-1] == 3 and h.vmax == 2**63 - 1


def test_negative_values_are_rejected_by_both_paths():
    with pytest.raises(ValueError):
        bucket_index([5, -1])
    with pytest.raises(ValueError):
        hist_ext.bucket_index_array(np.array([5, -1], dtype=np.int64))
    with pytest.raises(ValueError):
        c_histogram([5, -1], [2])


def test_c_bucket_index_equals_python():
    rng = np.random.default_rng(2)
    values = np.concatenate([
        rng.integers(0, 1 << 20, 50_000),
        np.exp(rng.uniform(0, np.log(2.0**62), 50_000)).astype(np.int64),
        [0, 255, 256, OVERFLOW_START - 1, OVERFLOW_START, 2**63 - 1],
    ]).astype(np.int64)
    assert np.array_equal(hist_ext.bucket_index_array(values), bucket_index(values))


# --------------------------------------------------- C path == Python path

# Small pools make ties likely; 2**50 keeps trial sums far from int64 overflow.
VALUES = st.one_of(st.integers(0, 300), st.integers(0, 1 << 20), st.integers(0, 1 << 50),
                   st.sampled_from([0, 255, 256, OVERFLOW_START - 1, OVERFLOW_START]))
TRIALS = st.lists(st.lists(VALUES, max_size=70), max_size=12)  # > 32 samples: qsort path


@given(TRIALS)
@settings(max_examples=150, deadline=None)
def test_c_and_python_paths_agree_bit_for_bit(trials):
    values = [v for trial in trials for v in trial]
    lengths = [len(trial) for trial in trials]
    one_by_one = Histogram.empty()
    for trial in trials:
        one_by_one.add_trial(trial)
    c = c_histogram(values, lengths)
    assert c.scalars() == one_by_one.scalars()   # floats compared exactly too
    for name in ARRAYS:
        assert np.array_equal(getattr(c, name), getattr(one_by_one, name)), name
    assert Histogram.from_trials(values, lengths) == one_by_one


def test_long_trials_grow_the_c_buffer():
    # 64 is the C trial buffer's first capacity: these trials make it double
    # several times, and take the qsort path (> 32 samples).
    rng = np.random.default_rng(8)
    lengths = np.array([5000, 0, 65, 1, 64, 3000])
    values = rng.integers(0, 1 << 30, lengths.sum())
    assert c_histogram(values, lengths) == Histogram.from_trials(values, lengths)


def test_yy_and_yn_give_the_per_trial_sums():
    rng = np.random.default_rng(3)
    trials = [rng.integers(0, 2000, rng.integers(0, 9)) for _ in range(40)]
    h = Histogram.empty()
    for t in trials:
        h.add_trial(t)
    for b in (0, 100, 300, 400, 500, N_BUCKETS - 1):
        y = np.array([np.sum(bucket_index(t) <= b) for t in trials])
        size = np.array([len(t) for t in trials])
        assert np.sum(h.yy[: b + 1]) == np.sum(y * y)
        assert np.sum(h.yn[: b + 1]) == np.sum(y * size)


# ------------------------------------------------------------------ merge

def random_trials(rng, n_trials):
    lengths = rng.geometric(0.3, n_trials) - 1          # zeros included
    values = rng.lognormal(np.log(1e5), 1.5, lengths.sum()).astype(np.int64)
    return values, lengths


def split_by_trial(values, lengths, shard_of_trial, shard):
    mine = shard_of_trial == shard
    return values[np.repeat(mine, lengths)], lengths[mine]


@pytest.mark.parametrize("build", [Histogram.from_trials, c_histogram], ids=["python", "c"])
def test_merge_is_exact_and_order_independent(build):
    rng = np.random.default_rng(4)
    values, lengths = random_trials(rng, 500)
    whole = build(values, lengths)
    for n_shards in (2, 3, 7):
        shard_of_trial = rng.integers(0, n_shards, lengths.size)
        shards = [build(*split_by_trial(values, lengths, shard_of_trial, s)) for s in range(n_shards)]
        rng.shuffle(shards)
        merged = functools.reduce(operator.add, shards)
        for name in ARRAYS:
            assert np.array_equal(getattr(merged, name), getattr(whole, name))
        for name in INT_SCALARS:
            assert getattr(merged, name) == getattr(whole, name)
        for name in FLOAT_SCALARS:   # float sums: only the rounding order differs
            assert math.isclose(getattr(merged, name), getattr(whole, name), rel_tol=1e-12)
        assert merged.quantile_ci(0.99) == whole.quantile_ci(0.99)


def test_merge_with_empty_is_identity():
    h = Histogram.from_trials([1, 500, 70000], [2, 1])
    assert h + Histogram.empty() == h and Histogram.empty() + h == h


# -------------------------------------------------------------- quantiles

@pytest.mark.parametrize("make", [
    lambda rng: rng.integers(0, 300, 5000),
    lambda rng: rng.exponential(1e6, 20000),
    lambda rng: rng.lognormal(np.log(1e5), 2.0, 20000),
    lambda rng: np.concatenate([rng.integers(0, 50, 3000), rng.exponential(1e9, 300)]),
])
def test_quantiles_match_numpy_within_bucket_error(make):
    values = make(np.random.default_rng(5)).astype(np.int64)
    h = Histogram.from_trials(values, [len(values)])
    for p in (0.0, 0.001, 0.1, 0.5, 0.9, 0.99, 0.999, 1.0):
        exact = float(np.quantile(values, p, method="inverted_cdf"))
        assert abs(h.quantile(p) - exact) <= exact / 256, p
    assert h.quantile(0.0) == values.min() and h.quantile(1.0) == values.max()


def test_empty_and_single_trial_statistics_are_nan():
    empty = Histogram.empty()
    assert math.isnan(empty.quantile(0.5)) and math.isnan(empty.mean()) and math.isnan(empty.max())
    one_trial = Histogram.from_trials([5, 6, 7], [3])
    assert all(math.isnan(x) for x in one_trial.quantile_ci(0.5) + one_trial.mean_ci())
    assert one_trial.quantile(0.5) == 6.0


def test_summary_keys():
    s = Histogram.from_trials(np.arange(1000), np.ones(1000)).summary("w")
    for key in ("w_n", "w_mean", "w_p50", "w_p90", "w_p99", "w_p999", "w_max", "w_p99_lo", "w_p99_hi"):
        assert key in s
    assert s["w_p99_lo"] <= s["w_p99"] <= s["w_p99_hi"]
    assert s["w_mean_lo"] <= s["w_mean"] <= s["w_mean_hi"]


# --------------------------------------------------------------- coverage

REPS = 200


def coverage(make_sample, true_p99, true_mean):
    """Fraction of REPS samples whose 95% intervals cover the truth:
    (p99 cluster-robust, mean cluster-robust, p99 naive i.i.d., mean naive i.i.d.).
    The naive intervals come from the same samples, each made its own trial."""
    rng = np.random.default_rng(6)
    hits = np.zeros(4)
    for _ in range(REPS):
        values, lengths = make_sample(rng)
        for h, col in ((Histogram.from_trials(values, lengths), 0),
                       (Histogram.from_trials(values, np.ones(values.size)), 2)):
            lo, hi = h.quantile_ci(0.99)
            hits[col] += lo <= true_p99 <= hi
            lo, hi = h.mean_ci()
            hits[col + 1] += lo <= true_mean <= hi
    return hits / REPS


def test_iid_intervals_cover():
    mean = 1e6
    def sample(rng):
        return np.floor(rng.exponential(mean, 20_000)).astype(np.int64), np.ones(20_000)
    p99_cov, mean_cov, _, _ = coverage(sample, true_p99=-mean * math.log(0.01), true_mean=mean - 0.5)
    assert p99_cov >= 0.90 and mean_cov >= 0.90


def test_clustered_intervals_cover_where_naive_ones_do_not():
    # Each trial: a geometric number of samples (zero allowed, mean 4) that share
    # one Exp(mu1) offset plus their own small Exp(mu2) noise, so they are
    # strongly correlated.  The marginal is hypoexponential with a known CDF.
    mu1, mu2, n_trials = 1e6, 5e4, 5000

    def sample(rng):
        lengths = rng.geometric(0.2, n_trials) - 1
        offsets = np.repeat(rng.exponential(mu1, n_trials), lengths)
        return np.floor(offsets + rng.exponential(mu2, offsets.size)).astype(np.int64), lengths

    def cdf(x):
        return 1 - (mu1 * math.exp(-x / mu1) - mu2 * math.exp(-x / mu2)) / (mu1 - mu2)

    true_p99 = brentq(lambda x: cdf(x) - 0.99, 0, 100 * mu1)
    p99_cov, mean_cov, naive_p99_cov, naive_mean_cov = coverage(sample, true_p99, mu1 + mu2 - 0.5)
    assert p99_cov >= 0.90 and mean_cov >= 0.90
    # The design effect is about E[N^2]/E[N] = 9, so i.i.d. intervals are ~3x too narrow.
    assert naive_p99_cov <= 0.75 and naive_mean_cov <= 0.75


# ----------------------------------------------------------------- sparse

def test_sparse_round_trip():
    rng = np.random.default_rng(7)
    h = Histogram.from_trials(*random_trials(rng, 300))
    sparse = h.to_sparse()
    assert sparse["bucket"].dtype == np.int32 and np.all(np.diff(sparse["bucket"]) > 0)
    assert all(sparse[name].dtype == np.int64 for name in ARRAYS)
    assert Histogram.from_sparse(sparse) == h
    assert Histogram.from_sparse(Histogram.empty().to_sparse()) == Histogram.empty()
