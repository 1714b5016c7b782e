"""mcsim: a Monte Carlo engine for the mmap-lock / io.latency priority inversion.

>>> import mcsim
>>> sorted(mcsim.POLICIES)
['hold', 'rfc-v1', 'rfc-v2', 'stock-4.19', 'upstream-5.1']
"""
from .api import run_script, simulate
from .errors import McsimError, ParameterError, SimulationError
from .histogram import Histogram
from .params import PARAMS, validate
from .policies import POLICIES
from .result import Result, ScriptResult

__version__ = "0.1.0"
__all__ = ["simulate", "run_script", "validate", "PARAMS", "POLICIES", "Histogram",
           "Result", "ScriptResult", "McsimError", "ParameterError", "SimulationError",
           "__version__"]
