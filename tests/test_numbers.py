"""Numeric limits of the engines (docs/model.md §4.4, mcsim/numeric.py): draws clamped to
[0, 2**53] ns with NaN and inf handled, a trial's clock stopped at 2**62 ns with a
SimulationError, int64 sums saturating instead of wrapping (in the core and in the merge
of blocks), the same in both engines; the compiled core's invariant checks and its
buffer-growth counter.  Expected values are derived by hand in each test."""
import doctest
import math

import numpy as np
import pytest
from scipy.special import ndtr

import mcsim
import mcsim.numeric
from mcsim import layout as lay
from mcsim.engine import BlockOutput, block_bitgen, compiled_engine, run_blocks
from mcsim.errors import ParameterError, SimulationError
from mcsim.histogram import Histogram, N_BUCKETS
from mcsim.numeric import (INVARIANTS, MAX_DRAW_NS, MAX_TIME_NS, SATURATED, sat_add_arrays,
                           to_ns)
from mcsim.params import validate
from mcsim.reference import ReferenceEngine
from mcsim.scenario import compile_scenario, compile_script

ENGINES = ("compiled", "reference")
CONST, EXP, LOGNORMAL = 0, 1, 2


def record(**fields):
    """A compiled record with raw fields set, bypassing parameter validation."""
    rec = compile_scenario(validate())
    for name, value in fields.items():
        rec[name] = value
    return rec


def hp_only(hold, arrival_mean_ns, **fields):
    """Only HP readers arrive (each trial is one read when gaps are longer than holds)."""
    return record(cut_hp=1.0, cut_lp=1.0, hp_hold=hold, arrival_mean_ns=arrival_mean_ns,
                  **fields)


def run(engine, rec, trials, seed=1):
    return run_blocks(rec, seed, [(0, trials)], engine=engine)


def same(a: BlockOutput, b: BlockOutput):
    assert a.counter_dict() == b.counter_dict()
    for x, y in ((a.hist_arrays, b.hist_arrays), (a.hist_scalars, b.hist_scalars),
                 (a.hist_floats, b.hist_floats)):
        np.testing.assert_array_equal(x, y)


# ------------------------------------------------------------------ draws
def test_to_ns_rounds_and_clamps():
    assert [to_ns(x) for x in (0.0, 0.49, 0.5, 2.5, 1e6 - 0.2)] == [0, 0, 1, 3, 1_000_000]
    assert [to_ns(x) for x in (-0.6, -1e300, -math.inf, math.nan)] == [0, 0, 0, 0]
    assert [to_ns(x) for x in (2.0**53 - 0.5, 2.0**53, 1e300, math.inf)] == [MAX_DRAW_NS] * 4


def test_const_draws_clamp_alike_in_both_engines():
    """A const hold is drawn without randomness, so hold_hp's extremes are known exactly:
    NaN -> 0, inf -> 2**53.  Gaps of mean inf are all 2**53 ns, longer than any hold."""
    for hold, expected in ((math.nan, 0), (-5.0, 0), (math.inf, None), (2.0**52, 2**52)):
        outs = []
        for engine in ENGINES:
            # hold inf = 2**53 equals the gap: the next reader arrives at the release time
            # (arrivals are scheduled first, so it goes first); the trial never ends.
            rec = hp_only((CONST, hold, 0.0), math.inf, max_trial_events=100)
            if expected is None:
                with pytest.raises(SimulationError):
                    run(engine, rec, 5)
                continue
            out = run(engine, rec, 20)
            h = out.histograms()["hold_hp"]
            assert (h.n, h.vmin, h.vmax) == (20, expected, expected)
            outs.append(out)
        if outs:
            same(*outs)


def test_median_zero_lognormal_with_huge_sigma_draws_zero():
    """lognormal(0, 1e6): 0 * exp(+-1e6 * Z) is 0 * inf = NaN or 0 * 0; both are 0 ns.  Only
    background bios at one slot: each trial is an arrival and a zero-length bio."""
    outs = []
    for engine in ENGINES:
        rec = record(cut_hp=0.0, cut_lp=0.0, device=(LOGNORMAL, 0.0, 1e6))
        out = run(engine, rec, 300)
        c = out.counter_dict()
        assert (c["trials"], c["events"], c["bios"], c["busy_ns"]) == (300, 600, 300, 0)
        assert out.histograms()["gate_wait"].vmax == 0
        outs.append(out)
    same(*outs)


def test_huge_sigma_lognormal_is_clamped_and_identical():
    """hold = 1us * exp(50 Z): clamped to 2**53 when Z >= ln(2**53 / 1000) / 50, and in the
    overflow bucket (>= 2**43) when Z >= ln(2**43 / 1000) / 50: probabilities from the
    normal law.  Gaps are 2**53 too (mean 1e300), so a clamped hold meets the next arrival:
    the trial goes on, but stays far from the clock limit."""
    rec = hp_only((LOGNORMAL, 1000.0, 50.0), 1e300, max_trial_events=10_000)
    ref = run("reference", rec, 400)
    out = run("compiled", rec, 4000)
    same(ref, run("compiled", rec, 400))
    h = out.histograms()["hold_hp"]
    assert h.vmax == MAX_DRAW_NS and h.vmin == 0
    p_over = 1 - ndtr(math.log(2**43 / 1000) / 50)
    assert abs(h.overflow / h.n - p_over) < 5 * math.sqrt(p_over * (1 - p_over) / h.n)
    assert out.counter_dict()["sim_ns"] == SATURATED      # > 4000 * 2**53 > 2**63


# ------------------------------------------------------------------ the clock
def test_clock_limit_is_a_simulation_error_in_both_engines():
    """const(2**53) holds meet the next arrival 2**53 later: readers overlap forever, and
    the 512th arrival would be at 2**62 + 2**53, past the limit (before 2000 events)."""
    for engine in ENGINES:
        rec = hp_only((CONST, 2.0**53, 0.0), math.inf, max_trial_events=2000)
        with pytest.raises(SimulationError, match=r"2\*\*62"):
            run(engine, rec, 3)


def test_script_past_the_clock_limit():
    rows = compile_script([{"at": 0, "kind": "writer", "hold": "1us"}])
    rows["at"] = MAX_TIME_NS - 10
    rec = compile_scenario(validate())
    with pytest.raises(SimulationError, match=r"2\*\*62"):
        compiled_engine().run_script(rec, rows)
    with pytest.raises(SimulationError, match=r"2\*\*62"):
        ReferenceEngine(rec).run_script(rows)
    rows["hold"] = 10                                      # ends exactly at the limit
    assert int(compiled_engine().run_script(rec, rows)["done"][0]) == MAX_TIME_NS


# ------------------------------------------------------------------ sums
def test_sim_ns_is_exact_below_the_limit_and_saturates_above():
    """Zero holds and gaps of exactly 2**53 ns: sim_ns = trials * 2**53, which is
    2**63 - 2**53 for 1023 trials and would be 2**63 (one past int64) for 1024."""
    rec = hp_only((CONST, 0.0, 0.0), math.inf)
    for engine in ENGINES:
        assert run(engine, rec, 1023).counter_dict()["sim_ns"] == 1023 * 2**53
        counters = run(engine, rec, 1024).counter_dict()
        assert counters["sim_ns"] == SATURATED and counters["busy_ns"] == 0
        assert lay.saturated(counters) == ["sim_ns"]


def test_sim_ns_at_the_duration_bound_matches_its_expectation():
    """Gaps of mean 1e13 ns (the longest duration a parameter may have): sim_ns is a sum
    of n exponentials, mean n * 1e13, standard deviation sqrt(n) * 1e13."""
    n, mean = 200_000, 1e13
    sim = run("compiled", hp_only((CONST, 0.0, 0.0), mean), n).counter_dict()["sim_ns"]
    assert abs(sim - n * mean) < 5 * math.sqrt(n) * mean


def test_histogram_total_saturates_mean_is_nan():
    """2100 trials, each one read holding 2**52 ns: the hold total, 2100 * 2**52, passes
    2**63; the mean and its interval become NaN, the quantiles stay exact."""
    rec = hp_only((CONST, 2.0**52, 0.0), math.inf)
    outs = [run(engine, rec, 2100) for engine in ("compiled", "reference")]
    same(*outs)
    h = outs[0].histograms()["hold_hp"]
    assert h.total == SATURATED and h.n == 2100
    assert math.isnan(h.mean()) and all(map(math.isnan, h.mean_ci()))
    assert h.quantile(0.5) == 2.0**52 and h.quantile_ci(0.5) == (2.0**52, 2.0**52)


def test_c_and_python_histograms_saturate_alike():
    """Three samples of 2**62 in one trial: total and trial sum 3 * 2**62 > 2**63."""
    from mcsim._hist_ext import record_trials

    values = np.array([2**62, 2**62, 2**62, 5], dtype=np.int64)
    lengths = np.array([3, 1], dtype=np.int64)
    arrays = [np.zeros(N_BUCKETS, dtype=np.int64) for _ in range(3)]
    c = record_trials(values, lengths, *arrays)
    py = Histogram.from_trials(values, lengths)
    assert c["total"] == py.total == SATURATED
    assert c == py.scalars() and py.ss == float(SATURATED) ** 2 + 25.0
    assert Histogram.from_arrays(*arrays, c) == py


def test_block_merge_saturates_instead_of_wrapping():
    """Two blocks of 600 trials with 2**53 ns gaps: each has sim_ns = 600 * 2**53
    (exact, 5.4e18); together they pass 2**63."""
    rec = hp_only((CONST, 0.0, 0.0), math.inf)
    one = run_blocks(rec, 1, [(0, 600)])
    assert one.counter_dict()["sim_ns"] == 600 * 2**53
    both = run_blocks(rec, 1, [(0, 600), (1, 600)])
    assert both.counter_dict()["sim_ns"] == SATURATED
    assert both.counter_dict()["trials"] == 1200

    a, b = BlockOutput.zeros(), BlockOutput.zeros()
    for out in (a, b):
        out.hist_arrays[0, 1, 7] = 5 * 10**18           # yy of one bucket
        out.hist_scalars[0, 1] = 5 * 10**18             # total
        out.counters[lay.C["events"]] = 5 * 10**18
    a.add(b)
    assert a.hist_arrays[0, 1, 7] == a.hist_scalars[0, 1] == SATURATED
    assert a.counter_dict()["events"] == SATURATED
    assert np.all(a.hist_arrays >= 0) and np.all(a.counters >= 0)


def test_histogram_merge_saturates():
    big = Histogram.from_trials([2**62], [1])
    merged = big + big + big
    assert merged.total == SATURATED and merged.n == 3 and math.isnan(merged.mean())
    wide = Histogram.from_arrays(big.counts, big.yy, big.yn,
                                 dict(big.scalars(), nn=SATURATED - 1, trials=5))
    assert (wide + big).nn == SATURATED
    assert all(map(math.isnan, (wide + big).quantile_ci(0.5)))
    assert sat_add_arrays(np.array([SATURATED]), np.array([SATURATED]))[0] == SATURATED


# ------------------------------------------------------------------ raw records
def test_raw_records_are_checked_alike():
    """Fields the engines use as indices or bounds are range-checked on entry."""
    step = np.array([1, 0, 0, 1])                  # a valid step: submit, miss_submit, ...
    bad = [("wake_ns", -1, "scenario.wake_ns"), ("wake_ns", MAX_DRAW_NS + 1, "wake_ns"),
           ("device", (7, 1.0, 0.0), r"scenario.device.kind"),
           ("dirty_throttle", (5, 1.0, 0.0), r"scenario.dirty_throttle.kind"),
           ("lp_depth", 0, "scenario.lp_depth"), ("first_lock", 2, "scenario.first_lock"),
           ("retry_lock", -1, "scenario.retry_lock"), ("hp_lock", 5, "scenario.hp_lock"),
           ("hp_acquisitions", 0, "scenario.hp_acquisitions"),
           ("hp_acquisitions", 9, "scenario.hp_acquisitions"),
           ("jiffy_ns", -1, "scenario.jiffy_ns"),
           ("handoff_jiffies", -4, "scenario.handoff_jiffies")]
    for kind, index, value, name in ((1, 0, 5, "op"), (1, 0, -2, "op"), (1, 1, 6, "col"),
                                     (2, 2, 8, "blame"), (6, 3, 7, "arg")):
        programs = compile_scenario(validate())["programs"][0].copy()
        programs[kind, 0] = step
        programs[kind, 0, index] = value
        bad.append(("programs", programs, rf"scenario\.programs\[{kind}\]\[0\]\.{name}"))
    for field, value, match in bad:
        rec = record(**{field: value})
        with pytest.raises(ParameterError, match=match):
            run("compiled", rec, 1)
        with pytest.raises(ParameterError, match=match):
            run("reference", rec, 1)


def test_raw_script_rows_are_checked_alike():
    rec = compile_scenario(validate())
    for field, value in (("fault", 7), ("kind", -1), ("hold", -1), ("evicted", -1),
                         ("bio", MAX_DRAW_NS + 1), ("at", -3), ("same_vma", 2),
                         ("fallback", -1), ("dirty", -1), ("dirty", MAX_DRAW_NS + 1)):
        rows = compile_script([{"at": 0, "kind": "fault"}])
        rows[field] = value
        with pytest.raises(ParameterError, match=rf"task\[0\]\.{field}"):
            compiled_engine().run_script(rec, rows)
        with pytest.raises(ParameterError, match=rf"task\[0\]\.{field}"):
            ReferenceEngine(rec).run_script(rows)


def test_policy_flags_are_read_as_booleans():
    """A flag of 2**32 is true, as bool() reads it (not truncated to 0 in C)."""
    base = compile_scenario(validate(policy="hold", lp_rate=800.0))
    wide = base.copy()
    wide["policy"] = np.where(base["policy"] != 0, 2**32, 0)
    same(run("compiled", base, 2000), run("compiled", wide, 2000))
    same(run("compiled", wide, 300), run("reference", wide, 300))


# ------------------------------------------------------------------ invariants
def run_checked(rec, trials, check=True, seed=4):
    out = BlockOutput.zeros()
    compiled_engine().run_block(rec, block_bitgen(seed, 0), trials, out.hist_arrays,
                                out.hist_scalars, out.hist_floats, out.counters,
                                check_invariants=check)
    return out


@pytest.mark.parametrize("params", [
    {},
    {"era": "5.11+", "policy": "hold", "writer_ratio": 0.4, "lp_rate": 3000.0,
     "hp_rate": 1000.0, "wake": "30us", "device": "ssd", "bg_io_rate": 3000.0,
     "handoff_timeout": "200us", "hp_hold": "exp(300us)"},
    {"era": "4.x", "policy": "hold", "writer_ratio": 0.4, "lp_rate": 3000.0,
     "hp_rate": 1000.0, "wake": "30us", "device": "ssd", "bg_io_rate": 3000.0},
    {"era": "5.11+", "policy": "rfc-v2", "evict_rate": 1000.0, "revalidate_fail": 0.3,
     "write_fault_ratio": 0.5, "throttle_depth": 0, "bg_io_rate": 200.0},
])
def test_compiled_invariants_hold(params):
    rec = compile_scenario(validate(params))
    checked, plain = run_checked(rec, 3000), run_checked(rec, 3000, check=False)
    same(checked, plain)                 # checking observes, never changes a result
    assert plain.counter_dict()["lock_acquisitions"] > 1000


@pytest.mark.parametrize("fields, broken", [
    # 5.11+ waking at most 0 readers: a reader queued behind a writer is never granted.
    ({"rw_handoff": 1, "rw_wake_all_readers": 1, "rw_reader_steal": 1,
      "max_readers_wakeup": 0, "writer_ratio": 0.5}, 2),
])
def test_broken_record_trips_the_same_invariant(fields, broken):
    rec = record(**fields)
    message = f"invariant broken: {INVARIANTS[broken]}"
    with pytest.raises(AssertionError, match=message):
        run_checked(rec, 20_000)
    with pytest.raises(AssertionError, match=message):
        ReferenceEngine(rec, block_bitgen(4, 0), check_invariants=True).run_trials(20_000)
    assert not issubclass(AssertionError, mcsim.McsimError)


# ------------------------------------------------------------------ buffer growth
def test_buffer_growth_counted_alike():
    """A writer holds L while 100 HP readers queue: the script's 101 arrivals fill the
    heap (64 -> 128), 101 tasks the task table and 100 waiters the lock queue; the 100
    wake-ups after the release fit in the grown heap.  Three doublings."""
    tasks = [{"at": 0, "kind": "writer", "hold": "1ms"}]
    tasks += [{"at": f"{i}ns", "kind": "hp_read"} for i in range(1, 101)]
    rows = compile_script(tasks)
    rec = compile_scenario(validate(era="4.x"))
    raw = compiled_engine().run_script(rec, rows)
    assert raw["counters"][lay.C["buffer_growths"]] == 3
    ref = ReferenceEngine(rec)
    ref.run_script(rows)
    assert ref.counters["buffer_growths"] == 3


def test_buffer_growth_in_random_mode_matches_reference():
    """Writers hold L for 5 ms while HP readers arrive at 20,000/s: ~100 queue."""
    params = {"writer_ratio": 0.5, "lp_rate": 200.0, "writer_hold": "const(5ms)",
              "hp_rate": 20000.0, "hp_hold": "10us", "era": "4.x"}
    rec = compile_scenario(validate(params))
    a, b = run("compiled", rec, 200, seed=2), run("reference", rec, 200, seed=2)
    same(a, b)
    assert a.counter_dict()["buffer_growths"] > 0


def test_numeric_docstring_examples():
    result = doctest.testmod(mcsim.numeric, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
