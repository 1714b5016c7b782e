"""Result files: the documented schema, atomic writes, exact merging, and the same numbers
back through pyarrow, pandas, polars and DuckDB."""
import errno
import os
import re

import duckdb
import pandas as pd
import polars as pl
import pyarrow.parquet as pq
import pytest
from clitools import REPO, comparable_rows

import mcsim
from mcsim import dataset, schema
from mcsim.engine import block_sizes, run_blocks
from mcsim.errors import StorageError, UsageError
from mcsim.points import PointSpec, run_point
from mcsim.result import Result
from mcsim.scenario import compile_scenario


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory):
    """Three points of a tiny sweep, written by run_point."""
    out = tmp_path_factory.mktemp("data") / "points"
    for policy in ("hold", "stock-4.19", "rfc-v2"):
        run_point(PointSpec.make({"policy": policy}, trials=4000, seed=2, command="test"), out)
    return out


def test_row_has_exactly_the_schema_columns_in_order():
    row = mcsim.simulate(trials=2000, seed=1).row()
    names = schema.column_names()
    assert list(row) == names and len(set(names)) == len(names)
    table = mcsim.simulate(trials=2000, seed=1).to_arrow()
    assert table.schema.names == names


def test_results_doc_describes_every_column():
    doc = (REPO / "docs" / "results.md").read_text()
    documented = set(re.findall(r"`([a-z0-9_]+)`", doc))
    metric_part = re.compile(r"^(%s)_" % "|".join(schema.METRIC_UNITS))
    for column in schema.columns():
        if metric_part.match(column.name):       # described per statistic, not per metric
            stat = metric_part.sub("<metric>_", column.name)
            assert stat in doc.replace("`", ""), column.name
        else:
            assert column.name in documented, column.name


def test_results_doc_tables_are_generated_from_the_schema():
    doc = (REPO / "docs" / "results.md").read_text()
    assert schema.splice_docs(doc) == doc, \
        "docs/results.md is stale: run python -m mcsim.schema docs/results.md"
    assert f"schema version {schema.SCHEMA_VERSION}" in doc


def test_every_parquet_field_has_a_description_and_a_unit(sweep_dir):
    fields = pq.read_schema(next(sweep_dir.glob("point-*.parquet")))
    for field in fields:
        meta = field.metadata or {}
        assert len(meta.get(b"description", b"")) > 5 and b"unit" in meta, field.name
    units = {name: fields.field(name).metadata[b"unit"].decode() for name in (
        "wake_ns", "handoff_timeout_ns", "hp_rate_per_s", "evict_rate_per_s",
        "hp_wait_p99_ns", "fault_passes_p99", "sim_ns", "wall_s", "writer_ratio")}
    assert units == {"wake_ns": "ns", "handoff_timeout_ns": "ns", "hp_rate_per_s": "1/s",
                     "evict_rate_per_s": "1/s", "hp_wait_p99_ns": "ns",
                     "fault_passes_p99": "passes", "sim_ns": "ns", "wall_s": "s",
                     "writer_ratio": ""}


def test_time_and_rate_parameters_are_columns_with_their_unit():
    row = mcsim.simulate(wake="20us", handoff_timeout="1ms", hp_rate="5/ms", bg_io_rate=7,
                         evict_rate=2, lp_rate=300, trials=500, seed=1).row()
    assert (row["wake_ns"], row["handoff_timeout_ns"]) == (20_000, 1_000_000)
    assert (row["hp_rate_per_s"], row["lp_rate_per_s"], row["bg_io_rate_per_s"],
            row["evict_rate_per_s"]) == (5000.0, 300.0, 7.0, 2.0)
    unitless = {"wake", "handoff_timeout", "hp_rate", "lp_rate", "bg_io_rate", "evict_rate"}
    assert not unitless & set(row)
    for column in schema.columns():          # names end in the unit the schema gives
        suffix = {"ns": "_ns", "1/s": "_per_s", "s": "_s"}.get(column.unit)
        if suffix and column.group != "histogram":
            assert column.name.endswith(suffix), column.name


def test_precision_is_not_met_when_the_interval_is_unknown():
    result = mcsim.simulate(hp_rate=0, trials=1000, seed=1)     # no HP reads: NaN interval
    result.extra.update(p99_rel_ci_target=0.5, max_trials=1000, p99_rel_ci_met=True)
    row = result.row()
    assert row["hp_wait_p99_rel_ci"] != row["hp_wait_p99_rel_ci"]      # NaN
    assert row["p99_rel_ci_met"] is False
    assert mcsim.result.precision_met(0.4, 0.5) is True
    assert mcsim.result.precision_met(float("nan"), 0.5) is False
    assert mcsim.result.precision_met(float("inf"), 0.5) is False


def _one_line_storage_error(path, *match):
    with pytest.raises(StorageError) as info:
        mcsim.load(path)
    message = str(info.value)
    assert "\n" not in message and message.startswith(str(path)), message
    for text in match:
        assert text in message, message


def test_older_schema_and_foreign_files_are_refused_in_one_line(sweep_dir, tmp_path):
    import pyarrow as pa

    good = next(sweep_dir.glob("point-*.parquet"))
    table = pq.read_table(good)
    old = table.rename_columns([c.replace("wake_ns", "wake") for c in table.column_names])
    meta = {**table.schema.metadata, b"mcsim.schema_version": b"1"}
    pq.write_table(old.replace_schema_metadata(meta), tmp_path / "old.parquet")
    _one_line_storage_error(tmp_path / "old.parquet", "schema version 1",
                            f"reads version {schema.SCHEMA_VERSION}")
    key = good.name[6:-8]
    pq.write_table(table.replace_schema_metadata(meta), tmp_path / good.name)
    assert not dataset.point_file_is_valid(tmp_path / good.name, key)   # recomputed
    pq.write_table(old.replace_schema_metadata(None), tmp_path / "stripped.parquet")
    _one_line_storage_error(tmp_path / "stripped.parquet", "missing (wake_ns)")
    pq.write_table(pa.table({"x": [1, 2]}), tmp_path / "foreign.parquet")
    _one_line_storage_error(tmp_path / "foreign.parquet", "not an mcsim result file",
                            "result columns are missing")
    (tmp_path / "text.parquet").write_text("policy,trials\nhold,3\n")
    _one_line_storage_error(tmp_path / "text.parquet", "not Parquet")
    retyped = table.set_column(table.column_names.index("seed"), "seed",
                               pa.array(["x"]))
    pq.write_table(retyped, tmp_path / "retyped.parquet")
    _one_line_storage_error(tmp_path / "retyped.parquet", "another type")


def test_load_of_some_columns_reads_the_same_values(sweep_dir):
    full = mcsim.load(sweep_dir)
    some = mcsim.load(sweep_dir, columns=["hp_wait_p99_ns", "hp_wait_hist_counts"])
    keys = [schema.param_column(p) for p in mcsim.params.PARAM_BY_NAME] + ["seed", "trials"]
    # the asked columns and the sort keys, in schema order; the rows in the same order
    assert some.column_names == [c for c in full.column_names
                                 if c in keys or c in ("hp_wait_p99_ns",
                                                       "hp_wait_hist_counts")]
    for name in some.column_names:
        assert some.column(name).equals(full.column(name)), name
        assert some.schema.field(name).equals(full.schema.field(name), check_metadata=True)
    with pytest.raises(mcsim.errors.ParameterError, match="columns: 'nope'"):
        mcsim.load(sweep_dir, columns=["nope"])


def test_results_are_written_under_parquet_names_only(tmp_path):
    table = mcsim.simulate(trials=500).to_arrow()
    for name in ("r.csv", "r.arrow", "r", "r.parquet.tmp"):
        with pytest.raises(UsageError, match=r"allowed: a path ending in \.parquet"):
            dataset.write_table_atomic(table, tmp_path / name)
    with pytest.raises(UsageError, match=r"^--out: 'r\.csv' is not a \.parquet file name"):
        dataset.check_parquet_path("r.csv")
    assert os.listdir(tmp_path) == []
    assert dataset.check_parquet_path("R.PARQUET").name == "R.PARQUET"


def test_storage_errors_name_the_path_given(tmp_path, monkeypatch):
    table = mcsim.simulate(trials=500).to_arrow()
    for given in ("/proc/x.parquet", "/proc/sub/x.parquet"):
        with pytest.raises(StorageError) as info:
            dataset.write_table_atomic(table, given)
        assert str(info.value).startswith(given + ": cannot "), info.value
    monkeypatch.chdir(tmp_path)
    (tmp_path / "blocker").write_text("a file")
    with pytest.raises(StorageError, match=r"^blocker/r\.parquet: cannot create directory"):
        dataset.write_table_atomic(table, "blocker/r.parquet")


def test_file_metadata_names_versions_flags_command_and_time(sweep_dir):
    meta = dataset.read_file_metadata(next(sweep_dir.glob("point-*.parquet")))
    assert meta["version"] == mcsim.__version__ and meta["command"] == "test"
    assert meta["schema_version"] == str(schema.SCHEMA_VERSION)
    assert "-ffp-contract=off" in meta["build_flags"]
    assert meta["numpy_version"] and re.match(r"\d{4}-\d\d-\d\dT", meta["created"])
    assert len(meta["point_key"]) == 16 and '"seed":2' in meta["point"]


def test_same_numbers_through_pyarrow_pandas_polars_and_duckdb(sweep_dir):
    table = mcsim.load(sweep_dir)
    expected = {r["policy"]: r for r in table.to_pylist()}
    assert len(expected) == 3
    glob = str(sweep_dir / "*.parquet")
    frames = {
        "pandas": pd.read_parquet(sweep_dir).to_dict("records"),
        "polars": pl.read_parquet(glob).to_dicts(),
        "duckdb": duckdb.sql(f"select * from read_parquet('{glob}')").df().to_dict("records"),
    }
    for reader, rows in frames.items():
        assert len(rows) == 3, reader
        for row in rows:
            want = expected[row["policy"]]
            for column in ("trials", "events", "hp_wait_n", "hp_wait_p99_ns",
                           "hp_wait_p99_hi_ns", "writer_wait_mean_ns", "throttle_depth",
                           "writer_ratio", "point_key", "hp_wait_hist_vmax"):
                assert row[column] == want[column], (reader, column)
            assert list(row["hp_wait_hist_counts"]) == want["hp_wait_hist_counts"], reader


def test_histograms_of_shards_merge_exactly_through_parquet(tmp_path):
    cfg = mcsim.validate(policy="hold")
    scenario = compile_scenario(cfg)

    def result(blocks):
        out = run_blocks(scenario, 9, blocks)
        trials = sum(n for _, n in blocks)
        return Result(config=cfg, seed=9, trials=trials, counters=out.counter_dict(),
                      hists=out.histograms())

    blocks = block_sizes(3 * 65536)
    whole = result(blocks)
    for i, part in enumerate((blocks[:2], blocks[2:])):
        dataset.write_table_atomic(result(part).to_arrow(), tmp_path / f"shard{i}.parquet")
    rows = mcsim.load(tmp_path).to_pylist()
    for metric in ("hp_wait", "writer_wait", "fault_passes"):
        merged = dataset.row_histogram(rows[0], metric) + dataset.row_histogram(rows[1], metric)
        assert merged == whole[metric]
        assert merged.quantile_ci(0.99) == whole[metric].quantile_ci(0.99)


def test_compact_writes_all_points_into_one_file(sweep_dir):
    path, rows = dataset.compact(sweep_dir, command="mcsim compact")
    assert path == sweep_dir.with_name("points.parquet") and rows == 3
    packed, points = mcsim.load(path), mcsim.load(sweep_dir)
    assert comparable_rows(packed) == comparable_rows(points)     # NaN-aware equality
    assert packed.column("wall_s").equals(points.column("wall_s"))
    meta = dataset.read_file_metadata(path)
    assert meta["compacted_from"] == str(sweep_dir) and meta["command"] == "mcsim compact"
    assert not (sweep_dir.parent / dataset.STAGING_DIR_NAME).exists()


def test_a_write_that_fills_the_disk_leaves_nothing(tmp_path, monkeypatch):
    table = mcsim.simulate(trials=1000).to_arrow()

    def disk_full(table, where, **kwargs):
        where.write(b"PAR1 partial")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(pq, "write_table", disk_full)
    with pytest.raises(StorageError, match="No space left on device"):
        dataset.write_table_atomic(table, tmp_path / "d" / "x.parquet")
    assert os.listdir(tmp_path / "d") == []


def test_truncated_or_foreign_files_are_not_valid_points(sweep_dir, tmp_path):
    good = next(sweep_dir.glob("point-*.parquet"))
    key = good.name[6:-8]
    assert dataset.point_file_is_valid(good, key)
    assert not dataset.point_file_is_valid(good, "0" * 16)
    cut = tmp_path / good.name
    cut.write_bytes(good.read_bytes()[:-100])
    assert not dataset.point_file_is_valid(cut, key)
    with pytest.raises(StorageError, match="not an mcsim result file"):
        mcsim.load(cut)
    with pytest.raises(StorageError, match="No such file"):
        mcsim.load(tmp_path / "missing")


def test_staging_leftovers_of_dead_writers_are_removed(tmp_path):
    data = tmp_path / "points"
    staging = dataset.staging_dir_for_dataset(data)
    staging.mkdir()
    dead = staging / f"point-x.parquet~{os.uname().nodename}~999999999~ab.tmp"
    live = staging / f"point-y.parquet~{os.uname().nodename}~{os.getpid()}~cd.tmp"
    dead.write_bytes(b"x")
    live.write_bytes(b"y")
    dataset.prepare_dataset_dir(data)
    assert not dead.exists() and live.exists() and data.is_dir()
