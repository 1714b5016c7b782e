"""mcsim trace import: real traces of this machine's kernel (tests/data, recorded by
``mcsim trace record`` on Linux 6.18, see docs/traces.md "The fixtures"), malformed input,
trials, the measured result row.

Expected numbers are counted from the fixture text with plain string logic written here
(independently of the importer's parser and state machine), or read off the quoted lines.
"""
from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from mcsim import schema
from mcsim.cli import main
from mcsim.trace.importer import TraceImporter, import_lines

DATA = Path(__file__).parent / "data"
TRACEFS_FIXTURE = DATA / "mmap_lock_6.18.trace"
TRACE_CMD_FIXTURE = DATA / "mmap_lock_6.18.trace-cmd.txt"


def _task(line: str) -> str:
    """``comm-pid`` of a line (the text before the CPU column, any buffer prefix cut)."""
    head = line.split("[", 1)[0].split()
    return head[-1]


def _event(line: str) -> str:
    """The event part of a line: what follows the timestamp's colon."""
    return line.split("]", 1)[1].split(": ", 1)[1]


def _reader_frames(lines, reader: str, enter: str, exit_: str):
    """Complete read frames of ``reader``: lists of its events between an enter and the
    following exit."""
    frames, current = [], None
    for line in lines:
        if not line.strip() or line.startswith(("#", "cpus=")) or not _task(line).startswith(reader):
            continue
        ev = _event(line)
        if ev.startswith(enter):
            current = []
        elif ev.startswith(exit_):
            if current is not None:
                frames.append(current)
            current = None
        elif current is not None:
            current.append(ev)
    return frames


def test_tracefs_fixture_counts_match_the_text():
    lines = TRACEFS_FIXTURE.read_text().splitlines()
    imp = import_lines(lines, readers=["hp-reader"])
    frames = _reader_frames(lines, "hp-reader-", "sys_pread64(", "sys_pread64 ->")
    acquisitions = sum(ev.startswith("mmap_lock_acquire_returned") for f in frames for ev in f)
    assert imp.counters["hp_reads"] == len(frames) == imp.hists["hp_wait"].n
    assert len(frames) >= 5
    # 5.3+ get_mm_cmdline(): two access_remote_vm() calls, each one mmap_read_lock
    assert acquisitions == 2 * len(frames) == imp.hists["hp_acq_wait"].n
    writes = sum("write=true success=true" in line for line in lines)
    assert imp.hists["writer_wait"].n == writes
    lock_lines = sum(" mmap_lock_" in line for line in lines)
    assert imp.lines["mmap_lock"] == lock_lines
    # every line is accounted for in exactly one category
    assert sum(imp.lines.values()) == len(lines)


def test_tracefs_fixture_contended_read_by_hand():
    """The read at 18279.528392: hp-reader requests L at .528393 while mprotect-loop holds
    it for write; mprotect releases at .528398 and wakes the reader at .528399 (the grant:
    rwsem_mark_wake() hands L to the reader before waking it); the reader runs with L at
    .528404 and releases at .528406.  Wait 11 µs, hold 7 µs from the grant; the second
    acquisition of that read waits 0 (.528406 → .528407), so the read's hp_wait is 11 µs."""
    text = TRACEFS_FIXTURE.read_text()
    for stamp in ("18279.528393: mmap_lock_start_locking", "18279.528399: sched_waking: "
                  "comm=hp-reader", "18279.528404: mmap_lock_acquire_returned"):
        assert stamp in text
    imp = import_lines(text.splitlines(), readers=["hp-reader"])
    assert imp.hists["hp_acq_wait"].max() == 11_000
    assert imp.hists["hold_hp"].max() == 7_000
    assert imp.counters["grants_seen"] == 1


def test_the_samples_are_the_histograms_values_exactly():
    # the raw values behind each histogram (what a calibration's quantile tables take):
    # the same count, the same extremes, and the contended read's 11 µs among them
    imp = import_lines(TRACEFS_FIXTURE.read_text().splitlines(), readers=["hp-reader"])
    for metric, h in imp.hists.items():
        values = imp.samples[metric]
        assert len(values) == h.n
        if values:
            assert (min(values), max(values)) == (h.min(), h.max())
    assert 11_000 in imp.samples["hp_acq_wait"]
    assert len(imp.samples["hold_fault"]) > 0


def test_tracefs_fixture_downgrades_and_edges():
    """munmap() downgrades its write lock: a read acquire_returned right after the
    writer's own write acquire_returned, with no start_locking (include/linux/mmap_lock.h
    mmap_write_downgrade()).  The excerpt starts inside a read (an exit without enter)."""
    lines = TRACEFS_FIXTURE.read_text().splitlines()
    last_lock = {}
    downgrades = 0
    for line in lines[1:]:
        if " mmap_lock_" not in line:
            continue
        task, ev = _task(line), _event(line)
        if (ev.startswith("mmap_lock_acquire_returned") and "write=false" in ev
                and last_lock.get(task, "").startswith("mmap_lock_acquire_returned")
                and "write=true" in last_lock[task]):
            downgrades += 1
        last_lock[task] = ev
    imp = import_lines(lines, readers=["hp-reader"])
    assert downgrades > 0 and imp.counters["downgrades"] == downgrades
    first_call = next(_event(l) for l in lines[1:]
                      if _task(l).startswith("hp-reader") and "sys_pread64" in l)
    assert first_call.startswith("sys_pread64 ->") and imp.counters["exit_without_enter"] == 1
    assert imp.meta["kernel"].startswith("6.18") and imp.meta["hz"] == "250"


def test_trace_cmd_fixture_nanoseconds():
    lines = TRACE_CMD_FIXTURE.read_text().splitlines()
    imp = import_lines(lines, readers=["hp-reader"])
    frames = _reader_frames(lines, "hp-reader-", "sys_enter_pread64", "sys_exit_pread64")
    assert imp.counters["hp_reads"] == len(frames) >= 5
    # the first read's first acquisition, from its two lines, in exact decimal arithmetic
    reader = [l for l in lines if _task(l).startswith("hp-reader")]
    start = next(i for i, l in enumerate(reader) if "sys_enter_pread64" in l)
    req = next(l for l in reader[start:] if "mmap_lock_start_locking" in l)
    ret = next(l for l in reader[start:] if "mmap_lock_acquire_returned" in l)

    def stamp(line):
        return Decimal(line.split("]", 1)[1].split(":", 1)[0].strip())

    wait = int((stamp(ret) - stamp(req)) * 10**9)
    assert 0 < wait < 1_000_000 and wait % 1000 != 0      # ns precision, not µs
    h = TraceImporter(readers=["hp-reader"])
    samples = []
    for line in lines:
        h.feed(line)
        if h.samples["hp_acq_wait"]:
            samples = h.samples["hp_acq_wait"]
            break
    assert samples == [wait]
    assert sum(imp.lines.values()) == len(lines)


MALFORMED = """\
# tracer: nop
this is not a trace line
ps-1 [000] ..... 1.000000: mmap_lock_start_locking: mm=0a memcg_id=0 write=maybe
ps-1 [000] ..... 1.000000: mmap_lock_start_locking: memcg_id=0 write=false
ps-1 [000] ..... 1.0000000000001: mmap_lock_released: mm=0a memcg_id=0 write=false
CPU:1 [LOST 17 EVENTS]
ps-1 [000] ..... 1.000001: sched_switch: prev_comm=ps prev_pid=1
\x00\x01binary\xff
w-2 [001] ..... 1.000002: mmap_lock_released: mm=0a memcg_id=0 write=true
ps-1 [000] ..... 1.000003: sys_pread64 -> 0x0

w-2 [001] ..... 1.000004: mmap_lock_start_locking: mm=0a memcg_id=0 write=true
w-2 [001] ..... 1.000005: mmap_lock_acquire_returned: mm=0a memcg_id=0 write=true success=true
w-2 [001] ..... 1.000009: mmap_lock_released: mm=0a memcg_id=0 write=true
ps-1 [000] ..... 1.000010: sys_pread64(fd: 3, buf: 0, count: 1, pos: 0)
ps-1 [000] ..... 1.000011: mmap_lock_start_locking: mm=0a memcg_id=0 write=false
ps-1 [000] ..... 1.000012: mmap_lock_acquire_returned: mm=0a memcg_id=0 write=false success=false
f-3 [001] ..... 1.000013: mmap_lock_start_locking: mm=0a memcg_id=0 write=false
"""


def test_malformed_and_foreign_lines_are_counted_not_fatal():
    imp = import_lines(MALFORMED.splitlines())
    assert imp.lines["comment"] == 1
    assert imp.lines["malformed"] == 3          # prose, 13 decimals, binary junk
    assert imp.lines["bad_field"] == 2          # write=maybe, no mm
    assert imp.lines["blank"] == 1
    assert imp.lines["lost_markers"] == 1 and imp.counters["lost_events"] == 17
    assert imp.lines["foreign_event"] == 1      # sched_switch
    assert imp.counters["release_without_acquire"] == 1     # w-2's first release
    assert imp.counters["exit_without_enter"] == 1
    assert imp.counters["failed_acquisitions"] == 1          # success=false
    assert imp.counters["unfinished_acquisitions"] == 1      # f-3 at the end
    assert imp.counters["reads_unfinished"] == 1             # ps-1's read never exits
    # the one complete acquisition still counts: a writer that waited 1 µs and held 4
    assert imp.hists["writer_wait"].n == 1 and imp.hists["writer_wait"].max() == 1000
    assert imp.hists["hold_writer"].max() == 4000
    assert sum(imp.lines.values()) == len(MALFORMED.splitlines())


def _read_at(seconds: str, pid: int = 1) -> list[str]:
    return [f"ps-{pid} [000] ..... {seconds}: sys_pread64(fd: 3, buf: 0, count: 1, pos: 0)",
            f"ps-{pid} [000] ..... {seconds}: sys_pread64 -> 0x0"]


def test_trials_are_slices_of_trace_time():
    lines = _read_at("10.0") + _read_at("10.5") + _read_at("13.2")
    imp = import_lines(lines, slice_ns=1_000_000_000)
    # slices [10, 11), [11, 12), [12, 13), [13, 14): 2, 0, 0, 1 reads
    assert imp.trials == 4
    assert imp.hists["hp_wait"].n == 3 and imp.hists["hp_wait"].nn == 2**2 + 1**2


def test_trial_markers_delimit_trials():
    mark = "<idle>-0 [000] ..... {}: tracing_mark_write: mcsim-trial {}"
    lines = ([mark.format("1.0", 0)] + _read_at("1.1") + _read_at("1.2")
             + [mark.format("5.0", 1)] + [mark.format("9.0", 2)] + _read_at("9.5"))
    imp = import_lines(lines)
    assert imp.trials == 3 and imp.hists["hp_wait"].nn == 2**2 + 0 + 1**2


def test_bad_options():
    with pytest.raises(ValueError):
        TraceImporter(slice_ns=0)
    assert main(["trace", "import", str(TRACEFS_FIXTURE), "--slice", "-1s"]) == 2
    assert main(["trace", "import", "/nonexistent/x.trace"]) == 4


def test_cli_import_json(capsys):
    assert main(["trace", "import", str(TRACEFS_FIXTURE), "--reader", "hp-reader",
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["metrics"]["hp_acq_wait"]["max_ns"] == 11_000
    assert out["meta"]["kernel"].startswith("6.18")


def _schema_complete() -> bool:
    try:
        schema.columns()
        return True
    except KeyError:
        return False


@pytest.mark.skipif(not _schema_complete(), reason="the result schema has no column "
                    "descriptions for every counter of mcsim.layout on this checkout")
def test_measured_row_parquet(tmp_path):
    import pyarrow.parquet as pq

    out = tmp_path / "m.parquet"
    assert main(["trace", "import", str(TRACEFS_FIXTURE), "--reader", "hp-reader",
                 "-o", str(out)]) == 0
    table = pq.read_table(out)
    row = table.to_pylist()[0]
    assert row["source"] == "measured" and row["kernel"] is None
    assert row["hp_reads"] == 9 == row["hp_wait_n"]
    meta = {k.decode(): v.decode() for k, v in table.schema.metadata.items()}
    assert meta["mcsim.trace_kernel"].startswith("6.18")
    assert json.loads(meta["mcsim.trace_anomalies"])["downgrades"] == 6
