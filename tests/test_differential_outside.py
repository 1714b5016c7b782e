"""The compiled core against its pure-Python twin on work outside the locks (docs/model.md
§14.6): open models with ``io_cpu`` on 1–3 CPUs, bit for bit, on configurations chosen
to reach the paths that matter, which counters then show were reached.

* Background bios only: the server contexts are the only CPU contexts, so every
  ``cpu_queued`` entry is a server context's (§14.6: "its run-queue entries and waits
  count in ``cpu_queued``/``cpu_queue_ns``").
* A burst: bios issued while thousands of tasks are alive, so the compiled core's task
  table grows inside ``issue`` (a server context is a new task), with faults whose bios
  (their own, their pages') are issued from the middle of a pass -- where the core must
  re-read its task pointers.
* Mixed loads on kernel presets with random ``wake_jitter`` and ``cpu_switch``.
"""
import numpy as np
import pytest

from differential import INITIAL_TASKS, assert_same_run
from test_differential_stress import stress_config

#: (name, params, trials)
CONFIGS = [
    ("bg only, 1 CPU", {"hp_rate": 0.0, "lp_rate": 0.0, "bg_io_rate": 3000.0,
                        "throttle_depth": 0, "device": "exp(50us)", "cpus": 1,
                        "cpu_switch": "exp(2us)", "io_cpu": "exp(200us)", "wake": "5us",
                        "wake_jitter": "exp(3us)"}, 200),
    ("bg only, 3 CPUs", {"hp_rate": 0.0, "lp_rate": 0.0, "bg_io_rate": 8000.0,
                         "throttle_depth": 3, "device": "const(100us)", "cpus": 3,
                         "cpu_switch": "0", "io_cpu": "empirical(50us, 200us, 600us)"},
     200),
    ("6.18 mixed, 2 CPUs", {"kernel": "6.18", "lp_rate": 1500.0, "p_locked": 0.2,
                            "p_mkwrite_writeback": 0.3, "write_fault_ratio": 0.4,
                            "device": "ssd", "cpus": 2, "cpu_switch": "exp(3us)",
                            "io_cpu": "lognormal(30us, 0.5)", "wake": "3us",
                            "wake_jitter": "empirical(1us, 3us, 20us)"}, 300),
    ("4.19 mixed, 1 CPU", {"kernel": "4.19", "lp_rate": 800.0, "p_miss": 0.2,
                           "device": "exp(300us)", "throttle_depth": 6, "cpus": 1,
                           "cpu_switch": "2us", "io_cpu": "exp(20us)"}, 300),
]


def burst():
    """The differential stress set's gate burst (HP reads at 5,000/s holding ~1 ms, faults
    at 10,000/s, writers holding L for 10 ms now and then) on 8 CPUs, each bio served for
    20 us: thousands of tasks alive at once, most of them faults granted L together and
    issuing bios, and server contexts; it ends overloaded, so the engines are compared up
    to the same failing event (counters and the error)."""
    p = stress_config(np.random.default_rng(7), "gate-burst", "5.11+", "stock-4.19")
    p.update(cpus=8, cpu_switch="1us", io_cpu="20us", max_trial_events=40_000)
    return p


@pytest.fixture(scope="module")
def runs():
    """Every configuration on both engines (asserting agreement): name -> (counters,
    peaks, overloaded)."""
    out = {}
    for k, (name, params, trials) in enumerate(CONFIGS + [("burst", burst(), 10)]):
        counters, peaks, overloaded, _ = assert_same_run(params, seed=40 + k, trials=trials)
        out[name] = (counters, peaks, overloaded)
    return out


def test_server_contexts_agree_and_reach_their_paths(runs):
    assert [name for name, (_, _, ov) in runs.items() if ov] == ["burst"]
    for name in ("bg only, 1 CPU", "bg only, 3 CPUs"):
        c, _, _ = runs[name]
        assert c["bios"] == c["bg_bios"] > 0
        assert c["cpu_queued"] > 0 and c["cpu_queue_ns"] > 0, name    # only servers queue
    c, peaks, _ = runs["burst"]
    assert peaks["tasks"] > 4 * INITIAL_TASKS and c["buffer_growths"] > 0
    assert c["faults_locked"] and c["faults_miss"] and c["faults_mkwrite_slow"]
    assert c["cpu_queued"] > c["bios"] > 1000
    for name in ("6.18 mixed, 2 CPUs", "4.19 mixed, 1 CPU"):
        assert runs[name][0]["cpu_queued"] > 0, name
