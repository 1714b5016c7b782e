"""Known answers that come from mathematics or hand derivation, not from either engine
(model.md §6): M/M/1 and M/D/1 writers with zero-length HP probes, readers-only systems, the
Lindley recursion, the io.latency gate as an M/M/c queue (Erlang C), passes per fault from
the fault mix and the policies, inversions counted by hand in scripted episodes, and the
honesty of the reported intervals."""
import math
from collections import Counter

import numpy as np
import pytest
from scipy.special import ndtri

import mcsim
from mcsim import layout as lay
from mcsim.histogram import bucket_index, bucket_upper

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


# ------------------------------------------------------------------ the io.latency gate
def cdf_ci(hist, bucket, level):
    """``P(X <= bucket_upper(bucket))`` with its cluster-robust interval (trials are the
    i.i.d. units; the same ratio estimator as Histogram.quantile_ci, model.md §8)."""
    n, T = hist.n, hist.trials
    C = int(hist.counts[: bucket + 1].sum())
    YY, YN = int(hist.yy[: bucket + 1].sum()), int(hist.yn[: bucket + 1].sum())
    F = C / n
    var_z = (n * n * YY - 2 * C * n * YN + C * C * hist.nn) / (n * n * (T - 1))
    half = float(ndtri(1 - (1 - level) / 2)) * math.sqrt(var_z / T) / (n / T)
    return F, F - half, F + half


def erlang_c(c, a):
    """Erlang C: the probability that an arrival to M/M/c with offered load ``a`` waits."""
    top = a ** c / math.factorial(c) * c / (c - a)
    return top / (sum(a ** k / math.factorial(k) for k in range(c)) + top)


GATE_LEVEL = 0.999          # eight intervals per configuration: each must hold


@pytest.mark.parametrize("throttle_depth, lam", [(7, 600.0), (6, 1400.0)])
def test_gate_with_background_bios_is_erlang_c(throttle_depth, lam):
    """Background bios alone meet the gate as customers of an M/M/c FIFO queue: Poisson
    arrivals, exponential device times, c = lp_depth slots, a freed slot handed to the
    first waiter at once (wake 0).  Their gate wait is the M/M/c waiting time:
    P(W > 0) = C(c, a), P(W > t) = C exp(-(c mu - lambda) t), E[W] = C / (c mu - lambda).
    """
    mu = 1000.0                                         # device exp(1ms)
    c = max(1, 128 >> throttle_depth)
    r = mcsim.simulate(hp_rate=0.0, lp_rate=0.0, bg_io_rate=lam, device="exp(1ms)",
                       throttle_depth=throttle_depth, wake="0", trials=1_000_000, seed=21)
    assert r.config["lp_depth"] == c
    h = r["gate_wait"]
    assert h.n == r.counters["bg_bios"] == r.counters["bios"] > 2_000_000
    C = erlang_c(c, lam / mu)
    decay = (c * mu - lam) / 1e9                        # per ns
    # P(W = 0) is bucket 0 exactly; later points at bucket edges, so no rounding enters.
    for t_ns in (0, 200_000, 1_000_000, 3_000_000, 8_000_000):
        b = int(bucket_index([t_ns])[0])
        edge = int(bucket_upper([b])[0])
        truth = 1 - C * math.exp(-decay * edge)
        F, lo, hi = cdf_ci(h, b, GATE_LEVEL)
        assert lo <= truth <= hi, (t_ns, F, lo, hi, truth)
        assert hi - lo < 0.01                           # the check has power
    lo, hi = h.mean_ci(level=GATE_LEVEL)
    assert lo <= C / decay <= hi
    for p in (0.9, 0.99):                               # W's quantile: C e^{-dt} = 1 - p
        lo, hi = h.quantile_ci(p, level=GATE_LEVEL)
        assert lo <= math.log(C / (1 - p)) / decay <= hi


# ------------------------------------------------------------------ passes per fault
# Which pass-1 steps of each fault kind drop L, per policy, written here from the text of
# docs/model.md §2.4 and §3 (not read from mcsim.policies, so a wrong table row fails):
#   hold          - every step under L; never retries.
#   stock-4.19    - a miss submits under L but drops for its IO wait; a locked page is
#                   waited for unlocked; async readahead and mkwrite stay under L.
#   rfc-v1        - the whole read side drops (miss, async readahead, locked page);
#                   mkwrite under L (its drop never ran).
#   rfc-v2        - every step drops, a fast mkwrite included.
#   upstream-5.1  - as rfc-v1 for the pass count (it differs only in keeping no page).
# A fault has two passes iff pass 1 drops L, i.e. iff one of its steps drops; a hit has
# no step after the lookup.  A locked page is waited for only if its read has not
# completed by the time the fault reaches the step (§7.8): with fault_cpu = 0, no writers
# (so L is granted at once) and a device time > 0, the fault always gets there first.
RETRYING_KINDS = {
    "hold": set(),
    "stock-4.19": {"miss", "locked"},
    "rfc-v1": {"miss", "async_ra", "locked"},
    "rfc-v2": {"miss", "async_ra", "locked", "mkwrite_fast", "mkwrite_slow"},
    "upstream-5.1": {"miss", "async_ra", "locked"},
}
MIX = dict(p_miss=0.2, p_async_ra=0.1, p_locked=0.05, write_fault_ratio=0.3,
           p_mkwrite_slow=0.5)
PASSES = dict(MIX, writer_ratio=0.0, hp_rate=100.0, lp_rate=400.0, bg_io_rate=0.0,
              fault_cpu="0", device="const(1ms)", throttle_depth=0, evict_rate=0.0, wake="0")


def kind_probabilities(p_miss, p_async_ra, p_locked, write_fault_ratio, p_mkwrite_slow):
    """The fault mix of model.md §4.3: a write fault with probability write_fault_ratio
    (slow with p_mkwrite_slow), else a read fault of kind miss/async_ra/locked/hit."""
    read = 1 - write_fault_ratio
    return {"miss": read * p_miss, "async_ra": read * p_async_ra, "locked": read * p_locked,
            "hit": read * (1 - p_miss - p_async_ra - p_locked),
            "mkwrite_fast": write_fault_ratio * (1 - p_mkwrite_slow),
            "mkwrite_slow": write_fault_ratio * p_mkwrite_slow}


@pytest.mark.parametrize("policy", sorted(RETRYING_KINDS))
def test_passes_per_fault_follow_the_mix_and_the_policy(policy):
    """The fraction of 2-pass faults is the mix's probability of a retrying kind
    (stock-4.19: 0.7 * (0.2 + 0.05) = 0.175; rfc-v1 and upstream-5.1: 0.7 * 0.35 = 0.245;
    rfc-v2: 0.245 + 0.3 = 0.545; hold: 0).  A fault's kind is drawn independently of
    everything else, so the 2-pass faults are binomial: a Wilson interval applies."""
    r = mcsim.simulate(PASSES, policy=policy, trials=200_000, seed=5)
    h = r["fault_passes"]
    n, two = h.n, int(h.counts[2])
    assert n == r.counters["faults"] > 100_000 and int(h.counts[1]) + two == n
    truth = sum(p for kind, p in kind_probabilities(**MIX).items()
                if kind in RETRYING_KINDS[policy])
    z = float(ndtri(1 - 0.001 / 2))
    phat = two / n
    centre = (phat + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(phat * (1 - phat) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    # Wilson's bounds are exactly 0 at phat = 0 and 1 at phat = 1 (float rounding aside).
    lo = 0.0 if two == 0 else centre - half
    hi = 1.0 if two == n else centre + half
    assert lo <= truth <= hi, (phat, truth)
    assert h.mean() == pytest.approx(1 + phat)


@pytest.mark.parametrize("policy", sorted(RETRYING_KINDS))
def test_retries_are_exactly_the_retrying_kinds(engine, policy):
    """In this configuration every fault of a retrying kind retries and no other does:
    the retry counter equals the sum of those kinds' counters, on both engines."""
    r = mcsim.simulate(PASSES, policy=policy, trials=300 if engine == "reference" else
                       20_000, seed=6, engine=engine)
    expected = sum(r.counters[f"faults_{kind}"] for kind in RETRYING_KINDS[policy])
    assert r.counters["retries"] == int(r["fault_passes"].counts[2]) == expected
    assert r.counters["faults"] > 50


# ------------------------------------------------------------------ inversion rate
def script_counters(tasks, engine, **params):
    """Run a script on one engine and return its counters (inversions, blame)."""
    from mcsim.engine import compiled_engine
    from mcsim.params import validate
    from mcsim.reference import ReferenceEngine
    from mcsim.scenario import compile_scenario, compile_script

    scenario, rows = compile_scenario(validate(params)), compile_script(tasks)
    if engine == "reference":
        ref = ReferenceEngine(scenario)
        ref.run_script(rows)
        return ref.counters
    return dict(zip(lay.COUNTERS, compiled_engine().run_script(scenario, rows)["counters"]
                    .tolist()))


# When does the fault stop blocking while holding L (ns after it arrives), given that a
# background bio holds the only gate slot for G and the fault's own bio takes D?  From
# docs/model.md §3 and §6's scripted example: under `hold` the fault keeps L through the
# gate wait and its IO (G + D); stock-4.19 submits under L and drops for the IO (G); the
# other policies drop before submitting (never).  A slow mkwrite is under L except in
# rfc-v2.  None = the fault never blocks holding L.
BLOCKED_UNTIL = {
    "miss": {"hold": "G+D", "stock-4.19": "G", "rfc-v1": None, "rfc-v2": None,
             "upstream-5.1": None},
    "mkwrite_slow": {"hold": "G+D", "stock-4.19": "G+D", "rfc-v1": "G+D", "rfc-v2": None,
                     "upstream-5.1": "G+D"},
}


def inversion_episodes(seed, n=150):
    """``n`` isolated episodes, 100 ms apart: at 0 a background bio takes the gate for G;
    at 0 the fault arrives (bio D); the writer comes at w and holds for H; a zero-length
    HP read comes at h.  G, D, H, w and h are drawn uniformly (w, h over 0..G+D+H)."""
    rng = np.random.default_rng(seed)
    out = []
    for k in range(n):
        G, D, H = (int(x) for x in rng.integers(100_000, 3_000_000, 3))
        w, h = (int(x) for x in rng.integers(1, G + D + H, 2))
        while len({w, h, G, G + D}) < 4:                 # no ties to break
            w, h = (int(x) for x in rng.integers(1, G + D + H, 2))
        out.append(dict(base=k * 100_000_000, G=G, D=D, H=H, w=w, h=h))
    return out


@pytest.mark.parametrize("kind", sorted(BLOCKED_UNTIL))
@pytest.mark.parametrize("policy", sorted(mcsim.POLICIES))
def test_inversions_counted_by_hand(engine, kind, policy):
    """An HP read is an inversion iff it queues (behind the queued writer: w < h) while
    the fault still blocks holding L (h < the end of that stretch).  It then waits while
    the holder is blocked, for a positive time, so model.md §5's rule counts it; an HP
    read arriving later waits only for the writer, which never blocks.  Blame goes to the
    step with the larger overlap, ties to the earlier: for a miss under `hold` the HP read
    overlaps G - h of the gate wait (`submit`) and D of the IO (`io`) when h < G."""
    episodes = inversion_episodes(seed=len(policy) * 7 + len(kind))
    tasks, expected, blame = [], 0, Counter()
    for e in episodes:
        b = e["base"]
        events = [(b, {"kind": "bg_io", "bio": e["G"]}),
                  (b, {"kind": "fault", "fault": kind, "bio": e["D"]}),
                  (b + e["w"], {"kind": "writer", "hold": e["H"]}),
                  (b + e["h"], {"kind": "hp_read", "hold": 0})]
        tasks += [dict(task, at=at) for at, task in sorted(events, key=lambda x: x[0])]
        until = BLOCKED_UNTIL[kind][policy]
        end = None if until is None else e["G"] + (e["D"] if until == "G+D" else 0)
        if end is not None and e["w"] < e["h"] < end:
            expected += 1
            if kind == "mkwrite_slow":
                blame["mkwrite"] += 1
            elif policy == "stock-4.19" or e["G"] - e["h"] >= e["D"]:
                blame["submit"] += 1
            else:
                blame["io"] += 1
    c = script_counters(tasks, engine, policy=policy, throttle_depth=7, wake="0")
    assert c["hp_reads"] == len(episodes)
    assert c["inversions"] == expected
    assert {k: c[f"blame_{k}"] for k in blame} == dict(blame)
    assert sum(c[f"blame_{k}"] for k in ("submit", "io", "locked_page", "pass2_read",
                                         "mkwrite")) == expected
    if BLOCKED_UNTIL[kind][policy] is not None:
        assert 5 <= expected <= len(episodes) - 5           # neither trivially 0 nor all


# A random-mode configuration whose inversion rate has a closed form.  Era 4.x, wake 0,
# policy `hold`, every fault a miss with no CPU work, one gate slot, device const(D), no
# background IO; writers and HP reads hold L for zero time.  Then:
#  * every fault holds L from its arrival (or its grant) until its bio completes, blocked
#    at the gate or in IO the whole time;
#  * a writer arriving at w while faults hold L queues, and so do all later faults (4.x);
#    it passes when every fault that arrived before w has completed.  The gate never
#    idles while faults wait behind a writer (they are granted the instant the last
#    holder completes), so the faults' unfinished work V(t) is that of an M/D/1 queue
#    (rate lf, service D), writers or not, and the writer waits exactly V(w);
#  * an HP read waits iff a writer is queued, and then it overlaps blocked holders, so it
#    is an inversion iff it waits.  A writer is queued at h iff one arrived at some
#    w <= h with w + V(w) > h; those w form the interval since the arrival of the fault
#    in service at h (FIFO M/D/1), of length Wq + U: that fault's queueing delay and the
#    elapsed part of its service.  All services last D, so the fault in service at a
#    random busy instant is a typical one (Wq stationary) and U ~ Uniform(0, D),
#    independent.  Writers are Poisson(lw) and independent of the faults, so
#      P(inversion) = rho * (1 - E[exp(-lw Wq)] * (1 - exp(-lw D)) / (lw D)),
#    rho = lf D, with the Pollaczek-Khinchine transform
#      E[exp(-s Wq)] = (1 - rho) s / (s - lf (1 - exp(-s D))).
#  By PASTA the HP reads (Poisson) see the time-stationary probability; writers see V,
#  so their mean wait is the M/D/1 mean lf D^2 / (2 (1 - rho)).
LF, LW, D_S = 500.0, 500.0, 1e-3
INVERSION_MD1 = dict(era="4.x", policy="hold", wake="0", throttle_depth=7,
                     device="const(1ms)", bg_io_rate=0.0, lp_rate=LF + LW,
                     writer_ratio=LW / (LF + LW), writer_hold="0", hp_rate=2000.0,
                     hp_hold="0", p_miss=1.0, p_async_ra=0.0, p_locked=0.0,
                     write_fault_ratio=0.0, fault_cpu="0", minor_cpu="0")


def md1_inversion_probability(lf, lw, d):
    rho = lf * d
    wq_transform = (1 - rho) * lw / (lw - lf * (1 - math.exp(-lw * d)))
    return rho * (1 - wq_transform * (1 - math.exp(-lw * d)) / (lw * d))


def test_inversion_rate_of_writers_behind_an_md1_gate():
    truth = md1_inversion_probability(LF, LW, D_S)          # 0.17564
    r = mcsim.simulate(INVERSION_MD1, trials=1_000_000, seed=3)
    h = r["hp_wait"]
    waited = h.n - int(h.counts[0])
    assert r.counters["inversions"] == waited > 100_000   # inversion iff the read waits
    F, lo, hi = cdf_ci(h, 0, level=0.999)                 # P(wait = 0), cluster-robust
    assert r.inversion_fraction == pytest.approx(1 - F)
    assert 1 - hi <= truth <= 1 - lo, (1 - F, 1 - hi, 1 - lo, truth)
    assert hi - lo < 0.01
    lo, hi = r["writer_wait"].mean_ci(level=0.999)
    assert lo <= LF * D_S ** 2 / (2 * (1 - LF * D_S)) * 1e9 <= hi
