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
The local pool's workers die with the process that started them, even by ``kill -9``
(:func:`die_with_parent`), and a stopped sweep ends them at once (:func:`stop_executor`).

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

import logging
import os
import signal
import sys
import threading
import time
# multiprocessing, ctypes and the process pool load when a sweep starts one.
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from .errors import ClusterError, McsimError, SimulationError, UsageError
from .points import check_workers, default_workers, PointSpec, run_point


class InlineExecutor(Executor):
    """Runs each submitted call at once, on the calling thread (``--workers 1``)."""

    def submit(self, fn, /, *args, **kwargs) -> Future:
        future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as exc:     # KeyboardInterrupt and SystemExit propagate
            future.set_exception(exc)
        return future


#: ``prctl`` option: the signal a process gets when the thread that started it ends.
PR_SET_PDEATHSIG = 1


def _worker_init(parent: int) -> None:
    # Ctrl-C reaches the whole process group; only the parent reacts (it stops the pool).
    # SIGTERM keeps its default action: a group-wide SIGTERM (timeout, a batch scheduler)
    # ends a worker at once, and the parent stops the rest.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_parent(parent)


def die_with_parent(parent: int) -> None:
    """End this process when ``parent`` does, even by ``kill -9``, so that no worker
    outlives a killed sweep (and holds its output pipe).

    On Linux the kernel sends SIGKILL when the parent dies (``PR_SET_PDEATHSIG``); if the
    parent died before that was set, this process is already orphaned and exits now.
    Elsewhere a daemon thread polls the parent id once a second.
    """
    armed = False
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            libc = ctypes.CDLL(None, use_errno=True)
            armed = libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:
        os._exit(1)
    if not armed:
        threading.Thread(target=_exit_when_orphaned, args=(parent,), daemon=True,
                         name="mcsim-parent-watch").start()


def _exit_when_orphaned(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)


_QUIET_TRACKER = "ignore:resource_tracker:UserWarning"


def local_executor(workers: int, **options) -> Executor:
    """This process for one worker, else a pool of ``workers`` spawned processes."""
    if options:
        raise UsageError(f"--{next(iter(options)).replace('_', '-')}: only with "
                         "--executor dask; allowed: --executor dask, or leave it out")
    if workers <= 1:
        return InlineExecutor()
    # multiprocessing's resource tracker (started with the interpreter flags of this
    # process) warns about "leaked semaphores" when a killed sweep could not clean up;
    # it removes them itself, so the warning is noise in the user's terminal or log.
    if _QUIET_TRACKER not in sys.warnoptions:
        sys.warnoptions.append(_QUIET_TRACKER)
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_worker_init, initargs=(os.getpid(),))


#: Seconds to wait for a Dask scheduler to answer unless told otherwise.
DEFAULT_CONNECT_TIMEOUT = 30.0

#: Seconds to wait for a Dask client to close (a stopped sweep must not hang on it).
CLOSE_TIMEOUT = 10.0


class DaskExecutor(Executor):
    """A :class:`distributed.Client`'s executor with ``pure=False`` (stochastic tasks are
    never deduplicated); ``shutdown`` also closes the client (the cluster keeps running).

    The futures are stdlib ``concurrent.futures.Future`` objects.  A worker that dies is
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
        if cancel_futures:
            # The sweep stops (Ctrl-C, SIGTERM, an error): results still on their way are
            # not wanted, and the client's event loop would log each as a traceback.
            silence_loggers(("distributed", "tornado"))
        try:
            if cancel_futures:
                self._inner.shutdown(wait=False)        # cancels the pending futures
            else:
                self._inner.shutdown(wait=wait)
        finally:
            with _quiet_logger("distributed", logging.CRITICAL):
                self.client.close(timeout=CLOSE_TIMEOUT)


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


def silence_loggers(prefixes: tuple[str, ...], level: int = logging.CRITICAL) -> None:
    """Raise to ``level`` the loggers named ``prefixes`` and every logger below them that
    has a level of its own: distributed gives ``tornado.application`` (ERROR) and
    ``distributed.client`` (WARNING) their own, which a level on ``tornado`` or
    ``distributed`` alone does not reach (a comm closed by a stopping sweep was logged
    from ``tornado.application``).

    >>> import logging
    >>> child = logging.getLogger("mcsim_doc_parent.child"); child.setLevel(logging.ERROR)
    >>> silence_loggers(("mcsim_doc_parent",))
    >>> child.level == logging.getLogger("mcsim_doc_parent").level == logging.CRITICAL
    True
    """
    for name in list(logging.root.manager.loggerDict):
        if name in prefixes or name.startswith(tuple(p + "." for p in prefixes)):
            logger = logging.getLogger(name)
            if name in prefixes or logger.level != logging.NOTSET:
                logger.setLevel(level)
    for name in prefixes:
        logging.getLogger(name).setLevel(level)


class _quiet_logger:
    """Raise a logger's level for a while (connection retries log at ERROR)."""

    def __init__(self, name: str, level: int):
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


@contextmanager
def signals_deferred() -> Iterator[None]:
    """Hold SIGINT and SIGTERM (those with a Python handler) during the block, then pass
    the first that came on to its handler.  Only in the main thread; elsewhere a no-op.

    >>> seen = []
    >>> old = signal.signal(signal.SIGTERM, lambda signum, frame: seen.append(signum))
    >>> with signals_deferred():
    ...     signal.raise_signal(signal.SIGTERM)
    ...     held = list(seen)
    >>> held, seen == [signal.SIGTERM]
    ([], True)
    >>> _ = signal.signal(signal.SIGTERM, old)
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending: list = []
    saved = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    saved = {signum: handler for signum, handler in saved.items() if callable(handler)}
    for signum in saved:
        signal.signal(signum, lambda signum, frame: pending.append((signum, frame)))
    try:
        yield
    finally:
        for signum, handler in saved.items():
            signal.signal(signum, handler)
        if pending:
            signum, frame = pending[0]
            saved[signum](signum, frame)


def stop_executor(executor: Executor, out_dir: str | Path | None = None) -> None:
    """Cancel what has not started and end worker processes now (after Ctrl-C, SIGTERM or
    an error); then remove the temporary files the ended workers were writing."""
    # Before shutdown(), which forgets the pool's processes without waiting for them.
    processes = list((getattr(executor, "_processes", None) or {}).values())
    executor.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.terminate()
    deadline = time.monotonic() + 2.0
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
        if process.is_alive():
            process.kill()
            process.join(1.0)
    if out_dir is not None and processes:
        from .dataset import clean_staging

        clean_staging(out_dir)


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
              executor_options: dict | None = None, plan=None,
              on_point: Callable[[PointSpec, dict | None], None] | None = None
              ) -> SweepReport:
    """Compute every point without a valid file in ``out_dir`` (all of them with ``force``).

    ``progress(done, total)`` is called before the first point and as each point finishes
    (``total``: the points to compute, i.e. not already on disk); ``on_point(point,
    summary)`` as each finishes (``summary`` None if it failed).  A point that cannot be
    simulated (an overloaded configuration) is reported and the others go on; any other
    error stops the sweep.  ``executor_options`` go to the executor's factory (for
    ``dask``: ``scheduler``, ``scheduler_file``, ``connect_timeout``).  ``plan``: the
    :class:`mcsim.plan.SweepPlan` of these points if it was made already.
    Raises :class:`~mcsim.errors.SimulationError` at the end if some points failed.
    """
    if workers is not None:
        check_workers(workers)          # before any directory is made
    from concurrent.futures import ProcessPoolExecutor

    from .dataset import prepare_dataset_dir
    from .plan import plan_sweep

    if executor not in EXECUTORS:
        raise UsageError(f"--executor: {executor!r} is not an executor; allowed: "
                         f"{', '.join(EXECUTORS)}")
    started = time.perf_counter()
    out = prepare_dataset_dir(out_dir)
    if plan is None:
        plan = plan_sweep(points, out, force=force)
    report = SweepReport(out_dir=out, points=list(points), skipped=list(plan.present))
    todo = plan.todo
    workers = max(1, min(workers or default_workers(), len(todo) or 1))
    pool = EXECUTORS[executor](workers, **(executor_options or {}))
    window = getattr(pool, "window", 2 * workers) or max(1, len(todo))
    if not isinstance(pool, (InlineExecutor, ProcessPoolExecutor)):
        out = out.resolve()            # workers elsewhere may have another working dir
    try:
        _drive(pool, todo, out, window, report, progress, on_point)
    except BaseException:
        stop_executor(pool, out)
        raise
    pool.shutdown(wait=True)
    report.wall_s = time.perf_counter() - started
    if report.failed:
        point, message = report.failed[0]
        raise SimulationError(f"{len(report.failed)} of {len(points)} points failed, e.g. "
                              f"{point.key} ({message}); the other points are saved in {out}")
    return report


def _drive(pool: Executor, todo: list, out: Path, window: int, report: SweepReport,
           progress, on_point) -> None:
    """Keep up to ``window`` points in flight; collect them as they finish."""
    from concurrent.futures.process import BrokenProcessPool, ProcessPoolExecutor

    if progress:
        progress(0, len(todo))
    queue = iter(todo)
    running: dict[Future, PointSpec] = {}

    # Starting a worker process must not be cut short by Ctrl-C or SIGTERM: a process
    # started but not yet registered with the pool would be out of stop_executor's reach.
    # (In this process, submit *is* the point's computation: that stays interruptible.)
    guard = signals_deferred if isinstance(pool, ProcessPoolExecutor) else nullcontext

    def refill():
        for point in queue:
            with guard():
                running[pool.submit(run_point, point, out)] = point
            if len(running) >= window:
                break

    refill()
    while running:
        done, _ = wait(running, return_when=FIRST_COMPLETED)
        for future in done:
            point = running.pop(future)
            summary = None
            try:
                summary = future.result()
            except SimulationError as exc:
                report.failed.append((point, str(exc)))
            except BaseException as exc:
                if type(exc).__name__ != "KilledWorker" and not isinstance(
                        exc, BrokenProcessPool):
                    raise
                # A signal sent to the whole process group ends the workers too; give
                # its handler here the moment to run, so that it is reported as such.
                time.sleep(0.2)
                raise McsimError("a worker process died (killed, or out of memory); the "
                                 f"points finished so far are saved in {out}: run the same "
                                 "command again to resume") from None
            else:
                report.computed.append(summary)
            if on_point:
                on_point(point, summary)
            if progress:
                progress(len(report.computed) + len(report.failed), len(todo))
        refill()
