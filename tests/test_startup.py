"""What a start of ``mcsim`` loads: no heavy library that the command does not use, the
same help and the same option values as with everything loaded.  (How fast it starts is
measured in docs/benchmarks.md, not here: timings fail on a busy machine.)"""
import json
import os
import subprocess
import sys

import pytest
from clitools import REPO

from mcsim.cli.startup import COMMAND_MODULES

#: Libraries that cost from 50 ms to half a second to import.
HEAVY = ("numpy", "pyarrow", "scipy", "matplotlib", "pandas", "polars", "dask",
         "distributed", "pydantic")


def loaded_after(code: str, env: dict | None = None) -> tuple[set, subprocess.CompletedProcess]:
    """The modules loaded after ``code`` runs in a fresh interpreter (and its process)."""
    probe = (f"{code}\nimport sys, json\n"
             "print(json.dumps(sorted(sys.modules)), file=sys.stderr)")
    proc = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True,
                          text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    return set(json.loads(proc.stderr.strip().splitlines()[-1])), proc


def as_program(*args: str) -> str:
    """Code that runs ``mcsim ARGS`` as the console script does (``mcsim.cli:main``)."""
    return f"import sys\nsys.argv = ['mcsim', *{list(args)!r}]\nfrom mcsim.cli import main\ncode = main()"


def heavy(modules: set) -> list:
    return sorted(m for m in HEAVY if m in modules)


def test_import_mcsim_loads_no_heavy_library():
    modules, _ = loaded_after("import mcsim")
    assert heavy(modules) == []
    assert not {"typer", "rich", "mcsim.engine"} & modules


def test_help_loads_no_heavy_library_and_no_engine():
    modules, proc = loaded_after(as_program("--help"))
    assert "Usage: mcsim" in proc.stdout
    assert heavy(modules) == []
    assert not {"mcsim.engine", "mcsim._engine", "mcsim.histogram"} & modules


def test_help_compiles_the_commands_declarations_not_their_work():
    # Every command module is imported (from source, where no bytecode is written) for
    # the help; the code that does a command's work is in mcsim.cli.<name>_impl, imported
    # when the command runs (docs/benchmarks.md, "Start-up").
    modules, _ = loaded_after(as_program("--help"))
    assert {f"mcsim.cli.{module}" for module, _ in COMMAND_MODULES} <= modules
    assert [m for m in modules if m.startswith("mcsim.") and m.endswith("_impl")] == []
    assert not {"mcsim.plan", "mcsim.cli.plan", "mcsim.sweep", "mcsim.params"} & modules


def test_run_loads_numpy_and_the_engine_but_not_the_rest():
    modules, proc = loaded_after(as_program("run", "--trials", "200", "--json"))
    assert json.loads(proc.stdout)["run"]["trials"] == 200
    assert heavy(modules) == ["numpy"]
    assert "mcsim._engine" in modules
    # Only the run command's module is registered; the others' imports are not paid.
    assert not {"mcsim.cli.sweep", "mcsim.cli.report", "mcsim.cli.compare",
                "mcsim.executors", "multiprocessing", "concurrent.futures.process"} & modules
    assert sorted(m for m in modules if m.startswith("mcsim.") and m.endswith("_impl")) == [
        "mcsim.cli.run_impl"]
    # No workload and no TOML file: their modules stay out.
    assert not {"mcsim.workload", "tomllib"} & modules


def test_run_printing_tables_builds_no_result_row():
    # The tables need the statistics, not the result row with its columns (mcsim.schema:
    # --json, --out and the Python API use it).
    modules, proc = loaded_after(as_program("run", "--trials", "200"))
    assert "hp_wait" in proc.stdout
    assert not {"mcsim.schema", "mcsim.workload", "tomllib"} & modules


def test_help_after_one_command_lists_the_commands_in_their_order():
    # In one process `mcsim compare --help` registers compare first; the help that
    # follows must still list the commands as a fresh start does.
    code = ("import sys\nfrom mcsim.cli import main\nmain(['compare', '--help'])\n"
            "print('=====')\nmain(['--help'])")
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                          text=True, check=True)
    fresh = subprocess.run([sys.executable, "-m", "mcsim", "--help"], cwd=REPO,
                           capture_output=True, text=True, check=True)
    assert proc.stdout.split("=====\n", 1)[1] == fresh.stdout


def test_every_command_is_in_the_module_that_says_so():
    import typer.main

    from mcsim.cli import app
    from mcsim.cli.startup import COMMAND_MODULES, load_commands

    load_commands(app)
    group = typer.main.get_command(app)
    where = {name: f"mcsim.cli.{module}" for module, names in COMMAND_MODULES
             for name in names}
    assert {name: cmd.callback.__module__ for name, cmd in group.commands.items()} == where
    assert list(group.commands) == list(where)          # the order of `mcsim --help`


def test_command_signatures_hold_objects_not_strings():
    # Typer reads every option from its command's signature when it builds the app (all
    # of them for the help).  A string annotation (PEP 563, `from __future__ import
    # annotations` in a command's module) is compiled and evaluated there, each time:
    # about 20 ms of `mcsim --help` (docs/benchmarks.md, "Start-up").
    from mcsim.cli import app
    from mcsim.cli.startup import COMMAND_MODULES, load_commands

    load_commands(app)
    infos = list(app.registered_commands)
    for group in app.registered_groups:
        infos += group.typer_instance.registered_commands
        if group.typer_instance.registered_callback is not None:
            infos.append(group.typer_instance.registered_callback)
    if app.registered_callback is not None:
        infos.append(app.registered_callback)
    assert len(infos) >= sum(len(names) for _module, names in COMMAND_MODULES)
    strings = {f"{info.callback.__module__}.{info.callback.__name__}: {name}"
               for info in infos for name, ann in info.callback.__annotations__.items()
               if isinstance(ann, str)}
    assert strings == set()


@pytest.mark.parametrize("preset,expected", [(None, "1"), ("3", "3")])
def test_the_program_asks_openblas_for_one_thread_unless_told(preset, expected):
    env = {k: v for k, v in os.environ.items()
           if k not in ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS")}
    if preset is not None:
        env["OPENBLAS_NUM_THREADS"] = preset
    code = as_program("params", "--json") + "\nimport os\nprint(os.environ.get('OPENBLAS_NUM_THREADS'))"
    _, proc = loaded_after(code, env=env)
    assert proc.stdout.strip().splitlines()[-1] == expected


GC_PROBE = """
import gc, json, sys
from mcsim.cli import main
app_module = sys.modules["mcsim.cli.app"]
seen = []
resume = app_module.resume_gc
def probe():                     # the root callback: where a command starts its work
    resume()
    seen.append(gc.isenabled())
app_module.resume_gc = probe
def collections():
    return sum(s["collections"] for s in gc.get_stats())
before = collections()
sys.argv = ["mcsim", *ARGS]
if PROGRAM:
    main()
else:
    main(ARGS)
print(json.dumps([collections() - before, seen, gc.isenabled()]))
"""


@pytest.mark.parametrize("program", [True, False])
def test_the_program_starts_without_collecting_garbage(program):
    # As the program, no collection while the commands load and the help prints; the
    # collector is back on when a command runs and after main().  From Python, main()
    # leaves the collector alone.
    outcomes = {}
    for args in (["--help"], ["policies", "--json"]):
        code = f"ARGS, PROGRAM = {args!r}, {program}" + GC_PROBE
        proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                              text=True, check=True)
        outcomes[args[0]] = json.loads(proc.stdout.strip().splitlines()[-1])
    assert outcomes["policies"][1:] == [[True], True]
    assert outcomes["--help"][1:] == [[], True]
    assert (outcomes["--help"][0] == 0) == program


# ------------------------------------------------------------------ option values
SAMPLES = {
    int: ["0", "7", "-3", "20", "1000", "1200", "1201", "123456789012345678",
          "1234567890123456789012", "007", "-0", "1e3", "1_000", " 5", "5 ", "+5", "abc",
          "", "\u0663", "1.0", 7, 25],
    float: ["0.02", "1", "0", "-0.0", "0.1", "1.5", "10", "007.50", "1e-3", "inf", "nan",
            ".5", "5.", "abc", "", " 1", "0.0999999999999999999999", 0.5, 2],
    str: ["hold", "6.18", "exp(50us)", "", "é", "\udcff", "a b"],
    list[str]: [("device=ssd", "writer_hold=exp(50us)"), (), ("\udcff",), ("",)],
}


def outcome(runtime_param, value, param, ctx):
    """What coercing ``value`` gives: ("value", its type, its repr) or ("error", message);
    the repr tells -0.0 from 0.0 and matches NaN with NaN."""
    from typer._click.exceptions import BadParameter

    try:
        got = runtime_param.coerce(value, param=param, ctx=ctx)
    except BadParameter as exc:
        return ("error", exc.format_message())
    return ("value", type(got), repr(got))


def options_taking_plain_values():
    import typer.main

    from mcsim.cli import app
    from mcsim.cli.coercion import takes_plain_values
    from mcsim.cli.startup import load_commands

    load_commands(app)
    group = typer.main.get_command(app)
    found = []
    for name, command in group.commands.items():
        for param in command.params:
            if takes_plain_values(param.type_descriptor):
                found.append((command, param))
    return found


def test_plain_option_values_are_typers_values():
    """Every option mcsim coerces without pydantic gets the value, of the same type, or
    the error that Typer's own pydantic coercion gives, for numbers and strings typed
    well and badly."""
    from typer._click import Context
    from typer._coercion import build_runtime_param

    from mcsim.cli import coercion

    assert coercion.install()
    checked = set()
    for command, param in options_taking_plain_values():
        desc = param.type_descriptor
        ours, typers = param.get_runtime_param(), build_runtime_param(desc)
        assert ours is not typers and type(ours).__name__ == "PlainFirst"
        ctx = Context(command)
        for value in [None, *SAMPLES[desc.annotation]]:
            if (param.multiple or param.nargs == -1) != isinstance(value, tuple) and \
                    value is not None:
                continue
            assert outcome(ours, value, param, ctx) == outcome(typers, value, param, ctx), \
                (command.name, param.name, value)
        checked.add(repr(desc.annotation))
    assert checked == {repr(t) for t in SAMPLES}        # every kind was exercised


def test_ranged_options_keep_typers_errors(capsys):
    from mcsim.cli import main

    assert main(["script", "--width", "5", "x.toml"]) == 2
    assert "Input should be greater than or equal to 20" in capsys.readouterr().err
    assert main(["run", "--trials", "1e3"]) == 2
    assert "Input should be a valid integer" in capsys.readouterr().err


# ------------------------------------------------------------------ no scipy for 95%
@pytest.mark.parametrize("level", [0.95, 0.9, 0.99])
def test_interval_z_is_scipys_normal_quantile_to_the_bit(level):
    from scipy.special import ndtri

    from mcsim.histogram import _z

    assert _z(level) == float(ndtri(1.0 - (1.0 - level) / 2.0))


# ------------------------------------------------------------------ help renderer
RENDER = """
import io, sys
if PRELOAD: import typer.rich_utils          # as usual: rich.syntax, rich.traceback and all
sys.argv = ['mcsim', *ARGS]
from mcsim.cli import main
main()
# What the stand-ins stood for works as usual afterwards: a code block, a traceback.
import rich.console, rich.markdown, rich.syntax, typer.rich_utils
console = rich.console.Console(file=io.StringIO(), width=90, force_terminal=True)
console.print(rich.markdown.Markdown("Run:\\n\\n```\\nmcsim run --trials 9\\n```\\n"))
try:
    1 / 0
except ZeroDivisionError as exc:
    console.print(typer.rich_utils.Traceback.from_exception(type(exc), exc, exc.__traceback__))
print(console.file.getvalue())
print(sorted(m for m in ('pygments', 'rich.syntax', 'rich.traceback') if m in sys.modules))
"""


@pytest.mark.parametrize("args", [["--help"], ["run", "--help"]])
def test_help_and_rich_are_the_same_with_the_help_renderer_loaded_lightly(args):
    env = dict(os.environ, FORCE_COLOR="1", COLUMNS="100")
    outputs = []
    for preload in (True, False):
        code = f"PRELOAD, ARGS = {preload}, {args!r}" + RENDER
        proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                              text=True, env=env)
        assert proc.returncode == 0, proc.stderr
        outputs.append(proc.stdout)
    assert outputs[0] == outputs[1]
    assert "\x1b[" in outputs[0] and "mcsim run --trials 9" in outputs[0]   # colours, code
    assert "ZeroDivisionError" in outputs[0]


def test_help_loads_no_highlighter():
    modules, proc = loaded_after(as_program("--help"))
    assert "typer.rich_utils" in modules and "markdown_it" in modules
    assert not {"pygments", "rich.syntax", "rich.traceback"} & modules
