"""``mcsim script``: run a scripted interleaving (no randomness) under one or all policies.

A script file lists ``[[task]]`` entries as :func:`mcsim.run_script` takes them (``at``,
``kind`` and the kind's durations, written with units) and optional ``[params]``::

    description = "model.md §6: a read fault behind a throttled bio"
    [params]
    throttle_depth = 7
    [[task]]
    at = "0"
    kind = "bg_io"
    bio = "9.9ms"
"""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..errors import UsageError
from .app import app
from .common import JsonOpt, PolicyOpt, SetOneOpt, flag_values, print_json, stdout_console

SCRIPT_KEYS = ("description", "params", "task")


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
            if field not in ("kind", "fault", "evicted", "revalidate_fail"):
                require_unit(f"task[{i}].{field}", value, kind="duration")
    return str(data.get("description", "")), params, tasks


@app.command(epilog="Examples:\n\n  mcsim script sweeps/scripts/read-miss.toml --policy all"
                    "\n\n  mcsim script sweeps/scripts/mkwrite.toml --policy rfc-v2 --json")
def script(
    path: Annotated[Path, typer.Argument(metavar="SCRIPT.toml", dir_okay=False,
                                         help="Script file with [[task]] entries.")],
    policy: PolicyOpt = None,
    set_values: SetOneOpt = None,
    width: Annotated[int, typer.Option(help="Columns of the timeline.", min=20)] = 60,
    json_output: JsonOpt = False,
) -> None:
    """Run a scripted interleaving and print each task's waits and the timeline.

    Without --policy the file's (or the default) policy runs; `--policy all` runs them all."""
    import mcsim

    from .render import script_waits_table

    description, params, tasks = read_script(path)
    values = flag_values(set_values, policy=policy)
    policies = values.pop("policy", None) or [params.get("policy", "stock-4.19")]
    params.update({name: vals[0] for name, vals in values.items()})
    for name, vals in values.items():
        if len(vals) > 1:
            raise UsageError(f"{name}: {len(vals)} values; allowed: one value (lists only "
                             "for --policy)")
    results = [mcsim.run_script(tasks, params, policy=p) for p in policies]
    if json_output:
        print_json({"script": str(path), "description": description,
                    "results": [r.to_dict() for r in results]})
        return
    console = stdout_console()
    console.print(f"{path}: {description}" if description else str(path))
    console.print(script_waits_table(results))
    for res in results:
        console.print()
        console.print(res.format(width=width), markup=False, highlight=False)
