"""Export → import round trips: a simulated run written as tracefs text and read back by
the importer gives the simulated histograms exactly (every sample, every trial); the
Perfetto / Chrome JSON timeline is well formed.

The simulated side is the reference engine's own record of each metric (its sample lists
of a script, its histograms of a random run), never numbers written here.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from mcsim import layout as lay
from mcsim.cli import main
from mcsim.cli.script import read_script, script_runs
from mcsim.histogram import Histogram
from mcsim.params import validate
from mcsim.reference import ReferenceEngine
from mcsim.result import ScriptResult, ScriptTask
from mcsim.scenario import TASK_KINDS, compile_scenario, compile_script
from mcsim.trace.export import perfetto_json, tracefs_lines
from mcsim.trace.importer import import_lines
from mcsim.trace.timeline import script_trial, simulate_trials

SCRIPTS = sorted((Path(__file__).parent.parent / "sweeps" / "scripts").glob("*.toml"))
#: What an mmap_lock trace shows (docs/traces.md): waits and holds of L.
ROUND_TRIP = ("hp_wait", "hp_acq_wait", "writer_wait", "hold_hp", "hold_writer",
              "fault_lock_wait", "hold_fault")
KERNELS = (None, "4.19", "5.5", "5.11", "6.18", "6.18+vma-retry")


def _script_round_trip(path, kernel):
    _desc, params, tasks = read_script(path)
    run = script_runs(params, {"kernel": [kernel]} if kernel else {})[0]
    rows = compile_script(tasks)
    eng = ReferenceEngine(compile_scenario(validate(run)))
    done, timeline = eng.run_script(rows)
    result = ScriptResult("", [ScriptTask(t.id, TASK_KINDS[t.kind], list(t.waits), t.done)
                               for t in done], timeline)
    trial = script_trial(result, [int(r["at"]) for r in rows])
    imported = import_lines(tracefs_lines([trial]))
    expected = {m: Histogram.from_trials(eng.samples[lay.METRICS.index(m)],
                                         [len(eng.samples[lay.METRICS.index(m)])])
                for m in ROUND_TRIP}
    return imported, expected


@pytest.mark.parametrize("kernel", KERNELS)
def test_script_round_trip_is_exact(kernel):
    waited = 0
    for path in SCRIPTS:
        imported, expected = _script_round_trip(path, kernel)
        for m in ROUND_TRIP:
            assert imported.hists[m] == expected[m], (path.name, kernel, m)
        waited += expected["hp_acq_wait"].total + expected["writer_wait"].total
    assert waited > 0          # the scripts make tasks wait: the waits travel too


@pytest.mark.parametrize("kernel", ["4.19", "5.11", "6.18"])
def test_random_round_trip_is_exact(kernel):
    raw, trials = simulate_trials(kernel=kernel, trials=150, seed=11, wake="20us",
                                  hp_rate=3000, lp_rate=5000, writer_ratio=0.5,
                                  device="ssd", writer_hold="lognormal(100us, 1.0)")
    imported = import_lines(tracefs_lines(trials))
    assert imported.trials == raw.counters["trials"] == 150
    for m in ROUND_TRIP:
        assert imported.hists[m] == raw.hists[lay.METRICS.index(m)], m
    assert imported.counters["hp_reads"] == raw.counters["hp_reads"]
    # queued readers were granted before they ran: the grant lines were used
    assert imported.counters["grants_seen"] > 0
    assert raw.hists[lay.M_HP_WAIT].vmax > 0


def test_timeline_engine_changes_nothing():
    """Keeping timelines must not change what the reference engine simulates."""
    import mcsim

    raw, _ = simulate_trials(kernel="6.18", trials=60, seed=2, hp_rate=1000)
    plain = mcsim.simulate(kernel="6.18", trials=60, seed=2, hp_rate=1000,
                           engine="reference")
    for m in lay.METRICS:
        assert raw.hists[lay.METRICS.index(m)] == plain[m], m


def test_vma_acquisitions_leave_no_lock_event():
    """Under the cmdline-vma series an HP acquisition holds the VMA lock unless it falls
    back to L: only the fallbacks appear in an mmap_lock trace; each read's hp_wait
    still arrives (a VMA acquisition waits 0)."""
    raw, trials = simulate_trials(kernel="6.18+cmdline-vma", trials=100, seed=5,
                                  hp_rate=2000, lp_rate=3000, writer_ratio=0.3,
                                  device="ssd", p_hp_fallback=0.3)
    imported = import_lines(tracefs_lines(trials))
    assert imported.hists["hp_acq_wait"].n == raw.counters["hp_fallbacks"] > 0
    assert imported.hists["hp_wait"] == raw.hists[lay.M_HP_WAIT]


def _check_track_nesting(slices):
    """Slices of one track either follow each other or nest (what the trace-event
    format requires of complete events on one thread); times in whole ns, as Perfetto
    reads the µs values."""
    stack = []
    spans = sorted((round(e["ts"] * 1000), round((e["ts"] + e["dur"]) * 1000))
                   for e in slices)
    for start, end in sorted(spans, key=lambda s: (s[0], -s[1])):
        while stack and stack[-1] <= start:
            stack.pop()
        assert not stack or end <= stack[-1], (start, end, stack)
        stack.append(end)


def test_perfetto_json_structure():
    raw, trials = simulate_trials(kernel="6.18", trials=40, seed=3, wake="20us",
                                  hp_rate=2000, lp_rate=3000, writer_ratio=0.3,
                                  device="ssd")
    doc = json.loads(json.dumps(perfetto_json(trials)))
    events = doc["traceEvents"]
    named = {(e["pid"], e["tid"]) for e in events if e["ph"] == "M" and
             e["name"] == "thread_name"}
    processes = {e["pid"] for e in events if e["ph"] == "M" and e["name"] == "process_name"}
    slices = [e for e in events if e["ph"] == "X"]
    assert len(processes) == 40
    tracks = {}
    for e in slices:
        assert {"name", "ts", "dur", "pid", "tid", "cat"} <= set(e)
        assert e["dur"] >= 0 and (e["pid"], e["tid"]) in named
        tracks.setdefault((e["pid"], e["tid"]), []).append(e)
    for track in tracks.values():
        _check_track_nesting(track)
    holds = [e for e in slices if e["name"].startswith("hold mmap_lock")]
    assert len(holds) == raw.counters["lock_acquisitions"]
    hold_ns = sum(e["args"]["hold_ns"] for e in holds)
    model = sum(raw.hists[m].total for m in (lay.M_HOLD_HP, lay.M_HOLD_FAULT,
                                             lay.M_HOLD_WRITER))
    assert hold_ns == model


def test_cli_export_then_import(tmp_path, capsys):
    trace = tmp_path / "mkwrite.trace"
    script = Path(__file__).parent.parent / "sweeps" / "scripts" / "read-miss.toml"
    assert main(["trace", "export", str(script), "--kernel", "6.18", "-o", str(trace)]) == 0
    assert trace.read_text().startswith("# mcsim-trace: source=simulated")
    _desc, _params, tasks = read_script(script)
    reads = sum(t["kind"] == "hp_read" for t in tasks)
    capsys.readouterr()
    assert main(["trace", "import", str(trace), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["metrics"]["hp_wait"]["n"] == reads
    timeline = tmp_path / "run.json"
    assert main(["trace", "export", "--kernel", "5.11", "--trials", "3", "-o",
                 str(timeline)]) == 0
    assert json.loads(timeline.read_text())["traceEvents"]


def test_cli_export_bad_input(tmp_path):
    assert main(["trace", "export", "--format", "svg", "-o", str(tmp_path / "x")]) == 2
    assert main(["trace", "export", "--trials", "0", "-o", str(tmp_path / "x")]) == 2
    assert main(["trace", "export", "--set", "kernel=9.9", "-o", str(tmp_path / "x")]) == 2
    assert not list(tmp_path.iterdir())
