"""mcsim: a Monte Carlo engine for the mmap-lock / io.latency priority inversion.

>>> import mcsim
>>> sorted(mcsim.POLICIES)
['hold', 'rfc-v1', 'rfc-v2', 'stock-4.19', 'upstream-5.1']

The names below are imported on first use (PEP 562), so ``import mcsim`` (and with it
``mcsim --help``) loads neither numpy nor pyarrow.
"""
from importlib import import_module

from .errors import McsimError, ParameterError, SimulationError

__version__ = "0.1.0"

#: Public name -> submodule that defines it.
_LAZY = {
    "simulate": "api", "run_script": "api",
    "validate": "params", "PARAMS": "params",
    "POLICIES": "policies",
    "Histogram": "histogram",
    "Result": "result", "ScriptResult": "result",
    "load": "dataset",
}
__all__ = ["simulate", "run_script", "validate", "PARAMS", "POLICIES", "Histogram",
           "Result", "ScriptResult", "McsimError", "ParameterError", "SimulationError",
           "load", "__version__"]


def __getattr__(name):
    if name not in _LAZY:
        raise AttributeError(f"module 'mcsim' has no attribute {name!r}")
    value = getattr(import_module(f".{_LAZY[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
