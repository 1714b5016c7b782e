"""`mcsim compare`: the compared numbers are the rows' (simulated here or read with
--from), the differences are row minus baseline, the verdict is computed from them."""
import json

import pytest
from clitools import cli, write_points

import mcsim
from mcsim.units import format_duration

TRIALS = 2000
CONFIG = ["--throttle-depth", "7", "--writer-ratio", "0.1", "--seed", "4"]


@pytest.fixture(scope="module")
def rows():
    return {p: mcsim.simulate(policy=p, throttle_depth=7, writer_ratio=0.1, trials=TRIALS,
                              seed=4).row() for p in ("hold", "rfc-v2")}


def _compare_json(capsys, *args):
    code, out, err = cli(capsys, "compare", *args, "--json", "-q")
    assert code == 0, err
    return json.loads(out)


def test_simulated_numbers_differences_and_verdict(capsys, rows, tmp_path):
    plot = tmp_path / "ccdf.svg"
    doc = _compare_json(capsys, "--policy", "hold,rfc-v2", "--trials", TRIALS, *CONFIG,
                        "--plot", plot)
    hold, v2 = doc["policies"]
    assert [hold["policy"], v2["policy"]] == ["hold", "rfc-v2"]
    for name, col in (("hp_wait p99", "hp_wait_p99_ns"), ("hp_wait p99.9", "hp_wait_p999_ns"),
                      ("LP fault latency mean", "lp_fault_latency_mean_ns")):
        a, b = rows["hold"][col], rows["rfc-v2"][col]
        assert hold["statistics"][name]["value"] == a       # same point, same seed
        assert v2["statistics"][name]["value"] == b
        assert v2["statistics"][name]["diff"] == b - a
        s = v2["statistics"][name]
        assert s["diff_lo"] <= s["diff"] <= s["diff_hi"]
    assert hold["statistics"]["hp_wait p99"]["lo"] == rows["hold"]["hp_wait_p99_lo_ns"]
    assert hold["verdict"] == "baseline"
    p999 = (format_duration(rows["hold"]["hp_wait_p999_ns"]),
            format_duration(rows["rfc-v2"]["hp_wait_p999_ns"]))
    assert f"p99.9 {p999[0]} → {p999[1]}" in v2["verdict"]
    assert v2["blame"] == {k[6:]: v for k, v in rows["rfc-v2"].items()
                           if k.startswith("blame_")}
    assert ("removes all inversions" in v2["verdict"]) == (
        rows["rfc-v2"]["inversions"] == 0 < rows["hold"]["inversions"])
    assert plot.read_text().count("<path") > 0 and doc["plot"] == str(plot)


def test_rows_from_results_and_the_table(capsys, rows, tmp_path):
    out = write_points(tmp_path / "sw", [{"policy": p, "throttle_depth": d,
                                          "writer_ratio": 0.1}
                                         for p in ("hold", "rfc-v2") for d in (0, 7)],
                       TRIALS, 4)
    doc = _compare_json(capsys, "--from", out, "--policy", "hold,rfc-v2",
                        "--throttle-depth", "7")
    assert doc["policies"][1]["statistics"]["hp_wait p99.9"]["value"] == \
        rows["rfc-v2"]["hp_wait_p999_ns"]
    code, text, err = cli(capsys, "compare", "--from", out, "--policy", "hold,rfc-v2",
                          "--throttle-depth", "7")
    assert code == 0, err
    assert "rfc-v2: " in text and "hold: baseline" in text and "blamed step" in text
    # without --throttle-depth two rows match each policy: refused in one line
    code, _, err = cli(capsys, "compare", "--from", out, "--policy", "hold")
    assert code == 2 and "2 rows" in err and "throttle_depth" in err
    assert err.count("\n") == 1


@pytest.mark.parametrize("args,words", [
    (["--throttle-depth", "0,7"], "one configuration"),
    (["--plot", "x.gif"], "allowed: .png, .svg or .pdf"),
    (["--policy", "nope"], "nope"),
])
def test_bad_options_are_one_line(capsys, tmp_path, args, words):
    code, _, err = cli(capsys, "compare", "--trials", "100", *args, "-q")
    assert code == 2 and words in err and err.count("\n") == 1, err


def test_the_header_names_every_parameter_set_away_from_its_default(capsys):
    """The first line states the compared configuration: the shared axes and each other
    parameter the rows share at a value other than its default (here two --set ones);
    parameters left at their defaults are not listed."""
    code, text, err = cli(capsys, "compare", "--trials", "300", *CONFIG, "--policy",
                          "hold,rfc-v2", "--set", "p_retry_miss=0.45", "--set", "wake=20us")
    assert code == 0, err
    header = text.splitlines()[0]
    assert header.startswith("era 4.x, throttle_depth 7, writer_ratio 0.1, ")
    assert "wake_ns 20 µs" in header and "p_retry_miss 0.45" in header
    assert "write_fault_ratio" not in header and "hp_rate" not in header
