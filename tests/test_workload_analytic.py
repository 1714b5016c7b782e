"""Known answers for closed workloads from queueing theory (docs/model.md §12, §6).

**The machine-repairman queue M/M/1//N.**  N closed-loop threads of one process each repeat
one ``write`` step (``mmap``/``munmap`` elsewhere: no VMA lock) that holds ``mmap_lock`` for
an exponential time of mean 1/mu, then think for an exponential time of mean 1/lambda.  With
``wake`` 0 a release hands ``L`` to the next writer at the same instant, so the lock is a
work-conserving single server and the number of threads at the lock is the birth-death
chain of the finite-source single-server queue (Kleinrock, *Queueing Systems, Vol. 1:
Theory*, 1975, the M/M/1//M system; any text's "machine repairman" model), r = lambda/mu:

    P0 = [ sum_{k=0..N} N!/(N-k)! r^k ]^(-1)        (the lock is free)
    X  = mu (1 - P0)                                 (completed writes per second)
    Wq = N/X - 1/lambda - 1/mu                       (mean wait for L; Little's law on
                                                       the cycle think + wait + hold)

These do not depend on the order in which waiting writers are served, so they hold for
both rwsem eras.  Each window trial gives its own estimate (§12.3: one random stream per
trial): 1 - utilisation, with utilisation = the ``hold_writer`` total of the trial's
counted writes over its window (``sim_ns``); its throughput, the sum of
``thread_iterations_k`` over ``sim_ns``; and its ``writer_wait`` sum and count.  The first
two are unbiased in steady state (a counted write holds 1/mu on average whatever the state
it starts in); the mean wait is a ratio of per-trial sums, so its interval is the
delta-method one over the trials' (sum, count) pairs.  The warm-up makes the transient
bias negligible; ``test_warmup_makes_the_start_negligible`` computes it from the chain.

**The open model in window trials** (M/M/1 writers with zero-length HP probes, the system of
``tests/test_analytic.py``) agrees with the analytic answers and with the regenerative-cycle
run.

Intervals: a t interval over the trials' own estimates (for means over samples, over the
trials' own sums and counts).  The file makes ``N_CHECKS`` comparisons with fixed seeds,
so each is made at level 1 - 0.05/N_CHECKS (Bonferroni): the whole file then has at most
a 5% chance to fail on a correct engine, and no seed needs to be chosen after the fact.
"""
import math

import numpy as np
import pytest
from scipy import stats
from scipy.linalg import expm

import mcsim
from mcsim import layout as lay
from mcsim.engine import RUNNERS
from mcsim.histogram import INT_SCALARS
from mcsim.params import validate
from mcsim.scenario import TRIAL_WINDOW, compile_scenario
from test_workload_scripts import expo, workload_record, write

MS = 1_000_000
MU = 1000.0                   # writes per second of hold: hold exp(1 ms)

#: (N, lambda/mu, kernel or None for the 2018 model, trials, window ms, engine)
REPAIRMAN = [
    (2, 0.5, None, 600, 1000, "compiled"),
    (5, 0.2, "6.18", 600, 1000, "compiled"),
    (10, 0.25, None, 600, 1000, "compiled"),      # heavily loaded: the lock is free 0.5%
    (3, 0.5, None, 20, 200, "reference"),
]
WARMUP_MS = 50                # > 12 relaxation times of every chain above
OPEN_CHECKS = ("writer_wait_mean", "probe_wait_zero", "utilisation", "writer_rate",
               "cycle_agreement")
N_CHECKS = 3 * len(REPAIRMAN) + len(OPEN_CHECKS)
LEVEL = 1 - 0.05 / N_CHECKS


def repairman(n, r):
    """(P0, X per second, Wq in seconds) of M/M/1//N with hold rate MU."""
    p0 = 1.0 / sum(math.factorial(n) / math.factorial(n - k) * r ** k for k in range(n + 1))
    x = MU * (1 - p0)
    lam = r * MU
    return p0, x, n / x - 1 / lam - 1 / MU


def generator(n, r, servers=1):
    """The chain's generator: state = threads at the lock (waiting or holding); with
    ``servers`` > 1, the M/M/c//N chain of threads at c servers."""
    lam = r * MU
    q = np.zeros((n + 1, n + 1))
    for k in range(n + 1):
        if k < n:
            q[k, k + 1] = (n - k) * lam
        if k > 0:
            q[k, k - 1] = min(k, servers) * MU
        q[k, k] = -q[k].sum()
    return q


N, TOTAL = INT_SCALARS.index("n"), INT_SCALARS.index("total")


def t_interval(samples, level=LEVEL):
    """Two-sided t interval of the mean of i.i.d. per-trial estimates."""
    x = np.asarray(samples, dtype=float)
    half = stats.t.ppf(0.5 + level / 2, len(x) - 1) * x.std(ddof=1) / math.sqrt(len(x))
    return x.mean() - half, x.mean() + half


def ratio_interval(sums, counts, level=LEVEL):
    """Interval of sum(sums) / sum(counts), a ratio of per-trial sums (a mean over samples
    of unequal number per trial): the delta method on Z_t = S_t - m N_t, whose trial
    means are i.i.d. (the estimator of model.md §8; unbiased to O(1/total samples),
    where the mean of per-trial ratios would carry a bias of O(1/samples per trial))."""
    s, n = np.asarray(sums, dtype=float), np.asarray(counts, dtype=float)
    m = s.sum() / n.sum()
    se = (s - m * n).std(ddof=1) / math.sqrt(len(s)) / n.mean()
    half = stats.t.ppf(0.5 + level / 2, len(s) - 1) * se
    return m - half, m + half


def per_trial(rec, trials, engine, seed):
    """Each window trial's own output (a block of one trial, §12.3), reduced at once to
    what the checks read: (name → (n, total, samples equal to 0)) per metric, counters."""
    out = []
    for k in range(trials):
        block = RUNNERS[engine](rec, k, 1, seed)
        sc = block.hist_scalars
        hists = {name: (int(sc[m, N]), int(sc[m, TOTAL]), int(block.hist_arrays[m, 0, 0]))
                 for m, name in enumerate(lay.METRICS)}
        out.append((hists, block.counter_dict()))
    return out


def closed_loop_intervals(trials, n, level):
    """From :func:`per_trial`'s output of a workload of ``n`` closed-loop threads: the
    intervals at ``level`` of the throughput (iterations per second, all threads) and of
    the mean response (``lp_fault_latency``), by name."""
    rate, lat_sum, lats = [], [], []
    for hists, k in trials:
        rate.append(sum(k[f"thread_iterations_{i}"] for i in range(n)) / k["sim_ns"] * 1e9)
        lat_sum.append(hists["lp_fault_latency"][1] / 1e9)
        lats.append(hists["lp_fault_latency"][0])
    return {"throughput": t_interval(rate, level=level),
            "mean response": ratio_interval(lat_sum, lats, level=level)}


def repairman_record(n, r, kernel, window_ms):
    params = {"kernel": kernel or "none"}         # "none": the 2018 model, era 4.x
    threads = [(0, expo(1e9 / (r * MU)), [write(0, expo(1e9 / MU), expo(1e9 / (r * MU)))])
               for _ in range(n)]
    return workload_record(threads, warmup=WARMUP_MS * MS, window=window_ms * MS, **params)


@pytest.mark.parametrize("n, r, kernel, trials, window_ms, engine", REPAIRMAN)
def test_machine_repairman(n, r, kernel, trials, window_ms, engine):
    # Each thread's first step comes after an exp(1/lambda) start: the trial starts in
    # state 0 of the chain (everyone thinking), exactly as the chain's transient assumes.
    rec = repairman_record(n, r, kernel, window_ms)
    p0, x, wq = repairman(n, r)
    free, rate, wait_sum, waits = [], [], [], []
    for h, c in per_trial(rec, trials, engine, seed=100 + n):
        assert c["sim_ns"] == window_ms * MS
        free.append(1 - h["hold_writer"][1] / c["sim_ns"])
        rate.append(sum(c[f"thread_iterations_{i}"] for i in range(n)) / c["sim_ns"] * 1e9)
        wait_sum.append(h["writer_wait"][1] / 1e9)
        waits.append(h["writer_wait"][0])
    for name, (lo, hi), truth in (("P(L free)", t_interval(free), p0),
                                  ("throughput", t_interval(rate), x),
                                  ("mean writer_wait", ratio_interval(wait_sum, waits), wq)):
        assert lo <= truth <= hi, f"{name}: {truth:.6g} outside [{lo:.6g}, {hi:.6g}]"


@pytest.mark.parametrize("n, r", sorted({(c[0], c[1]) for c in REPAIRMAN}))
def test_warmup_makes_the_start_negligible(n, r):
    """Design check of the test above, from the chain alone: starting in state 0, the
    expected number of threads at the lock averaged over [warm-up, warm-up + 100 ms] (the
    first 100 ms of the shortest window used) is within 1e-6 of its stationary value.
    Utilisation and throughput estimates are linear in it (writes start at rate
    lambda (N - state)), so their bias from the start is smaller still."""
    q = generator(n, r)
    p0, _, _ = repairman(n, r)
    start = np.zeros(n + 1)
    start[0] = 1.0
    w, t = WARMUP_MS / 1000, 0.1
    # The average of p(s) over [w, w + t]: Simpson's rule on 20 intervals of expm.
    grid = np.linspace(w, w + t, 21)
    probs = np.array([start @ expm(q * s) for s in grid])
    weights = np.ones(21)
    weights[1:-1:2], weights[2:-1:2] = 4, 2
    mean_state = (weights @ probs) / weights.sum() @ np.arange(n + 1)
    stationary = np.linalg.lstsq(np.vstack([q.T, np.ones(n + 1)]),
                                 np.r_[np.zeros(n + 1), 1.0], rcond=None)[0]
    assert stationary[0] == pytest.approx(p0, rel=1e-9)
    assert abs(mean_state - stationary @ np.arange(n + 1)) < 1e-6


# ----------------------------------------------------------------------------------------
# The open model (§4.3 arrivals) in window trials: writers lambda = 600/s with hold exp(1ms)
# (rho = 0.6) and 200 zero-length HP probes per second, era 4.x, wake 0 — M/M/1 FIFO.
LAM, RHO = 600.0, 0.6
MM1 = dict(era="4.x", hp_rate=200.0, hp_hold="0", lp_rate=LAM, writer_ratio=1.0,
           writer_hold="exp(1ms)", bg_io_rate=0.0, wake="0")
OPEN_TRIALS, OPEN_WARMUP_MS, OPEN_WINDOW_MS = 500, 200, 1000   # relaxation time 20 ms


@pytest.fixture(scope="module")
def open_window():
    rec = compile_scenario(validate(MM1))
    rec[0]["trial_kind"] = TRIAL_WINDOW
    rec[0]["warmup_ns"], rec[0]["window_ns"] = OPEN_WARMUP_MS * MS, OPEN_WINDOW_MS * MS
    return per_trial(rec, OPEN_TRIALS, "compiled", seed=7)


def test_open_model_in_window_trials_is_mm1(open_window):
    # Mean wait rho/(mu - lambda) = 1.5 ms; a probe sees the virtual waiting time, zero with
    # probability 1 - rho (PASTA); utilisation rho; counted writers arrive at rate lambda.
    truths = {"writer_wait_mean": RHO / (MU - LAM), "probe_wait_zero": 1 - RHO,
              "utilisation": RHO, "writer_rate": LAM}
    for (h, c) in open_window:
        assert c["sim_ns"] == OPEN_WINDOW_MS * MS
    col = {name: np.array([h[name] for h, _ in open_window]) for name in
           ("writer_wait", "hp_wait", "hold_writer")}      # rows: (n, total, zeros)
    window_ns = OPEN_WINDOW_MS * MS
    intervals = {
        "writer_wait_mean": ratio_interval(col["writer_wait"][:, 1] / 1e9,
                                           col["writer_wait"][:, 0]),
        "probe_wait_zero": ratio_interval(col["hp_wait"][:, 2], col["hp_wait"][:, 0]),
        "utilisation": t_interval(col["hold_writer"][:, 1] / window_ns),
        "writer_rate": t_interval(col["writer_wait"][:, 0] / window_ns * 1e9)}
    for name, truth in truths.items():
        lo, hi = intervals[name]
        assert lo <= truth <= hi, f"{name}: {truth:.6g} outside [{lo:.6g}, {hi:.6g}]"


def test_open_model_window_and_cycle_trials_agree(open_window):
    """The same system's mean writer wait from window trials and from regenerative cycles
    (the default trials) differ by less than the two intervals allow."""
    sums = [h["writer_wait"][1] for h, _ in open_window]
    counts = [h["writer_wait"][0] for h, _ in open_window]
    lo, hi = ratio_interval(sums, counts)
    window_mean = sum(sums) / sum(counts)
    cycles = mcsim.simulate(MM1, trials=600_000, seed=12)["writer_wait"]
    z = stats.norm.ppf(0.5 + LEVEL / 2)
    se_cycle = (cycles.mean_ci(level=LEVEL)[1] - cycles.mean()) / z
    se_window = (hi - lo) / 2 / stats.t.ppf(0.5 + LEVEL / 2, len(sums) - 1)
    assert abs(window_mean - cycles.mean()) <= z * math.hypot(se_cycle, se_window)
