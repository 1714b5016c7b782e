"""Bad input gets one line on stderr naming the problem and what is allowed, a documented
exit code, no traceback, and never a partial or corrupt file."""
import errno
import os

import pyarrow.parquet as pq
import pytest
from clitools import cli, write

from mcsim import dataset


def one_line(err: str) -> str:
    assert err.endswith("\n") and err.count("\n") == 1, err
    assert "Traceback" not in err and err.startswith("mcsim: error: ")
    return err


@pytest.mark.parametrize("args, code, words", [
    (["run", "--policy", "bogus"], 2, ["policy", "allowed: one of hold, stock-4.19"]),
    (["run", "--set", "writer_hold_time=5us"], 2, ["is not a parameter", "writer_hold"]),
    (["run", "--throttle-depth", "9"], 2, ["throttle_depth", "out of range", "0 to 7"]),
    (["run", "--set", "writer_ratio=1.5"], 2, ["writer_ratio", "probability from 0 to 1"]),
    (["run", "--set", "device=fast"], 2, ["device", "ssd or hdd"]),
    (["run", "--set", "writer_ratio"], 2, ["NAME=VALUE"]),
    (["run", "--trials", "0"], 2, ["trials: 0 is out of range", "from 1 to 1e12"]),
    (["run", "--p99-rel-ci", "-1"], 2, ["p99_rel_ci", "positive number"]),
    (["run", "--no-such-flag"], 2, ["--no-such-flag", "mcsim run --help"]),
    (["sweep", "--throttle-depth", "3..1", "--out", "x"], 2, ["range a..b"]),
    (["sweep", "--policy", "all"], 2, ["--out: missing"]),
    (["show", "/nonexistent/results"], 4, ["No such file or directory"]),
    (["script", "/nonexistent.toml"], 4, ["cannot read"]),
])
def test_bad_arguments(capsys, args, code, words):
    rc, out, err = cli(capsys, *args)
    assert rc == code and out == ""
    for word in words:
        assert word in one_line(err)


@pytest.mark.parametrize("text, code, words", [
    ("[grid\npolicy = 1", 2, ["not valid TOML", "line 1"]),
    ("[grid]\npolicy = 'bogus'", 2, ["policy", "allowed: one of"]),
    ("[grid]\nthrottle_dept = [1, 2]", 2, ["is not a parameter", "throttle_depth"]),
    ("[run]\ntrails = 5", 2, ["unknown key 'trails'", "allowed: trials, seed"]),
    ("[run]\ntrials = 'many'", 2, ["[run] trials", "not an integer"]),
    ("[params]\nwriter_ratio = -0.5", 2, ["writer_ratio", "out of range"]),
    ("[sweep]\nx = 1", 2, ["unknown key 'sweep'", "allowed: description, run, params, grid"]),
])
def test_bad_sweep_files(capsys, tmp_path, text, code, words):
    path = write(tmp_path / "bad.toml", text)
    rc, _, err = cli(capsys, "sweep", path, "--out", tmp_path / "out")
    assert rc == code
    for word in words:
        assert word in one_line(err)
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_run_config_file_may_not_have_a_grid(capsys, tmp_path):
    path = write(tmp_path / "c.toml", "[grid]\npolicy = 'all'")
    rc, _, err = cli(capsys, "run", "-c", path)
    assert rc == 2 and "unknown key 'grid'" in one_line(err)


def test_unreadable_and_non_utf8_files(capsys, tmp_path):
    rc, _, err = cli(capsys, "sweep", tmp_path / "missing.toml")
    assert rc == 4 and "No such file or directory" in one_line(err)
    path = tmp_path / "binary.toml"
    path.write_bytes(b"\xff\xfe\x00")
    rc, _, err = cli(capsys, "sweep", path)
    assert rc == 2 and "not UTF-8" in one_line(err)


def test_bad_script_files(capsys, tmp_path):
    path = write(tmp_path / "s.toml", "[params]\nthrottle_depth = 7\n")
    rc, _, err = cli(capsys, "script", path)
    assert rc == 2 and "no tasks" in one_line(err)
    path = write(tmp_path / "t.toml", "[[task]]\nat = '0'\nkind = 'writer'\nbio = '1ms'\n")
    rc, _, err = cli(capsys, "script", path)
    assert rc == 2 and "task[0].bio" in one_line(err) and "hold" in err


def test_unwritable_output_directory(capsys, tmp_path):
    blocker = write(tmp_path / "file", "not a directory")
    rc, _, err = cli(capsys, "sweep", "--trials", "1000", "--out", blocker / "sub")
    assert rc == 4 and "cannot create directory" in one_line(err)
    rc, _, err = cli(capsys, "run", "--trials", "1000", "--out", blocker / "r.parquet")
    assert rc == 4 and "cannot create directory" in one_line(err)


def test_overloaded_configuration_is_a_simulation_error(capsys, tmp_path):
    overload = ["--set", "lp_rate=20000", "--set", "max_trial_events=1000"]
    rc, _, err = cli(capsys, "run", "--trials", "1000", *overload)
    assert rc == 3 and "overloaded" in one_line(err)
    out = tmp_path / "out"
    rc, _, err = cli(capsys, "sweep", "--trials", "1000", "--set", "lp_rate=50,20000",
                     "--set", "max_trial_events=1000", "--workers", "1", "--out", out)
    assert rc == 3 and "1 of 2 points failed" in one_line(err)
    assert len(list(out.glob("point-*.parquet"))) == 1      # the good point is kept


def test_a_full_disk_stops_the_sweep_and_leaves_no_partial_file(capsys, tmp_path,
                                                                monkeypatch):
    real_write = pq.write_table
    calls = []

    def fill_up(table, where, **kwargs):
        calls.append(1)
        if len(calls) < 2:
            return real_write(table, where, **kwargs)
        where.write(b"PAR1 half a file")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(pq, "write_table", fill_up)
    out = tmp_path / "out"
    rc, _, err = cli(capsys, "sweep", "--trials", "1000", "--throttle-depth", "5..7",
                     "--workers", "1", "--out", out)
    assert rc == 4 and "No space left on device" in one_line(err)
    files = list(out.iterdir())
    assert len(files) == 1 and dataset.point_file_is_valid(files[0], files[0].name[6:-8])
    assert not dataset.staging_dir_for_dataset(out).exists()
