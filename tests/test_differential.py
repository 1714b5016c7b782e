"""The compiled core against its pure-Python twin: the same seed must give the same trials,
histograms and counters, bit for bit.

Two families of configurations are compared, each on the 2018 model (``policy``/``era``)
and on the kernel presets of model.md §11 with its new parameters.  Hypothesis draws broad
random models (every parameter, short devices): here.  Fixed stress sets, drawn once from
seeded generators, push the engines onto their hard paths and show by counters that every
one was taken: tests/test_differential_stress.py.  What both share (the comparison
itself, :func:`differential.assert_same_run`): tests/differential.py.
"""
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mcsim
from mcsim import layout as lay
from mcsim.engine import block_bitgen, compiled_engine
from mcsim.kernels import KERNEL_LIST
from mcsim.params import validate
from mcsim.reference import ReferenceEngine
from mcsim.scenario import compile_scenario

from differential import (AFFINITIES, CPU_SWITCHES, CPUS, IO_CPUS, JITTERS, assert_same_run,
                          devices, durations)


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
