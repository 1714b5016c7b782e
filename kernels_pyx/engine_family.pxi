# The plain scenario family and its build (included by engine_body.pxi).
#
# Most runs (the 2018 model, the kernel presets without same-VMA writers, every bench
# scenario but the workloads) use none of the core's optional machinery: no CPUs (§14),
# no closed-loop threads (§12.2), no writer that write-locks the faulting VMA (§11.2), a
# const wake_jitter (§13.2), numpy's PCG64DXSM stream, and no script.  Yet the event loop
# tests a flag for each at nearly every event, ~15 instructions per event (docs/
# benchmarks.md, round 4).  mcsim._engine_plain is built from the same sources with
# MCSIM_PLAIN 1, where these reads are constants:
#
#   s.fast_rng 1, s.record_timeline 0, s.reuse_ids 1 (not a script, PCG64DXSM);
#   s.cpus 0, s.serve 0 (no CPUs: serve needs cpus > 0); s.jitter 0 (const jitter);
#   s.vma_writers && (p_same_vma > 0, task.same_vma) false; task.thread < 0 (no threads,
#   so no step's lead either); task.counted 1 (regenerative trials count every task
#   from 0 to INT64_MAX, and there is no server context) and s.counted_alive unused (only
#   window trials read it).
#
# Each such read is written `PLAIN or flag` / `not PLAIN and flag`, so the general build
# (PLAIN 0) reads the flag as before.  mcsim._engine's run_block and run_blocks_merged
# hand a run that fits (plain_fits) to the plain build, which refuses one that does not.

cdef inline bint plain_fits(const Scenario* sc) noexcept nogil:
    """The scenario is of the plain family: every flag above holds whatever the draws.
    (Read before check_scenario: any bytes give an answer, and the build that runs the
    block then checks the record.)"""
    return (sc.cpus == 0 and sc.n_threads == 0 and sc.wake_jitter.kind == 0
            and not (sc.vma_writers != 0 and sc.p_same_vma > 0)
            and sc.trial_kind == TRIAL_CYCLE)


# Blocks this build has run (run_block: 1 each; run_blocks_merged: its blocks), so that
# tests can tell which build ran; and the switch that lets them run a plain scenario on
# the general build.
cdef int64_t _blocks_run = 0
cdef bint _dispatch_plain = True
_plain_module = []

FAMILY = "plain" if PLAIN else "general"


def blocks_run():
    """How many blocks this build has run since it was imported (``run_block`` counts 1,
    ``run_blocks_merged`` its blocks): which build ran a call is the one whose count grew.

    >>> from mcsim.engine import compiled_engine
    >>> compiled_engine().blocks_run() >= 0
    True
    """
    return _blocks_run


def use_plain_build(bint on):
    """Whether the general build hands plain runs to mcsim._engine_plain (on by default;
    off runs them on the general build, the same bytes; for tests and measurements).
    Returns the previous setting."""
    global _dispatch_plain
    was = _dispatch_plain
    _dispatch_plain = on
    return was


def plain_family(object scenario_record, object bit_generator=None):
    """Whether a run of this scenario record (with this bit generator; None: the
    PCG64DXSM of ``run_blocks_merged``) is of the plain family that mcsim._engine_plain
    runs.

    >>> from mcsim.engine import compiled_engine
    >>> from mcsim.params import validate
    >>> from mcsim.scenario import compile_scenario
    >>> core = compiled_engine()
    >>> core.plain_family(compile_scenario(validate()))
    True
    >>> core.plain_family(compile_scenario(validate(cpus=2)))
    False
    """
    cdef list keep = []
    return _fits(_scenario_of(scenario_record, keep), bit_generator)


cdef bint _fits(const Scenario* sc, object bit_generator):
    return plain_fits(sc) and (bit_generator is None
                               or type(bit_generator) is np.random.PCG64DXSM)


cdef object _plain_build(const Scenario* sc, object bit_generator):
    """In the general build: mcsim._engine_plain if this run goes there, else None.  In
    the plain build: None, or a ValueError for a run outside the family."""
    if PLAIN:
        if not _fits(sc, bit_generator):
            raise ValueError("mcsim._engine_plain runs only the plain scenario family (no "
                             "cpus, threads, same-VMA writers or random wake_jitter, a "
                             "PCG64DXSM generator): use mcsim._engine")
        return None
    if not _dispatch_plain or not _fits(sc, bit_generator):
        return None
    if not _plain_module:
        _plain_module.append(_load_plain_build())
    return _plain_module[0]


cdef object _load_plain_build():
    """mcsim._engine_plain, built from the same sources as this build (its SOURCE_HASH:
    this one's was checked against the sources when mcsim.engine loaded it)."""
    import importlib
    try:
        module = importlib.import_module("mcsim._engine_plain")
    except ModuleNotFoundError:
        module = None
    if module is None or getattr(module, "SOURCE_HASH", None) != SOURCE_HASH:
        raise ImportError("mcsim's compiled extension mcsim._engine_plain is missing or was "
                          "built from other sources than mcsim._engine; rebuild with "
                          "`python setup.py build_ext --inplace`")
    return module
