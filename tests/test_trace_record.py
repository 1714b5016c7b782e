"""mcsim trace record: a live recording through a private tracefs instance (root and
tracefs needed: skipped with the reason otherwise), its clean-up on every exit, and the
one-line errors of a machine that cannot trace."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mcsim.cli import main
from mcsim.trace import record as rec
from mcsim.trace.importer import import_lines

ROOT = Path(__file__).parent.parent
WORKLOAD = ROOT / "tests" / "data" / "trace_workload.py"


def _why_not_live() -> str | None:
    if os.geteuid() != 0:
        return "needs root (tracefs instances)"
    if not (rec.TRACEFS / "instances").is_dir():
        return f"no tracefs mounted at {rec.TRACEFS}"
    if not (rec.TRACEFS / "events" / rec.LOCK_EVENTS[0]).is_dir():
        return "this kernel has no mmap_lock tracepoints (5.11+)"
    return None


live = pytest.mark.skipif(_why_not_live() is not None, reason=_why_not_live() or "")


def _instances() -> set:
    return set(os.listdir(rec.TRACEFS / "instances"))


@live
def test_live_record_of_a_command(tmp_path):
    out = tmp_path / "run.trace"
    before = _instances()
    assert main(["trace", "record", "-o", str(out), "--duration", "4", "--",
                 sys.executable, str(WORKLOAD), "0.3"]) == 0
    assert _instances() == before                   # the instance is gone
    lines = out.read_text().splitlines()
    assert lines[0].startswith("# mcsim-trace: source=measured kernel=")
    imp = import_lines(lines, readers=["hp-reader"])
    preads = sum("hp-reader-" in l and "sys_pread64(" in l for l in lines)
    assert imp.counters["hp_reads"] > 0 and abs(imp.counters["hp_reads"] - preads) <= 1
    assert imp.hists["writer_wait"].n > 0           # mprotect/munmap took L for write
    # the scheduler's events of the traced tasks: where each woken task went
    assert imp.lines["sched_wakeup"] > 0 and imp.placement.total("wakeups") > 0
    assert not list(tmp_path.glob(".*.part"))


def test_the_scheduler_events_a_recording_enables():
    # sched_waking says who woke a task, sched_wakeup where it was put (sched_waking's
    # target_cpu is its CPU before select_task_rq(): docs/traces.md, "Placement"),
    # sched_switch what runs; all filtered to the traced processes like the rest
    assert {"sched/sched_waking", "sched/sched_wakeup", "sched/sched_switch"} <= set(rec.events())


@live
def test_sigint_removes_the_instance_and_the_partial_file(tmp_path):
    out = tmp_path / "cut.trace"
    before = _instances()
    nap = f"{30 + os.getpid() % 1000 / 1000:.3f}"      # a command line of its own
    proc = subprocess.Popen([sys.executable, "-m", "mcsim", "trace", "record", "-o",
                             str(out), "--duration", "30", "--", "sleep", nap],
                            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 10
    while _instances() == before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _instances() != before                   # recording
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 130, err
    assert _instances() == before and not out.exists()
    assert not list(tmp_path.iterdir())
    assert "interrupted" in err and err.count("\n") == 1
    assert subprocess.run(["pgrep", "-f", f"^sleep {nap}$"],
                          capture_output=True).returncode == 1    # the command was ended


def test_not_root_is_one_line_exit_5(monkeypatch, capsys):
    monkeypatch.setattr(rec.os, "geteuid", lambda: 1000)
    assert main(["trace", "record", "-o", "/tmp/never.trace", "--duration", "1",
                 "--pid", str(os.getpid())]) == 5
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "needs root" in err and "sudo" in err
    assert not Path("/tmp/never.trace").exists()


def test_unbounded_recording_is_refused(capsys):
    assert main(["trace", "record", "-o", "/tmp/never.trace", "--pid", "1"]) == 2
    assert "nothing bounds the recording" in capsys.readouterr().err


def test_a_missing_process_is_refused(capsys):
    if _why_not_live() is not None:
        pytest.skip(_why_not_live())
    before = _instances()
    assert main(["trace", "record", "-o", "/tmp/never.trace", "--duration", "1",
                 "--pid", "999999999"]) == 2
    assert "--pid: 999999999 is not a running process" in capsys.readouterr().err
    assert _instances() == before
