"""``mcsim policies``, ``mcsim kernels``, ``mcsim params`` and ``mcsim workloads``: the
model's tables."""
from typing import Annotated, Optional

import typer

from .app import app
from .common import JsonOpt, print_json, stdout_console

KERNELS_EPILOG = """Examples:

  mcsim kernels

  mcsim kernels 6.18

  mcsim kernels --json | jq '.[] | {name, hp: .behaviours.hp_lock}'
"""


@app.command()
def policies(json_output: JsonOpt = False) -> None:
    """The fault-path policies: what each stands for and which fault steps hold the lock."""
    from ..policies import POLICY_LIST, STEP_COLUMNS
    from .render import policies_table

    if json_output:
        print_json([{"name": p.name, "stands_for": p.stands_for,
                     "holds_lock": dict(zip(STEP_COLUMNS, p.locked)),
                     "keeps_page": p.keeps_page} for p in POLICY_LIST])
        return
    stdout_console().print(policies_table(POLICY_LIST))


@app.command(epilog=KERNELS_EPILOG)
def kernels(
    name: Annotated[Optional[str], typer.Argument(
        metavar="[NAME]", help="One preset to describe in full (every behaviour, and which "
        "differ from the kernel it extends or follows).", show_default=False)] = None,
    json_output: JsonOpt = False,
) -> None:
    """The kernel presets (--kernel NAME): version, what changed and its commits, and
    every behaviour on the path HP reader -> mmap_lock -> LP fault -> slow IO."""
    from ..kernels import KERNEL_LIST, KERNELS
    from .kernel_tables import (kernel_detail_renderables, kernel_history_table,
                                kernels_table)

    chosen = KERNEL_LIST
    if name is not None:
        if name not in KERNELS:
            from ..errors import ParameterError

            raise ParameterError("kernel", name, "one of " + ", ".join(KERNELS))
        chosen = (KERNELS[name],)
    if json_output:
        data = [kernel_document(k) for k in chosen]
        print_json(data[0] if name is not None else data)
        return
    console = stdout_console()
    if name is not None:
        for renderable in kernel_detail_renderables(chosen[0], KERNEL_LIST):
            console.print(renderable)
        return
    console.print(kernels_table(KERNEL_LIST))
    console.print()
    console.print(kernel_history_table(KERNEL_LIST))


def kernel_document(kernel) -> dict:
    """One preset as ``mcsim kernels --json`` gives it.

    >>> from mcsim.kernels import KERNELS
    >>> doc = kernel_document(KERNELS["6.18"])
    >>> doc["name"], doc["behaviours"]["first_lock"], doc["behaviours"]["holds_lock"]["dirty"]
    ('6.18', 'vma', False)
    """
    return {"name": kernel.name, "version": kernel.version, "changed": kernel.changed,
            "commits": list(kernel.commits), "policy": kernel.policy,
            "behaviours": kernel.behaviours()}


@app.command()
def params(json_output: JsonOpt = False) -> None:
    """Every model parameter with its default, unit and meaning (set with --set).

    With --json each parameter also has ``column``, the name of its result column (with
    its unit: ``wake_ns``), ``column_unit`` and ``column_default``, the default in that
    column's unit."""
    from ..params import PARAMS, validate
    from ..schema import column, param_column, param_values
    from .render import params_table

    if json_output:
        defaults = param_values(validate().public())
        print_json([{"name": p.name, "default": p.default, "kind": p.kind, "unit": p.unit,
                     "help": p.help, "choices": list(p.choices),
                     "column": param_column(p.name),
                     "column_unit": column(param_column(p.name)).unit,
                     "column_default": defaults[param_column(p.name)]} for p in PARAMS])
        return
    stdout_console().print(params_table(PARAMS))


WORKLOADS_EPILOG = """Examples:

  mcsim workloads

  mcsim workloads ps-scan

  mcsim workloads --json | jq '.[] | {name, threads}'

  mcsim run --workload ps-scan --var n=8 --trials 20
"""


@app.command(epilog=WORKLOADS_EPILOG)
def workloads(
    name: Annotated[Optional[str], typer.Argument(
        metavar="[NAME]", help="One workload (a ready one's name, or a workload file) to "
        "describe in full: processes, threads, variables, parameters.",
        show_default=False)] = None,
    json_output: JsonOpt = False,
) -> None:
    """The ready workloads (sweeps/workloads/, `mcsim run --workload NAME`): what real
    system each represents, its trial kind, processes, threads and variables."""
    from ..workload import list_workloads, load_workload
    from .render import workload_detail, workloads_table

    chosen = [load_workload(name)] if name is not None else list_workloads()
    if json_output:
        data = [workload_document(w) for w in chosen]
        print_json(data[0] if name is not None else data)
        return
    console = stdout_console()
    if name is not None:
        for renderable in workload_detail(chosen[0]):
            console.print(renderable)
        return
    console.print(workloads_table(chosen))


def workload_document(workload) -> dict:
    """One workload as ``mcsim workloads --json`` gives it (``canonical``: the resolved
    structure as canonical JSON, whose sha256 the ``hash`` abbreviates)."""
    return {"name": workload.name, "description": workload.description,
            "trial_kind": workload.trial_kind, "hash": workload.hash,
            "processes": list(workload.process_names),
            "threads": list(workload.thread_names), "vars": dict(workload.vars),
            "params": dict(workload.params), "canonical": workload.canonical}
