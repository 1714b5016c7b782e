"""``mcsim policies`` and ``mcsim params``: the model's two tables."""
from __future__ import annotations

from .app import app
from .common import JsonOpt, print_json, stdout_console


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
