"""`mcsim run`: one configuration, its headline, --json, --config with overrides, --out."""
import pyarrow.parquet as pq
import pytest
from clitools import cli, cli_json, write

import mcsim
import mcsim.schema
from mcsim import dataset
from mcsim.layout import METRICS
from mcsim.points import PointSpec, simulate_point

TRIALS = "20000"


def test_json_has_every_metric_in_ns_and_the_full_configuration(capsys):
    doc = cli_json(capsys, "run", "--policy", "hold", "--throttle-depth", "6", "--trials",
                   TRIALS, "--seed", "3", "--workers", "2")
    expected = mcsim.simulate(policy="hold", throttle_depth=6, trials=20000, seed=3)
    assert doc["config"] == mcsim.schema.param_values(expected.config.public())
    assert doc["lp_depth"] == 2 and doc["run"]["trials"] == 20000 and doc["run"]["seed"] == 3
    assert set(doc["metrics"]) == set(METRICS)
    hp = doc["metrics"]["hp_wait"]
    assert hp["p99_ns"] == expected["hp_wait"].quantile(0.99)
    assert [hp["p99_lo_ns"], hp["p99_hi_ns"]] == list(expected["hp_wait"].quantile_ci(0.99))
    assert hp["n"] == expected["hp_wait"].n
    assert doc["metrics"]["fault_passes"]["mean"] == expected["fault_passes"].mean()
    assert doc["counters"]["events"] == expected.counters["events"]
    assert doc["inversion_fraction"] == expected.inversion_fraction


def test_headline_shows_waits_inversions_and_work(capsys):
    code, out, err = cli(capsys, "run", "--trials", TRIALS, "--quiet")
    assert code == 0 and err == ""
    result = mcsim.simulate(trials=20000)
    for text in ("hp_wait", "lp_fault_latency", "writer_wait", "inversions:",
                 "20,000 trials", f"{result.counters['events']:,} events",
                 mcsim.units.format_duration(result["hp_wait"].quantile(0.99))):
        assert text in out


def test_config_file_values_are_overridden_by_flags(capsys, tmp_path):
    config = write(tmp_path / "c.toml", '[run]\ntrials = 5000\nseed = 7\n'
                   '[params]\nwriter_ratio = 0.05\npolicy = "rfc-v1"\n')
    doc = cli_json(capsys, "run", "-c", config, "--writer-ratio", "0", "--set",
                   "device=ssd", "--seed", "8")
    assert doc["config"]["writer_ratio"] == 0.0          # flag beats file
    assert doc["config"]["policy"] == "rfc-v1"           # file beats default
    assert doc["config"]["device"] == "lognormal(100us, 0.6)"
    assert (doc["run"]["trials"], doc["run"]["seed"]) == (5000, 8)


def test_out_writes_one_row_with_histograms_and_provenance(capsys, tmp_path):
    out = tmp_path / "r.parquet"
    code, text, _ = cli(capsys, "run", "--trials", TRIALS, "--policy", "rfc-v2", "--out", out)
    assert code == 0 and f"wrote {out}" in text
    row = mcsim.load(out).to_pylist()[0]
    expected = mcsim.simulate(policy="rfc-v2", trials=20000)
    assert row["policy"] == "rfc-v2" and row["trials"] == 20000
    assert dataset.row_histogram(row, "hp_wait") == expected["hp_wait"]
    meta = dataset.read_file_metadata(out)
    assert meta["command"].startswith("mcsim run --trials 20000")
    assert meta["point_key"] == row["point_key"] and meta["version"] == mcsim.__version__
    assert pq.read_metadata(out).num_rows == 1


def test_precision_target_adds_blocks_until_met_and_ignores_workers():
    point = PointSpec.make({"policy": "hold"}, trials=2000, seed=5, p99_rel_ci=0.2,
                           max_trials=2_000_000)
    one = simulate_point(point, workers=1)
    two = simulate_point(point, workers=2)
    assert one.trials == two.trials > 2000
    assert one.extra["p99_rel_ci_met"] is True
    assert one.row()["hp_wait_p99_rel_ci"] <= 0.2
    assert one["hp_wait"] == two["hp_wait"]
    capped = simulate_point(PointSpec.make({"policy": "hold"}, trials=2000, seed=5,
                                           p99_rel_ci=1e-6, max_trials=70000))
    assert capped.trials == 70000 and capped.extra["p99_rel_ci_met"] is False


@pytest.mark.parametrize("args", [["--policy", "hold,rfc-v2"], ["--throttle-depth", "0..1"]])
def test_run_refuses_lists(capsys, args):
    code, _, err = cli(capsys, "run", "--trials", "1000", *args)
    assert code == 2 and "use `mcsim sweep`" in err
