"""The command line's shell: help, version, lazy imports, the info commands, packaging."""
import subprocess
import sys
import tomllib

import pytest
from clitools import REPO, cli, cli_json

import mcsim
from mcsim.cli.app import EXIT_CODES
from mcsim.params import PARAMS
from mcsim.policies import POLICY_LIST, STEP_COLUMNS

COMMANDS = ("run", "sweep", "show", "compact", "script", "policies", "kernels", "params",
            "bench", "compare")


def test_help_lists_every_command_and_the_exit_codes(capsys):
    code, out, _ = cli(capsys, "--help")
    assert code == 0
    for command in COMMANDS:
        assert f" {command} " in out
    for exit_code, _what in EXIT_CODES:
        assert f"{exit_code} " in out
    assert "Exit codes:" in out


@pytest.mark.parametrize("command", ["run", "sweep", "show", "compact", "script"])
def test_commands_have_help_with_examples(capsys, command):
    code, out, _ = cli(capsys, command, "--help")
    assert code == 0 and ("Examples:" in out or "Example:" in out)
    assert f"mcsim {command}" in out


def test_version(capsys):
    code, out, _ = cli(capsys, "--version")
    assert (code, out.strip()) == (0, f"mcsim {mcsim.__version__}")


def test_help_imports_neither_numpy_nor_pyarrow():
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "mcsim", "--help"],
                          cwd=REPO, capture_output=True, text=True, check=True)
    imported = {line.split("|")[-1].strip().split(".")[0]
                for line in proc.stderr.splitlines() if line.startswith("import time:")}
    assert "mcsim" in imported and "typer" in imported
    assert not imported & {"numpy", "pyarrow", "scipy", "pandas"}
    assert "Usage: mcsim" in proc.stdout


def test_python_dash_m_exit_code_for_a_bad_option():
    proc = subprocess.run([sys.executable, "-m", "mcsim", "run", "--no-such-option"],
                          cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "--no-such-option" in proc.stderr


def test_policies_table_and_json_come_from_the_policy_rows(capsys):
    code, out, _ = cli(capsys, "policies")
    assert code == 0
    for p in POLICY_LIST:
        assert p.name in out and p.stands_for[:30] in out
    rows = cli_json(capsys, "policies")
    assert [r["name"] for r in rows] == [p.name for p in POLICY_LIST]
    stock = rows[[p.name for p in POLICY_LIST].index("stock-4.19")]
    assert stock["holds_lock"] == {"miss_submit": True, "miss_io": False, "ra_submit": True,
                                   "locked_wait": False, "mkwrite": True, "dirty": True}
    assert list(stock["holds_lock"]) == list(STEP_COLUMNS)


def test_params_lists_every_parameter_with_default_and_unit(capsys):
    code, out, _ = cli(capsys, "params")
    assert code == 0
    for p in PARAMS:
        assert p.name in out
    rows = cli_json(capsys, "params")
    assert [(r["name"], r["default"], r["unit"]) for r in rows] == [
        (p.name, p.default, p.unit) for p in PARAMS]
    defaults = mcsim.simulate(trials=10).row()          # the result columns themselves
    for r in rows:
        assert r["column_default"] == defaults[r["column"]], r["name"]
    assert {r["column"] for r in rows if r["column"] != r["name"]} == {
        "wake_ns", "handoff_timeout_ns", "hp_rate_per_s", "lp_rate_per_s",
        "bg_io_rate_per_s", "evict_rate_per_s", "warmup_ns", "window_ns", "timer_slack_ns"}


def test_pyproject_declares_the_console_script_and_test_extras():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert project["scripts"]["mcsim"] == "mcsim.cli:main"
    test_extra = " ".join(project["optional-dependencies"]["test"])
    for package in ("pandas", "polars", "duckdb"):
        assert package in test_extra
