"""A sweep's plan before it runs (``--dry-run``, the line a big sweep prints first) and its
progress in a log, weighted by trials."""
import io
import json

import pytest
from clitools import cli, cli_json

import mcsim.plan
from mcsim.cli.plan import TrialsDone
from mcsim.cli.progress import LogProgress
from mcsim.plan import plan_sweep, pilot_seconds_per_trial
from mcsim.points import PointSpec
from mcsim.sweep import SweepSpec

#: Four small points (2 policies x 2 depths).
GRID = ["--policy", "hold,rfc-v2", "--throttle-depth", "6,7", "--trials", "3000", "--seed",
        "2"]


def test_dry_run_prints_the_plan_and_creates_nothing(capsys, tmp_path):
    out = tmp_path / "sub" / "new"
    code, stdout, err = cli(capsys, "sweep", *GRID, "--workers", "2", "--dry-run",
                            "--out", out)
    assert code == 0, err
    assert "4 (0 already present, 4 to compute)" in stdout
    assert "12,000 trials" in stdout and "2 local processes" in stdout
    assert str(out) in stdout and "not created yet" in stdout
    assert "estimate from a" in stdout and "pilot run" in stdout
    assert not (tmp_path / "sub").exists() and list(tmp_path.iterdir()) == []


def test_dry_run_counts_the_points_already_present(capsys, tmp_path):
    out = tmp_path / "out"
    done = cli_json(capsys, "sweep", *GRID[:2], "--throttle-depth", "6", *GRID[4:],
                    "--workers", "1", "--out", out)            # 2 of the 4 points
    assert done["computed"] == 2
    before = sorted(out.iterdir())
    plan = cli_json(capsys, "sweep", *GRID, "--dry-run", "--workers", "3", "--out", out)
    assert (plan["points"], plan["present"], plan["to_compute"]) == (4, 2, 2)
    assert plan["trials"] == 2 * 3000 and plan["max_trials"] is None
    assert plan["workers"] == 2                          # no more than points to compute
    assert plan["estimate_s"] > 0 and plan["pilot_s"] < 1.0
    assert sorted(out.iterdir()) == before               # nothing simulated or written
    forced = cli_json(capsys, "sweep", *GRID, "--dry-run", "--force", "--out", out)
    assert (forced["present"], forced["to_compute"]) == (0, 4)


def test_dry_run_under_a_precision_target_gives_the_range_of_trials(capsys, tmp_path):
    plan = cli_json(capsys, "sweep", *GRID, "--p99-rel-ci", "0.1", "--max-trials", "50000",
                    "--dry-run", "--out", tmp_path / "p")
    assert (plan["trials"], plan["max_trials"]) == (4 * 3000, 4 * 50000)
    code, stdout, _ = cli(capsys, "sweep", *GRID, "--p99-rel-ci", "0.1", "--dry-run",
                          "--out", tmp_path / "p")
    assert code == 0 and "at least 12,000 trials" in stdout and "or more" in stdout


def test_dry_run_on_dask_needs_no_scheduler_to_answer(capsys, tmp_path):
    plan = cli_json(capsys, "sweep", *GRID, "--dry-run", "--executor", "dask",
                    "--scheduler", "tcp://192.0.2.1:8786", "--out", tmp_path / "d")
    assert plan["workers"] is None and plan["estimate_per_worker"] is True
    assert not (tmp_path / "d").exists()


def test_pilot_is_short_and_measures_a_positive_speed():
    points = SweepSpec(params={"device": "hdd"}, grid={"policy": ["hold", "rfc-v2"]},
                       trials=10**9).points(command="")
    import time

    started = time.perf_counter()
    per_trial = pilot_seconds_per_trial(points)
    assert 0 < per_trial < 1e-3 and time.perf_counter() - started < 1.0


def test_estimate_shares_trials_among_workers_but_not_below_the_longest_point():
    points = [PointSpec.make({"throttle_depth": d}, trials=t, command="")
              for d, t in ((5, 1000), (6, 1000), (7, 4000))]
    plan = plan_sweep(points, "/nonexistent/dir")
    assert mcsim.plan.estimate_seconds(plan, 1e-3, workers=1) == pytest.approx(6.0)
    assert mcsim.plan.estimate_seconds(plan, 1e-3, workers=2) == pytest.approx(4.0)
    assert mcsim.plan.estimate_seconds(plan, 1e-3, workers=6) == pytest.approx(4.0)


def test_a_big_sweep_says_how_many_points_and_how_long_before_it_starts(
        capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(mcsim.plan, "BIG_SWEEP_TRIALS", 10_000)       # 12,000 is big now
    code, stdout, err = cli(capsys, "sweep", *GRID, "--workers", "1", "--json", "--out",
                            tmp_path / "big")
    assert code == 0 and json.loads(stdout)["computed"] == 4
    first = err.splitlines()[0]
    assert first.startswith("mcsim: sweep big: 4 points to compute (0 already present)")
    assert "12,000 trials" in first and "on 1 worker" in first and "estimate" in first
    code, _, err = cli(capsys, "sweep", *GRID, "--workers", "1", "--quiet", "--out",
                       tmp_path / "quiet")
    assert code == 0 and err == ""


def test_progress_lines_in_a_log_one_per_point(capsys, tmp_path):
    # capsys's stderr is not a terminal: lines, not a bar.
    code, _, err = cli(capsys, "sweep", *GRID, "--workers", "1", "--log-interval", "0",
                       "--out", tmp_path / "log")
    assert code == 0
    lines = err.splitlines()
    assert [line.split(": ")[2].split(",")[0] for line in lines] == [
        f"{k}/4 points" for k in range(1, 5)]
    assert all(line.startswith("mcsim: sweep log: ") for line in lines)
    assert "100% of 12,000 trials" in lines[-1]
    # The default interval (10 s) is longer than this sweep: no line at all.
    code, _, err = cli(capsys, "sweep", *GRID, "--workers", "1", "--force", "--out",
                       tmp_path / "log")
    assert code == 0 and err == ""


def test_progress_weighs_points_by_their_trials():
    points = [PointSpec.make({"throttle_depth": 6}, trials=1000, command=""),
              PointSpec.make({"throttle_depth": 7}, trials=3000, command="")]
    plan = plan_sweep(points, "/nonexistent/dir")
    stream = io.StringIO()
    log = LogProgress("sweep w", "trials", interval=0, stream=stream)
    done = TrialsDone(plan, log)
    done(points[1], {"trials": 3000})
    done(points[0], None)                                   # a failed point counts too
    first, second = stream.getvalue().splitlines()
    assert first.startswith("mcsim: sweep w: 1/2 points, 75% of 4,000 trials")
    assert second.startswith("mcsim: sweep w: 2/2 points (1 failed), 100% of 4,000 trials")


def test_time_left_is_elapsed_times_remaining_over_done():
    log = LogProgress("run", "trials", interval=3600)
    log.update(1000, 4000)
    assert log.line(elapsed=10.0).endswith("0:10 elapsed, about 0:30 left")
    assert "1,000/4,000 trials (25%)" in log.line(elapsed=10.0)


def test_sweep_out_help_shows_no_default_it_does_not_have(capsys):
    code, out, _ = cli(capsys, "sweep", "--help")
    assert code == 0
    text = " ".join(out.replace("│", " ").split())       # without the box lines
    assert "Required without a sweep file; with one, out/NAME if not given" in text
    assert "[default: out/" not in text


@pytest.mark.parametrize("name", ["mcsim.plan", "mcsim.cli.plan", "mcsim.cli.progress",
                                  "mcsim.cli.signals"])
def test_examples_in_docstrings(name):
    import doctest
    import importlib

    outcome = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert outcome.attempted > 0 and outcome.failed == 0
