"""Known answers for CPUs (docs/model.md §14) from queueing theory: CPU bursts that queue
for ``cpus`` CPUs form an M/M/c queue (open stream) or an M/M/c//N queue (closed loops).

**Why the CPUs are the only queue.**  Every LP arrival is a read fault of kind ``hit``
(``writer_ratio``, ``write_fault_ratio``, ``p_miss``, ``p_async_ra``, ``p_locked`` all 0)
and nothing else arrives (``hp_rate``, ``bg_io_rate`` 0).  A hit's pass 1 is its lookup
``fault_cpu`` and nothing else (``mcsim.policies.FAULT_PROGRAMS[FK_HIT]`` is empty; §2.4:
"``hit`` | none"), it drops nothing, so no second pass and ``minor_cpu`` never runs (it is
0 anyway).  With no writer its read request for ``L`` is granted at once (§2.1, era 4.x:
"granted at once iff no writer holds ``L`` and the queue is empty"; the queue stays
empty).  So a fault is one CPU burst of length ``fault_cpu`` = exp(1/mu):

* §14.2: an arrival takes an idle CPU at once (case (b): "at once, as without CPUs"),
  else "enters the run queue (one FIFO for the machine)", ``cpu_queued`` counting the entry;
  "its latency (``lp_fault_latency``) counts from the timer";
* §14.1: it "keeps its CPU through its CPU stretches" and frees it when it "6. finishes";
* §14.3: the freed CPU goes to the run queue's head at ``now + s``, ``s`` = ``cpu_switch``
  = 0 here, and ``cpu_queue_ns`` adds that start minus the moment it became runnable.

No fault ever sleeps, so nothing is ever woken: ``wake`` plays no part (it is 0 anyway).
That is the FIFO M/M/c queue: ``lp_fault_latency`` is its sojourn time W_q + S,
``cpu_queued / faults`` the fraction of arrivals that wait (by PASTA, the Erlang C
probability), ``cpu_queue_ns / faults`` the mean wait E[W_q].

**M/M/c** (Kleinrock, *Queueing Systems, Vol. 1: Theory*, 1975, the M/M/m system), offered
load a = lambda/mu, rho = a/c < 1, Erlang's C formula

    C(c, a) = [a^c/c! * c/(c - a)] / [sum_{k<c} a^k/k! + a^c/c! * c/(c - a)]

is the probability that an arrival waits; the wait is 0 with probability 1 - C and else
exponential of rate c mu - lambda (FIFO), independent of the arrival's own burst S ~
exp(mu).  So E[W_q] = C/(c mu - lambda), E[W] = E[W_q] + 1/mu, and with alpha = c mu -
lambda,

    P(W > t) = (1 - C) e^{-mu t} + C (alpha e^{-mu t} - mu e^{-alpha t}) / (alpha - mu)

(for alpha = mu the last fraction is its limit (1 + mu t) e^{-mu t}).

**M/M/c//N** (finite source, c servers): N threads each repeat a hit fault (burst exp(mu))
then think exp(lambda).  The number n of threads at the CPUs (queued or running) is a
birth-death chain with birth rate (N - n) lambda and death rate min(n, c) mu, so with
r = lambda/mu

    p_n ∝ C(N, n) r^n                       (n <= c)
    p_n ∝ C(N, n) n! / (c! c^(n-c)) r^n     (n > c),

throughput X = lambda (N - L) with L = sum n p_n, and mean response (step start to fault
end) W = L / X (Little), which also equals N/X - 1/lambda (Little on the whole loop).

Intervals: (a) runs regenerative cycles (§4.2) in blocks (§4.3: each block its own
stream, so blocks are i.i.d.); the mean and quantile of ``lp_fault_latency`` use the
histogram's cluster-robust intervals over trials (§8); the counter ratios use the delta
method over the blocks' (sum, count) pairs with a t quantile, because counters are only
kept per block: the variance of ``cpu_queued / faults`` is that of a ratio of sums of
per-arrival indicators which are positively correlated inside a busy period (one long
burst makes every arrival behind it wait), so it is larger than the binomial C(1 - C)/n;
the block sums carry that correlation and the spread between blocks measures it.  (b) runs
window trials (§12.3), one random stream each, and uses t intervals over the trials' own
estimates.  The file makes ``N_CHECKS`` comparisons with fixed seeds, each at level
1 - 0.05/N_CHECKS (Bonferroni): on a correct engine the file fails with probability at most
5%, and no seed was chosen after the fact.
"""
import math

import numpy as np
import pytest
from scipy import optimize, stats
from scipy.integrate import quad
from scipy.linalg import expm

from mcsim.engine import RUNNERS, BlockOutput
from mcsim.params import validate
from mcsim.scenario import compile_scenario
from test_workload_analytic import (closed_loop_intervals, generator as chain_generator, per_trial,
                                     ratio_interval)
from test_workload_scripts import expo, fault, workload_record

MS = 1_000_000
MU = 1000.0                         # fault_cpu exp(1 ms): bursts per second of CPU

#: (a) open M/M/c: (c, lambda per second, blocks, trials per block, engine)
MMC = [
    (1, 600.0, 40, 10000, "compiled"),
    (2, 1400.0, 40, 10000, "compiled"),
    (3, 2100.0, 40, 10000, "compiled"),
    (2, 1000.0, 10, 60, "reference"),
]
MMC_CHECKS = ("mean sojourn", "p90 sojourn", "P(wait > 0)", "mean wait")
#: (b) closed M/M/c//N: (N, c, lambda/mu, trials, window ms, engine)
FINITE = [
    (4, 2, 0.5, 300, 500, "compiled"),
    (6, 3, 0.4, 300, 500, "compiled"),
    (3, 2, 1.0, 20, 200, "reference"),
]
FINITE_CHECKS = ("throughput", "mean response")
WARMUP_MS = 50
N_CHECKS = len(MMC) * len(MMC_CHECKS) + len(FINITE) * len(FINITE_CHECKS)
LEVEL = 1 - 0.05 / N_CHECKS


# ------------------------------------------------------------------ formulas
def erlang_c(c, a):
    """Erlang's C formula: the probability that an arrival to M/M/c with offered load
    ``a`` (< c) waits (Kleinrock 1975, Vol. 1, M/M/m)."""
    top = a ** c / math.factorial(c) * c / (c - a)
    return top / (sum(a ** k / math.factorial(k) for k in range(c)) + top)


def mmc_sojourn_tail(t, c, lam, mu=MU):
    """P(W > t) of FIFO M/M/c, W = W_q + S (t in seconds)."""
    C, alpha = erlang_c(c, lam / mu), c * mu - lam
    if alpha == mu:                              # the sum of two exp(mu): Erlang-2
        both = (1 + mu * t) * math.exp(-mu * t)
    else:
        both = (alpha * math.exp(-mu * t) - mu * math.exp(-alpha * t)) / (alpha - mu)
    return (1 - C) * math.exp(-mu * t) + C * both


def mmc_sojourn_quantile(p, c, lam):
    """The p-quantile of the sojourn time, in ns."""
    return optimize.brentq(lambda t: mmc_sojourn_tail(t, c, lam) - (1 - p), 0, 1) * 1e9


def finite_source(n, c, r):
    """(p_0..p_N, throughput X per second, mean response W in seconds) of M/M/c//N with
    service rate MU and think rate lambda = r MU, from the closed form of p_n."""
    w = np.array([math.comb(n, k) * r ** k if k <= c else
                  math.comb(n, k) * math.factorial(k) / (math.factorial(c) * c ** (k - c))
                  * r ** k for k in range(n + 1)])
    p = w / w.sum()
    busy = p @ np.arange(n + 1)
    x = r * MU * (n - busy)
    return p, x, busy / x


def test_the_formulas_agree_with_independent_derivations():
    """Erlang C from Erlang B (scipy's Poisson law: B = pmf(c)/cdf(c), C = B/(1 - rho (1 - B)),
    the B-C relation), the sojourn tail at 0 and its mean by integration, and the finite-source
    p_n as the chain's stationary law, X = mu sum min(n, c) p_n and W = N/X - 1/lambda."""
    for c, lam, *_ in MMC:
        a = lam / MU
        b = stats.poisson.pmf(c, a) / stats.poisson.cdf(c, a)
        assert erlang_c(c, a) == pytest.approx(b / (1 - a / c * (1 - b)), rel=1e-12)
        assert mmc_sojourn_tail(0.0, c, lam) == pytest.approx(1.0, rel=1e-12)
        mean = quad(lambda t: mmc_sojourn_tail(t, c, lam), 0, np.inf)[0]
        assert mean == pytest.approx(erlang_c(c, a) / (c * MU - lam) + 1 / MU, rel=1e-9)
    for n, c, r, *_ in FINITE:
        p, x, w = finite_source(n, c, r)
        q = chain_generator(n, r, servers=c)
        assert np.abs(p @ q).max() < 1e-9 * MU
        assert x == pytest.approx(MU * p @ np.minimum(np.arange(n + 1), c), rel=1e-12)
        assert w == pytest.approx(n / x - 1 / (r * MU), rel=1e-12)


# ------------------------------------------------------------------ (a) open M/M/c
def mmc_record(c, lam):
    return compile_scenario(validate(
        kernel="none", hp_rate=0.0, bg_io_rate=0.0, lp_rate=lam, writer_ratio=0.0,
        write_fault_ratio=0.0, p_miss=0.0, p_async_ra=0.0, p_locked=0.0,
        fault_cpu=f"exp({1e3 / MU}ms)", minor_cpu="0", wake="0", cpus=c, cpu_switch="0"))


@pytest.mark.parametrize("c, lam, blocks, trials, engine", MMC)
def test_open_cpu_bursts_are_mmc(c, lam, blocks, trials, engine):
    rec = mmc_record(c, lam)
    merged, queued, waited_s, faults = BlockOutput.zeros(), [], [], []
    for b in range(blocks):
        out = RUNNERS[engine](rec, b, trials, 30 + c)
        merged.add(out)
        k = out.counter_dict()
        assert k["faults"] == k["faults_hit"] and k["lock_acquisitions"] == k["faults"]
        queued.append(k["cpu_queued"])
        waited_s.append(k["cpu_queue_ns"] / 1e9)
        faults.append(k["faults"])
    h = merged.histograms()["lp_fault_latency"]
    assert h.n == sum(faults) and h.trials == blocks * trials
    assert merged.counter_dict()["retries"] == 0
    C = erlang_c(c, lam / MU)
    truths = {"mean sojourn": (C / (c * MU - lam) + 1 / MU) * 1e9,
              "p90 sojourn": mmc_sojourn_quantile(0.9, c, lam),
              "P(wait > 0)": C, "mean wait": C / (c * MU - lam)}
    intervals = {"mean sojourn": h.mean_ci(level=LEVEL),
                 "p90 sojourn": h.quantile_ci(0.9, level=LEVEL),
                 "P(wait > 0)": ratio_interval(queued, faults, level=LEVEL),
                 "mean wait": ratio_interval(waited_s, faults, level=LEVEL)}
    assert set(intervals) == set(MMC_CHECKS)
    for name, truth in truths.items():
        lo, hi = intervals[name]
        assert lo <= truth <= hi, f"c={c} {name}: {truth:.6g} outside [{lo:.6g}, {hi:.6g}]"
    if engine == "compiled":                     # the checks have power
        lo, hi = intervals["P(wait > 0)"]
        assert hi - lo < 0.01
        lo, hi = intervals["mean sojourn"]
        assert hi - lo < 0.03 * truths["mean sojourn"]


# ------------------------------------------------------------------ (b) closed M/M/c//N
def finite_record(n, c, r, window_ms):
    """N threads, each: a hit fault on VMA 0 (burst fault_cpu = exp(1/mu)), then think
    exp(1/lambda); the first step after an exp(1/lambda) start, so the trial starts in state
    0 of the chain (everyone thinking).  Kernel ``none``: the fault takes L for read."""
    think = expo(1e9 / (r * MU))
    threads = [(0, think, [fault(0, 0, "hit", think)]) for _ in range(n)]
    return workload_record(threads, warmup=WARMUP_MS * MS, window=window_ms * MS,
                           kernel="none", fault_cpu=f"exp({1e3 / MU}ms)", cpus=c,
                           cpu_switch="0")


@pytest.mark.parametrize("n, c, r, trials, window_ms, engine", FINITE)
def test_closed_cpu_bursts_are_finite_source_mmc(n, c, r, trials, window_ms, engine):
    rec = finite_record(n, c, r, window_ms)
    _, x, w = finite_source(n, c, r)
    out = per_trial(rec, trials, engine, seed=200 + 10 * n + c)
    assert all(k["sim_ns"] == window_ms * MS for _, k in out)
    got = closed_loop_intervals(out, n, LEVEL)
    checks = {"throughput": (got["throughput"], x), "mean response": (got["mean response"], w)}
    assert set(checks) == set(FINITE_CHECKS)
    for name, ((lo, hi), truth) in checks.items():
        assert lo <= truth <= hi, f"{name}: {truth:.6g} outside [{lo:.6g}, {hi:.6g}]"


@pytest.mark.parametrize("n, c, r", sorted({f[:3] for f in FINITE}))
def test_warmup_makes_the_start_negligible(n, c, r):
    """Design check of the test above, from the chain alone: started in state 0, the
    expected number of threads at the CPUs averaged over [warm-up, warm-up + 100 ms] is
    within 1e-6 of its stationary value (throughput and response are driven by it)."""
    q = chain_generator(n, r, servers=c)
    p, _, _ = finite_source(n, c, r)
    start = np.zeros(n + 1)
    start[0] = 1.0
    grid = np.linspace(WARMUP_MS / 1000, WARMUP_MS / 1000 + 0.1, 21)
    probs = np.array([start @ expm(q * s) for s in grid])
    weights = np.ones(21)
    weights[1:-1:2], weights[2:-1:2] = 4, 2
    mean_state = (weights @ probs) / weights.sum() @ np.arange(n + 1)
    assert abs(mean_state - p @ np.arange(n + 1)) < 1e-6
