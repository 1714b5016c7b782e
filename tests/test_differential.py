"""The compiled core against its pure-Python twin on random configurations: the same
seed must give the same trials, histograms and counters, bit for bit."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mcsim
from mcsim import layout as lay
from mcsim.engine import BlockOutput, block_bitgen, compiled_engine
from mcsim.params import validate
from mcsim.reference import ReferenceEngine
from mcsim.scenario import compile_scenario

durations = st.sampled_from(["0", "1us", "exp(20us)", "lognormal(50us, 1.0)", "const(3us)"])
devices = st.sampled_from(["ssd", "exp(200us)", "lognormal(500us, 0.8)", "const(150us)"])


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
    }


def compiled_block(scenario, seed, trials):
    out = BlockOutput.zeros()
    rows = np.zeros((trials, len(lay.TRIAL_FIELDS)), dtype=np.int64)
    compiled_engine().run_block(scenario, block_bitgen(seed, 0), trials, out.hist_arrays,
                                out.hist_scalars, out.hist_floats, out.counters, rows)
    return out, rows


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(params=configs(), seed=st.integers(0, 2**32))
def test_compiled_equals_reference_trial_for_trial(params, seed):
    scenario = compile_scenario(validate(params))
    trials = 150
    try:
        ref = ReferenceEngine(scenario, block_bitgen(seed, 0), record_trials=True,
                              check_invariants=True).run_trials(trials)
    except mcsim.SimulationError:
        with pytest.raises(mcsim.SimulationError, match="overloaded"):
            compiled_block(scenario, seed, trials)
        return
    out, rows = compiled_block(scenario, seed, trials)
    np.testing.assert_array_equal(np.array(ref.trial_rows), rows)
    assert {k: int(v) for k, v in zip(lay.COUNTERS, out.counters)} == ref.counters
    for m, hist in enumerate(ref.hists):
        assert hist == out.histograms()[lay.METRICS[m]], lay.METRICS[m]


def test_invariants_hold_under_load():
    """Every request is eventually granted: each lock acquisition ends in exactly one
    recorded wait, in both eras, with wake latency and 5.11+ handoff in play."""
    for era in ("4.x", "5.11+"):
        params = dict(era=era, wake="30us", writer_ratio=0.4, lp_rate=3000, hp_rate=1000,
                      policy="hold", hp_hold="exp(300us)",
                      device="ssd", bg_io_rate=3000, handoff_timeout="200us")
        ref = ReferenceEngine(compile_scenario(validate(params)), block_bitgen(5, 0),
                              check_invariants=True).run_trials(3000)
        waits = sum(ref.hists[m].n for m in (lay.M_HP_WAIT, lay.M_WRITER_WAIT,
                                             lay.M_FAULT_LOCK_WAIT))
        assert waits == ref.counters["lock_acquisitions"] > 2000
        if era == "5.11+":
            assert ref.counters["handoffs"] > 0 and ref.counters["reader_steals"] > 0


def test_simulate_reference_and_compiled_agree():
    a = mcsim.simulate(trials=3000, seed=9, engine="compiled")
    b = mcsim.simulate(trials=3000, seed=9, engine="reference")
    assert a.counters == b.counters
    assert all(a[m] == b[m] for m in lay.METRICS)


def test_c_layout_matches_python():
    eng = compiled_engine()
    assert eng.METRIC_NAMES == lay.METRICS
    assert eng.N_COUNTER_SLOTS == len(lay.COUNTERS)
