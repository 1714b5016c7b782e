"""The real kernel beside the model: a reproducer of the mmap_lock inversion run on the
local kernel (a FUSE file system with a reply delay D, a target process with a fault
thread and a writer thread, a `/proc/<pid>/cmdline` reader), built on demand with the
system compiler, and the same run described as a workload the model simulates.

>>> from mcsim.realkernel import RunSpec
>>> RunSpec(path="mkwrite", delay="20ms", writer="same").workload()["params"]["kernel"]
'6.18'

Running it (`run(spec)`) needs root, `/dev/fuse`, a C compiler and the libfuse3 headers;
`check_prerequisites()` names whatever is missing and how to get it.
"""
from .prereq import EXIT_PREREQUISITE, Missing, PrerequisiteError, check_prerequisites, require
from .spec import RunSpec
from .build import build_reproducer, Binaries
from .runner import RunResult, measure_wakeup, run

__all__ = ["EXIT_PREREQUISITE", "Missing", "PrerequisiteError", "check_prerequisites",
           "require", "RunSpec", "build_reproducer", "Binaries", "RunResult", "measure_wakeup", "run"]
