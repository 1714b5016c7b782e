"""Run the reproducer: mount the FUSE file system in a temporary directory, start the
target and the reader, wait for them, and always stop what was started (by PID) and
unmount what was mounted, also on errors, Ctrl-C and SIGTERM."""
from __future__ import annotations

import json
import os
import selectors
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import McsimError
from .build import Binaries, build_reproducer
from .prereq import require
from .spec import RunSpec

QUANTILES = (("p50", 50), ("p90", 90), ("p99", 99))


class ReproError(McsimError):
    """A reproducer program failed or did not answer in time; the message says which."""

    exit_code = 1


@dataclass
class RunResult:
    """What one run measured: per-read latencies of the cmdline reader, per-iteration
    latencies of the fault and writer loops (ns), and how long each loop ran.

    >>> r = RunResult(RunSpec(), np.array([1e6, 3e6]), np.array([2e7]), np.array([]), 1.0, 1.0)
    >>> r.quantiles("read")["p50"], r.rates()["reads_per_s"]
    (2.0, 2.0)
    """

    spec: RunSpec
    read_ns: np.ndarray
    fault_ns: np.ndarray
    writer_ns: np.ndarray
    target_elapsed_s: float
    reader_elapsed_s: float
    kernel: str = field(default_factory=lambda: os.uname().release)
    #: The pids of the run's processes ("server", "target", "reader"), which pick the
    #: reader's reads and the target's mm out of a trace recorded around the run.
    pids: dict = field(default_factory=dict)
    #: The fault loop's calls before each fault (ns, one per fault, in fault_ns's order):
    #: ``sync_file_range()`` on mkwrite, ``madvise()`` and ``posix_fadvise()`` on retry.
    lead_ns: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    #: The FUSE server's CPU time per READ or WRITE at its arrival (ns; repro/fusedelay.c).
    server_cpu_ns: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))

    def quantiles(self, which: str) -> dict[str, float]:
        """p50, p90, p99 and max in ms of "read", "fault" or "writer" latencies (NaN when
        there is none)."""
        a = getattr(self, f"{which}_ns") / 1e6
        if a.size == 0:
            return {**{k: float("nan") for k, _ in QUANTILES}, "max": float("nan"), "n": 0}
        out = {k: float(np.percentile(a, q)) for k, q in QUANTILES}
        return {**out, "max": float(a.max()), "n": int(a.size)}

    def rates(self) -> dict[str, float]:
        """Loop throughputs: reads, fault-loop and writer-loop iterations per second."""
        return {"reads_per_s": self.read_ns.size / self.reader_elapsed_s,
                "faults_per_s": self.fault_ns.size / self.target_elapsed_s,
                "writes_per_s": self.writer_ns.size / self.target_elapsed_s}


def _mounted(path: str) -> bool:
    with open("/proc/self/mountinfo") as f:
        return any(line.split()[4] == path for line in f)


def _readline(proc: subprocess.Popen, timeout: float, what: str) -> str:
    """The first stdout line of proc, or ReproError if it exits or is silent too long."""
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    try:
        if not sel.select(timeout):
            raise ReproError(f"{what} did not start within {timeout:.0f}s")
        line = proc.stdout.readline()
    finally:
        sel.close()
    if not line:
        err = (proc.stderr.read() or "").strip().splitlines()
        raise ReproError(f"{what} exited ({proc.wait()}): {err[-1] if err else 'no message'}")
    return line.strip()


def _stop(proc: subprocess.Popen | None, sig=signal.SIGTERM, grace: float = 3.0) -> None:
    """Stop one started process by its PID: sig, then SIGKILL after grace seconds."""
    if proc is None or proc.poll() is not None:
        return
    try:
        proc.send_signal(sig)
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            pass        # in D state on the FUSE mount: unmounting below aborts it


def _unmount(mnt: str) -> None:
    if not _mounted(mnt):
        return
    cmd = (["fusermount3", "-u", "-z", mnt] if shutil.which("fusermount3")
           else ["umount", "-l", mnt])
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30)
    if _mounted(mnt):
        subprocess.run(["umount", "-l", mnt], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=30)


@contextmanager
def _sigterm_as_interrupt():
    """Within the block, SIGTERM raises KeyboardInterrupt as Ctrl-C does, so the cleanup
    of `run` runs for both (only the main thread can set a handler)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    def handler(signum, frame):
        raise KeyboardInterrupt
    old = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


def _popen(args, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen([str(a) for a in args], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **env} if env else None)


def _server_samples(path: str) -> np.ndarray:
    """The FUSE server's per-request CPU times, written as it exits (empty if it wrote
    none: killed, or an older build)."""
    try:
        return np.asarray(json.loads(Path(path).read_text())["recv_cpu_ns"], dtype=np.int64)
    except (OSError, ValueError, KeyError):
        return np.zeros(0, np.int64)


def measure_wakeup(n: int = 2000, gap: str = "1ms", binaries: Binaries | None = None,
                   pinned: bool = False, sleep: bool = False,
                   cross: bool = False) -> np.ndarray:
    """The scheduler's wake-up latency on this machine (ns, one per wake-up): a thread
    blocked in read() on a pipe, woken every `gap` by another thread's write, measured
    from the write to the sleeper running.  Needs the compiler, not root.

    That is the idle path of docs/model.md §14.2.  ``pinned`` measures the busy path
    (§14.3) instead: both threads on one CPU, the waker blocking right after its write, so
    a sample is the waker's way to sleep plus the context switch to the sleeper.
    ``cross`` measures a wake-up onto another, idle CPU (§14.8's ``wake_remote``): the
    waker pinned to one CPU, the sleeper to another, the waker sleeping ``gap`` after each
    write (needs two CPUs this process may run on).
    ``sleep`` measures how long a think time of ``gap`` really sleeps instead (one thread,
    nanosleep(): the timer's slack and the wake-up included), what the reproducer's loops
    sleep between iterations.

    >>> w = measure_wakeup(200)                 # doctest: +SKIP
    >>> 0 < np.median(w) < 1e6                   # doctest: +SKIP
    True
    """
    from ..units import parse_duration
    if not 1 <= n <= 10**6:
        from ..errors import ParameterError
        raise ParameterError("n", n, "1 to 1,000,000", "is out of range")
    binaries = binaries or build_reproducer()
    with tempfile.TemporaryDirectory(prefix="mcsim-wake-") as tmp:
        out = os.path.join(tmp, "wake.json")
        gap_us = parse_duration(gap, "gap") // 1000
        res = subprocess.run([str(binaries.wake), f"n={n}", f"gap_us={gap_us}", f"out={out}",
                              f"pin={2 if cross else int(pinned)}", f"sleep={int(sleep)}"],
                             capture_output=True, text=True,
                             timeout=30 + n * (gap_us / 1e6) * 2)
        if res.returncode != 0:
            raise ReproError(f"the wake-up probe failed ({res.returncode}): "
                             f"{res.stderr.strip()[-200:]}")
        return np.asarray(json.loads(Path(out).read_text())["wake_ns"], dtype=np.int64)


def timer_slack_ns(path: str = "/proc/self/timerslack_ns") -> int | None:
    """This process's timer slack (ns; None where the kernel does not show it, before
    4.6): what its children, the reproducer's processes and threads, inherit
    (``kernel/fork.c: copy_process()`` copies the task, ``timer_slack_ns`` with it) and
    what each ``nanosleep()`` of theirs adds to its timer's range
    (``kernel/time/hrtimer.c: hrtimer_nanosleep()``); 50,000 ns unless changed
    (``init/init_task.c``).

    >>> timer_slack_ns() is None or timer_slack_ns() >= 0
    True
    >>> timer_slack_ns("/nonexistent") is None
    True
    """
    try:
        return int(Path(path).read_text().strip())
    except (OSError, ValueError):
        return None


def run(spec: RunSpec, binaries: Binaries | None = None, workdir: str | None = None
        ) -> RunResult:
    """Run `spec` on this kernel and return what it measured.  Needs root, /dev/fuse, a C
    compiler and the libfuse3 headers (`PrerequisiteError` names what is missing).  Every
    process started is stopped by its PID and the mount is gone when this returns or
    raises.

    >>> res = run(RunSpec(path="retry", delay="5ms", duration="1s"))   # doctest: +SKIP
    >>> res.quantiles("read")["p99"] > 4                               # doctest: +SKIP
    True
    """
    require()
    binaries = binaries or build_reproducer()
    args = spec.args()
    d_s = spec.delay_ns / 1e9
    tmp = tempfile.mkdtemp(prefix="mcsim-repro-", dir=workdir)
    mnt = os.path.join(tmp, "mnt")
    os.mkdir(mnt)
    server = target = reader = None
    server_out = os.path.join(tmp, "server.json")
    server_cpu = np.zeros(0, np.int64)
    try:
        with _sigterm_as_interrupt():
            server = _popen([binaries.fusedelay, *args["fusedelay"], mnt, "-f"],
                            env={"MCSIM_SERVER_OUT": server_out})
            if _readline(server, 15, "the FUSE server") != "mounted" or not _mounted(mnt):
                raise ReproError(f"the FUSE server did not mount {mnt}")
            target = _popen([binaries.target, f"file={mnt}/data", f"out={tmp}/target.json",
                             *args["target"]])
            line = _readline(target, 15 + 4 * d_s, "the target")
            reader = _popen([binaries.reader, f"pid={line.split()[-1]}",
                             f"out={tmp}/reader.json", *args["reader"]])
            pids = {"server": server.pid, "target": target.pid, "reader": reader.pid}
            deadline = time.monotonic() + spec.duration_ns / 1e9 + 15 + 4 * d_s
            for proc, what in ((reader, "the reader"), (target, "the target")):
                try:
                    code = proc.wait(max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    raise ReproError(f"{what} did not finish in time") from None
                if code != 0:
                    err = (proc.stderr.read() or "").strip().splitlines()
                    raise ReproError(f"{what} failed ({code}): {err[-1] if err else ''}")
            t = json.loads(Path(tmp, "target.json").read_text())
            r = json.loads(Path(tmp, "reader.json").read_text())
    finally:
        _stop(reader)
        _stop(target)
        _stop(server)          # libfuse unmounts on SIGTERM; aborts any request in flight
        server_cpu = _server_samples(server_out)
        _unmount(mnt)
        _stop(target, signal.SIGKILL)
        for proc in (server, target, reader):
            if proc is not None:
                for stream in (proc.stdout, proc.stderr):
                    stream.close()
        shutil.rmtree(tmp, ignore_errors=True)
    return RunResult(spec, np.asarray(r["read_ns"], dtype=np.int64),
                     np.asarray(t["fault_ns"], dtype=np.int64),
                     np.asarray(t["writer_ns"], dtype=np.int64),
                     t["elapsed_ns"] / 1e9, r["elapsed_ns"] / 1e9, pids=pids,
                     lead_ns=np.asarray(t.get("lead_ns", []), dtype=np.int64),
                     server_cpu_ns=server_cpu)
