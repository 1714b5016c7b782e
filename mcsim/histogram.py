"""Log-linear latency histograms with cluster-robust confidence intervals (numpy only).

This is the Python twin of ``kernels_pyx/hist.pxd``: the compiled engine records
samples in C, the pure-Python reference engine calls :meth:`Histogram.add_trial`,
and both must produce the same arrays bit for bit.

Bucket layout (a contract with the C side and the engine)
---------------------------------------------------------
Values are int64 nanoseconds ``v >= 0``:

* ``v < 256``: bucket ``v`` (exact);
* ``256 <= v < 2**43``: with ``e = floor(log2 v)`` (8..42) the power of two
  ``[2**e, 2**(e+1))`` is cut into ``SUB = 128`` equal sub-buckets, bucket
  ``256 + (e - 8) * 128 + (v >> (e - 7)) - 128``;
* ``v >= 2**43`` (about 2.4 hours): the last bucket, and ``overflow`` counts it.

A bucket is at most 1/128 of its lower edge wide, so its midpoint is within
0.39% of any value in it.

Why trials, and what ``yy``/``yn`` are for
------------------------------------------
A simulation run is cut into *trials*: regenerative cycles (e.g. busy periods
of the lock, started from an idle system).  Samples inside one trial are
correlated (one long writer delays every reader behind it), but trials are
independent and identically distributed.  A confidence interval that treated
the samples as i.i.d. would be far too narrow, so the trial is the statistical
unit: each metric is a ratio of per-trial sums, and its variance is estimated
from the spread of those sums between trials (the regenerative / cluster-robust
method).

For the p-quantile we use Woodruff's method: estimate the standard error of the
empirical CDF ``F`` at the quantile, turn ``p +- z*se`` into quantiles again.
With ``Y_t(b)`` the trial's samples in buckets ``<= b`` and ``N_t`` its sample
count, ``F = sum Y_t / sum N_t`` and ``Z_t = Y_t - F*N_t`` has mean zero, so
``se(F) = sqrt(var(Z) / T) / mean(N)`` with
``var(Z) = (sum Y_t**2 - 2F sum Y_t N_t + F**2 sum N_t**2) / (T - 1)``.
Those three sums are needed at whichever bucket the quantile falls into, so they
are stored per bucket in cumulative form: ``cumsum(yy)[b] = sum_t Y_t(b)**2`` (the
trial's sample of rank m in sorted order adds ``2m+1``; ``1+3+...+(2Y-1) = Y**2``)
and ``cumsum(yn)[b] = sum_t Y_t(b) * N_t``.  Every stored quantity is a sum over
trials, so histograms of disjoint sets of trials merge exactly by addition, and
the interval read off a merged histogram is the interval of all trials together.
The mean's interval is the same ratio estimator with the trial sums
``S_t`` (``ss = sum S_t**2``, ``sn = sum S_t N_t``).  With one sample per trial
both reduce to the textbook i.i.d. intervals.

Numeric limits: the sums of values (``total``) and of squares (``nn``, ``yy``, ``yn``)
saturate at ``mcsim.numeric.SATURATED`` (2**63 - 1) instead of wrapping, in C and here
alike; a saturated ``total`` makes the mean and its interval NaN, a saturated ``nn``
(which bounds every cumulative ``yy``/``yn`` sum) the intervals NaN.  Quantiles, counts,
the minimum and the maximum stay exact.

>>> h = Histogram.from_trials([100, 120, 5000, 7, 9], trial_lengths=[3, 0, 2])
>>> h.n, h.trials, h.quantile(0.5), h.max()
(5, 3, 100.0, 5000.0)
"""

from __future__ import annotations

import math

import numpy as np

from .numeric import SATURATED, sat_add, sat_add_arrays

SUB_BITS = 7
SUB = 1 << SUB_BITS
N_EXACT = 256
MAX_EXP = 43
OVERFLOW_START = 1 << MAX_EXP
N_BUCKETS = N_EXACT + (MAX_EXP - 8) * SUB   # 4736
EMPTY_VMIN = np.iinfo(np.int64).max
EMPTY_VMAX = -1

ARRAYS = ("counts", "yy", "yn")
INT_SCALARS = ("n", "total", "vmin", "vmax", "nn", "trials", "overflow")
FLOAT_SCALARS = ("ss", "sn")
SCALARS = INT_SCALARS + FLOAT_SCALARS


def bucket_index(values) -> np.ndarray:
    """Bucket index (int32) of each value ``>= 0``.

    >>> bucket_index([0, 255, 256, 1000, 2**43 - 1, 2**43, 2**62]).tolist()
    [0, 255, 256, 506, 4735, 4735, 4735]
    """
    v = np.asarray(values, dtype=np.int64)
    if np.any(v < 0):
        raise ValueError("histogram values must be >= 0")
    # frexp's exponent is exact for integers below 2**53; clamp so it stays so.
    in_range = np.minimum(v, OVERFLOW_START - 1)
    e = np.frexp(in_range.astype(np.float64))[1].astype(np.int64) - 1
    shift = np.maximum(e - SUB_BITS, 0)   # only the v >= 256 entries are used
    log_linear = N_EXACT + (e - 8) * SUB + ((in_range >> shift) - SUB)
    idx = np.where(v < N_EXACT, v, np.where(v >= OVERFLOW_START, N_BUCKETS - 1, log_linear))
    return idx.astype(np.int32)


def _lower_and_width(idx) -> tuple[np.ndarray, np.ndarray]:
    i = np.asarray(idx, dtype=np.int64)
    if np.any((i < 0) | (i >= N_BUCKETS)):
        raise ValueError(f"bucket indices must be in [0, {N_BUCKETS})")
    j = np.maximum(i - N_EXACT, 0)
    shift = 8 + j // SUB - SUB_BITS
    lower = np.where(i < N_EXACT, i, (SUB + j % SUB) << shift)
    width = np.where(i < N_EXACT, 1, np.int64(1) << shift)
    return lower, width


def bucket_lower(idx) -> np.ndarray:
    """Smallest value in each bucket.

    >>> bucket_lower([7, 256, 506, 4735]).tolist()
    [7, 256, 1000, 8761733283840]
    """
    return _lower_and_width(idx)[0]


def bucket_upper(idx) -> np.ndarray:
    """Largest value in each bucket (inclusive).

    >>> bucket_upper([7, 256, 506, 4735]).tolist()
    [7, 257, 1003, 8796093022207]
    """
    lower, width = _lower_and_width(idx)
    return lower + width - 1


def bucket_mid(idx) -> np.ndarray:
    """Midpoint (float) of each bucket's values: exact for buckets below 256.

    >>> bucket_mid([7, 506]).tolist()
    [7.0, 1001.5]
    """
    lower, width = _lower_and_width(idx)
    return lower + (width - 1) / 2.0


#: The z of the 95% intervals every result reports: ``scipy.special.ndtri(0.975)`` (the
#: standard normal quantile, ``scipy.stats.norm.ppf``) to the last bit.  Importing scipy
#: takes longer than a short run, so only other levels load it.
_Z_95 = 1.959963984540054


def _z(level: float) -> float:
    """The two-sided standard normal quantile of a confidence ``level``.

    >>> _z(0.95), round(_z(0.9), 6)
    (1.959963984540054, 1.644854)
    """
    if not 0.0 < level < 1.0:
        raise ValueError(f"confidence level must be in (0, 1), not {level!r}")
    if level == 0.95:
        return _Z_95
    from scipy.special import ndtri

    return float(ndtri(1.0 - (1.0 - level) / 2.0))


class Histogram:
    """One metric's samples, grouped in trials: bucket counts plus the sums the
    cluster-robust intervals need.  See the module docstring.

    >>> a = Histogram.from_trials([10, 20, 30], [2, 1])
    >>> b = Histogram.empty()
    >>> b.add_trial([40]); b.add_trial([])
    >>> (a + b).n, (a + b).trials, (a + b).mean()
    (4, 4, 25.0)
    """

    def __init__(self):
        for name in ARRAYS:
            setattr(self, name, np.zeros(N_BUCKETS, dtype=np.int64))
        self.n = self.total = self.nn = self.trials = self.overflow = 0
        self.vmin, self.vmax = int(EMPTY_VMIN), EMPTY_VMAX
        self.ss = self.sn = 0.0

    # ----------------------------------------------------------- building
    @classmethod
    def empty(cls) -> Histogram:
        return cls()

    @classmethod
    def from_arrays(cls, counts, yy, yn, scalars: dict) -> Histogram:
        """A histogram from the three per-bucket arrays (copied) and the :data:`SCALARS`.

        >>> h = Histogram.from_trials([3, 4], [2])
        >>> Histogram.from_arrays(h.counts, h.yy, h.yn, h.scalars()) == h
        True
        """
        h = cls()
        for name, arr in zip(ARRAYS, (counts, yy, yn)):
            arr = np.array(arr, dtype=np.int64)
            if arr.shape != (N_BUCKETS,):
                raise ValueError(f"{name} must have shape ({N_BUCKETS},), not {arr.shape}")
            setattr(h, name, arr)
        for name in INT_SCALARS:
            setattr(h, name, int(scalars[name]))
        for name in FLOAT_SCALARS:
            setattr(h, name, float(scalars[name]))
        return h

    @classmethod
    def from_trials(cls, values, trial_lengths) -> Histogram:
        """A histogram of ``values`` cut into consecutive trials of ``trial_lengths`` samples."""
        h = cls()
        h.add_trials(values, trial_lengths)
        return h

    def add_trial(self, values) -> None:
        """Add one trial's samples (possibly none), exactly as the C ``hist_end_trial`` does.

        >>> h = Histogram.empty(); h.add_trial([5, 3]); h.add_trial([])
        >>> h.n, h.trials, h.nn, h.ss
        (2, 2, 4, 64.0)
        """
        values = np.asarray(values, dtype=np.int64).reshape(-1)
        self.add_trials(values, [values.size])

    def add_trials(self, values, trial_lengths) -> None:
        """Add many trials at once (vectorised; same result as :meth:`add_trial` per trial)."""
        values = np.asarray(values, dtype=np.int64).reshape(-1)
        lengths = np.asarray(trial_lengths, dtype=np.int64).reshape(-1)
        if np.any(lengths < 0) or lengths.sum() != values.size:
            raise ValueError("trial_lengths must be >= 0 and sum to len(values)")
        idx = bucket_index(values).astype(np.int64)
        starts = np.cumsum(lengths) - lengths
        # Each trial's bucket indices in ascending order: sort (trial, bucket) keys.
        trial_of_sample = np.repeat(np.arange(lengths.size, dtype=np.int64), lengths)
        sorted_idx = np.sort(trial_of_sample * N_BUCKETS + idx) % N_BUCKETS
        rank_in_trial = np.arange(values.size, dtype=np.int64) - np.repeat(starts, lengths)
        if values.size == 0:            # empty trials change nothing but the trial count
            self.trials += int(lengths.size)
            return
        # Every yy or yn increment of this batch is at most its sum of N_t**2, which fits
        # in int64 below 3e9 samples; larger batches (never seen) take Python ints.
        exact = np.int64 if values.size < 3_000_000_000 else object
        nn = int(np.sum(lengths.astype(exact) ** 2))

        self.counts += np.bincount(idx, minlength=N_BUCKETS)
        for name, at, inc in (("yy", sorted_idx, 2 * rank_in_trial + 1),
                              ("yn", idx, np.repeat(lengths, lengths))):
            batch = np.zeros(N_BUCKETS, dtype=exact)
            np.add.at(batch, at, inc.astype(exact))
            setattr(self, name, sat_add_arrays(getattr(self, name),
                                               np.minimum(batch, SATURATED).astype(np.int64)))

        # Sums of values in Python ints unless int64 provably holds them.
        small = int(values.max()) * values.size <= SATURATED
        running = np.concatenate(([0], np.cumsum(values if small else values.astype(object))))
        self.n += int(values.size)
        self.total = sat_add(self.total, int(running[-1]))
        self.vmin = min(self.vmin, int(values.min()))
        self.vmax = max(self.vmax, int(values.max()))
        self.overflow += int(np.count_nonzero(values >= OVERFLOW_START))
        self.nn = sat_add(self.nn, nn)
        self.trials += int(lengths.size)
        # A trial's sum saturates in C before it is squared; so here.
        trial_sums = np.minimum(running[starts + lengths] - running[starts],
                                SATURATED).astype(np.float64)
        # cumsum adds strictly left to right, like C's `ss += S*S` per trial,
        # so the float sums agree with the C path bit for bit.
        self.ss = float(np.cumsum(np.concatenate(([self.ss], trial_sums * trial_sums)))[-1])
        self.sn = float(np.cumsum(np.concatenate(([self.sn], trial_sums * lengths)))[-1])

    def merge(self, other: Histogram) -> Histogram:
        """A new histogram of both sets of trials (exact: everything adds up, the sums
        saturating as in the module docstring)."""
        out = Histogram()
        for name in ARRAYS:
            setattr(out, name, sat_add_arrays(getattr(self, name), getattr(other, name)))
        for name in ("n", "total", "nn", "trials", "overflow"):
            setattr(out, name, sat_add(getattr(self, name), getattr(other, name)))
        for name in ("ss", "sn"):
            setattr(out, name, getattr(self, name) + getattr(other, name))
        out.vmin = min(self.vmin, other.vmin)
        out.vmax = max(self.vmax, other.vmax)
        return out

    __add__ = merge

    def scalars(self) -> dict:
        """The scalar fields, keyed by :data:`SCALARS` (the C ``record_trials`` returns the same)."""
        return {name: getattr(self, name) for name in SCALARS}

    def __eq__(self, other) -> bool:
        if not isinstance(other, Histogram):
            return NotImplemented
        return self.scalars() == other.scalars() and all(
            np.array_equal(getattr(self, a), getattr(other, a)) for a in ARRAYS)

    __hash__ = None

    def __repr__(self) -> str:
        return (f"Histogram(n={self.n}, trials={self.trials}, mean={self.mean():.6g}, "
                f"p50={self.quantile(0.5):.6g}, p99={self.quantile(0.99):.6g})")

    # ---------------------------------------------------------- storage
    def to_sparse(self) -> dict:
        """Nonzero buckets only: ``bucket`` (int32, ascending), the three arrays there, the scalars.

        >>> sparse = Histogram.from_trials([5, 5, 1000], [3]).to_sparse()
        >>> sparse["bucket"].tolist(), sparse["counts"].tolist(), sparse["n"]
        ([5, 506], [2, 1], 3)
        """
        keep = np.flatnonzero((self.counts != 0) | (self.yy != 0) | (self.yn != 0))
        out = {"bucket": keep.astype(np.int32)}
        out.update({name: getattr(self, name)[keep] for name in ARRAYS})
        out.update(self.scalars())
        return out

    @classmethod
    def from_sparse(cls, sparse: dict) -> Histogram:
        """Inverse of :meth:`to_sparse`."""
        bucket = np.asarray(sparse["bucket"], dtype=np.int64)
        dense = []
        for name in ARRAYS:
            arr = np.zeros(N_BUCKETS, dtype=np.int64)
            arr[bucket] = sparse[name]
            dense.append(arr)
        return cls.from_arrays(*dense, sparse)

    # ------------------------------------------------------- statistics
    def _rank(self, p: float) -> int:
        """1-based rank of the p-quantile sample: ``ceil(p*n)``, at least 1."""
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"quantile p must be in [0, 1], not {p!r}")
        # Plain float product, as numpy's method="inverted_cdf" does: its rounding
        # lands on the integer users mean (0.001 * 20000 == 20.0, whereas the
        # exact binary value of 0.001 times 20000 is a hair above 20).
        return max(1, math.ceil(p * self.n))

    def _bucket_at(self, p: float) -> int:
        """The bucket holding the p-quantile sample."""
        return int(np.searchsorted(np.cumsum(self.counts), self._rank(p)))

    def _clip(self, value: float) -> float:
        return float(min(max(value, self.vmin), self.vmax))

    def quantile(self, p: float) -> float:
        """The p-quantile (ns): midpoint of the bucket of rank ``ceil(p*n)``, NaN when empty.

        The smallest and the largest sample are known exactly, so ranks 1 and n
        give ``vmin`` and ``vmax``; other values are kept within them.

        >>> h = Histogram.from_trials([1, 2, 3, 1001], [4])
        >>> h.quantile(0.5), h.quantile(0.75), h.quantile(1.0)
        (2.0, 3.0, 1001.0)
        """
        if self.n == 0:
            return math.nan
        rank = self._rank(p)
        if rank == 1 or rank == self.n:
            return float(self.vmin if rank == 1 else self.vmax)
        return self._clip(bucket_mid(self._bucket_at(p)))

    def quantile_ci(self, p: float, level: float = 0.95) -> tuple[float, float]:
        """Cluster-robust (Woodruff) confidence interval of the p-quantile, NaN if < 2 trials.

        >>> h = Histogram.from_trials(list(range(1000)), [1] * 1000)
        >>> h.quantile_ci(0.5)
        (468.0, 531.0)
        """
        n, T = self.n, self.trials
        if n == 0 or T < 2 or self.nn >= SATURATED:
            return (math.nan, math.nan)
        b = self._bucket_at(p)
        C = int(np.sum(self.counts[: b + 1]))
        YY = int(np.sum(self.yy[: b + 1]))
        YN = int(np.sum(self.yn[: b + 1]))
        # var(Z) with F = C/n, multiplied out by n**2 so it is exact in integers
        # (no cancellation between the three large sums).
        var_z = (n * n * YY - 2 * C * n * YN + C * C * self.nn) / (n * n * (T - 1))
        se = math.sqrt(var_z / T) / (n / T)
        half = _z(level) * se
        lo = self.vmin if p - half <= 0 else bucket_lower(self._bucket_at(p - half))
        hi_bucket = self._bucket_at(min(p + half, 1.0))
        overflowed = hi_bucket == N_BUCKETS - 1 and self.overflow > 0
        hi = self.vmax if p + half >= 1 or overflowed else bucket_upper(hi_bucket)
        return (self._clip(lo), self._clip(hi))

    def mean(self) -> float:
        """Mean value (ns), NaN when empty or when the sum saturated."""
        return self.total / self.n if self.n and self.total < SATURATED else math.nan

    def mean_ci(self, level: float = 0.95) -> tuple[float, float]:
        """Cluster-robust confidence interval of the mean (ratio estimator), NaN if < 2 trials.

        >>> [round(x, 2) for x in Histogram.from_trials([10, 20, 30, 40], [1, 1, 1, 1]).mean_ci()]
        [12.35, 37.65]
        """
        n, T = self.n, self.trials
        if n == 0 or T < 2 or self.total >= SATURATED or self.nn >= SATURATED:
            return (math.nan, math.nan)
        mean = self.total / n
        # Clamped: float rounding can take a (near-)zero variance below zero.
        var_z = max(0.0, (self.ss - 2 * mean * self.sn + mean * mean * self.nn) / (T - 1))
        half = _z(level) * math.sqrt(var_z / T) / (n / T)
        return (mean - half, mean + half)

    def min(self) -> float:
        return float(self.vmin) if self.n else math.nan

    def max(self) -> float:
        return float(self.vmax) if self.n else math.nan

    def summary(self, prefix: str = "") -> dict:
        """Flat dict of the headline numbers; keys are ``<prefix>_<stat>`` (or ``<stat>``).

        >>> s = Histogram.from_trials([100, 200, 300], [1, 1, 1]).summary("hp_wait")
        >>> s["hp_wait_n"], s["hp_wait_p50"], sorted(s)[:4]
        (3, 200.0, ['hp_wait_max', 'hp_wait_mean', 'hp_wait_mean_hi', 'hp_wait_mean_lo'])
        """
        mean_lo, mean_hi = self.mean_ci()
        p99_lo, p99_hi = self.quantile_ci(0.99)
        stats = {
            "n": self.n, "trials": self.trials, "overflow": self.overflow,
            "mean": self.mean(), "mean_lo": mean_lo, "mean_hi": mean_hi,
            "min": self.min(), "p50": self.quantile(0.5), "p90": self.quantile(0.9),
            "p99": self.quantile(0.99), "p99_lo": p99_lo, "p99_hi": p99_hi,
            "p999": self.quantile(0.999), "max": self.max(),
        }
        return {(f"{prefix}_{k}" if prefix else k): v for k, v in stats.items()}
