"""Record mmap_lock traces of a live kernel through a private tracefs instance.

``record(out, pids=..., duration_s=..., command=...)`` creates
``instances/mcsim-<pid>`` (never touching the top-level buffer's settings), enables the
mmap_lock tracepoints, ``sched_waking`` (the grant of a queued reader, see
:mod:`mcsim.trace.importer`), ``sched_switch`` (with ``sched_waking``, a holder's time
waiting for a CPU), ``sched_wakeup`` (with both, the CPU a woken task was put on:
:mod:`mcsim.trace.placement`), the ``read``/``pread64`` syscalls that frame the HP
reader's reads and the writers' ``mprotect``/``madvise``/``mmap``/``munmap``, filters them to
the given processes (every thread, and their children through ``event-fork``), streams
``trace_pipe`` to ``out`` for a duration or until a command exits, and removes the
instance in every case (normal end, error, SIGINT, SIGTERM).  A tracefs that is not
mounted is mounted at ``/sys/kernel/tracing`` and unmounted at the end; one that was
mounted stays.

The file begins with a ``# mcsim-trace:`` line naming the kernel release, the machine,
``HZ`` and the clock, which the importer copies into the result's metadata.
"""
from __future__ import annotations

import errno
import os
import platform
import signal
import subprocess
import time
from contextlib import contextmanager, suppress
from pathlib import Path

from ..errors import McsimError, UsageError

TRACEFS = Path("/sys/kernel/tracing")
LEGACY_TRACEFS = Path("/sys/kernel/debug/tracing")
LOCK_EVENTS = ("mmap_lock/mmap_lock_start_locking", "mmap_lock/mmap_lock_acquire_returned",
               "mmap_lock/mmap_lock_released")
SYSCALLS = ("read", "pread64", "mprotect", "madvise", "mmap", "munmap")
EXTRA_EVENTS = ("sched/sched_waking", "sched/sched_wakeup", "sched/sched_switch")
#: The instance's clock: monotonic and comparable across CPUs (``local`` is not).
CLOCK = "mono"
BUFFER_KB = 8192
POLL_S = 0.05
#: Recording stops when the file reaches this size (a bound on the work and the disk).
DEFAULT_MAX_BYTES = 1 << 30


class TraceUnavailable(McsimError):
    """The machine lacks what a live trace needs (root, tracefs, the mmap_lock events).

    >>> TraceUnavailable("x").exit_code
    5
    """

    exit_code = 5


def events() -> list[str]:
    """The events a recording enables, as ``system/name``.

    >>> events()[:2]
    ['mmap_lock/mmap_lock_start_locking', 'mmap_lock/mmap_lock_acquire_returned']
    """
    out = list(LOCK_EVENTS) + list(EXTRA_EVENTS)
    for call in SYSCALLS:
        out += [f"syscalls/sys_enter_{call}", f"syscalls/sys_exit_{call}"]
    return out


def kernel_hz() -> str:
    """``CONFIG_HZ`` of the running kernel from its config (``""`` if not found)."""
    release = platform.release()
    for path in (f"/boot/config-{release}", "/proc/config.gz"):
        with suppress(OSError):
            if path.endswith(".gz"):
                import gzip
                text = gzip.open(path, "rt").read()
            else:
                text = Path(path).read_text()
            for line in text.splitlines():
                if line.startswith("CONFIG_HZ="):
                    return line.split("=", 1)[1]
    return ""


def header(pids, command) -> str:
    """The first line of a recorded file."""
    items = {"source": "measured", "kernel": platform.release(),
             "machine": platform.machine(), "hz": kernel_hz() or "unknown", "clock": CLOCK,
             "pids": ",".join(str(p) for p in pids) or "-",
             "command": "_".join(command)[:200] if command else "-"}
    return "# mcsim-trace: " + " ".join(f"{k}={v}" for k, v in items.items()) + "\n"


def _write(path: Path, text: str) -> None:
    with open(path, "w") as f:
        f.write(text)


@contextmanager
def tracefs_root():
    """The mounted tracefs (mounted here if need be, and then unmounted on exit)."""
    if os.geteuid() != 0:
        raise TraceUnavailable("trace record: needs root (tracefs instances and events are "
                               "root-only); run it as root or with sudo")
    for root in (TRACEFS, LEGACY_TRACEFS):
        if (root / "instances").is_dir():
            yield root
            return
    try:
        subprocess.run(["mount", "-t", "tracefs", "nodev", str(TRACEFS)], check=True,
                       capture_output=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        raise TraceUnavailable(f"trace record: tracefs is not mounted and mounting it at "
                               f"{TRACEFS} failed; allowed: a kernel with CONFIG_TRACING "
                               f"(mount -t tracefs nodev {TRACEFS})") from None
    try:
        yield TRACEFS
    finally:
        subprocess.run(["umount", str(TRACEFS)], capture_output=True, timeout=30)


@contextmanager
def held_signals():
    """Hold SIGINT and SIGTERM while a resource is taken and its owner recorded, so an
    interruption cannot fall between the two (it is delivered right after)."""
    signals = {signal.SIGINT, signal.SIGTERM}
    old = signal.pthread_sigmask(signal.SIG_BLOCK, signals)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


@contextmanager
def instance(root: Path):
    """A private tracefs instance, removed on exit whatever happens."""
    missing = [e for e in LOCK_EVENTS if not (root / "events" / e).is_dir()]
    if missing:
        raise TraceUnavailable(f"trace record: this kernel has no {missing[0]} tracepoint; "
                               "allowed: Linux 5.11 or later (CONFIG_TRACING)")
    path = root / "instances" / f"mcsim-{os.getpid()}"
    created = False
    # The try encloses the held region: a signal held during mkdir is delivered as the
    # mask is restored, and the instance it interrupts must still be removed.
    try:
        with held_signals():
            try:
                path.mkdir()
            except OSError as exc:
                raise TraceUnavailable(f"trace record: cannot create {path}: "
                                       f"{os.strerror(exc.errno or 0)}") from None
            created = True
        yield path
    finally:
        if created:
            _remove_instance(path)


def _remove_instance(path: Path) -> None:
    """Stop and remove the instance; rmdir answers EBUSY while a file of it is still
    open somewhere, so it is retried for a while, and a failure is said, not hidden."""
    with suppress(OSError):
        _write(path / "tracing_on", "0")
    deadline = time.monotonic() + 10
    while True:
        try:
            path.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError as exc:
            if time.monotonic() > deadline:
                import sys
                sys.stderr.write(f"mcsim: warning: cannot remove {path}: "
                                 f"{os.strerror(exc.errno or 0)}; remove it with rmdir\n")
                return
            time.sleep(0.02)


def threads_of(pid: int) -> list[int]:
    """Every thread of process ``pid`` (``/proc/PID/task``)."""
    try:
        return sorted(int(t) for t in os.listdir(f"/proc/{pid}/task"))
    except OSError:
        raise UsageError(f"--pid: {pid} is not a running process; allowed: the pid of a "
                         "running process") from None


def configure(inst: Path, pids: list[int]) -> None:
    """Events, pid filter, clock and buffer of the instance (tracing left off)."""
    _write(inst / "tracing_on", "0")
    _write(inst / "trace_clock", CLOCK)
    _write(inst / "buffer_size_kb", str(BUFFER_KB))
    _write(inst / "options" / "event-fork", "1")
    with open(inst / "set_event_pid", "w") as f:   # one write per pid: the file appends
        for pid in pids:
            f.write(f"{pid} ")
    for ev in events():
        target = inst / "events" / ev / "enable"
        if target.exists():
            _write(target, "1")


#: Run in the child: wait for the go byte on the given fd, then exec the command (same pid).
_GATE = ("import os, sys; fd = int(sys.argv[1]); go = os.read(fd, 1); os.close(fd); "
         "go or os._exit(127); os.execvp(sys.argv[2], sys.argv[2:])")


def _start_command(command: list[str]):
    """Start ``command`` held before its ``exec`` until :func:`_release` (so its first
    events are not missed); returns ``(Popen, gate fd)``."""
    import shutil
    import sys

    if shutil.which(command[0]) is None:
        raise UsageError(f"command: {command[0]!r} is not an executable; allowed: a "
                         "program on PATH or a path to one")
    read_fd, write_fd = os.pipe()
    try:
        proc = subprocess.Popen([sys.executable, "-c", _GATE, str(read_fd), *command],
                                pass_fds=(read_fd,), start_new_session=True)
    finally:
        os.close(read_fd)
    return proc, write_fd


def _stop(proc) -> None:
    """End a command this recording started, and whatever it left in its process group
    (SIGTERM, then SIGKILL), by its pid and process group id."""
    if proc is None:
        return
    for sig, wait_s in ((signal.SIGTERM, 3), (signal.SIGKILL, None)):
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=wait_s)
            break
        except subprocess.TimeoutExpired:
            continue


def _drain(fd: int, out, budget: list) -> int:
    """Copy what ``trace_pipe`` holds now to ``out``; bytes copied."""
    copied = 0
    while True:
        try:
            chunk = os.read(fd, 1 << 16)
        except BlockingIOError:
            return copied
        if not chunk:
            return copied
        out.write(chunk)
        copied += len(chunk)
        budget[0] -= len(chunk)
        if budget[0] <= 0:
            return copied


def record(out: str | Path, pids=(), duration_s: float | None = None,
           command: list[str] | None = None, max_bytes: int = DEFAULT_MAX_BYTES) -> dict:
    """Record a trace to ``out`` (written whole: a temporary file renamed at the end).

    Stops after ``duration_s``, or when ``command`` exits, whichever comes first (a
    command still running then is terminated), or at ``max_bytes``.  Returns a summary:
    ``bytes``, ``seconds``, ``command_status`` (None without a command), ``truncated``.
    """
    if duration_s is None and not command:
        raise UsageError("trace record: nothing bounds the recording; allowed: --duration "
                         "SECONDS and/or a command after --")
    if duration_s is not None and not duration_s > 0:
        raise UsageError(f"--duration: {duration_s} is not positive; allowed: seconds > 0")
    pids = [int(p) for p in pids]
    out = Path(out)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.part")
    proc, gate = None, [None]
    summary = {"bytes": 0, "seconds": 0.0, "command_status": None, "truncated": False}
    with tracefs_root() as root, instance(root) as inst:
        try:
            tids = sorted({t for p in pids for t in threads_of(p)})
            if command:
                # (a child started under held signals would inherit them held)
                proc, gate[0] = _start_command(command)
                tids.append(proc.pid)
            if not tids:
                raise UsageError("trace record: no process to trace; allowed: --pid PID "
                                 "and/or a command after --")
            configure(inst, tids)
            fd = None
            try:                  # (encloses the held open: see instance())
                with held_signals():
                    fd = os.open(inst / "trace_pipe", os.O_RDONLY | os.O_NONBLOCK)
                summary.update(_stream(fd, inst, tmp, header(pids, command), proc,
                                       lambda: _release(gate), duration_s, max_bytes))
            finally:
                if fd is not None:
                    os.close(fd)
            os.replace(tmp, out)
        finally:
            if gate[0] is not None:
                os.close(gate[0])
            _stop(proc)
            with suppress(OSError):
                tmp.unlink()
    if proc is not None:
        summary["command_status"] = proc.returncode
    return summary


def _release(gate: list) -> None:
    """Let the held command exec (it traces from its first instruction)."""
    if gate[0] is not None:
        os.write(gate[0], b"x")
        os.close(gate[0])
        gate[0] = None


def _stream(fd, inst, tmp, head, proc, go, duration_s, max_bytes) -> dict:
    budget = [max_bytes]
    with open(tmp, "wb") as f:
        f.write(head.encode())
        _write(inst / "tracing_on", "1")
        start = time.monotonic()
        go()
        while True:
            _drain(fd, f, budget)
            if budget[0] <= 0:
                break
            if duration_s is not None and time.monotonic() - start >= duration_s:
                break
            if proc is not None and proc.poll() is not None:
                break
            time.sleep(POLL_S)
        seconds = time.monotonic() - start
        _write(inst / "tracing_on", "0")
        if budget[0] > 0:
            time.sleep(POLL_S)
            _drain(fd, f, budget)
        f.flush()
        os.fsync(f.fileno())
        size = f.tell()
    return {"bytes": size, "seconds": round(seconds, 3), "truncated": budget[0] <= 0}
