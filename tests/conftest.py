"""Shared fixtures: both engines, so every semantic test pins the compiled core and the
pure-Python reference twin alike."""
import pytest

ENGINES = ("compiled", "reference")


@pytest.fixture(params=ENGINES)
def engine(request):
    return request.param
