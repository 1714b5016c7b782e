"""The SimPy peer of the benchmarks (mcsim/benchmarks/simpy_model.py) and the compiled core simulate
the same model: on a contended configuration they agree statistically under two policies
that take different fault paths, and they count events and trials the same way.

The peer is an independent reading of docs/model.md: SimPy processes instead of an event
loop, its own random numbers, and its own statement of the fault steps and policies
(it does not import ``mcsim.policies``), so a wrong table row in the engine shows here.

Both sides give cluster-robust standard errors (trials are the i.i.d. units, model.md §8):
the core's from its intervals, the peer's from its samples grouped by trial.  A statistic
agrees when the two estimates differ by at most Z combined standard errors, plus, for a
quantile, one histogram bucket (0.4%: both estimates are bucket midpoints).  Z = 3.5 keeps
the chance of a false failure across the 22 comparisons below 1% (Bonferroni).  Seeds are
fixed, so the test is deterministic.
"""
import math
import statistics

import numpy as np
import pytest

simpy = pytest.importorskip("simpy")

import mcsim
from mcsim.benchmarks import simpy_model
from mcsim.benchmarks.scenarios import AGREEMENT
from mcsim.histogram import Histogram
from mcsim.params import validate

Z = 3.5
Z95 = 1.959963984540054
BUCKET = 0.004                 # relative half-width of a log-linear bucket (<= 0.39%)
POLICIES = ("stock-4.19", "rfc-v2")
SIMPY_REPLICATIONS = 8
SIMPY_TRIALS = 4_000           # per replication: ~0.7 s each
ENGINE_TRIALS = 1 << 19

# Contended but stable at one LP slot: writers queue behind faults, faults wait at the
# gate (~45% busy), misses and slow mkwrites are common enough that the policies differ
# in passes per fault and in inversions (rfc-v2 has none).
CONFIG = AGREEMENT


def quantile(p):
    def estimate(h):
        lo, hi = h.quantile_ci(p)
        return h.quantile(p), (hi - lo) / (2 * Z95), BUCKET
    return estimate


def mean(h):
    lo, hi = h.mean_ci()
    return h.mean(), (hi - lo) / (2 * Z95), 0.0


STATISTICS = {
    "hp_wait mean": ("hp_wait", mean),
    "hp_wait p99": ("hp_wait", quantile(0.99)),
    "writer_wait mean": ("writer_wait", mean),
    "writer_wait p99": ("writer_wait", quantile(0.99)),
    "gate_wait mean": ("gate_wait", mean),
    "gate_wait p90": ("gate_wait", quantile(0.9)),
    "lp_fault_latency mean": ("lp_fault_latency", mean),
    "lp_fault_latency p99": ("lp_fault_latency", quantile(0.99)),
    "fault_passes mean": ("fault_passes", mean),
    "fault_lock_wait mean": ("fault_lock_wait", mean),
}


@pytest.fixture(scope="module", params=POLICIES)
def runs(request):
    cfg = validate(CONFIG, policy=request.param)
    replications = [simpy_model.run(cfg, SIMPY_TRIALS, seed=seed)
                    for seed in range(SIMPY_REPLICATIONS)]
    engine = mcsim.simulate(cfg, trials=ENGINE_TRIALS, seed=11)
    return request.param, replications, engine


def _pooled(replications, metric):
    hist = Histogram.empty()
    for rep in replications:
        hist = hist + rep.histogram(metric)
    return hist


def assert_agree(name, core, simpy_value):
    """Two estimates ``(value, se, relative slack)`` agree within Z combined errors."""
    (a, se_a, slack), (b, se_b, _) = core, simpy_value
    if se_a == 0 and se_b == 0:                # a degenerate statistic: must be equal
        assert a == b, (name, a, b)
        return
    allowed = Z * math.hypot(se_a, se_b) + slack * abs(a)
    assert abs(a - b) <= allowed, (f"{name}: core {a:.6g} (se {se_a:.3g}) vs SimPy "
                                   f"{b:.6g} (se {se_b:.3g})")


@pytest.mark.parametrize("name", sorted(STATISTICS))
def test_simpy_model_agrees_with_the_compiled_core(runs, name):
    _, replications, engine = runs
    metric, estimate = STATISTICS[name]
    core, peer = estimate(engine[metric]), estimate(_pooled(replications, metric))
    assert engine[metric].n > 10_000 and _pooled(replications, metric).n > 1_000
    assert_agree(name, core, peer)


def _inversion_fraction_simpy(replications):
    """Inversions per HP read, with the cluster-robust standard error of a ratio."""
    N, M = [], []                              # per trial: inversions, HP reads
    for rep in replications:
        count = lambda metric: np.bincount(rep.trial_of[metric],   # noqa: E731
                                           minlength=rep.trials + 1)[1:]
        N.append(count("inversion_wait"))
        M.append(count("hp_wait"))
    N, M = np.concatenate(N).astype(float), np.concatenate(M).astype(float)
    f = N.sum() / M.sum()
    se = np.std(N - f * M, ddof=1) * math.sqrt(len(N)) / M.sum()
    return f, se, 0.0


def _inversion_fraction_core(engine):
    """The core's inversion fraction and an upper bound of its standard error.  The
    ratio's variance needs sum(N_t M_t), which the histograms do not keep; since a
    trial's inversions are among its HP reads, N_t <= M_t, so sum(N_t M_t) >= sum(N_t^2),
    which bounds var(N - f M) from above."""
    inv, hp = engine["inversion_wait"], engine["hp_wait"]
    T, f = engine.trials, inv.n / hp.n
    var = max(0.0, ((1 - 2 * f) * inv.nn + f * f * hp.nn) / (T - 1))
    return f, math.sqrt(var * T) / hp.n, 0.0


def test_inversion_fraction_agrees(runs):
    policy, replications, engine = runs
    core, peer = _inversion_fraction_core(engine), _inversion_fraction_simpy(replications)
    assert core[0] == engine.inversion_fraction
    if policy == "rfc-v2":                     # every blocking step drops L: none at all
        assert core[0] == peer[0] == 0
    else:
        assert core[0] > 0.01
    assert_agree("inversion fraction", core, peer)


def test_events_and_trials_are_counted_alike(runs):
    """Events per trial (the benchmark's unit of work) and HP reads per trial agree."""
    _, replications, engine = runs
    for key, core in (("events", engine.counters["events"] / engine.trials),
                      ("hp_reads", engine.counters["hp_reads"] / engine.trials)):
        per_rep = [(rep.events if key == "events" else rep.counters[key]) / rep.trials
                   for rep in replications]
        se = statistics.stdev(per_rep) / math.sqrt(len(per_rep))
        # The core ran ~16x more trials: its own standard error is below the SimPy one.
        assert abs(statistics.fmean(per_rep) - core) <= Z * se * math.sqrt(2), key
    assert all(rep.trials == SIMPY_TRIALS for rep in replications)
