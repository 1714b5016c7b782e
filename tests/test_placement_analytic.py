"""Known answers for per-CPU run queues (docs/model.md §14.7) from exact equalities and
queueing theory.

**Threads that all start on CPU 0 stay there: the machine of one CPU.**  N closed-loop
threads each repeat: an HP read of hold 0 (the §4.1 zero-length section: granted and
released in one call; reads only, so never queued for ``L``, §2.1 4.x), think 1 ns, a
``hit`` fault (one CPU burst ``fault_cpu`` = exp(1 ms), under ``L`` for read: granted at
once), think exp.  Every thread starts at 0.  With ``cpus = 2`` and ``cpu_affinity = 1``:

* at 0 each thread's read is a timer with no last CPU; every CPU is idle when it comes
  (the one before it ended in its own call and slept, freeing its CPU), so each takes the
  lowest-numbered idle CPU, CPU 0 (§14.7 P2): every thread's last CPU is 0;
* from then on every step is a timer (think > 0) targeting its thread's last CPU (P1),
  CPU 0: idle, it takes it; busy, the step stays in CPU 0's queue (``cpu_affinity = 1``:
  always, no draw; counted in ``cpu_affine_queued`` when CPU 1 is idle, which it always is);
* CPU 1 is never taken, so it never frees and never pulls (P3), and a context pulled by
  CPU 0 would be one of CPU 0's own: no ``cpu_pulled``; nothing is ever woken (reads only:
  no queue for ``L``, no IO).

That is, event for event and draw for draw, the same machine as ``cpus = 1``
(``cpu_affinity = 0``, §14.2–§14.3: one CPU, one FIFO, a timer's context runs at once on
the idle CPU or queues): every histogram and counter is equal, except
``cpu_affine_queued``, which counts the queue entries made while CPU 1 was idle, here all
of them (= ``cpu_queued``).

**Open bursts: still M/M/c.**  The open M/M/c of tests/test_cpu_analytic.py (hit faults,
burst exp(1/mu), no writer, no IO, no wake-up) with ``cpu_affinity = 1``: an arrival has no
last CPU, so it takes the lowest-numbered idle CPU, or with none idle enters the shortest
queue (§14.7 P2); a CPU that frees takes its own queue's head, else pulls another's, else
goes idle (P3).  So no CPU is idle while a context waits: with exponential bursts the
number of faults at the CPUs is the birth-death chain of M/M/c whatever the order, and by
PASTA and Little ``P(wait > 0)`` is Erlang's C(c, a) and ``E[W_q] = C/(c mu - lambda)``
(the order, and so the wait's distribution beyond its mean, is not FIFO's).  A pull that
did not happen would leave a CPU idle with work waiting and raise both.
"""
import numpy as np
import pytest

from mcsim import layout as lay
from mcsim.engine import RUNNERS, BlockOutput, run_blocks
from test_cpu_analytic import MU, erlang_c, mmc_record
from test_workload_analytic import ratio_interval
from test_workload_scripts import cmdline, const, expo, fault, workload_record

MS = 1_000_000
LEVEL = 1 - 0.05 / 4                 # four interval checks in this file (Bonferroni)


def one_cpu_record(n, cpus, affinity):
    think = expo(1e9 / (0.5 * MU))
    steps = [cmdline(0, const(0), const(1)), fault(0, 0, "hit", think)]
    return workload_record([(0, const(0), steps) for _ in range(n)], warmup=5 * MS,
                           window=50 * MS, kernel="none", fault_cpu=f"exp({1e3 / MU}ms)",
                           hp_hold="0", cpus=cpus, cpu_switch="exp(2us)",
                           cpu_affinity=affinity)


@pytest.mark.parametrize("n, trials, engine", [(4, 40, "compiled"), (3, 4, "reference")])
def test_threads_that_start_on_cpu_0_are_the_machine_of_one_cpu(n, trials, engine):
    blocks = [(k, 1) for k in range(trials)]
    one = run_blocks(one_cpu_record(n, 1, 0.0), 5, blocks, engine=engine)
    two = run_blocks(one_cpu_record(n, 2, 1.0), 5, blocks, engine=engine)
    c1, c2 = one.counter_dict(), two.counter_dict()
    assert c1["cpu_queued"] > 0 and c1["faults"] > 0           # the check has content
    assert c2["cpu_affine_queued"] == c2["cpu_queued"] and c2["cpu_pulled"] == 0
    assert c1["cpu_affine_queued"] == 0
    for name in lay.COUNTERS:
        if name != "cpu_affine_queued":
            assert c1[name] == c2[name], name
    for m in range(len(lay.METRICS)):
        assert np.array_equal(one.hist_arrays[m], two.hist_arrays[m]), lay.METRICS[m]
        assert np.array_equal(one.hist_scalars[m], two.hist_scalars[m]), lay.METRICS[m]


def test_the_same_threads_spread_without_affinity():
    """The control: at cpu_affinity = 0 (§14.2) the same threads use both CPUs, so the
    equality above is not a property of the workload."""
    blocks = [(k, 1) for k in range(10)]
    one = run_blocks(one_cpu_record(4, 1, 0.0), 5, blocks).counter_dict()
    two = run_blocks(one_cpu_record(4, 2, 0.0), 5, blocks).counter_dict()
    assert two["cpu_queued"] < one["cpu_queued"] / 2


@pytest.mark.parametrize("c, lam, blocks, trials", [(2, 1400.0, 40, 10000),
                                                    (3, 2100.0, 40, 10000)])
def test_open_bursts_with_affinity_are_still_mmc(c, lam, blocks, trials):
    rec = mmc_record(c, lam)
    rec[0]["cpu_affinity"] = 1.0
    queued, waited_s, faults, pulled = [], [], [], 0
    for b in range(blocks):
        k = RUNNERS["compiled"](rec, b, trials, 60 + c).counter_dict()
        assert k["faults"] == k["faults_hit"] and k["cpu_affine_queued"] == 0
        queued.append(k["cpu_queued"])
        waited_s.append(k["cpu_queue_ns"] / 1e9)
        faults.append(k["faults"])
        pulled += k["cpu_pulled"]
    assert pulled > 0                                  # the pull path ran
    C = erlang_c(c, lam / MU)
    truths = {"P(wait > 0)": C, "mean wait": C / (c * MU - lam)}
    intervals = {"P(wait > 0)": ratio_interval(queued, faults, level=LEVEL),
                 "mean wait": ratio_interval(waited_s, faults, level=LEVEL)}
    for name, truth in truths.items():
        lo, hi = intervals[name]
        assert lo <= truth <= hi, f"c={c} {name}: {truth:.6g} outside [{lo:.6g}, {hi:.6g}]"
    lo, hi = intervals["P(wait > 0)"]
    assert hi - lo < 0.01                               # the check has power
