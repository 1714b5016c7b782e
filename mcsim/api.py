"""mcsim's Python entry points: :func:`simulate` and :func:`run_script`.

>>> import mcsim
>>> res = mcsim.simulate(policy="hold", trials=20_000, seed=1)
>>> res.trials, res.config["lp_depth"]
(20000, 1)
>>> res["hp_wait"].quantile(0.99) > mcsim.simulate(policy="rfc-v2", trials=20_000,
...                                                 seed=1)["hp_wait"].quantile(0.99)
True
"""
from __future__ import annotations

from typing import Callable, Iterable, Mapping

from .params import validate
from .points import PointSpec, check_engine, simulate_point
from .result import Result, ScriptResult, ScriptTask
from .scenario import TASK_KINDS, compile_scenario, compile_script
from .workload import workload_of


def simulate(params: Mapping | None = None, *, trials: int | None = None, seed: int = 0,
             workers: int = 1, engine: str = "compiled",
             progress: Callable[[int], None] | None = None,
             p99_rel_ci: float | None = None, max_trials: int | None = None,
             workload=None, **overrides) -> Result:
    """Simulate one configuration and return its :class:`~mcsim.result.Result`.

    Parameters are those of :data:`mcsim.params.PARAMS` (``mcsim params`` lists
    them), given as a mapping and/or keywords; durations take units (``"50us"``).  A trial
    is one regenerative cycle (model.md §4).  ``workers`` threads share the blocks of
    trials; the result is identical for any number of workers.  ``progress`` is called with
    the number of trials finished as blocks complete.

    With ``p99_rel_ci`` (a precision target, as ``mcsim run --p99-rel-ci``), ``trials`` is
    the minimum: blocks are added until the hp_wait p99's 95% interval, relative to the
    p99, is that narrow, or ``max_trials`` (default 1e8) is reached; ``result.trials``
    says how many ran and ``result.extra["p99_rel_ci_met"]`` whether the target was met.
    This is the path of ``mcsim run`` (:func:`mcsim.points.simulate_point`), so the same
    parameters, seed and settings give the same result in Python and on the command line.

    ``workload`` runs a workload (:mod:`mcsim.workload`: a Workload, a TOML file, a ready
    workload's name such as ``"ps-scan"``, or a dict) instead of the open model; its
    ``[params]`` apply under ``params`` and the keywords.  A workload with threads runs
    window trials (model.md §12.3), ``trials`` of them (default
    :data:`~mcsim.points.DEFAULT_WINDOW_TRIALS`); otherwise ``trials`` regenerative cycles
    (default :data:`~mcsim.points.DEFAULT_TRIALS`).  ``workload="open"`` is the open model.

    >>> res = simulate(policy="hold", trials=1000, seed=1, p99_rel_ci=0.2)
    >>> res.trials > 1000, res.extra["p99_rel_ci_met"], res.row()["hp_wait_p99_rel_ci"] <= 0.2
    (True, True, True)
    """
    wl = workload_of(workload)
    config = (wl.config(params, **overrides) if wl is not None
              else validate(params, **overrides))
    point = PointSpec.make(config, seed=seed, trials=trials, p99_rel_ci=p99_rel_ci,
                           max_trials=max_trials, command="", workload=wl)
    return simulate_point(point, workers=workers, engine=engine, progress=progress)


def run_script(tasks: Iterable[Mapping], params: Mapping | None = None, *,
               engine: str = "compiled", **overrides) -> ScriptResult:
    """Run a scripted interleaving: no randomness, every duration given.

    ``tasks`` lists dicts with ``at``, ``kind`` (hp_read, writer, fault, bg_io) and the
    kind's durations (see :func:`mcsim.scenario.compile_script`).  Model parameters such as
    ``kernel`` (a preset of ``mcsim kernels``), ``policy``, ``era``, ``wake`` and
    ``throttle_depth`` apply; the random ones are unused.  With a kernel preset, the
    result's ``kernel`` names the preset and ``label`` names the run either way.

    >>> r = run_script([{"at": 0, "kind": "bg_io", "bio": "9.9ms"},
    ...                 {"at": 0, "kind": "fault", "fault": "miss", "bio": "100us"},
    ...                 {"at": "1ms", "kind": "writer", "hold": "50us"},
    ...                 {"at": "2ms", "kind": "hp_read", "hold": "10us"}],
    ...                policy="stock-4.19")
    >>> r.hp_waits()
    [7950000]
    """
    cfg = validate(params, **overrides)
    check_engine(engine)
    scenario = compile_scenario(cfg)
    rows = compile_script(tasks)
    if engine == "reference":
        from .reference import ReferenceEngine

        done_tasks, timeline = ReferenceEngine(scenario).run_script(rows)
        out = [ScriptTask(t.id, TASK_KINDS[t.kind], list(t.waits), t.done)
               for t in done_tasks]
    else:
        from .engine import compiled_engine

        raw = compiled_engine().run_script(scenario, rows)
        most = raw["waits"].shape[1]         # waits recorded per task: 2 before VMA locks
        out = [ScriptTask(i, TASK_KINDS[int(rows[i]["kind"])],
                          [int(w) for w in raw["waits"][i][: min(most, raw["nwaits"][i])]],
                          int(raw["done"][i])) for i in range(len(rows))]
        timeline = sorted((tuple(int(x) for x in r) for r in raw["timeline"]),
                          key=lambda r: (r[0], r[2], r[1]))
    return ScriptResult(policy=cfg["policy"], tasks=out, timeline=list(timeline),
                        kernel=cfg["kernel"])
