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

import time
from typing import Callable, Iterable, Mapping

from .engine import ENGINES, block_sizes, run_blocks
from .errors import ParameterError
from .params import validate
from .points import check_run_settings, check_workers
from .result import Result, ScriptResult, ScriptTask
from .scenario import TASK_KINDS, compile_scenario, compile_script

DEFAULT_TRIALS = 1_000_000


def _check_run_args(trials, seed, workers, engine):
    check_run_settings(seed, trials, None, None)
    check_workers(workers)
    if engine not in ENGINES:
        raise ParameterError("engine", engine, "one of " + ", ".join(ENGINES))


def simulate(params: Mapping | None = None, *, trials: int = DEFAULT_TRIALS, seed: int = 0,
             workers: int = 1, engine: str = "compiled",
             progress: Callable[[int], None] | None = None, **overrides) -> Result:
    """Simulate one configuration and return its :class:`~mcsim.result.Result`.

    Parameters are those of :data:`mcsim.params.PARAMS` (``mcsim.describe_params()`` lists
    them), given as a mapping and/or keywords; durations take units (``"50us"``).  A trial
    is one regenerative cycle (model.md §4).  ``workers`` threads share the blocks of
    trials; the result is identical for any number of workers.  ``progress`` is called with
    the number of trials finished as blocks complete.
    """
    cfg = validate(params, **overrides)
    _check_run_args(trials, seed, workers, engine)
    scenario = compile_scenario(cfg)
    started = time.perf_counter()
    out = run_blocks(scenario, seed, block_sizes(trials), workers=workers, engine=engine,
                     progress=progress)
    wall = time.perf_counter() - started
    return Result(config=cfg, seed=seed, trials=trials, counters=out.counter_dict(),
                  hists=out.histograms(), wall_s=wall, workers=workers, engine=engine)


def run_script(tasks: Iterable[Mapping], params: Mapping | None = None, *,
               engine: str = "compiled", **overrides) -> ScriptResult:
    """Run a scripted interleaving: no randomness, every duration given.

    ``tasks`` lists dicts with ``at``, ``kind`` (hp_read, writer, fault, bg_io) and the
    kind's durations (see :func:`mcsim.scenario.compile_script`).  Model parameters such as
    ``policy``, ``era``, ``wake`` and ``throttle_depth`` apply; the random ones are unused.

    >>> r = run_script([{"at": 0, "kind": "bg_io", "bio": "9.9ms"},
    ...                 {"at": 0, "kind": "fault", "fault": "miss", "bio": "100us"},
    ...                 {"at": "1ms", "kind": "writer", "hold": "50us"},
    ...                 {"at": "2ms", "kind": "hp_read", "hold": "10us"}],
    ...                policy="stock-4.19")
    >>> r.hp_waits()
    [7950000]
    """
    cfg = validate(params, **overrides)
    if engine not in ENGINES:
        raise ParameterError("engine", engine, "one of " + ", ".join(ENGINES))
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
        out = [ScriptTask(i, TASK_KINDS[int(rows[i]["kind"])],
                          [int(w) for w in raw["waits"][i][: min(2, raw["nwaits"][i])]],
                          int(raw["done"][i])) for i in range(len(rows))]
        timeline = sorted((tuple(int(x) for x in r) for r in raw["timeline"]),
                          key=lambda r: (r[0], r[2], r[1]))
    return ScriptResult(policy=cfg["policy"], tasks=out, timeline=list(timeline))
