"""The benchmark machinery (mcsim/bench.py, bench/): it measures what it says, and its
tables, targets and files are well formed.  No speed is asserted here: targets are
checked by the benchmark itself and reported (docs/benchmarks.md)."""
import doctest

import pyarrow.parquet as pq
import pytest

from mcsim import bench


@pytest.mark.parametrize("name", ["mcsim.bench", "scenarios", "simpy_model"])
def test_docstring_examples(name):
    if name == "simpy_model":
        pytest.importorskip("simpy")
    module = bench if name == "mcsim.bench" else bench.bench_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0, name


def test_every_scenario_is_a_valid_parameter_set():
    from mcsim.params import validate

    scenarios = bench.bench_module("scenarios")
    for spec in scenarios.SCENARIOS.values():
        validate(spec["params"])
    validate(scenarios.AGREEMENT)


def test_one_measurement_in_a_fresh_process():
    row = bench.measure("compiled", {}, trials=2000, repeats=5, warmup=1)
    assert row["trials"] == 2000 and row["repeats"] == 5 and row["workers"] == 1
    assert row["min_s"] <= row["median_s"] <= row["max_s"]
    assert row["events_per_s"] == pytest.approx(row["events"] / row["median_s"])
    assert row["ns_per_event"] == pytest.approx(1e9 / row["events_per_s"])
    assert row["peak_rss_mib"] >= row["base_rss_mib"] > 0
    assert row["max_pending_events"] >= 1


def _row(scenario, impl, events_per_s, trials_per_s, series="peers", trials=10, rss=50.0):
    return {"series": series, "scenario": scenario, "implementation": impl,
            "engine": impl.split("-")[0], "workers": 2 if "parallel" in impl else 1,
            "trials": trials, "events": 5 * trials, "events_per_trial": 5.0,
            "sim_seconds": 1.0, "repeats": 5, "median_s": 1.0, "min_s": 0.9, "max_s": 1.1,
            "events_per_s": events_per_s, "ns_per_event": 1e9 / events_per_s,
            "trials_per_s": trials_per_s, "cpu_utilisation": 1.0, "peak_rss_mib": rss,
            "base_rss_mib": 48.0, "max_pending_events": 3, "kernel_events": None,
            "loadavg_before": 0.0}


def test_targets_table_and_file(tmp_path):
    rows = [_row("reference", "compiled", 20e6, 4e6),
            _row("reference", "compiled-parallel", 38e6, 7.6e6),
            _row("reference", "simpy", 0.25e6, 50e3),
            _row("reference", "compiled", 20e6, 4e6, series="memory", trials=10),
            _row("reference", "compiled", 20e6, 4e6, series="memory", trials=1000, rss=50.5)]
    table = bench.to_table(rows, {"cpu_model": "test"}, "quick")
    targets = {t["target"].split(",")[0]: t for t in bench.check_targets(table)}
    assert targets["M events/s"]["met"] and targets["M events/s"]["value"] == 20.0
    assert not targets["x SimPy events/s"]["met"]            # 80x < 100x
    assert targets["x throughput 1 -> 2 workers"]["value"] == pytest.approx(1.9)
    assert any(t.startswith("peak RSS") and targets[t]["met"] for t in targets)
    text = bench.format_table(table)
    assert text.count("\n") == len(rows) + 1 and "| 80x |" in text
    back = pq.read_table(bench.write_table(table, tmp_path / "b.parquet"))
    assert back.num_rows == len(rows) and b"mcsim.bench.environment" in back.schema.metadata


def test_unknown_names_are_refused():
    with pytest.raises(ValueError, match="mode"):
        bench.run_benchmarks("medium")
    with pytest.raises(ValueError, match="unknown implementation"):
        bench.run_benchmarks("quick", implementations=["numba"])


def test_a_noisy_run_reports_why_and_does_not_call_a_target_missed():
    import pyarrow as pa

    from mcsim import bench as mb

    quiet = pa.table({"implementation": ["compiled"], "workers": [1],
                      "cpu_utilisation": [0.99], "min_s": [1.0], "max_s": [1.05]})
    assert mb.noise_warnings(quiet, {"cores": 2, "loadavg_start": 0.1,
                                     "loadavg_end": 0.2}) == []
    busy = mb.noise_warnings(quiet, {"cores": 2, "loadavg_start": 3.0, "loadavg_end": 0.2})
    assert busy == ["the machine was busy: load average 3.00 on 2 cores"]
    missed = [{"target": "M events/s", "value": 8.0, "threshold": 10.0, "met": False}]
    assert "[MISS]" in mb.format_targets(missed)
    noisy = mb.format_targets(missed, busy)
    assert "[MISS]" not in noisy and "not judged on a noisy run" in noisy
    assert "load average 3.00" in noisy
