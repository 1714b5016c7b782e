"""Measured durations (docs/model.md §13): the ``empirical(q0, …, qm)`` distribution, the
``wake_jitter`` parameter, and the quantile tables they compile to in the scenario record.

Everything here is Python-side and exact.  Known answers are derived by hand from §13.1:
the quantile function is linear on each of the m segments of probability 1/m, so the mean
is the average of the segments' midpoints; tables are numbered in the order their
distributions appear (the scenario's fields in record order, then the workload's thread
starts, then its steps' hold and think), and identical tables share one index.
"""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mcsim.errors import ParameterError
from mcsim.params import PARAMS, check_param, validate
from mcsim.scenario import (DIST_EMPIRICAL, DIST_FIELDS, HOLD_DEFAULT, MAX_TABLE_POINTS,
                            MAX_TABLES, SCENARIO_DTYPE, compile_scenario, dist_of_record,
                            table_index)
from mcsim.units import DIST_CODES, MAX_QUANTILES, MIN_QUANTILES, Dist, parse_dist
from mcsim.workload import load_workload

MS, US = 1_000_000.0, 1_000.0


def table_of(rec, i: int) -> list:
    return rec["tables"][i][: int(rec["table_points"][i])].tolist()


# --- parsing --------------------------------------------------------------------------------

@pytest.mark.parametrize("spec, table", [
    ("empirical(1ms, 2ms, 6ms)", (1 * MS, 2 * MS, 6 * MS)),
    (" Empirical( 80us ,95us, 0.4ms ) ", (80 * US, 95 * US, 400 * US)),
    ("empirical(0, 0)", (0.0, 0.0)),                                   # equal neighbours
    ("empirical(5us, 5us, 7us)", (5 * US, 5 * US, 7 * US)),
    ({"dist": "empirical", "quantiles": ["1ms", 2_000_000, "2ms"]}, (MS, 2 * MS, 2 * MS)),
    ({"dist": "empirical", "quantiles": ("0", "10000s")}, (0.0, 1e13)),  # the full range
])
def test_parse_empirical(spec, table):
    d = parse_dist(spec, "device")
    assert d == Dist("empirical", table=table)
    assert (d.kind, d.a, d.b, d.table, d.code) == ("empirical", 0.0, 0.0, table, 4)
    assert parse_dist(str(d)) == d
    assert hash(d) == hash(parse_dist(str(d)))


def test_table_sizes_are_the_record_limit():
    assert (MIN_QUANTILES, MAX_QUANTILES) == (2, MAX_TABLE_POINTS) == (2, 257)
    assert DIST_CODES["empirical"] == DIST_EMPIRICAL == 4
    most = "empirical(" + ", ".join(f"{k}us" for k in range(MAX_QUANTILES)) + ")"
    assert len(parse_dist(most).table) == MAX_QUANTILES


@pytest.mark.parametrize("spec, mean", [
    ("empirical(0, 1ms)", 0.5 * MS),                                  # uniform(0, 1ms)
    ("empirical(1ms, 2ms, 6ms)", 2.75 * MS),                          # (1.5 + 4) / 2 ms
    ("empirical(3ms, 3ms)", 3 * MS),                                  # a constant
    ("empirical(0, 0, 0, 4ms)", MS * 2 / 3),                          # (0 + 0 + 2) / 3 ms
])
def test_empirical_mean_is_the_mean_of_the_quantile_function(spec, mean):
    assert parse_dist(spec).mean_ns() == pytest.approx(mean, rel=1e-15)


def test_empirical_matches_uniform_with_two_points():
    # Two quantiles are the uniform distribution on [q0, q1] (§13.1 with m = 1).
    assert parse_dist("empirical(1ms, 3ms)").mean_ns() == parse_dist("uniform(1ms, 3ms)").mean_ns()


@given(st.lists(st.integers(0, 10**13), min_size=MIN_QUANTILES, max_size=MAX_QUANTILES))
def test_str_of_empirical_round_trips(values):
    d = Dist("empirical", table=tuple(sorted(values)))
    assert parse_dist(str(d)) == d


@pytest.mark.parametrize("bad, words", [
    ("empirical(1ms)", "has 1 quantile"),
    ("empirical()", "has 0 quantiles"),
    ("empirical(" + ", ".join(["1ms"] * (MAX_QUANTILES + 1)) + ")",
     f"has {MAX_QUANTILES + 1} quantiles"),
    ("empirical(2ms, 1ms)", "is not ascending (q1 = 1ms after 2ms)"),
    ("empirical(1ms, 3ms, 2ms)", "is not ascending (q2 = 2ms after 3ms)"),
    ("empirical(1ms, x)", "has a bad quantile q1 = 'x' (is not a duration)"),
    ("empirical(1ms, 5)", "has a bad quantile q1 = '5' (has no unit)"),
    ("empirical(-1ms, 2ms)", "has a bad quantile q0 = '-1ms' (is negative)"),
    ("empirical(0, 10001s)", "has a bad quantile q1 = '10001s' (is too long)"),
    ({"dist": "empirical", "quantiles": "1ms, 2ms"}, "is not a distribution"),
    ({"dist": "empirical", "quantiles": ["1ms", True]}, "has a bad quantile q1 = True"),
    ({"dist": "empirical", "quantiles": ["1ms"]}, "has 1 quantile"),
    ({"dist": "empirical", "values": ["1ms", "2ms"]}, "is not a distribution"),
])
def test_bad_empirical_is_a_one_line_error(bad, words):
    with pytest.raises(ParameterError) as info:
        parse_dist(bad, "wake_jitter")
    text = str(info.value)
    assert info.value.param == "wake_jitter" and "\n" not in text
    assert text.startswith(f"wake_jitter: {bad!r} ")
    assert words in text
    assert "empirical" in info.value.allowed


@pytest.mark.parametrize("kwargs, words", [
    (dict(kind="empirical", table=(3, 1)), "is not ascending"),
    (dict(kind="empirical", table=(1.5, 2)), "has a fractional quantile"),
    (dict(kind="empirical", table=(0, 1e14)), "has a quantile out of range"),
    (dict(kind="empirical", table=("1ms", "2ms")), "has a quantile out of range"),
    (dict(kind="empirical", a=1.0, table=(1, 2)), "is not a distribution"),
    (dict(kind="exp", a=5.0, table=(1, 2)), "is not a distribution"),
])
def test_hand_built_dists_are_checked(kwargs, words):
    with pytest.raises(ParameterError, match="^distribution: ") as info:
        Dist(**kwargs)
    assert words in info.value.problem


def test_hand_built_table_is_normalized_and_hashable():
    d = Dist("empirical", table=[1000, 2000])        # a list, ints
    assert d.table == (1000.0, 2000.0) and d == parse_dist("empirical(1us, 2us)")
    assert {d: 1}[parse_dist("empirical(1us, 2us)")] == 1
    # The other kinds print as they always did: no table.
    assert repr(parse_dist("exp(1us)")) == "Dist(kind='exp', a=1000.0, b=0.0)"


# --- wake_jitter ----------------------------------------------------------------------------

def test_wake_jitter_is_the_parameter_after_window():
    names = [p.name for p in PARAMS]
    assert names.index("wake_jitter") == names.index("window") + 1
    p = PARAMS[names.index("wake_jitter")]
    assert (p.default, p.kind, p.unit) == ("0", "dist", "ns")
    assert validate()["wake_jitter"] == Dist("const", 0.0)


def test_default_wake_jitter_compiles_to_a_const_zero():
    # §13.2: a const jitter draws nothing, so 0 leaves every wake-up at `wake`.
    rec = compile_scenario(validate())[0]
    assert (int(rec["wake_jitter"]["kind"]), float(rec["wake_jitter"]["a"]),
            float(rec["wake_jitter"]["b"])) == (0, 0.0, 0.0)
    assert rec["table_points"].tolist() == [0] * MAX_TABLES
    assert not rec["tables"].any()


@pytest.mark.parametrize("value, fields", [
    ("exp(20us)", (1, 20_000.0, 0.0)),
    ("lognormal(20us, 0.5)", (2, 20_000.0, 0.5)),
    ("uniform(1us, 3us)", (3, 1_000.0, 3_000.0)),
    ("empirical(8us, 12us, 60us)", (4, 0.0, 0.0)),
])
def test_wake_jitter_compiles(value, fields):
    rec = compile_scenario(validate(wake_jitter=value))[0]
    j = rec["wake_jitter"]
    assert (int(j["kind"]), float(j["a"]), float(j["b"])) == fields
    if fields[0] == DIST_EMPIRICAL:
        assert table_of(rec, 0) == [8_000.0, 12_000.0, 60_000.0]
        assert rec["table_points"].tolist() == [3] + [0] * (MAX_TABLES - 1)


@pytest.mark.parametrize("bad", ["empirical(2us, 1us)", "fast", "-5us", "empirical(1us)"])
def test_bad_wake_jitter_names_the_parameter(bad):
    with pytest.raises(ParameterError, match=r"^wake_jitter: ") as info:
        validate(wake_jitter=bad)
    assert "\n" not in str(info.value)
    with pytest.raises(ParameterError, match=r"^wake_jitter: "):
        check_param("wake_jitter", bad)


# --- quantile tables in the record ----------------------------------------------------------

def test_tables_are_numbered_in_record_order_and_shared():
    # Record order of the distribution fields: hp_hold, writer_hold, fault_cpu, minor_cpu,
    # mkwrite_fast, device, dirty_throttle, wake_jitter (mcsim.scenario.SCENARIO_DTYPE).
    assert DIST_FIELDS == tuple(n for n in SCENARIO_DTYPE.names
                                if SCENARIO_DTYPE[n] == SCENARIO_DTYPE["hp_hold"])
    cfg = validate(wake_jitter="empirical(1us, 2us)",         # given first, numbered last
                   device="empirical(1ms, 9ms)",
                   hp_hold="empirical(1us, 2us)",              # the same as wake_jitter
                   writer_hold="exp(20us)")
    rec = compile_scenario(cfg)[0]
    kinds = {n: (int(rec[n]["kind"]), int(rec[n]["a"])) for n in DIST_FIELDS}
    assert kinds["hp_hold"] == (4, 0)        # first in record order
    assert kinds["device"] == (4, 1)
    assert kinds["wake_jitter"] == (4, 0)    # identical to hp_hold's: shared
    assert kinds["writer_hold"] == (DIST_CODES["exp"], 20_000)
    assert rec["table_points"].tolist() == [2, 2] + [0] * (MAX_TABLES - 2)
    assert table_of(rec, 0) == [1_000.0, 2_000.0] and table_of(rec, 1) == [1e6, 9e6]
    assert not rec["tables"][2:].any() and not rec["tables"][0][2:].any()
    for n in DIST_FIELDS:
        assert dist_of_record(rec, rec[n]) == cfg[n]


def test_equal_values_with_another_length_are_another_table():
    r = np.zeros(1, dtype=SCENARIO_DTYPE)[0]
    one = table_index(r, parse_dist("empirical(1us, 1us)"), "x")
    two = table_index(r, parse_dist("empirical(1us, 1us, 1us)"), "x")
    assert (one, two) == (0, 1)


def workload(start="0", hold=None, think="1ms", second_think="1ms"):
    step = {"step": "cmdline", "process": "p", "think": think}
    if hold is not None:
        step["hold"] = hold
    return load_workload({
        "workload": {"name": "measured", "description": "A reader and a mapper."},
        "process": [{"name": "p", "vmas": ["a"], "thread": [
            {"name": "r", "start": start, "program": [step]},
            {"name": "w", "program": [{"step": "write", "vma": "a", "think": second_think}]}]}]})


def test_workload_tables_follow_the_scenario_s_thread_starts_then_steps():
    wl = workload(start="empirical(0, 5ms)", hold="empirical(1us, 3us)",
                  think="empirical(0, 1ms, 2ms)", second_think="empirical(0, 5ms)")
    rec = compile_scenario(wl.config(device="empirical(1ms, 2ms)"), wl)[0]
    assert int(rec["device"]["a"]) == 0                        # the scenario's first
    assert tuple(rec["threads"][0]["start"].tolist()) == (4, 1.0, 0.0)
    assert tuple(rec["threads"][1]["start"].tolist()) == (0, 0.0, 0.0)
    steps = rec["steps"][:2]
    assert tuple(steps[0]["hold"].tolist()) == (4, 2.0, 0.0)
    assert tuple(steps[0]["think"].tolist()) == (4, 3.0, 0.0)
    assert tuple(steps[1]["hold"].tolist()) == (HOLD_DEFAULT, 0.0, 0.0)
    assert tuple(steps[1]["think"].tolist()) == (4, 1.0, 0.0)  # = thread 0's start
    assert rec["table_points"].tolist() == [2, 2, 2, 3] + [0] * (MAX_TABLES - 4)
    assert [table_of(rec, i) for i in range(4)] == [
        [1e6, 2e6], [0.0, 5e6], [1e3, 3e3], [0.0, 1e6, 2e6]]


def test_applying_a_workload_again_leaves_the_same_record():
    wl = workload(hold="empirical(1us, 3us)")
    rec = compile_scenario(wl.config(wake_jitter="empirical(2us, 4us)"), wl)
    before = rec.tobytes()
    wl.apply(rec)
    assert rec.tobytes() == before
    # Another workload on the same record keeps the scenario's table and drops the first
    # workload's, so nothing stale is left behind.
    other = workload(think="empirical(0, 9ms)")
    other.apply(rec)
    r = rec[0]
    assert r["table_points"].tolist() == [2, 2] + [0] * (MAX_TABLES - 2)
    assert table_of(r, 0) == [2e3, 4e3] and table_of(r, 1) == [0.0, 9e6]
    assert not r["tables"][2:].any()


def distinct_tables(n):
    return [f"empirical(0, {k + 1}us)" for k in range(n)]


def test_more_tables_than_the_record_holds_names_the_parameter():
    fields = ["hp_hold", "writer_hold", "fault_cpu", "minor_cpu", "mkwrite_fast", "device",
              "dirty_throttle", "wake_jitter", "cpu_switch", "io_cpu", "wake_remote"]
    assert len(fields) == MAX_TABLES - 1        # the scenario fills all tables but one
    cpus = {"cpus": 2, "cpu_affinity": 1, "timer_slack": "50us"}   # (wake_remote's, §14.8)
    cfg = validate({**dict(zip(fields, distinct_tables(MAX_TABLES - 1))), **cpus})
    rec = compile_scenario(cfg)[0]
    assert rec["table_points"].tolist() == [2] * (MAX_TABLES - 1) + [0]
    wl = workload(hold="empirical(0, 1us)")     # = hp_hold's table: shared, fits
    compile_scenario(wl.config(cfg.public()), wl)
    wl = workload(hold="empirical(0, 1ms)")     # the last table: fits
    compile_scenario(wl.config(cfg.public()), wl)
    wl = workload(hold="empirical(0, 1ms)", think="empirical(0, 2ms)")   # one too many
    with pytest.raises(ParameterError) as info:
        compile_scenario(wl.config(cfg.public()), wl)
    err = info.value
    assert err.param == "process[0].thread[0].program[0].think"
    assert err.value == "empirical(0, 2ms)" and "at most 12 different" in err.allowed
    assert "\n" not in str(err)


def test_a_workload_with_too_many_tables_is_refused_when_loaded():
    program = [{"step": "write", "vma": "a", "think": t} for t in distinct_tables(MAX_TABLES + 1)]
    with pytest.raises(ParameterError) as info:
        load_workload({"workload": {"name": "many", "description": "Nine measured waits."},
                       "process": [{"name": "p", "vmas": ["a"], "thread": [
                           {"name": "w", "program": program}]}]})
    assert info.value.param == f"process[0].thread[0].program[{MAX_TABLES}].think"


def test_an_all_zero_empirical_hold_makes_an_impossible_loop():
    # The loop check reads the record's tables: an empirical writer_hold of zeros takes no
    # time, one with any positive quantile does.
    wl = load_workload({"workload": {"name": "w", "description": "A writer loop."},
                        "process": [{"name": "p", "vmas": ["a"], "thread": [
                            {"name": "w", "program": [{"step": "write", "vma": "a"}]}]}]})
    compile_scenario(wl.config(writer_hold="empirical(0, 0, 1ns)"), wl)
    with pytest.raises(ParameterError, match="impossible loop"):
        compile_scenario(wl.config(writer_hold="empirical(0, 0, 0)"), wl)


def test_the_documented_example_loads_and_compiles():
    import re
    import tomllib
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[1] / "docs" / "workloads.md").read_text("utf-8")
    block = next(b for b in re.findall(r"```toml\n(.*?)```", doc, re.S) if "wake_jitter" in b)
    wl = load_workload(tomllib.loads(block))
    rec = compile_scenario(wl.config(), wl)[0]
    # wake_jitter is the last scenario field but device comes first in record order.
    assert (int(rec["device"]["a"]), int(rec["wake_jitter"]["a"])) == (0, 1)
    assert int(rec["steps"][0]["think"]["a"]) == 2
    assert rec["table_points"].tolist()[:4] == [5, 8, 3, 0]
