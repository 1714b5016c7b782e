"""`mcsim repro --controls`: the threads' timer slack and the cross-CPU wake-up measured
for docs/model.md §14.8 (docs/realkernel.md, "Calibration") and handed to the model.  The
probes are stood in for by constants, each probe by its own, so a constant in the wrong
place shows; the controls' traces are tests/test_repro_affinity.py's hand-made lines."""
from __future__ import annotations

import numpy as np
import pytest

from mcsim.realkernel import compare, runner
from mcsim.realkernel.calibrate import TABLE_INTERVALS, Calibration
from mcsim.realkernel.sidebyside import predict
from mcsim.realkernel.spec import RunSpec
from test_repro_affinity import choice_lines

POINTS = TABLE_INTERVALS + 1


def _probes(monkeypatch, slack=50_000, machine=2):
    """The idle-path probe 10 µs, the pinned one 4 µs, the cross-CPU one 17 µs, a sleep
    1.07 ms; the timer slack as given."""
    def probe(n=2000, gap="1ms", binaries=None, pinned=False, sleep=False, cross=False):
        value = 1_070_000 if sleep else 17_000 if cross else 4_000 if pinned else 10_000
        return np.full(50, value)

    monkeypatch.setattr(runner, "timer_slack_ns", lambda: slack)
    monkeypatch.setattr(compare, "machine_cpus", lambda: machine)
    return probe


def test_the_slack_and_the_cross_cpu_probe_reach_the_model(monkeypatch):
    spec = RunSpec(path="mkwrite", delay="5ms", duration="1s", writer="same")
    monkeypatch.setattr(runner, "measure_wakeup", _probes(monkeypatch))
    cal = compare.calibrate(spec, [spec] + compare.control_specs(spec),
                            _measured(spec), 2, lambda text: None)
    assert cal.timer_slack_ns == 50_000 and cal.remote_wake_ns == [17_000] * POINTS
    assert cal.wake_ns == [10_000] * POINTS and cal.switch_ns == [4_000] * POINTS
    assert "timer slack 50000 ns" in cal.source
    params = cal.params(spec.delay_ns)
    assert params["timer_slack"] == "50000ns"
    assert params["wake_remote"] == "empirical(" + ", ".join(["17000ns"] * POINTS) + ")"
    # the rule runs in the calibrated model (docs/model.md §14.8)
    res = predict(spec, 250, {"kernel": "6.18", **params}, trials=1,
                  thinks=cal.thinks(), lead=cal.lead())
    assert res.row()["timer_slack_ns"] == 50_000
    assert res.counters["timers_coalesced"] > 0 and res.counters["wakees_remote"] > 0


def _measured(spec):
    from types import SimpleNamespace

    from mcsim.trace.importer import import_lines

    run = SimpleNamespace(fault_ns=np.full(4, 5_400_000), lead_ns=np.full(4, 40_000),
                          server_cpu_ns=np.full(4, 30_000))
    return {s: (None, None, SimpleNamespace(imported=import_lines(choice_lines(27, 3)),
                                            run=run))
            for s in [spec] + compare.control_specs(spec)}


@pytest.mark.parametrize("cpus, machine", [(1, 2), (2, 1)])
def test_one_cpu_measures_no_cross_cpu_wake_up(monkeypatch, cpus, machine):
    spec = RunSpec(path="mkwrite", delay="5ms", duration="1s", writer="same")
    monkeypatch.setattr(runner, "measure_wakeup", _probes(monkeypatch, machine=machine))
    cal = compare.calibrate(spec, [spec] + compare.control_specs(spec), _measured(spec),
                            cpus, lambda text: None)
    assert cal.remote_wake_ns is None
    assert "timer_slack" not in cal.params(spec.delay_ns)


def test_no_affinity_no_timers():
    """§14.8 stands on §14.7: without a measured cpu_affinity the calibration leaves both
    constants out (the model would refuse timer_slack without per-CPU run queues)."""
    cal = Calibration([100], [5], "x", cpus=2, timer_slack_ns=50_000,
                      remote_wake_ns=[17_000])
    assert "timer_slack" not in cal.params(0) and "wake_remote" not in cal.params(0)
    cal = Calibration([100], [5], "x", cpus=2, cpu_affinity=0.0, timer_slack_ns=50_000,
                      remote_wake_ns=[17_000])
    assert "timer_slack" not in cal.params(0)


def test_an_older_calibration_without_the_fields_still_loads():
    import json
    from dataclasses import asdict

    meta = asdict(Calibration([100], [5], "x", cpus=2, cpu_affinity=0.9))
    for name in ("timer_slack_ns", "remote_wake_ns"):
        meta.pop(name)
    cal = Calibration(**json.loads(json.dumps(meta)))
    assert cal.timer_slack_ns is None and "timer_slack" not in cal.params(0)


def test_the_timer_slack_is_read_from_proc(tmp_path):
    f = tmp_path / "timerslack_ns"
    f.write_text("50000\n")
    assert runner.timer_slack_ns(str(f)) == 50_000
    f.write_text("junk")
    assert runner.timer_slack_ns(str(f)) is None
