# mcsim._engine_plain: the compiled simulation core built for the plain scenario family
# (engine_family.pxi: no CPUs, threads, VMA writers or random wake-up jitter, a PCG64DXSM
# stream, not a script).  The same sources as mcsim._engine (engine_body.pxi) with
# MCSIM_PLAIN 1: the flags the family fixes are constants, so their tests and the code
# behind them leave the event loop.  mcsim._engine's run_block and run_blocks_merged
# come here when the run fits; called directly, this build refuses any other run.
cdef extern from *:
    """
    #define MCSIM_PLAIN 1
    """

include "build_info.pxi"
include "engine_body.pxi"
