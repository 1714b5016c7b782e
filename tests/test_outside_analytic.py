"""Known answers for work outside the locks (docs/model.md §14.6) from queueing theory:
server contexts of an open stream of bios form an M/M/c queue, and closed loops whose
fault is all ``lead`` form the machine-repairman queue M/M/c//N.

**(a) Server contexts are M/M/c.**  Nothing arrives but background bios (``hp_rate``,
``lp_rate`` 0): a Poisson stream of rate lambda.  With ``throttle_depth = 0`` the gate has
128 slots and a bio of 1 µs almost never finds them full (the number in flight is Poisson
of mean lambda × 1 µs ≈ 0.0014), so every bio is issued at its arrival (§2.3), and §14.6
gives each issue one server context: "``c`` <- ``io_cpu`` is drawn; the context becomes
runnable by a wake-up (§14.2 (a)): if a CPU is idle it takes it now and runs after ``wake +
j`` [...]; else it enters the run queue's tail (counted in ``cpu_queued``)"; "when it runs
it holds its CPU for ``c`` [...], then it ends and frees its CPU (§14.3)", where the run
queue's head runs ``cpu_switch`` later and ``cpu_queue_ns`` adds its wait.  With ``wake``,
``wake_jitter`` and ``cpu_switch`` 0 and ``io_cpu`` = exp(1/mu), the server contexts are the
FIFO M/M/c queue and nothing else uses a CPU (a background bio never does, §14.1): by
PASTA ``cpu_queued / bios`` estimates Erlang's C(c, lambda/mu) and ``cpu_queue_ns / bios``
the mean wait C/(c mu - lambda) (formulas and intervals: tests/test_cpu_analytic.py).

**(b) A lead is a CPU burst: the machine-repairman queue.**  N threads, each repeating one
``hit`` fault with ``fault_cpu`` 0 and ``lead`` = exp(1/mu), think exp(1/lambda), on
``cpus = 1`` (kernel ``none``: the fault's pass read-locks ``L``, granted at once with no
writer; a hit's program is its lookup only, here 0).  §14.6: the fault "starts as §2.4
says", "then the thread runs ``lead`` on its CPU: a CPU stretch under no lock, on the CPU
it holds", then the pass, which ends at once; the step's task then finishes and the
thread sleeps its think time (§14.1 item 6), freeing the CPU.  A step after a think time is
a timer (§14.2 (b)): it takes the idle CPU or queues.  So each thread alternates an
exp(lambda) think and an exp(mu) burst served FIFO by one CPU: M/M/1//N, throughput X and
mean response W (``lp_fault_latency``, which "counts from the step's start, so it includes
``lead``") from ``finite_source``.

Each check is made at level 1 - 0.05/N_CHECKS (Bonferroni) with fixed seeds, so on a
correct engine this file fails with probability at most 5%.
"""
import pytest

from mcsim.engine import RUNNERS
from mcsim.params import validate
from mcsim.scenario import compile_scenario
from test_cpu_analytic import MU, erlang_c, finite_source
from test_workload_analytic import closed_loop_intervals, per_trial, ratio_interval
from test_workload_scripts import expo, fault, workload_record

MS = 1_000_000
#: (a) server contexts: (c, lambda per second, blocks, trials per block, engine)
SERVED = [
    (1, 600.0, 20, 5000, "compiled"),
    (2, 1400.0, 20, 5000, "compiled"),
    (2, 1000.0, 10, 40, "reference"),
]
SERVED_CHECKS = ("P(wait > 0)", "mean wait")
#: (b) leads on one CPU: (N, lambda/mu, trials, window ms, engine)
REPAIRMAN = [
    (3, 0.5, 200, 400, "compiled"),
    (2, 1.0, 20, 200, "reference"),
]
REPAIRMAN_CHECKS = ("throughput", "mean response")
WARMUP_MS = 50
N_CHECKS = len(SERVED) * len(SERVED_CHECKS) + len(REPAIRMAN) * len(REPAIRMAN_CHECKS)
LEVEL = 1 - 0.05 / N_CHECKS


def served_record(c, lam):
    return compile_scenario(validate(
        kernel="none", hp_rate=0.0, lp_rate=0.0, bg_io_rate=lam, throttle_depth=0,
        device="const(1us)", wake="0", cpus=c, cpu_switch="0",
        io_cpu=f"exp({1e3 / MU}ms)"))


@pytest.mark.parametrize("c, lam, blocks, trials, engine", SERVED)
def test_server_contexts_of_a_bio_stream_are_mmc(c, lam, blocks, trials, engine):
    rec = served_record(c, lam)
    queued, waited_s, bios = [], [], []
    for b in range(blocks):
        k = RUNNERS[engine](rec, b, trials, 70 + c).counter_dict()
        assert k["bios"] == k["bg_bios"] > 0          # every bio issued, one context each
        queued.append(k["cpu_queued"])
        waited_s.append(k["cpu_queue_ns"] / 1e9)
        bios.append(k["bios"])
    C = erlang_c(c, lam / MU)
    checks = {"P(wait > 0)": (ratio_interval(queued, bios, level=LEVEL), C),
              "mean wait": (ratio_interval(waited_s, bios, level=LEVEL), C / (c * MU - lam))}
    assert set(checks) == set(SERVED_CHECKS)
    for name, ((lo, hi), truth) in checks.items():
        assert lo <= truth <= hi, f"c={c} {name}: {truth:.6g} outside [{lo:.6g}, {hi:.6g}]"
    if engine == "compiled":                          # the checks have power
        lo, hi = checks["P(wait > 0)"][0]
        assert hi - lo < 0.03


def test_without_cpus_or_with_a_zero_io_cpu_nothing_is_served():
    """§14.6: "With ``cpus = 0`` [...] or ``io_cpu = const 0`` nothing is created and
    nothing is drawn" -- the same bytes as a run without the parameter."""
    base = RUNNERS["compiled"](served_record(2, 1000.0), 0, 200, 5)
    for params in ({"cpus": 0}, {"io_cpu": "0"}):
        cfg = validate(kernel="none", hp_rate=0.0, lp_rate=0.0, bg_io_rate=1000.0,
                       throttle_depth=0, device="const(1us)", wake="0", cpu_switch="0",
                       **{"cpus": 2, "io_cpu": "exp(1ms)", **params})
        out = RUNNERS["compiled"](compile_scenario(cfg), 0, 200, 5).counter_dict()
        assert out["cpu_queued"] == 0 and out["bios"] > 0
    assert base.counter_dict()["cpu_queued"] > 0      # and with both, contexts do queue


def repairman_record(n, r, window_ms):
    """N threads, each a hit fault with lead exp(1/mu) and no other CPU work, then think
    exp(1/lambda); the first step after an exp(1/lambda) start (state 0 of the chain)."""
    think = expo(1e9 / (r * MU))
    threads = [(0, think, [fault(0, 0, "hit", think, lead=expo(1e9 / MU))])
               for _ in range(n)]
    return workload_record(threads, warmup=WARMUP_MS * MS, window=window_ms * MS,
                           kernel="none", fault_cpu="0", cpus=1, cpu_switch="0")


@pytest.mark.parametrize("n, r, trials, window_ms, engine", REPAIRMAN)
def test_leads_on_one_cpu_are_the_machine_repairman(n, r, trials, window_ms, engine):
    rec = repairman_record(n, r, window_ms)
    _, x, w = finite_source(n, 1, r)
    got = closed_loop_intervals(per_trial(rec, trials, engine, seed=300 + n), n, LEVEL)
    checks = {"throughput": (got["throughput"], x), "mean response": (got["mean response"], w)}
    assert set(checks) == set(REPAIRMAN_CHECKS)
    for name, ((lo, hi), truth) in checks.items():
        assert lo <= truth <= hi, f"{name}: {truth:.6g} outside [{lo:.6g}, {hi:.6g}]"
