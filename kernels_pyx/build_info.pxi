# Build identity of this extension, baked in by setup.py as C macros.
# Every kernels_pyx/*.pyx does `include "build_info.pxi"`, which gives the module
# the constants SOURCE_HASH (sha256 of kernels_pyx/ at build time, checked by
# mcsim._build.check_extension against the sources on disk) and BUILD_FLAGS
# (the C compile flags, so tests can prove no -ffast-math / -march=native).
cdef extern from *:
    """
    /* Built without setup.py (plain `cythonize`): mark it unknown, which the
       stale check then rejects, rather than failing to compile. */
    #ifndef MCSIM_SOURCE_HASH
    #define MCSIM_SOURCE_HASH "unknown"
    #endif
    #ifndef MCSIM_BUILD_FLAGS
    #define MCSIM_BUILD_FLAGS "unknown"
    #endif
    """
    const char* MCSIM_SOURCE_HASH
    const char* MCSIM_BUILD_FLAGS

SOURCE_HASH = MCSIM_SOURCE_HASH.decode()
BUILD_FLAGS = MCSIM_BUILD_FLAGS.decode()
