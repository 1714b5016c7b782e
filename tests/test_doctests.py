"""The examples in the docstrings of every mcsim module (the benchmark suite included) run
and show what they claim.

Modules are found by walking the packages, so a new module is covered without being
listed here.  A module that needs an optional dependency (SimPy, Dask, ...) is skipped
when that dependency is missing, and fails like any other when it is present.
"""
import doctest
import importlib
import pkgutil

import pytest

import mcsim

#: Top-level packages of the optional extras in pyproject.toml.
OPTIONAL = {"simpy", "distributed", "dask", "dask_jobqueue", "pandas", "polars", "duckdb"}

#: Modules whose docstrings do not show an example yet.  Strict: once one gains an
#: example, its entry here fails and must go.
NO_EXAMPLES_YET = {
    "mcsim._hist_ext", "mcsim.cli",
    "mcsim.cli.app", "mcsim.cli.bench", "mcsim.cli.data",
    "mcsim.cli.run", "mcsim.cli.sweep",
}


def package_modules():
    """Every module of the mcsim package, the package itself included; not ``__main__``,
    which would start the command line."""
    names = ["mcsim"]
    for info in pkgutil.walk_packages(mcsim.__path__, "mcsim."):
        if info.name.rsplit(".", 1)[-1] != "__main__":
            names.append(info.name)
    return names


MODULES = package_modules()


def load(name):
    """Import a module by name, skipping the test when an optional dependency is
    missing."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] in OPTIONAL:
            pytest.skip(f"{name} needs the optional package {exc.name}")
        raise


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = load(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS, report=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed"
    if name in NO_EXAMPLES_YET:
        assert result.attempted == 0, f"{name} has examples now: drop it from the list"
    else:
        assert result.attempted > 0, f"{name} has no docstring example"


def test_walk_finds_the_modules():
    """The walk sees the package's modules (a broken walk would test nothing)."""
    assert {"mcsim.api", "mcsim.histogram", "mcsim.cli.common",
            "mcsim.benchmarks.simpy_model"} \
        <= set(MODULES)
    assert set(NO_EXAMPLES_YET) <= set(MODULES)
