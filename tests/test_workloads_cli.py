"""Workloads on the command line and in result files: `mcsim workloads`, `mcsim run
--workload`, workload variables as sweep axes, the workload columns and file metadata.

Known answers come from the rules of docs/model.md §12 for two scripted workloads whose
think times and holds are constants and whose threads never wait (the derivation is beside
each test).  Window trials count an iteration by when its first step starts (§12.3), so
the only freedom in a count is the iteration at the window's edge: one per trial.
"""
import json

import pyarrow.parquet as pq
import pytest
from clitools import REPO, cli, cli_json, write

import mcsim
from mcsim.dataset import workload_texts
from mcsim.sweep import SweepSpec
from mcsim.workload import list_workloads, load_workload

WINDOW = ["--set", "warmup=10ms", "--set", "window=100ms"]
TRIALS = 3
WINDOW_NS = 100_000_000
WINDOW_S = WINDOW_NS / 1e9

# One thread write-locks its process's L for 1 ms (an mprotect of its VMA), thinks 1 ms,
# and again: alone it never waits, so an iteration lasts hold + think = 2 ms (§12.2).
WRITER_LOOP = """
[workload]
name = "writer-loop"
description = "threads that mprotect() one VMA in a loop: hold, think 1 ms, again"

[vars]
n = 1
hold = "1ms"

[[process]]
name = "app"
vmas = ["heap"]

[[process.thread]]
name = "writer"
count = "${n}"
program = [ { step = "write", vma = "heap", hold = "${hold}", think = "1ms" } ]
"""

# A ps-like thread reads the cmdline of two processes back to back, then thinks 10 ms.
# Nothing else takes their locks, so each read waits 0 and holds L for hp_hold: a scan
# lasts 2 * hp_hold from its first request to its last release (§12.4).
PS_LOOP = """
[workload]
name = "ps-loop"
description = "a ps that scans two idle processes every 10 ms"

[[process]]
name = "idle"
count = 2
vmas = ["data"]

[[process]]
name = "ps"

[[process.thread]]
name = "scanner"
program = [ { step = "scan", processes = ["idle"], think = "10ms" } ]
"""


@pytest.fixture
def writer_loop(tmp_path):
    return write(tmp_path / "writer-loop.toml", WRITER_LOOP)


@pytest.fixture
def ps_loop(tmp_path):
    return write(tmp_path / "ps-loop.toml", PS_LOOP)


def run_json(capsys, *args):
    return cli_json(capsys, "run", *args, *WINDOW, "--trials", TRIALS, "--seed", 1, "-q")


# ------------------------------------------------------------------ mcsim workloads
def test_workloads_lists_every_ready_file_with_its_sentence(capsys):
    files = sorted((REPO / "sweeps" / "workloads").glob("*.toml"))
    expected = {load_workload(f).name for f in files}
    listed = cli_json(capsys, "workloads")
    assert {w["name"] for w in listed} == expected and len(listed) == len(files)
    for w in listed:
        assert w["description"].strip() and w["trial_kind"] in ("cycle", "window")
        assert w["hash"] == load_workload(w["name"]).hash
    code, text, _ = cli(capsys, "workloads")
    assert code == 0 and all(name in text for name in expected)


def test_workloads_describes_one_and_refuses_an_unknown_name(capsys, ps_loop):
    code, text, _ = cli(capsys, "workloads", ps_loop)
    assert code == 0 and "ps-loop: a ps that scans" in text and "scanner" in text
    code, out, err = cli(capsys, "workloads", "no-such-workload")
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert "no-such-workload" in err and "Traceback" not in err


# ------------------------------------------------------------------ mcsim run --workload
def test_run_reports_a_lone_loops_throughput_hold_plus_think(capsys, writer_loop):
    doc = run_json(capsys, "--workload", writer_loop)
    wl = doc["workload"]
    assert wl["name"] == "writer-loop" and wl["trial_kind"] == "window"
    assert wl["hash"] == load_workload(writer_loop).hash and wl["vars"]["n"] == 1
    [thread] = wl["threads"]
    # 1 / (1 ms hold + 1 ms think) = 500 iterations per simulated second, give or take
    # the window's edge iteration in each trial (1 per 0.1 s window: 10/s).
    edge = 1 / WINDOW_S
    assert abs(thread["throughput_per_s"] - 500.0) <= edge, thread
    assert thread["throughput_per_s"] == pytest.approx(
        thread["iterations"] / doc["counters"]["sim_ns"] * 1e9)
    assert doc["counters"]["sim_ns"] == TRIALS * WINDOW_NS          # windows only, §12.3
    assert doc["metrics"]["writer_wait"]["max_ns"] == 0             # alone: never waits


def test_run_reports_writers_saturating_their_lock(capsys, writer_loop):
    """Three such writers (wake = 0): each comes back after 1 ms of thought while the
    other two hold L for 2 ms in turn, so L is never free, each waits 2 - 1 = 1 ms and
    an iteration lasts 3 holds: 1000/3 per second each, 1/hold = 1000 per second
    together (§12.2; FIFO grants of §2.1)."""
    doc = run_json(capsys, "--workload", writer_loop, "--var", "n=3")
    rates = [t["throughput_per_s"] for t in doc["workload"]["threads"]]
    assert len(rates) == 3
    for rate in rates:
        assert abs(rate - 1000 / 3) <= 1 / WINDOW_S, rates
    assert abs(sum(rates) - 1000) <= 3 / WINDOW_S, rates
    assert doc["metrics"]["writer_wait"]["p50_ns"] == pytest.approx(1e6, rel=0.004)


def test_run_prints_scans_threads_and_the_window(capsys, ps_loop):
    code, text, err = cli(capsys, "run", "--workload", ps_loop, "--set", "hp_hold=50us",
                          *WINDOW, "--trials", TRIALS, "-q")
    assert code == 0, err
    for needle in ("workload ps-loop", "window trials", "scan_time", "scan_wait",
                   "hp_acq_wait", "scanner", "per simulated s", "windows of 100 ms after "
                   "a 10 ms warm-up"):
        assert needle in text, needle
    doc = run_json(capsys, "--workload", ps_loop, "--set", "hp_hold=50us")
    scan = doc["metrics"]["scan_time"]
    # Two uncontended reads of 50 us each, back to back: 100 us (bucket midpoints are
    # within 0.39% of the value, mcsim/histogram.py).
    assert scan["n"] > 0 and scan["p50_ns"] == pytest.approx(100_000, rel=0.004)
    assert doc["metrics"]["scan_wait"]["max_ns"] == 0
    assert doc["counters"]["scans"] >= scan["n"]
    # An iteration: 100 us of scan + 10 ms of thought.
    [thread] = doc["workload"]["threads"]
    assert abs(thread["throughput_per_s"] - 1e9 / 10.1e6) <= 1 / WINDOW_S


def test_set_sets_a_variable_no_parameter_is_named(capsys, writer_loop):
    doc = run_json(capsys, "--workload", writer_loop, "--set", "n=2", "--set",
                   "hold=2ms")
    assert doc["workload"]["vars"] == {"n": 2, "hold": "2ms"}
    assert len(doc["workload"]["threads"]) == 2
    # A parameter's name stays a parameter; a name neither declares is refused.
    code, _, err = cli(capsys, "run", "--workload", writer_loop, "--set", "nope=1", "-q")
    assert code == 2 and "nope" in err and "mcsim params" in err


def test_run_without_a_workload_is_the_open_model(capsys):
    doc = cli_json(capsys, "run", "--trials", 2000, "--seed", 1, "-q")
    assert doc["workload"] == {"name": "open", "hash": None, "vars": {},
                               "trial_kind": "cycle", "threads": []}
    assert doc["counters"]["steps"] == 0 and doc["counters"]["scans"] == 0


@pytest.mark.parametrize("args, needle", [
    (["--workload", "no-such-workload"], "no-such-workload"),
    (["--var", "n=2"], "--var"),
    (["--workload", "WL", "--var", "nope=2"], "nope"),
    (["--workload", "WL", "--var", "n"], "NAME=VALUE"),
    (["--workload", "WL", "--var", "n=1,2"], "one configuration"),
])
def test_run_refuses_bad_workload_input_in_one_line(capsys, writer_loop, args, needle):
    args = [str(writer_loop) if a == "WL" else a for a in args]
    code, out, err = cli(capsys, "run", *args, "--trials", 2, "-q")
    assert code == 2 and out == "", err
    assert len(err.strip().splitlines()) == 1 and needle in err and "Traceback" not in err


def test_run_refuses_a_bad_workload_file_in_one_line(capsys, tmp_path):
    bad = write(tmp_path / "bad.toml", WRITER_LOOP.replace('vma = "heap"', 'vma = "stack"'))
    code, _, err = cli(capsys, "run", "--workload", bad, "--trials", 2, "-q")
    assert code == 2 and len(err.strip().splitlines()) == 1 and "stack" in err


# ------------------------------------------------------------------ Parquet
def test_parquet_has_the_workload_columns_and_its_canonical_text(capsys, tmp_path,
                                                                 writer_loop):
    out = tmp_path / "r.parquet"
    code, _, err = cli(capsys, "run", "--workload", writer_loop, "--var", "n=2", *WINDOW,
                       "--trials", TRIALS, "-q", "--out", out)
    assert code == 0, err
    wl = load_workload(writer_loop, vars={"n": 2})
    [row] = mcsim.load(out).to_pylist()
    assert (row["workload"], row["workload_hash"], row["trial_kind"]) == \
        ("writer-loop", wl.hash, "window")
    assert json.loads(row["workload_vars"]) == {"hold": "1ms", "n": 2}
    assert row["thread_names"] == list(wl.thread_names) and len(row["thread_names"]) == 2
    rates = [row[f"thread_iterations_{k}"] / row["sim_ns"] * 1e9 for k in range(2)]
    assert row["thread_throughput_per_s"] == pytest.approx(rates)
    assert row["thread_iterations_2"] == 0
    texts = workload_texts(out)
    assert texts == {wl.hash: wl.canonical}
    # The canonical text is the resolved workload: it loads back to the same hash.
    assert load_workload(json.loads(texts[wl.hash])).hash == wl.hash
    schema = pq.read_schema(out)
    assert schema.field("thread_throughput_per_s").metadata[b"unit"] == b"1/s"


# ------------------------------------------------------------------ sweeps
def test_sweep_file_with_a_workload_variable_axis(capsys, tmp_path, writer_loop):
    sweep = write(tmp_path / "loops.toml", f"""
workload = "{writer_loop.name}"
[run]
trials = {TRIALS}
seed = 3
[params]
warmup = "10ms"
window = "100ms"
[grid]
vars.n = [1, 2]
""")
    spec = SweepSpec.from_toml(sweep)
    points = spec.points(command="")
    assert len(points) == 2 and points[0].key != points[1].key
    out = tmp_path / "out"
    plan = cli_json(capsys, "sweep", sweep, "--out", out, "--dry-run")
    assert plan["to_compute"] == 2 and plan["trials"] == 2 * TRIALS and not out.exists()
    doc = cli_json(capsys, "sweep", sweep, "--out", out, "--workers", 1, "-q")
    assert doc["computed"] == 2
    by_n = {json.loads(r["workload_vars"])["n"]: r for r in doc["results"]}
    assert sorted(by_n) == [1, 2]
    assert [len(by_n[n]["thread_names"]) for n in (1, 2)] == [1, 2]
    hashes = {load_workload(writer_loop, vars={"n": n}).hash for n in (1, 2)}
    assert {r["workload_hash"] for r in doc["results"]} == hashes
    code, text, _ = cli(capsys, "show", out)
    assert code == 0 and "writer-loop" in text
    # The same points from the command line: nothing left to compute.
    again = cli_json(capsys, "sweep", "--workload", writer_loop, "--var", "n=1,2",
                     *WINDOW, "--trials", TRIALS, "--seed", 3, "--out", out, "-q")
    assert again["computed"] == 0 and again["skipped"] == 2
    compacted = tmp_path / "all.parquet"
    assert cli(capsys, "compact", out, "--out", compacted)[0] == 0
    assert set(workload_texts(compacted)) == hashes


def test_compare_runs_and_selects_a_workload(capsys, tmp_path, writer_loop):
    code, text, err = cli(capsys, "compare", "--kernel", "4.19,6.18", "--workload",
                          writer_loop, "--var", "n=2", *WINDOW, "--trials", 2, "-q")
    assert code == 0, err
    assert 'workload writer-loop {"hold":"1ms","n":2} (window trials)' in text
    out = tmp_path / "out"
    cli_json(capsys, "sweep", "--workload", writer_loop, "--var", "n=1,2", "--kernel",
             "4.19,6.18", *WINDOW, "--trials", 2, "--out", out, "--workers", 1, "-q")
    doc = cli_json(capsys, "compare", "--kernel", "4.19,6.18", "--from", out,
                   "--workload", writer_loop, "--var", "n=2")
    assert [k["label"] for k in doc["kernels"]] == ["4.19", "6.18"]
    # Without --workload the two rows of each kernel (n = 1, 2) cannot be told apart.
    code, _, err = cli(capsys, "compare", "--kernel", "4.19,6.18", "--from", out)
    assert code == 2 and "2 rows" in err


@pytest.mark.parametrize("body, needle", [
    ('[vars]\nn = 2\n[params]\nwake = "0"', "without a workload"),
    ('workload = 3\n[params]\nwake = "0"', "workload must be"),
    ('workload = "WL"\n[grid]\nvars = 3', "[grid] vars"),
    ('workload = "WL"\n[vars]\nn = 1\n[grid]\nvars.n = [1, 2]', "both [vars] and [grid]"),
    ('workload = "WL"\n[grid]\nvars.n = []', "vars.n"),
    ('workload = "WL"\n[grid]\nvars.nope = [1, 2]', "nope"),
])
def test_sweep_refuses_bad_workload_keys_in_one_line(capsys, tmp_path, writer_loop, body,
                                                     needle):
    sweep = write(tmp_path / "bad.toml", body.replace("WL", str(writer_loop)))
    code, out, err = cli(capsys, "sweep", sweep, "--out", tmp_path / "o", "--dry-run")
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert needle in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()


def test_ready_workloads_sweep_over_their_variables(capsys):
    """Every ready workload's variables make a sweep axis of distinct points."""
    for wl in list_workloads():
        for name, value in dict(wl.vars).items():
            if isinstance(value, bool) or not isinstance(value, int):
                continue
            spec = SweepSpec(workload=wl.name, var_grid={name: [value, value + 1]},
                             trials=2)
            keys = {p.key for p in spec.points(command="")}
            assert len(keys) == 2, (wl.name, name)
