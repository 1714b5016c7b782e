"""The reference engine on the rules of docs/model.md §12.3 (counted scans and iterations
are followed to their end) and §13 (empirical distributions, wake-up jitter).

Every expected value is derived by hand from the rules, written out in each test: constant
durations make times exact, and where a draw is random the test replays it from the same
bit generator (a window trial of one block draws from ``PCG64DXSM(seed)`` here, §4.3).
"""
import numpy as np
import pytest

from mcsim import numeric
from mcsim.errors import ParameterError
from mcsim.numeric import check_scenario, draw_ns, to_ns
from mcsim.params import validate
from mcsim.reference import ReferenceEngine
from mcsim.scenario import DIST_DTYPE, DIST_EMPIRICAL, compile_scenario, compile_script
from test_reference_workloads import MS, US, run, samples, workload


def with_tables(rec, *tables):
    """Put quantile tables into a record (table ``i`` at index ``i``, §13.1)."""
    r = rec[0]
    for i, q in enumerate(tables):
        r["table_points"][i] = len(q)
        r["tables"][i][:len(q)] = q
    return rec


def empirical(index):
    return (DIST_EMPIRICAL, float(index), 0.0)


def _empirical_accepted():
    rec = with_tables(compile_scenario(validate()), [1.0, 2.0])
    rec[0]["device"] = empirical(0)
    try:
        check_scenario(rec)
    except ParameterError:
        return False
    return True


needs_empirical = pytest.mark.skipif(
    not _empirical_accepted(),
    reason="mcsim.numeric.check_scenario does not accept empirical distributions (kind 4) "
           "yet, so no engine can run such a record")


# ------------------------------------------------------------------ §12.3 the end of a trial
def two_step_writer(window):
    """One thread: write 300 µs (think 0), write 300 µs (think 400 µs): an iteration runs
    0–0.6 ms, the next starts at 1 ms."""
    return workload([(0, 0, [{"step": "write", "hold": 300 * US},
                             {"step": "write", "hold": 300 * US, "think": 400 * US}])],
                    window=window)


def test_a_counted_iteration_is_followed_past_the_window():
    """Window [0, 1.2 ms).  The iteration starting at 1.0 ms is counted; its first step
    (1.0–1.3) is counted, its second starts at 1.3 ms, after the window, and is not.  The
    trial waits for the iteration (§12.3): it ends at 1.6 ms, the second step's release,
    not at 1.3 ms when the last counted task ended, and not after the 400 µs think (an
    iteration ends with its last step).  Events: step 0, release 0.3, step 0.3, release
    0.6, step 1.0, release 1.3, step 1.3, release 1.6: eight.  The uncounted step records
    no hold."""
    eng, c = run(two_step_writer(1_200 * US))
    assert c["thread_iterations_0"] == 2 and c["steps"] == 4 and c["writes"] == 4
    assert c["events"] == 8
    assert samples(eng, "hold_writer") == [300 * US] * 3
    assert c["sim_ns"] == c["busy_ns"] == 1_200 * US


def test_an_iteration_started_after_the_window_is_not_waited_for():
    """Window [0, 0.9 ms): the iteration at 1.0 ms starts after it and is not counted.  The
    iteration at 0 ends at 0.6 ms, before the window's end, so the trial ends at the first
    event at or after 0.9 ms: the step at 1.0 ms (events: 0, 0.3, 0.3, 0.6, 1.0)."""
    eng, c = run(two_step_writer(900 * US))
    assert c["thread_iterations_0"] == 1 and c["steps"] == 3 and c["events"] == 5
    assert samples(eng, "hold_writer") == [300 * US] * 2


def scan_across_the_window_end():
    return workload([(0, 0, [{"step": "cmdline", "process": 0, "hold": 10 * US,
                              "scan": 1},
                             {"step": "cmdline", "process": 1, "hold": 10 * US,
                              "scan": 2, "think": 990 * US}]),
                     (1, 5 * US, [{"step": "write", "hold": 500 * US, "think": 500 * US}])],
                    processes=2, vmas=(0, 1), window=8 * US)


def test_a_scan_started_inside_the_window_ends_the_trial():
    """A scan of processes 0 and 1 (10 µs reads, think 0 between, 990 µs after) beside a
    writer on process 1 holding L_1 500 µs from 5 µs (its start delay).  Window [0, 8 µs):
    the scan's first read (0–10 µs) and the writer's step are counted; the second read
    starts at 10 µs, after the window, queues behind the writer until 505 µs and releases
    at 515 µs.  The last counted task ends at 505 µs (the writer), but the counted scan and
    the scanner's counted iteration are still open: the trial ends at 515 µs, the scan
    recorded (scan_time 515 µs, scan_wait 495 µs: the uncounted read's wait), the
    uncounted read itself records no hp_wait."""
    eng, c = run(scan_across_the_window_end())
    assert samples(eng, "scan_time") == [515 * US]
    assert samples(eng, "scan_wait") == [495 * US]
    assert samples(eng, "hp_wait") == [0] and samples(eng, "writer_wait") == [0]
    assert c["thread_iterations_0"] == 1 and c["thread_iterations_1"] == 1
    assert c["steps"] == 3 and c["scans"] == 1 and eng.now == 515 * US


# ------------------------------------------------------------------ §13.2 wake-up jitter
def jittered(rec, dist):
    rec[0]["wake_jitter"] = dist
    return rec


def wake_ups(jitter):
    """A reader, a queued writer, a queued reader and two bios through one gate slot."""
    rec = workload([(0, 0, [{"step": "cmdline", "process": 0, "hold": MS, "think": MS}]),
                    (0, 100 * US, [{"step": "write", "hold": 100 * US, "think": MS}]),
                    (0, 0, [{"step": "bg_io", "think": 5 * MS}]),
                    (0, 0, [{"step": "bg_io", "think": 5 * MS}]),
                    (0, 200 * US, [{"step": "cmdline", "process": 0, "hold": 0,
                                    "think": 5 * MS}])],
                   params={"wake": "3us", "throttle_depth": 7}, window=300 * US)
    return jittered(rec, jitter)


def test_const_jitter_adds_exactly_at_every_wake_up():
    """wake = 3 µs, wake_jitter = const(2 µs): every wake-up runs its task 5 µs after it.
    Thread 0 reads process 0 holding L 1 ms from 0; thread 1's writer (100 µs) queues and
    is woken at the release: writer_wait = 0.9 ms + 5 µs.  Threads 2 and 3 issue 1 ms
    bios at 0 through a gate of one slot (throttle_depth 7): the second is handed the slot
    at 1 ms, gate_wait = 1 ms + 5 µs.  A queued reader (thread 4, at 200 µs, behind the
    writer) is granted at the writer's release, 1.105 ms: hp_wait = 0.905 ms + 5 µs.
    A const jitter draws nothing, so the draws of any other part are unchanged."""
    eng, c = run(wake_ups((0, 2e3, 0.0)))
    assert samples(eng, "writer_wait") == [905 * US]
    assert samples(eng, "gate_wait") == [0, 1_005 * US]
    assert samples(eng, "hp_wait") == [0, 910 * US]


def bio_and_dirty_sleep(jitter):
    rec = workload([(0, 0, [{"step": "fault", "fault": "miss", "think": 5 * MS}]),
                    (0, 0, [{"step": "fault", "fault": "mkwrite_fast", "think": 5 * MS}])],
                   params={"wake": "3us", "p_dirty_throttle": 1.0,
                           "dirty_throttle": "const(1ms)", "mkwrite_fast": "0"},
                   window=100 * US)
    return jittered(rec, jitter)


def test_const_jitter_after_a_bio_and_a_dirty_sleep():
    """A miss fault (1 ms bio) is woken at the bio's completion: latency 1 ms + wake + j.
    A mkwrite_fast write fault sleeping 1 ms in dirty throttling (p_dirty_throttle 1)
    wakes at the sleep's end + j: the sleep's end never had `wake` (§4.1, §11.4), and
    §13.2 keeps every result at `wake_jitter = 0`, so it adds the jitter alone (the
    reading taken here).  wake = 3 µs, j = 2 µs; CPU work 0."""
    eng, c = run(bio_and_dirty_sleep((0, 2e3, 0.0)))
    assert c["dirty_throttles"] == 1
    assert samples(eng, "lp_fault_latency") == [1_002 * US, 1_005 * US]


def test_a_dirty_sleeps_jitter_is_drawn_when_the_sleep_starts():
    """The two faults above with wake_jitter = exp(5 µs).  Draws: at 0 the write fault's
    `p_dirty_throttle` uniform U₀ (the only draw of either step: every duration is
    const); then, still at 0, its sleep starts and draws E₁ (§13.2: a timed sleep's end,
    and so its jitter, is set when it starts); at 1 ms the miss fault's bio completes and
    its wake-up draws E₂.  So the write fault takes 1 ms + to_ns(5e3·E₁) and the miss
    fault 1 ms + 3 µs + to_ns(5e3·E₂).  Events: two steps, the bio's completion, the miss
    fault's run, the write fault's run at its sleep's end: five."""
    eng, c = run(bio_and_dirty_sleep((1, 5e3, 0.0)), seed=4)
    gen = np.random.Generator(np.random.PCG64DXSM(4))
    gen.random()
    j1, j2 = (to_ns(5e3 * gen.standard_exponential()) for _ in range(2))
    assert j1 != j2
    assert samples(eng, "lp_fault_latency") == sorted([MS + j1, 1_003 * US + j2])
    assert c["events"] == 5


def test_random_jitter_is_drawn_at_the_wake_up():
    """Two bg_io threads at 0 through one gate slot, device const(1 ms): nothing is drawn
    before the slot's hand-off at 1 ms, which draws j ~ exp(50 µs) (the first draw of the
    trial's stream): gate_wait = 1 ms + to_ns(50e3·E₁).  The second bio completes at
    2 ms + j, after the window: nothing else is drawn."""
    rec = workload([(0, 0, [{"step": "bg_io", "think": 5 * MS}])] * 2,
                   params={"throttle_depth": 7}, window=100 * US)
    eng, c = run(jittered(rec, (1, 50e3, 0.0)), seed=7)
    j = to_ns(50e3 * np.random.Generator(np.random.PCG64DXSM(7)).standard_exponential())
    assert j > 0 and samples(eng, "gate_wait") == [0, MS + j]


def test_scripts_refuse_a_random_jitter():
    """A script draws nothing (§4.1), so a random wake_jitter cannot be honoured."""
    rec = jittered(compile_scenario(validate()), (1, 50e3, 0.0))
    rows = compile_script([{"at": 0, "kind": "writer", "hold": "1ms"}])
    with pytest.raises(ParameterError) as err:
        ReferenceEngine(rec).run_script(rows)
    assert err.value.param == "wake_jitter" and "\n" not in str(err.value)


# ------------------------------------------------------------------ §13.1 empirical tables
def dist(kind, a, b=0.0):
    return np.array((kind, a, b), dtype=DIST_DTYPE)


def replay_uniforms(seed, n):
    gen = np.random.Generator(np.random.PCG64DXSM(seed))
    return [gen.random() for _ in range(n)]


def test_draw_ns_interpolates_the_quantiles():
    """p = U·m, i = ⌊p⌋, x = q_i + (q_{i+1} − q_i)(p − i), rounded (§13.1): replayed on
    the uniforms of the same generator, for a table of three quantiles (m = 2)."""
    q = [0.0, 10e3, 100e3]
    gen = np.random.Generator(np.random.PCG64DXSM(11))
    got = [draw_ns(gen, dist(4, 0.0), [q], [3]) for _ in range(200)]
    want = []
    for u in replay_uniforms(11, 200):
        p = u * 2
        i = int(p)
        want.append(to_ns(q[i] + (q[i + 1] - q[i]) * (p - i)))
    assert got == want
    assert any(x < 10_000 for x in got) and any(x > 10_000 for x in got)


def test_draw_ns_two_point_table_stays_within_its_bounds():
    """Two quantiles: x = q₀ + (q₁ − q₀)·U with U in [0, 1): in [q₀, q₁] after rounding,
    and spread over it (500 uniform draws all miss one end's tenth with probability
    0.9⁵⁰⁰ < 10⁻²²; the seed is fixed, so this never flakes)."""
    gen = np.random.Generator(np.random.PCG64DXSM(12))
    got = [draw_ns(gen, dist(4, 1.0), [[0.0, 0.0], [10e3, 30e3]], [2, 2])
           for _ in range(500)]
    assert min(got) >= 10_000 and max(got) <= 30_000
    assert min(got) < 12_000 and max(got) > 28_000


def test_draw_ns_const_like_table_is_exact_and_takes_one_uniform():
    """A table of equal values gives that value whatever U; it still takes one uniform, so
    the next draw is the generator's second."""
    gen = np.random.Generator(np.random.PCG64DXSM(13))
    assert [draw_ns(gen, dist(4, 0.0), [[7e3] * 33], [33]) for _ in range(3)] == [7_000] * 3
    assert gen.random() == replay_uniforms(13, 4)[3]


def test_draw_ns_needs_its_table():
    """An empirical distribution without the record's tables is a clear one-line error."""
    with pytest.raises(ParameterError) as err:
        draw_ns(np.random.default_rng(0), dist(4, 3.0), [[1.0, 2.0]], [2])
    assert err.value.param == "dist.a" and "\n" not in str(err.value)


@needs_empirical
def test_empirical_holds_and_devices_in_the_engine():
    """A writer thread whose hold is a const-like table [40 µs ×3] and whose think is
    uniform(0, 100 µs); device = a const-like table [1 ms, 1 ms] for a bg_io thread.
    Each empirical draw takes one uniform (§13.1): at 0 the writer's hold takes U₀ (40 µs
    exactly), the bio U₁ (1 ms exactly); from then on only the writer draws: think U₂, hold
    U₃, think U₄, …  So its steps start at s₀ = 0, s_{n+1} = s_n + 40 µs + to_ns(1e5·U_{2n+2}),
    those before 150 µs counted, each holding 40 µs.  The bio (counted, started at 0) is the
    last counted work: the trial ends at its completion, exactly 1 ms."""
    rec = workload([(0, 0, [{"step": "write", "hold": empirical(0),
                             "think": (3, 0.0, 100e3)}]),
                    (0, 0, [{"step": "bg_io", "think": 10 * MS}])],
                   window=150 * US)
    rec = with_tables(rec, [40e3] * 3, [1e6, 1e6])
    rec[0]["device"] = empirical(1)
    eng, c = run(rec, seed=21)
    u = replay_uniforms(21, 40)
    starts, t, n = [], 0, 0
    while t < 150 * US:
        starts.append(t)
        t += 40 * US + to_ns(1e5 * u[2 * n + 2])
        n += 1
    assert len(starts) >= 2
    assert samples(eng, "hold_writer") == [40 * US] * len(starts)
    assert samples(eng, "gate_wait") == [0] and eng.now == MS


@needs_empirical
def test_empirical_jitter_replayed():
    """wake_jitter = a two-point table [1 µs, 9 µs]: the gate hand-off of the jitter test
    above draws U₁: gate_wait = 1 ms + to_ns(1e3 + 8e3·U₁)."""
    rec = workload([(0, 0, [{"step": "bg_io", "think": 5 * MS}])] * 2,
                   params={"throttle_depth": 7}, window=100 * US)
    rec = with_tables(jittered(rec, empirical(0)), [1e3, 9e3])
    eng, c = run(rec, seed=8)
    j = to_ns(1e3 + 8e3 * replay_uniforms(8, 1)[0])
    assert samples(eng, "gate_wait") == [0, MS + j]


def test_the_open_model_record_has_no_jitter_and_no_tables():
    """compile_scenario() leaves wake_jitter const 0 (no draw) and no table in use."""
    r = compile_scenario(validate())[0]
    assert int(r["wake_jitter"]["kind"]) == 0 and float(r["wake_jitter"]["a"]) == 0.0
    assert not r["table_points"].any()
    assert numeric.to_ns(float(r["wake_jitter"]["a"])) == 0
