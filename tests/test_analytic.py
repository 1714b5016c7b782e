"""Known answers (model.md §6): M/M/1 and M/D/1 writers with zero-length HP probes,
readers-only systems, the Lindley recursion, and the honesty of the reported intervals."""
import math

import numpy as np
import pytest

import mcsim
from mcsim import layout as lay

LAM, MU = 600.0, 1000.0            # writer arrivals and service rate per second: rho = 0.6
RHO = LAM / MU
MM1 = dict(era="4.x", hp_rate=200.0, hp_hold="0", lp_rate=LAM, writer_ratio=1.0,
           writer_hold="exp(1ms)", bg_io_rate=0.0, wake="0")


def mm1_quantile_ns(p):
    """Virtual waiting time of M/M/1 FIFO: P(W > t) = rho * exp(-(mu - lambda) t)."""
    if 1 - p >= RHO:
        return 0.0
    return math.log(RHO / (1 - p)) / (MU - LAM) * 1e9


@pytest.fixture(scope="module")
def mm1():
    return mcsim.simulate(MM1, trials=600_000, seed=11, workers=2)


@pytest.mark.parametrize("metric", ["hp_wait", "writer_wait"])
@pytest.mark.parametrize("p", [0.5, 0.9, 0.99])
def test_mm1_quantiles_inside_their_intervals(mm1, metric, p):
    # Zero-length probes see the virtual waiting time; by PASTA so do the writers.
    lo, hi = mm1[metric].quantile_ci(p, level=0.99)
    assert lo <= mm1_quantile_ns(p) <= hi
    assert mm1[metric].quantile(p) == pytest.approx(mm1_quantile_ns(p), rel=0.05)


@pytest.mark.parametrize("metric", ["hp_wait", "writer_wait"])
def test_mm1_mean_and_atom(mm1, metric):
    lo, hi = mm1[metric].mean_ci(level=0.99)
    assert lo <= RHO / (MU - LAM) * 1e9 <= hi
    h = mm1[metric]
    p_zero = h.counts[0] / h.n                       # P(W = 0) = 1 - rho
    assert p_zero == pytest.approx(1 - RHO, abs=0.01)


def test_md1_mean():
    """Deterministic holds: mean wait lambda E[S^2] / (2 (1 - rho)) (Pollaczek-Khinchine)."""
    r = mcsim.simulate(dict(MM1, writer_hold="const(1ms)"), trials=400_000, seed=3)
    expected = LAM * (1e-3) ** 2 / (2 * (1 - RHO)) * 1e9
    for metric in ("hp_wait", "writer_wait"):
        lo, hi = r[metric].mean_ci(level=0.99)
        assert lo <= expected <= hi


def test_p99_interval_coverage():
    """The 95% p99 interval covers the analytic M/M/1 p99 in at least 90% of 120
    independent repetitions (each repetition is a separate seed)."""
    truth = mm1_quantile_ns(0.99)
    covered = 0
    reps = 120
    for seed in range(reps):
        h = mcsim.simulate(MM1, trials=60_000, seed=1000 + seed)["hp_wait"]
        lo, hi = h.quantile_ci(0.99)
        covered += lo <= truth <= hi
    assert covered / reps >= 0.90


def test_writers_follow_lindley_sample_for_sample(engine):
    """FIFO writers: W[n+1] = max(0, W[n] + S[n] - A[n+1]), exactly, in ns."""
    rng = np.random.default_rng(4)
    n = 300
    arrivals = np.cumsum(rng.exponential(1e6 / 0.8, n).astype(np.int64) + 1)
    holds = rng.exponential(1e6, n).astype(np.int64) + 1
    tasks = [{"at": int(a), "kind": "writer", "hold": int(s)} for a, s in zip(arrivals, holds)]
    r = mcsim.run_script(tasks, engine=engine)
    expected = [0]
    for k in range(1, n):
        expected.append(max(0, expected[-1] + int(holds[k - 1]) - int(arrivals[k] - arrivals[k - 1])))
    assert [t.waits[0] for t in r.tasks] == expected


@pytest.mark.parametrize("policy", sorted(mcsim.POLICIES))
def test_readers_only_never_wait(policy):
    """No writers: all policies agree, because readers share L (model.md §6)."""
    r = mcsim.simulate(writer_ratio=0.0, policy=policy, trials=50_000, seed=2)
    for metric in ("hp_wait", "fault_lock_wait"):
        assert r[metric].n > 1000 and r[metric].max() == 0
    assert r.counters["inversions"] == 0


def test_511_probes_skip_writers_but_writers_do_not_notice():
    """5.11+ grants every queued reader at once, so a probe queued behind a writer can be
    granted with an earlier probe: probes wait less than in 4.x, writers exactly the same."""
    base = dict(MM1, hp_rate=50.0, lp_rate=700.0)
    old = mcsim.simulate(dict(base, era="4.x"), trials=400_000, seed=8)
    new = mcsim.simulate(dict(base, era="5.11+"), trials=400_000, seed=8)
    assert old["writer_wait"] == new["writer_wait"]
    old_hi = old["hp_wait"].mean_ci(level=0.99)[0]
    assert new["hp_wait"].mean_ci(level=0.99)[1] < old_hi
    assert 0.03 < 1 - new["hp_wait"].mean() / old["hp_wait"].mean() < 0.15


def test_rfc_story_at_defaults():
    """The defaults show the 2018 RFC's point: hold and stock-4.19 see a p99 of several
    milliseconds under throttling, rfc-v2 does not."""
    p99 = {pol: mcsim.simulate(policy=pol, trials=150_000, seed=4)["hp_wait"]
           for pol in ("hold", "stock-4.19", "rfc-v2")}
    assert p99["rfc-v2"].quantile_ci(0.99)[1] < 1e6
    for pol in ("hold", "stock-4.19"):
        assert p99[pol].quantile_ci(0.99)[0] > 5e6
    assert p99["hold"].quantile(0.99) > p99["stock-4.19"].quantile(0.99)
