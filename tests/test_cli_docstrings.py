"""The examples in the docstrings of the sweep, dataset and command-line modules run."""
import doctest
import importlib

import pytest

MODULES = ["mcsim", "mcsim.schema", "mcsim.result", "mcsim.points", "mcsim.sweep",
           "mcsim.executors", "mcsim.dataset", "mcsim.errors", "mcsim.cli.common"]


@pytest.mark.parametrize("name", MODULES)
def test_examples_in_docstrings(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)           # examples that write files write them here
    module = importlib.import_module(name)
    outcome = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert outcome.attempted > 0 and outcome.failed == 0
