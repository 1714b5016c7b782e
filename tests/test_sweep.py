"""Sweeps: the grid from flags and TOML, common random numbers, identical results for any
number of workers, and resumption after an interruption or a kill."""
import os
import signal
import time

import pytest
from clitools import SWEEPS, cli, cli_json, comparable_rows, mcsim_process, write

import mcsim
import mcsim.executors
from mcsim import dataset
from mcsim.errors import ParameterError
from mcsim.sweep import SweepSpec

#: A small grid: 2 policies x 2 depths, with a precision target that adds blocks.
GRID = ["--policy", "hold,stock-4.19", "--throttle-depth", "6..7", "--trials", "3000",
        "--seed", "11", "--p99-rel-ci", "0.5", "--max-trials", "140000"]


def test_flags_make_the_grid_and_every_point_has_the_sweep_seed(capsys, tmp_path):
    doc = cli_json(capsys, "sweep", *GRID, "--writer-ratio", "0.1", "--set",
                   "device=ssd,lognormal(8ms, 0.5)", "--workers", "1", "--out", tmp_path)
    assert doc["points"] == doc["computed"] == 8 and doc["skipped"] == 0
    rows = mcsim.load(tmp_path).to_pylist()
    assert {(r["policy"], r["throttle_depth"], r["device"]) for r in rows} == {
        (p, d, dev) for p in ("hold", "stock-4.19") for d in (6, 7)
        for dev in ("lognormal(100us, 0.6)", "lognormal(8ms, 0.5)")}
    assert {r["seed"] for r in rows} == {11} and {r["writer_ratio"] for r in rows} == {0.1}
    assert all(r["trials"] >= 3000 and r["p99_rel_ci_target"] == 0.5 for r in rows)


def test_sweep_file_axes_flags_override_and_duplicates_merge(tmp_path):
    path = write(tmp_path / "s.toml", """
        description = "demo"
        [run]
        trials = 4000
        seed = 3
        [params]
        writer_ratio = 0.05
        [grid]
        policy = "all"
        throttle_depth = [7, "7", 7.0]
    """.replace("\n        ", "\n"))
    spec = SweepSpec.from_toml(path)
    assert (spec.trials, spec.seed, spec.description, spec.name) == (4000, 3, "demo", "s")
    assert len(spec.points(command="")) == 5                      # 7, "7" and 7.0 are one
    narrowed = spec.with_values({"policy": ["rfc-v2"], "throttle_depth": [0, 7]})
    points = narrowed.points(command="")
    assert [(p.params["policy"], p.params["throttle_depth"]) for p in points] == [
        ("rfc-v2", 0), ("rfc-v2", 7)]
    assert {p.params["writer_ratio"] for p in points} == {0.05}


def test_point_key_depends_on_what_the_result_depends_on():
    from mcsim.points import PointSpec

    base = PointSpec.make({"writer_hold": "exp(50us)"}, seed=1, trials=100)
    assert base.key == PointSpec.make({"writer_hold": "exp(50000ns)"}, seed=1, trials=100,
                                      command="other").key
    for changed in (PointSpec.make({"writer_hold": "exp(51us)"}, seed=1, trials=100),
                    PointSpec.make({"writer_hold": "exp(50us)"}, seed=2, trials=100),
                    PointSpec.make({"writer_hold": "exp(50us)"}, seed=1, trials=101),
                    PointSpec.make({"writer_hold": "exp(50us)"}, seed=1, trials=100,
                                   p99_rel_ci=0.1)):
        assert changed.key != base.key
    with pytest.raises(ParameterError, match="seed"):
        PointSpec.make({}, seed=-1)


def test_shipped_sweep_files_parse():
    quick = SweepSpec.from_toml(SWEEPS / "quick.toml").points(command="")
    assert len(quick) == 10
    bacik = SweepSpec.from_toml(SWEEPS / "bacik-2018.toml")
    points = bacik.points(command="")
    assert len(points) == 8 * 3 * 5 and bacik.p99_rel_ci is not None
    assert {p.params["throttle_depth"] for p in points} == set(range(8))
    assert {p.params["writer_ratio"] for p in points} == {0.0, 0.05, 0.1}
    assert len({p.seed for p in points}) == 1


def test_one_and_two_workers_give_identical_tables(capsys, tmp_path):
    for workers in ("1", "2"):
        code, _, err = cli(capsys, "sweep", *GRID, "--workers", workers, "--out",
                           tmp_path / workers)
        assert code == 0, err
    one, two = (mcsim.load(tmp_path / w) for w in ("1", "2"))
    assert one.num_rows == 4 and max(one.column("trials").to_pylist()) > 3000
    assert comparable_rows(one) == comparable_rows(two)


def test_interrupted_sweep_resumes_to_the_uninterrupted_result(capsys, tmp_path,
                                                               monkeypatch):
    code, _, _ = cli(capsys, "sweep", *GRID, "--workers", "1", "--out", tmp_path / "ref")
    assert code == 0
    real_run_point, calls = mcsim.executors.run_point, []

    def interrupt_third(point, out):
        calls.append(point)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real_run_point(point, out)

    monkeypatch.setattr(mcsim.executors, "run_point", interrupt_third)
    code, _, err = cli(capsys, "sweep", *GRID, "--workers", "1", "--out", tmp_path / "run")
    assert code == 130 and "interrupted" in err and "Traceback" not in err
    assert len(list((tmp_path / "run").iterdir())) == 2
    monkeypatch.setattr(mcsim.executors, "run_point", real_run_point)
    doc = cli_json(capsys, "sweep", *GRID, "--workers", "1", "--out", tmp_path / "run")
    assert (doc["computed"], doc["skipped"]) == (2, 2)
    assert comparable_rows(mcsim.load(tmp_path / "run")) == comparable_rows(
        mcsim.load(tmp_path / "ref"))
    forced = cli_json(capsys, "sweep", *GRID, "--workers", "1", "--force", "--out",
                      tmp_path / "run")
    assert (forced["computed"], forced["skipped"]) == (4, 0)


def _wait_for_points(directory, count, proc, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if directory.is_dir() and len(list(directory.glob("point-*.parquet"))) >= count:
            return
        time.sleep(0.01)
    raise AssertionError(f"no {count} point files before the sweep ended")


#: Six points of ~0.3 s each: long enough to stop a sweep in the middle.
SLOW_GRID = ["--policy", "hold,stock-4.19,rfc-v1", "--throttle-depth", "6,7",
             "--trials", "1500000", "--seed", "4"]


@pytest.mark.parametrize("how", ["SIGKILL", "SIGINT"])
def test_killed_sweep_leaves_complete_files_and_resumes(capsys, tmp_path, how):
    out = tmp_path / "out"
    workers = "1" if how == "SIGKILL" else "2"
    proc = mcsim_process("sweep", *SLOW_GRID, "--workers", workers, "--quiet", "--out", out,
                         start_new_session=True)
    _wait_for_points(out, 1, proc)
    if how == "SIGKILL":
        proc.kill()
    else:                                   # Ctrl-C: the whole process group gets SIGINT
        os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == (-signal.SIGKILL if how == "SIGKILL" else 130)
    if how == "SIGINT":
        assert err.count("\n") == 1 and "interrupted" in err and "Traceback" not in err
    files = list(out.iterdir())
    assert 1 <= len(files) < 6
    assert all(dataset.point_file_is_valid(f, f.name[6:-8]) for f in files)
    doc = cli_json(capsys, "sweep", *SLOW_GRID, "--workers", "1", "--out", out)
    assert doc["skipped"] == len(files) and doc["computed"] == 6 - len(files)
    fresh = cli_json(capsys, "sweep", *SLOW_GRID, "--workers", "1", "--out", tmp_path / "ref")
    assert fresh["computed"] == 6
    assert comparable_rows(mcsim.load(out)) == comparable_rows(mcsim.load(tmp_path / "ref"))


def test_show_and_compact_commands(capsys, tmp_path):
    cli_json(capsys, "sweep", SWEEPS / "quick.toml", "--trials", "2000", "--workers", "1",
             "--out", tmp_path / "q")
    code, out, _ = cli(capsys, "show", tmp_path / "q", "-C", "gate_wait_p99_ns")
    assert code == 0 and "10 points" in out and "upstream-5.1" in out
    assert "gate_wait_p99_ns" in out and "throttle_depth" in out
    rows = cli_json(capsys, "show", tmp_path / "q")
    assert len(rows) == 10 and not any("_hist_" in key for key in rows[0])
    packed = cli_json(capsys, "compact", tmp_path / "q")
    assert packed == {"file": str(tmp_path / "q.parquet"), "rows": 10}
    assert comparable_rows(mcsim.load(tmp_path / "q.parquet")) == comparable_rows(
        mcsim.load(tmp_path / "q"))
    code, _, err = cli(capsys, "show", tmp_path / "q", "-C", "no_such_column")
    assert code == 2 and "no_such_column" in err
