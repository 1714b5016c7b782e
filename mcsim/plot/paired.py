"""Measured rows beside their simulated twins: which simulated rows predict which measured
one, the differences of their quantiles, and their CCDFs on one panel.

A measured row (``source = "measured"``: ``mcsim trace import``, ``mcsim repro -o``) is
paired with its twins by the ``mcsim.repro_rows`` metadata of an ``mcsim repro`` file
(the rows of one run: ``measured``, ``model``, ``model, calibrated``), carried in each row
as ``repro_run`` / ``repro_role`` (:func:`with_repro_roles`); otherwise with the simulated
rows whose parameters equal its own (``source``, ``seed`` and run columns aside).  A
measured row whose parameters are all null (as the importer writes them) has no parameters
to compare: it pairs with the simulated rows when they are one configuration, else it
stands alone.

>>> sim = {"source": "simulated", "policy": "hold", "hp_wait_p99_ns": 7.0}
>>> meas = {"source": "measured", "policy": None, "hp_wait_p99_ns": 5.0}
>>> [(t.run, t.measured["hp_wait_p99_ns"], [r for r, _ in t.models]) for t in twins([sim, meas])]
[('measured 1', 5.0, ['simulated'])]
>>> difference(sim, meas, "hp_wait", "p99")
2.0
"""
from __future__ import annotations

from typing import NamedTuple, Sequence

from .canvas import arrange, new_figure

MEASURED = "measured"
#: The statistics compared, measured against model (columns ``<metric>_<stat>_ns``).
TWIN_STATS = ("p50", "p90", "p99", "max")
TWIN_METRICS = ("hp_wait", "writer_wait")


class Twin(NamedTuple):
    """One measured row and its simulated twins, ``[(role, row), ...]``."""
    run: str
    measured: dict
    models: list


def is_measured(row) -> bool:
    """Whether ``row`` came from a kernel (``source = "measured"``)."""
    return row.get("source") == MEASURED


def split(rows: Sequence[dict]) -> tuple[list[dict], list[dict]]:
    """``(simulated, measured)`` rows, each in table order.

    >>> split([{"source": "measured"}, {"source": "simulated"}, {}])
    ([{'source': 'simulated'}, {}], [{'source': 'measured'}])
    """
    measured = [r for r in rows if is_measured(r)]
    return [r for r in rows if not is_measured(r)], measured


def with_repro_roles(rows: Sequence[dict], names: Sequence[dict]) -> list[dict]:
    """``rows`` (of one ``mcsim repro -o`` file, in file order) with ``repro_run`` and
    ``repro_role`` from its ``mcsim.repro_rows`` metadata (one entry per row); the rows
    as they are if the counts differ (the metadata does not describe this file).

    >>> with_repro_roles([{"a": 1}], [{"run": "retry D=20ms", "role": "model"}])
    [{'a': 1, 'repro_run': 'retry D=20ms', 'repro_role': 'model'}]
    """
    if len(rows) != len(names):
        return list(rows)
    return [{**r, "repro_run": str(n.get("run", "")), "repro_role": str(n.get("role", ""))}
            for r, n in zip(rows, names)]


def _parameters(row, workload: bool = True) -> dict:
    from ..params import PARAMS
    from ..schema import param_column

    cols = [param_column(p.name) for p in PARAMS] + (["workload", "workload_vars"]
                                                      if workload else [])
    return {c: row.get(c) for c in cols}


def twins(rows: Sequence[dict]) -> list[Twin]:
    """Each measured row of ``rows`` with its simulated twins (module docstring), in
    table order; simulated twins keep the table's order, their role is the repro role, or
    ``simulated``."""
    sim, measured = split(rows)
    out = []
    for k, m in enumerate(measured, 1):
        if m.get("repro_run"):
            run = m["repro_run"]
            models = [(r.get("repro_role") or "simulated", r) for r in sim
                      if r.get("repro_run") == run]
        else:
            run = f"measured {k}"
            own = _parameters(m)
            if any(v is not None for v in _parameters(m, workload=False).values()):
                models = [("simulated", r) for r in sim if _parameters(r) == own]
            else:
                configs = {repr(_parameters(r)) for r in sim}
                models = [("simulated", r) for r in sim] if len(configs) == 1 else []
        out.append(Twin(run, m, models))
    return out


def difference(model: dict, measured: dict, metric: str, stat: str) -> float | None:
    """``model − measured`` of ``<metric>_<stat>_ns``; None where either is missing."""
    a, b = model.get(f"{metric}_{stat}_ns"), measured.get(f"{metric}_{stat}_ns")
    if a is None or b is None or a != a or b != b:
        return None
    return a - b


def ccdf_twin(twin: Twin, metrics: Sequence[str] = TWIN_METRICS):
    """The CCDFs of ``metrics`` (a panel each), the measured row and its twins as lines
    of one panel, from their exact histograms (the same histograms for measured and
    simulated rows).

    >>> import mcsim
    >>> row = mcsim.simulate(policy="hold", throttle_depth=7, trials=2000, seed=1).row()
    >>> fig = ccdf_twin(Twin("run", {**row, "source": "measured"}, [("model", row)]))
    >>> [line.get_label() for line in fig.axes[0].get_lines()]
    ['measured', 'model']
    """
    from .figures import TITLE_Y, _ccdf_lines

    fig = new_figure(6.4 * len(metrics), 4.2)
    rows = [twin.measured] + [r for _, r in twin.models]
    names = [MEASURED] + [role for role, _ in twin.models]
    for i, metric in enumerate(metrics):
        ax = fig.add_subplot(1, len(metrics), i + 1)
        ax.set_title(f"{metric}: CCDF, {twin.run}", fontsize=10, y=TITLE_Y)
        _ccdf_lines(ax, fig, rows, metric, names=names)
    arrange(fig, left=0.75)
    return fig
