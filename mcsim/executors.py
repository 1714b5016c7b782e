"""Run a sweep's points on an executor, skipping those already on disk.

The driver, :func:`run_sweep`, only speaks :class:`concurrent.futures.Executor`: it submits
:func:`mcsim.points.run_point` for each missing point and collects the small summaries as
they finish.  Executors are looked up by name in :data:`EXECUTORS`; ``local`` is a process
pool (one single-threaded point per process), or this very process for one worker;
``dask`` connects to a running Dask scheduler (``pip install 'mcsim[dask]'``) and runs the
points on its workers, which write their files into the (shared) output directory.
:func:`shard_points` picks one shard of a sweep for scheduler-free job arrays.

Since every point writes its own file atomically, the files are the checkpoint: Ctrl-C, a
killed run or a full disk leaves complete files only, and the next run computes the rest.

>>> import tempfile
>>> from mcsim.sweep import SweepSpec
>>> points = SweepSpec(params={"policy": "hold"}, grid={"throttle_depth": [6, 7]},
...                    trials=3000).points(command="")
>>> out = tempfile.mkdtemp()
>>> report = run_sweep(points, out, workers=1)
>>> len(report.computed), len(report.skipped)
(2, 0)
>>> len(run_sweep(points, out, workers=1).skipped)
2
"""
from __future__ import annotations

import multiprocessing
import os
import signal
import time
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .errors import ClusterError, McsimError, SimulationError, UsageError
from .points import PointSpec, run_point


class InlineExecutor(Executor):
    """Runs each submitted call at once, on the calling thread (``--workers 1``)."""

    def submit(self, fn, /, *args, **kwargs) -> Future:
        future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as exc:     # KeyboardInterrupt and SystemExit propagate
            future.set_exception(exc)
        return future


def _worker_init() -> None:
    # Ctrl-C reaches the whole process group; only the parent reacts (it stops the pool).
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def local_executor(workers: int, **options) -> Executor:
    """This process for one worker, else a pool of ``workers`` spawned processes."""
    if options:
        raise UsageError(f"--{next(iter(options)).replace('_', '-')}: only with "
                         "--executor dask; allowed: --executor dask, or leave it out")
    if workers <= 1:
        return InlineExecutor()
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_worker_init)


#: Seconds to wait for a Dask scheduler to answer unless told otherwise.
DEFAULT_CONNECT_TIMEOUT = 30.0


class DaskExecutor(Executor):
    """A :class:`distributed.Client`'s executor with ``pure=False`` (stochastic tasks are
    never deduplicated); ``shutdown`` also closes the client (the cluster keeps running).

    The futures are stdlib stdlib ``concurrent.futures.Future`` objects.  A worker that dies is
    replaced by its nanny and the scheduler reruns its tasks (up to the scheduler's
    ``distributed.scheduler.allowed-failures`` deaths per task, then ``KilledWorker``).
    """

    #: Submit every point at once: the scheduler balances them over its workers.
    window = None

    def __init__(self, client):
        self.client = client
        self._inner = client.get_executor(pure=False)

    def submit(self, fn, /, *args, **kwargs) -> Future:
        return self._inner.submit(fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        try:
            if cancel_futures:
                self._inner.shutdown(wait=False)        # cancels the pending futures
            else:
                self._inner.shutdown(wait=wait)
        finally:
            self.client.close()


def dask_executor(workers: int, *, scheduler: str | None = None,
                  scheduler_file: str | Path | None = None,
                  connect_timeout: float | None = None) -> DaskExecutor:
    """Connect to the Dask scheduler at ``scheduler`` (``tcp://host:8786``) or described by
    ``scheduler_file`` (written by ``dask scheduler --scheduler-file``).  ``workers`` is
    unused: the cluster has the workers it has.

    Raises :class:`~mcsim.errors.UsageError` without an address (or with both) or when
    ``distributed`` is not installed, :class:`~mcsim.errors.ClusterError` when the
    scheduler cannot be reached in ``connect_timeout`` seconds.
    """
    if (scheduler is None) == (scheduler_file is None):
        raise UsageError("--executor dask: give the scheduler once; allowed: --scheduler "
                         "tcp://HOST:8786 or --scheduler-file FILE")
    try:
        import distributed
    except ImportError:
        raise UsageError("--executor dask: the dask extra is not installed; allowed: "
                         "pip install 'mcsim[dask]'") from None
    timeout = DEFAULT_CONNECT_TIMEOUT if connect_timeout is None else connect_timeout
    if scheduler_file is not None:
        where = f"scheduler file {scheduler_file}"
        if not Path(scheduler_file).is_file():
            raise ClusterError(f"--scheduler-file {scheduler_file}: cannot read: no such "
                               "file (start `dask scheduler --scheduler-file FILE` first)")
        kwargs = {"scheduler_file": str(scheduler_file)}
    else:
        where = f"scheduler {scheduler}"
        kwargs = {"address": scheduler}
        try:                               # before Client(), which would leak a loop
            from distributed.comm import get_address_host, parse_address
            from distributed.comm.registry import get_backend

            get_backend(parse_address(scheduler)[0])
            get_address_host(scheduler)
        except (ValueError, TypeError) as exc:
            raise UsageError(f"--scheduler {scheduler}: {' '.join(str(exc).split())}; "
                             "allowed: an address such as tcp://HOST:8786") from None
    import logging

    try:
        with _quiet_logger("distributed", logging.CRITICAL):
            client = distributed.Client(timeout=timeout, set_as_default=False, **kwargs)
    except (ValueError, TypeError) as exc:
        raise UsageError(f"--scheduler {scheduler}: {' '.join(str(exc).split())}; allowed: "
                         "an address such as tcp://HOST:8786") from None
    except (OSError, TimeoutError) as exc:
        raise ClusterError(f"{where}: cannot connect within {timeout:g} s "
                           f"({' '.join(str(exc).split()) or type(exc).__name__})") from None
    return DaskExecutor(client)


class _quiet_logger:
    """Raise a logger's level for a while (connection retries log at ERROR)."""

    def __init__(self, name: str, level: int):
        import logging

        self.logger, self.level = logging.getLogger(name), level

    def __enter__(self):
        self.saved = self.logger.level
        self.logger.setLevel(self.level)

    def __exit__(self, *exc):
        self.logger.setLevel(self.saved)


#: Executor factories by name: ``factory(workers, **options) -> Executor``.
EXECUTORS: dict[str, Callable[..., Executor]] = {"local": local_executor,
                                                 "dask": dask_executor}


def parse_shard(text: str) -> tuple[int, int]:
    """``"I/N"`` -> ``(I, N)`` with ``0 <= I < N``.

    >>> parse_shard("1/4")
    (1, 4)
    """
    index, sep, count = str(text).partition("/")
    try:
        i, n = int(index), int(count)
    except ValueError:
        i, n = -1, 0
    if not sep or not 0 <= i < n:
        raise UsageError(f"--shard: {text!r} is not a shard; allowed: I/N with 0 <= I < N, "
                         "e.g. 0/4 ($SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT with "
                         "--array=0-3)")
    return i, n


def shard_points(points: list[PointSpec], index: int, count: int) -> list[PointSpec]:
    """The points of shard ``index`` of ``count``: those whose position among the sorted
    point keys is ``index`` mod ``count`` (in the sweep's order).  The shards are disjoint,
    their union is the sweep, and the split depends only on the set of points.

    >>> from mcsim.sweep import SweepSpec
    >>> pts = SweepSpec(grid={"throttle_depth": list(range(5))}, trials=10).points(command="")
    >>> shards = [shard_points(pts, i, 2) for i in range(2)]
    >>> len(shards[0]), len(shards[1]), {p.key for s in shards for p in s} == {p.key for p in pts}
    (3, 2, True)
    """
    keys = sorted({p.key for p in points})
    mine = {key for i, key in enumerate(keys) if i % count == index}
    return [p for p in points if p.key in mine]


def default_workers() -> int:
    """The CPU cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def stop_executor(executor: Executor) -> None:
    """Cancel what has not started and end worker processes now (after Ctrl-C)."""
    executor.shutdown(wait=False, cancel_futures=True)
    if hasattr(executor, "terminate_workers"):        # Python >= 3.14
        executor.terminate_workers()
        return
    for process in list(getattr(executor, "_processes", None) or {}.values()):
        if process.is_alive():
            process.terminate()


@dataclass
class SweepReport:
    """What a sweep did: points computed now (their summaries), found on disk, failed."""

    out_dir: Path
    points: list
    computed: list = field(default_factory=list)
    skipped: list = field(default_factory=list)
    failed: list = field(default_factory=list)     # (point, message)
    wall_s: float = 0.0


def run_sweep(points: list[PointSpec], out_dir: str | Path, *, workers: int | None = None,
              executor: str = "local", force: bool = False,
              progress: Callable[[int, int], None] | None = None,
              executor_options: dict | None = None) -> SweepReport:
    """Compute every point without a valid file in ``out_dir`` (all of them with ``force``).

    ``progress(done, total)`` is called before the first point and as each point finishes
    (``total``: the points to compute, i.e. not already on disk).  A point that cannot be
    simulated (an overloaded configuration) is reported and the others go on; any other
    error stops the sweep.  ``executor_options`` go to the executor's factory (for
    ``dask``: ``scheduler``, ``scheduler_file``, ``connect_timeout``).
    Raises :class:`~mcsim.errors.SimulationError` at the end if some points failed.
    """
    from .dataset import point_file_is_valid, prepare_dataset_dir

    if executor not in EXECUTORS:
        raise UsageError(f"--executor: {executor!r} is not an executor; allowed: "
                         f"{', '.join(EXECUTORS)}")
    started = time.perf_counter()
    out = prepare_dataset_dir(out_dir)
    report = SweepReport(out_dir=out, points=list(points))
    todo = []
    for point in points:
        if not force and point_file_is_valid(out / point.file_name, point.key):
            report.skipped.append(point)
        else:
            todo.append(point)
    workers = max(1, min(workers or default_workers(), len(todo) or 1))
    pool = EXECUTORS[executor](workers, **(executor_options or {}))
    window = getattr(pool, "window", 2 * workers) or max(1, len(todo))
    if not isinstance(pool, (InlineExecutor, ProcessPoolExecutor)):
        out = out.resolve()            # workers elsewhere may have another working dir
    try:
        _drive(pool, todo, out, window, report, progress)
    except BaseException:
        stop_executor(pool)
        raise
    pool.shutdown(wait=True)
    report.wall_s = time.perf_counter() - started
    if report.failed:
        point, message = report.failed[0]
        raise SimulationError(f"{len(report.failed)} of {len(points)} points failed, e.g. "
                              f"{point.key} ({message}); the other points are saved in {out}")
    return report


def _drive(pool: Executor, todo: list, out: Path, window: int, report: SweepReport,
           progress) -> None:
    """Keep up to ``window`` points in flight; collect them as they finish."""
    if progress:
        progress(0, len(todo))
    queue = iter(todo)
    running: dict[Future, PointSpec] = {}

    def refill():
        for point in queue:
            running[pool.submit(run_point, point, out)] = point
            if len(running) >= window:
                break

    refill()
    while running:
        done, _ = wait(running, return_when=FIRST_COMPLETED)
        for future in done:
            point = running.pop(future)
            try:
                summary = future.result()
            except SimulationError as exc:
                report.failed.append((point, str(exc)))
            except BaseException as exc:
                if type(exc).__name__ != "KilledWorker" and not isinstance(
                        exc, BrokenProcessPool):
                    raise
                raise McsimError("a worker process died (killed, or out of memory); the "
                                 f"points finished so far are saved in {out}: run the same "
                                 "command again to resume") from None
            else:
                report.computed.append(summary)
            if progress:
                progress(len(report.computed) + len(report.failed), len(todo))
        refill()
