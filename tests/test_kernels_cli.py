"""Kernel presets on the command line: `mcsim kernels`, `--kernel` on run, sweep, script
and compare, the model.md §11 parameters as flags and TOML keys, and the result columns of
the new paths.

Tables, JSON shapes and selections are checked on rows built here from chosen numbers
(``synthetic_result``: not engine output, so the expected values are the chosen ones).
Tests marked "engine" simulate, and the scripted ones compare with HP waits derived by
hand from the rules of docs/model.md §11 (the derivation is in each script's header).
"""
import json

import pytest
from clitools import SWEEPS, cli, cli_json, write

import mcsim
from mcsim import schema
from mcsim.cli.kernel_tables import kernel_steps, kernels_table
from mcsim.cli.render import render_text, script_waits_table
from mcsim.cli.script import read_script, script_runs
from mcsim.errors import UsageError
from mcsim.dataset import file_metadata, write_table_atomic
from mcsim.histogram import Histogram
from mcsim.kernels import KERNEL_LIST, KERNELS
from mcsim.layout import COUNTERS, METRICS
from mcsim.params import validate
from mcsim.policies import BLAME_NAMES, STEP_COLUMNS
from mcsim.result import Result, ScriptResult, ScriptTask
from mcsim.sweep import SweepSpec, parse_values

NEW_PARAMS = ("kernel", "hz", "p_same_vma", "p_mkwrite_writeback", "p_retry_miss",
              "p_dirty_throttle", "dirty_throttle", "p_hp_fallback")
NEW_COUNTERS = ("fallbacks", "tried_passes", "retry_misses", "vma_writer_waits",
                "hp_fallbacks", "dirty_throttles", "blame_writeback",
                "blame_dirty_throttle", "blame_vma_start_write", "faults_mkwrite_writeback")


def synthetic_result(params, hp_acq_waits, *, reads=None, counters=None, seed=0,
                     inversion_waits=None):
    """A Result of chosen numbers (not simulated): one trial per HP acquisition wait."""
    cfg = validate(params)
    hists = {m: Histogram.from_trials([], [0]) for m in METRICS}
    if inversion_waits:
        hists["inversion_wait"] = Histogram.from_trials(inversion_waits,
                                                        [1] * len(inversion_waits))
    hists["hp_acq_wait"] = Histogram.from_trials(hp_acq_waits, [1] * len(hp_acq_waits))
    reads = hp_acq_waits if reads is None else reads
    hists["hp_wait"] = Histogram.from_trials(reads, [1] * len(reads))
    hists["lp_fault_latency"] = Histogram.from_trials([1000, 3000] * 50, [2] * 50)
    values = dict.fromkeys(COUNTERS, 0)
    values.update(counters or {}, trials=len(hp_acq_waits))
    return Result(config=cfg, seed=seed, trials=len(hp_acq_waits), counters=values,
                  hists=hists)


def write_rows(out, results):
    for i, res in enumerate(results):
        key = f"{i:016x}"
        res.extra["point_key"] = key
        write_table_atomic(res.to_arrow(file_metadata(command="test", point_key=key)),
                           out / f"point-{key}.parquet")
    return out


# ------------------------------------------------------------------ mcsim kernels
def test_kernels_table_has_every_preset_and_behaviour_in_80_columns():
    text = render_text(kernels_table(KERNEL_LIST), width=80)
    assert max(len(line) for line in text.splitlines()) <= 80
    lines = text.splitlines()
    for k in KERNEL_LIST:
        row = next(line.split() for line in lines if line.split()[:1] == [k.name])
        assert row == [k.name, k.era, kernel_steps(k), "yes" if k.keeps_page else "no",
                       f"{k.first_lock}/{k.retry_lock}",
                       "major" if k.tried_on_major else "all",
                       "yes" if k.vma_writers else "no", f"{k.hp_acquisitions}×{k.hp_lock}"]


def test_kernel_steps_spell_the_columns_in_order():
    # One letter per STEP_COLUMNS entry; the dirty step's drop ends the fault iff
    # dirty_completes.
    for k in KERNEL_LIST:
        steps = kernel_steps(k)
        assert len(steps) == len(STEP_COLUMNS)
        for letter, held, column in zip(steps, k.locked, STEP_COLUMNS):
            want = "L" if held else ("c" if column == "dirty" and k.dirty_completes else "-")
            assert letter == want, (k.name, column)


def test_kernels_command_text_and_json(capsys):
    code, out, err = cli(capsys, "kernels")
    assert code == 0, err
    for k in KERNEL_LIST:
        assert k.name in out and k.changed[:25] in " ".join(out.split())
        for commit in k.commits:
            assert commit in out
    rows = cli_json(capsys, "kernels")
    assert [r["name"] for r in rows] == [k.name for k in KERNEL_LIST]
    for r, k in zip(rows, KERNEL_LIST):
        assert r == {"name": k.name, "version": k.version, "changed": k.changed,
                     "commits": list(k.commits), "policy": k.policy,
                     "behaviours": json.loads(json.dumps(k.behaviours()))}
    assert list(rows[0]["behaviours"]["holds_lock"]) == list(STEP_COLUMNS)


def test_one_kernel_marks_what_differs_from_the_kernel_it_extends(capsys):
    # 6.18+vma-retry differs from 6.18 in retry_lock only (mcsim/kernels.py).
    code, out, err = cli(capsys, "kernels", "6.18+vma-retry")
    assert code == 0, err
    marked = [line for line in out.splitlines() if line.startswith("* ")]
    assert [m.split("  ")[0] for m in marked] == ["* retry pass takes", "* differs from 6.18"]
    code, out, _ = cli(capsys, "kernels", "6.18")           # as 6.7 on this path
    assert code == 0 and "no behaviour differs from 6.7" in out
    doc = cli_json(capsys, "kernels", "6.7")
    assert doc["name"] == "6.7" and doc["behaviours"]["first_lock"] == "vma"


def test_unknown_kernel_is_one_line(capsys):
    code, _, err = cli(capsys, "kernels", "9.9")
    assert code == 2 and err.count("\n") == 1
    assert "kernel: '9.9'" in err and "6.18+vma-retry" in err


# ------------------------------------------------------------------ parameters
def test_new_parameters_are_listed_with_units_and_columns(capsys):
    code, out, _ = cli(capsys, "params")
    assert code == 0
    rows = {r["name"]: r for r in cli_json(capsys, "params")}
    for name in NEW_PARAMS:
        assert name in out and name in rows
    assert (rows["hz"]["column"], rows["hz"]["column_unit"]) == ("hz", "Hz")
    assert rows["dirty_throttle"]["column"] == "dirty_throttle"     # a distribution: text
    assert rows["kernel"]["choices"][0] == "none"
    assert set(rows["kernel"]["choices"][1:]) == set(KERNELS)


@pytest.mark.parametrize("args,words", [
    (["--kernel", "6.18", "--policy", "hold"], "policy: 'hold' conflicts with kernel"),
    (["--kernel", "6.18", "--era", "4.x"], "era: '4.x' conflicts with kernel"),
    (["--kernel", "9.9"], "kernel: '9.9' is not valid"),
    (["--set", "kernel=6.18", "--kernel", "6.18"], "kernel: given twice"),
    (["--set", "p_same_vma=2"], "p_same_vma: '2' is out of range"),
    (["--set", "p_retry_miss=-0.1"], "p_retry_miss"),
    (["--set", "p_hp_fallback=x"], "p_hp_fallback"),
    (["--set", "hz=100000"], "hz: '100000' is out of range"),
    (["--set", "dirty_throttle=5"], "dirty_throttle: '5' has no unit"),
    (["--set", "p_mkwrite_slow=0.8", "--set", "p_mkwrite_writeback=0.5"],
     "p_mkwrite_slow + p_mkwrite_writeback <= 1"),
])
def test_bad_kernel_parameters_are_one_line_before_any_work(capsys, args, words):
    code, _, err = cli(capsys, "run", "--trials", "10", "-q", *args)
    assert code == 2 and words in err and err.count("\n") == 1, err


def test_new_parameters_as_toml_keys_and_flags():
    spec = SweepSpec(params={"kernel": "6.18", "hz": 1000, "p_same_vma": 1,
                             "p_mkwrite_writeback": 0.3, "p_retry_miss": 0.45,
                             "p_dirty_throttle": 0.1, "dirty_throttle": "exp(5ms)",
                             "p_hp_fallback": 0.2})
    (point,) = spec.points(command="")
    assert point.params["hz"] == 1000 and point.params["dirty_throttle"] == "exp(5ms)"
    assert (point.params["policy"], point.params["era"]) == (KERNELS["6.18"].policy,
                                                             KERNELS["6.18"].era)
    assert parse_values("p_retry_miss", "0,0.45") == ["0", "0.45"]


def test_a_bad_toml_value_names_the_key(capsys, tmp_path):
    f = write(tmp_path / "bad.toml", '[params]\ndirty_throttle = 5\n')
    code, _, err = cli(capsys, "run", "-c", f, "-q")
    assert code == 2 and "dirty_throttle: 5 has no unit" in err and err.count("\n") == 1


# ------------------------------------------------------------------ sweep axis
def test_kernel_axis_in_a_sweep_file(tmp_path):
    f = write(tmp_path / "k.toml", '[grid]\nkernel = ["4.19", "6.18"]\n'
                                   'throttle_depth = [0, 7]\n')
    points = SweepSpec.from_toml(f).points(command="")
    assert [(p.params["kernel"], p.params["throttle_depth"]) for p in points] == [
        ("4.19", 0), ("4.19", 7), ("6.18", 0), ("6.18", 7)]
    for p in points:                    # each preset sets its policy, era and HZ
        k = KERNELS[p.params["kernel"]]
        assert (p.params["policy"], p.params["era"], p.params["hz"]) == (k.policy, k.era, 250)


def test_kernel_all_is_every_preset_and_flags_replace_the_files_policy(tmp_path):
    assert parse_values("kernel", "all") == [k.name for k in KERNEL_LIST]
    f = write(tmp_path / "p.toml", '[params]\npolicy = "hold"\nera = "4.x"\n'
                                   '[grid]\nthrottle_depth = [7]\n')
    spec = SweepSpec.from_toml(f).with_values({"kernel": ["5.5", "6.18"]})
    assert [p.params["kernel"] for p in spec.points(command="")] == ["5.5", "6.18"]
    back = SweepSpec.from_toml(f).with_values({"kernel": ["6.18"]}).with_values(
        {"policy": ["rfc-v2"]})
    assert back.params == {"policy": "rfc-v2"}


def test_the_kernels_sweep_covers_every_preset_and_the_new_paths():
    spec = SweepSpec.from_toml(SWEEPS / "kernels.toml")
    points = spec.points(command="")
    assert {p.params["kernel"] for p in points} == set(KERNELS)
    assert len(points) == len(KERNELS) * 2 * 2 * 2
    assert {p.params["p_same_vma"] for p in points} == {0.0, 1.0}
    assert len({p.params["throttle_depth"] for p in points}) == 2
    assert len({p.params["writer_ratio"] for p in points}) == 2
    for name in ("p_mkwrite_writeback", "p_retry_miss", "p_dirty_throttle"):
        assert points[0].params[name] > 0, name


def test_sweep_dry_run_with_a_kernel_axis_refuses_a_policy_in_one_line(capsys, tmp_path):
    code, _, err = cli(capsys, "sweep", "--kernel", "all", "--policy", "hold", "--out",
                       tmp_path / "o", "--dry-run")
    assert code == 2 and "conflicts with kernel" in err and err.count("\n") == 1
    assert not (tmp_path / "o").exists()


# ------------------------------------------------------------------ script
def test_script_kernel_all_runs_every_preset_replacing_the_files_era():
    _, params, _ = read_script(SWEEPS / "scripts" / "read-miss.toml")
    assert params["era"] == "4.x"
    runs = script_runs(params, {"kernel": parse_values("kernel", "all")})
    assert [r["kernel"] for r in runs] == [k.name for k in KERNEL_LIST]
    assert all("era" not in r and validate(r)["throttle_depth"] == 7 for r in runs)


def test_script_refuses_a_list_of_another_parameter():
    with pytest.raises(UsageError, match="wake: 2 values"):
        script_runs({}, {"kernel": ["6.18"], "wake": ["0", "1us"]})


def test_script_table_one_row_per_kernel_with_the_hp_reads_sum():
    tasks = lambda hp: [ScriptTask(0, "bg_io", [], 9_900_000),         # noqa: E731
                        ScriptTask(1, "hp_read", hp, 10_070_000)]
    results = [ScriptResult("upstream-5.1", tasks([8_050_000, 0]), [], kernel="6.18"),
               ScriptResult("upstream-5.1", tasks([0, 0]), [], kernel="6.18+cmdline-vma")]
    text = render_text(script_waits_table(results), width=80)
    row = {line.split()[0]: line for line in text.splitlines()
           if line.split()[:1] in (["6.18"], ["6.18+cmdline-vma"])}
    assert "8.05 ms + 0" in row["6.18"] and row["6.18"].split()[-4:-2] == ["8.05", "ms"]
    assert results[0].hp_read_waits() == [8_050_000]
    assert results[1].to_dict()["hp_read_waits_ns"] == [0]
    assert results[0].to_dict()["kernel"] == "6.18"


def test_script_command_labels_runs_by_kernel(capsys, monkeypatch):
    # The engine is replaced by a stub that records the parameters of each run: this
    # checks the command's plumbing, not simulated numbers.
    seen = []

    def stub(tasks, params):
        seen.append(dict(params))
        return ScriptResult(validate(params)["policy"],
                            [ScriptTask(i, t["kind"], [0], 1) for i, t in enumerate(tasks)],
                            [])

    monkeypatch.setattr(mcsim, "run_script", stub)
    doc = cli_json(capsys, "script", SWEEPS / "scripts" / "vma-mkwrite.toml", "--kernel",
                   "4.19,6.18")
    assert [r["kernel"] for r in doc["results"]] == ["4.19", "6.18"]
    assert [s["kernel"] for s in seen] == ["4.19", "6.18"]
    code, out, _ = cli(capsys, "script", SWEEPS / "scripts" / "vma-mkwrite.toml",
                       "--kernel", "all")
    assert code == 0 and "kernel 6.18:" not in out          # 14 runs: no timelines
    assert all(k.name.split("+")[0] in out for k in KERNEL_LIST)
    code, out, _ = cli(capsys, "script", SWEEPS / "scripts" / "vma-mkwrite.toml")
    assert code == 0 and "kernel 6.18: 0 .." in out         # the file's kernel, timeline


# ------------------------------------------------------------------ compare
@pytest.fixture()
def kernel_rows(tmp_path):
    """6.18: half of 10 HP acquisitions inverted (blamed vma_start_write); the
    cmdline-vma preset: none.  Chosen numbers, not simulated."""
    base = {"throttle_depth": 7, "writer_ratio": 0.1}
    a = synthetic_result({**base, "kernel": "6.18"}, [8_000_000] * 5 + [0] * 5,
                         counters={"inversions": 5, "blame_vma_start_write": 5,
                                   "faults": 2000, "fallbacks": 4, "tried_passes": 30,
                                   "writes": 200, "vma_writer_waits": 7, "hp_reads": 5})
    b = synthetic_result({**base, "kernel": "6.18+cmdline-vma"}, [0] * 10,
                         counters={"faults": 2000, "writes": 200, "hp_reads": 5,
                                   "hp_fallbacks": 1})
    c = synthetic_result({**base, "kernel": "6.18", "throttle_depth": 0}, [0] * 10)
    return write_rows(tmp_path / "rows", [a, b, c]), a.row(), b.row()


def test_compare_kernels_from_results(capsys, kernel_rows):
    out, a, b = kernel_rows
    code, text, err = cli(capsys, "compare", "--kernel", "6.18,6.18+cmdline-vma", "--from",
                          out, "--throttle-depth", "7", "--json")
    assert code == 0, err
    doc = json.loads(text)
    assert doc["compared"] == "kernel" and "kernel" not in doc["config"]
    first, second = doc["kernels"]
    assert [first["label"], second["label"]] == ["6.18", "6.18+cmdline-vma"]
    assert first["statistics"]["hp_wait p99.9"]["value"] == a["hp_wait_p999_ns"]
    assert second["statistics"]["hp_wait p99.9"]["diff"] == \
        b["hp_wait_p999_ns"] - a["hp_wait_p999_ns"]
    assert second["verdict"].startswith("removes all inversions")
    assert set(first["blame"]) == set(BLAME_NAMES)
    assert first["blame"]["vma_start_write"] == 5
    assert first["paths_per_1000"]["fallbacks"] == 1000 * 4 / 2000
    assert first["paths_per_1000"]["vma_writer_waits"] == 1000 * 7 / 200
    assert second["paths_per_1000"]["hp_fallbacks"] == 1000 * 1 / 5
    code, text, _ = cli(capsys, "compare", "--kernels", "6.18,6.18+cmdline-vma", "--from",
                        out, "--throttle-depth", "7")
    assert code == 0
    assert "6.18+cmdline-vma: removes all inversions" in text
    assert "vma_start_write" in text and "kernel paths" in text


@pytest.mark.parametrize("args,words", [
    (["--kernel", "6.18", "--policy", "hold"], "--policy: given with --kernel"),
    (["--kernel", "6.18,6.18"], "'6.18' is given twice"),
    (["--kernel", "6.18"], "2 rows"),                       # throttle_depth 0 and 7
    (["--kernel", "4.19", "--throttle-depth", "7"], "no row for kernel 4.19"),
])
def test_compare_kernel_selection_errors_are_one_line(capsys, kernel_rows, args, words):
    out, _, _ = kernel_rows
    code, _, err = cli(capsys, "compare", "--from", out, *args)
    assert code == 2 and words in err and err.count("\n") == 1, err


# ------------------------------------------------------------------ results and tables
def test_schema_documents_the_new_columns_with_units():
    names = schema.column_names()
    for c in NEW_COUNTERS:
        assert c in names and schema.column(c).description, c
    for m in ("hp_acq_wait", "hold_vma", "vma_writer_wait"):
        assert schema.column(f"{m}_p99_ns").unit == "ns"
        assert f"{m}_hist_counts" in names
    for p in NEW_PARAMS:
        assert f"(parameter {p}" in schema.column(schema.param_column(p)).description
    assert schema.column("hz").unit == "Hz" and schema.column("kernel").type == "string"
    assert schema.SCHEMA_VERSION >= 3          # 3 brought these columns


def test_result_row_blame_and_inversion_share_per_acquisition():
    # Two acquisitions per read (6.18): 4 reads, 8 acquisitions, 2 inversions.
    res = synthetic_result({"kernel": "6.18"}, [5, 0, 0, 0, 7, 0, 0, 0],
                           reads=[5, 0, 7, 0], counters={"inversions": 2,
                                                         "blame_dirty_throttle": 2},
                           inversion_waits=[5, 7])
    assert res.inversion_fraction == 2 / 8
    assert list(res.blame()) == list(BLAME_NAMES) and res.blame()["dirty_throttle"] == 2
    row = res.row()
    assert list(row) == schema.column_names()
    assert row["kernel"] == "6.18" and row["blame_dirty_throttle"] == 2
    assert "kernel 6.18 (era 5.11+)" in res.format()
    assert "of HP lock acquisitions" in res.format()


def test_run_table_of_a_kernel_shows_its_metrics_and_paths():
    from mcsim.cli.render import result_tables

    res = synthetic_result({"kernel": "6.18"}, [0, 8_000_000],
                           counters={"faults": 1000, "tried_passes": 12})
    title, table, lines = (render_text(r, width=80) for r in result_tables(res))
    assert title.startswith("kernel 6.18 · era 5.11+ · HZ 250")
    assert "hp_acq_wait" in table and "vma_writer_wait" in table
    assert "per 1,000 faults: 0 fallbacks to mmap_lock, 12 TRIED passes" in " ".join(
        lines.split())
    legacy = synthetic_result({"policy": "hold"}, [0, 8_000_000])
    assert "hp_acq_wait" not in render_text(result_tables(legacy)[1], width=80)


def test_show_leaves_out_what_the_kernel_column_decides(capsys, kernel_rows):
    out, _, _ = kernel_rows
    code, text, err = cli(capsys, "show", out)
    assert code == 0, err
    header = text.splitlines()[0] + text.splitlines()[1]
    assert "kernel" in header and "throttle" in header
    assert "policy" not in header and "era" not in header


# ------------------------------------------------------------------ engine
KNOWN_HP_WAITS = {                    # ms; derivations in the scripts' headers
    "vma-mkwrite.toml": {**{k.name: 8.05 for k in KERNEL_LIST}, "4.19+rfc-v2": 0,
                         "6.18+cmdline-vma": 0, "6.18+vma-retry+cmdline-vma": 0},
    "retry-miss.toml": {**{k.name: 3.15 for k in KERNEL_LIST}, "2.6.36": 0,
                        "4.19+rfc-v1": 0, "4.19+rfc-v2": 0, "6.18+vma-retry": 0,
                        "6.18+cmdline-vma": 0, "6.18+vma-retry+cmdline-vma": 0},
}


@pytest.mark.parametrize("engine", ["reference", "compiled"])
@pytest.mark.parametrize("name", sorted(KNOWN_HP_WAITS))
def test_engine_kernel_scripts_give_the_hand_derived_hp_waits(name, engine):
    _, params, tasks = read_script(SWEEPS / "scripts" / name)
    for kernel, want_ms in KNOWN_HP_WAITS[name].items():
        res = mcsim.run_script(tasks, {**params, "kernel": kernel}, engine=engine)
        assert res.hp_read_waits() == [round(want_ms * 1e6)], kernel


def test_engine_writer_on_another_vma_no_longer_waits_from_6_7():
    _, params, tasks = read_script(SWEEPS / "scripts" / "vma-mkwrite.toml")
    elsewhere = [dict(t, same_vma=False) if t["kind"] == "writer" else t for t in tasks]
    for kernel, want_ms in (("4.19", 8.05), ("6.4", 8.05), ("6.7", 0), ("6.18", 0)):
        res = mcsim.run_script(elsewhere, {**params, "kernel": kernel}, engine="reference")
        assert res.hp_read_waits() == [round(want_ms * 1e6)], kernel


def test_engine_run_and_sweep_with_kernels(capsys, tmp_path):
    doc = cli_json(capsys, "run", "--kernel", "6.18", "--trials", "3000", "-q",
                   "--set", "p_same_vma=1", "--set", "p_mkwrite_writeback=0.3")
    assert doc["config"]["kernel"] == "6.18" and doc["config"]["era"] == "5.11+"
    assert set(NEW_COUNTERS) <= set(doc["counters"])
    assert {"hp_acq_wait", "hold_vma", "vma_writer_wait"} <= set(doc["metrics"])
    # two acquisitions per read: as many acquisition waits as twice the reads
    assert doc["metrics"]["hp_acq_wait"]["n"] == 2 * doc["metrics"]["hp_wait"]["n"]
    code, out, err = cli(capsys, "sweep", "--kernel", "4.19,6.18", "--trials", "2000",
                         "--workers", "1", "--out", tmp_path / "k", "-q")
    assert code == 0, err
    rows = mcsim.load(tmp_path / "k").to_pylist()
    assert sorted(r["kernel"] for r in rows) == ["4.19", "6.18"]
    assert out.splitlines()[0].split()[0] == "kernel"
