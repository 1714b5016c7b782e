"""The reference engine on workloads (docs/model.md §12): closed-loop threads, several
processes and VMAs, scans and window trials.

Every case uses constant durations and `wake` 0, so each expected value is derived by hand
from the rules of §12 (and §2, §11), written out in the test.  Where a rule leaves room for
two readings, the test says which one the engine takes.
"""
import numpy as np
import pytest

from mcsim import layout as lay
from mcsim.errors import ParameterError
from mcsim.params import validate
from mcsim.policies import FAULT_KINDS
from mcsim.reference import ReferenceEngine
from mcsim.engine import run_blocks
from mcsim.scenario import (FAULT_MIXED, HOLD_DEFAULT, NO_VMA, SCAN_END, SCAN_START,
                            TASK_KINDS, TRIAL_CYCLE, TRIAL_WINDOW, compile_scenario)

US, MS = 1_000, 1_000_000
STEP_KINDS = {"cmdline": "hp_read", "write": "writer", "fault": "fault", "bg_io": "bg_io"}
#: Quiet defaults: constant durations, no eviction draw, nothing random in a fixed step.
QUIET = {"evict_rate": 0.0, "fault_cpu": "0", "minor_cpu": "0", "device": "const(1ms)"}


def const(ns):
    return (0, float(ns), 0.0)


def workload(threads, *, params=None, processes=1, vmas=(0,), warmup=0, window=5 * MS,
             open_stream=False, trial=TRIAL_WINDOW):
    """A record: ``threads`` is a list of ``(process, start_ns, steps)``; a step is a dict
    with ``step`` (cmdline, write, fault, bg_io) and optionally ``process``, ``vma``,
    ``fault`` (a kind name or "mixed"), ``scan`` (flag bits), ``hold`` and ``think`` (ns,
    or a compiled distribution tuple)."""
    rec = compile_scenario(validate({**QUIET, **(params or {})}))
    r = rec[0]
    r["trial_kind"], r["warmup_ns"], r["window_ns"] = trial, warmup, window
    r["open_stream"], r["n_processes"], r["n_vmas"] = int(open_stream), processes, len(vmas)
    r["vma_process"][:len(vmas)] = vmas
    j = 0
    for k, (proc, start, steps) in enumerate(threads):
        th = r["threads"][k]
        th["first_step"], th["n_steps"], th["process"] = j, len(steps), proc
        th["start"] = const(start)
        for s in steps:
            st = r["steps"][j]
            st["kind"] = TASK_KINDS.index(STEP_KINDS[s["step"]])
            st["process"] = s.get("process", proc)
            st["vma"] = s.get("vma", 0 if s["step"] == "fault" else NO_VMA)
            fault = s.get("fault", "hit")
            st["fault"] = FAULT_MIXED if fault == "mixed" else FAULT_KINDS.index(fault)
            st["scan"] = s.get("scan", 0)
            hold = s.get("hold")
            st["hold"] = (HOLD_DEFAULT, 0.0, 0.0) if hold is None else (
                const(hold) if isinstance(hold, int) else hold)
            think = s.get("think", 0)
            st["think"] = const(think) if isinstance(think, int) else think
            j += 1
    r["n_threads"], r["n_steps"] = len(threads), j
    return rec


def run(rec, trials=1, seed=1):
    eng = ReferenceEngine(rec, np.random.PCG64DXSM(seed), check_invariants=True)
    raw = eng.run_trials(trials)
    return eng, raw.counters


def samples(eng, metric):
    """The last trial's samples of ``metric``, sorted."""
    return sorted(eng.samples[lay.METRICS.index(metric)])


def test_the_record_of_the_open_model_is_a_cycle_workload():
    """compile_scenario() fills the open model (§12): one process, one VMA, no thread."""
    r = compile_scenario(validate())[0]
    assert (int(r["trial_kind"]), int(r["open_stream"]), int(r["n_processes"]),
            int(r["n_vmas"]), int(r["n_threads"])) == (TRIAL_CYCLE, 1, 1, 1, 0)


def writer_and_reader(read_process):
    """Thread 0 in process 0 write-locks L_0 for 1 ms in a loop (think 0); thread 1, in
    process 1, reads the cmdline of ``read_process`` for 10 µs every 90 µs of think."""
    return workload([(0, 0, [{"step": "write", "hold": MS}]),
                     (1, 0, [{"step": "cmdline", "process": read_process, "hold": 10 * US,
                              "think": 90 * US}])],
                    processes=2, vmas=(0, 1), window=5 * MS)


def test_two_processes_do_not_share_their_mmap_lock():
    """Reading process 1 while process 0's L is write-held never waits (§12.1: nothing is
    shared between two L_p).  Reads start every 100 µs: at 0, 0.1, …, 4.9 ms inside the
    5 ms window, 50 counted; the writer's 5 steps at 0, 1, …, 4 ms never wait either."""
    eng, c = run(writer_and_reader(1))
    assert samples(eng, "hp_wait") == [0] * 50
    assert samples(eng, "writer_wait") == [0] * 5
    assert c["inversions"] == 0 and c["thread_iterations_1"] == 50
    assert c["thread_iterations_0"] == 5


def test_a_reader_of_the_writers_process_waits_behind_it():
    """The same reader on process 0 (era 4.x, writers steal a free L).  t = 0: the writer
    (thread 0, scheduled first) takes L_0 until 1 ms; the read queues and is granted at
    1 ms (wait 1 ms, holds to 1.01); the writer's next step, at 1 ms through an event,
    queues and runs 1.01–2.01.  From then on the period is 1.01 ms: each read starts 90 µs
    after the previous release and is granted at the writer's next release, 0.91 ms later;
    each writer step waits for the 10 µs read.  Counted reads start at 0, 1.1, 2.11, 3.12,
    4.13 ms (5.14 is past the 5 ms window); writer steps at 0, 1, 2.01, 3.02, 4.03 ms."""
    eng, c = run(writer_and_reader(0))
    assert samples(eng, "hp_wait") == [910 * US] * 4 + [MS]
    assert samples(eng, "writer_wait") == [0] + [10 * US] * 4
    assert samples(eng, "hold_writer") == [MS] * 5
    # the last counted read (4.13 ms) is granted at 5.04 and released at 5.05 ms: both
    # threads' iterations begun in the window end by then; the trial ends there
    assert c["thread_iterations_0"] == 5 and c["thread_iterations_1"] == 5
    assert c["steps"] == 11          # 5 + 5 counted, plus the writer's uncounted step at 5.04
    assert c["sim_ns"] == c["busy_ns"] == 5 * MS and c["trials"] == 1


def scan_workload(**kw):
    """Thread 0 in process 1 write-locks L_1 for 50 µs every 1 ms (think 950 µs); thread 1
    scans processes 0 and 1 (`ps`): two cmdline reads of 10 µs, think 0 between them and
    940 µs after the scan."""
    return workload([(1, 0, [{"step": "write", "hold": 50 * US, "think": 950 * US}]),
                     (0, 0, [{"step": "cmdline", "process": 0, "hold": 10 * US,
                              "scan": SCAN_START},
                             {"step": "cmdline", "process": 1, "hold": 10 * US,
                              "scan": SCAN_END, "think": 940 * US}])],
                    processes=2, vmas=(0, 1), **kw)


def test_a_scan_records_its_time_and_wait():
    """Each millisecond: the writer takes L_1 at t (thread 0's event is older), the scan
    reads process 0 at t (free, 10 µs), then process 1 at t + 10 µs: queued behind the
    writer until t + 50 µs, released at t + 60 µs.  scan_time = 60 µs, scan_wait = 40 µs;
    the think of 940 µs brings the next scan to t + 1 ms, after the writer's step again.
    Scans at 0 … 4 ms are counted; at 5 ms the writer's step comes first, and after it
    now ≥ 5 ms with no counted task alive: the trial ends before the scanner's step."""
    eng, c = run(scan_workload(window=5 * MS))
    assert samples(eng, "scan_time") == [60 * US] * 5
    assert samples(eng, "scan_wait") == [40 * US] * 5
    assert samples(eng, "hp_wait") == [0] * 5 + [40 * US] * 5
    assert c["scans"] == 5 and c["steps"] == 6 + 10
    assert c["thread_iterations_0"] == 5 and c["thread_iterations_1"] == 5
    assert c["hp_reads"] == 10 and c["writes"] == 6


def test_warmup_excludes_what_starts_before_it():
    """Warm-up 2.5 ms, window 2 ms: only the scans and writer steps starting at 3 and 4 ms
    are counted (a task is counted iff it starts in [warmup, warmup + window)).  Counters
    count the whole trial, warm-up included (§12.3); sim_ns adds the window only."""
    eng, c = run(scan_workload(warmup=2_500 * US, window=2 * MS))
    assert samples(eng, "scan_time") == [60 * US] * 2
    assert samples(eng, "writer_wait") == [0] * 2
    assert len(samples(eng, "hp_wait")) == 4
    assert c["scans"] == 5 and c["hp_reads"] == 10          # the whole trial
    assert c["thread_iterations_0"] == 2 and c["thread_iterations_1"] == 2
    assert c["sim_ns"] == c["busy_ns"] == 2 * MS


def test_a_scan_cut_by_the_window_end():
    """Window end at 4.005 ms: the scan starting at 4 ms has its first read counted, its
    second (4.01 ms) not.  §12.3: the scan and the scanner's iteration are counted (their
    first step is), so the trial waits for them: it does not end at 4.05 ms (the writer's
    release, the last counted task) but at 4.06 ms, the second read's release, which ends
    both.  That read (queued behind the writer 4.01–4.05 ms) records no hp_wait of its own,
    but its 40 µs are in its scan's scan_wait, and scan_time runs to its release: 60 µs.
    Steps: the writer's at 0 … 4 ms and the scanner's ten reads (0 … 4.01 ms); the next
    one, at 4.06 + 0.94 = 5 ms, never starts."""
    eng, c = run(scan_workload(warmup=2_500 * US, window=1_505 * US))
    assert samples(eng, "scan_time") == [60 * US] * 2              # the scans at 3 and 4 ms
    assert samples(eng, "scan_wait") == [40 * US] * 2
    assert samples(eng, "hp_wait") == [0, 0, 40 * US]             # 3, 3.01 and 4 ms
    assert c["thread_iterations_1"] == 2 and c["thread_iterations_0"] == 2
    assert c["scans"] == 5 and c["steps"] == 15 and c["hp_reads"] == 10


def test_think_times_and_iterations():
    """A program of two steps: a hit fault (5 µs of fault_cpu, then 10 µs of think) and a
    background bio (20 µs on the device, then 65 µs of think): one iteration per 100 µs.
    In a 1 ms window 10 iterations start (0, 0.1, …, 0.9 ms) and end by 0.935 ms; the
    fault step at 1 ms is not counted and ends the trial (now ≥ 1 ms, none counted alive)."""
    rec = workload([(0, 0, [{"step": "fault", "fault": "hit", "think": 10 * US},
                            {"step": "bg_io", "think": 65 * US}])],
                   params={"fault_cpu": "5us", "device": "20us"}, window=MS)
    eng, c = run(rec)
    assert c["thread_iterations_0"] == 10 and c["steps"] == 21
    assert samples(eng, "lp_fault_latency") == [5 * US] * 10
    assert samples(eng, "gate_wait") == [0] * 10
    assert c["faults"] == c["faults_hit"] == 11 and c["bg_bios"] == 10 and c["bios"] == 10


def test_counted_tasks_at_the_edges_and_events():
    """A writer thread starting at 1 ms (its start delay), holding 100 µs, thinking 400 µs;
    warm-up 1 ms, window 1 ms.  Steps at 1.0 and 1.5 ms are counted (the window includes
    its start), the one at exactly 2.0 ms is not (it excludes its end) and ends the trial.
    Events: step 1.0, its release 1.1, step 1.5, release 1.6, step 2.0: five."""
    rec = workload([(0, MS, [{"step": "write", "hold": 100 * US, "think": 400 * US}])],
                   warmup=MS, window=MS)
    eng, c = run(rec)
    assert samples(eng, "hold_writer") == [100 * US] * 2
    assert c["steps"] == 3 and c["events"] == 5 and c["max_trial_events"] == 5
    assert c["thread_iterations_0"] == 2 and c["writes"] == 3


def test_trials_of_one_block_add_their_windows():
    """run_trials(n) runs n independent window trials: everything above adds up n times."""
    rec = workload([(0, MS, [{"step": "write", "hold": 100 * US, "think": 400 * US}])],
                   warmup=MS, window=MS)
    eng, c = run(rec, trials=3)
    assert c["trials"] == 3 and c["sim_ns"] == c["busy_ns"] == 3 * MS
    assert c["events"] == 15 and c["max_trial_events"] == 5
    hist = eng.hists[lay.METRICS.index("hold_writer")]
    assert (hist.n, hist.total, hist.trials) == (6, 600 * US, 3)


def test_step_holds_default_to_the_scenarios():
    """A step hold of kind HOLD_DEFAULT draws writer_hold / hp_hold (§12.2)."""
    rec = workload([(0, 0, [{"step": "write", "think": 170 * US},
                            {"step": "cmdline", "process": 0, "think": 800 * US}])],
                   params={"writer_hold": "30us", "hp_hold": "const(7us)"}, window=MS)
    eng, c = run(rec)
    assert samples(eng, "hold_writer") == [30 * US] and samples(eng, "hold_hp") == [7 * US]


def two_vma_faults(fault_vma):
    """Kernel 6.18 (pass 1 under the VMA lock): thread 0 mprotect()s VMA 1 (holds L_0(W) and
    V_1 for 100 µs, think 900 µs: at 0, 1, 2 ms); thread 1 faults (hit, 200 µs of
    fault_cpu, think 700 µs) on ``fault_vma``.  Both start at 0, thread 0 first."""
    return workload([(0, 0, [{"step": "write", "vma": 1, "hold": 100 * US,
                              "think": 900 * US}]),
                     (0, 0, [{"step": "fault", "vma": fault_vma, "think": 700 * US}])],
                    params={"kernel": "6.18", "fault_cpu": "200us"}, vmas=(0, 0),
                    window=3 * MS)


def test_a_writer_on_one_vma_leaves_the_others_alone():
    """A fault on VMA 0 takes V_0 at once while V_1 is write-locked: no fallback, 200 µs
    each, at 0, 0.9, 1.8 and 2.7 ms (all inside the 3 ms window)."""
    eng, c = run(two_vma_faults(0))
    assert c["fallbacks"] == 0 and samples(eng, "lp_fault_latency") == [200 * US] * 4
    assert samples(eng, "hold_vma") == [200 * US] * 4


def test_a_fault_on_the_write_locked_vma_falls_back():
    """A fault on VMA 1 finds V_1 write-locked (§11.2): it falls back to L_0, queues behind
    the writer until 100 µs, then runs 200 µs: latency 300 µs; its think of 700 µs brings
    it back at 1 ms, after the writer's step (scheduled earlier), and so on at 2 ms.  At
    3 ms the writer's step comes first and ends the trial."""
    eng, c = run(two_vma_faults(1))
    assert c["fallbacks"] == 3
    assert samples(eng, "fault_lock_wait") == [100 * US] * 3
    assert samples(eng, "lp_fault_latency") == [300 * US] * 3


def test_a_same_vma_writer_waits_for_the_vmas_reader():
    """The fault on VMA 1 starts first (0, holds V_1 for 200 µs); the mprotect() of VMA 1
    starts at 50 µs, takes L_0(W) at once and waits in vma_start_write() until 200 µs."""
    rec = workload([(0, 0, [{"step": "fault", "vma": 1, "think": 800 * US}]),
                    (0, 50 * US, [{"step": "write", "vma": 1, "hold": 100 * US,
                                   "think": 850 * US}])],
                   params={"kernel": "6.18", "fault_cpu": "200us"}, vmas=(0, 0), window=MS)
    eng, c = run(rec)
    assert c["vma_writer_waits"] == 1
    assert samples(eng, "vma_writer_wait") == [150 * US]
    assert samples(eng, "hold_writer") == [250 * US]      # L_0(W) from 50 to 300 µs


def test_mixed_fault_steps_draw_their_kind():
    """A `mixed` fault step draws like an open arrival's fault (§12.5); with only hits
    possible every fault is a hit, whatever the draws."""
    rec = workload([(0, 0, [{"step": "fault", "fault": "mixed", "think": 100 * US}])],
                   params={"write_fault_ratio": 0.0, "p_miss": 0.0, "p_async_ra": 0.0,
                           "p_locked": 0.0}, window=MS)
    eng, c = run(rec)
    assert c["faults"] == c["faults_hit"] == 11 and c["thread_iterations_0"] == 10


def test_open_stream_in_a_window_trial():
    """The open model in a window trial: the arrivals are the Poisson stream of §4.3, whose
    draws (one U for the type, none for a const hold, one E for the gap) are replayed here.
    HP reads of hold 0 end within their arrival event, so the counted reads are those
    arriving in [warmup, warmup + window), and the trial ends with the first arrival at or
    after the end (counted by `hp_reads`, not sampled)."""
    rec = workload([], params={"hp_rate": 1000.0, "lp_rate": 0.0, "bg_io_rate": 0.0,
                               "hp_hold": "0"}, warmup=3 * MS, window=20 * MS,
                   open_stream=True)
    eng, c = run(rec, seed=5)
    gen, t, times = np.random.Generator(np.random.PCG64DXSM(5)), 0, []
    while not times or times[-1] < 23 * MS:
        times.append(t)
        gen.random()
        t += int(1e6 * gen.standard_exponential() + 0.5)
    counted = [x for x in times if 3 * MS <= x < 23 * MS]
    assert samples(eng, "hp_wait") == [0] * len(counted) and len(counted) > 5
    assert c["hp_reads"] == c["events"] == len(times)


def test_run_blocks_runs_window_records():
    """mcsim.engine runs a window record as blocks of one trial on the reference."""
    out = run_blocks(writer_and_reader(0), 3, [(0, 1), (1, 1)], engine="reference")
    c = out.counter_dict()
    assert c["trials"] == 2 and c["sim_ns"] == 10 * MS and c["thread_iterations_1"] == 10


@pytest.mark.parametrize("edit, param", [
    (lambda r: r.__setitem__("trial_kind", TRIAL_CYCLE), "scenario.trial_kind"),
    (lambda r: r["steps"][0].__setitem__("vma", 1), "scenario.steps[0].vma"),
    (lambda r: r["threads"][0].__setitem__("n_steps", 5), "scenario.threads[0].n_steps"),
    (lambda r: r["steps"][1].__setitem__("process", 2), "scenario.steps[1].process"),
    (lambda r: r["steps"][0]["think"].__setitem__("kind", 5), "scenario.steps[0].think.kind"),
])
def test_records_the_engine_could_misread_are_rejected(edit, param):
    """A write step changing another process's VMA (§12.6), a thread past the steps, an
    unknown process or distribution, threads in a cycle trial: one-line errors, before
    anything runs (mcsim.numeric.check_scenario, shared by both engines)."""
    rec = writer_and_reader(0)
    edit(rec[0])
    with pytest.raises(ParameterError) as err:
        ReferenceEngine(rec, np.random.PCG64DXSM(0))
    assert err.value.param == param and "\n" not in str(err.value)
