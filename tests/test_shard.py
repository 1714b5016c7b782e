"""``mcsim sweep --shard I/N``: scheduler-free job arrays.  The shards split the sweep's
points deterministically, their union into one directory is the unsharded sweep, and
``mcsim compact`` packs it."""
import pytest
from clitools import cli, cli_json, comparable_rows

import mcsim
from mcsim.errors import UsageError
from mcsim.executors import parse_shard, shard_points
from mcsim.sweep import SweepSpec

GRID = ["--policy", "hold,stock-4.19,rfc-v2", "--throttle-depth", "6..7", "--trials",
        "3000", "--seed", "5", "--workers", "1"]


def test_two_shards_into_one_directory_equal_the_unsharded_sweep(capsys, tmp_path):
    docs = [cli_json(capsys, "sweep", *GRID, "--shard", f"{i}/2", "--out", tmp_path / "sh")
            for i in range(2)]
    assert [d["points"] for d in docs] == [3, 3] and [d["shard"] for d in docs] == ["0/2",
                                                                                      "1/2"]
    keys = [{r["point_key"] for r in d["results"]} for d in docs]
    assert not keys[0] & keys[1]
    full = cli_json(capsys, "sweep", *GRID, "--out", tmp_path / "full")
    assert keys[0] | keys[1] == {r["point_key"] for r in full["results"]}
    assert comparable_rows(mcsim.load(tmp_path / "sh")) == comparable_rows(
        mcsim.load(tmp_path / "full"))
    again = cli_json(capsys, "sweep", *GRID, "--out", tmp_path / "sh")
    assert (again["computed"], again["skipped"]) == (0, 6)
    packed = cli_json(capsys, "compact", tmp_path / "sh")
    assert packed["rows"] == 6
    assert comparable_rows(mcsim.load(packed["file"])) == comparable_rows(
        mcsim.load(tmp_path / "full"))


def test_sharding_is_deterministic_disjoint_and_complete():
    spec = SweepSpec(grid={"throttle_depth": list(range(8)), "writer_ratio": [0, 0.1]},
                     trials=10)
    points = spec.points(command="")
    for n in (1, 3, 16, 40):
        shards = [shard_points(points, i, n) for i in range(n)]
        assert sum(map(len, shards)) == len(points)
        assert {p.key for s in shards for p in s} == {p.key for p in points}
        assert max(map(len, shards)) - min(map(len, shards)) <= 1
    # the grid's order does not matter, only the set of points
    assert shard_points(points, 1, 3) == [p for p in shard_points(points[::-1], 1, 3)[::-1]]


@pytest.mark.parametrize("text", ["2/2", "-1/2", "1", "a/b", "0/0", "1/2/3"])
def test_bad_shard_is_a_usage_error(capsys, tmp_path, text):
    with pytest.raises(UsageError):
        parse_shard(text)
    code, _, err = cli(capsys, "sweep", *GRID, "--shard", text, "--out", tmp_path)
    assert code == 2 and err.count("\n") == 1 and "I/N" in err
