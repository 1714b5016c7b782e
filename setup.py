"""Build mcsim's Cython extensions: every ``kernels_pyx/<stem>.pyx`` -> ``mcsim._<stem>``.

Metadata lives in pyproject.toml; this file only describes the extensions.
Environment: ``MCSIM_ANNOTATE=1`` also writes Cython's annotated HTML
(``kernels_pyx/<stem>.html``, what ``cython -a`` shows).
"""

import os
import runpy
import sysconfig
from pathlib import Path

import numpy
from Cython.Build import cythonize
from setuptools import Extension, setup

ROOT = Path(__file__).resolve().parent
KERNELS = ROOT / "kernels_pyx"

# The hashing algorithm lives in one place, mcsim/_build.py; load it by path so
# that building never imports the (not yet built) mcsim package.
_build = runpy.run_path(str(ROOT / "mcsim" / "_build.py"))

# Portable, reproducible floating point: no -march=native (the binary must run
# on any x86-64 CI box), no -ffast-math, and no FMA contraction, so that C and
# the pure-Python reference agree bit for bit.
COMPILE_ARGS = ["-O3", "-ffp-contract=off", "-fno-strict-aliasing", "-Wno-unreachable-code"]
# The event loop inlines the whole state machine into one function; GCC's default growth
# limits then stop inlining the hot small functions (draws, scheduling, dispatch), which
# costs ~10% more instructions per event.  Inlining changes no arithmetic.  The loop's
# growth limit is set high enough that it no longer binds (a larger value builds the
# same code): at 1000 the per-task state machine (a fault's start, an arrival's draws)
# stayed out of line, ~14 more instructions per event on the reference scenario.
if "clang" not in (sysconfig.get_config_var("CC") or ""):
    COMPILE_ARGS += ["--param=large-function-growth=10000", "--param=inline-unit-growth=500",
                     "--param=max-inline-insns-single=1000"]

# Set once here for every module, so no .pyx needs its own header comment.
ANNOTATE = os.environ.get("MCSIM_ANNOTATE") == "1"

DIRECTIVES = {
    "language_level": 3,
    "boundscheck": False,
    "wraparound": False,
    "cdivision": True,
    "initializedcheck": False,
    "nonecheck": False,
    "embedsignature": True,
}


def numpy_library_dirs():
    """Where numpy ships libnpyrandom.a and libnpymath.a (as numpy's Cython example links them)."""
    numpy_dir = Path(numpy.__file__).resolve().parent
    candidates = [numpy_dir / "random" / "lib", numpy_dir / "_core" / "lib"]
    return [str(d) for d in candidates if d.is_dir()]


def source_hash_stamp(source_hash):
    """A file that is rewritten exactly when the kernels' hash (or the flags) changes.

    Every extension depends on it: each one carries the hash of ALL kernel
    sources, so any change (an edit, a new file, a deleted or renamed one) must
    recompile every extension, not only those that cimport the changed file.
    """
    stamp = ROOT / "build" / "mcsim_source_hash.txt"
    content = source_hash + "\n" + " ".join(COMPILE_ARGS)
    if not stamp.is_file() or stamp.read_text() != content:
        stamp.parent.mkdir(exist_ok=True)
        stamp.write_text(content)
    return str(stamp.relative_to(ROOT))


def kernel_extensions():
    source_hash = _build["source_hash"](KERNELS)
    macros = [
        ("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION"),
        # String literals: the quotes are part of the macro's value.
        ("MCSIM_SOURCE_HASH", '"%s"' % source_hash),
        ("MCSIM_BUILD_FLAGS", '"%s"' % " ".join(COMPILE_ARGS)),
    ]
    return [
        Extension(
            name=f"mcsim._{pyx.stem}",
            sources=[str(pyx.relative_to(ROOT))],
            include_dirs=[numpy.get_include(), str(KERNELS)],
            library_dirs=numpy_library_dirs(),
            libraries=["npyrandom", "npymath", "m"],
            define_macros=macros,
            extra_compile_args=COMPILE_ARGS,
            depends=[source_hash_stamp(source_hash)],
        )
        for pyx in sorted(KERNELS.glob("*.pyx"))
    ]


# Cython generates the extensions' C in parallel processes (mcsim._engine and
# mcsim._engine_plain are the same core built twice).  GCC runs one at a time: setuptools'
# parallel build_ext ("parallel" in options) breaks `pip install -e .` (the editable wheel's
# build ends in "[Errno 2] No such file or directory"); `python setup.py build_ext
# --inplace --parallel 2` still compiles both at once for a developer.
JOBS = max(1, min(len(list(KERNELS.glob("*.pyx"))), os.cpu_count() or 1))

setup(
    ext_modules=cythonize(
        kernel_extensions(),
        nthreads=JOBS,
        include_path=[str(KERNELS)],
        compiler_directives=DIRECTIVES,
        # Cython writes the HTML only when it regenerates the C file, so an
        # annotated build regenerates all of them.
        annotate=ANNOTATE,
        force=ANNOTATE,
    ),
)
