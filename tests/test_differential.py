"""The compiled core against its pure-Python twin: the same seed must give the same trials,
histograms and counters, bit for bit.

Two families of configurations are compared, each on the 2018 model (``policy``/``era``)
and on the kernel presets of model.md §11 with its new parameters.  Hypothesis draws broad
random models (every parameter, short devices).  Fixed stress sets, drawn once from seeded
generators, push the engines onto their hard paths: millisecond devices, long writer
holds, wake-ups of tens of microseconds, short handoff timeouts (and handoffs timed in
jiffies), eviction and re-validation, every rwsem era, bursts that queue more tasks than
the initial buffers hold, overloads, VMA-lock fallbacks, writers waiting for the VMA's
readers, three-pass faults, dirty throttling and HP fallbacks; and, on 1–3 CPUs (model.md
§14), tasks waiting in the run queue, readers holding L there, random context switches and
random wake-up jitter on the idle path.  A comparison only means something on a path it
reaches, so each stress set also asserts, by counters and histograms, that across its
configurations every one of those paths was taken.
"""
from collections import Counter

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mcsim
from mcsim import layout as lay
from mcsim._build import load_extension
from mcsim.engine import BlockOutput, block_bitgen, compiled_engine
from mcsim.kernels import KERNEL_LIST, KERNELS
from mcsim.params import validate
from mcsim.reference import ReferenceEngine
from mcsim.scenario import TK_FAULT, TK_HP, compile_scenario

durations = st.sampled_from(["0", "1us", "exp(20us)", "lognormal(50us, 1.0)", "const(3us)"])
devices = st.sampled_from(["ssd", "exp(200us)", "lognormal(500us, 0.8)", "const(150us)"])
#: CPUs (model.md §14): 0, every task on a CPU of its own (the model of §1–§13), most often.
CPUS = [0, 0, 0, 1, 2, 3]
#: The context switch onto a freed CPU (§14.3) and the wake-up jitter (§13.2, drawn on the
#: idle path of §14.2): const (no draw), exp and empirical.  No two of them are equal, so a
#: draw from one is never mistaken for a draw from the other.
CPU_SWITCHES = ["2us", "exp(3us)", "empirical(0, 1us, 4us, 30us)"]
JITTERS = ["0", "exp(5us)", "empirical(1us, 3us, 8us, 60us)"]
#: A server context's CPU work per issued bio (§14.6): none most often, const, exp, empirical.
IO_CPUS = ["0", "0", "20us", "exp(30us)", "empirical(5us, 20us, 90us)"]
#: Per-CPU run queues (§14.7): 0 (one run queue) most often, 1 (no draw), fractional.
AFFINITIES = [0.0, 0.0, 1.0, 0.5, 0.98]

# Initial capacities of the compiled core's growable buffers (sim_init in
# kernels_pyx/engine_api.pxi): the event heap, the task table and the two FIFOs (io.latency
# gate, L's wait queue).  Each doubles when full; the stress set must make all of them grow.
INITIAL_HEAP = 64
INITIAL_TASKS = 64
INITIAL_FIFO = 64


#: Blocks the differential tests ran on each build of the core (compiled_block), by
#: mcsim._engine's FAMILY: "plain" (mcsim._engine_plain) or "general".
BUILDS_RUN = Counter()


def _builds():
    return {core.FAMILY: core.blocks_run()
            for core in (compiled_engine(), load_extension("_engine_plain"))}


def compiled_block(scenario, seed, trials, counters=None, plain=True):
    """Run one block of ``trials`` on the compiled core; return its output and trial rows.

    ``counters`` (optional) is filled in place, so a caller still sees the counters when
    the block ends in an error.  This is the one place the differential tests call the
    core: it checks the engine's invariants after every event (as the reference does).
    A scenario of the plain family runs on mcsim._engine_plain, or with ``plain=False``
    on the general build; either way the build that ran is checked and counted.
    """
    core = compiled_engine()
    out = BlockOutput.zeros()
    if counters is not None:
        out.counters = counters
    rows = np.zeros((trials, len(lay.TRIAL_FIELDS)), dtype=np.int64)
    before, was = _builds(), core.use_plain_build(plain)
    try:
        core.run_block(scenario, block_bitgen(seed, 0), trials, out.hist_arrays,
                       out.hist_scalars, out.hist_floats, out.counters, rows,
                       check_invariants=True)
    finally:
        core.use_plain_build(was)
        ran = [f for f, n in _builds().items() if n > before[f]]
        expected = "plain" if plain and core.plain_family(scenario) else "general"
        assert ran == [expected], (ran, expected)
        BUILDS_RUN[expected] += 1
    return out, rows


def assert_general_build_agrees(scenario, seed, trials, out, rows, counters):
    """A plain-family scenario (run on mcsim._engine_plain) also on the general build:
    the same bytes, or the same error after the same counters."""
    if not compiled_engine().plain_family(scenario):
        return
    again = np.zeros(len(lay.COUNTERS), dtype=np.int64)
    if out is None:
        with pytest.raises(mcsim.SimulationError, match="overloaded"):
            compiled_block(scenario, seed, trials, again, plain=False)
        np.testing.assert_array_equal(again, counters)
        return
    out2, rows2 = compiled_block(scenario, seed, trials, again, plain=False)
    np.testing.assert_array_equal(rows2, rows)
    for a, b in zip((out.hist_arrays, out.hist_scalars, out.hist_floats, out.counters),
                    (out2.hist_arrays, out2.hist_scalars, out2.hist_floats, out2.counters)):
        np.testing.assert_array_equal(a, b)


class PeakReference(ReferenceEngine):
    """The reference engine, also recording the peak number of live tasks and the peak
    lengths of the gate, lock and run queues (what the core's task table and FIFOs must
    hold), how many random wake-up jitters it drew (§13.2, §14.2) and the most readers of
    L waiting at once in the run queue (a reader granted L with no idle CPU, §14.3).
    ``_check`` runs after every event when ``check_invariants`` is on."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.peaks = Counter()

    def _check(self):
        super()._check()
        for name, value in (("tasks", self.alive), ("gate_queue", len(self.gate_queue)),
                            ("lock_queue", len(self.queue)),
                            ("run_queue", len(self.run_queue)),
                            ("queued_holding_l", queued_readers_holding_l(self))):
            self.peaks[name] = max(self.peaks[name], value)

    def _wake_delay(self):
        self.peaks["jitter_draws"] += int(self.wake_jitter["kind"]) != 0
        return super()._wake_delay()


def queued_readers_holding_l(engine):
    """How many tasks in the reference's run queue (model.md §14.2) hold an L for read:
    HP readers and fault passes granted L while no CPU was idle (§14.3)."""
    return sum(ctx.holding and ctx.kind in (TK_HP, TK_FAULT) for ctx, _ in engine.run_queue)


def assert_same_run(params, seed, trials):
    """Run both engines on one configuration and assert they agree bit for bit.

    Returns ``(counters, peaks, overloaded, histograms)`` (histograms by metric name, None
    when overloaded).  An overloaded configuration must end in the
    same SimulationError on both engines, after the same completed trials and with the same
    counters up to the failing event.
    """
    scenario = compile_scenario(validate(params))
    ref = PeakReference(scenario, block_bitgen(seed, 0), record_trials=True,
                        check_invariants=True)
    counters = np.zeros(len(lay.COUNTERS), dtype=np.int64)
    try:
        ref.run_trials(trials)
    except mcsim.SimulationError:
        with pytest.raises(mcsim.SimulationError, match="overloaded"):
            compiled_block(scenario, seed, trials, counters)
        assert dict(zip(lay.COUNTERS, counters.tolist())) == ref.counters
        assert_general_build_agrees(scenario, seed, trials, None, None, counters)
        return ref.counters, ref.peaks, True, None
    out, rows = compiled_block(scenario, seed, trials, counters)
    assert_general_build_agrees(scenario, seed, trials, out, rows, counters)
    np.testing.assert_array_equal(np.array(ref.trial_rows), rows)
    assert out.counter_dict() == ref.counters
    hists = out.histograms()
    for m, hist in enumerate(ref.hists):
        assert hist == hists[lay.METRICS[m]], lay.METRICS[m]
    assert_liveness(validate(params), hists, ref.counters)
    return ref.counters, ref.peaks, False, hists


def assert_liveness(cfg, hists, counters):
    """Every request for L ended in exactly one recorded wait (model.md §11.3, §11.5).

    Writers record ``writer_wait`` and fault passes ``fault_lock_wait`` (waits for L only,
    fallbacks included).  An HP read makes ``hp_acquisitions`` requests, each recording
    ``hp_acq_wait``: all of them are for L when ``hp_lock`` is mmap; when it is vma only the
    fallbacks (counter ``hp_fallbacks``) are, the others hold the VMA lock at once.
    """
    kernel = KERNELS.get(cfg["kernel"])
    if kernel is not None and kernel.hp_lock == "vma":
        hp_on_l = counters["hp_fallbacks"]
        assert hp_on_l <= hists["hp_acq_wait"].n
    else:
        hp_on_l = hists["hp_acq_wait"].n
    waits = hp_on_l + hists["writer_wait"].n + hists["fault_lock_wait"].n
    assert waits == counters["lock_acquisitions"], (hp_on_l, hists["writer_wait"].n,
                                                    hists["fault_lock_wait"].n)


# ------------------------------------------------------------------ broad random models
@st.composite
def configs(draw):
    """Random models.  Some are overloaded at one LP slot; a small ``max_trial_events``
    turns those into a SimulationError that both engines must raise alike."""
    return {
        "max_trial_events": 20_000,
        "era": draw(st.sampled_from(["4.x", "5.11+"])),
        "policy": draw(st.sampled_from(sorted(mcsim.POLICIES))),
        "throttle_depth": draw(st.integers(0, 7)),
        "wake": draw(st.sampled_from(["0", "1us", "20us"])),
        "hp_rate": draw(st.sampled_from([0.0, 50.0, 500.0])),
        "hp_hold": draw(durations),
        "lp_rate": draw(st.sampled_from([100.0, 400.0, 1500.0])),
        "writer_ratio": draw(st.sampled_from([0.0, 0.1, 0.5])),
        "writer_hold": draw(durations),
        "write_fault_ratio": draw(st.sampled_from([0.0, 0.2, 0.6])),
        "p_miss": draw(st.sampled_from([0.0, 0.1, 0.3])),
        "p_async_ra": draw(st.sampled_from([0.0, 0.1])),
        "p_locked": draw(st.sampled_from([0.0, 0.1])),
        "p_mkwrite_slow": draw(st.sampled_from([0.0, 0.5, 1.0])),
        "fault_cpu": draw(durations),
        "minor_cpu": draw(durations),
        "mkwrite_fast": draw(durations),
        "device": draw(devices),
        "bg_io_rate": draw(st.sampled_from([0.0, 100.0, 400.0])),
        "evict_rate": draw(st.sampled_from([0.0, 10.0, 1000.0])),
        "revalidate_fail": draw(st.sampled_from([0.0, 0.3])),
        "handoff_timeout": draw(st.sampled_from(["4ms", "100us"])),
        "max_readers_wakeup": draw(st.sampled_from([1, 256])),
        "wake_jitter": draw(st.sampled_from(JITTERS)),
        "cpus": draw(st.sampled_from(CPUS)),
        "cpu_switch": draw(st.sampled_from(CPU_SWITCHES)),
        "io_cpu": draw(st.sampled_from(IO_CPUS)),
        "cpu_affinity": draw(st.sampled_from(AFFINITIES)),
    }


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(params=configs(), seed=st.integers(0, 2**32))
def test_compiled_equals_reference_trial_for_trial(params, seed):
    assert_same_run(params, seed, trials=100)


# ------------------------------------------------------------------ kernel presets
@st.composite
def kernel_configs(draw):
    """Random models on a kernel preset (which sets policy and era, so neither is given)
    or on the 2018 row (``none``: policy and era drawn), with the parameters of model.md
    §11: HZ (0 = continuous handoff timeout), same-VMA writers, writeback waits in
    ->page_mkwrite, misses on retry passes, dirty throttling and HP fallbacks.  A small
    ``max_trial_events`` ends overloads quickly, with the same error on both engines."""
    p = draw(configs())
    kernel = draw(st.sampled_from(["none", *(k.name for k in KERNEL_LIST)]))
    if kernel != "none":
        del p["era"], p["policy"]
    p.update({
        "max_trial_events": 5_000,
        "kernel": kernel,
        "hz": draw(st.sampled_from([0, 100, 250, 1000])),
        "p_same_vma": draw(st.sampled_from([0.0, 0.5, 1.0])),
        "p_retry_miss": draw(st.sampled_from([0.0, 0.3, 1.0])),
        "p_dirty_throttle": draw(st.sampled_from([0.0, 0.3, 1.0])),
        "dirty_throttle": draw(st.sampled_from(["0", "exp(50us)", "exp(1ms)"])),
        "p_hp_fallback": draw(st.sampled_from([0.0, 0.3, 1.0])),
    })
    slow = p["p_mkwrite_slow"]
    p["p_mkwrite_writeback"] = draw(st.sampled_from([0.0, (1 - slow) / 2, 1 - slow]))
    return p


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(params=kernel_configs(), seed=st.integers(0, 2**32))
def test_kernel_presets_compiled_equals_reference(params, seed):
    assert_same_run(params, seed, trials=60)


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


# ------------------------------------------------------------------ fixed cases
def test_invariants_hold_under_load():
    """Every request is eventually granted: each lock acquisition ends in exactly one
    recorded wait, in both eras, with wake latency and 5.11+ handoff in play."""
    for era in ("4.x", "5.11+"):
        params = dict(era=era, wake="30us", writer_ratio=0.4, lp_rate=3000, hp_rate=1000,
                      policy="hold", hp_hold="exp(300us)",
                      device="ssd", bg_io_rate=3000, handoff_timeout="200us")
        ref = ReferenceEngine(compile_scenario(validate(params)), block_bitgen(5, 0),
                              check_invariants=True).run_trials(800)
        waits = sum(ref.hists[m].n for m in (lay.M_HP_WAIT, lay.M_WRITER_WAIT,
                                             lay.M_FAULT_LOCK_WAIT))
        assert waits == ref.counters["lock_acquisitions"] > 500
        if era == "5.11+":
            assert ref.counters["handoffs"] > 0 and ref.counters["reader_steals"] > 0


def test_simulate_reference_and_compiled_agree():
    a = mcsim.simulate(trials=1500, seed=9, engine="compiled")
    b = mcsim.simulate(trials=1500, seed=9, engine="reference")
    assert a.counters == b.counters
    assert all(a[m] == b[m] for m in lay.METRICS)


def test_c_layout_matches_python():
    eng = compiled_engine()
    assert eng.METRIC_NAMES == lay.METRICS
    assert eng.N_COUNTER_SLOTS == len(lay.COUNTERS)
