"""Signals, closed pipes and a full disk: a sweep's process tree dies together, SIGTERM
and Ctrl-C end a command with exit 130 and one line, finished points are kept and a rerun
gives the uninterrupted result, and nothing ends in a traceback.

Every process started here is killed by process group in a ``finally``, even when the
test fails; each wait is bounded."""
import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest
from clitools import REPO, cli_json, comparable_rows, mcsim_process

import mcsim
from mcsim import dataset

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(),
                                reason="needs Linux /proc to follow the process tree")

#: Six points of about 0.3 s each on one core: on two workers, a sweep has at least two
#: rounds of points left when its first point file appears.
SLOW = ["--policy", "hold,stock-4.19,rfc-v2", "--throttle-depth", "6,7", "--trials",
        "300000", "--seed", "5", "--quiet"]
N_SLOW = 6


def _stat(pid: int) -> tuple[int, int, str] | None:
    """(parent pid, process group, state) of a live process, None if it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2:].split()
    return int(fields[1]), int(fields[2]), fields[0]


def _alive(pid: int) -> bool:
    stat = _stat(pid)
    return stat is not None and stat[2] != "Z"


def _all_pids() -> list[int]:
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def descendants(pid: int) -> set[int]:
    """Every live process below ``pid``."""
    children: dict[int, list[int]] = {}
    for other in _all_pids():
        stat = _stat(other)
        if stat is not None:
            children.setdefault(stat[0], []).append(other)
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return {p for p in found if _alive(p)}


def group_members(pgid: int) -> set[int]:
    return {p for p in _all_pids() if (s := _stat(p)) and s[1] == pgid and s[2] != "Z"}


def wait_until(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"not within {timeout} s: {what}")


@contextmanager
def started(*args, **kwargs):
    """A process in its own session (so its group can be killed); killed at the end."""
    proc = (subprocess.Popen(args[0], start_new_session=True, **kwargs) if args
            and isinstance(args[0], list) else mcsim_process(*args, start_new_session=True,
                                                              **kwargs))
    try:
        yield proc
    finally:
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        for pid in group_members(proc.pid):
            with suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        with suppress(subprocess.TimeoutExpired):
            proc.communicate(timeout=10)


def point_files(directory: Path) -> list[Path]:
    return sorted(directory.glob("point-*.parquet")) if directory.is_dir() else []


def wait_for_workers_and_a_point(proc, out: Path) -> set[int]:
    """Wait for the first point file; return the sweep's worker processes then."""
    wait_until(lambda: point_files(out) or proc.poll() is not None, 90, "a point file")
    assert proc.poll() is None, "the sweep ended before it could be stopped"
    workers = {p for p in descendants(proc.pid)
               if b"spawn_main" in Path(f"/proc/{p}/cmdline").read_bytes()}
    assert len(workers) == 2, workers
    return workers


def assert_gone(pids: set[int], timeout: float = 5.0) -> None:
    wait_until(lambda: not any(_alive(p) for p in pids), timeout,
               f"processes {sorted(p for p in pids if _alive(p))} to end")


def assert_complete_files_only(out: Path) -> list[Path]:
    files = point_files(out)
    assert all(dataset.point_file_is_valid(f, f.name[6:-8]) for f in files)
    assert sorted(out.iterdir()) == files                  # nothing else in the directory
    staging = dataset.staging_dir_for_dataset(out)
    assert not staging.exists() or not list(staging.iterdir())
    return files


def test_kill_9_of_the_parent_ends_its_workers_and_frees_the_pipe(tmp_path):
    out = tmp_path / "out"
    with started("sweep", *SLOW, "--workers", "2", "--out", out) as proc:
        tree = descendants(proc.pid)
        workers = wait_for_workers_and_a_point(proc, out)
        tree |= descendants(proc.pid)
        proc.kill()
        assert_gone(tree | workers)
        # No worker holds stdout or stderr: both reach end of file at once.
        stdout, stderr = proc.communicate(timeout=5)
        assert proc.returncode == -signal.SIGKILL and "Traceback" not in stderr


def test_sigterm_keeps_finished_points_and_a_rerun_gives_the_uninterrupted_table(
        capsys, tmp_path):
    out = tmp_path / "out"
    with started("sweep", *SLOW, "--workers", "2", "--out", out) as proc:
        workers = wait_for_workers_and_a_point(proc, out)
        proc.send_signal(signal.SIGTERM)                  # the parent only, as `kill` does
        stdout, stderr = proc.communicate(timeout=30)
        assert proc.returncode == 130
        assert stderr.count("\n") == 1 and stderr.startswith("mcsim: error: interrupted")
        assert "SIGTERM" in stderr and "Traceback" not in stderr and stdout == ""
        assert_gone(workers)
    files = assert_complete_files_only(out)
    assert 1 <= len(files) < N_SLOW
    doc = cli_json(capsys, "sweep", *SLOW, "--workers", "1", "--out", out)
    assert (doc["skipped"], doc["computed"]) == (len(files), N_SLOW - len(files))
    ref = cli_json(capsys, "sweep", *SLOW, "--workers", "1", "--out", tmp_path / "ref")
    assert ref["computed"] == N_SLOW
    assert comparable_rows(mcsim.load(out)) == comparable_rows(mcsim.load(tmp_path / "ref"))


def test_timeout_signalling_the_whole_group_leaves_no_process(tmp_path):
    """`timeout` (like a batch scheduler) sends SIGTERM to mcsim and then to its process
    group: workers included, and mcsim itself twice."""
    out = tmp_path / "out"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    command = ["timeout", "-s", "TERM", "120", sys.executable, "-m", "mcsim", "sweep", *SLOW,
               "--workers", "2", "--out", str(out)]
    with started(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                 text=True) as proc:
        sweep = wait_until(lambda: [p for p in descendants(proc.pid)
                                    if _stat(p) and _stat(p)[0] == proc.pid], 30, "mcsim")
        wait_until(lambda: point_files(out) or proc.poll() is not None, 90, "a point file")
        proc.send_signal(signal.SIGTERM)          # timeout passes it on, as on expiry
        _, stderr = proc.communicate(timeout=30)
        assert proc.returncode == 130, stderr          # mcsim's own exit status
        assert stderr.count("\n") == 1 and "interrupted (SIGTERM)" in stderr
        assert_gone(set(sweep) | group_members(proc.pid))
    assert_complete_files_only(out)


def test_a_later_signal_during_a_slow_clean_up_exits_at_once():
    """The first signal interrupts; a second one more than a second later (the user
    insists) ends the process at once, with one line and exit 130.  (A second delivery
    within the second is ignored: the timeout test above sends two.)"""
    code = ("import signal, time\n"
            "from mcsim.cli import signals\n"
            "signals.install()\n"
            "try:\n"
            "    signal.raise_signal(signal.SIGTERM)\n"
            "except KeyboardInterrupt:\n"
            "    time.sleep(signals.DUPLICATE_WINDOW_S + 0.2)\n"
            "    signal.raise_signal(signal.SIGTERM)   # duplicate window over: exit now\n"
            "    time.sleep(30)\n")
    env = dict(os.environ, PYTHONPATH=str(REPO))
    with started([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE,
                 stderr=subprocess.PIPE, text=True) as proc:
        _, stderr = proc.communicate(timeout=20)
        assert proc.returncode == 130
        assert stderr == ("mcsim: error: interrupted (SIGTERM); finished sweep points are "
                          "kept, run the same command again to resume\n")


def _shell(command: str, timeout: float = 60) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run(["bash", "-c", command], env=env, capture_output=True, text=True,
                          timeout=timeout, cwd=REPO)


def test_closed_stdout_and_stderr_are_not_an_error_and_no_file_takes_their_place(
        tmp_path):
    result = _shell(f"{sys.executable} -m mcsim run --trials 2000 --out {tmp_path}/r.parquet"
                    " >&- 2>&-; echo $?")
    assert result.stdout == "0\n" and result.stderr == ""
    # The result file did not get descriptor 1 or 2 (the table would have gone into it).
    key = dataset.read_file_metadata(tmp_path / "r.parquet")["point_key"]
    assert dataset.point_file_is_valid(tmp_path / "r.parquet", key)


@pytest.mark.parametrize("args", [["params"], ["run", "--trials", "2000", "--json"]])
def test_a_reader_that_goes_away_ends_the_command_quietly(args):
    with started(*args) as proc:
        proc.stdout.close()                           # before mcsim writes: EPIPE
        stderr = proc.stderr.read()
        assert proc.wait(timeout=60) == 0 and stderr == ""


def test_full_disk_exits_4_with_one_line_and_leaves_complete_files_only(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=300k", "tmpfs", str(mnt)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        out = mnt / "out"                       # point files are ~100 kB: two fit
        with started("sweep", "--policy", "all", "--trials", "2000", "--workers", "2",
                     "--quiet", "--out", out) as proc:
            _, stderr = proc.communicate(timeout=60)
        assert proc.returncode == 4
        assert stderr.count("\n") == 1 and "No space left on device" in stderr
        assert "Traceback" not in stderr
        assert len(assert_complete_files_only(out)) < 5
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def test_sigterm_cancels_a_dask_sweep_cleanly(tmp_path):
    distributed = pytest.importorskip("distributed")
    import logging

    out = tmp_path / "out"
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  protocol="tcp",
                                  dashboard_address=":0",
                                  silence_logs=logging.CRITICAL) as cluster:
        with started("sweep", *SLOW, "--executor", "dask", "--scheduler",
                     cluster.scheduler_address, "--out", out) as proc:
            wait_until(lambda: point_files(out) or proc.poll() is not None, 90,
                       "a point file")
            assert proc.poll() is None, "the sweep ended before it could be stopped"
            proc.send_signal(signal.SIGTERM)
            _, stderr = proc.communicate(timeout=30)
            assert proc.returncode == 130 and stderr.count("\n") == 1, stderr
            assert "interrupted (SIGTERM)" in stderr and "Traceback" not in stderr
        # The scheduler forgets the sweep's tasks (those running finish, unwanted).
        wait_until(lambda: not cluster.scheduler.tasks, 20, "the scheduler to drop the tasks")
    files = assert_complete_files_only(out)
    assert 1 <= len(files) <= N_SLOW


def test_sigterm_of_a_run_says_that_nothing_was_written(tmp_path):
    """`mcsim run` keeps no partial result: its message must not promise resumable
    points, and no output file may appear."""
    out = tmp_path / "r.parquet"
    with started("run", "--trials", "100000000", "--workers", "1", "--out", out) as proc:
        # The compiled engine is mapped once the command is past start-up and simulating.
        wait_until(lambda: "_engine" in Path(f"/proc/{proc.pid}/maps").read_text(), 60,
                   "the engine loaded")
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=30)
        assert proc.returncode == 130, stderr
        assert stderr == "mcsim: error: interrupted (SIGTERM); nothing was written\n"
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_a_swallowed_interrupt_is_raised_again_between_steps():
    """If the first Interrupted is lost (raised where a caller cannot pass it on), the
    next step of a long loop raises it again, so the command still stops."""
    from mcsim.cli import signals as sig

    previous = sig.install()
    try:
        sig.raise_pending()                                  # nothing pending
        try:
            sig._on_signal(signal.SIGTERM, None)
        except sig.Interrupted:
            pass                                             # lost on the way
        with pytest.raises(sig.Interrupted) as info:
            sig.raise_pending()
        assert info.value.signame == "SIGTERM"
    finally:
        sig.restore(previous)
        sig._state.update(first=None, signum=None, reported=False)
