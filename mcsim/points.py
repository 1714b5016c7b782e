"""One point of a sweep: what to simulate, how long, and where its result file goes.

A :class:`PointSpec` is a validated configuration plus the run settings (seed, trials, an
optional precision target).  Its :attr:`~PointSpec.key`, a hash of exactly those, names the
point's result file, so a rerun finds points already computed.  :func:`run_point` is the
unit of work every executor runs: picklable, single-threaded, and it writes its own file
atomically, so only a small summary travels back.

With a precision target (``p99_rel_ci``), blocks of trials are added in block-index
order until the hp_wait p99's 95% interval is narrow enough
(:func:`mcsim.result.p99_rel_ci` <= target) or ``max_trials`` is reached.  The decision is
taken after each block of regenerative cycles, and for window trials (blocks of one trial)
each time the number of trials has doubled, so where a point stops depends only on the
point, never on how many workers ran it.

A point may run a workload (:mod:`mcsim.workload`): its key then includes the workload's
hash, and its trials are window trials when the workload's are.

>>> point = PointSpec.make({"policy": "rfc-v2", "writer_ratio": "0.10"}, seed=1, trials=1000)
>>> point.params["writer_ratio"], point.key == PointSpec.make(
...     {"policy": "rfc-v2", "writer_ratio": 0.1}, seed=1, trials=1000).key
(0.1, True)
>>> point.file_name
'point-...parquet'
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import shlex
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from .errors import ParameterError
from .params import DEFAULTS, IDENTITY_OMITS_DEFAULT, Config, check_param, validate

#: Trials per point unless told otherwise (the same default as :func:`mcsim.simulate`).
DEFAULT_TRIALS = 1_000_000
#: Cap on a point's trials under a precision target unless told otherwise.
DEFAULT_MAX_TRIALS = 100_000_000
#: The same two for window trials, each of which simulates ``warmup + window`` (11 s by
#: default) rather than one short regenerative cycle.
DEFAULT_WINDOW_TRIALS = 100
DEFAULT_MAX_WINDOW_TRIALS = 10_000
MAX_SEED = 2**63 - 1
#: Most trials one point may ask for (also the cap under a precision target): about two
#: days of one core at the reference scenario's ~6 M trials/s.  Checked before any work.
MAX_TRIALS = 10**12


def canonical_json(value) -> str:
    """Compact JSON with sorted keys: the same data always gives the same text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


#: Most workers (threads for a point, processes for a sweep) one run may use.
MAX_WORKERS = 256


def default_workers() -> int:
    """The CPU cores this process may use (the default number of workers).

    >>> default_workers() >= 1
    True
    """
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def check_workers(workers) -> int:
    """Return ``workers`` if it is an integer from 1 to :data:`MAX_WORKERS`, else raise."""
    if isinstance(workers, bool) or not isinstance(workers, int) \
            or not 1 <= workers <= MAX_WORKERS:
        raise ParameterError("workers", workers, f"an integer from 1 to {MAX_WORKERS}",
                             "is out of range" if isinstance(workers, int) else "is not an integer")
    return workers


def check_run_settings(seed: int, trials: int, p99_rel_ci: float | None,
                       max_trials: int | None) -> None:
    """Raise :class:`~mcsim.errors.ParameterError` for a bad seed, trial count or target."""
    def is_int(x):
        return isinstance(x, int) and not isinstance(x, bool)

    def problem(x):
        return "is out of range" if is_int(x) else "is not an integer"

    if not is_int(seed) or not 0 <= seed <= MAX_SEED:
        raise ParameterError("seed", seed, f"an integer from 0 to {MAX_SEED}", problem(seed))
    if not is_int(trials) or not 1 <= trials <= MAX_TRIALS:
        raise ParameterError("trials", trials, "an integer from 1 to 1e12", problem(trials))
    if p99_rel_ci is not None and not (isinstance(p99_rel_ci, (int, float))
                                       and not isinstance(p99_rel_ci, bool)
                                       and 0 < p99_rel_ci < math.inf):
        raise ParameterError("p99_rel_ci", p99_rel_ci, "a positive number such as 0.01 "
                             "(the p99 interval half-width relative to p99)",
                             "is out of range")
    if max_trials is not None and (not is_int(max_trials)
                                   or not trials <= max_trials <= MAX_TRIALS):
        raise ParameterError("max_trials", max_trials, f"an integer from trials ({trials}) "
                             "to 1e12", problem(max_trials))


@dataclass(frozen=True)
class PointSpec:
    """A configuration to simulate and how: build with :meth:`make` (which validates).

    ``params`` holds every parameter in canonical form (:meth:`mcsim.params.Config.public`).
    ``trials`` is the number of trials, or the minimum when ``p99_rel_ci`` is set; then
    ``max_trials`` caps the run.  ``command`` is provenance only (not part of the key).
    ``config`` is the validated :class:`~mcsim.params.Config` itself, carried along (and
    pickled to sweep workers) so that no later step validates the parameters again.
    ``workload`` is the :class:`~mcsim.workload.Workload` it runs, or None for the open
    model.
    """

    params: dict
    seed: int
    trials: int
    p99_rel_ci: float | None = None
    max_trials: int | None = None
    command: str = field(default="", compare=False)
    config: Config | None = field(default=None, compare=False, repr=False)
    workload: Any = None

    def __post_init__(self):
        if self.workload is not None:
            from .workload import load_workload

            object.__setattr__(self, "workload", load_workload(self.workload))
        if self.config is None:           # built field by field rather than by make()
            closed = self.workload is not None and self.workload.n_threads > 0
            object.__setattr__(self, "config", validate(self.params, closed_loop=closed))

    @classmethod
    def make(cls, params: Mapping, *, seed: int = 0, trials: int | None = None,
             p99_rel_ci: float | None = None, max_trials: int | None = None,
             command: str | None = None, workload=None) -> PointSpec:
        """Check the run settings and the parameters (a :class:`~mcsim.params.Config`
        is already checked: it is used as it is) and build the point.

        ``workload`` (a :class:`~mcsim.workload.Workload`, a file, a ready workload's
        name or a dict) is run instead of the open model; parameters given as a mapping
        override the workload's own ``[params]`` (a Config is taken as complete).
        ``trials`` defaults to :data:`DEFAULT_TRIALS` regenerative cycles, or
        :data:`DEFAULT_WINDOW_TRIALS` window trials.

        >>> p = PointSpec.make({}, workload="read-vs-mmap", trials=10, command="")
        >>> p.config["kernel"], p.identity()["workload"] == p.workload.hash
        ('6.18', True)
        """
        wl = None
        if workload is not None:          # the open model needs no mcsim.workload
            from .workload import workload_of

            wl = workload_of(workload)
        window = wl is not None and wl.trial_kind == "window"
        if trials is None:
            trials = DEFAULT_WINDOW_TRIALS if window else DEFAULT_TRIALS
        check_run_settings(seed, trials, p99_rel_ci, max_trials)
        if isinstance(params, Config):
            config = params
        else:
            config = wl.config(params) if wl is not None else validate(params)
        if p99_rel_ci is not None and not _has_hp_reads(config, wl):
            raise ParameterError("p99_rel_ci", p99_rel_ci, "no target when nothing makes "
                                 "HP reads (hp_rate = 0, or a workload without cmdline "
                                 "reads: no HP waits whose p99 could be made precise)",
                                 "cannot be met")
        if p99_rel_ci is None:
            max_trials = None
        elif max_trials is None:
            max_trials = max(DEFAULT_MAX_WINDOW_TRIALS if window else DEFAULT_MAX_TRIALS,
                             trials)
        return cls(config.public(), seed, trials,
                   None if p99_rel_ci is None else float(p99_rel_ci), max_trials,
                   shlex.join(sys.argv) if command is None else command, config, wl)

    def identity(self) -> dict:
        """Everything the result depends on (and the mcsim version that computed it); a
        point running a workload adds its hash (the open model's identity is unchanged).
        A parameter of :data:`~mcsim.params.IDENTITY_OMITS_DEFAULT` at its default is left
        out: added later, it changes nothing there, and stored points keep their keys."""
        from . import __version__

        params = {name: value for name, value in self.params.items()
                  if not (name in IDENTITY_OMITS_DEFAULT and value == _default_text(name))}
        out = {"mcsim": __version__, "params": params, "seed": self.seed,
               "trials": self.trials, "p99_rel_ci": self.p99_rel_ci,
               "max_trials": self.max_trials}
        if self.workload is not None:
            out["workload"] = self.workload.hash
        return out

    @property
    def key(self) -> str:
        """16 hex digits of the sha256 of :meth:`identity` in canonical JSON."""
        return hashlib.sha256(canonical_json(self.identity()).encode()).hexdigest()[:16]

    @property
    def file_name(self) -> str:
        return f"point-{self.key}.parquet"


def _default_text(name: str):
    """A parameter's default as :meth:`~mcsim.params.Config.public` writes it."""
    value = check_param(name, DEFAULTS[name])
    return value if isinstance(value, (int, float)) else str(value)


def _has_hp_reads(config: Config, wl) -> bool:
    """Whether a point makes HP reads: cmdline steps, or an open stream with hp_rate > 0."""
    if wl is None:
        return config["hp_rate"] > 0
    return wl.has_cmdline_steps or (wl.has_open and config["hp_rate"] > 0)


def check_engine(engine) -> str:
    """Return ``engine`` if it names one of :data:`mcsim.engine.ENGINES`, else raise."""
    from .engine import ENGINES

    if engine not in ENGINES:
        raise ParameterError("engine", engine, "one of " + ", ".join(ENGINES))
    return engine


def simulate_point(point: PointSpec, *, workers: int = 1, engine: str = "compiled",
                   progress: Callable[[int], None] | None = None):
    """Simulate a point and return its :class:`~mcsim.result.Result`: the one path every
    simulation takes (:func:`mcsim.simulate`, ``mcsim run``, sweeps, ``mcsim compare``).

    ``workers`` threads share the blocks; the result is the same for any number.  With a
    precision target, up to ``workers`` blocks run ahead speculatively and those past the
    stopping block are discarded.  ``engine`` is ``compiled`` or ``reference`` (the
    pure-Python twin: the same result, slowly).  ``progress`` is called with the trials
    just merged.

    >>> point = PointSpec.make({"policy": "hold"}, trials=200, seed=1, command="")
    >>> simulate_point(point, engine="reference").trials
    200
    """
    from .engine import block_sizes, run_blocks, trial_block_size
    from .result import Result
    from .scenario import TRIAL_KINDS, compile_scenario

    check_workers(workers)
    check_engine(engine)
    scenario = compile_scenario(point.config, point.workload)
    block_trials = trial_block_size(scenario)
    started = time.perf_counter()
    first = block_sizes(point.trials, block_trials=block_trials)
    total = run_blocks(scenario, point.seed, first, workers=workers, engine=engine,
                       progress=progress)
    trials, met = point.trials, None
    if point.p99_rel_ci is not None:
        extend = _extend_to_precision if block_trials > 1 else _extend_by_doubling
        trials, met = extend(scenario, point, total, len(first), workers, engine, progress)
    wall = time.perf_counter() - started
    extra = {"point_key": point.key, "p99_rel_ci_target": point.p99_rel_ci,
             "max_trials": point.max_trials, "p99_rel_ci_met": met,
             "trial_kind": TRIAL_KINDS[int(scenario[0]["trial_kind"])],
             "workload": point.workload}
    return Result(config=point.config, seed=point.seed, trials=trials,
                  counters=total.counter_dict(), hists=total.histograms(), wall_s=wall,
                  workers=workers, engine=engine, extra=extra)


def _extend_to_precision(scenario, point: PointSpec, total, next_block: int, workers: int,
                         engine: str, progress) -> tuple[int, bool]:
    """Merge more blocks into ``total``, one at a time in block order, until the hp_wait
    p99 meets the point's target or ``max_trials`` is reached; return (trials, met).

    ``workers`` blocks are computed at a time (threads); those after the block that met
    the target are dropped, so the result is that of one worker.
    """
    from .engine import BLOCK_TRIALS, run_blocks
    from .result import p99_rel_ci, precision_met

    def precise() -> bool:
        # NaN (fewer than two trials with HP reads) is not precise: more trials bring
        # HP samples (validation refuses a target when hp_rate = 0).
        return precision_met(p99_rel_ci(total.histograms()["hp_wait"]), point.p99_rel_ci)

    def run_one(block: tuple[int, int]):
        return run_blocks(scenario, point.seed, [block], engine=engine)

    trials, met = point.trials, precise()
    with ThreadPoolExecutor(workers) if workers > 1 else nullcontext() as pool:
        while not met and trials < point.max_trials:
            sizes = [min(BLOCK_TRIALS, point.max_trials - trials - i * BLOCK_TRIALS)
                     for i in range(workers)]          # the last one cut at max_trials
            batch = [(next_block + i, n) for i, n in enumerate(sizes) if n > 0]
            outputs = pool.map(run_one, batch) if pool else map(run_one, batch)
            for (block, n), out in zip(batch, outputs):
                total.add(out)
                trials, next_block = trials + n, block + 1
                if progress:
                    progress(n)
                met = precise()
                if met or trials >= point.max_trials:
                    break
    return trials, met


def _extend_by_doubling(scenario, point: PointSpec, total, next_block: int, workers: int,
                        engine: str, progress) -> tuple[int, bool]:
    """Like :func:`_extend_to_precision`, for blocks of one trial (window trials): the
    target is checked each time the trials have doubled (capped at ``max_trials``), not
    after every block, so that thousands of trials do not cost thousands of quantile
    intervals; every trial of a stretch runs, on ``workers`` threads, before the check.
    """
    from .engine import block_sizes, run_blocks
    from .result import p99_rel_ci, precision_met

    def precise() -> bool:
        return precision_met(p99_rel_ci(total.histograms()["hp_wait"]), point.p99_rel_ci)

    trials, met = point.trials, precise()
    while not met and trials < point.max_trials:
        more = min(trials, point.max_trials - trials)
        blocks = block_sizes(more, first_block=next_block, block_trials=1)
        total.add(run_blocks(scenario, point.seed, blocks, workers=workers, engine=engine,
                             progress=progress))
        trials, next_block = trials + more, next_block + more
        met = precise()
    return trials, met


def summarize(row: Mapping) -> dict:
    """The small summary of a finished point (from its result row)."""
    return {"point_key": row["point_key"], "kernel": row["kernel"], "policy": row["policy"],
            "throttle_depth": row["throttle_depth"], "writer_ratio": row["writer_ratio"],
            "trials": row["trials"], "hp_wait_p99_ns": row["hp_wait_p99_ns"],
            "hp_wait_p99_rel_ci": row["hp_wait_p99_rel_ci"],
            "p99_rel_ci_met": row["p99_rel_ci_met"], "wall_s": row["wall_s"]}


def run_point(point: PointSpec, out_dir: str | Path) -> dict:
    """Simulate ``point`` on this thread and write ``out_dir/point-<key>.parquet``
    atomically; return :func:`summarize` of its row (plus ``file``).

    This is what sweep executors run (a local process pool now, a cluster later): it is a
    plain module-level function of picklable arguments, and nothing big travels back.
    """
    from . import dataset

    result = simulate_point(point)
    path = Path(out_dir) / point.file_name
    metadata = dataset.file_metadata(command=point.command, point_key=point.key,
                                     point=canonical_json(point.identity()))
    dataset.write_table_atomic(result.to_arrow(metadata), path,
                               dataset.staging_dir_for_dataset(out_dir))
    return dict(summarize(result.row()), file=str(path))
