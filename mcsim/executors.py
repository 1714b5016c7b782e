"""Run a sweep's points on an executor, skipping those already on disk.

The driver, :func:`run_sweep`, only speaks :class:`concurrent.futures.Executor`: it submits
:func:`mcsim.points.run_point` for each missing point and collects the small summaries as
they finish.  Executors are looked up by name in :data:`EXECUTORS`; ``local`` is a process
pool (one single-threaded point per process), or this very process for one worker.  A
cluster executor (Dask's ``Client.get_executor()``) is one more entry.

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

from .errors import McsimError, SimulationError
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


def local_executor(workers: int) -> Executor:
    """This process for one worker, else a pool of ``workers`` spawned processes."""
    if workers <= 1:
        return InlineExecutor()
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_worker_init)


#: Executor factories by name: ``factory(workers) -> Executor``.
EXECUTORS: dict[str, Callable[[int], Executor]] = {"local": local_executor}


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
              progress: Callable[[int, int], None] | None = None) -> SweepReport:
    """Compute every point without a valid file in ``out_dir`` (all of them with ``force``).

    ``progress(done, total)`` is called before the first point and as each point finishes
    (``total``: the points to compute, i.e. not already on disk).  A point that cannot be
    simulated (an overloaded configuration) is reported and the others go on; any other
    error stops the sweep.
    Raises :class:`~mcsim.errors.SimulationError` at the end if some points failed.
    """
    from .dataset import point_file_is_valid, prepare_dataset_dir

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
    pool = EXECUTORS[executor](workers)
    try:
        _drive(pool, todo, out, 2 * workers, report, progress)
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
            except BrokenProcessPool:
                raise McsimError("a worker process died (killed, or out of memory); the "
                                 f"points finished so far are saved in {out}: run the same "
                                 "command again to resume") from None
            else:
                report.computed.append(summary)
            if progress:
                progress(len(report.computed) + len(report.failed), len(todo))
        refill()
