"""`mcsim script`: the two scripted cases of model.md §6, shipped in sweeps/scripts/."""
import re

import pytest
from clitools import SWEEPS, cli, cli_json

MS = 1_000_000
EXPECTED_HP_WAIT_MS = {   # model.md §6, policies in the order of `mcsim policies`
    "read-miss.toml": [8.05, 7.95, 0, 0, 0],
    "mkwrite.toml": [8.05, 8.05, 8.05, 0, 8.05],
}


@pytest.mark.parametrize("name", sorted(EXPECTED_HP_WAIT_MS))
def test_shipped_scripts_give_the_model_table(capsys, name):
    doc = cli_json(capsys, "script", SWEEPS / "scripts" / name, "--policy", "all")
    assert [r["policy"] for r in doc["results"]] == [
        "hold", "stock-4.19", "rfc-v1", "rfc-v2", "upstream-5.1"]
    hp_waits = [[w for t in r["tasks"] if t["kind"] == "hp_read" for w in t["waits_ns"]]
                for r in doc["results"]]
    assert hp_waits == [[round(ms * MS)] for ms in EXPECTED_HP_WAIT_MS[name]]
    assert all(r["timeline"] for r in doc["results"])


def test_human_output_has_the_waits_and_the_timeline(capsys):
    code, out, _ = cli(capsys, "script", SWEEPS / "scripts" / "read-miss.toml", "--policy",
                       "all", "--width", "50")
    assert code == 0
    cells = {row[0]: row for row in (re.split(r"\s{2,}", line.strip())
                                     for line in out.splitlines())}
    assert cells["hold"][-2] == "8.05 ms"         # the HP wait column, before "all done"
    assert cells["stock-4.19"][-2] == "7.95 ms"
    assert cells["rfc-v2"][-2] == "0"
    timelines = out.split("policy ")[1:]
    stock = next(t for t in timelines if t.startswith("stock-4.19"))
    fault_lane = next(line for line in stock.splitlines() if " fault " in line)
    assert "G" in fault_lane                    # holds L at the IO gate: the inversion
    rfc = next(t for t in timelines if t.startswith("rfc-v2"))
    assert "G" not in next(line for line in rfc.splitlines() if " fault " in line)


def test_one_policy_and_parameter_overrides(capsys):
    doc = cli_json(capsys, "script", SWEEPS / "scripts" / "read-miss.toml", "--policy",
                   "stock-4.19", "--set", "throttle_depth=0")
    (result,) = doc["results"]
    hp = [t for t in result["tasks"] if t["kind"] == "hp_read"][0]
    assert result["policy"] == "stock-4.19" and hp["waits_ns"] == [0]   # a free slot
