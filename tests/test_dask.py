"""The Dask executor: a sweep on a LocalCluster, on a scheduler and workers started from the
command line with a scheduler file, and through the death of a worker, gives the local
sweep's table.  Every wait is bounded; every process started here is killed at the end."""
import json
import logging
import os
import signal
import subprocess
import sys
import time

import pytest
from clitools import REPO, cli, comparable_rows, mcsim_process

distributed = pytest.importorskip("distributed")

import mcsim  # noqa: E402
from mcsim import dataset  # noqa: E402
from mcsim.executors import run_sweep  # noqa: E402
from mcsim.sweep import SweepSpec, parse_values  # noqa: E402


#: 2 policies x 2 depths with a precision target that adds blocks (as in test_sweep.py).
GRID = ["--policy", "hold,stock-4.19", "--throttle-depth", "6..7", "--trials", "3000",
        "--seed", "11", "--p99-rel-ci", "0.5", "--max-trials", "140000"]


@pytest.fixture
def cluster():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None, silence_logs=logging.ERROR,
                                  memory_limit="2GiB") as cluster:
        yield cluster


def local_reference(capsys, out):
    code, _, err = cli(capsys, "sweep", *GRID, "--workers", "1", "--out", out)
    assert code == 0, err
    return comparable_rows(mcsim.load(out))


def test_local_cluster_sweep_equals_local_sweep(capsys, tmp_path, cluster):
    code, out, err = cli(capsys, "sweep", *GRID, "--executor", "dask", "--scheduler",
                         cluster.scheduler_address, "--out", tmp_path / "dask", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert (doc["points"], doc["computed"], doc["executor"]) == (4, 4, "dask")
    assert comparable_rows(mcsim.load(tmp_path / "dask")) == local_reference(
        capsys, tmp_path / "ref")
    again = json.loads(cli(capsys, "sweep", *GRID, "--executor", "dask", "--scheduler",
                           cluster.scheduler_address, "--out", tmp_path / "dask",
                           "--json")[1])
    assert (again["computed"], again["skipped"]) == (0, 4)


def _stop(proc):
    if proc.poll() is None:
        with _suppress():
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with _suppress():
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
    else:                       # the leader is gone; its group may not be
        with _suppress():
            os.killpg(proc.pid, signal.SIGKILL)


class _suppress:
    def __enter__(self):
        return self

    def __exit__(self, typ, *_):
        return typ is not None and issubclass(typ, ProcessLookupError)


@pytest.fixture
def dask_cli_cluster(tmp_path):
    """``dask scheduler`` and ``dask worker --nworkers 2`` sharing a scheduler file."""
    sched_file = tmp_path / "scheduler.json"
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    common = {"env": env, "cwd": tmp_path, "start_new_session": True,
              "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    procs = [subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler",
                               "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                               "--scheduler-file", str(sched_file)], **common)]
    try:
        deadline = time.monotonic() + 30
        while not sched_file.is_file() and time.monotonic() < deadline:
            assert procs[0].poll() is None, "dask scheduler exited"
            time.sleep(0.05)
        assert sched_file.is_file(), "no scheduler file after 30 s"
        procs.append(subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker",
                                       "--scheduler-file", str(sched_file), "--nworkers", "2",
                                       "--nthreads", "1", "--host", "127.0.0.1",
                                       "--no-dashboard"], **common))
        yield sched_file
    finally:
        for proc in reversed(procs):
            _stop(proc)


def test_scheduler_file_cli_cluster(capsys, tmp_path, dask_cli_cluster):
    proc = mcsim_process("sweep", *GRID, "--executor", "dask", "--scheduler-file",
                         dask_cli_cluster, "--connect-timeout", "20", "--out",
                         tmp_path / "dask", "--json", start_new_session=True)
    try:
        out, err = proc.communicate(timeout=90)
    finally:
        _stop(proc)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert json.loads(out)["computed"] == 4
    assert comparable_rows(mcsim.load(tmp_path / "dask")) == local_reference(
        capsys, tmp_path / "ref")


#: Six points of ~0.3 s each, so a worker is busy when it is killed.
SLOW = SweepSpec(grid={"policy": parse_values("policy", "hold,stock-4.19,rfc-v1"),
                       "throttle_depth": [6, 7]}, trials=1_500_000, seed=4)


def test_killed_worker_mid_sweep_is_survived(tmp_path, cluster):
    points = SLOW.points(command="")
    with distributed.Client(cluster, set_as_default=False) as client:
        pids = sorted(client.run(os.getpid).values())
        assert len(pids) == 2
        killed = []

        def progress(done, total):
            if done == 1 and not killed:
                os.kill(pids[0], signal.SIGKILL)
                killed.append(pids[0])

        report = run_sweep(points, tmp_path / "dask", executor="dask", progress=progress,
                           executor_options={"scheduler": cluster.scheduler_address,
                                             "connect_timeout": 20})
        assert killed and len(report.computed) == 6 and not report.failed
        client.wait_for_workers(2, timeout=30)                    # the nanny restarted it
        assert pids[0] not in client.run(os.getpid).values()
    files = sorted((tmp_path / "dask").iterdir())
    assert len(files) == 6
    assert all(dataset.point_file_is_valid(f, f.name[6:-8]) for f in files)
    run_sweep(points, tmp_path / "ref", workers=1)
    assert comparable_rows(mcsim.load(tmp_path / "dask")) == comparable_rows(
        mcsim.load(tmp_path / "ref"))


def test_unreachable_scheduler_is_one_line_exit_4(capsys, tmp_path):
    code, _, err = cli(capsys, "sweep", *GRID, "--executor", "dask", "--scheduler",
                       "tcp://127.0.0.1:1", "--connect-timeout", "1", "--out", tmp_path)
    assert code == 4 and err.count("\n") == 1 and "cannot connect" in err
    code, _, err = cli(capsys, "sweep", *GRID, "--executor", "dask", "--scheduler-file",
                       tmp_path / "missing.json", "--out", tmp_path)
    assert code == 4 and err.count("\n") == 1 and "missing.json" in err
    code, _, err = cli(capsys, "sweep", *GRID, "--executor", "dask", "--scheduler",
                       "foo://x:1", "--out", tmp_path)
    assert code == 2 and err.count("\n") == 1 and "allowed" in err
    code, _, err = cli(capsys, "sweep", *GRID, "--executor", "dask", "--out", tmp_path)
    assert code == 2 and "--scheduler" in err
    code, _, err = cli(capsys, "sweep", *GRID, "--scheduler", "tcp://x:1", "--out", tmp_path)
    assert code == 2 and "--executor dask" in err


def test_missing_dask_names_the_extra(capsys, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)        # import fails
    code, _, err = cli(capsys, "sweep", *GRID, "--executor", "dask", "--scheduler",
                       "tcp://127.0.0.1:1", "--out", tmp_path)
    assert code == 2 and err.count("\n") == 1 and "pip install 'mcsim[dask]'" in err


def test_a_stopping_sweep_silences_the_loggers_distributed_gives_levels_of_their_own():
    """distributed sets tornado.application to ERROR and distributed.client to WARNING
    (distributed/config.py), so a level on tornado or distributed alone let a stopped
    sweep's closed comm print a traceback on stderr (test_signals' SIGTERM test saw
    one).  The executor's stop raises them all."""
    from mcsim.executors import DaskExecutor

    class Inner:
        def shutdown(self, wait=True):
            pass

    class Client:
        def get_executor(self, pure):
            return Inner()

        def close(self, timeout):
            pass

    names = ["distributed", "distributed.client", "tornado", "tornado.application"]
    saved = {n: logging.getLogger(n).level for n in names}
    try:
        for name in names:
            logging.getLogger(name).setLevel(logging.WARNING)
        DaskExecutor(Client()).shutdown(cancel_futures=True)
        assert {n: logging.getLogger(n).level for n in names} == dict.fromkeys(
            names, logging.CRITICAL)
    finally:
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)
