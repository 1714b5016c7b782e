"""``mcsim bench`` wiring (the measurements themselves are tested in test_bench.py)."""
from clitools import cli


def test_bench_rejects_unknown_implementation(capsys):
    code, out, err = cli(capsys, "bench", "--impl", "gpu")
    assert code == 2
    assert err.count("\n") == 1 and "gpu" in err and "compiled" in err


def test_bench_help_lists_modes(capsys):
    code, out, err = cli(capsys, "bench", "--help")
    assert code == 0 and "--full" in out and "--out" in out


def test_bench_json_is_one_document_with_times_in_ns(capsys, monkeypatch, tmp_path):
    """A tiny measurement (one repeat of a few thousand trials; the memory series at two
    small sizes): the wiring of --json and --out, not the speed."""
    import json

    import pyarrow.feather as feather

    from mcsim import bench

    tiny = bench.Mode(repeats=1, warmup=0, target_s={"compiled": 0.01},
                      memory_trials=(1000, 2000))
    monkeypatch.setitem(bench.MODES, "quick", tiny)
    out = tmp_path / "b.arrow"
    code, text, err = cli(capsys, "bench", "--impl", "compiled", "--scenario", "reference",
                          "--json", "--out", out)
    assert code == 0, err
    doc = json.loads(text)
    assert doc["mode"] == "quick" and doc["environment"]["cores"] >= 1
    assert [(m["series"], m["scenario"], m["implementation"]) for m in
            doc["measurements"]] == [("peers", "reference", "compiled"),
                                     ("memory", "reference", "compiled"),
                                     ("memory", "reference", "compiled")]
    for m in doc["measurements"]:
        assert m["min_ns"] <= m["median_ns"] <= m["max_ns"] and isinstance(m["sim_ns"], int)
        assert m["events_per_s"] > 0 and m["trials_per_s"] > 0 and m["ns_per_event"] > 0
        assert not [k for k in m if k.endswith("_s") and not k.endswith("_per_s")]
    assert {t["target"].split(",")[0] for t in doc["targets"]} >= {"M events/s"}
    assert feather.read_table(out).num_rows == 3
    assert "| scenario |" not in text          # no Markdown table mixed into the JSON


def test_bench_refuses_an_out_name_without_a_table_format_before_measuring(capsys):
    code, _, err = cli(capsys, "bench", "--out", "bench.csv")
    assert code == 2 and err.count("\n") == 1
    assert "--out: 'bench.csv'" in err and ".parquet" in err and ".arrow" in err


def test_instructions_without_valgrind_is_one_clear_line(capsys, monkeypatch):
    import shutil

    monkeypatch.setattr(shutil, "which", lambda name: None)
    code, out, err = cli(capsys, "bench", "--instructions", "--scenario", "reference")
    assert code == 1 and out == "" and err.count("\n") == 1
    assert "valgrind is not installed" in err and "apt-get install valgrind" in err


def test_instructions_per_event_is_the_difference_of_two_runs(monkeypatch):
    """Start-up and set-up cancel: only the extra events' instructions count."""
    from mcsim import callgrind

    runs = {callgrind.SHORT_TRIALS: (9_000_000 + 500 * 1000, 1000),
            callgrind.LONG_TRIALS: (9_000_000 + 500 * 5000, 5000)}
    monkeypatch.setattr(callgrind, "count", lambda params, trials, workload=None: runs[trials])
    row = callgrind.instructions_per_event({})
    assert row["instructions_per_event"] == 500.0 and row["events"] == 4000


def test_instructions_of_a_workload_scenario_run_its_workload(monkeypatch):
    """The workload scenario's callgrind runs simulate its workload, with its own (few,
    long) trials."""
    from mcsim import callgrind
    from mcsim.benchmarks.scenarios import INSTRUCTION_SCENARIOS

    seen = []

    def count(params, trials, workload=None):
        seen.append((trials, workload))
        return (1000 * trials, trials)

    monkeypatch.setattr(callgrind, "count", count)
    name = "workload-mkwrite-vs-mprotect"
    [row] = callgrind.run({name: INSTRUCTION_SCENARIOS[name]}, echo=None)
    short, long = INSTRUCTION_SCENARIOS[name]["instruction_trials"]
    assert seen == [(short, "mkwrite-vs-mprotect"), (long, "mkwrite-vs-mprotect")]
    assert row["instructions_per_event"] == 1000.0


def test_instructions_rejects_unknown_scenario(capsys):
    code, out, err = cli(capsys, "bench", "--instructions", "--scenario", "nope")
    assert code == 2 and "nope" in err and "mm1-writers" in err
