"""The benchmark machinery (mcsim/bench.py, mcsim/benchmarks/, bench/): it measures what
it says, and its tables, targets and files are well formed.  No speed is asserted here:
targets are checked by the benchmark itself and reported (docs/benchmarks.md)."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from mcsim import bench
from mcsim.benchmarks import scenarios

CHECKOUT = Path(__file__).resolve().parent.parent


def test_every_scenario_is_a_valid_parameter_set():
    from mcsim.params import validate

    for spec in scenarios.INSTRUCTION_SCENARIOS.values():
        validate(spec["params"])
    validate(scenarios.AGREEMENT)


def test_the_kernel_scenarios_exercise_the_vma_lock_paths():
    """A kernel scenario runs a preset whose file faults take the per-VMA lock and sets
    the probabilities of the §11 steps above zero, else it would measure the 2018 paths."""
    from mcsim.kernels import KERNELS
    from mcsim.params import validate

    kernel = {n: s for n, s in scenarios.SCENARIOS.items() if s["params"].get("kernel")}
    assert kernel and set(kernel) <= set(scenarios.INSTRUCTION_SCENARIOS)
    for name, spec in kernel.items():
        cfg = validate(spec["params"])
        assert KERNELS[cfg["kernel"]].first_lock == "vma", name
        assert cfg["p_mkwrite_writeback"] > 0 and cfg["p_retry_miss"] > 0, name
        assert 0 < cfg["p_same_vma"] < 1, name        # writers on this VMA and on others
        assert spec["simpy"] is False, name           # outside the SimPy peer's model


def test_the_simpy_peer_refuses_what_it_does_not_model():
    simpy_model = pytest.importorskip("mcsim.benchmarks.simpy_model")
    from mcsim.params import validate

    with pytest.raises(ValueError, match="kernel = none"):
        simpy_model.run(validate(kernel="6.18"), trials=10)
    with pytest.raises(ValueError, match="p_retry_miss"):
        simpy_model.run(validate(p_retry_miss=0.5), trials=10)


def test_the_package_does_not_load_simpy_or_the_core():
    code = ("import sys, mcsim.bench, mcsim.benchmarks, mcsim.benchmarks.scenarios; "
            "print(sorted(m for m in ('simpy', 'mcsim._engine') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=CHECKOUT).stdout
    assert out.strip() == "[]"


#: bench/ scripts that are developer tools of a checkout, not entries to mcsim.bench.
DEVELOPER_TOOLS = {"bitid.py", "blocktime.py", "cgsource.py"}


@pytest.mark.parametrize("script", sorted(p for p in (CHECKOUT / "bench").glob("*.py")
                                          if p.name not in DEVELOPER_TOOLS))
def test_the_bench_scripts_start_their_package_entry(script):
    """bench/*.py are entry scripts only: each answers --help from mcsim's own code."""
    env = dict(os.environ, PYTHONPATH=str(CHECKOUT))    # as when mcsim is installed
    proc = subprocess.run([sys.executable, str(script), "--help"], capture_output=True,
                          text=True, check=False, cwd=CHECKOUT, env=env)
    assert proc.returncode == 0 and "--full" in proc.stdout, proc.stderr


def test_one_measurement_in_a_fresh_process():
    row = bench.measure("compiled", {}, trials=2000, repeats=5, warmup=1)
    assert row["trials"] == 2000 and row["repeats"] == 5 and row["workers"] == 1
    assert row["min_s"] <= row["median_s"] <= row["max_s"]
    assert row["events_per_s"] == pytest.approx(row["events"] / row["median_s"])
    assert row["ns_per_event"] == pytest.approx(1e9 / row["events_per_s"])
    assert row["peak_rss_mib"] >= row["base_rss_mib"] > 0
    assert row["max_pending_events"] >= 1
    if Path("/proc/stat").exists():   # what else the machine did meanwhile, in cores
        assert 0.0 <= row["other_cpu_cores"] <= (os.cpu_count() or 1)
        assert 0.0 <= row["steal_cores"] <= (os.cpu_count() or 1)


def test_competing_cpu_is_what_the_machine_did_beyond_the_bench(tmp_path):
    """The machine's busy time less the bench's own CPU, per second of wall time; a
    /proc/stat that says nothing gives None rather than a guess."""
    from mcsim.benchmarks.measure import _machine_cpu_s, others_cores

    stat = tmp_path / "stat"
    tick = os.sysconf("SC_CLK_TCK")
    stat.write_text(f"cpu  {300 * tick} 0 {100 * tick} {900 * tick} 0 0 0 {7 * tick} 0 0\n")
    assert _machine_cpu_s(str(stat)) == (400.0, 7.0)
    assert others_cores((400.0, 7.0), (406.0, 8.0), own_cpu_s=2.0, wall_s=4.0) == (1.0, 0.25)
    assert others_cores((400.0, 7.0), (401.0, 7.0), own_cpu_s=2.0, wall_s=4.0) == (0.0, 0.0)
    stat.write_text("intr 1 2 3\n")
    assert _machine_cpu_s(str(stat)) is None
    assert others_cores(None, (1.0, 0.0), 1.0, 1.0) == (None, None)


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
            _row("kernel-6.18", "compiled", 15e6, 3e6),
            _row("reference", "compiled-parallel", 38e6, 7.6e6),
            _row("reference", "simpy", 0.16e6, 32e3),
            _row("reference", "compiled", 20e6, 4e6, series="memory", trials=10),
            _row("reference", "compiled", 20e6, 4e6, series="memory", trials=1000, rss=50.5)]
    table = bench.to_table(rows, {"cpu_model": "test"}, "quick")
    targets = {t["target"].split(",")[0]: t for t in bench.check_targets(table)}
    assert targets["M events/s"]["met"] and targets["M events/s"]["value"] == 20.0
    simpy = targets["x SimPy events/s"]                      # 125x < 150x (issue 13)
    assert simpy["value"] == pytest.approx(125.0) and not simpy["met"]
    assert targets["x throughput 1 -> 2 workers"]["value"] == pytest.approx(1.9)
    kernel = targets["x reference scenario's events/s"]      # 15/20: within 20% is >= 0.8
    assert kernel["value"] == pytest.approx(0.75) and not kernel["met"]
    assert any(t.startswith("peak RSS") and targets[t]["met"] for t in targets)
    text = bench.format_table(table)
    assert text.count("\n") == len(rows) + 1 and "| 125x |" in text
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
    # The bench's own runs raise the load average at its end: not a reason by itself.
    assert mb.noise_warnings(quiet, {"cores": 2, "loadavg_start": 0.1,
                                     "loadavg_end": 1.2}) == []
    # Other processes' CPU, or the hypervisor's steal, while a measurement ran is one.
    contested = quiet.append_column("other_cpu_cores", pa.array([0.8])).append_column(
        "steal_cores", pa.array([0.6]))
    assert mb.noise_warnings(contested, {"cores": 2, "loadavg_start": 0.1}) == [
        "compiled: other processes used 0.80 of 2 cores while it ran",
        "compiled: the hypervisor took 0.60 of 2 cores while it ran (steal)"]
    # Counted competition decides over the load average (which a bench run just before
    # leaves high): none counted, no warning.
    alone = quiet.append_column("other_cpu_cores", pa.array([0.01]))
    assert mb.noise_warnings(alone, {"cores": 2, "loadavg_start": 1.1}) == []
    missed = [{"target": "M events/s", "value": 8.0, "threshold": 10.0, "met": False}]
    assert "[MISS]" in mb.format_targets(missed)
    noisy = mb.format_targets(missed, busy)
    assert "[MISS]" not in noisy and "not judged on a noisy run" in noisy
    assert "load average 3.00" in noisy


def test_a_workload_scenario_is_measured_on_its_workload():
    """The measurement process runs the scenario's workload: window trials of 10 s with a
    thread that never thinks hold thousands of events each, where a regenerative cycle of
    the open model holds about five."""
    from mcsim.benchmarks.measure import measure

    spec = scenarios.SCENARIOS["workload-mkwrite-vs-mprotect"]
    row = measure("compiled", spec["params"], repeats=1, warmup=0, trials=1,
                  workload=spec["workload"])
    assert row["trials"] == 1 and row["events_per_trial"] > 1000


def test_a_workload_scenario_is_judged_against_the_reference_scenario():
    rows = [_row("reference", "compiled", 20e6, 4e6),
            _row("workload-mkwrite-vs-mprotect", "compiled", 17e6, 1e3)]
    table = bench.to_table(rows, {"cpu_model": "test"}, "quick")
    [target] = [t for t in bench.check_targets(table) if "workload-" in t["target"]]
    assert target["value"] == pytest.approx(0.85) and target["met"]     # 17/20 >= 0.8


def test_bitid_check_finds_a_changed_hash(tmp_path):
    """bench/bitid.py (the core's bit-identity check): a file it wrote checks clean, and
    one configuration's hash changed makes ``check`` name it and exit 1."""
    script, env = CHECKOUT / "bench" / "bitid.py", dict(os.environ, PYTHONPATH=str(CHECKOUT))
    base = tmp_path / "base.json"

    def bitid(*args):
        return subprocess.run([sys.executable, str(script), *args], capture_output=True,
                              text=True, check=False, cwd=CHECKOUT, env=env)
    assert bitid("write", str(base)).returncode == 0
    ok = bitid("check", str(base))
    assert ok.returncode == 0 and "MISMATCH" not in ok.stdout, ok.stdout
    hashes = json.loads(base.read_text())
    hashes["bench-reference"] = "0" * 64
    base.write_text(json.dumps(hashes))
    bad = bitid("check", str(base))
    assert bad.returncode == 1 and "MISMATCH bench-reference:" in bad.stdout, bad.stdout
    assert bad.stdout.count("MISMATCH") == 1


def test_bitid_hashes_survive_a_new_counter_but_not_a_changed_one(monkeypatch):
    """bench/bitid.py keys the counters, metrics and trial fields by name and leaves out
    those a run left at 0: a counter added to the layout (0 here) keeps the hash, while a
    counter that moves, or reaches 0, changes it."""
    import importlib.util

    import numpy as np

    from mcsim import layout as lay
    from mcsim.engine import BlockOutput

    spec = importlib.util.spec_from_file_location("bitid", CHECKOUT / "bench" / "bitid.py")
    bitid = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bitid)
    out = BlockOutput.zeros()
    out.hist_scalars[0, 0] = 3
    out.hist_arrays[0, 0, 5] = 3
    out.counters[1] = 7
    rows = np.zeros((2, len(lay.TRIAL_FIELDS)), dtype=np.int64)
    rows[1, 0] = 4

    def digest(counters):
        return bitid._digest(*bitid._by_name(out.hist_arrays, out.hist_scalars,
                                             out.hist_floats, counters, rows))
    before = digest(out.counters)
    monkeypatch.setattr(lay, "COUNTERS", (*lay.COUNTERS, "a_new_counter"))
    assert digest(np.append(out.counters, 0)) == before
    assert digest(np.append(out.counters, 1)) != before
    moved = out.counters.copy()
    moved[1] = 0
    assert digest(np.append(moved, 0)) != before
    out.hist_arrays[0, 2, 5] = 1                       # yn of a metric with samples
    assert digest(np.append(out.counters, 0)) != before


def _cgsource():
    import importlib.util
    spec = importlib.util.spec_from_file_location("cgsource", CHECKOUT / "bench" / "cgsource.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cgsource_maps_generated_c_lines_to_their_cython_functions(tmp_path):
    """bench/cgsource.py: self costs by line (name compression, relative positions, a
    call's inclusive cost left out, inlined files), then each line of the generated C to
    the .pxi function of the marker above it, or to the verbatim C function above the
    first marker; other files by function.  The expected sums are added up by hand."""
    cg = _cgsource()
    (tmp_path / "loop.pxi").write_text(
        "# comment\ncdef inline void push(Sim* s) noexcept nogil:\n    s.n += 1\n"
        "\ncdef int pop(Sim* s) noexcept nogil:\n    return s.n\n")
    (tmp_path / "mod.c").write_text("\n".join([
        "#include <stdint.h>",                                   # 1
        "    static inline uint64_t step(uint64_t *p) {",        # 2
        "        return *p += 1;",                               # 3
        "    }",                                                 # 4
        "/* \"loop.pxi\":3",                                     # 5
        "  s->n += 1;",                                          # 6
        "/* \"loop.pxi\":6",                                     # 7
        "  return s->n;",                                        # 8
    ]) + "\n")
    profile = tmp_path / "x.out"
    profile.write_text("\n".join([
        "version: 1", "positions: line", "events: Ir",
        "ob=(1) mod.so", "fl=(1) mod.c", "fn=(1) loop",
        "6 10",                   # push, in loop
        "+2 4",                   # line 8: pop
        "fi=(2) other.h", "-7 3",  # an inlined header's line 1
        "fe=(1)", "3 7",           # back in mod.c, line 3: step
        "cob=(2) libm.so", "cfl=(3) e_exp.c", "cfn=(2) exp", "calls=2 0", "8 1000",
        "* 1",                     # line 8 again: pop
        "fl=(3)", "fn=(2)", "0 50",
        "totals: 1075",
    ]) + "\n")
    with open(profile) as f:
        costs = cg.cost_by_line(f)
    assert costs == {("mod.c", "loop", 6): 10, ("mod.c", "loop", 8): 5,
                     ("other.h", "loop", 1): 3, ("mod.c", "loop", 3): 7,
                     ("e_exp.c", "exp", 0): 50}
    total = cg.breakdown(costs, tmp_path / "mod.c")
    assert total == {"loop.pxi:push": 10, "loop.pxi:pop": 5, "C:step": 7,
                     "other.h:loop": 3, "e_exp.c:exp": 50}
    out = subprocess.run([sys.executable, str(CHECKOUT / "bench" / "cgsource.py"),
                          str(profile), "5", "--c", str(tmp_path / "mod.c")],
                         capture_output=True, text=True, check=True).stdout
    first, second = (line.split() for line in out.splitlines()[:2])
    assert float(first[0]) == 15.0                        # 75 instructions / 5 events
    assert (float(second[0]), second[1]) == (10.0, "e_exp.c:exp")


def test_cgsource_refuses_an_instruction_level_profile(tmp_path):
    profile = tmp_path / "x.out"
    profile.write_text("positions: instr line\nevents: Ir\nfl=(1) a.c\nfn=(1) f\n0x10 3 1\n")
    proc = subprocess.run([sys.executable, str(CHECKOUT / "bench" / "cgsource.py"),
                           str(profile), "5", "--c", str(profile)],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "--dump-instr=no" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_blocktime_prints_the_fastest_repeats_ns_per_event():
    """bench/blocktime.py: one number, positive, from a short block; bad sizes get a
    one-line error and exit 2."""
    script, env = CHECKOUT / "bench" / "blocktime.py", dict(os.environ, PYTHONPATH=str(CHECKOUT))
    ok = subprocess.run([sys.executable, str(script), "reference", "--trials", "2000",
                         "--repeats", "2"], capture_output=True, text=True, env=env)
    assert ok.returncode == 0, ok.stderr
    assert 0 < float(ok.stdout) < 1e6
    bad = subprocess.run([sys.executable, str(script), "reference", "--repeats", "0"],
                         capture_output=True, text=True, env=env)
    assert bad.returncode == 2 and "--repeats: 0" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_cgsource_counts_the_event_asked_for(tmp_path):
    """--event picks a column of the profile's `events:` line (here mispredicted
    branches, Bcm, as callgrind --branch-sim=yes writes them); a line without that column
    counts 0; an event the profile lacks is a one-line error, exit 2."""
    cg = _cgsource()
    lines = ["events: Ir Bc Bcm", "fl=(1) a.c", "fn=(1) f", "3 10 4 1", "+1 7 2",
             "calls=1 9", "4 100 30 20", "* 5 3 2"]
    assert cg.cost_by_line(lines, "Bcm") == {("a.c", "f", 3): 1, ("a.c", "f", 4): 2}
    assert cg.cost_by_line(lines) == {("a.c", "f", 3): 10, ("a.c", "f", 4): 12}
    with pytest.raises(ValueError, match="'Dr': not in this profile; allowed: Ir, Bc, Bcm"):
        cg.cost_by_line(lines, "Dr")
    profile = tmp_path / "x.out"
    profile.write_text("\n".join(lines) + "\n")
    proc = subprocess.run([sys.executable, str(CHECKOUT / "bench" / "cgsource.py"),
                           str(profile), "1", "--c", str(profile), "--event", "Dr"],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "event 'Dr'" in proc.stderr
    assert "Traceback" not in proc.stderr
