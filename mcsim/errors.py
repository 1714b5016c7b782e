"""Errors mcsim raises for user mistakes.  Each renders as one line naming the parameter,
the value and what is allowed; the command line maps them to documented exit codes."""
from __future__ import annotations


class McsimError(Exception):
    """Base class of every error caused by input rather than by a bug."""

    exit_code = 1


class ParameterError(McsimError, ValueError):
    """A parameter has an unknown name, a wrong type or an out-of-range value.

    >>> str(ParameterError("writer_ratio", 1.5, "a probability from 0 to 1", "is out of range"))
    'writer_ratio: 1.5 is out of range; allowed: a probability from 0 to 1'
    """

    exit_code = 2

    def __init__(self, param: str, value, allowed: str, problem: str = "is not valid"):
        self.param, self.value, self.allowed, self.problem = param, value, allowed, problem
        super().__init__(f"{param}: {value!r} {problem}; allowed: {allowed}")

    def __reduce__(self):
        # Rebuild from the fields, so the error survives pickling (a sweep's worker
        # processes send errors back to the parent).
        return (type(self), (self.param, self.value, self.allowed, self.problem))


class UsageError(McsimError):
    """A malformed command line or input file (bad TOML, an unknown key, a missing value).

    The message is one line naming the problem and what is allowed.
    """

    exit_code = 2


class SimulationError(McsimError, RuntimeError):
    """The model cannot be simulated as configured (e.g. an overloaded, never-emptying system)."""

    exit_code = 3


class StorageError(McsimError, OSError):
    """Reading or writing a file failed: a missing or unwritable directory, a full disk, a
    file that is not an mcsim result.  Nothing partial is left behind.

    >>> StorageError("out/x.parquet: cannot write: No space left on device").exit_code
    4
    """

    exit_code = 4


class ClusterError(McsimError):
    """A cluster scheduler cannot be reached (a wrong address, a stale scheduler file, a
    firewall, the scheduler not started yet)."""

    exit_code = 4
