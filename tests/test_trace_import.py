"""mcsim trace import: real traces of this machine's kernel (tests/data, recorded by
``mcsim trace record`` on Linux 6.18, see docs/traces.md "The fixtures"), malformed input,
trials, the measured result row.

Expected numbers are counted from the fixture text with plain string logic written here
(independently of the importer's parser and state machine), or read off the quoted lines.
"""
from __future__ import annotations

import json
import re
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
ps-1 [000] ..... 1.000001: irq_handler_entry: irq=24 name=virtio0
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
    assert imp.lines["bad_field"] == 3          # write=maybe, no mm, sched_switch cut short
    assert imp.lines["blank"] == 1
    assert imp.lines["lost_markers"] == 1 and imp.counters["lost_events"] == 17
    assert imp.lines["foreign_event"] == 1      # irq_handler_entry
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


SCHED_FIXTURE = DATA / "sched_hold_6.18.trace"


def test_time_runnable_in_a_hold_from_a_real_trace():
    """tests/data/sched_hold_6.18.trace (docs/traces.md, "The fixtures"): the `retry`
    reproducer's faulting thread target-23847 takes mmap_lock(R) at .705767 for its TRIED
    pass, sleeps at .705771 (its READ), is woken by the FUSE server at .705777
    (`sched_waking ... pid=23847`), but a CPU hog (python-23706) keeps CPU 1 until
    .709751, when the thread runs again; it releases at .709759.  Hold 3,992 µs, of which
    3,974 µs runnable (.705777 → .709751): 18 µs on a CPU or asleep."""
    text = SCHED_FIXTURE.read_text()
    for stamp in ("17985.705767: mmap_lock_acquire_returned", "17985.705777: sched_waking: "
                  "comm=target pid=23847", "17985.709751: sched_switch: prev_comm=python "
                  "prev_pid=23706 prev_prio=120 prev_state=R ==> next_comm=target next_pid=23847",
                  "17985.709759: mmap_lock_released"):
        assert stamp in text
    lines = text.splitlines()
    imp = import_lines(lines)
    hold = (Decimal("17985.709759") - Decimal("17985.705767")) * 10**9
    runnable = (Decimal("17985.709751") - Decimal("17985.705777")) * 10**9
    assert imp.samples["hold_fault"] == [int(hold)]
    assert imp.runnable["hold_fault"] == [int(runnable)]
    assert imp.on_cpu_holds("hold_fault") == [18_000]
    assert imp.lines["sched_switch"] == sum("sched_switch:" in line for line in lines)
    assert sum(imp.lines.values()) == len(lines)


def _sw(ts, prev, state, nxt):
    return (f"x-{prev} [000] d..2. {ts}: sched_switch: prev_comm=x prev_pid={prev} "
            f"prev_prio=120 prev_state={state} ==> next_comm=y next_pid={nxt} next_prio=120")


def _lock(ts, pid, what, write="false"):
    tail = " success=true" if what == "acquire_returned" else ""
    return f"t-{pid} [000] ..... {ts}: mmap_lock_{what}: mm=0a memcg_id=0 write={write}{tail}"


def test_time_runnable_preempted_and_granted():
    """Hand-made lines.  Task 5 holds L(R) from 1.000010 to 1.000100, preempted at
    .000050 (prev_state R+) and back at .000070: 20 µs runnable.  Task 6 queues for L(R)
    behind writer 7; the writer's release wakes it at .000210 (the grant), it runs at
    .000240 and releases at .000250: held 40 µs from the grant, 30 of them runnable."""
    lines = [_sw("1.000001", 9, "S", 5), _lock("1.000010", 5, "acquire_returned"),
             _sw("1.000050", 5, "R+", 9), _sw("1.000070", 9, "S", 5),
             _lock("1.000100", 5, "released"),
             _lock("1.000150", 7, "start_locking", "true"),
             _lock("1.000151", 7, "acquire_returned", "true"),
             _lock("1.000160", 6, "start_locking"), _sw("1.000161", 6, "D", 7),
             _lock("1.000210", 7, "released", "true"),
             "t-7 [000] d..4. 1.000210: sched_waking: comm=t pid=6 prio=120 target_cpu=000",
             _sw("1.000240", 7, "S", 6), _lock("1.000241", 6, "acquire_returned"),
             _lock("1.000250", 6, "released")]
    imp = import_lines(lines)
    assert imp.samples["hold_fault"] == [90_000, 40_000]
    assert imp.runnable["hold_fault"] == [20_000, 30_000]
    assert imp.on_cpu_holds("hold_fault") == [70_000, 10_000]
    assert imp.runnable["hold_writer"] == [0]
    assert imp.counters.get("runnable_out_of_range", 0) == 0


def test_without_sched_switch_the_holds_are_plain():
    imp = import_lines(TRACEFS_FIXTURE.read_text().splitlines(), readers=["hp-reader"])
    assert imp.runnable == {}
    assert imp.on_cpu_holds("hold_fault") == imp.samples["hold_fault"]


def test_cli_import_shows_the_holds_less_their_time_runnable(capsys):
    # the sched fixture's one hold: 3,992 µs, 18 µs of it not runnable (derived above)
    assert main(["trace", "import", str(SCHED_FIXTURE), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["metrics"]["hold_fault"]["max_ns"] == 3_992_000
    assert out["holds_less_runnable"]["hold_fault"] == {
        "n": 1, "p50_ns": 18_000, "p90_ns": 18_000, "p99_ns": 18_000, "max_ns": 18_000}
    assert main(["trace", "import", str(SCHED_FIXTURE)]) == 0
    text = capsys.readouterr().out
    assert re.search(r"hold_fault less runnable\s+1\s+18 µs", text), text
    # without sched_switch lines there is nothing to subtract
    assert main(["trace", "import", str(TRACEFS_FIXTURE), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["holds_less_runnable"] == {}


# -- time runnable on arbitrary interleavings ----------------------------------------------

from hypothesis import Phase, find, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_PIDS = (5, 6, 7)


@st.composite
def _sched_and_lock_lines(draw):
    """Random interleavings of sched_switch / sched_waking / mmap_lock lines of three
    tasks (not necessarily a consistent schedule: lost or reordered events included)."""
    lines, ts = [], 1_000_000
    for _ in range(draw(st.integers(1, 60))):
        ts += draw(st.integers(0, 50))
        stamp = f"1.{ts:06d}"
        pid = draw(st.sampled_from(_PIDS))
        kind = draw(st.sampled_from(("switch", "waking", "request", "acquired", "released")))
        if kind == "switch":
            nxt = draw(st.sampled_from(_PIDS + (0,)))
            state = draw(st.sampled_from(("R", "R+", "S", "D")))
            lines.append(_sw(stamp, pid, state, nxt))
        elif kind == "waking":
            other = draw(st.sampled_from(_PIDS))
            lines.append(f"t-{pid} [000] d..4. {stamp}: sched_waking: comm=t pid={other} "
                         "prio=120 target_cpu=000")
        else:
            what = {"request": "start_locking", "acquired": "acquire_returned",
                    "released": "released"}[kind]
            lines.append(_lock(stamp, pid, what, draw(st.sampled_from(("true", "false")))))
    return lines


@settings(max_examples=150, deadline=None)
@given(_sched_and_lock_lines())
def test_time_runnable_stays_within_each_hold(lines):
    imp = import_lines(lines)
    assert sum(imp.lines.values()) == len(lines)
    for metric, waits in imp.runnable.items():
        holds = imp.samples[metric]
        assert len(waits) == len(holds)
        assert all(0 <= w <= h for w, h in zip(waits, holds))
        assert all(x >= 0 for x in imp.on_cpu_holds(metric))


def test_the_interleavings_reach_the_clamp_and_time_runnable():
    # the strategy above is worth something only if it reaches both: holds with time
    # runnable, and inconsistent schedules that the importer clamps and counts
    find(_sched_and_lock_lines(), lambda lines: any(
        w > 0 for waits in import_lines(lines).runnable.values() for w in waits),
        settings=settings(max_examples=500, database=None, phases=[Phase.generate]))
    find(_sched_and_lock_lines(),
         lambda lines: import_lines(lines).counters.get("runnable_out_of_range", 0) > 0,
         settings=settings(max_examples=500, database=None, phases=[Phase.generate]))
