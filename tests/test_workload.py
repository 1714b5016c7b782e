"""Workload descriptions (mcsim.workload, docs/workloads.md, model.md §12): reading, checking,
expanding and compiling them into the scenario record, and the uniform distribution.

Everything here is Python-side and exact: the expected record fields are derived by hand
from the rules of docs/workloads.md (process order: the open stream's process first, then
declaration order; VMAs and threads process by process; a scan unrolled into one cmdline
step per process).  Tests that run an engine are at the end and need the workload core.
"""
import hashlib
import json

import pytest

import mcsim
from mcsim import engine as engine_module
from mcsim.errors import ParameterError, StorageError, UsageError
from mcsim.params import validate
from mcsim.points import PointSpec
from mcsim.policies import FAULT_KINDS
from mcsim.scenario import (FAULT_MIXED, HOLD_DEFAULT, NO_VMA, SCAN_END, SCAN_START,
                            TRIAL_CYCLE, TRIAL_WINDOW, TK_BG, TK_FAULT, TK_HP, TK_WRITER,
                            compile_scenario)
from mcsim.units import DIST_CODES, Dist, parse_dist
from mcsim.workload import Workload, list_workloads, load_workload

CONST, EXP, UNIFORM = DIST_CODES["const"], DIST_CODES["exp"], DIST_CODES["uniform"]


def base() -> dict:
    """A small valid workload: an open stream on ``t`` and two threads."""
    return {
        "workload": {"name": "small", "description": "A test workload."},
        "open": {"process": "t"},
        "process": [
            {"name": "m", "thread": [{"name": "r", "program": [
                {"step": "cmdline", "process": "t", "think": "exp(1ms)"}]}]},
            {"name": "t", "vmas": ["a", "b"], "thread": [{"name": "f", "program": [
                {"step": "fault", "vma": "b", "kind": "miss", "think": "exp(1ms)"},
                {"step": "write", "vma": "a", "hold": "20us", "think": "1ms"},
                {"step": "write", "think": "uniform(1ms, 2ms)"},
                {"step": "bg_io", "think": "5ms"}]}]},
        ],
    }


def record(wl: Workload, **params):
    return compile_scenario(wl.config(params), wl)[0]


def dist(rec_dist) -> tuple:
    return (int(rec_dist["kind"]), float(rec_dist["a"]), float(rec_dist["b"]))


# --- ready workloads ------------------------------------------------------------------------

def test_ready_workloads_load_and_describe_themselves():
    ready = {w.name: w for w in list_workloads()}
    assert set(ready) == {"open", "ps-scan", "mkwrite-vs-mprotect", "read-vs-mmap",
                          "mkwrite-vs-mprotect-2cpus"}
    for w in ready.values():
        assert w.description.endswith(".") and "\n" not in w.description
        assert w.source.endswith(f"{w.name}.toml")
    assert ready["open"].trial_kind == "cycle" and ready["open"].n_threads == 0
    for name in ("ps-scan", "mkwrite-vs-mprotect", "read-vs-mmap", "mkwrite-vs-mprotect-2cpus"):
        assert ready[name].trial_kind == "window"
    for name in ("mkwrite-vs-mprotect", "read-vs-mmap", "mkwrite-vs-mprotect-2cpus"):
        assert ready[name].params["kernel"] == "6.18"
    assert ready["mkwrite-vs-mprotect-2cpus"].params["cpus"] == 2


def test_open_workload_compiles_to_the_open_model_byte_for_byte():
    wl = load_workload("open")
    assert compile_scenario(wl.config(), wl).tobytes() == compile_scenario(validate()).tobytes()
    # With other parameters too (the workload sets none of its own).
    cfg = validate(policy="rfc-v2", writer_ratio=0.5)
    assert compile_scenario(cfg, wl).tobytes() == compile_scenario(cfg).tobytes()


def test_ps_scan_unrolls_one_cmdline_read_per_process():
    wl = load_workload("ps-scan", vars={"n": 3})
    r = record(wl)
    assert wl.process_names == ["ps", "app-0", "app-1", "app-2"]
    # The scanner's program: 3 reads of processes 1..3, think 0 between, 1 s after the last.
    steps = r["steps"][:3]
    assert steps["kind"].tolist() == [TK_HP] * 3
    assert steps["process"].tolist() == [1, 2, 3]
    assert steps["scan"].tolist() == [SCAN_START, 0, SCAN_END]
    assert [dist(s["think"]) for s in steps] == [(CONST, 0, 0)] * 2 + [(CONST, 1e9, 0)]
    assert dist(r["threads"][0]["start"]) == (UNIFORM, 0.0, 1e9)


# --- apply(): every field by hand ----------------------------------------------------------

def test_apply_fills_every_field_as_derived_by_hand():
    wl = load_workload(base())
    r = record(wl)
    # [open] on t: t is process 0 (its VMAs a, b are 0, 1), m is process 1.
    assert wl.process_names == ["t", "m"] and wl.vma_names == ["t/a", "t/b"]
    assert wl.thread_names == ["t/f", "m/r"]
    assert (int(r["trial_kind"]), int(r["open_stream"])) == (TRIAL_WINDOW, 1)
    assert (int(r["warmup_ns"]), int(r["window_ns"])) == (10**9, 10 * 10**9)
    assert [int(r[f]) for f in ("n_processes", "n_vmas", "n_threads", "n_steps")] == [2, 2, 2, 5]
    assert r["vma_process"][:2].tolist() == [0, 0]
    threads = [(int(t["first_step"]), int(t["n_steps"]), int(t["process"])) for t in r["threads"][:2]]
    assert threads == [(0, 4, 0), (4, 1, 1)]
    assert dist(r["threads"][0]["start"]) == (CONST, 0.0, 0.0)
    got = [(int(s["kind"]), int(s["process"]), int(s["vma"]), int(s["fault"]), int(s["scan"]),
            dist(s["hold"]), dist(s["think"])) for s in r["steps"][:5]]
    default = (HOLD_DEFAULT, 0.0, 0.0)
    assert got == [
        (TK_FAULT, 0, 1, FAULT_KINDS.index("miss"), 0, default, (EXP, 1e6, 0.0)),
        (TK_WRITER, 0, 0, 0, 0, (CONST, 20_000.0, 0.0), (CONST, 1e6, 0.0)),
        (TK_WRITER, 0, NO_VMA, 0, 0, default, (UNIFORM, 1e6, 2e6)),
        (TK_BG, 0, NO_VMA, 0, 0, default, (CONST, 5e6, 0.0)),
        (TK_HP, 0, NO_VMA, 0, 0, default, (EXP, 1e6, 0.0)),
    ]
    # Unused slots stay zero.
    assert not r["threads"][2:].tobytes().strip(b"\0") and not r["steps"][5:].tobytes().strip(b"\0")


def test_apply_takes_warmup_and_window_from_the_parameters():
    r = record(load_workload(base()), warmup="250ms", window="3s")
    assert (int(r["warmup_ns"]), int(r["window_ns"])) == (250_000_000, 3 * 10**9)


def test_the_open_model_may_ask_for_window_trials():
    wl = load_workload({"workload": {"name": "ow", "description": "Open, windowed.",
                                     "trial": "window"},
                        "open": {}, "process": [{"name": "p", "vmas": ["v"]}]})
    r = record(wl)
    assert (int(r["trial_kind"]), int(r["open_stream"]), int(r["n_threads"])) == (TRIAL_WINDOW, 1, 0)
    assert int(record(load_workload("open"))["trial_kind"]) == TRIAL_CYCLE
    with pytest.raises(ParameterError, match=r"^workload: \[1\] is not a workload"):
        load_workload({"workload": [1]}["workload"])


def test_mixed_fault_kind_and_default_vma():
    w = base()
    w["process"][1]["thread"][0]["program"] = [{"step": "fault", "think": "1ms"}]
    s = record(load_workload(w))["steps"][0]
    assert (int(s["vma"]), int(s["fault"])) == (0, FAULT_MIXED)   # the process's first VMA


def test_zero_rates_run_without_the_open_stream_when_threads_run():
    wl = load_workload(base())
    r = record(wl, hp_rate=0, lp_rate=0, bg_io_rate=0)
    assert int(r["open_stream"]) == 0 and int(r["n_threads"]) == 2
    w = base()
    del w["open"]
    assert int(record(load_workload(w))["open_stream"]) == 0
    only_open = {"workload": {"name": "o", "description": "Open only."}, "open": {},
                 "process": [{"name": "p", "vmas": ["v"]}]}
    with pytest.raises(ParameterError, match="^hp_rate: .*nothing to simulate"):
        load_workload(only_open).config(hp_rate=0, lp_rate=0, bg_io_rate=0)


# --- expansion -----------------------------------------------------------------------------

def test_count_expands_processes_threads_and_their_vmas():
    w = {"workload": {"name": "c", "description": "Copies."},
         "process": [{"name": "a", "count": 2, "vmas": ["x", "y"], "thread": [
             {"name": "w", "count": 3, "program": [{"step": "fault", "vma": "y"}]}]}]}
    wl = load_workload(w)
    r = record(wl)
    assert wl.process_names == ["a-0", "a-1"]
    assert wl.vma_names == ["a-0/x", "a-0/y", "a-1/x", "a-1/y"]
    assert wl.thread_names == [f"a-{p}/w-{t}" for p in range(2) for t in range(3)]
    assert r["vma_process"][:4].tolist() == [0, 0, 1, 1]
    assert r["threads"]["process"][:6].tolist() == [0, 0, 0, 1, 1, 1]
    assert r["threads"]["first_step"][:6].tolist() == list(range(6))
    assert r["steps"]["vma"][:6].tolist() == [1, 1, 1, 3, 3, 3]   # each copy's own y


def test_scan_lists_expand_counted_names_and_all():
    w = {"workload": {"name": "s", "description": "Scans."},
         "process": [{"name": "a", "count": 2}, {"name": "b", "count": 2},
                     {"name": "ps", "thread": [{"name": "s", "program": [
                         {"step": "scan", "processes": ["a", "b-1"], "hold": "3us",
                          "think": "1s"},
                         {"step": "scan", "processes": ["b-0"]},
                         {"step": "scan", "processes": "all", "think": "2s"}]}]}]}
    r = record(load_workload(w))
    n = int(r["n_steps"])
    steps = r["steps"][:n]
    assert n == 3 + 1 + 5
    assert steps["process"].tolist() == [0, 1, 3] + [2] + [0, 1, 2, 3, 4]
    assert steps["scan"].tolist() == ([SCAN_START, 0, SCAN_END] + [SCAN_START | SCAN_END]
                                      + [SCAN_START, 0, 0, 0, SCAN_END])
    assert [dist(s["hold"]) for s in steps[:3]] == [(CONST, 3000.0, 0.0)] * 3
    assert [dist(s["think"])[1] for s in steps] == [0, 0, 1e9, 0, 0, 0, 0, 0, 2e9]


# --- vars ----------------------------------------------------------------------------------

def test_vars_substitute_keep_whole_string_types_and_override():
    w = base()
    w["vars"] = {"think": "2ms", "n": 2, "who": "t"}
    w["process"][0]["thread"][0].update(count="${n}", program=[
        {"step": "cmdline", "process": "${who}", "think": "${think}"}])
    wl = load_workload(w)
    assert wl.vars == {"think": "2ms", "n": 2, "who": "t"}
    assert wl.thread_names[-2:] == ["m/r-0", "m/r-1"]
    assert dist(record(wl)["steps"][4]["think"]) == (CONST, 2e6, 0.0)
    wl3 = load_workload(w, vars={"n": "3", "think": "exp(5us)"})   # text, as a command line gives
    assert len(wl3.thread_names) == 4
    assert dist(record(wl3)["steps"][4]["think"]) == (EXP, 5000.0, 0.0)
    assert wl.with_vars({"n": 3, "think": "exp(5us)"}).hash == wl3.hash != wl.hash


def test_inline_vars_are_replaced_by_their_text():
    w = base()
    w["vars"] = {"ms": 3}
    w["process"][0]["thread"][0]["program"][0]["think"] = "exp(${ms}ms)"
    assert dist(record(load_workload(w))["steps"][4]["think"]) == (EXP, 3e6, 0.0)


# --- canonical text and hash ---------------------------------------------------------------

def test_hash_ignores_key_order_defaults_and_dist_spelling():
    a = load_workload(base())
    w = base()
    w["process"] = [{k: p[k] for k in reversed(list(p))} for p in w["process"]]
    w = {k: w[k] for k in reversed(list(w))}
    assert load_workload(w).hash == a.hash
    w = base()
    prog = w["process"][1]["thread"][0]["program"]
    prog[1]["think"] = {"dist": "const", "value": "1000us"}        # = "1ms"
    prog[3]["think"] = "const(5ms)"                                 # = "5ms"
    w["process"][1]["thread"][0]["start"] = "0"                     # the default
    assert load_workload(w).hash == a.hash
    w["vars"] = {"unused": 1}                                       # vars act by substitution
    assert load_workload(w).hash == a.hash


def test_hash_changes_with_any_value_and_is_the_canonical_texts_sha256():
    a = load_workload(base())
    assert a.hash == hashlib.sha256(a.canonical.encode()).hexdigest()[:16]
    assert a.canonical == json.dumps(json.loads(a.canonical), sort_keys=True,
                                     separators=(",", ":"))
    for change in (lambda w: w["process"][1]["thread"][0]["program"][1].update(hold="21us"),
                   lambda w: w["process"][1]["vmas"].append("c"),
                   lambda w: w["workload"].update(description="Another sentence."),
                   lambda w: w.update(params={"kernel": "6.18"}),
                   lambda w: w["process"][0]["thread"][0].update(count=1)):
        w = base()
        change(w)
        assert load_workload(w).hash != a.hash


def test_params_are_canonical_and_under_the_callers():
    w = base()
    w["params"] = {"device": "ssd", "window": "2s", "kernel": "6.18"}
    wl = load_workload(w)
    assert wl.params == {"device": "lognormal(100us, 0.6)", "window": 2 * 10**9,
                         "kernel": "6.18"}
    cfg = wl.config({"window": "5s"})
    assert cfg["window"] == 5 * 10**9 and cfg["device"] == parse_dist("ssd")


def test_toml_file_and_dict_give_the_same_workload(tmp_path):
    text = """
[workload]
name = "small"
description = "A test workload."
[open]
process = "t"
[[process]]
name = "m"
[[process.thread]]
name = "r"
program = [{ step = "cmdline", process = "t", think = "exp(1ms)" }]
[[process]]
name = "t"
vmas = ["a", "b"]
[[process.thread]]
name = "f"
program = [
  { step = "fault", vma = "b", kind = "miss", think = "exp(1ms)" },
  { step = "write", vma = "a", hold = "20us", think = "1ms" },
  { step = "write", think = "uniform(1ms, 2ms)" },
  { step = "bg_io", think = "5ms" },
]
"""
    path = tmp_path / "small.toml"
    path.write_text(text)
    assert load_workload(str(path)).hash == load_workload(path).hash == load_workload(base()).hash


# --- errors --------------------------------------------------------------------------------

def _set(path, value):
    """A change to base(): set the item at ``path`` (keys and indexes) to ``value``."""
    def change(w):
        node = w
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
    return change


F = ("process", 1, "thread", 0)              # the faulting thread of base()
R = ("process", 0, "thread", 0)              # the reader thread


def _prog(*steps):
    return _set(F + ("program",), list(steps))


@pytest.mark.parametrize("change, path, value, words", [
    (_set(("workloads",), {}), "workloads", "{}", "is not a known key"),
    (_set(("process", 1, "vma"), ["a"]), "process[1].vma", "['a']", "keys of a [[process]]"),
    (_set(F + ("think",), "1ms"), "process[1].thread[0].think", "'1ms'", "is not a known key"),
    (_prog({"step": "fault", "vma": "a", "hold": "1ms"}), "process[1].thread[0].program[0].hold",
     "'1ms'", "keys of a fault step"),
    (_prog({"step": "sleep"}), "process[1].thread[0].program[0].step", "'sleep'",
     "one of fault, write, cmdline, scan, bg_io"),
    (_prog({"step": "fault", "kind": "major"}), "process[1].thread[0].program[0].kind",
     "'major'", "one of mixed, hit, miss"),
    (_prog({"step": "fault", "vma": "c"}), "process[1].thread[0].program[0].vma", "'c'",
     "a VMA of the thread's own process: a, b"),
    (_set(R + ("program",), [{"step": "cmdline", "process": "x"}]),
     "process[0].thread[0].program[0].process", "'x'", "a process of the workload: t, m"),
    (_set(R + ("program",), [{"step": "scan", "processes": ["t", "y"]}]),
     "process[0].thread[0].program[0].processes[1]", "'y'", "is not a process"),
    (_set(("open", "process"), "m"), "process[0].vmas", "[]", "at least one VMA"),
    (_set(("open", "process"), "nope"), "open.process", "'nope'", "is not a process"),
    (_set(F + ("program", 0, "think"), "exp(-1ms)"), "process[1].thread[0].program[0].think",
     "'-1ms'", "is negative"),
    (_set(F + ("start",), "uniform(2ms, 1ms)"), "process[1].thread[0].start",
     "'uniform(2ms, 1ms)'", "low > high"),
    (_set(F + ("program",), []), "process[1].thread[0].program", "[]", "is empty"),
    (_set(("workload", "trial"), "cycle"), "workload.trial", "'cycle'", "is impossible"),
    (_set(("workload", "trial"), "forever"), "workload.trial", "'forever'", "one of cycle, window"),
    (_set(("workload", "name"), "Big Name"), "workload.name", "'Big Name'", "a-z, 0-9"),
    (lambda w: w["workload"].pop("description"), "workload.description", "None", "is missing"),
    (_set(F + ("program", 0, "think"), "${nope}"), "process[1].thread[0].program[0].think",
     "'${nope}'", "undefined variable ${nope}"),
    (_set(("params",), {"writer_ration": 0.1}), "params.writer_ration", "0.1",
     "did you mean writer_ratio"),
    (_set(("params",), {"throttle_depth": 9}), "params.throttle_depth", "9", "0 to 7"),
    (_set(("params",), {"kernel": "6.18", "policy": "hold"}), "params.policy", "'hold'",
     "conflicts with kernel"),
    (_set(("process", 0, "count"), 0), "process[0].count", "0", "an integer from 1"),
    (_set(("process", 0, "count"), 65), "process", "'66 processes'", "at most 64 processes"),
    (_set(R + ("count",), 32), "process", "'33 threads'", "at most 32 threads"),
    (_set(("process", 1, "vmas"), [f"v{i}" for i in range(129)]), "process", "'129 VMAs'",
     "at most 128 VMAs"),
    (_set(R + ("program",), [{"step": "bg_io", "think": "1ms"}] * 253), "process",
     "'257 steps'", "at most 256 steps"),          # with the 4 steps of thread f
    (lambda w: (w["process"].append({"name": "a", "count": 60}),
                _set(R + ("program",), [{"step": "scan", "processes": "all"}] * 5)(w)),
     "process", "'314 steps'", "after count and scan expansion"),   # 5 x 62 + 4
    (lambda w: w["process"].append({"name": "m"}), "process[2].name", "'m'", "unique"),
    (lambda w: w["process"].extend([{"name": "a", "count": 2}, {"name": "a-1"}]),
     "process[3].name", "'a-1'", "unique after count expansion"),
    (lambda w: (w["process"].append({"name": "a", "count": 2}),
                _set(R + ("program",), [{"step": "cmdline", "process": "a"}])(w)),
     "process[0].thread[0].program[0].process", "'a'", "names a counted process"),
    (lambda w: (w.pop("open"), w["process"][0].pop("thread"), w["process"][1].pop("thread")),
     "workload", "'small'", "nothing to simulate"),
    (_set(F + ("program",), [{"step": "write", "hold": "0"}]),
     "process[1].thread[0].program", "'writer'", "impossible loop"),
])
def test_errors_are_one_line_naming_path_value_and_allowed(change, path, value, words):
    w = base()
    change(w)
    with pytest.raises(ParameterError) as info:
        load_workload(w)
    text = str(info.value)
    assert "\n" not in text
    assert text.startswith(f"{path}: {value} "), text
    assert "; allowed: " in text and words in text, text


def test_impossible_loop_depends_on_the_runs_parameters():
    w = base()
    w["process"][1]["thread"][0]["program"] = [{"step": "write"}, {"step": "fault", "kind": "hit"}]
    wl = load_workload(w)                       # writer_hold and fault_cpu are not 0 by default
    record(wl, writer_hold="0")                 # the hit fault's CPU work still takes time
    with pytest.raises(ParameterError, match=r"^process\[1\]\.thread\[0\]\.program: .*impossible"):
        record(wl, writer_hold="0", fault_cpu="0")
    with pytest.raises(ParameterError, match="impossible loop"):
        load_workload({**w, "params": {"writer_hold": "0", "fault_cpu": "0"}})


def test_unknown_var_override_and_bad_sources(tmp_path):
    with pytest.raises(ParameterError, match=r"^vars\.m: 4 is not a variable of this workload; "
                       r"allowed: one of n, interval, think, mmap$"):
        load_workload("ps-scan", vars={"m": 4})
    with pytest.raises(ParameterError, match=r"^workload: 'nope' is not a workload; allowed: .*"
                       "ps-scan"):
        load_workload("nope")
    with pytest.raises(StorageError, match="no such file"):
        load_workload(str(tmp_path / "missing.toml"))
    bad = tmp_path / "bad.toml"
    bad.write_text("[workload\nname = 1\n")
    with pytest.raises(UsageError, match=r"bad\.toml: not valid TOML: ") as info:
        load_workload(str(bad))
    assert "\n" not in str(info.value)


# --- uniform(a, b) -------------------------------------------------------------------------

def test_uniform_distribution_parses_checks_and_round_trips():
    d = parse_dist("uniform(1ms, 3ms)")
    assert d == Dist("uniform", 1e6, 3e6) == parse_dist({"dist": "uniform", "low": "1ms",
                                                          "high": "3ms"})
    assert d.mean_ns() == 2e6 and d.code == 3 and parse_dist(str(d)) == d
    assert parse_dist("uniform(0, 0)").mean_ns() == 0
    for bad in ("uniform(3ms, 1ms)", "uniform(1ms)", "uniform(1ms, 2ms, 3ms)",
                "uniform(-1ms, 1ms)", {"dist": "uniform", "low": "1ms"}):
        with pytest.raises(ParameterError, match=r"^think: .*; allowed: ") as info:
            parse_dist(bad, "think")
        assert "\n" not in str(info.value)
    with pytest.raises(ParameterError, match="low > high"):
        Dist("uniform", 2.0, 1.0)
    assert validate(writer_hold="uniform(10us, 30us)")["writer_hold"].mean_ns() == 20_000


# --- parameters and points -----------------------------------------------------------------

def test_warmup_and_window_parameters():
    cfg = validate()
    assert (cfg["warmup"], cfg["window"]) == (10**9, 10 * 10**9)
    with pytest.raises(ParameterError, match=r"^window: 0 is out of range"):
        validate(window=0)
    assert validate(warmup=0)["warmup"] == 0
    with pytest.raises(ParameterError, match="nothing to simulate"):
        validate(hp_rate=0, lp_rate=0, bg_io_rate=0)
    assert validate(hp_rate=0, lp_rate=0, bg_io_rate=0, closed_loop=True)["hp_rate"] == 0


def test_point_keys_include_the_workload_and_keep_the_open_models():
    plain = PointSpec.make({}, trials=10, command="")
    assert "workload" not in plain.identity()
    a = PointSpec.make({}, trials=10, command="", workload="ps-scan")
    b = PointSpec.make({}, trials=10, command="", workload=load_workload("ps-scan", {"n": 2}))
    assert len({plain.key, a.key, b.key}) == 3
    assert a.key == PointSpec.make({}, trials=10, command="", workload="ps-scan").key
    c = PointSpec.make({}, trials=10, command="", workload="read-vs-mmap")
    assert c.config["kernel"] == "6.18"             # the workload's [params]
    assert PointSpec.make({"kernel": "5.11"}, trials=10, command="",
                          workload="read-vs-mmap").config["kernel"] == "5.11"
    assert PointSpec.make({}, command="", workload="ps-scan").trials == 100
    assert PointSpec.make({}, command="", workload="open").trials == 1_000_000


def test_precision_target_needs_hp_reads():
    w = base()
    w["process"][0]["thread"][0]["program"] = [{"step": "bg_io"}]
    del w["open"]
    with pytest.raises(ParameterError, match=r"^p99_rel_ci: .*cannot be met"):
        PointSpec.make({}, trials=10, command="", workload=w, p99_rel_ci=0.1)
    PointSpec.make({}, trials=10, command="", workload="ps-scan", p99_rel_ci=0.1)


def test_window_precision_checks_at_doubling_trial_counts(monkeypatch):
    """The precision loop of window trials (blocks of one trial) checks the target at
    trials T, 2T, 4T, ... (capped at max_trials), running every block in order."""
    from mcsim import points, result

    calls = []

    def fake_block_sizes(n, first_block=0, block_trials=None):
        return [(first_block + i, 1) for i in range(n)]

    def fake_run_blocks(scenario, seed, blocks, **kw):
        calls.append(list(blocks))
        return engine_module.BlockOutput.zeros()

    monkeypatch.setattr(engine_module, "block_sizes", fake_block_sizes)
    monkeypatch.setattr(engine_module, "run_blocks", fake_run_blocks)
    monkeypatch.setattr(result, "p99_rel_ci", lambda h: float("nan"))    # never precise
    point = PointSpec.make({}, trials=3, max_trials=20, p99_rel_ci=0.1, command="",
                           workload="ps-scan")
    total = engine_module.BlockOutput.zeros()
    trials, met = points._extend_by_doubling(None, point, total, 3, 1, "compiled", None)
    assert (trials, met) == (20, False)
    assert [len(c) for c in calls] == [3, 6, 8]           # checks at 6, 12, 20 trials
    assert [b for c in calls for b, _ in c] == list(range(3, 20))


# --- engines (need the workload core) ------------------------------------------------------

needs_core = pytest.mark.skipif(not hasattr(engine_module, "trial_block_size"),
                                reason="the engines of this build do not run workloads yet")


@needs_core
def test_open_workload_gives_the_open_models_bytes(engine):
    """model.md §12: the open model is the workload with one process, one VMA and the
    open stream; both engines give the same counters and histograms for it."""
    trials = 2000 if engine == "compiled" else 300
    a = mcsim.simulate(policy="stock-4.19", trials=trials, seed=3, engine=engine)
    b = mcsim.simulate(policy="stock-4.19", trials=trials, seed=3, engine=engine,
                       workload="open")
    assert a.counters == b.counters
    assert all(a[m] == b[m] for m in a.hists)


@needs_core
def test_ready_workloads_run_window_trials():
    for wl in list_workloads():
        res = mcsim.simulate(workload=wl, trials=2, seed=1, window="200ms", warmup="50ms")
        assert res.extra["trial_kind"] == wl.trial_kind
        if wl.trial_kind == "window":
            assert res.counters["sim_ns"] == 2 * 200_000_000        # window per trial (§12.3)
            assert res.counters["steps"] > 0


@needs_core
def test_warmup_check_reports_both_runs():
    from mcsim.workload import check_warmup

    check = check_warmup("ps-scan", {"window": "500ms", "warmup": "100ms"}, seed=1, trials=4)
    assert check.warmup_ns == 100_000_000 and set(check.short) == {"mean", "p50"}
    assert check.ok == (not check.differs("mean") and not check.differs("p50"))
    assert "warm-up" in check.format()


LATE = {"workload": {"name": "late", "description": "Contention that starts at 150 ms."},
        "params": {"policy": "hold"},
        "process": [{"name": "p", "vmas": ["d"], "thread": [
            {"name": "f", "start": "150ms", "program": [
                {"step": "fault", "vma": "d", "kind": "miss"}]},
            {"name": "w", "start": "150ms", "program": [{"step": "write", "think": "1ms"}]}]},
            {"name": "m", "thread": [{"name": "r", "program": [
                {"step": "cmdline", "process": "p", "think": "1ms"}]}]}]}


@needs_core
def test_warmup_check_flags_a_window_that_starts_before_the_steady_state():
    """The writer and the fault holding L through its read (policy hold) start at 150 ms:
    a window from 100 ms counts 50 ms of reads that cannot wait, one from 200 ms none, so
    the HP wait's median is 0 in the first and a queue's worth (ms) in the second."""
    from mcsim.workload import check_warmup

    short = check_warmup(LATE, {"warmup": "100ms", "window": "100ms"}, seed=1, trials=10)
    assert not short.ok and short.differs("p50") and short.short["p50"][0] == 0
    steady = check_warmup(LATE, {"warmup": "200ms", "window": "100ms"}, seed=1, trials=10)
    assert steady.ok and steady.short["p50"][0] > 1e6


def test_workloads_and_their_points_survive_pickling():
    """Sweep executors send points to worker processes."""
    import pickle

    wl = load_workload("ps-scan", vars={"n": 2})
    assert pickle.loads(pickle.dumps(wl)).canonical == wl.canonical
    point = PointSpec.make({}, trials=5, command="", workload=wl)
    again = pickle.loads(pickle.dumps(point))
    assert again.key == point.key and again.workload.thread_names == wl.thread_names
    assert PointSpec(point.params, 0, 5, workload="ps-scan").workload == load_workload("ps-scan")

