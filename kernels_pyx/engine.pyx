# mcsim._engine: the compiled simulation core, the general build (every scenario, every
# bit generator, scripts).  A run of the plain scenario family goes on to
# mcsim._engine_plain, the same sources built with the family's flags as constants
# (engine_family.pxi).  The core itself is in engine_body.pxi.
cdef extern from *:
    """
    #define MCSIM_PLAIN 0
    """

include "build_info.pxi"
include "engine_body.pxi"
