"""The compiled core against its pure-Python twin on fixed stress sets, drawn once from
seeded generators (tests/test_differential.py has the Hypothesis strategies): millisecond
devices, long writer holds, wake-ups of tens of microseconds, short handoff timeouts (and
handoffs timed in jiffies), eviction and re-validation, every rwsem era, bursts that queue
more tasks than the initial buffers hold, overloads, VMA-lock fallbacks, writers waiting
for the VMA's readers, three-pass faults, dirty throttling and HP fallbacks; and, on 1–3
CPUs (model.md §14), tasks waiting in the run queue, readers holding L there, random
context switches and random wake-up jitter on the idle path.  A comparison only means
something on a path it reaches, so each stress set also asserts, by counters and
histograms, that across its configurations every one of those paths was taken.
"""
from collections import Counter

import numpy as np
import pytest

import mcsim
from mcsim import layout as lay
from mcsim.engine import compiled_engine
from mcsim.kernels import KERNEL_LIST
from mcsim.params import validate
from mcsim.scenario import compile_scenario

from differential import (BUILDS_RUN, CPU_SWITCHES, INITIAL_FIFO, INITIAL_HEAP,
                          INITIAL_TASKS, JITTERS, assert_same_run)


# ------------------------------------------------------------------ the stress set
STRESS_SEED = 20_261_201
STRESS_CONFIGS = 20
STRESS_TRIALS = {"lock-burst": 10, "gate-burst": 10, "contended": 80, "overloaded": 20}
FLAVOURS = ("lock-burst", "gate-burst", "contended", "overloaded")


def mean_ns(dist):
    """Mean of a distribution written as in the parameter table, in ns (for load sums)."""
    d = validate(device=dist)["device"]
    a, b = float(d.a), float(d.b)
    return {"const": a, "exp": a}.get(d.kind, a * np.exp(b * b / 2))


def loads(p):
    """Rough offered loads: the writers' share of L, and LP bios per gate slot."""
    lp_depth = max(1, 128 >> p["throttle_depth"])
    faults = p["lp_rate"] * (1 - p["writer_ratio"])
    io_faults = faults * ((1 - p["write_fault_ratio"]) * (p["p_miss"] + p["p_async_ra"]
                                                           + p["p_locked"])
                          + p["write_fault_ratio"] * p["p_mkwrite_slow"])
    gate = (p["bg_io_rate"] + io_faults) * mean_ns(p["device"]) * 1e-9 / lp_depth
    writers = p["lp_rate"] * p["writer_ratio"] * mean_ns(p["writer_hold"]) * 1e-9
    return writers, gate


def stress_config(rng, flavour, era, policy):
    """One stress configuration of the given flavour (see :func:`stress_configs`)."""
    pick = lambda options: options[int(rng.integers(len(options)))]   # noqa: E731
    p = {
        "max_trial_events": 1_500, "era": era, "policy": policy,
        "throttle_depth": pick([7, 7, 6, 3, 0]),
        "wake": pick(["20us", "50us", "200us"]),
        "hp_rate": pick([200.0, 1000.0, 3000.0]),
        "hp_hold": pick(["exp(20us)", "const(5us)", "lognormal(50us, 1.0)"]),
        "lp_rate": pick([300.0, 1000.0, 3000.0]),
        "writer_ratio": pick([0.05, 0.2, 0.5]),
        "writer_hold": pick(["exp(2ms)", "lognormal(1ms, 1.0)", "exp(500us)", "const(1ms)"]),
        "write_fault_ratio": pick([0.1, 0.4]),
        "p_miss": pick([0.1, 0.3]), "p_async_ra": pick([0.05, 0.2]),
        "p_locked": pick([0.05, 0.2]),
        "p_mkwrite_slow": pick([0.3, 0.8]),
        "fault_cpu": pick(["2us", "exp(20us)"]),
        "minor_cpu": pick(["2us", "exp(20us)"]),
        "mkwrite_fast": pick(["lognormal(20us, 0.5)", "exp(100us)"]),
        "device": pick(["exp(1ms)", "lognormal(2ms, 0.8)", "const(1ms)", "hdd",
                        "exp(300us)"]),
        "bg_io_rate": pick([0.0, 30.0, 100.0]),
        "evict_rate": pick([300.0, 3000.0]),
        "revalidate_fail": pick([0.3, 0.8]),
        "handoff_timeout": pick(["50us", "200us", "1ms"]),
        "max_readers_wakeup": pick([1, 4, 256]),
    }
    if flavour == "lock-burst":
        # HP readers (load 5) keep the system busy for ~15 ms at a time; a 5 ms writer
        # arriving in that stretch queues ~100 of them, then all are granted together.
        p.update(hp_rate=20_000.0, hp_hold="exp(250us)", lp_rate=100.0, writer_ratio=1.0,
                 writer_hold="const(5ms)", throttle_depth=0, bg_io_rate=0.0,
                 max_readers_wakeup=256, max_trial_events=20_000)
    elif flavour == "gate-burst":
        # As above, and faults at 10,000/s: ~100 of them queue behind a 10 ms writer and,
        # granted together, submit their bios at once to one gate slot that drains them
        # in microseconds.
        p.update(hp_rate=5_000.0, hp_hold="exp(1ms)", lp_rate=10_000.0,
                 writer_ratio=0.002, writer_hold="const(10ms)", throttle_depth=7,
                 device="exp(15us)", bg_io_rate=0.0, p_miss=0.3, p_async_ra=0.2,
                 p_locked=0.2, write_fault_ratio=0.1, p_mkwrite_slow=0.8,
                 fault_cpu="2us", minor_cpu="2us", mkwrite_fast="lognormal(20us, 0.5)",
                 evict_rate=30.0, max_readers_wakeup=256, max_trial_events=12_000)
    elif flavour == "overloaded":
        # Background bios alone offer three times the one slot's capacity.
        p.update(bg_io_rate=3000.0, device="exp(1ms)", throttle_depth=7, lp_rate=300.0)
    return p


def stress_configs(n=STRESS_CONFIGS, seed=STRESS_SEED):
    """``n`` stress configurations, drawn once from a seeded generator: the list is the
    same on every run, so the coverage assertion below is deterministic.

    Flavours, era and policy cycle so that each flavour meets both eras and every policy.
    ``lock-burst``: HP reads at 20,000/s against writers holding ``L`` for 5 ms (a deep
    lock queue, many live tasks, a heap full of wake-ups when they are granted).
    ``gate-burst``: faults at 10,000/s behind 10 ms writers, released into one gate slot
    (a deep gate queue).  ``contended``: millisecond devices and writer holds, redrawn
    until the larger offered load is between 0.2 and 0.6, so the trials end.
    ``overloaded``: the gate offered three times its capacity; both engines must stop
    with the same error.
    """
    rng = np.random.default_rng(seed)
    policies = sorted(mcsim.POLICIES)
    out = []
    for i in range(n):
        flavour = FLAVOURS[i % 4]
        era = ("4.x", "5.11+")[(i // 4) % 2]
        policy = policies[i % len(policies)]
        p = stress_config(rng, flavour, era, policy)
        while flavour == "contended" and not 0.2 < max(loads(p)) < 0.6:
            p = stress_config(rng, flavour, era, policy)
        out.append((flavour, p))
    return out


@pytest.fixture(scope="module")
def stress_runs():
    """Every stress configuration run on both engines (asserting agreement as it goes)."""
    return [assert_same_run(params, seed=k, trials=STRESS_TRIALS[flavour])
            for k, (flavour, params) in enumerate(stress_configs())]


def test_stress_configurations_agree(stress_runs):
    """Each flavour ran (the fixture compares every run as it goes)."""
    assert len(stress_runs) == STRESS_CONFIGS
    overloaded = [ov for (flavour, _), (_, _, ov, _) in zip(stress_configs(), stress_runs)
                  if flavour == "overloaded"]
    assert overloaded and all(overloaded)


def test_stress_reaches_every_hard_path(stress_runs):
    """Across the stress runs that completed (so that trials, histograms and counters
    were all compared), each path the comparison is meant to cover was taken, and the
    core's buffers had to grow past their initial capacities."""
    totals, peaks = Counter(), Counter()
    for counters, run_peaks, overloaded, _ in stress_runs:
        if overloaded:
            continue
        totals.update({k: counters[k] for k in ("handoffs", "reader_steals",
                                                "writer_steals", "evictions",
                                                "revalidate_fails", "retries",
                                                "inversions")})
        peaks["pending"] = max(peaks["pending"], counters["max_pending_events"])
        for name, value in run_peaks.items():
            peaks[name] = max(peaks[name], value)
    for name, total in totals.items():
        assert total > 0, f"no {name} in the completed stress runs: {dict(totals)}"
    # max_pending_events counts the heap plus the one arrival slot beside it.
    assert peaks["pending"] - 1 > INITIAL_HEAP, dict(peaks)
    assert peaks["tasks"] > INITIAL_TASKS, dict(peaks)
    assert peaks["gate_queue"] > INITIAL_FIFO, dict(peaks)
    assert peaks["lock_queue"] > INITIAL_FIFO, dict(peaks)


# ------------------------------------------------------------------ the preset stress set
KERNEL_STRESS_SEED = 20_261_202
KERNEL_STRESS_TRIALS = 200
HANDOFF_TRIALS = 20
#: Counters that the completed preset stress runs must all make positive (model.md §11).
KERNEL_PATHS = ("fallbacks", "tried_passes", "retry_misses", "vma_writer_waits",
                "hp_fallbacks", "dirty_throttles", "reader_steals", "blame_vma_start_write",
                "blame_writeback", "blame_dirty_throttle", "blame_pass2_read")


def kernel_stress_config(rng, kernel):
    """One contended configuration on a preset, every §11 probability well above 0:
    writers on the faulting VMA, misses and evictions on retry passes (so a fault on a
    VMA-locked kernel can take three passes), writeback waits, dirty throttling, HP
    fallbacks, and millisecond devices and writer holds."""
    pick = lambda options: options[int(rng.integers(len(options)))]   # noqa: E731
    return {
        "kernel": kernel, "max_trial_events": 4_000,
        "hz": pick([100, 250, 1000]),
        "throttle_depth": pick([7, 6, 3]),
        "wake": pick(["20us", "50us"]),
        "hp_rate": pick([1000.0, 3000.0]),
        "hp_hold": pick(["exp(20us)", "lognormal(50us, 1.0)"]),
        "lp_rate": pick([1000.0, 2000.0]),
        "writer_ratio": pick([0.1, 0.2]),
        "writer_hold": pick(["exp(500us)", "exp(2ms)", "const(1ms)"]),
        "write_fault_ratio": pick([0.3, 0.5]),
        "p_miss": pick([0.1, 0.2]), "p_async_ra": pick([0.1, 0.2]),
        "p_locked": pick([0.1, 0.2]),
        "p_mkwrite_slow": pick([0.2, 0.3]), "p_mkwrite_writeback": pick([0.2, 0.3]),
        "fault_cpu": pick(["2us", "exp(20us)"]),
        "minor_cpu": pick(["2us", "exp(20us)"]),
        "mkwrite_fast": "exp(50us)",
        "device": pick(["exp(300us)", "exp(1ms)"]),
        "bg_io_rate": pick([0.0, 30.0]),
        "evict_rate": pick([300.0, 3000.0]),
        "revalidate_fail": pick([0.3, 0.8]),
        "p_same_vma": pick([0.5, 1.0]),
        "p_retry_miss": pick([0.2, 0.5]),
        "p_dirty_throttle": pick([0.3, 0.6]),
        "dirty_throttle": pick(["exp(200us)", "exp(1ms)"]),
        "p_hp_fallback": pick([0.2, 0.5]),
        "max_readers_wakeup": pick([4, 256]),
    }


def handoff_config(kernel, hz):
    """Writers holding L for 5 ms at 60/s (load 0.3) queue behind one another for more
    than RWSEM_WAIT_TIMEOUT; HP reads at 10,000/s steal L (5.11+) in the 200 us before a
    woken head writer runs, which then finds L taken and sets the handoff bit, timed in
    jiffies (model.md §11.6)."""
    return {"kernel": kernel, "hz": hz, "hp_rate": 10_000.0, "hp_hold": "exp(200us)",
            "lp_rate": 60.0, "writer_ratio": 1.0, "writer_hold": "const(5ms)",
            "throttle_depth": 0, "bg_io_rate": 0.0, "wake": "200us",
            "max_trial_events": 20_000}


def kernel_stress_configs(seed=KERNEL_STRESS_SEED):
    """``(params, trials)`` for every preset, drawn once from a seeded generator (the list
    is the same on every run, so the coverage assertion below is deterministic), then
    two handoff configurations (5.11+ rwsem era) at two HZ values."""
    rng = np.random.default_rng(seed)
    out = [(kernel_stress_config(rng, k.name), KERNEL_STRESS_TRIALS) for k in KERNEL_LIST]
    out += [(handoff_config("5.11", 250), HANDOFF_TRIALS),
            (handoff_config("6.18", 1000), HANDOFF_TRIALS)]
    return out


@pytest.fixture(scope="module")
def kernel_stress_runs():
    """Every preset stress configuration run on both engines (asserting agreement)."""
    return [(params, assert_same_run(params, seed=k, trials=trials))
            for k, (params, trials) in enumerate(kernel_stress_configs())]


def test_kernel_stress_reaches_every_new_path(kernel_stress_runs):
    """Across the completed preset stress runs (trials, histograms and counters all
    compared), every path of model.md §11 was taken: VMA fallbacks, TRIED passes, misses
    and evictions on retry passes, writers waiting in vma_start_write(), HP fallbacks,
    dirty throttling, handoffs timed in jiffies, reader steals, the new blame kinds and
    pass2_read, a fault of three passes (VMA pass, non-TRIED retry that re-reads and
    drops, TRIED pass), and the V-lock metrics."""
    totals, metric_n = Counter(), Counter()
    passes_max = 0
    for params, (counters, _, overloaded, hists) in kernel_stress_runs:
        if overloaded:
            continue
        totals.update({k: counters[k] for k in KERNEL_PATHS})
        # evictions counts every re-read; those beyond retry_misses are the eviction
        # hazard of §2.4 met by a retry pass
        totals["evictions_not_retry_miss"] += counters["evictions"] - counters["retry_misses"]
        if validate(params)["hz"] > 0:
            totals["handoffs_hz"] += counters["handoffs"]
        for m in ("hold_vma", "vma_writer_wait"):
            metric_n[m] += hists[m].n
        passes_max = max(passes_max, hists["fault_passes"].vmax)
    for name in (*KERNEL_PATHS, "evictions_not_retry_miss", "handoffs_hz"):
        assert totals[name] > 0, f"no {name} in the completed preset runs: {dict(totals)}"
    for name, n in metric_n.items():
        assert n > 0, f"no {name} samples in the completed preset runs"
    assert passes_max == 3, passes_max
    assert sum(not ov for _, (_, _, ov, _) in kernel_stress_runs) >= len(KERNEL_LIST)


# ------------------------------------------------------------------ the CPU stress set
CPU_STRESS_SEED = 20_261_203


def cpu_stress_configs(seed=CPU_STRESS_SEED):
    """``(params, trials)`` on 1–3 CPUs (model.md §14), drawn once from a seeded generator:
    contended 2018 models and kernel presets whose wake-ups, arrivals and CPU stretches
    often find every CPU taken, with every kind of ``cpu_switch`` and random wake-up jitter
    on some, and a lock burst on 2 CPUs, where readers granted ``L`` together wait in the
    run queue holding it (the small machine's inversion, §14.3), more of them than the
    core's run queue first holds."""
    rng = np.random.default_rng(seed)
    policies = sorted(mcsim.POLICIES)
    out = []
    for i in range(3):
        p = stress_config(rng, "contended", ("4.x", "5.11+")[i % 2], policies[i])
        while not 0.2 < max(loads(p)) < 0.6:
            p = stress_config(rng, "contended", ("4.x", "5.11+")[i % 2], policies[i])
        out.append((p, 300))
    out += [(kernel_stress_config(rng, k), 300) for k in ("6.18", "6.18+vma-retry", "4.19")]
    # HP reads at 5,000/s queue behind 20 ms writers (20/s) and, granted together, wait
    # for the 2 CPUs holding L: the run queue outgrows its initial buffer.  Most trials
    # are a lone read; one in a few hundred holds a burst of ~100 reads.
    out.append(({"era": "5.11+", "policy": "hold", "hp_rate": 5000.0, "hp_hold": "exp(50us)",
                 "lp_rate": 20.0, "writer_ratio": 1.0, "writer_hold": "const(20ms)",
                 "throttle_depth": 0, "bg_io_rate": 0.0, "wake": "20us",
                 "max_readers_wakeup": 256, "max_trial_events": 20_000}, 1000))
    for i, (p, _) in enumerate(out):
        p.update(cpus=(1, 2, 3, 2, 1, 3, 2)[i], cpu_switch=CPU_SWITCHES[i % 3],
                 wake_jitter=JITTERS[(i + 1) % 3])
    return out


@pytest.fixture(scope="module")
def cpu_stress_runs():
    """Every CPU stress configuration run on both engines (asserting agreement)."""
    return [(params, assert_same_run(params, seed=k, trials=trials))
            for k, (params, trials) in enumerate(cpu_stress_configs())]


def test_cpu_stress_reaches_the_run_queue(cpu_stress_runs):
    """Across the completed CPU stress runs (trials, histograms and counters all compared),
    tasks waited in the run queue (``cpu_queued``, ``cpu_queue_ns``) under a const, an exp
    and an empirical ``cpu_switch``; runs with a random ``wake_jitter`` drew it (the idle
    path of §14.2) while others queued; a reader granted ``L`` waited in the run queue
    holding it, more contexts than the core's run queue first holds waited at once; and
    the 2018 rows and a preset ran on one CPU."""
    done = [(p, c, pk) for p, (c, pk, ov, _) in cpu_stress_runs if not ov]
    assert len(done) >= len(cpu_stress_runs) - 1
    switches = {p["cpu_switch"] for p, c, _ in done if c["cpu_queued"] > 0}
    assert switches == set(CPU_SWITCHES), switches
    assert all(c["cpu_queue_ns"] > 0 for p, c, _ in done if c["cpu_queued"] > 0)
    assert any(pk["jitter_draws"] > 0 and c["cpu_queued"] > 0 for _, c, pk in done)
    assert max(pk["queued_holding_l"] for _, _, pk in done) > 0
    assert max(pk["run_queue"] for _, _, pk in done) > INITIAL_FIFO
    ones = {p.get("kernel", "none") for p, c, _ in done if p["cpus"] == 1 and c["cpu_queued"]}
    assert "none" in ones and len(ones) == 2, ones


@pytest.fixture(scope="module")
def affinity_stress_runs():
    """The CPU stress configurations again with per-CPU run queues (§14.7), at
    cpu_affinity 1 (no draw) and 0.6 (a draw at each choice), on both engines."""
    return [(params, affinity, assert_same_run({**params, "cpu_affinity": affinity},
                                               seed=k, trials=min(trials, 300)))
            for k, (params, trials) in enumerate(cpu_stress_configs())
            for affinity in (1.0, 0.6)]


def test_affinity_stress_reaches_the_per_cpu_paths(affinity_stress_runs):
    """Across the completed runs (trials, histograms and counters compared), at each
    affinity: contexts stayed in a busy target's queue with another CPU idle
    (``cpu_affine_queued``), idle CPUs pulled (``cpu_pulled``), and the fractional
    affinity took both branches (it queued affinely less often than affinity 1 did on
    the same configurations); on 1 CPU neither can happen."""
    done = [(p, a, c) for p, a, (c, _, ov, _) in affinity_stress_runs if not ov]
    assert len(done) >= len(affinity_stress_runs) - 2
    for affinity in (1.0, 0.6):
        runs = [(p, c) for p, a, c in done if a == affinity]
        assert sum(c["cpu_affine_queued"] for _, c in runs) > 0, affinity
        assert sum(c["cpu_pulled"] for _, c in runs) > 0, affinity
        assert all(c["cpu_affine_queued"] == c["cpu_pulled"] == 0
                   for p, c in runs if p["cpus"] == 1)
    share = {a: sum(c["cpu_affine_queued"] for _, b, c in done if b == a)
             / sum(c["cpu_queued"] for _, b, c in done if b == a) for a in (1.0, 0.6)}
    assert share[0.6] < share[1.0], share


def test_cpus_beyond_the_live_tasks_change_nothing():
    """With more CPUs than tasks ever alive, every task that becomes runnable finds an idle
    CPU: the idle path's latency is ``wake + j`` for a wake-up and none at a timer, with the
    one jitter draw of §13.2 (§14.2), and nothing queues, so no ``cpu_switch`` is drawn
    (§14.5).  Each engine must then give exactly its results without CPUs."""
    params = dict(kernel="6.18", wake="20us", wake_jitter="exp(5us)", hp_rate=3000.0,
                  lp_rate=2000.0, writer_ratio=0.1, writer_hold="exp(2ms)",
                  device="exp(300us)", p_same_vma=0.5, cpu_switch="exp(3us)")
    without, peaks, _, hists = assert_same_run({**params, "cpus": 0}, seed=4, trials=300)
    assert 20 < peaks["tasks"] < 1024 and peaks["jitter_draws"] > 0
    with_cpus, _, _, same = assert_same_run({**params, "cpus": 1024}, seed=4, trials=300)
    assert with_cpus == without and with_cpus["cpu_queued"] == 0
    assert all(same[m] == hists[m] for m in lay.METRICS)


def test_stress_sets_run_both_builds(stress_runs, kernel_stress_runs, cpu_stress_runs):
    """The stress sets ran blocks on both builds of the core: the plain family's (each of
    those also on the general build, compared byte for byte) and the general one."""
    core = compiled_engine()
    plain = [p for _, p in stress_configs()] + [p for p, _ in kernel_stress_configs()]
    fits = [core.plain_family(compile_scenario(validate(p))) for p in plain]
    assert any(fits) and not all(fits), fits
    assert BUILDS_RUN["plain"] >= sum(fits) and BUILDS_RUN["general"] >= len(fits)
