"""Build the reproducer's C programs on demand, into a cache outside the repository."""
from __future__ import annotations

import hashlib
import os
import shlex
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import McsimError

#: The C sources: repro/ at the root of the mcsim checkout.
SOURCE_DIR = Path(__file__).resolve().parents[2] / "repro"
CFLAGS = ["-O2", "-Wall", "-Wextra", "-std=gnu11"]
PROGRAMS = ("fusedelay", "target", "reader", "wake")
SOURCES = ("common.h", *(p + ".c" for p in PROGRAMS))


class BuildError(McsimError):
    """The reproducer did not compile; the message holds the compiler's first error line."""

    exit_code = 1


@dataclass(frozen=True)
class Binaries:
    """Paths of the built reproducer programs.

    >>> Binaries(Path("/c/fusedelay"), Path("/c/target"), Path("/c/reader")).target.name
    'target'
    """

    fusedelay: Path
    target: Path
    reader: Path
    wake: Path | None = None


def default_cache_dir() -> Path:
    """$XDG_CACHE_HOME/mcsim/repro (~/.cache/mcsim/repro), never inside the checkout.

    >>> default_cache_dir().parts[-2:]
    ('mcsim', 'repro')
    """
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "mcsim" / "repro"


def _pkg_config_fuse3() -> tuple[list[str], list[str]]:
    def ask(flag):
        out = subprocess.run(["pkg-config", flag, "fuse3"], capture_output=True, text=True,
                             timeout=30, check=True).stdout
        return shlex.split(out)
    return ask("--cflags"), ask("--libs")


def _commands(src: Path, out: Path, fuse_cflags, fuse_libs) -> dict[str, list[str]]:
    return {
        "fusedelay": ["cc", *CFLAGS, *fuse_cflags, str(src / "fusedelay.c"), "-o",
                      str(out / "fusedelay"), *fuse_libs],
        "target": ["cc", *CFLAGS, "-pthread", str(src / "target.c"), "-o", str(out / "target")],
        "reader": ["cc", *CFLAGS, str(src / "reader.c"), "-o", str(out / "reader")],
        "wake": ["cc", *CFLAGS, "-pthread", str(src / "wake.c"), "-o", str(out / "wake")],
    }


def _prune(cache_dir: Path, keep: Path) -> None:
    """Remove the builds of earlier sources, so the cache holds one build."""
    import shutil
    for entry in cache_dir.iterdir():
        if entry != keep and entry.is_dir() and len(entry.name) == 16 \
                and all(c in "0123456789abcdef" for c in entry.name):
            shutil.rmtree(entry, ignore_errors=True)


def build_reproducer(cache_dir: Path | None = None, source_dir: Path = SOURCE_DIR) -> Binaries:
    """Compile the reproducer unless a build of the same sources and flags is cached, and
    return its programs.  A build goes to a temporary directory renamed into place, so a
    failed or interrupted build leaves nothing half-made.

    >>> b = build_reproducer()                    # doctest: +SKIP
    >>> b.fusedelay.exists()                      # doctest: +SKIP
    True
    """
    from .prereq import require
    require(build_only=True, source_dir=source_dir)
    cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    fuse_cflags, fuse_libs = _pkg_config_fuse3()
    digest = hashlib.sha256()
    for name in sorted(os.listdir(source_dir)):
        if name.endswith((".c", ".h")):
            digest.update(name.encode() + b"\0" + (source_dir / name).read_bytes())
    cc_version = subprocess.run(["cc", "--version"], capture_output=True, text=True,
                                timeout=30).stdout
    digest.update("\0".join([*CFLAGS, *fuse_cflags, *fuse_libs, cc_version]).encode())
    final = cache_dir / digest.hexdigest()[:16]
    if not all((final / p).is_file() for p in PROGRAMS):
        cache_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=cache_dir, prefix=".build-") as tmp:
            for name, cmd in _commands(source_dir, Path(tmp), fuse_cflags, fuse_libs).items():
                res = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
                if res.returncode != 0:
                    first = next((ln for ln in res.stderr.splitlines() if "error" in ln),
                                 res.stderr.strip().splitlines()[-1:] or ["?"])
                    raise BuildError(f"building {name} failed: {str(first).strip()}")
            try:
                os.replace(tmp, final)
            except OSError:
                if not all((final / p).is_file() for p in PROGRAMS):
                    raise
            os.makedirs(tmp, exist_ok=True)     # TemporaryDirectory removes it again
        _prune(cache_dir, keep=final)
    return Binaries(*(final / p for p in PROGRAMS))
