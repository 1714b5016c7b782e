"""The SimPy peer of the benchmarks (bench/simpy_model.py) and the compiled core simulate
the same model: on a small contended configuration (bench/scenarios.py's AGREEMENT) they
agree statistically, and they count events and trials the same way.

The core gives its own cluster-robust intervals (one run, many trials); the SimPy model's
uncertainty is the spread of independent replications (different seeds).  A statistic
agrees when the two estimates differ by less than Z combined standard errors (plus one
histogram bucket, 0.4%).  Seeds are fixed, so the test is deterministic.
"""
import math
import statistics

import pytest

simpy = pytest.importorskip("simpy")

import mcsim
from mcsim.bench import bench_module
from mcsim.histogram import Histogram
from mcsim.params import validate

Z = 3.0
BUCKET = 0.004                 # relative half-width of a log-linear bucket (<= 0.39%)
SIMPY_REPLICATIONS = 8
SIMPY_TRIALS = 12_000          # per replication: ~0.7 s each
ENGINE_TRIALS = 1 << 19
Z95 = 1.959963984540054

STATISTICS = {
    "hp_wait p50": ("hp_wait", lambda h: h.quantile(0.5), lambda h: h.quantile_ci(0.5)),
    "hp_wait p99": ("hp_wait", lambda h: h.quantile(0.99), lambda h: h.quantile_ci(0.99)),
    "writer_wait mean": ("writer_wait", lambda h: h.mean(), lambda h: h.mean_ci()),
}


@pytest.fixture(scope="module")
def runs():
    cfg = validate(bench_module("scenarios").AGREEMENT)
    simpy_model = bench_module("simpy_model")
    replications = [simpy_model.run(cfg, SIMPY_TRIALS, seed=seed)
                    for seed in range(SIMPY_REPLICATIONS)]
    engine = mcsim.simulate(cfg, trials=ENGINE_TRIALS, seed=11)
    return replications, engine


def _pooled(replications, metric):
    hist = Histogram.empty()
    for rep in replications:
        hist = hist + rep.histogram(metric)
    return hist


@pytest.mark.parametrize("name", sorted(STATISTICS))
def test_simpy_model_agrees_with_the_compiled_core(runs, name):
    replications, engine = runs
    metric, estimate, interval = STATISTICS[name]
    core = estimate(engine[metric])
    lo, hi = interval(engine[metric])
    se_core = (hi - lo) / (2 * Z95)
    per_rep = [estimate(rep.histogram(metric)) for rep in replications]
    se_simpy = statistics.stdev(per_rep) / math.sqrt(len(per_rep))
    simpy_value = estimate(_pooled(replications, metric))
    assert core > 0 and se_simpy > 0 and se_core > 0     # a real test, not 0 == 0
    allowed = Z * math.hypot(se_core, se_simpy) + BUCKET * core
    assert abs(simpy_value - core) <= allowed, (
        f"{name}: SimPy {simpy_value:.0f} (se {se_simpy:.0f}) vs core {core:.0f} "
        f"[{lo:.0f}, {hi:.0f}]")


def test_events_and_trials_are_counted_alike(runs):
    """Events per trial (the benchmark's unit of work) and HP reads per trial agree."""
    replications, engine = runs
    for key, core in (("events", engine.counters["events"] / engine.trials),
                      ("hp_reads", engine.counters["hp_reads"] / engine.trials)):
        per_rep = [(rep.events if key == "events" else rep.counters[key]) / rep.trials
                   for rep in replications]
        se = statistics.stdev(per_rep) / math.sqrt(len(per_rep))
        # The core ran ~5x more trials: its own standard error is below the SimPy one.
        assert abs(statistics.fmean(per_rep) - core) <= Z * se * math.sqrt(2), key
    assert all(rep.trials == SIMPY_TRIALS for rep in replications)
