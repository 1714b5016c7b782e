"""Window trials followed to their end, empirical distributions and wake-up jitter in the
compiled core (docs/model.md §12.3, §13).

Known answers come from the rules by hand (wake 0 unless stated, constant durations, one
thread alone on its lock) or, for random draws, from the model's formula applied to the
block's own stream: with every other duration const, the engine's k-th uniform is the k-th
``Generator.random()`` of ``block_bitgen(seed, 0)``.  The one statistical check (quantiles
of many empirical draws) uses a binomial tolerance stated in its docstring.  Times in ns.
"""
import numpy as np
import pytest

from mcsim import layout as lay
from mcsim.engine import block_bitgen, compiled_engine
from mcsim.errors import ParameterError
from mcsim.numeric import to_ns
from mcsim.params import validate
from mcsim.scenario import (DIST_EMPIRICAL, MAX_TABLE_POINTS, MAX_TABLES, SCAN_END,
                            SCAN_START, TK_HP, TK_WRITER, compile_scenario, compile_script)
from test_core_workloads import run, step, workload

US, MS = 1_000, 1_000_000
CONST, UNIFORM = 0, 3
NEVER = 1e12                    # a think time that ends no trial here (1000 s)
HP_WAIT_MAX = lay.TRIAL_FIELDS.index("hp_wait_max")
EVENTS = lay.TRIAL_FIELDS.index("events")


def one_lock(rec):
    """HP reads take L once (hp_lock = mmap, one acquisition), so a read's times follow
    from §2.1 alone."""
    rec[0]["hp_lock"], rec[0]["hp_acquisitions"] = 0, 1
    return rec


# ------------------------------------------------------------------ §12.3 end condition
def test_a_counted_scan_is_followed_past_the_window():
    """A ps scan of three processes, reads of 1 ms back to back (think 0), alone on the
    machine: reads at 0, 1, 2 ms, the scan ends at 3 ms.  The window [0, 1.5 ms) counts the
    reads at 0 and 1 ms; the read at 2 ms starts after it but belongs to a counted scan, so
    the trial waits for it (§12.3): scan_time = 3 ms exactly, scan_wait 0, two hp_wait
    samples, three steps started, and the scan's iteration counted."""
    scan = [step(TK_HP, process=p, hold=1 * MS, scan=flag)
            for p, flag in ((0, SCAN_START), (1, 0), (2, SCAN_END))]
    scan[-1]["think"] = (CONST, NEVER, 0.0)
    rec = one_lock(workload([(0, scan)], window=1_500_000, n_processes=3))
    h, c, _ = run(rec)
    assert (h["scan_time"].n, h["scan_time"].vmin, h["scan_time"].vmax) == (1, 3 * MS, 3 * MS)
    assert (h["scan_wait"].n, h["scan_wait"].vmax) == (1, 0)
    assert h["hp_wait"].n == 2
    assert (c["steps"], c["scans"], c["thread_iterations_0"]) == (3, 1, 1)


def test_an_iteration_crossing_the_window_end_is_counted():
    """A program of three writes of 1 ms (think 0), warm-up 0.5 ms, window 3 ms: steps at
    0, 1, 2 ms (iteration 1, started in the warm-up: not counted) and 3, 4, 5 ms
    (iteration 2, started at 3 ms < 3.5 ms: counted).  Counted writes: those at 1, 2, 3 ms.
    The trial waits for iteration 2 to end at 6 ms, after six steps; the step scheduled by
    that last event never starts."""
    prog = [step(TK_WRITER, hold=1 * MS) for _ in range(3)]
    h, c, _ = run(workload([(0, prog)], warmup=500_000, window=3 * MS))
    assert h["writer_wait"].n == 3 and h["hold_writer"].n == 3
    assert (c["steps"], c["thread_iterations_0"]) == (6, 1)
    assert c["sim_ns"] == 3 * MS                  # a window trial books its window (§12.3)


def test_an_iteration_of_the_warm_up_is_not_counted():
    """The same program with a window [3.5 ms, 3.5 ms + 1 ns): steps start on whole ms, none
    inside it, so nothing and no iteration is counted, and the trial ends at the first
    event past the window (4 ms: the write started at 3 ms ends and schedules the next),
    after 4 steps."""
    prog = [step(TK_WRITER, hold=1 * MS) for _ in range(3)]
    h, c, _ = run(workload([(0, prog)], warmup=3_500_000, window=1))
    assert h["writer_wait"].n == 0
    assert (c["steps"], c["thread_iterations_0"]) == (4, 0)


# ------------------------------------------------------------------ §13.1 empirical
def empirical_rec(values, jitter=(CONST, 0.0, 0.0), wake=0):
    """A writer holding L_0 for an empirical hold (table 0) and an HP read arriving at the
    same instant behind it (thread order), each once per trial; the window of 1 ns counts
    both.  The read waits the hold, then its wake-up (§4.1, §13.2): hp_wait_max of the
    trial = hold + wake + jitter.  Every other duration is const, so the trial draws one
    uniform for the hold, then the jitter at the release."""
    writer = [step(TK_WRITER, hold=(DIST_EMPIRICAL, 0.0, 0.0), think=NEVER)]
    reader = [step(TK_HP, hold=0, think=NEVER)]
    rec = one_lock(workload([(0, writer), (0, reader)], window=1, wake=wake))
    rec[0]["table_points"][0] = len(values)
    rec[0]["tables"][0][:len(values)] = values
    rec[0]["wake_jitter"] = jitter
    return rec


def draws(rec, trials, seed=3):
    _, c, rows = run(rec, trials=trials, seed=seed, check=False)
    return rows[:, HP_WAIT_MAX], rows[:, EVENTS], c


def quantile_formula(q, u):
    """§13.1 with one uniform u: p = u·m, i = ⌊p⌋ (at most m − 1), q_i + (q_{i+1} − q_i)(p − i),
    rounded like every duration (numeric.to_ns)."""
    q = np.asarray(q, dtype=np.float64)
    m = len(q) - 1
    p = u * m
    i = np.minimum(np.floor(p).astype(np.int64), m - 1)
    return [to_ns(x) for x in q[i] + (q[i + 1] - q[i]) * (p - i)]


def test_a_table_of_equal_values_always_gives_that_value():
    values, _, _ = draws(empirical_rec([250_000.0] * 5), trials=200)
    assert values.tolist() == [250_000] * 200


def test_two_point_table_is_uniform_between_its_points():
    """empirical(a, b) is uniform(a, b): the exact value of each trial's draw from its
    uniform, and a Kolmogorov–Smirnov test against scipy's uniform on [a, b] at α = 0.001
    (fixed seed, so the verdict is reproducible)."""
    from scipy import stats

    a, b = 100_000.0, 300_000.0
    n = 2000
    values, _, _ = draws(empirical_rec([a, b]), trials=n, seed=11)
    gen = np.random.Generator(block_bitgen(11, 0))
    u = np.array([gen.random() for _ in range(n)])
    assert values.tolist() == quantile_formula([a, b], u)
    assert stats.kstest(values, stats.uniform(loc=a, scale=b - a).cdf).pvalue > 1e-3


def test_multi_point_draws_follow_the_formula_and_the_table_quantiles():
    """A skewed table of 9 quantiles (m = 8): each draw equals the formula at its uniform,
    and the fraction of n draws at or below q_j estimates j/m within 4·√(p(1−p)/n) (a
    binomial proportion; the ½ ns of rounding moves it by far less than that)."""
    q = [20_000.0, 21_000.0, 23_000.0, 26_000.0, 30_000.0, 40_000.0, 60_000.0, 150_000.0,
         2_000_000.0]
    n, m = 20000, len(q) - 1
    values, _, _ = draws(empirical_rec(q), trials=n, seed=7)
    gen = np.random.Generator(block_bitgen(7, 0))
    u = np.array([gen.random() for _ in range(n)])
    assert values.tolist() == quantile_formula(q, u)
    assert values.min() >= q[0] and values.max() <= q[-1]
    for j in range(1, m):
        p = j / m
        assert abs(np.mean(values <= q[j]) - p) <= 4 * np.sqrt(p * (1 - p) / n), j


# ------------------------------------------------------------------ §13.2 wake_jitter
def test_const_jitter_adds_to_wake_exactly_in_a_script():
    """A writer holds L from 0 to 1 ms; an HP read asks at 100 us and is granted at the
    release, then runs wake + j later (§4.1, §13.2): its wait is 900 us + 3 us + 2 us."""
    rec = one_lock(compile_scenario(validate({"wake": "3us"})))
    rows = compile_script([{"at": 0, "kind": "writer", "hold": "1ms"},
                           {"at": "100us", "kind": "hp_read", "hold": 0}])
    engine = compiled_engine()
    assert engine.run_script(rec, rows)["waits"][1, 0] == 900 * US + 3 * US
    rec[0]["wake_jitter"] = (CONST, 2000.0, 0.0)
    assert engine.run_script(rec, rows)["waits"][1, 0] == 900 * US + 5 * US


def test_the_end_of_a_dirty_throttling_sleep_is_a_wake_up():
    """A write fault alone (mkwrite_fast, no bio, no CPU work) whose balance_dirty_pages()
    sleeps 1 ms (§11.4): its only wake-up is the sleep's end (§13.2), so a const jitter j
    ends it exactly j later; wake itself was never added there (§4.1), so wake = 0 keeps
    the 2018 results."""
    rec = one_lock(compile_scenario(validate()))
    rows = compile_script([{"at": 0, "kind": "fault", "fault": "mkwrite_fast",
                            "dirty": "1ms"}])
    engine = compiled_engine()
    assert engine.run_script(rec, rows)["done"][0] == 1 * MS
    rec[0]["wake_jitter"] = (CONST, 2000.0, 0.0)
    assert engine.run_script(rec, rows)["done"][0] == 1 * MS + 2 * US


def test_a_script_refuses_a_drawn_jitter():
    """A script runs without a random stream, so a non-const jitter is refused."""
    rec = compile_scenario(validate())
    rec[0]["wake_jitter"] = (1, 1000.0, 0.0)
    rows = compile_script([{"at": 0, "kind": "writer", "hold": "1ms"}])
    with pytest.raises(ParameterError, match="scenario.wake_jitter.kind"):
        compiled_engine().run_script(rec, rows)


def test_uniform_jitter_is_drawn_at_the_wake_up_and_keeps_the_events():
    """Per trial the stream gives the hold's uniform, then the jitter's at the writer's
    release (§13.2: drawn at the wake-up, in event order): hp_wait = hold + wake +
    uniform(a, b).  The order of events does not depend on the times here, so each trial
    has the same events as without jitter; the waits differ."""
    q, n, seed = [50_000.0, 80_000.0, 200_000.0], 500, 5
    a, b = 1_000.0, 9_000.0
    plain, plain_events, _ = draws(empirical_rec(q, wake=3000), trials=n, seed=seed)
    jittered, events, _ = draws(empirical_rec(q, jitter=(UNIFORM, a, b), wake=3000),
                                trials=n, seed=seed)
    gen = np.random.Generator(block_bitgen(seed, 0))
    u = np.array([gen.random() for _ in range(2 * n)]).reshape(n, 2)
    hold = np.array(quantile_formula(q, u[:, 0]))
    jitter = np.array([to_ns(a + (b - a) * x) for x in u[:, 1]])
    assert jittered.tolist() == (hold + 3000 + jitter).tolist()
    assert events.tolist() == plain_events.tolist()
    assert (jittered > plain).any()


def test_zero_const_jitter_changes_nothing():
    """wake_jitter = const 0 draws nothing (§13.2): the same stream gives the same waits
    as a record with no jitter field set, whatever the wake."""
    q = [10_000.0, 90_000.0]
    base, _, _ = draws(empirical_rec(q, wake=2000), trials=50)
    rec = empirical_rec(q, wake=2000)
    rec[0]["wake_jitter"] = (CONST, 0.0, 7.0)
    assert draws(rec, trials=50)[0].tolist() == base.tolist()


# ------------------------------------------------------------------ record checks
@pytest.mark.parametrize("edit, name", [
    (lambda r: r["hp_hold"].__setitem__("a", MAX_TABLES), r"scenario.hp_hold.a"),
    (lambda r: r["hp_hold"].__setitem__("a", 0.5), r"scenario.hp_hold.a"),
    (lambda r: r["table_points"].__setitem__(0, 1), r"scenario.table_points\[0\]"),
    (lambda r: r["table_points"].__setitem__(0, MAX_TABLE_POINTS + 1),
     r"scenario.table_points\[0\]"),
    (lambda r: r["tables"][0].__setitem__(1, np.nan), r"scenario.tables\[0\]\[1\]"),
    (lambda r: r["tables"][0].__setitem__(0, -1.0), r"scenario.tables\[0\]\[0\]"),
    (lambda r: r["tables"][0].__setitem__(2, 1.0), r"scenario.tables\[0\]\[2\]"),
])
def test_bad_empirical_tables_are_refused(edit, name):
    """The core indexes tables[a] and reads table_points[a] values (§13.1): a record whose
    table is missing, too short or long, not finite, negative or descending is refused
    with one ParameterError naming the field."""
    rec = compile_scenario(validate())
    r = rec[0]
    r["hp_hold"] = (DIST_EMPIRICAL, 0.0, 0.0)
    r["table_points"][0] = 3
    r["tables"][0][:3] = [1e3, 2e3, 3e3]
    compiled_engine().run_script(rec, compile_script([{"at": 0, "kind": "bg_io"}]))
    edit(r)
    with pytest.raises(ParameterError, match=name):
        compiled_engine().run_script(rec, compile_script([{"at": 0, "kind": "bg_io"}]))


@pytest.mark.parametrize("field", ["wake_jitter", "threads.start", "steps.think"])
def test_every_distribution_of_the_record_is_checked(field):
    rec = workload([(0, [step(TK_WRITER, hold=1 * MS)])])
    r = rec[0]
    bad = (DIST_EMPIRICAL, 3.0, 0.0)              # table 3 has no points
    if field == "wake_jitter":
        r["wake_jitter"] = bad
    else:
        table, sub = field.split(".")
        r[table][0][sub] = bad
    with pytest.raises(ParameterError, match=r"scenario.table_points\[3\]"):
        run(rec)


@pytest.mark.parametrize("flags, bad_step", [((SCAN_START, SCAN_START | SCAN_END), 1),
                                             ((0, SCAN_END), 1), ((SCAN_START, 0), 0)])
def test_scans_must_close_within_their_program(flags, bad_step):
    """A counted scan holds the trial open until it ends (§12.3), so a scan that never
    ends is refused."""
    prog = [step(TK_HP, hold=1 * MS, scan=f) for f in flags]
    with pytest.raises(ParameterError, match=rf"scenario.steps\[{bad_step}\].scan"):
        run(workload([(0, prog)]))
