"""The examples in the docstrings of these modules run and show what they claim."""

import doctest
import importlib

import pytest

MODULES = ["mcsim._build", "mcsim.histogram", "mcsim.units"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
