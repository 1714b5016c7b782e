"""Workloads in the compiled core (docs/model.md §12): several processes, each with its own
mmap lock, VMAs with their own locks, closed-loop threads, scans and window trials.

Known answers derived by hand from the rules of §12 (and §2, §4, §11 they build on), with
``wake`` 0 and constant durations, so every time below follows from the text; the one
statistical check (uniform holds) compares against the distribution's mean inside five
standard errors.  Times in ns.
"""
import numpy as np
import pytest

from mcsim import layout as lay
from mcsim.engine import BlockOutput, block_bitgen, block_sizes, compiled_engine, trial_block_size
from mcsim.errors import ParameterError, SimulationError
from mcsim.numeric import to_ns
from mcsim.params import validate
from mcsim.scenario import (HOLD_DEFAULT, NO_VMA, SCAN_END, SCAN_START, TK_FAULT, TK_HP,
                            TK_WRITER, TRIAL_WINDOW, compile_scenario)
from mcsim.policies import FAULT_KINDS

US, MS = 1_000, 1_000_000
CONST, UNIFORM = 0, 3


def step(kind, process=0, vma=-1, fault=0, scan=0, hold=None, think=0):
    """One program step: ``hold``/``think`` are ns (const) or a (kind, a, b) triple."""
    as_dist = (lambda d: d if isinstance(d, tuple) else (CONST, float(d), 0.0))
    return {"kind": kind, "process": process, "vma": vma, "fault": fault, "scan": scan,
            "hold": (HOLD_DEFAULT, 0.0, 0.0) if hold is None else as_dist(hold),
            "think": as_dist(think)}


def workload(threads, warmup=0, window=10 * MS, n_processes=1, vma_process=(0,),
             open_stream=False, **params):
    """A window-trial record: ``threads`` is a list of (process, [steps]), start delay 0."""
    rec = compile_scenario(validate(dict({"wake": 0}, **params)))
    r = rec[0]
    r["trial_kind"] = TRIAL_WINDOW
    r["warmup_ns"], r["window_ns"] = warmup, window
    r["open_stream"] = int(open_stream)
    r["n_processes"], r["n_vmas"] = n_processes, len(vma_process)
    r["vma_process"][:len(vma_process)] = vma_process
    n = 0
    for i, (process, steps) in enumerate(threads):
        th = r["threads"][i]
        th["first_step"], th["n_steps"], th["process"] = n, len(steps), process
        th["start"] = (CONST, 0.0, 0.0)
        for s in steps:
            for field, value in s.items():
                r["steps"][n][field] = value
            n += 1
    r["n_threads"], r["n_steps"] = len(threads), n
    return rec


def run(rec, trials=1, seed=5, check=True):
    out = BlockOutput.zeros()
    rows = np.zeros((trials, len(lay.TRIAL_FIELDS)), dtype=np.int64)
    compiled_engine().run_block(rec, block_bitgen(seed, 0), trials, out.hist_arrays,
                                out.hist_scalars, out.hist_floats, out.counters, rows,
                                check_invariants=check)
    return out.histograms(), out.counter_dict(), rows


def cmdline_loop(process, think=1 * MS):
    return [step(TK_HP, process=process, hold=10 * US, think=think)]


WRITER_LOOP = [step(TK_WRITER, process=1, hold=1 * MS, think=0)]


# ------------------------------------------------------------------ processes
def test_writers_on_one_process_never_delay_reads_of_another():
    """§12.1: L_1 is write-held almost always by a saturated writer loop; reads of process
    0 take L_0, which nobody writes: reads at 0, 1.01, 2.02, 3.03, 4.04 ms (10 us hold, 1
    ms think) in a 5 ms window, every wait 0."""
    h, c, _ = run(workload([(1, WRITER_LOOP), (0, cmdline_loop(0))], window=5 * MS,
                           n_processes=2, vma_process=(0,)))
    assert (h["hp_wait"].n, h["hp_wait"].vmax) == (5, 0)
    assert c["inversions"] == 0 and h["writer_wait"].vmax == 0


def test_reads_of_the_written_process_wait_for_its_writer():
    """The same loops with the reader on process 1.  At 0 the writer (thread 0, scheduled
    first) takes L_1 for 1 ms and the read queues; at 1 ms the release grants the read
    (wait 1 ms), and the writer's next step (think 0, an event after the grant's wake-up)
    queues behind it until 1.01 ms, then holds until 2.01 ms.  The next read, at 2.01 ms
    (1 ms think after its release), comes just before that release at the same instant
    and is granted in it (wait 0); the writer's next section runs from the read's release
    to 1 ms later, so the pattern repeats every 1.01 ms: reads at 0, 2.01, 3.02, 4.03 ms
    in the 5 ms window, waits 1 ms, 0, 0, 0."""
    h, c, _ = run(workload([(1, WRITER_LOOP), (1, cmdline_loop(1))], window=5 * MS,
                           n_processes=2, vma_process=(0,)))
    assert h["hp_wait"].n == 4 and h["hp_wait"].total == 1 * MS
    assert h["hp_wait"].vmax == 1 * MS and h["writer_wait"].vmax == 10 * US


def vma_case(fault_vma):
    """Process 0 owns VMA 0, process 1 owns VMA 1; an mprotect loop on VMA 0 keeps it
    write-locked; a hit-fault loop (10 us lookup) runs on ``fault_vma``."""
    fault = FAULT_KINDS.index("hit")
    owner = (0, 1)[fault_vma]
    threads = [(0, [step(TK_WRITER, process=0, vma=0, hold=1 * MS, think=0)]),
               (owner, [step(TK_FAULT, process=owner, vma=fault_vma, fault=fault,
                             think=100 * US)])]
    return workload(threads, window=5 * MS, n_processes=2, vma_process=(0, 1),
                    kernel="6.18", fault_cpu="10us")


def test_a_fault_on_another_process_vma_never_falls_back():
    """§11.2, §12.1 on 6.18: a pass on VMA 1 takes V_1 at once, whatever V_0 does; each
    hit fault is its 10 us lookup."""
    h, c, _ = run(vma_case(1))
    assert c["fallbacks"] == 0 and h["fault_lock_wait"].n == 0
    assert h["lp_fault_latency"].vmin == h["lp_fault_latency"].vmax == 10 * US


def test_a_fault_on_the_written_vma_falls_back():
    """The same fault loop on VMA 0: V_0 is write-locked by the mprotect loop holding
    L_0(W), so passes fall back to L_0 and wait."""
    h, c, _ = run(vma_case(0))
    assert c["fallbacks"] > 0 and h["fault_lock_wait"].vmax > 0


# ------------------------------------------------------------------ scans and counters
def test_scan_counters_and_scan_metrics():
    """§12.2, §12.4: a ps scan of 3 processes (10 us per read, no wait), then 1 ms think.
    Scans start at 0, 1.03, 2.06 ms, each lasting 30 us; the 3 ms window counts 3 scans,
    9 reads and 3 iterations.  The step at 3.09 ms starts (a 4th scan) and ends the trial
    (now >= 3 ms, no counted task alive): 10 steps, 4 scans, 19 events (a step event and a
    hold end per read, plus that last step)."""
    steps = [step(TK_HP, process=0, scan=SCAN_START, hold=10 * US),
             step(TK_HP, process=1, hold=10 * US),
             step(TK_HP, process=2, scan=SCAN_END, hold=10 * US, think=1 * MS)]
    h, c, rows = run(workload([(0, steps)], window=3 * MS, n_processes=3, vma_process=(0,)))
    assert h["scan_time"].n == 3 and h["scan_time"].vmin == h["scan_time"].vmax == 30 * US
    assert h["scan_wait"].n == 3 and h["scan_wait"].vmax == 0
    assert h["hp_wait"].n == 9
    assert (c["steps"], c["scans"], c["hp_reads"], c["events"]) == (10, 4, 10, 19)
    assert c["thread_iterations_0"] == 3 and c["thread_iterations_1"] == 0
    assert (c["sim_ns"], c["busy_ns"], c["trials"]) == (3 * MS, 3 * MS, 1)
    assert rows[0, lay.T["hp_reads"]] == 9 and rows[0, lay.T["events"]] == 19


def test_window_counts_only_tasks_started_inside_it():
    """§12.3: writes (1 ms hold, 1 ms think) start at 0, 2, 4, 6 ms; the window [3, 7) ms
    counts the ones at 4 and 6, and the one at 6 is followed to its end at 7 ms, where
    the trial ends (8 events).  Three trials: sim_ns and busy_ns add the window each."""
    rec = workload([(0, [step(TK_WRITER, hold=1 * MS, think=1 * MS)])],
                   warmup=3 * MS, window=4 * MS)
    h, c, rows = run(rec, trials=3)
    assert h["hold_writer"].n == 6 and h["hold_writer"].trials == 3
    assert (c["writes"], c["steps"], c["events"]) == (12, 12, 24)
    assert (c["sim_ns"], c["busy_ns"], c["trials"]) == (12 * MS, 12 * MS, 3)
    assert rows[:, lay.T["writes"]].tolist() == [2, 2, 2]
    assert rows[:, lay.T["busy_ns"]].tolist() == [4 * MS] * 3
    assert rows[:, lay.T["idle_ns"]].tolist() == [0, 0, 0]


def test_think_zero_still_goes_through_an_event():
    """§12.2: a write loop with 0 hold and 0 think never advances the clock; each step is
    one event, so the trial's events reach max_trial_events and it stops with an error
    instead of spinning."""
    rec = workload([(0, [step(TK_WRITER, hold=0, think=0)])], window=1 * MS)
    rec["max_trial_events"] = 1000
    with pytest.raises(SimulationError, match="max_trial_events=1000"):
        run(rec)


# ------------------------------------------------------------------ uniform durations
def test_uniform_hold_is_a_plus_b_minus_a_times_one_uniform():
    """§12.5: uniform(a, b) = a + (b - a)·U with one uniform.  A window of 1 ns counts only
    the first write, whose hold is the trial stream's first draw (the start delay is
    const: no draw)."""
    a, b = 100 * US, 200 * US
    rec = workload([(0, [step(TK_WRITER, hold=(UNIFORM, a, b), think=0)])], window=1)
    h, _, _ = run(rec, seed=9)
    u = np.random.Generator(block_bitgen(9, 0)).random()
    assert h["hold_writer"].n == 1 and h["hold_writer"].vmax == to_ns(a + (b - a) * u)


def test_uniform_holds_stay_within_their_bounds():
    """Back-to-back writes with uniform(100 us, 200 us) holds over 1 s: every hold in
    [a, b], the mean (a + b) / 2 within five standard errors ((b - a)/sqrt(12 n))."""
    a, b = 100 * US, 200 * US
    rec = workload([(0, [step(TK_WRITER, hold=(UNIFORM, a, b), think=0)])], window=1000 * MS)
    h, _, _ = run(rec, check=False)
    hold = h["hold_writer"]
    assert hold.n > 6000 and a <= hold.vmin and hold.vmax <= b
    se = (b - a) / np.sqrt(12 * hold.n)
    assert abs(hold.total / hold.n - (a + b) / 2) < 5 * se


# ------------------------------------------------------------------ blocks and checks
def test_window_trials_are_blocks_of_one():
    rec = workload([(0, cmdline_loop(0))])
    assert trial_block_size(rec) == 1
    assert list(block_sizes(2, first_block=4, block_trials=trial_block_size(rec))) == \
        [(4, 1), (5, 1)]


def test_random_multi_process_workload_keeps_the_invariants():
    """Several processes and VMAs, mixed faults, same-VMA and elsewhere writers, a scan,
    the open stream beside them (on process 0), exp think times: the invariants of §12.6
    hold after every event (run_block raises AssertionError otherwise)."""
    mixed = -1
    threads = [(1, [step(TK_FAULT, process=1, vma=1, fault=mixed, think=(1, 200e3, 0.0))]),
               (1, [step(TK_WRITER, process=1, vma=1, think=(1, 500e3, 0.0)),
                    step(TK_WRITER, process=1, vma=NO_VMA, think=(1, 500e3, 0.0))]),
               (2, [step(TK_FAULT, process=2, vma=2, fault=mixed, think=0)]),
               (0, [step(TK_HP, process=0, scan=SCAN_START),
                    step(TK_HP, process=1),
                    step(TK_HP, process=2, scan=SCAN_END, think=(1, 1e6, 0.0))])]
    for kernel in ("4.19", "6.18"):
        rec = workload(threads, warmup=5 * MS, window=50 * MS, n_processes=3,
                       vma_process=(0, 1, 2), open_stream=True, kernel=kernel,
                       device="ssd", throttle_depth=4)
        h, c, _ = run(rec, trials=3)
        assert c["scans"] > 0 and h["scan_time"].n > 0 and h["lp_fault_latency"].n > 0
        assert c["thread_iterations_0"] > 0 and c["steps"] > c["scans"]


@pytest.mark.parametrize("field, value, name", [
    ("n_processes", 65, "scenario.n_processes"),
    ("n_threads", 33, "scenario.n_threads"),
    ("vma_process", 3, r"scenario.vma_process\[0\]"),
    ("steps.kind", 4, r"scenario.steps\[0\].kind"),
    ("steps.vma", 5, r"scenario.steps\[0\].vma"),
    ("steps.process", 1, r"scenario.steps\[0\].process"),
    ("steps.fault", 7, r"scenario.steps\[0\].fault"),
    ("steps.think", (5, 0.0, 0.0), r"scenario.steps\[0\].think.kind"),
    ("threads.start", (-1, 0.0, 0.0), r"scenario.threads\[0\].start.kind"),
    ("threads.n_steps", 2, r"scenario.threads\[0\].n_steps"),
    ("window_ns", 0, "scenario.window_ns"),
    ("trial_kind", 0, "scenario.trial_kind"),
])
def test_out_of_range_workload_fields_are_refused(field, value, name):
    """The core indexes its process, VMA, thread and step tables with these fields, so a
    raw record is checked on entry (one ParameterError naming the field)."""
    rec = workload([(0, [step(TK_FAULT, process=0, vma=0, fault=1)])], n_processes=2)
    r = rec[0]
    if field.startswith(("steps.", "threads.")):
        table, sub = field.split(".")
        r[table][0][sub] = value
    elif field == "vma_process":
        r["vma_process"][0] = value
    else:
        r[field] = value
    with pytest.raises(ParameterError, match=name):
        run(rec)
