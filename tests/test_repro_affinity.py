"""`mcsim repro --controls`: ``cpu_affinity`` measured on the no-writer controls' traces
(docs/realkernel.md, "Calibration") and handed to the model.  The controls' traces are
hand-made scheduler lines (tests/test_trace_placement.py has the rules) whose choices
are counted here by construction; the probes are stood in for by constants."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from mcsim.realkernel import compare, runner
from mcsim.realkernel.calibrate import MIN_PLACEMENT_CHOICES, from_control
from mcsim.realkernel.compare import control_specs
from mcsim.realkernel.sidebyside import predict
from mcsim.realkernel.spec import RunSpec
from mcsim.trace.importer import import_lines


def choice_lines(stayed: int, moved: int) -> list[str]:
    """b, running on CPU 1, wakes a (asleep, CPU 0 idle) ``stayed + moved`` times: each a
    choice; the kernel puts a on CPU 1 (stayed) in the first ``stayed``, on CPU 0 after.
    a then runs there and sleeps again, leaving CPU 0 idle and b on CPU 1."""
    lines = ["a-10 [000] ..... 1.000000: sys_read(fd: 0, buf: 0, count: 1)",
             "b-11 [001] ..... 1.000000: sys_read(fd: 0, buf: 0, count: 1)",
             _switch(0, 1, ("a", 10), "S", ("swapper", 0))]
    for k in range(stayed + moved):
        t = 10 + 10 * k
        cpu = 1 if k < stayed else 0
        lines += [f"b-11 [001] d..3. 1.{t:06d}: sched_waking: comm=a pid=10 prio=120 "
                  f"target_cpu=000",
                  f"b-11 [001] d..4. 1.{t + 1:06d}: sched_wakeup: comm=a pid=10 prio=120 "
                  f"target_cpu={cpu:03d}"]
        if cpu == 1:            # a preempts b there, then sleeps and b runs on
            lines += [_switch(1, t + 2, ("b", 11), "R", ("a", 10)),
                      _switch(1, t + 3, ("a", 10), "S", ("b", 11))]
        else:
            lines += [_switch(0, t + 2, ("swapper", 0), "R", ("a", 10)),
                      _switch(0, t + 3, ("a", 10), "S", ("swapper", 0))]
    return lines


def _switch(cpu, us, prev, state, nxt):
    task = "<idle>-0" if prev[1] == 0 else f"{prev[0]}-{prev[1]}"
    return (f"{task} [{cpu:03d}] d..2. 1.{us:06d}: sched_switch: prev_comm={prev[0]} "
            f"prev_pid={prev[1]} prev_prio=120 prev_state={state} ==> next_comm={nxt[0]} "
            f"next_pid={nxt[1]} next_prio=120")


def test_the_choice_lines_count_as_built():
    p = import_lines(choice_lines(7, 3)).placement
    assert (p.choices, p.stayed, p.stale) == (10, 7, 0)


def _calibrate(monkeypatch, traces, spec, cpus=2):
    """compare.calibrate over the run and its controls, each control's trace from
    ``traces(spec)``."""
    monkeypatch.setattr(runner, "measure_wakeup", lambda *a, **k: np.full(50, 10_000))
    specs = [spec] + control_specs(spec)
    run = SimpleNamespace(fault_ns=np.full(4, 5_400_000), lead_ns=np.full(4, 40_000),
                          server_cpu_ns=np.full(4, 30_000))
    measured = {s: (None, None, SimpleNamespace(imported=import_lines(traces(s)), run=run))
                for s in specs}
    return compare.calibrate(spec, specs, measured, cpus, lambda text: None)


def test_cpu_affinity_comes_from_the_no_writer_controls_only(monkeypatch):
    """No writer at 5 ms: 20 of 25 choices stayed; no writer at D = 0: 10 of 10.  The run
    (writer same) and the writer-elsewhere control moved all of theirs: counted, the
    affinity would fall.  Pooled: 30 / 35."""
    def traces(s):
        if s.writer != "none":
            return choice_lines(0, 30)
        return choice_lines(20, 5) if s.delay_ns else choice_lines(10, 0)

    spec = RunSpec(path="retry", delay="5ms", duration="1s", writer="same")
    cal = _calibrate(monkeypatch, traces, spec)
    assert cal.cpu_affinity == pytest.approx(30 / 35)
    assert cal.placement["choices"] == 35 and cal.placement["stayed"] == 30
    assert cal.params(5_000_000)["cpu_affinity"] == pytest.approx(30 / 35)
    assert ("cpu_affinity 0.857 from retry D=5ms writer=none, retry D=0 writer=none "
            "(30 of 35 choices stayed)") in cal.source
    # the value reaches the model: its rule runs (docs/model.md §14.7)
    res = predict(spec, 250, {"kernel": "6.18", **cal.params(spec.delay_ns)}, trials=1)
    assert res.row()["cpu_affinity"] == pytest.approx(30 / 35)
    assert res.counters["cpu_affine_queued"] > 0


def test_too_few_choices_leave_cpu_affinity_at_0(monkeypatch):
    """19 choices in the no-writer control at 5 ms, none at D = 0 (its trace without
    scheduler events), 30 in the others, which do not count."""
    def traces(s):
        if s.writer != "none":
            return choice_lines(30, 0)
        return choice_lines(MIN_PLACEMENT_CHOICES - 1, 0) if s.delay_ns else []

    spec = RunSpec(path="mkwrite", delay="5ms", duration="1s", writer="same")
    cal = _calibrate(monkeypatch, traces, spec)
    assert cal.cpu_affinity is None and "cpu_affinity" not in cal.params(5_000_000)
    assert cal.placement["choices"] == MIN_PLACEMENT_CHOICES - 1
    assert (f"cpu_affinity left at 0: {MIN_PLACEMENT_CHOICES - 1} choices in mkwrite "
            "D=5ms writer=none, mkwrite D=0 writer=none, fewer than 20") in cal.source
    res = predict(spec, 250, {"kernel": "6.18", **cal.params(spec.delay_ns)}, trials=1)
    assert res.row()["cpu_affinity"] == 0 and res.counters["cpu_affine_queued"] == 0


def test_without_the_cpu_model_there_is_no_affinity(monkeypatch):
    spec = RunSpec(path="retry", delay="5ms", duration="1s", writer="same")
    cal = _calibrate(monkeypatch, lambda s: choice_lines(30, 0), spec, cpus=0)
    assert cal.cpu_affinity is None and "cpu_affinity" not in cal.params(0)
    assert "no CPU model: cpu_affinity unused" in cal.source


def test_from_control_keeps_the_counts_in_the_metadata():
    from dataclasses import asdict

    p = import_lines(choice_lines(24, 6)).placement
    cal = from_control([20_000_000], "mkwrite", 20_000_000, [1], "t", cpus=2, placement=p)
    meta = asdict(cal)
    assert meta["cpu_affinity"] == pytest.approx(0.8)
    assert meta["placement"]["by_waker"]["task"]["choices"] == 30


def _live_reason():
    import os

    from mcsim.realkernel import check_prerequisites
    missing = check_prerequisites(tracefs=True)
    if os.geteuid() != 0 or missing:
        return "a live `mcsim repro` needs: " + ("; ".join(str(m) for m in missing) or "root")
    return ""


@pytest.mark.skipif(bool(_live_reason()), reason=_live_reason() or "-")
def test_a_traced_run_records_where_woken_tasks_went():
    # the recording has sched_wakeup beside sched_waking, so every classified choice is
    # decided, and the run's wake-ups are classified (the FUSE server's, the timers')
    from mcsim.realkernel.traced import run_traced

    imp = run_traced(RunSpec(path="retry", delay="0", duration="500ms", writer="none")).imported
    p = imp.placement
    assert imp.lines["sched_wakeup"] > 50 and p.total("wakeups") > 50
    assert p.total("undecided") <= 2          # a choice whose sched_wakeup fell after the end
    assert p.total("target_idle") + p.total("none_idle") + p.total("choices") > 50
