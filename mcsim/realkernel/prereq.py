"""What a real-kernel run needs from the machine, and one line saying what is missing."""
from __future__ import annotations

import os
import shutil
import stat
import subprocess
from dataclasses import dataclass

from ..errors import McsimError
from .build import SOURCE_DIR, SOURCES

#: Exit code of a command that cannot run because the machine lacks a prerequisite
#: (not root, no /dev/fuse, no compiler or libfuse3 headers, no tracefs).
EXIT_PREREQUISITE = 5

APT = "apt-get install -y"


class PrerequisiteError(McsimError):
    """The machine lacks what a real-kernel run needs; the message names each missing
    thing and how to get it, on one line.

    >>> PrerequisiteError([Missing("root", "run as root (sudo)")]).exit_code
    5
    """

    exit_code = EXIT_PREREQUISITE

    def __init__(self, missing: list["Missing"]):
        self.missing = list(missing)
        super().__init__("real-kernel run: " + "; ".join(str(m) for m in self.missing))

    def __reduce__(self):
        return (type(self), (self.missing,))


@dataclass(frozen=True)
class Missing:
    """One missing prerequisite: what it is and the command or step that provides it.

    >>> str(Missing("/dev/fuse (the FUSE device)", "modprobe fuse"))
    'missing /dev/fuse (the FUSE device): modprobe fuse'
    """

    what: str
    fix: str

    def __str__(self) -> str:
        return f"missing {self.what}: {self.fix}"


def _is_char_device(path: str) -> bool:
    try:
        return stat.S_ISCHR(os.stat(path).st_mode)
    except OSError:
        return False


def _pkg_config_has(pkg_config: str, package: str) -> bool:
    try:
        return subprocess.run([pkg_config, "--exists", package], timeout=10,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def check_prerequisites(*, tracefs: bool = False, build_only: bool = False,
                        dev_fuse: str = "/dev/fuse", tracefs_dir: str = "/sys/kernel/tracing",
                        euid: int | None = None, which=shutil.which,
                        source_dir=SOURCE_DIR) -> list[Missing]:
    """Everything a reproducer run lacks on this machine, in the order to fix it
    (empty when it can run); with `build_only`, what building the programs lacks.  The
    other keyword arguments stand in for the machine in tests: `dev_fuse`, `tracefs_dir`
    and `source_dir` are the paths checked, `euid` the effective user id, `which` the
    program lookup.

    >>> nothing = lambda name: None          # a machine without any program
    >>> [m.what for m in check_prerequisites(dev_fuse="/nonexistent", euid=1000, which=nothing)]
    ['root', '/dev/fuse (the FUSE device; path checked: /nonexistent)', 'a C compiler (cc)', 'pkg-config']
    """
    missing = []
    if not all(os.path.isfile(os.path.join(source_dir, name)) for name in SOURCES):
        missing.append(Missing(f"the reproducer's C sources ({source_dir})",
                               "use mcsim from its source checkout (git clone; pip install -e .)"))
    if build_only:
        pass
    elif (os.geteuid() if euid is None else euid) != 0:
        missing.append(Missing("root", "run as root (sudo): mounting FUSE and reading other "
                                       "processes' /proc/<pid>/cmdline under contention need it"))
    if not build_only and not _is_char_device(dev_fuse):
        where = "" if dev_fuse == "/dev/fuse" else f"; path checked: {dev_fuse}"
        missing.append(Missing(f"/dev/fuse (the FUSE device{where})",
                               f"modprobe fuse (and {APT} fuse3)"))
    cc = which("cc")
    if cc is None:
        missing.append(Missing("a C compiler (cc)", f"{APT} gcc"))
    pkg_config = which("pkg-config")
    if pkg_config is None:
        missing.append(Missing("pkg-config", f"{APT} pkg-config"))
    elif not _pkg_config_has(pkg_config, "fuse3"):
        missing.append(Missing("the libfuse3 headers (pkg-config fuse3)", f"{APT} libfuse3-dev"))
    if tracefs and not build_only and not os.path.isdir(os.path.join(tracefs_dir, "events", "mmap_lock")):
        missing.append(Missing(f"tracefs with mmap_lock events ({tracefs_dir}/events/mmap_lock)",
                               f"mount -t tracefs nodev {tracefs_dir} (kernel 5.11+ with "
                               "CONFIG_TRACING)"))
    return missing


def require(**kwargs) -> None:
    """Raise `PrerequisiteError` naming everything `check_prerequisites(**kwargs)` finds
    missing; return quietly when nothing is.

    >>> require(dev_fuse="/nonexistent", euid=0, which=lambda name: None)
    Traceback (most recent call last):
    ...
    mcsim.realkernel.prereq.PrerequisiteError: real-kernel run: missing /dev/fuse (the FUSE device; path checked: /nonexistent): modprobe fuse (and apt-get install -y fuse3); missing a C compiler (cc): apt-get install -y gcc; missing pkg-config: apt-get install -y pkg-config
    """
    missing = check_prerequisites(**kwargs)
    if missing:
        raise PrerequisiteError(missing)
