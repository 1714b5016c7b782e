"""Shared fixtures: both engines, so every semantic test pins the compiled core and the
pure-Python reference twin alike."""
import pytest

ENGINES = ("compiled", "reference")


@pytest.fixture(params=ENGINES)
def engine(request):
    return request.param


# ------------------------------------------------------------------ tracefs for live tests
# The live trace and reproducer tests need tracefs at /sys/kernel/tracing.  `mcsim trace
# record` mounts it itself when it must, but the tests also look at its instances before
# and after a run, so a root session whose kernel has tracefs unmounted mounts it for the
# whole session and unmounts it at the end (only what it mounted).
TRACEFS = "/sys/kernel/tracing"
_mounted_here = []


def _tracefs_mountable() -> bool:
    import os

    try:
        with open("/proc/filesystems") as f:
            known = any(line.split()[-1] == "tracefs" for line in f if line.strip())
    except OSError:
        return False
    return (os.geteuid() == 0 and known and os.path.isdir(TRACEFS)
            and not os.path.isdir(os.path.join(TRACEFS, "instances")))


def pytest_configure(config):
    import subprocess

    if _tracefs_mountable() and subprocess.run(
            ["mount", "-t", "tracefs", "nodev", TRACEFS], capture_output=True).returncode == 0:
        _mounted_here.append(TRACEFS)


def pytest_unconfigure(config):
    import subprocess

    while _mounted_here:
        subprocess.run(["umount", _mounted_here.pop()], capture_output=True)
