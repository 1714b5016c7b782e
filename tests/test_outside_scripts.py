"""Known answers for work outside the locks (docs/model.md §14.6): server contexts
(``io_cpu``) and a fault step's ``lead``, timelines derived by hand from the rules and
asserted to the nanosecond on both engines.

The rules the derivations use, besides those quoted in tests/test_cpu_scripts.py (R1-R6:
§14.1-§14.4) and tests/test_workload_scripts.py (§2.1, §11.2, §12.2, §12.3):

* S1 (§14.6) "every bio issued [...] also creates one server context: at the issue,
  right after the bio's completion is scheduled, ``c`` <- ``io_cpu`` is drawn; the
  context becomes runnable by a wake-up (§14.2 (a)) [...]; when it runs it holds its CPU
  for ``c`` [...], then it ends and frees its CPU".  "It takes no lock, records no metric
  and does not delay its bio."  "It is never counted".
* S2 (§14.6) "With ``cpus = 0`` [...] or ``io_cpu = const 0`` nothing is created".
* L1 (§14.6) A fault step's fault "starts as §2.4 says [...]: ``faults`` and
  ``faults_<kind>`` count it, and for a kind with a page bio [...] that bio enters the
  gate now"; "then the thread runs ``lead`` on its CPU: a CPU stretch under no lock";
  "then the fault's first pass starts and takes its lock".  "The fault's latency
  (``lp_fault_latency``) counts from the step's start, so it includes ``lead``."

Times in µs.  Kernel 6.18: a fault pass takes the VMA lock V first (§11.2) and holds it
through ``mkwrite_writeback``'s wait for the page (its ``mkwrite`` column keeps the lock);
a writer changing the VMA takes ``L`` for write, then waits in ``vma_start_write()`` for
V's readers, blocked (blame ``vma_start_write``) while holding ``L``; a ``cmdline`` read
makes two acquisitions of ``L``.
"""
import pytest

import mcsim
from mcsim.errors import ParameterError
from test_cpu_scripts import run_script
from test_workload_scripts import check, cmdline, const, fault, run_trials, workload_record, write

US = 1_000

# ----------------------------------------------------------------------------------------
# I. A server context that finds every CPU busy (script; 2018 model, wake 0, cpu_switch 1,
#    io_cpu const 50):
#        W1 at 0   writer, hold 100
#        B1 at 10  bg_io, bio 1000
#        B2 at 20  bg_io, bio 1000
#        W2 at 30  writer, hold 10
#    cpus = 2:
#    0    W1 takes CPU a (R2 b), takes L, holds it (and the CPU) to 100
#    10   B1 (no context, §14.1) issues at once (throttle_depth 0: 128 gate slots), done
#         at 1010; its server context S1 is woken (S1): CPU b is idle, S1 takes it and
#         runs at 10 + wake = 10, holding it for 50, to 60
#    20   B2 issues (done at 1020); S2 is woken: no CPU is idle -> run queue (cpu_queued 1)
#    30   W2 (a timer) finds no idle CPU -> run queue behind S2 (cpu_queued 2)
#    60   S1 ends, freeing CPU b: S2 runs at 61 (R4; cpu_queue_ns += 61 - 20 = 41), to 111
#    100  W1 releases L and ends, freeing CPU a: W2 runs at 101 (cpu_queue_ns += 71): L is
#         free, writer_wait 0; holds 10: done 111
#    cpus = 1:
#    10   S1 queued (1); 20 S2 queued (2); 30 W2 queued (3)
#    100  W1 ends: S1 runs at 101 (+91), to 151; S2 at 152 (+132), to 202; W2 at 203
#         (+173), done 213.  cpu_queued 3, cpu_queue_ns 396.
#    cpus = 0, or io_cpu const 0 (S2): no server context; W2 queues for L at 30 and takes
#    it at W1's release, 100 (writer_wait 70), done 110.
SERVED = [
    {"at": 0, "kind": "writer", "hold": "100us"},
    {"at": "10us", "kind": "bg_io", "bio": "1000us"},
    {"at": "20us", "kind": "bg_io", "bio": "1000us"},
    {"at": "30us", "kind": "writer", "hold": "10us"},
]
#: (cpus, io_cpu) -> ([(kind, waits µs, done µs)], cpu_queued, cpu_queue_ns µs)
SERVED_EXPECTED = {
    (2, "50us"): ([("writer", [0], 100), ("bg_io", [], 1010), ("bg_io", [], 1020),
                   ("writer", [0], 111)], 2, 41 + 71),
    (1, "50us"): ([("writer", [0], 100), ("bg_io", [], 1010), ("bg_io", [], 1020),
                   ("writer", [0], 213)], 3, 91 + 132 + 173),
    (0, "50us"): ([("writer", [0], 100), ("bg_io", [], 1010), ("bg_io", [], 1020),
                   ("writer", [70], 110)], 0, 0),
    (2, "0"): ([("writer", [0], 100), ("bg_io", [], 1010), ("bg_io", [], 1020),
                ("writer", [70], 110)], 0, 0),
}


@pytest.mark.parametrize("cpus, io_cpu", sorted(SERVED_EXPECTED))
def test_a_server_context_that_finds_the_cpus_busy_queues(engine, cpus, io_cpu):
    tasks, counters = run_script(SERVED, engine, cpus=cpus, io_cpu=io_cpu, cpu_switch="1us",
                                 throttle_depth=0)
    want, queued, queue_us = SERVED_EXPECTED[(cpus, io_cpu)]
    assert tasks == [(k, [w * US for w in waits], done * US) for k, waits, done in want]
    assert (counters["cpu_queued"], counters["cpu_queue_ns"]) == (queued, queue_us * US)
    assert counters["bios"] == counters["bg_bios"] == 2   # S1: it delays no bio


def test_a_script_needs_a_constant_io_cpu(engine):
    """§14.6: "Scripts run without a random stream: ``io_cpu`` must be a ``const`` there"."""
    with pytest.raises(ParameterError, match="io_cpu"):
        mcsim.run_script(SERVED, engine=engine, cpus=1, cpu_switch="1us",
                         io_cpu="exp(10us)")


# ----------------------------------------------------------------------------------------
# II. A fault step's lead (workload; kernel 6.18, wake 0, cpu_switch 1, fault_cpu 10,
#     device 100, throttle_depth 7: one gate slot; window [0, 100)):
#         F  thread of process 0, start 0: fault mkwrite_writeback on V (VMA 0), lead x
#         W  thread of process 0, start 20: write (mprotect) of VMA 0, hold 10
#         R  thread of process 1, start 35: cmdline of process 0, hold 5
#     every think 1 s, so each thread runs one step in the trial.
#
#     lead 15, cpus 0 (and 2: a CPU is idle whenever a context becomes runnable):
#     0    F's fault starts (L1): faults 1; its page bio P enters the gate (slot free:
#          gate_wait 0) and is issued (bios 1), done at 100; F runs its lead to 15
#     15   the first pass read-locks V (hold_vma from 15); lookup to 25
#     20   W takes L_0 (writer_wait 0); V has a reader: W sleeps in vma_start_write()
#          holding L_0 (vma_writer_waits 1, blamed vma_start_write)
#     25   F waits for the page under V
#     35   R asks L_0 for read: write-held, R queues
#     100  P completes: F runs, its program ends, V is dropped (hold_vma 85), W woken;
#          the fault ends: lp_fault_latency 100 - 0 = 100 (lead included)
#     100  W runs: vma_writer_wait 80; holds 10
#     110  W releases L_0 (hold_writer 90): R granted, runs at 110: hp_acq_wait 75, an
#          inversion (W blocked in vma_start_write() between R's request and grant:
#          inversions 1, blame_vma_start_write 1, inversion_wait 75); holds 5; the second
#          acquisition is granted at 115 at once, holds 5: the read ends at 120, hp_wait 75
#     lead 50, cpus 0: the lead moves the fault's V after the writer:
#     20   W takes L_0; V has no reader: W write-locks it at once (vma_writer_wait 0)
#     30   W releases (hold_writer 10); 35 R's acquisitions granted at once (hp_wait 0)
#     50   F's pass read-locks V; lookup to 60, the page at 100: hold_vma 50, latency 100
#     lead 50, cpus 1:
#     0    F takes the CPU (R2 b), holds it through its lead and lookup (R1) to 60
#     20   W: no idle CPU -> run queue (cpu_queued 1); 35 R likewise (cpu_queued 2)
#     50   F's pass read-locks V; 60 F sleeps for the page: W runs at 61 (cpu_queue_ns 41):
#          takes L_0 (writer_wait 0), V has F's reader: W sleeps in vma_start_write();
#          R runs at 62 (cpu_queue_ns 27): L_0 write-held, R queues and sleeps
#     100  F wakes onto the idle CPU, drops V (hold_vma 50): W is woken, no CPU idle ->
#          run queue (cpu_queued 3); F ends (latency 100) and W runs at 101 (+1):
#          vma_writer_wait 101 - 61 = 40, holds 10
#     111  W releases L_0 (hold_writer 111 - 61 = 50): R is granted, no CPU idle -> run
#          queue (cpu_queued 4); W ends, R runs at 112 (+1): hp_acq_wait 112 - 62 = 50, an
#          inversion (inversion_wait 50); the read ends at 122.  cpu_queue_ns 70.
#     lead 15, cpus 1:
#     0    F holds the CPU to 25 (lead, then lookup under V from 15); W queued at 20 (1)
#     25   F sleeps for the page: W runs at 26 (+6): takes L_0, V has F's reader: W sleeps
#          in vma_start_write(), the CPU goes idle
#     35   R takes the idle CPU at once (R2 b): L_0 write-held, R queues and sleeps
#     100  F wakes, drops V (hold_vma 85), W is woken -> run queue (2); F ends (latency
#          100), W runs at 101 (+1): vma_writer_wait 75, holds 10
#     111  W releases (hold_writer 85): R granted -> run queue (3), runs at 112 (+1):
#          hp_acq_wait 77, an inversion; the read ends at 122.  cpu_queue_ns 8.
#     lead 50, cpus 1, io_cpu const 30 (S1 with L1):
#     0    F takes the CPU; P is issued and its server context S wakes: no idle CPU -> run
#          queue (cpu_queued 1, S1); F's lead to 50; W queued at 20 (2), R at 35 (3)
#     60   F sleeps for the page: S runs at 61 (+61), holds the CPU for 30, ends at 91: W
#          runs at 92 (+72): takes L_0, sleeps in vma_start_write(); R runs at 93 (+58),
#          queues for L_0
#     100  F wakes, drops V (hold_vma 50), W -> run queue (4); F ends (latency 100); W runs
#          at 101 (+1): vma_writer_wait 9, holds 10; 111: W releases (hold_writer 19), R
#          granted -> run queue (5), runs at 112 (+1): hp_acq_wait 112 - 93 = 19, an
#          inversion; the read ends at 122.  cpu_queue_ns 193.  S records nothing.
LEAD_WINDOW = 100 * US


def lead_threads(lead_us):
    return [(0, const(0), [fault(0, 0, "mkwrite_writeback", const(10**9),
                                 lead=const(lead_us * US))]),
            (0, const(20 * US), [write(0, const(10 * US), const(10**9), vma=0)]),
            (1, const(35 * US), [cmdline(0, const(5 * US), const(10**9))])]


def waited(hp_wait, hold_writer, vma_writer_wait, hold_vma, hold_hp=(10, 5, 5)):
    """The metrics of a case where W waits in vma_start_write() and R behind W (µs)."""
    return {"hold_hp": (2, *hold_hp), "hp_wait": (1, hp_wait), "hp_acq_wait": (2, hp_wait, 0, hp_wait),
            "inversion_wait": (1, hp_wait), "hold_writer": (1, hold_writer),
            "vma_writer_wait": (1, vma_writer_wait), "hold_vma": (1, hold_vma)}


WAITED_COUNTERS = {"vma_writer_waits": 1, "inversions": 1, "blame_vma_start_write": 1}
#: (lead µs, cpus, io_cpu) -> (metrics in µs: name -> (n, total[, min, max]), counters)
LEAD_EXPECTED = {
    (15, 0, "0"): (waited(75, 90, 80, 85), WAITED_COUNTERS),
    (50, 0, "0"): ({"hp_wait": (1, 0), "hp_acq_wait": (2, 0, 0, 0), "hold_writer": (1, 10),
                    "vma_writer_wait": (1, 0), "hold_vma": (1, 50)}, {}),
    (50, 1, "0"): (waited(50, 50, 40, 50, (11, 5, 6)), {**WAITED_COUNTERS, "cpu_queued": 4,
                                            "cpu_queue_ns": 70 * US}),
    (15, 1, "0"): (waited(77, 85, 75, 85, (11, 5, 6)), {**WAITED_COUNTERS, "cpu_queued": 3,
                                            "cpu_queue_ns": 8 * US}),
    (50, 1, "30us"): (waited(19, 19, 9, 50, (11, 5, 6)), {**WAITED_COUNTERS, "cpu_queued": 5,
                                              "cpu_queue_ns": 193 * US}),
}
LEAD_EXPECTED[(15, 2, "0")] = LEAD_EXPECTED[(15, 0, "0")]


@pytest.mark.parametrize("lead, cpus, io_cpu", sorted(LEAD_EXPECTED))
def test_a_fault_steps_lead_runs_after_its_page_bio_and_before_its_pass(engine, lead, cpus,
                                                                         io_cpu):
    us_metrics, extra = LEAD_EXPECTED[(lead, cpus, io_cpu)]
    metrics = {"lp_fault_latency": (1, 100 * US, 100 * US, 100 * US),
               "fault_passes": (1, 1, 1, 1), "gate_wait": (1, 0, 0, 0),
               "writer_wait": (1, 0, 0, 0), "hold_hp": (2, 10 * US, 5 * US, 5 * US)}
    # on 1 CPU R is granted L_0 at 111 and runs at 112: it holds L_0 from the grant (R5),
    # so its first hold_hp is 6
    for name, (n, total, *lohi) in us_metrics.items():
        lo, hi = lohi or (total // n, total // n)
        metrics[name] = (n, total * US, lo * US, hi * US)
    counters = {"faults": 1, "faults_mkwrite_writeback": 1, "bios": 1, "writes": 1,
                "hp_reads": 1, "lock_acquisitions": 3, "steps": 3, "thread_iterations_0": 1,
                "thread_iterations_1": 1, "thread_iterations_2": 1, **extra}
    rec = workload_record(lead_threads(lead), warmup=0, window=LEAD_WINDOW, processes=2,
                          fault_cpu="10us", device="100us", cpus=cpus, cpu_switch="1us",
                          io_cpu=io_cpu)
    check(run_trials(rec, engine), LEAD_WINDOW, metrics, counters)


def test_a_zero_lead_is_the_fault_without_one(engine):
    """L1 with ``lead`` const 0: the record's default; a drawn lead that is always 0
    (``uniform(0, 0)``, one uniform per step) gives the same waits: §4.1, the pass starts
    in the same call."""
    outs = []
    for lead in (const(0), (3, 0.0, 0.0)):
        threads = lead_threads(0)
        threads[0] = (0, const(0), [fault(0, 0, "mkwrite_writeback", const(10**9),
                                          lead=lead)])
        rec = workload_record(threads, warmup=0, window=LEAD_WINDOW, processes=2,
                              fault_cpu="10us", device="100us")
        outs.append(run_trials(rec, engine).histograms())
    assert {k: (h.n, h.total) for k, h in outs[0].items()} == \
        {k: (h.n, h.total) for k, h in outs[1].items()}
    assert (outs[0]["hold_vma"].n, outs[0]["hold_vma"].total) == (2, 2 * 100 * US)


def test_a_server_context_born_as_the_task_table_fills(engine):
    """A script holds all its tasks from the start (ids in order, none reused), so with 63
    writers far in the future and one ``miss`` fault at 0 the compiled core's task table
    (room for 64 at first) is full when the fault's bio is issued from the middle of its
    pass: the server context (S1) is the 65th task and the table grows inside ``issue``.
    One CPU, io_cpu const 10, wake 0, cpu_switch 0, 2018 model (stock-4.19 submits a
    miss's bio under L and drops L to wait for it, §2.4: ``lock_page_or_retry()``):
    0    F takes the CPU, read-locks L (wait 0), lookup 0, submits its bio (done at 100):
         S is woken, no CPU idle -> run queue (cpu_queued 1); F drops L, waits for its
         bio and sleeps: S runs at 0 (cpu_queue_ns 0) to 10
    100  the bio completes: F wakes onto the idle CPU and runs at 100; VM_FAULT_RETRY: its
         second pass read-locks the free L (wait 0), minor_cpu 0, done at 100.
    bios 1: the fault issued once (a core that lost its place in the pass would not)."""
    rows = [{"at": 0, "kind": "fault", "fault": "miss", "bio": "100us"}]
    rows += [{"at": "1s", "kind": "writer", "hold": "0"} for _ in range(63)]
    tasks, counters = run_script(rows, engine, cpus=1, io_cpu="10us", cpu_switch="0")
    assert tasks[0] == ("fault", [0, 0], 100 * US)
    assert all(t == ("writer", [0], 1_000_000 * US) for t in tasks[1:])
    assert (counters["bios"], counters["faults_miss"], counters["retries"],
            counters["cpu_queued"]) == (1, 1, 1, 1)
