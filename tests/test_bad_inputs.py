"""The bad-input catalogue: every command, the Python API, sweep and script files.

Each case states the exit code (docs/cli.md) and the words the one-line message must
contain: the parameter (or option, or file), the value given and what is allowed.  Every
case also checks that no traceback appears, that stderr is exactly one line and that
nothing is written to stdout.  A case is cheap: each fails before any simulation.
"""
from __future__ import annotations

import pytest

import mcsim
from mcsim.units import Dist

from clitools import cli

ALLOWED = "allowed:"

# (argv, exit code, words the message must contain)
PARAMETER_CASES = [
    # durations: huge, negative, unitless, not a number
    (["run", "--set", "writer_hold=1e999s"], 2, ["writer_hold", "1e999s", "too long", ALLOWED]),
    (["run", "--set", "wake=1e30s"], 2, ["wake", "1e30s", "too long", ALLOWED]),
    (["run", "--set", "wake=1e10s"], 2, ["wake", "1e10s", "too long", ALLOWED]),
    (["run", "--set", "handoff_timeout=1e12s"], 2, ["handoff_timeout", "1e12s", ALLOWED]),
    (["run", "--set", "writer_hold=-1ms"], 2, ["writer_hold", "-1ms", "negative", ALLOWED]),
    (["run", "--set", "wake=-5us"], 2, ["wake", "-5us", "negative", ALLOWED]),
    (["run", "--set", "wake=50"], 2, ["wake", "'50'", "no unit", ALLOWED]),
    (["run", "--set", "wake=5xs"], 2, ["wake", "5xs", "not a duration", ALLOWED]),
    (["run", "--set", "wake=nan"], 2, ["wake", "nan", ALLOWED]),
    (["run", "--set", "wake=inf"], 2, ["wake", "inf", ALLOWED]),
    (["run", "--set", "wake="], 2, ["wake", ALLOWED]),
    (["run", "--set", "handoff_timeout=4 parsecs"], 2, ["handoff_timeout", "parsecs", ALLOWED]),
    # distributions
    (["run", "--set", "device=lognormal(8ms, 50)"], 2, ["device", "bad sigma", "0 to 10"]),
    (["run", "--set", "device=lognormal(8ms, -1)"], 2, ["device", "bad sigma", ALLOWED]),
    (["run", "--set", "device=lognormal(8ms, nan)"], 2, ["device", "bad sigma", ALLOWED]),
    (["run", "--set", "device=lognormal(8ms)"], 2, ["device", "not a distribution", ALLOWED]),
    (["run", "--set", "device=exp(1ms, 2)"], 2, ["device", "not a distribution", ALLOWED]),
    (["run", "--set", "device=gamma(1ms)"], 2, ["device", "gamma", ALLOWED]),
    (["run", "--set", "device=exp(-1ms)"], 2, ["device", "-1ms", "negative", ALLOWED]),
    (["run", "--set", "device=exp(1e99s)"], 2, ["device", "1e99s", "too long", ALLOWED]),
    (["run", "--set", "device=nvme"], 2, ["device", "nvme", ALLOWED]),
    (["run", "--set", "device=-hdd"], 2, ["device", "-hdd", ALLOWED]),
    (["run", "--set", "hp_hold=const()"], 2, ["hp_hold", ALLOWED]),
    (["run", "--set", "hp_hold=lognormal(5us, 0.5"], 2, ["hp_hold", ALLOWED]),
    (["run", "--set", "writer_hold=exp(20)"], 2, ["writer_hold", "no unit", ALLOWED]),
    (["run", "--set", "fault_cpu=const(1e20ns)"], 2, ["fault_cpu", "too long", ALLOWED]),
    # rates
    (["run", "--set", "hp_rate=-1"], 2, ["hp_rate", "-1", "negative", ALLOWED]),
    (["run", "--set", "hp_rate=1e999"], 2, ["hp_rate", "1e999", "too high", ALLOWED]),
    (["run", "--set", "lp_rate=lots"], 2, ["lp_rate", "lots", ALLOWED]),
    (["run", "--set", "lp_rate=5/fortnight"], 2, ["lp_rate", "fortnight", ALLOWED]),
    (["run", "--set", "bg_io_rate=nan"], 2, ["bg_io_rate", "nan", ALLOWED]),
    (["run", "--set", "evict_rate=2e9"], 2, ["evict_rate", "2e9", "too high", ALLOWED]),
    (["run", "--set", "hp_rate=0", "--set", "lp_rate=0", "--set", "bg_io_rate=0"], 2,
     ["hp_rate", "nothing to simulate", ALLOWED]),
    # probabilities
    (["run", "--writer-ratio", "1.5"], 2, ["writer_ratio", "1.5", "out of range", ALLOWED]),
    (["run", "--writer-ratio", "-0.1"], 2, ["writer_ratio", "-0.1", ALLOWED]),
    (["run", "--writer-ratio", "half"], 2, ["writer_ratio", "half", ALLOWED]),
    (["run", "--writer-ratio", "nan"], 2, ["writer_ratio", "nan", ALLOWED]),
    (["run", "--set", "p_miss=0.7", "--set", "p_async_ra=0.4"], 2,
     ["p_miss", "sum to", ALLOWED]),
    (["run", "--set", "p_locked=2"], 2, ["p_locked", "'2'", ALLOWED]),
    (["run", "--set", "revalidate_fail=inf"], 2, ["revalidate_fail", "inf", ALLOWED]),
    (["run", "--set", "write_fault_ratio=1e-400x"], 2, ["write_fault_ratio", ALLOWED]),
    # integers and choices
    (["run", "--throttle-depth", "9"], 2, ["throttle_depth", "9", "out of range", "0 to 7"]),
    (["run", "--throttle-depth", "-1"], 2, ["throttle_depth", "-1", ALLOWED]),
    (["run", "--throttle-depth", "3.5"], 2, ["throttle_depth", "3.5", ALLOWED]),
    (["run", "--throttle-depth", "seven"], 2, ["throttle_depth", "seven", ALLOWED]),
    (["run", "--throttle-depth", "1e999"], 2, ["throttle_depth", "1e999", ALLOWED]),
    (["run", "--set", "max_readers_wakeup=0"], 2, ["max_readers_wakeup", "'0'", ALLOWED]),
    (["run", "--set", "max_readers_wakeup=99999999999"], 2, ["max_readers_wakeup", ALLOWED]),
    (["run", "--set", "max_trial_events=10"], 2, ["max_trial_events", "'10'", ALLOWED]),
    (["run", "--set", "max_trial_events=1000000000"], 2, ["max_trial_events", "1000 to 100000000"]),
    (["run", "--policy", "bogus"], 2, ["policy", "bogus", "one of", "rfc-v2"]),
    (["run", "--policy", "all"], 2, ["run simulates one configuration", ALLOWED]),
    (["run", "--policy", "hold,rfc-v2"], 2, ["one configuration", "mcsim sweep"]),
    (["run", "--era", "6.x"], 2, ["era", "6.x", "one of", "5.11+"]),
    (["run", "--era", ""], 2, ["era", ALLOWED]),
    # names
    (["run", "--set", "foo=1"], 2, ["foo", "not a parameter", "mcsim params"]),
    (["run", "--set", "writer_ration=0.1"], 2, ["writer_ration", "did you mean writer_ratio"]),
    (["run", "--set", "Policy=hold"], 2, ["Policy", "did you mean policy"]),
    (["run", "--set", "=5"], 2, ["--set", "NAME=VALUE", ALLOWED]),
    (["run", "--set", "wake"], 2, ["--set", "'wake'", "NAME=VALUE"]),
    (["run", "--set", "wake=1us", "--set", "wake=2us"], 2, ["wake", "given twice"]),
    (["run", "--policy", "hold", "--set", "policy=hold"], 2, ["policy", "given twice"]),
    (["run", "--set", "lp_depth=4"], 2, ["lp_depth", "not a parameter", ALLOWED]),
]

RUN_SETTING_CASES = [
    (["run", "--trials", "9223372036854775807"], 2, ["trials", "9223372036854775807",
                                                      "1 to 1e12"]),
    (["run", "--trials", "1000000000001"], 2, ["trials", "out of range", "1e12"]),
    (["run", "--trials", "0"], 2, ["trials", "0", "out of range"]),
    (["run", "--trials", "-5"], 2, ["trials", "-5", ALLOWED]),
    (["run", "--trials", "many"], 2, ["--trials", "'many'", "integer"]),
    (["run", "--trials", "1.5"], 2, ["--trials", "'1.5'", "integer"]),
    (["run", "--trials=1e3"], 2, ["--trials", "'1e3'", "integer"]),
    (["run", "--seed", "-1"], 2, ["seed", "-1", ALLOWED]),
    (["run", "--seed", str(2**63)], 2, ["seed", str(2**63), ALLOWED]),
    (["run", "--seed", "x"], 2, ["--seed", "'x'"]),
    (["run", "--workers", "0"], 2, ["workers", "0", "1 to 256"]),
    (["run", "--workers", "100000"], 2, ["workers", "100000", "1 to 256"]),
    (["run", "--p99-rel-ci", "-1"], 2, ["p99_rel_ci", "-1", ALLOWED]),
    (["run", "--p99-rel-ci", "0"], 2, ["p99_rel_ci", "0", ALLOWED]),
    (["run", "--p99-rel-ci", "inf"], 2, ["p99_rel_ci", "inf", ALLOWED]),
    (["run", "--p99-rel-ci", "nan"], 2, ["p99_rel_ci", "nan", ALLOWED]),
    (["run", "--p99-rel-ci", "0.1", "--set", "hp_rate=0"], 2,
     ["p99_rel_ci", "hp_rate = 0", ALLOWED]),
    (["run", "--p99-rel-ci", "0.1", "--max-trials", "10", "--trials", "1000"], 2,
     ["max_trials", "10", ALLOWED]),
    (["run", "--p99-rel-ci", "0.1", "--max-trials", str(10**13)], 2,
     ["max_trials", "1e12", ALLOWED]),
    (["run", "--no-such-flag"], 2, ["--no-such-flag", "mcsim run --help"]),
    (["run", "extra-argument"], 2, ["extra-argument", "mcsim run --help"]),
    (["run", "--trials"], 2, ["--trials", "requires an argument"]),
    (["run", "--config"], 2, ["--config", "requires an argument"]),
    (["frobnicate"], 2, ["frobnicate"]),
    (["--frobnicate"], 2, ["--frobnicate"]),
]

SWEEP_FLAG_CASES = [
    (["sweep", "--set", "max_readers_wakeup=1..10000000", "--out", "{tmp}/o"], 2,
     ["max_readers_wakeup", "1..10000000", "out of range", ALLOWED]),
    (["sweep", "--set", "max_trial_events=1000..100000000", "--out", "{tmp}/o"], 2,
     ["max_trial_events", "too many values", "10000"]),
    (["sweep", "--throttle-depth", "3..1", "--out", "{tmp}/o"], 2, ["throttle_depth", "3..1",
                                                                   "range a..b"]),
    (["sweep", "--throttle-depth", "0..9", "--out", "{tmp}/o"], 2, ["throttle_depth", "0..9",
                                                                   "0 to 7"]),
    (["sweep", "--throttle-depth", "a..b", "--out", "{tmp}/o"], 2, ["throttle_depth", "a..b"]),
    (["sweep", "--throttle-depth", "1,,2", "--out", "{tmp}/o"], 2, ["throttle_depth",
                                                                   "not a list of values"]),
    (["sweep", "--policy", "all,bogus", "--out", "{tmp}/o"], 2, ["policy", "bogus", "one of"]),
    (["sweep", "--writer-ratio", "0,2", "--out", "{tmp}/o"], 2, ["writer_ratio", "2",
                                                                "out of range"]),
    (["sweep", "--throttle-depth", "0..7", "--set", "max_readers_wakeup=1..100", "--set",
      "max_trial_events=1000..1199", "--out", "{tmp}/o"], 2,
     ["grid", "160,000 points", "at most 100,000"]),
    (["sweep", "--policy", "all"], 2, ["--out", "missing", ALLOWED]),
    (["sweep", "--trials", "0", "--out", "{tmp}/o"], 2, ["trials", "0", ALLOWED]),
    (["sweep", "--workers", "0", "--out", "{tmp}/o"], 2, ["workers", "0", "1 to 256"]),
    (["sweep", "--workers", "100000", "--out", "{tmp}/o"], 2, ["workers", "100000",
                                                              "1 to 256"]),
    (["sweep", "--executor", "slurm", "--out", "{tmp}/o"], 2, ["--executor", "slurm",
                                                              ALLOWED]),
    (["sweep", "--executor", "dask", "--out", "{tmp}/o"], 2, ["--executor dask",
                                                             "no scheduler"]),
    (["sweep", "--scheduler", "tcp://h:1", "--out", "{tmp}/o"], 2, ["--scheduler",
                                                                   "only with --executor"]),
    (["sweep", "--shard", "2/2", "--out", "{tmp}/o"], 2, ["--shard", "2/2", ALLOWED]),
    (["sweep", "--shard", "x", "--out", "{tmp}/o"], 2, ["--shard", "'x'", ALLOWED]),
    (["sweep", "--shard", "-1/3", "--out", "{tmp}/o"], 2, ["--shard", "-1/3", ALLOWED]),
    (["sweep", "--shard", "1/0", "--out", "{tmp}/o"], 2, ["--shard", "1/0", ALLOWED]),
    (["sweep", "{tmp}/quick.toml", "--config", "{tmp}/quick.toml"], 2, ["sweep file once"]),
    (["sweep", "{tmp}/missing.toml"], 4, ["missing.toml", "cannot read"]),
]

# Sweep files: (text, exit code, words).
SWEEP_FILE_CASES = [
    ("", 2, ["nothing to run", ALLOWED]),
    ("# only a comment\n", 2, ["nothing to run", ALLOWED]),
    ('description = "x"\n', 2, ["nothing to run", ALLOWED]),
    ("[grid]\npolicy = []", 2, ["policy", "is empty", ALLOWED]),
    ("[grid]\nthrottle_depth = []", 2, ["throttle_depth", "is empty"]),
    ("[params]\npolicy = 'hold'\n[grid]\npolicy = 'all'", 2,
     ["policy", "both [params] and [grid]", ALLOWED]),
    ("[grid\npolicy = 1", 2, ["not valid TOML", "line 1", ALLOWED]),
    ("[grid]\npolicy = 'bogus'", 2, ["policy", "bogus", "one of"]),
    ("[grid]\nthrottle_dept = [1, 2]", 2, ["throttle_dept", "did you mean throttle_depth"]),
    ("[grid]\nthrottle_depth = '0..100000'", 2, ["throttle_depth", "0..100000", "0 to 7"]),
    ("[grid]\nmax_readers_wakeup = '1..10000000'", 2, ["max_readers_wakeup", "out of range"]),
    ("[grid]\nwriter_ratio = [0, [0.1]]", 2, ["writer_ratio", "not a list of values"]),
    ("[grid]\nwriter_ratio = [0, {a = 1}]", 2, ["writer_ratio", "not a list of values"]),
    ("[grid]\nwriter_ratio = 'x,y'", 2, ["writer_ratio", "'x'", ALLOWED]),
    ("grid = 5", 2, ["grid must be a table"]),
    ("params = 'x'", 2, ["params must be a table"]),
    ("run = []", 2, ["run must be a table"]),
    ("description = 5\n[params]\nwake = '1us'", 2, ["description must be a string"]),
    ("[run]\ntrails = 5", 2, ["unknown key 'trails'", "allowed: trials, seed"]),
    ("[run]\ntrials = 'many'", 2, ["[run] trials", "'many'", "not an integer"]),
    ("[run]\ntrials = 1.5", 2, ["[run] trials", "1.5", "not an integer"]),
    ("[run]\ntrials = true", 2, ["[run] trials", "True", "not an integer"]),
    ("[run]\ntrials = 0", 2, ["trials", "0", ALLOWED]),
    ("[run]\ntrials = 9223372036854775807", 2, ["trials", "1e12"]),
    ("[run]\nseed = -3", 2, ["seed", "-3", ALLOWED]),
    ("[run]\nseed = 'abc'", 2, ["[run] seed", "'abc'", "not an integer"]),
    ("[run]\np99_rel_ci = 'tight'", 2, ["[run] p99_rel_ci", "'tight'", "not a number"]),
    ("[run]\np99_rel_ci = -0.5", 2, ["p99_rel_ci", "-0.5", ALLOWED]),
    ("[run]\nmax_trials = 5\np99_rel_ci = 0.1", 2, ["max_trials", "5", ALLOWED]),
    ("[params]\nwriter_ratio = -0.5", 2, ["writer_ratio", "-0.5", "out of range"]),
    ("[params]\nwake = 5", 2, ["wake", "5", "no unit", ALLOWED]),
    ("[grid]\nwriter_hold = ['1us', 20]", 2, ["writer_hold", "20", "no unit", ALLOWED]),
    ("[params]\nwake = '1e999s'", 2, ["wake", "1e999s", "too long"]),
    ("[params]\ndevice = {dist = 'exp'}", 2, ["device", "not a distribution", ALLOWED]),
    ("[params]\ndevice = {dist = 'lognormal', median = '8ms', sigma = 99}", 2,
     ["device", "bad sigma", ALLOWED]),
    ("[params]\ndevice = {dist = 'exp', mean = '-1ms'}", 2, ["device", "negative"]),
    ("[params]\nwriter_hold = {dist = 'exp', mean = 5}", 2, ["writer_hold.mean", "no unit"]),
    ("[grid]\ndevice = [{dist = 'lognormal', median = 5, sigma = 1}]", 2,
     ["device.median", "5", "no unit"]),
    ("[params]\nhp_rate = true", 2, ["hp_rate", "True", ALLOWED]),
    ("[params]\nthrottle_depth = true", 2, ["throttle_depth", "True", ALLOWED]),
    ("[params]\npolicy = 7", 2, ["policy", "7", "one of"]),
    ("[params]\npolicy = ['hold']", 2, ["policy", "['hold']", "one of"]),
    ("[params]\nnot_a_param = 1", 2, ["not_a_param", "not a parameter"]),
    ("[sweep]\nx = 1", 2, ["unknown key 'sweep'", "allowed: description, run, params"]),
    ("[grid]\npolicy = 'all'\n[grid.extra]\nx = 1", 2, ["extra"]),
]

# Script files for `mcsim script`: (text, exit code, words).
SCRIPT_CASES = [
    ("", 2, ["no tasks", ALLOWED]),
    ("[params]\nthrottle_depth = 7\n", 2, ["no tasks", ALLOWED]),
    ("task = 5", 2, ["no tasks", ALLOWED]),
    ("[[task]]\nkind = 'writer'\nhold = '1ms'\n", 2, ["task[0].at", "is missing", ALLOWED]),
    ("[[task]]\nat = '0'\nkind = 'reader'\n", 2, ["task[0].kind", "'reader'", "one of"]),
    ("[[task]]\nat = '0'\n", 2, ["task[0].kind", "None", "one of"]),
    ("[[task]]\nat = '0'\nkind = 'writer'\nbio = '1ms'\n", 2, ["task[0].bio", "hold"]),
    ("[[task]]\nat = '-1ms'\nkind = 'writer'\n", 2, ["task[0].at", "-1ms", "negative"]),
    ("[[task]]\nat = '1e99s'\nkind = 'writer'\n", 2, ["task[0].at", "1e99s", "too long"]),
    ("[[task]]\nat = '0'\nkind = 'writer'\nhold = 'long'\n", 2, ["task[0].hold", "'long'"]),
    ("[[task]]\nat = 5\nkind = 'writer'\n", 2, ["task[0].at", "5", "no unit"]),
    ("[[task]]\nat = 0\nkind = 'writer'\nhold = 50\n", 2, ["task[0].hold", "no unit"]),
    ("[[task]]\nat = '0'\nkind = 'fault'\nfault = 'major'\n", 2, ["task[0].fault", "'major'",
                                                                  "one of"]),
    ("[[task]]\nat = '0'\nkind = 'fault'\nevicted = 'yes'\n", 2, ["task[0].evicted", "'yes'",
                                                                   "true or false"]),
    ("[[task]]\nat = '2ms'\nkind = 'writer'\n[[task]]\nat = '1ms'\nkind = 'writer'\n", 2,
     ["script", "time order", ALLOWED]),
    ("[[task]]\nat = '0'\nkind = 'writer'\n[params]\nthrottle_depth = 11\n", 2,
     ["throttle_depth", "11", "0 to 7"]),
    ("[[task]]\nat = '0'\nkind = 'writer'\n[params]\nbogus = 1\n", 2, ["bogus",
                                                                       "not a parameter"]),
    ("[[task]]\nat = '0'\nkind = 'writer'\n[other]\nx = 1\n", 2, ["unknown key 'other'"]),
    ("params = 3\n[[task]]\nat = '0'\nkind = 'writer'\n", 2, ["params must be a table"]),
    ("[[task\n", 2, ["not valid TOML"]),
]


def check_one_line_error(rc, out, err, code, words):
    assert rc == code, err
    assert out == ""
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("mcsim: error: "), err
    for word in words:
        assert word in lines[0], (word, lines[0])


@pytest.mark.parametrize("args, code, words", PARAMETER_CASES + RUN_SETTING_CASES,
                         ids=lambda v: " ".join(v) if isinstance(v, list) else None)
def test_bad_command_line(capsys, args, code, words):
    rc, out, err = cli(capsys, *args)
    check_one_line_error(rc, out, err, code, words)


@pytest.mark.parametrize("args, code, words", SWEEP_FLAG_CASES,
                         ids=lambda v: " ".join(v) if isinstance(v, list) else None)
def test_bad_sweep_command_line(capsys, tmp_path, args, code, words):
    (tmp_path / "quick.toml").write_text("[grid]\npolicy = 'all'\n")
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    rc, out, err = cli(capsys, *args)
    check_one_line_error(rc, out, err, code, words)
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("text, code, words", SWEEP_FILE_CASES)
@pytest.mark.parametrize("command", ["sweep", "run"])
def test_bad_sweep_and_run_files(capsys, tmp_path, command, text, code, words):
    if command == "run" and "grid" in text and "not valid TOML" not in words:
        words = ["unknown key 'grid'", "allowed: description, run, params"]
    path = tmp_path / "bad.toml"
    path.write_text(text)
    args = ["sweep", path, "--out", tmp_path / "o"] if command == "sweep" else \
        ["run", "-c", path]
    rc, out, err = cli(capsys, *args)
    check_one_line_error(rc, out, err, code, words)
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("text, code, words", SCRIPT_CASES)
def test_bad_script_files(capsys, tmp_path, text, code, words):
    path = tmp_path / "s.toml"
    path.write_text(text)
    rc, out, err = cli(capsys, "script", path)
    check_one_line_error(rc, out, err, code, words)


@pytest.mark.parametrize("args, code, words", [
    (["script", "{tmp}/missing.toml"], 4, ["missing.toml", "cannot read"]),
    (["script", "{tmp}/binary.toml"], 2, ["binary.toml", "not UTF-8"]),
    (["script", "{tmp}/ok.toml", "--policy", "bogus"], 2, ["policy", "bogus", "one of"]),
    (["script", "{tmp}/ok.toml", "--set", "wake=1us,2us"], 2, ["wake", "2 values",
                                                               "one value"]),
    (["script", "{tmp}/ok.toml", "--width", "5"], 2, ["--width", "'5'", "20"]),
    (["script"], 2, ["SCRIPT.toml"]),
    (["show", "{tmp}/missing"], 4, ["missing", "No such file or directory"]),
    (["show", "{tmp}/ok.toml"], 4, ["ok.toml"]),
    (["show", "{tmp}"], 4, [ALLOWED]),
    (["compact", "{tmp}/missing"], 4, ["missing"]),
    (["policies", "extra"], 2, ["extra"]),
    (["params", "--bogus"], 2, ["--bogus"]),
    (["bench", "--impl", "cobol"], 2, ["cobol"]),
])
def test_bad_arguments_of_other_commands(capsys, tmp_path, args, code, words):
    (tmp_path / "ok.toml").write_text("[[task]]\nat = '0'\nkind = 'writer'\nhold = '1us'\n")
    (tmp_path / "binary.toml").write_bytes(b"\xff\xfe\x00")
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    rc, out, err = cli(capsys, *args)
    check_one_line_error(rc, out, err, code, words)


# ------------------------------------------------------------------ the Python API
API_CASES = [
    (lambda: mcsim.simulate("stock-4.19"), ["params", "'stock-4.19'", "mapping"]),
    (lambda: mcsim.simulate(["policy"]), ["params", "mapping"]),
    (lambda: mcsim.simulate(foo=1), ["foo", "not a parameter", "mcsim params"]),
    (lambda: mcsim.simulate(polcy="hold"), ["polcy", "did you mean policy"]),
    (lambda: mcsim.simulate(trials=0), ["trials", "0", "1 to 1e12"]),
    (lambda: mcsim.simulate(trials=2**63), ["trials", "1 to 1e12"]),
    (lambda: mcsim.simulate(trials=1.5), ["trials", "1.5", "not an integer"]),
    (lambda: mcsim.simulate(trials=True), ["trials", "True"]),
    (lambda: mcsim.simulate(seed=-1), ["seed", "-1"]),
    (lambda: mcsim.simulate(seed="1"), ["seed", "'1'", "not an integer"]),
    (lambda: mcsim.simulate(workers=0), ["workers", "0", "1 to 256"]),
    (lambda: mcsim.simulate(workers=10**6), ["workers", "1 to 256"]),
    (lambda: mcsim.simulate(engine="gpu"), ["engine", "'gpu'", "compiled"]),
    (lambda: mcsim.simulate(wake=1e30), ["wake", "too long"]),
    (lambda: mcsim.simulate(wake=float("nan")), ["wake", "nan"]),
    (lambda: mcsim.simulate(wake=-1), ["wake", "negative"]),
    (lambda: mcsim.simulate(writer_hold=Dist("exp", 1e3, 0.0).__class__),
     ["writer_hold", "not a distribution"]),
    (lambda: mcsim.simulate(writer_hold={"dist": "exp"}), ["writer_hold",
                                                           "not a distribution"]),
    (lambda: mcsim.simulate(writer_hold=None), ["writer_hold", "None"]),
    (lambda: mcsim.simulate(throttle_depth="7.5"), ["throttle_depth", "'7.5'"]),
    (lambda: mcsim.simulate(policy=None), ["policy", "None", "one of"]),
    (lambda: mcsim.simulate(policy=["hold"]), ["policy", "one of"]),
    (lambda: mcsim.simulate(hp_rate=float("inf")), ["hp_rate", "inf"]),
    (lambda: mcsim.run_script("x"), ["tasks", "'x'", "list of task"]),
    (lambda: mcsim.run_script([]), ["tasks", "1 to 100000"]),
    (lambda: mcsim.run_script(5), ["tasks", "5", "list of task"]),
    (lambda: mcsim.run_script(["writer"]), ["task[0]", "'writer'", "a dict"]),
    (lambda: mcsim.run_script([{"kind": "writer"}]), ["task[0].at", "is missing"]),
    (lambda: mcsim.run_script([{"at": 0, "kind": ["writer"]}]), ["task[0].kind", "one of"]),
    (lambda: mcsim.run_script([{"at": 0, "kind": "writer"}], "hold"), ["params", "'hold'",
                                                                        "mapping"]),
    (lambda: mcsim.run_script([{"at": 0, "kind": "writer"}], engine="x"), ["engine", "'x'"]),
    (lambda: mcsim.run_script([{"at": 0, "kind": "fault", "fault": {}}]),
     ["task[0].fault", "one of"]),
]


@pytest.mark.parametrize("call, words", API_CASES)
def test_bad_api_calls_raise_one_parameter_error(call, words):
    with pytest.raises(mcsim.ParameterError) as info:
        call()
    message = str(info.value)
    assert "\n" not in message and "allowed:" in message, message
    for word in words:
        assert word in message, (word, message)


def test_hand_built_distributions_are_checked():
    for args in [("lognormal", 1e6, 99.0), ("lognormal", -1.0, 0.5), ("exp", 1e30, 0.0),
                 ("weibull", 1.0, 1.0), ("exp", 1e3, 0.5), ("const", float("nan"), 0.0)]:
        with pytest.raises(mcsim.ParameterError, match="allowed:"):
            Dist(*args)


def test_the_catalogue_is_large():
    """The hardening target: at least 150 distinct bad inputs across the commands, the
    API and the file formats (each case above is one)."""
    total = (len(PARAMETER_CASES) + len(RUN_SETTING_CASES) + len(SWEEP_FLAG_CASES)
             + len(SWEEP_FILE_CASES) + len(SCRIPT_CASES) + 13 + len(API_CASES) + 6)
    assert total >= 150, total


# ------------------------------------------------------------------ the class, not instances
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from mcsim.params import PARAMS, validate  # noqa: E402
from mcsim.sweep import parse_values  # noqa: E402

_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-2**70, 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["1e999s", "-0", "0x10", "1_000", "1e-999ms", "5 us", "exp(1e20s)",
                     "lognormal(1ms, 1e308)", "lognormal(0, 10)", "const(-0)", "1..2",
                     "all", "ssd", "HDD", "exp()", "exp(,)", "lognormal(1ms,0.5,1)",
                     "\u00b5s", "10000s", "10000.000000001s", "inf/s", "1/0s"]))
_values = st.one_of(_scalars, st.lists(_scalars, max_size=3),
                    st.dictionaries(st.text(max_size=6), _scalars, max_size=3))


@settings(max_examples=200, deadline=None)
@given(name=st.sampled_from([p.name for p in PARAMS]), value=_values)
def test_any_value_of_any_parameter_is_accepted_or_refused_in_one_line(name, value):
    """Whatever a user passes, validation returns a configuration or raises one
    ParameterError naming the parameter: never another exception (the class of the
    InvalidOperation / OverflowError / KeyError tracebacks)."""
    try:
        validate({name: value})
    except mcsim.ParameterError as exc:
        message = str(exc)
        assert "\n" not in message and "allowed:" in message
        assert message.startswith(f"{exc.param}: ")


@settings(max_examples=150, deadline=None)
@given(name=st.sampled_from([p.name for p in PARAMS]), value=_values)
def test_any_axis_is_accepted_or_refused_in_one_line(name, value):
    try:
        values = parse_values(name, value)
    except mcsim.ParameterError as exc:
        assert "\n" not in str(exc) and "allowed:" in str(exc)
    else:
        assert 1 <= len(values) <= 10_000


def test_numpy_scalars_are_numbers_like_any_other():
    import numpy as np

    cfg = validate(wake=np.int64(5), throttle_depth=np.int64(3), writer_ratio=np.float64(0.2))
    assert (cfg["wake"], cfg["throttle_depth"], cfg["writer_ratio"]) == (5, 3, 0.2)


def test_plot_api_refuses_bad_metrics_and_objects_in_one_line():
    import mcsim.plot as plot

    rows = [mcsim.simulate(trials=1000, seed=1).row()]
    for call, words in [(lambda: plot.ccdf(rows, metric="nope"), "metric: 'nope'"),
                        (lambda: plot.quantiles(rows, metric="nope"), "metric: 'nope'"),
                        (lambda: plot.timeline(rows), "script_result: 'list'"),
                        (lambda: plot.ccdf(rows, where=5), "where: 5")]:
        with pytest.raises(mcsim.ParameterError, match="allowed:") as info:
            call()
        assert words in str(info.value)
    with pytest.raises(mcsim.McsimError, match="not a result table"):
        plot.ccdf(["a"])


def test_running_out_of_memory_is_one_line_not_a_traceback(capsys, monkeypatch):
    """A trial can queue millions of tasks before max_trial_events stops it; if memory
    runs out first, the engine raises MemoryError, which must end as one line."""
    import mcsim.points

    def out_of_memory(*args, **kwargs):
        raise MemoryError("mcsim engine: out of memory")

    monkeypatch.setattr(mcsim.points, "simulate_point", out_of_memory)
    rc, out, err = cli(capsys, "run", "--trials", "1000")
    check_one_line_error(rc, out, err, 3, ["out of memory", "max_trial_events", ALLOWED])
