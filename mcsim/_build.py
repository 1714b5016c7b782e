"""Build identity of mcsim's compiled extensions: the guard against stale builds.

A compiled extension (``mcsim._engine``, ``mcsim._hist_ext``, ...) is built from
the Cython sources in ``kernels_pyx/``.  Editing a ``.pyx``/``.pxd`` does NOT
rebuild the ``.so`` by itself (see docs/developing.md), so a developer can end up
running old machine code against new Python code without noticing.  To make that
impossible to miss, ``setup.py`` hashes every kernel source file with
:func:`source_hash` and bakes the hash into each extension (C macro
``MCSIM_SOURCE_HASH``, exposed as the module constant ``SOURCE_HASH``).  At import
time :func:`check_extension` recomputes the hash of the sources on disk and refuses
a mismatch.

This file must stay importable on its own with the standard library only:
``setup.py`` loads it by path (the ``mcsim`` package itself may import compiled
extensions that do not exist yet while building).
"""

from __future__ import annotations

import hashlib
import importlib
from pathlib import Path
from types import ModuleType

#: Files in ``kernels_pyx/`` whose content ends up in the compiled extensions.
KERNEL_SUFFIXES = (".pyx", ".pxd", ".pxi", ".h")

#: ``kernels_pyx/`` of a source checkout: it sits next to the ``mcsim/`` package
#: folder.  An installed wheel has no such folder beside it.
CHECKOUT_KERNELS_DIR = Path(__file__).resolve().parent.parent / "kernels_pyx"

REBUILD_HINT = "rebuild with `pip install -e . --no-build-isolation` or `python setup.py build_ext --inplace`"


def kernel_sources(kernels_dir: str | Path) -> list[Path]:
    """The kernel source files under *kernels_dir*, sorted by file name.

    >>> kernel_sources("/nonexistent")
    []
    """
    kernels_dir = Path(kernels_dir)
    if not kernels_dir.is_dir():
        return []
    files = (p for p in kernels_dir.iterdir() if p.is_file() and p.suffix in KERNEL_SUFFIXES)
    return sorted(files, key=lambda p: p.name)


def source_hash(kernels_dir: str | Path = CHECKOUT_KERNELS_DIR) -> str:
    """sha256 (hex) over the names and contents of the kernel sources.

    The file name and the content length go into the hash too, so renaming a
    file or moving bytes from one file to the next changes the hash.

    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "a.pyx").write_text("x = 1")
    >>> h1 = source_hash(d)
    >>> _ = (d / "a.pyx").write_text("x = 2")
    >>> h1 != source_hash(d), len(h1)
    (True, 64)
    """
    digest = hashlib.sha256()
    for path in kernel_sources(kernels_dir):
        content = path.read_bytes()
        digest.update(f"{path.name}\0{len(content)}\0".encode())
        digest.update(content)
    return digest.hexdigest()


def check_extension(module: ModuleType, kernels_dir: str | Path | None = CHECKOUT_KERNELS_DIR) -> None:
    """Raise ImportError if *module* was built from other kernel sources than those on disk.

    Only applies to a source checkout (``kernels_dir`` exists); an installed
    wheel has no sources to compare against and passes.

    >>> import types
    >>> old = types.SimpleNamespace(__name__="mcsim._demo", SOURCE_HASH="0" * 64)
    >>> check_extension(old, kernels_dir="/nonexistent")   # no sources: nothing to compare
    """
    if kernels_dir is None or not Path(kernels_dir).is_dir():
        return
    built_from = getattr(module, "SOURCE_HASH", None)
    if built_from != source_hash(kernels_dir):
        raise ImportError(
            f"mcsim's compiled extension {module.__name__} is stale: kernels_pyx/ changed "
            f"since it was built; {REBUILD_HINT}"
        )


def load_extension(name: str) -> ModuleType:
    """Import the compiled extension ``mcsim.<name>`` and check it is not stale.

    >>> load_extension("_hist_ext").__name__
    'mcsim._hist_ext'
    """
    try:
        module = importlib.import_module(f"mcsim.{name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"mcsim.{name}":
            raise
        raise ImportError(f"mcsim's compiled extension mcsim.{name} is not built; {REBUILD_HINT}") from exc
    check_extension(module)
    return module
