"""The compiled core against its pure-Python twin on workloads (docs/model.md §12): the same
record and seed must give the same histograms, counters and trial rows, bit for bit.

Random workload records are built by one generator, :func:`build_workload`, driven either
by Hypothesis (which shrinks a disagreement to a small record) or by a seeded numpy
generator (a fixed set).  They cover 1–4 processes with 1–4 VMAs, 1–5 closed-loop threads
of 1–4 steps of every kind (faults of a fixed kind or mixed, writes on a VMA or elsewhere,
cmdline reads, scans over several processes, background bios), every duration kind
(uniform and empirical included, §13.1: in scenario durations, holds, think times and
start delays), a wake-up jitter (const or random, §13.2), a machine of 1–3 CPUs or a CPU
per task (§14) with a context switch of every duration kind, the kernel presets and the
2018 rows, the open stream on and off, in short window trials; and open workloads on
several processes in regenerative cycles.
A comparison only means something on a path it reaches, so the fixed set also asserts,
by counters, that it reaches the hard ones.
"""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mcsim import layout as lay
from mcsim import numeric
from mcsim.engine import BlockOutput, block_bitgen, compiled_engine, output_of_reference
from mcsim.errors import SimulationError
from mcsim.kernels import KERNEL_LIST
from mcsim.params import validate
from mcsim.policies import FAULT_KINDS, POLICY_LIST
from mcsim.reference import ReferenceEngine
from mcsim.scenario import (FAULT_MIXED, HOLD_DEFAULT, MAX_STEPS, NO_VMA, SCAN_END,
                            SCAN_START, TASK_KINDS, TK_BG, TK_FAULT, TK_HP, TK_WRITER,
                            TRIAL_CYCLE, TRIAL_WINDOW, compile_scenario)

US = 1_000
UNIFORM, EMPIRICAL = 3, 4
#: The quantile tables every record carries (§13.1; a distribution (4, i, 0) reads table
#: i): a const-like pair, one starting at 0, 33 points spread over 1 µs–300 µs, and two
#: for wake-up jitter (the second with a run of zeros).
TABLES = [[5e3, 5e3], [0.0, 10e3, 30e3, 200e3],
          [float(round(1e3 * 300 ** (i / 32))) for i in range(33)], [1e3, 9e3],
          [0.0, 0.0, 2e3, 50e3]]
#: Durations of holds, think times and start delays: const, exp, lognormal, uniform,
#: empirical.
DISTS = [(0, 0.0, 0.0), (0, 10e3, 0.0), (1, 30e3, 0.0), (2, 20e3, 1.0),
         (UNIFORM, 5e3, 120e3), (UNIFORM, 0.0, 40e3), (1, 300e3, 0.0),
         (EMPIRICAL, 1.0, 0.0), (EMPIRICAL, 2.0, 0.0)]
#: Think times that take time, for one step of every thread: a loop that can run in zero
#: time would never let the clock advance (a workload rejects it).
POSITIVE = [(0, 50e3, 0.0), (UNIFORM, 10e3, 200e3), (2, 100e3, 0.5), (1, 80e3, 0.0),
            (EMPIRICAL, 2.0, 0.0), (EMPIRICAL, 0.0, 0.0)]
#: Scenario durations that may become empirical, and the table each then reads.
EMPIRICAL_FIELDS = [("device", 2), ("writer_hold", 1), ("hp_hold", 0), ("fault_cpu", 1),
                    ("mkwrite_fast", 0), ("dirty_throttle", 2)]
#: wake_jitter: none, const, exp, uniform, empirical (§13.2).
JITTERS = [(0, 0.0, 0.0), (0, 2e3, 0.0), (1, 5e3, 0.0), (UNIFORM, 0.0, 10e3),
           (EMPIRICAL, 3.0, 0.0), (EMPIRICAL, 4.0, 0.0)]
#: cpus (§14): 0 (a CPU per task) most often; cpu_switch: const, exp, uniform, empirical.
CPUS = [0, 0, 0, 1, 2, 3]
CPU_SWITCHES = [(0, 2e3, 0.0), (1, 3e3, 0.0), (UNIFORM, 1e3, 9e3), (EMPIRICAL, 1.0, 0.0)]
KERNELS = ["none"] + [k.name for k in KERNEL_LIST]
#: io_cpu (§14.6): none (const 0) most often, const, exp, empirical; a fault step's lead:
#: none most often, const, exp, uniform (one uniform per step, 0 possible).
IO_CPUS = [(0, 0.0, 0.0), (0, 0.0, 0.0), (0, 20e3, 0.0), (1, 30e3, 0.0), (EMPIRICAL, 1.0, 0.0)]
LEADS = [(0, 0.0, 0.0), (0, 0.0, 0.0), (0, 15e3, 0.0), (1, 20e3, 0.0), (UNIFORM, 0.0, 40e3)]
#: cpu_affinity (§14.7): 0 (one run queue) most often, 1 (no draw) and fractional.
AFFINITIES = [0.0, 0.0, 1.0, 0.5, 0.9]
#: timer_slack (§14.8, with per-CPU run queues only): 0 (off) most often, a short one, the
#: Linux default, a long one; wake_remote: none, const, exp, empirical.
TIMER_SLACKS = [0, 0, 20_000, 50_000, 500_000]
WAKE_REMOTES = [(0, 0.0, 0.0), (0, 10e3, 0.0), (1, 15e3, 0.0), (EMPIRICAL, 1.0, 0.0)]
POLICIES = [p.name for p in POLICY_LIST]
#: Set when mcsim.numeric accepts uniform scenario durations (§12.5: "durations accept").
UNIFORM_SCENARIO = UNIFORM in numeric.DIST_KINDS


class NumpyPicker:
    """The choices of :func:`build_workload` from a seeded numpy generator."""

    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)

    def one(self, options):
        return options[int(self.rng.integers(len(options)))]

    def integer(self, lo, hi):
        return int(self.rng.integers(lo, hi + 1))


class HypothesisPicker:
    """The same choices from Hypothesis's ``draw`` (so a failure shrinks)."""

    def __init__(self, draw):
        self.draw = draw

    def one(self, options):
        return self.draw(st.sampled_from(options))

    def integer(self, lo, hi):
        return self.draw(st.integers(lo, hi))


def build_params(pick):
    """Scenario parameters: a kernel row, short devices and the §11 probabilities."""
    params = {"kernel": pick.one(KERNELS), "evict_rate": pick.one([0.0, 2000.0]),
              "device": pick.one(["const(150us)", "exp(200us)", "lognormal(100us, 0.6)"]),
              "throttle_depth": pick.one([7, 6, 3]), "wake": pick.one(["0", "3us", "20us"]),
              "writer_hold": pick.one(["20us", "exp(100us)", "lognormal(50us, 1.0)"]),
              "hp_hold": pick.one(["5us", "exp(10us)", "0"]),
              "fault_cpu": pick.one(["0", "2us", "exp(20us)"]),
              "minor_cpu": pick.one(["0", "2us"]),
              "write_fault_ratio": pick.one([0.0, 0.3, 0.8]),
              "p_mkwrite_slow": pick.one([0.0, 0.3]),
              "p_mkwrite_writeback": pick.one([0.0, 0.4]),
              "p_dirty_throttle": pick.one([0.0, 0.5]), "dirty_throttle": "exp(100us)",
              "p_retry_miss": pick.one([0.0, 0.3]), "revalidate_fail": pick.one([0.0, 0.3]),
              "p_hp_fallback": pick.one([0.0, 0.5]), "p_same_vma": pick.one([0.5, 1.0]),
              "writer_ratio": pick.one([0.1, 0.5]),
              "max_readers_wakeup": pick.one([256, 2]),
              "hp_rate": pick.one([0.0, 300.0, 3000.0]),
              "lp_rate": pick.one([0.0, 1000.0, 4000.0]),
              "bg_io_rate": pick.one([0.0, 500.0]), "max_trial_events": 200_000}
    miss, ra, locked = pick.one([(0.3, 0.1, 0.1), (0.05, 0.02, 0.01), (0.0, 0.0, 0.0)])
    params.update(p_miss=miss, p_async_ra=ra, p_locked=locked)
    if params["kernel"] == "none":
        params.update(policy=pick.one(POLICIES), era=pick.one(["4.x", "5.3", "5.11+"]))
    timeout = pick.one(["4ms", "200us", "20us"])
    params.update(handoff_timeout=timeout, hz=pick.one([0, 0, 1000, 250]))
    if params["hp_rate"] + params["lp_rate"] + params["bg_io_rate"] == 0:
        params["hp_rate"] = 100.0
    return params


def build_steps(pick, proc, vmas_of, n_processes):
    """A thread's program: 1–4 steps (a scan counts as one and expands to one cmdline
    step per process it reads)."""
    steps = []
    for _ in range(pick.integer(1, 4)):
        kind = pick.one(["fault", "write", "cmdline", "scan", "bg_io"])
        base = {"process": proc, "vma": -1, "fault": 0, "scan": 0,
                "hold": (HOLD_DEFAULT, 0.0, 0.0), "think": pick.one(DISTS)}
        if kind == "fault":
            fault = pick.one(["mixed"] + list(FAULT_KINDS))
            base.update(kind=TK_FAULT, vma=pick.one(vmas_of[proc]),
                        fault=FAULT_MIXED if fault == "mixed" else FAULT_KINDS.index(fault))
        elif kind == "write":
            base.update(kind=TK_WRITER, vma=pick.one([NO_VMA] + vmas_of[proc]),
                        hold=pick.one([(HOLD_DEFAULT, 0.0, 0.0)] + DISTS))
        elif kind == "bg_io":
            base.update(kind=TK_BG)
        else:
            base.update(kind=TK_HP, hold=pick.one([(HOLD_DEFAULT, 0.0, 0.0)] + DISTS))
            if kind == "cmdline":
                base.update(process=pick.integer(0, n_processes - 1))
            else:
                read = [p for p in range(n_processes) if pick.one([True, True, False])]
                read = read or [proc]
                for i, p in enumerate(read):
                    flags = (SCAN_START if i == 0 else 0) | (SCAN_END if i == len(read) - 1
                                                           else 0)
                    steps.append({**base, "process": p, "scan": flags,
                                  "think": base["think"] if flags & SCAN_END else DISTS[0]})
                continue
        steps.append(base)
    steps[-1]["think"] = pick.one(POSITIVE)
    return steps


def build_workload(pick, overrides=None):
    """A valid workload record: window trials with threads, or (one case in five) an
    open workload on several processes in regenerative cycles.  ``overrides`` replaces
    scenario parameters.  The CPUs are drawn last, so a record of the fixed set is the
    one it was before CPUs existed, on 1–3 CPUs in half of the cases; ``io_cpu`` and the
    fault steps' leads (§14.6) are drawn after them, so neither changes the records before,
    then ``cpu_affinity`` (§14.7) and, with per-CPU run queues, ``timer_slack`` and
    ``wake_remote`` (§14.8) last."""
    rec, trials = build_threads(pick, overrides)
    rec[0]["cpus"] = pick.one(CPUS)
    rec[0]["cpu_switch"] = pick.one(CPU_SWITCHES)
    rec[0]["io_cpu"] = pick.one(IO_CPUS)             # then the work outside the locks
    for j in range(int(rec[0]["n_steps"])):
        if int(rec[0]["steps"][j]["kind"]) == TK_FAULT:
            rec[0]["steps"][j]["lead"] = pick.one(LEADS)
    rec[0]["cpu_affinity"] = pick.one(AFFINITIES)    # per-CPU run queues (§14.7)
    if int(rec[0]["cpus"]) > 0 and float(rec[0]["cpu_affinity"]) > 0:
        rec[0]["timer_slack"] = pick.one(TIMER_SLACKS)       # last: timers per CPU (§14.8)
        if int(rec[0]["timer_slack"]) > 0:
            rec[0]["wake_remote"] = pick.one(WAKE_REMOTES)
    return rec, trials


def build_threads(pick, overrides):
    """The record of :func:`build_workload` without its CPUs."""
    params = {**build_params(pick), **(overrides or {})}
    if params["kernel"] != "none":
        params.pop("policy", None), params.pop("era", None)
    rec = compile_scenario(validate(params))
    r = rec[0]
    if UNIFORM_SCENARIO and pick.one([False, True]):
        r["device"] = (UNIFORM, 20e3, 400e3)
    for i, q in enumerate(TABLES):
        r["table_points"][i] = len(q)
        r["tables"][i][:len(q)] = q
    for name, table in EMPIRICAL_FIELDS:
        if pick.one([False, False, True]):
            r[name] = (EMPIRICAL, float(table), 0.0)
    r["wake_jitter"] = pick.one(JITTERS)
    n_p = pick.integer(1, 4)
    n_v = pick.integer(n_p, 4)
    owner = list(range(n_p)) + [pick.integer(0, n_p - 1) for _ in range(n_v - n_p)]
    r["n_processes"], r["n_vmas"] = n_p, n_v
    r["vma_process"][:n_v] = owner
    if pick.one([False, False, False, False, True]):
        r["trial_kind"], r["open_stream"] = TRIAL_CYCLE, 1
        return rec, 200          # short cycles: enough of them to queue for CPUs
    vmas_of = [[v for v in range(n_v) if owner[v] == p] for p in range(n_p)]
    r["trial_kind"] = TRIAL_WINDOW
    r["warmup_ns"] = pick.one([0, 500 * US, 2_000 * US])
    r["window_ns"] = pick.one([1_000 * US, 3_000 * US, 5_000 * US])
    r["open_stream"] = pick.one([0, 1])
    first = 0
    n_t = pick.integer(1, 5)
    for k in range(n_t):
        proc = pick.integer(0, n_p - 1)
        steps = build_steps(pick, proc, vmas_of, n_p)
        th = r["threads"][k]
        th["first_step"], th["n_steps"], th["process"] = first, len(steps), proc
        th["start"] = pick.one(DISTS)
        for j, s in enumerate(steps):
            st_ = r["steps"][first + j]
            for name in ("kind", "process", "vma", "fault", "scan", "hold", "think"):
                st_[name] = s[name]
        first += len(steps)
    assert first <= MAX_STEPS
    r["n_threads"], r["n_steps"] = n_t, first
    return rec, 1


@st.composite
def workloads(draw):
    rec, trials = build_workload(HypothesisPicker(draw))
    return rec, trials, draw(st.integers(0, 2**32 - 1))


# ------------------------------------------------------------------ running both engines
class ContentionReference(ReferenceEngine):
    """The reference, also recording the most processes whose L had waiters at once, and
    how often it drew from an empirical table, drew a random wake-up jitter, woke a task
    at the end of a dirty-throttling sleep with one and added a const non-zero one, and
    how often a task holding an L waited in the run queue (§14.3), a thread holding its CPU
    reached a step with the run queue not empty (preemption at a step boundary, §14.1) and
    a thread holding its CPU started a ``bg_io`` step (§14.1 item 7)."""

    max_contended = 0

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.reached = dict.fromkeys(("empirical_draws", "jitter_draws", "dirty_jitters",
                                     "const_jitter_wakes", "queued_holding_l",
                                     "step_preemptions", "bg_steps_on_cpu", "served",
                                     "served_queued", "leads"), 0)

    def _check(self):
        super()._check()
        busy = sum(1 for lk in self.locks if lk.queue)
        self.max_contended = max(self.max_contended, busy)
        self.reached["queued_holding_l"] += queued_readers_holding_l(self) > 0

    def _draw(self, dist):
        self.reached["empirical_draws"] += int(dist["kind"]) == EMPIRICAL
        return super()._draw(dist)

    def _wake_delay(self):
        const = int(self.wake_jitter["kind"]) == 0
        self.reached["jitter_draws"] += not const
        self.reached["const_jitter_wakes"] += const and self.wake_jitter["a"] > 0
        return super()._wake_delay()

    def _cpu_step(self, task, th):
        cpu = self._cpu_held_by(th) if self.affine else None   # per-CPU queues (§14.7)
        if (cpu is not None) if self.affine else th in self.cpu_holders:
            waiting = self.cpu_queues[cpu] if self.affine else self.run_queue
            self.reached["bg_steps_on_cpu"] += task.kind == TK_BG
            self.reached["step_preemptions"] += task.kind != TK_BG and bool(waiting)
        return super()._cpu_step(task, th)

    def _serve_io(self):
        self.reached["served"] += 1                      # a server context (§14.6) ...
        idle = (None in self.cpu_holder) if self.affine else self.cpu_idle > 0
        self.reached["served_queued"] += not idle        # ... that finds no idle CPU
        return super()._serve_io()

    def _lead(self, task):
        self.reached["leads"] += 1
        return super()._lead(task)

    def _sleep_end(self, task, duration):
        self.reached["dirty_jitters"] += int(self.wake_jitter["kind"]) != 0
        return super()._sleep_end(task, duration)


def queued_readers_holding_l(engine):
    """How many tasks in the reference's run queue (model.md §14.2) hold an L for read:
    HP readers and fault passes granted L while no CPU was idle (§14.3)."""
    queues = engine.cpu_queues if engine.affine else [engine.run_queue]   # §14.7
    return sum(ctx.holding and ctx.kind in (TK_HP, TK_FAULT) for q in queues for ctx, _ in q)


def reference_run(rec, seed, trials):
    """The reference's output (as :func:`mcsim.engine.run_blocks` merges it), checking its
    invariants after every event, and the most processes contended at once."""
    eng = ContentionReference(rec, block_bitgen(seed, 0), check_invariants=True,
                              record_trials=True)
    raw = eng.run_trials(trials)
    out = output_of_reference(raw)
    out.trial_rows = np.array(raw.trial_rows, dtype=np.int64).reshape(trials, -1)
    return out, eng


def compiled_run(rec, seed, trials):
    out = BlockOutput.zeros()
    rows = np.zeros((trials, len(lay.TRIAL_FIELDS)), dtype=np.int64)
    compiled_engine().run_block(rec, block_bitgen(seed, 0), trials, out.hist_arrays,
                                out.hist_scalars, out.hist_floats, out.counters, rows,
                                check_invariants=True)
    out.trial_rows = rows
    return out


def describe(rec):
    """The workload fields of a record, for a failure message."""
    r = rec[0]
    n_t, n_s = int(r["n_threads"]), int(r["n_steps"])
    return (f"trial_kind={int(r['trial_kind'])} warmup={int(r['warmup_ns'])} "
            f"window={int(r['window_ns'])} open={int(r['open_stream'])} "
            f"P={int(r['n_processes'])} vma_process={r['vma_process'][:int(r['n_vmas'])]} "
            f"threads={r['threads'][:n_t].tolist()} steps={r['steps'][:n_s].tolist()}")


def assert_same(rec, seed, trials):
    """Both engines on one record: the same error, or the same bytes."""
    try:
        ref, _ = reference_run(rec, seed, trials)
    except SimulationError:
        with pytest.raises(SimulationError):
            compiled_run(rec, seed, trials)
        return None
    got = compiled_run(rec, seed, trials)
    where = describe(rec)
    rc, gc = ref.counter_dict(), got.counter_dict()
    diff = {k: (rc[k], gc[k]) for k in rc if rc[k] != gc[k]}
    assert not diff, f"counters (reference, compiled) differ: {diff}; {where}"
    for m, name in enumerate(lay.METRICS):
        assert np.array_equal(ref.hist_scalars[m], got.hist_scalars[m]), (name, where)
        assert np.array_equal(ref.hist_arrays[m], got.hist_arrays[m]), (name, where)
        assert np.array_equal(ref.hist_floats[m], got.hist_floats[m]), (name, where)
    assert np.array_equal(ref.trial_rows, got.trial_rows), ("trial rows", where)
    return rc


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(workloads())
def test_workloads_compiled_equals_reference(case):
    rec, trials, seed = case
    assert_same(rec, seed, trials)


# ------------------------------------------------------------------ the fixed set
FIXED_CASES = 45
FIXED_SEED = 1210
#: Every third case of the fixed set: the 5.11+ rwsem with a wake latency and a short
#: handoff timeout in continuous time, where woken writers find L stolen and set the
#: handoff bit.
HANDOFF = {"kernel": "none", "era": "5.11+", "hz": 0, "handoff_timeout": "20us",
           "wake": "20us"}
#: Every third case, starting with the second: file faults under the VMA lock, with lookup
#: work that keeps it held, where same-VMA writers wait for the VMA's readers and faults
#: fall back to mmap_lock.
VMA_LOCKED = {"kernel": "6.18+vma-retry", "fault_cpu": "exp(30us)", "p_same_vma": 1.0}


@pytest.fixture(scope="module")
def fixed_set():
    """The fixed set's records, seeds and the reference's counters on each."""
    cases = []
    for i in range(FIXED_CASES):
        rec, trials = build_workload(NumpyPicker(FIXED_SEED + i),
                                     (HANDOFF, VMA_LOCKED, None)[i % 3])
        seed = FIXED_SEED + i
        try:
            out, eng = reference_run(rec, seed, trials)
            counters = {**out.counter_dict(), **eng.reached}
            counters["sampled_inversions"] = int(out.hist_scalars[lay.M_INVERSION_WAIT][0])
            contended = eng.max_contended
        except SimulationError:
            counters, contended = None, 0
        cases.append((rec, seed, trials, counters, contended))
    return cases


def test_fixed_set_reaches_the_hard_paths(fixed_set):
    """Across the fixed set, the reference takes every path worth comparing: VMA-lock
    fallbacks, writers waiting in vma_start_write(), scans, handoffs, inversions, HP
    fallbacks, retries, thread iterations, window and cycle trials, at least two
    processes' mmap locks with waiters at the same time, empirical draws (in scenario
    durations, holds and think times), random wake-up jitter at wake-ups and at the end
    of dirty-throttling sleeps, and a const non-zero jitter."""
    done = [c for c in fixed_set if c[3] is not None]
    assert len(done) >= FIXED_CASES - 3
    total = {k: sum(c[3][k] for c in done) for k in done[0][3]}
    for name in ("fallbacks", "vma_writer_waits", "scans", "handoffs", "inversions",
                 "hp_fallbacks", "retries", "tried_passes", "dirty_throttles", "steps",
                 "reader_steals", "writer_steals", "evictions", "thread_iterations_0",
                 "thread_iterations_4", "empirical_draws", "jitter_draws", "dirty_jitters",
                 "const_jitter_wakes"):
        assert total[name] > 0, name
    kinds = {int(c[0][0]["trial_kind"]) for c in done}
    assert kinds == {TRIAL_CYCLE, TRIAL_WINDOW}
    assert max(c[4] for c in done) >= 2
    # an inversion judged for a read outside the window: counted, not sampled (§12.3)
    assert any(c[3]["inversions"] > c[3]["sampled_inversions"] for c in done)
    assert any(int(c[0][0]["n_processes"]) > 1 and c[3]["scans"] > 0 for c in done)
    kinds = {int(k) for c in fixed_set for k in c[0][0]["steps"]["kind"][
        :int(c[0][0]["n_steps"])]}
    assert kinds == set(range(len(TASK_KINDS)))
    dists = {int(d) for c in fixed_set for d in c[0][0]["steps"]["think"]["kind"][
        :int(c[0][0]["n_steps"])]}
    assert UNIFORM in dists and EMPIRICAL in dists
    holds = {int(d) for c in fixed_set for d in c[0][0]["steps"]["hold"]["kind"][
        :int(c[0][0]["n_steps"])]}
    assert EMPIRICAL in holds
    ran = [c[0][0] for c in done]
    for name, _ in EMPIRICAL_FIELDS:
        assert any(int(r[name]["kind"]) == EMPIRICAL for r in ran), name
    jitters = {(int(r["wake_jitter"]["kind"]), float(r["wake_jitter"]["a"])) for r in ran}
    assert {(0, 2e3), (1, 5e3), (UNIFORM, 0.0), (EMPIRICAL, 3.0), (EMPIRICAL, 4.0)} <= jitters


def test_fixed_set_reaches_the_run_queue(fixed_set):
    """On 1–3 CPUs (§14) the fixed set makes tasks wait in the run queue, in window trials
    and in cycles, under a context switch of every kind (const, exp, uniform, empirical),
    with random wake-up jitter drawn on the idle path, with a task holding its process's
    L while it waits there, with threads preempted at a step boundary, and with threads
    whose CPU passes through a ``bg_io`` step."""
    queued = [(c[0][0], c[3]) for c in fixed_set
              if c[3] is not None and c[3]["cpu_queued"] > 0]
    assert all(int(r["cpus"]) > 0 and c["cpu_queue_ns"] > 0 for r, c in queued)
    assert {int(r["trial_kind"]) for r, _ in queued} == {TRIAL_CYCLE, TRIAL_WINDOW}
    assert {int(r["cpu_switch"]["kind"]) for r, _ in queued} == {0, 1, UNIFORM, EMPIRICAL}
    assert {int(r["cpus"]) for r, _ in queued} == {1, 2, 3}
    assert any(c["jitter_draws"] > 0 for _, c in queued)
    for name in ("queued_holding_l", "step_preemptions", "bg_steps_on_cpu"):
        assert sum(c[name] for _, c in queued) > 0, name


def test_fixed_set_reaches_work_outside_the_locks(fixed_set):
    """§14.6 in the fixed set: server contexts were created, in window trials and in
    cycles, and some found no idle CPU and queued (so ``cpu_queued`` counts them), under
    an io_cpu of every kind; fault steps ran a lead, of every kind."""
    done = [(c[0][0], c[3]) for c in fixed_set if c[3] is not None]
    served = [(r, c) for r, c in done if c["served"] > 0]
    assert all(int(r["cpus"]) > 0 for r, _ in served)
    assert {int(r["trial_kind"]) for r, _ in served} == {TRIAL_CYCLE, TRIAL_WINDOW}
    assert {int(r["io_cpu"]["kind"]) for r, _ in served} == {0, 1, EMPIRICAL}
    assert sum(c["served_queued"] for _, c in served) > 0
    assert all(c["cpu_queued"] >= c["served_queued"] for _, c in served)
    leads = {int(r["steps"]["lead"]["kind"][j]) for r, c in done if c["leads"] > 0
             for j in range(int(r["n_steps"])) if float(r["steps"]["lead"]["a"][j]) > 0}
    assert sum(c["leads"] for _, c in done) > 0 and leads >= {0, 1}, leads


def test_fixed_set_reaches_the_per_cpu_run_queues(fixed_set):
    """§14.7 in the fixed set: with cpu_affinity 1 and fractional, contexts stayed in a busy
    target's queue while another CPU was idle (``cpu_affine_queued``) and CPUs with an
    empty queue pulled from another's (``cpu_pulled``), in window trials; and the control:
    at cpu_affinity 0 neither counter moves."""
    done = [(c[0][0], c[3]) for c in fixed_set if c[3] is not None]
    for kind in ("one", "fraction"):
        runs = [(r, c) for r, c in done if int(r["cpus"]) > 0
                and (float(r["cpu_affinity"]) == 1.0) == (kind == "one")
                and float(r["cpu_affinity"]) > 0]
        assert sum(c["cpu_affine_queued"] for _, c in runs) > 0, kind
        assert sum(c["cpu_pulled"] for _, c in runs) > 0, kind
        assert any(int(r["trial_kind"]) == TRIAL_WINDOW and c["cpu_affine_queued"] > 0
                   for r, c in runs), kind
    assert all(c["cpu_affine_queued"] == c["cpu_pulled"] == 0 for r, c in done
               if float(r["cpu_affinity"]) == 0.0)


def test_fixed_set_reaches_the_timer_firings(fixed_set):
    """§14.8 in the fixed set: with timer_slack above 0, one firing woke other threads'
    expired timers (``timers_coalesced``) and sent later wakees to an idle CPU
    (``wakees_remote``), with a non-zero wake_remote drawn too; and the control: at
    timer_slack 0 neither counter moves."""
    done = [(c[0][0], c[3]) for c in fixed_set if c[3] is not None]
    runs = [(r, c) for r, c in done if int(r["timer_slack"]) > 0]
    assert sum(c["timers_coalesced"] for _, c in runs) > 0
    assert sum(c["wakees_remote"] for _, c in runs) > 0
    assert any(c["wakees_remote"] > 0 and float(r["wake_remote"]["a"]) > 0
               for r, c in runs)
    assert all(c["timers_coalesced"] == c["wakees_remote"] == 0 for r, c in done
               if int(r["timer_slack"]) == 0)


def test_fixed_set_compiled_equals_reference(fixed_set):
    for rec, seed, trials, _, _ in fixed_set:
        assert_same(rec, seed, trials)


def scripted_records():
    """The hand-derived workloads of tests/test_reference_workloads.py and
    tests/test_reference_measured.py: constant durations,
    so events fall exactly on the edges of the window (a step at warmup + window, a read
    queued behind a writer's release at the same instant)."""
    import test_reference_workloads as hand

    yield hand.writer_and_reader(0)
    yield hand.writer_and_reader(1)
    yield hand.scan_workload(window=5_000 * US)
    yield hand.scan_workload(warmup=2_500 * US, window=2_000 * US)
    yield hand.scan_workload(warmup=2_500 * US, window=1_505 * US)
    yield hand.two_vma_faults(0)
    yield hand.two_vma_faults(1)
    yield hand.workload([(0, 1_000 * US, [{"step": "write", "hold": 100 * US,
                                           "think": 400 * US}])],
                        warmup=1_000 * US, window=1_000 * US)
    # §12.3 and §13.2: iterations and scans across the window's end; const and random
    # jitter at every kind of wake-up, the end of a dirty-throttling sleep included
    import test_reference_measured as measured

    yield measured.two_step_writer(1_200 * US)
    yield measured.scan_across_the_window_end()
    for jitter in ((0, 2e3, 0.0), (1, 5e3, 0.0)):
        yield measured.wake_ups(jitter)
        yield measured.bio_and_dirty_sleep(jitter)


def scripted_cpu_records():
    """The hand-derived records of tests/test_reference_cpus.py (model.md §14), on one or
    two CPUs: steps queued after a sleep, a thread preempted at its step boundary, a
    ``bg_io`` step letting the thread's CPU go, a queued scan read."""
    import test_reference_cpus as cpus

    ms = 1_000 * US
    yield cpus.two_writer_threads(1, think=ms, start_b=ms // 2)
    yield cpus.two_writer_threads(1, think=0, start_b=ms // 2)
    yield cpus.two_writer_threads(2, think=0, start_b=ms // 2)
    yield cpus.bg_then_writer_threads()
    yield cpus.threads_record([(0, "writer", ms, 0, 0),
                               (1, "hp_read", 100 * US, 10 * ms, SCAN_START | SCAN_END)],
                              [(0, 1, 0), (1, 1, ms // 2)], ms)


def test_hand_derived_cpu_workloads_agree():
    for rec in scripted_cpu_records():
        assert_same(rec, 3, 2)


def test_hand_derived_workloads_agree():
    for rec in scripted_records():
        assert_same(rec, 3, 2)


def test_handoffs_in_jiffies_over_the_window_trials_of_a_block():
    """Four window trials in one block on the 5.11+ rwsem at HZ = 1000: the handoff's jiffy
    clock runs on over the block's trials, its base adding each trial's recorded busy and
    idle time (§11.6), which for a window trial is the window (§12.3).  Writers holding for
    exp(2 ms) behind readers that steal during a 20 µs wake latency set the handoff."""
    import test_reference_workloads as hand

    writer = [{"step": "write", "hold": (1, 2e6, 0.0), "think": (1, 1e6, 0.0)}]
    reader = [{"step": "cmdline", "process": 0, "hold": (1, 30e3, 0.0),
               "think": (1, 20e3, 0.0)}]
    rec = hand.workload([(0, 0, writer)] * 3 + [(0, 0, reader)] * 4,
                        params={"kernel": "none", "era": "5.11+", "hz": 1000, "wake": "20us"},
                        warmup=1_000 * US, window=10_000 * US)
    counters = [assert_same(rec, seed, 4) for seed in (2, 3)]
    assert all(c["handoffs"] > 0 for c in counters)


def test_a_page_bio_counts_with_its_fault_queued_across_the_window_edge():
    """Regression check (a bug the engines disagreed on): on 1 CPU a `mkwrite_writeback`
    fault admitted before the window opened waited for the CPU and started inside it; its
    page bio must be counted as the fault (§14.2: the start is deferred, the admission is
    not), or the trial's count of counted tasks never returns to 0 and the window trial
    runs on to max_trial_events.  Seed 7 with a 1012 µs window reaches exactly that."""
    from mcsim.scenario import compile_scenario
    from mcsim.workload import load_workload

    wl = load_workload("mkwrite-vs-mprotect")
    rec = compile_scenario(wl.config({"cpus": 1, "wake_jitter": "exp(5us)",
                                      "cpu_switch": "exp(2us)", "warmup": "50ms",
                                      "window": "1012us", "max_trial_events": 200_000}))
    wl.apply(rec)
    counters = assert_same(rec, 7, 1)
    assert counters is not None and counters["cpu_queued"] > 0


def test_a_thread_keeps_its_cpu_after_a_step_that_ends_where_it_starts():
    """Regression check (a bug the engines disagreed on, found by a random campaign): on 1
    CPU (cpu_switch 10 µs, wake 0) thread A's first step is a write holding 0 with think 0,
    so its task takes the idle CPU at 0, takes and releases L_0 and finishes in the same
    call; the step "finishes with a think time of 0 [and] does not sleep: the thread keeps
    its CPU" (§14.1 item 6).  Thread B's first step (a 100 µs write, start 0) then finds no
    idle CPU and queues; A's next step (a 100 µs write) comes at 0 with the run queue not
    empty, so it is preempted at its step boundary and queues too: ``cpu_queued`` 2,
    ``cpu_queue_ns`` 10 µs (B) + 120 µs (A, behind B's write and two switches) = 130 µs.
    The reference once freed A's CPU at the end of the step that started it, so B ran at
    once and only A's second step queued (``cpu_queued`` 1, ``cpu_queue_ns`` 110 µs)."""
    import test_reference_cpus as cpus

    ms = 1_000 * US
    rec = cpus.threads_record([(0, "writer", 0, 0, 0), (0, "writer", 100 * US, ms, 0),
                               (1, "writer", 100 * US, 10 * ms, 0)],
                              [(0, 2, 0), (2, 1, 0)], ms)
    counters = assert_same(rec, 3, 1)
    assert counters["cpu_queued"] == 2 and counters["cpu_queue_ns"] == 130 * US
