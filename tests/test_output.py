"""What the commands print: strict JSON that keeps NaN and infinity apart, unit-bearing
keys, tables that fit 80 columns without cutting numbers, captions that explain the
columns, plural agreement, and one-line refusals of files mcsim cannot read or write."""
import doctest
import importlib
import json
import math
import re

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from clitools import cli, cli_json

import mcsim
from mcsim.cli.common import jsonable
from mcsim.cli.render import points_table, render_text, result_tables
from mcsim.points import PointSpec, run_point
from mcsim.units import format_duration


@pytest.mark.parametrize("name", ["mcsim.schema", "mcsim.result", "mcsim.dataset",
                                  "mcsim.cli.render", "mcsim.cli.common",
                                  "mcsim.cli.kernel_tables", "mcsim.cli.info",
                                  "mcsim.cli.script", "mcsim.compare"])
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


@pytest.fixture(scope="module")
def points(tmp_path_factory):
    """Six points varying in three parameters (one of them with a unit), as `show` reads
    them: the widest table a small sweep makes."""
    out = tmp_path_factory.mktemp("show") / "pts"
    for policy in ("hold", "upstream-5.1", "rfc-v2"):
        for wake in ("0", "20us"):
            run_point(PointSpec.make({"policy": policy, "wake": wake, "throttle_depth": 7},
                                     trials=3000 if policy == "hold" else 2000, seed=4,
                                     command="test"), out)
    return out


def _strict_json(text: str):
    def refuse(token):
        raise AssertionError(f"{token} is not JSON")
    return json.loads(text, parse_constant=refuse)


def test_json_keeps_nan_and_infinities_apart():
    assert jsonable([math.nan, math.inf, -math.inf, None, 1.5]) == [
        "nan", "inf", "-inf", None, 1.5]
    assert [float(x) for x in jsonable([math.inf, -math.inf])] == [math.inf, -math.inf]


def test_run_json_is_strict_with_nan_as_a_string_and_units_in_config_keys(capsys):
    # hp_rate so low that 2,000 trials see no HP read (a target with hp_rate = 0 is refused)
    code, out, err = cli(capsys, "run", "--set", "hp_rate=0.001", "--set", "wake=20us",
                         "--trials", "2000", "--json", "--p99-rel-ci", "0.5",
                         "--max-trials", "2000")
    assert code == 0, err
    doc = _strict_json(out)                       # no NaN / Infinity tokens
    hp = doc["metrics"]["hp_wait"]
    assert hp["n"] == 0 and hp["p99_ns"] == "nan" and hp["p99_rel_ci"] == "nan"
    assert doc["run"]["p99_rel_ci_met"] is False          # no interval: not met
    config = doc["config"]
    assert config["wake_ns"] == 20_000 and config["hp_rate_per_s"] == 0.001
    assert config["handoff_timeout_ns"] == 4_000_000 and "wake" not in config
    assert config.keys() == {mcsim.schema.param_column(p.name) for p in mcsim.params.PARAMS}


def test_show_json_and_params_json_use_the_column_names(capsys, points):
    rows = cli_json(capsys, "show", points)
    assert len(rows) == 6 and {r["wake_ns"] for r in rows} == {0, 20_000}
    assert "wake" not in rows[0] and rows[0]["lp_rate_per_s"] == 400.0
    params = {p["name"]: p for p in cli_json(capsys, "params")}
    assert (params["wake"]["column"], params["wake"]["column_default"]) == ("wake_ns", 0)
    assert params["handoff_timeout"]["column_default"] == 4_000_000
    assert params["handoff_timeout"]["column_unit"] == "ns"
    assert (params["evict_rate"]["column"], params["evict_rate"]["column_unit"]) == (
        "evict_rate_per_s", "1/s")
    assert params["policy"]["column"] == "policy"


def test_show_any_documented_column_including_histograms(capsys, points):
    code, out, err = cli(capsys, "show", points, "-C", "hp_wait_hist_idx",
                         "-C", "gate_wait_p99_ns")
    assert code == 0 and err == ""
    assert "hp_wait_hist_idx" in out and re.search(r"\b\d+ values?\b", out)
    rows = cli_json(capsys, "show", points, "-C", "hp_wait_hist_idx")
    assert all(isinstance(r["hp_wait_hist_idx"], list) for r in rows)
    assert not any("hp_wait_hist_counts" in r for r in rows)


def test_show_refuses_files_it_cannot_read_in_one_line(capsys, tmp_path):
    pq.write_table(pa.table({"a": [1.0], "b": ["x"]}), tmp_path / "other.parquet")
    (tmp_path / "junk.parquet").write_bytes(b"PAR1 not really")
    for name in ("other.parquet", "junk.parquet"):
        code, out, err = cli(capsys, "show", tmp_path / name)
        assert code == 4 and out == "" and err.count("\n") == 1, err
        assert str(tmp_path / name) in err and "not an mcsim result file" in err
        assert "Traceback" not in err


def test_run_out_refuses_names_that_are_not_parquet(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in ("r.csv", "r.arrow", "r"):
        code, _, err = cli(capsys, "run", "--trials", "500", "--quiet", "--out", name)
        assert code == 2 and err.count("\n") == 1, err
        assert f"--out: '{name}' is not a .parquet file name" in err and "allowed:" in err
    code, _, err = cli(capsys, "compact", tmp_path, "--out", "all.csv")
    assert code == 2 and "--out: 'all.csv'" in err
    assert list(tmp_path.iterdir()) == []


def _lines_fit(text: str, width: int = 80):
    long = [line for line in text.splitlines() if len(line) > width]
    assert not long, "\n".join(long)
    assert "…" not in text


def test_tables_fit_80_columns_without_cutting_numbers(points):
    rows = mcsim.load(points).select(
        [n for n in mcsim.load(points).column_names if "_hist_" not in n]).to_pylist()
    text = render_text(points_table(rows, title=f"{points}: 6 points"), width=80)
    _lines_fit(text)
    for r in rows:                             # every headline number appears whole
        assert format_duration(r["hp_wait_p99_ns"]) in text
        assert f"{r['hp_wait_p99_rel_ci']:.2%}" in text or "inf" in text
    assert "upstream-5.1" in text and "20 µs" in text
    assert "p99 ±: half-width of the p99's 95% interval" in text
    assert re.search(r"not shown at this\s+width", text)
    wide = render_text(points_table(rows), width=200)
    assert "not shown" not in wide and "p99 95% interval" in wide
    assert "throttle_depth" not in wide               # it does not vary here
    result = mcsim.simulate(trials=3000, seed=2)
    text = "\n".join(render_text(r, width=80) for r in result_tables(result))
    _lines_fit(text)
    h = result["hp_wait"]
    assert format_duration(h.quantile(0.99)) in text and format_duration(h.quantile(0.999)) \
        in text


def test_counts_agree_with_their_nouns(capsys, tmp_path):
    result = mcsim.simulate(trials=1, seed=3)
    text = "\n".join(render_text(r, width=120) for r in result_tables(result))
    assert "1 trial ·" in text and "1 trials" not in text
    out = tmp_path / "one.parquet"
    assert cli(capsys, "run", "--trials", "1", "--quiet", "--out", out)[0] == 0
    code, text, _ = cli(capsys, "show", out)
    assert code == 0 and re.search(r": 1 point *\n", text) and "1 trial per point" in text
    code, text, _ = cli(capsys, "compact", out.parent / "nothing-here")
    assert code == 4


def test_every_documented_column_can_be_shown(points):
    table = mcsim.load(points)
    rows = table.to_pylist()
    names = mcsim.schema.column_names()
    assert table.column_names == names
    for start in range(0, len(names), 60):           # 60 columns at a time: a wide table
        text = render_text(points_table(rows, extra_columns=names[start:start + 60]),
                           width=20000)
        assert names[start] in text and names[min(start + 59, len(names) - 1)] in text
