"""The real-kernel reproducer: what it says when the machine lacks something (fast, any
machine), how a run is described (fast), and a short live run on this kernel that must
build, mount, measure and leave no mount and no process behind (root, /dev/fuse, a C
compiler and libfuse3 needed; skipped with the missing item named otherwise)."""
import os
import signal
from pathlib import Path

import numpy as np
import pytest

from mcsim.errors import ParameterError
from mcsim.realkernel import (EXIT_PREREQUISITE, Binaries, PrerequisiteError, RunSpec,
                              build_reproducer, check_prerequisites, measure_wakeup, require,
                              run)
from mcsim.realkernel.runner import ReproError

EVERYTHING = dict(dev_fuse="/dev/null", euid=0, which=lambda name: "/bin/true")


# -- prerequisites: each missing item is named with its fix, on one line -----------------

def test_a_machine_with_everything_lacks_nothing():
    # /dev/null stands for a character device; "/bin/true --exists fuse3" succeeds.
    assert check_prerequisites(**EVERYTHING) == []
    require(**EVERYTHING)


@pytest.mark.parametrize("override, what, fix", [
    (dict(dev_fuse="/nonexistent/fuse"), "/dev/fuse", "modprobe fuse"),
    (dict(dev_fuse="/tmp"), "/dev/fuse", "modprobe fuse"),          # not a char device
    (dict(euid=1000), "root", "sudo"),
    (dict(which=lambda n: None if n == "cc" else "/bin/true"), "C compiler", "apt-get install -y gcc"),
    (dict(which=lambda n: None if n == "pkg-config" else "/bin/true"), "pkg-config",
     "apt-get install -y pkg-config"),
    (dict(which=lambda n: "/bin/false" if n == "pkg-config" else "/bin/true"), "libfuse3",
     "apt-get install -y libfuse3-dev"),
    (dict(tracefs=True, tracefs_dir="/nonexistent"), "tracefs", "mount -t tracefs"),
    (dict(source_dir="/nonexistent"), "C sources", "pip install -e ."),
])
def test_each_missing_item_is_named_with_its_fix(override, what, fix):
    missing = check_prerequisites(**{**EVERYTHING, **override})
    assert len(missing) == 1 and what in missing[0].what and fix in missing[0].fix
    with pytest.raises(PrerequisiteError) as exc:
        require(**{**EVERYTHING, **override})
    assert exc.value.exit_code == EXIT_PREREQUISITE == 5
    assert "\n" not in str(exc.value) and what in str(exc.value) and fix in str(exc.value)


def test_a_build_needs_only_the_compiler_the_headers_and_the_sources():
    nothing = dict(dev_fuse="/nonexistent", euid=1000, tracefs=True, tracefs_dir="/nonexistent")
    assert check_prerequisites(**{**EVERYTHING, **nothing}, build_only=True) == []
    missing = check_prerequisites(**{**EVERYTHING, **nothing, "which": lambda n: None},
                                  build_only=True)
    assert [m.what for m in missing] == ["a C compiler (cc)", "pkg-config"]


def test_everything_missing_is_reported_at_once():
    msg = str(PrerequisiteError(check_prerequisites(dev_fuse="/nonexistent", euid=1000,
                                                    which=lambda n: None, tracefs=True,
                                                    tracefs_dir="/nonexistent")))
    for what in ("root", "/dev/fuse", "C compiler", "pkg-config", "tracefs"):
        assert what in msg
    assert "\n" not in msg


# -- the description of a run --------------------------------------------------------------

@pytest.mark.parametrize("field, value", [("path", "read"), ("writer", "both"),
                                          ("delay", "2s"), ("delay", "-1ms"),
                                          ("duration", "10ms"), ("reader_think", "5s"),
                                          ("fault_think", "soon")])
def test_a_bad_run_description_is_one_line_naming_the_field(field, value):
    with pytest.raises(ParameterError) as exc:
        RunSpec(**{field: value})
    assert str(exc.value).startswith(field + ":") and "\n" not in str(exc.value)


def test_the_workload_has_the_threads_of_the_run():
    w = RunSpec(path="mkwrite", delay="20ms", writer="other", fault_think="2ms",
                writer_think="3ms", reader_think="4ms", duration="5s").workload()
    target, ps = w["process"]
    faulter, writer = target["thread"]
    assert faulter["program"] == [{"step": "fault", "vma": "data", "kind": "mkwrite_writeback",
                                   "think": "2ms"}]
    assert writer["program"] == [{"step": "write", "think": "3ms"}]      # elsewhere: no vma
    assert ps["thread"][0]["program"] == [{"step": "cmdline", "process": "target",
                                           "think": "4ms"}]
    assert w["params"] == {"kernel": "6.18", "hz": 250, "device": "20ms", "window": "5s"}
    assert [t["name"] for t in RunSpec(writer="none").workload()["process"][0]["thread"]] \
        == ["faulter"]
    same = RunSpec(path="retry", writer="same").workload()
    assert same["process"][0]["thread"][1]["program"][0]["vma"] == "data"
    assert same["params"]["p_retry_miss"] == 1.0
    assert same["process"][0]["thread"][0]["program"][0]["kind"] == "miss"


# -- live: this kernel ---------------------------------------------------------------------

MISSING = check_prerequisites()
live = pytest.mark.skipif(bool(MISSING), reason=str(PrerequisiteError(MISSING)) if MISSING
                          else "")


def _our_mounts():
    with open("/proc/self/mountinfo") as f:
        return [ln for ln in f if "mcsim-repro-" in ln]


def _our_processes(binaries):
    """PIDs whose executable is one of the reproducer's programs."""
    targets = {str(p) for p in (binaries.fusedelay, binaries.target, binaries.reader)}
    pids = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if os.readlink(f"/proc/{pid}/exe") in targets:
                pids.append(int(pid))
        except OSError:
            pass
    return pids


@pytest.fixture(scope="module")
def binaries():
    if MISSING:
        pytest.skip(str(PrerequisiteError(MISSING)))
    return build_reproducer()


@live
def test_a_retry_run_measures_and_cleans_up(binaries, tmp_path):
    d_ms = 5
    res = run(RunSpec(path="retry", delay=f"{d_ms}ms", duration="1s", writer="same"),
              binaries, workdir=str(tmp_path))
    # ~1 read per think time (1 ms) plus its wait: hundreds in a second.
    assert res.read_ns.size > 100 and (res.read_ns > 0).all()
    # Every fault reads the page twice (the first READ fails, the TRIED retry pass reads
    # again), each READ answered after D: a fault takes at least 2·D.
    assert res.fault_ns.size > 5 and res.quantiles("fault")["p50"] >= 2 * d_ms
    # The retry pass holds mmap_lock(R) for D: a same-VMA writer queues behind it and some
    # cmdline reads wait behind the writer.
    assert res.quantiles("read")["max"] >= d_ms / 2
    assert list(tmp_path.iterdir()) == [] and _our_mounts() == []
    assert _our_processes(binaries) == []


@live
def test_an_mkwrite_run_measures_and_cleans_up(binaries, tmp_path):
    d_ms = 5
    res = run(RunSpec(path="mkwrite", delay=f"{d_ms}ms", duration="1s", writer="none"),
              binaries, workdir=str(tmp_path))
    # Each write fault waits for the whole FUSE WRITE started just before it.
    assert res.fault_ns.size > 5 and res.quantiles("fault")["p50"] >= d_ms
    # One sync_file_range() per fault, timed (µs, not the D it started); the server's
    # CPU per WRITE at its arrival, one per request but each thread's first.
    assert res.lead_ns.size == res.fault_ns.size and (res.lead_ns > 0).all()
    assert np.median(res.lead_ns) < d_ms * 1e6 / 2
    assert res.fault_ns.size - 4 <= res.server_cpu_ns.size <= res.fault_ns.size + 1
    assert (res.server_cpu_ns > 0).all() and np.median(res.server_cpu_ns) < 1e6
    assert res.writer_ns.size == 0 and res.read_ns.size > 100
    assert list(tmp_path.iterdir()) == [] and _our_mounts() == []
    assert _our_processes(binaries) == []


@live
def test_the_wakeup_probe_gives_one_positive_sample_per_wakeup(binaries):
    w = measure_wakeup(200, gap="2ms", binaries=binaries)
    assert w.size == 200 and (w > 0).all()
    # A sample is the time from one write to the sleeper running, not the time between
    # writes (2 ms): even on a busy machine most woken threads run within 1 ms.
    assert sorted(w)[100] < 1_000_000


@live
def test_the_pinned_probe_measures_the_busy_path(binaries):
    # Both threads on one CPU and the waker blocking after each write (repro/wake.c,
    # pin=1): one sample per wake-up, each the waker's way to sleep plus a context switch.
    w = measure_wakeup(200, gap="2ms", binaries=binaries, pinned=True)
    assert w.size == 200 and (w > 0).all()
    assert sorted(w)[100] < 1_000_000


@live
@pytest.mark.skipif(len(__import__("os").sched_getaffinity(0)) < 2, reason="one CPU")
def test_the_cross_cpu_probe_wakes_a_sleeper_on_the_other_cpu(binaries):
    # repro/wake.c pin=2: the waker on one CPU, the sleeper on another, idle one; one
    # sample per wake-up (docs/model.md §14.8, wake_remote).
    w = measure_wakeup(200, gap="2ms", binaries=binaries, cross=True)
    assert w.size == 200 and (w > 0).all()
    assert sorted(w)[100] < 1_000_000


@live
def test_the_sleep_probe_never_sleeps_less_than_asked(binaries):
    # POSIX: nanosleep() suspends for at least the requested time (the timer's slack and
    # the wake-up only add), so every sample of a 1 ms think time is >= 1 ms.
    w = measure_wakeup(200, gap="1ms", binaries=binaries, sleep=True)
    assert w.size == 200 and (w >= 1_000_000).all()


@live
def test_a_failing_target_still_unmounts_and_stops_the_server(binaries, tmp_path):
    broken = Binaries(binaries.fusedelay, Path("/bin/false"), binaries.reader)
    with pytest.raises(ReproError, match="the target exited"):
        run(RunSpec(duration="1s"), broken, workdir=str(tmp_path))
    assert list(tmp_path.iterdir()) == [] and _our_mounts() == []
    assert _our_processes(binaries) == []


@live
def test_sigterm_during_a_run_unmounts_and_stops_everything(binaries, tmp_path):
    import subprocess
    import sys
    import time
    code = ("import sys; from mcsim.realkernel import RunSpec, run, build_reproducer\n"
            "try:\n"
            "    run(RunSpec(path='mkwrite', delay='20ms', duration='30s'), build_reproducer(),"
            " workdir=sys.argv[1])\n"
            "except KeyboardInterrupt:\n"
            "    sys.exit(130)\n")
    proc = subprocess.Popen([sys.executable, "-c", code, str(tmp_path)],
                            env={**os.environ, "PYTHONPATH": os.getcwd()})
    try:
        deadline = time.monotonic() + 15
        while not (_our_mounts() and len(_our_processes(binaries)) == 3):
            assert time.monotonic() < deadline and proc.poll() is None, "the run did not start"
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 130
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert list(tmp_path.iterdir()) == [] and _our_mounts() == []
    assert _our_processes(binaries) == []
