"""``mcsim script``: run a scripted interleaving (no randomness) under one or several
policies or kernel presets.

A script file lists ``[[task]]`` entries as :func:`mcsim.run_script` takes them (``at``,
``kind`` and the kind's durations, written with units) and optional ``[params]``::

    description = "model.md §6: a read fault behind a throttled bio"
    [params]
    throttle_depth = 7
    [[task]]
    at = "0"
    kind = "bg_io"
    bio = "9.9ms"

``--kernel`` or ``--policy`` on the command line replaces the file's kernel, policy and
era (a kernel preset sets the policy and era itself).
"""
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..errors import UsageError
from .app import app
from .common import (JsonOpt, KernelOpt, PolicyOpt, SetOneOpt, flag_values, print_json,
                     stdout_console)

SCRIPT_KEYS = ("description", "params", "task")
#: Task fields that are not durations (the rest need a unit in a file).
SCRIPT_FLAGS = ("kind", "fault", "evicted", "revalidate_fail", "same_vma", "fallback")
#: Timelines are printed by default for at most this many runs (``--timeline`` for more).
TIMELINES_SHOWN = 5

EPILOG = """Examples:

  mcsim script sweeps/scripts/read-miss.toml --policy all

  mcsim script sweeps/scripts/mkwrite.toml --policy rfc-v2 --json

  mcsim script sweeps/scripts/vma-mkwrite.toml --kernel all

  mcsim script sweeps/scripts/vma-mkwrite.toml --kernel 6.18 --set wake=5us
"""


def read_script(path: Path) -> tuple[str, dict, list]:
    """``(description, params, tasks)`` of a script file."""
    from ..sweep import check_keys, check_param_name, read_toml, require_unit

    data = read_toml(path)
    check_keys(data, SCRIPT_KEYS, str(path))
    params, tasks = data.get("params", {}), data.get("task", [])
    if not isinstance(params, dict):
        raise UsageError(f"{path}: params must be a table ([params])")
    if not tasks or not isinstance(tasks, list) or not all(isinstance(t, dict) for t in tasks):
        raise UsageError(f"{path}: no tasks; allowed: [[task]] entries with at, kind and "
                         "the kind's durations (see sweeps/scripts/)")
    for name, value in params.items():
        check_param_name(name, value)
        require_unit(name, value)
    for i, task in enumerate(tasks):
        for field, value in task.items():
            if field not in SCRIPT_FLAGS:
                require_unit(f"task[{i}].{field}", value, kind="duration")
    return str(data.get("description", "")), params, tasks


def script_runs(params: dict, values: dict) -> list[dict]:
    """The parameters of each run: the file's ``params`` with the command line's
    ``values`` on top, one run per ``--kernel`` (or else ``--policy``) value.

    >>> [r.get("kernel") for r in script_runs({"era": "4.x"}, {"kernel": ["4.19", "6.18"]})]
    ['4.19', '6.18']
    >>> script_runs({"era": "4.x", "kernel": "6.18"}, {"policy": ["hold"]})
    [{'era': '4.x', 'policy': 'hold'}]
    """
    from ..sweep import SweepSpec

    axis = "kernel" if "kernel" in values else "policy" if "policy" in values else None
    for name, vals in values.items():
        if len(vals) > 1 and name != axis:
            raise UsageError(f"{name}: {len(vals)} values; allowed: one value (lists only "
                             "for --kernel or --policy)")
    if "kernel" in values and "policy" in values and len(values["policy"]) > 1:
        raise UsageError("--policy: a list with --kernel; allowed: --kernel NAMES or "
                         "--policy NAMES (a kernel preset sets the policy)")
    base = SweepSpec(params=params).with_values(
        {name: vals[:1] for name, vals in values.items()}).params
    if axis is None:
        return [dict(base)]
    return [{**base, axis: value} for value in values[axis]]


@app.command(epilog=EPILOG)
def script(
    path: Annotated[Path, typer.Argument(metavar="SCRIPT.toml", dir_okay=False,
                                         help="Script file with [[task]] entries.")],
    kernel: KernelOpt = None,
    policy: PolicyOpt = None,
    set_values: SetOneOpt = None,
    width: Annotated[int, typer.Option(help="Columns of the timeline.", min=20)] = 60,
    timeline: Annotated[Optional[bool], typer.Option(
        "--timeline/--no-timeline", help="Print each run's timeline [default: when at most "
        f"{TIMELINES_SHOWN} runs].", show_default=False)] = None,
    json_output: JsonOpt = False,
) -> None:
    """Run a scripted interleaving and print each task's waits and the timeline.

    Without --kernel or --policy the file's (or the default) configuration runs;
    `--kernel all` runs every kernel preset, `--policy all` every 2018 policy."""
    import mcsim

    from ..params import validate
    from .render import script_waits_table

    description, params, tasks = read_script(path)
    values = flag_values(set_values, kernel=kernel, policy=policy)
    runs = script_runs(params, values)
    configs = [validate(run) for run in runs]           # every run checked before any runs
    results = []
    for run, cfg in zip(runs, configs):
        res = mcsim.run_script(tasks, run)
        res.kernel = cfg["kernel"]
        results.append(res)
    if json_output:
        print_json({"script": str(path), "description": description,
                    "results": [r.to_dict() for r in results]})
        return
    console = stdout_console()
    console.print(f"{path}: {description}" if description else str(path))
    console.print(script_waits_table(results))
    if timeline if timeline is not None else len(results) <= TIMELINES_SHOWN:
        for res in results:
            console.print()
            console.print(res.format(width=width), markup=False, highlight=False)
