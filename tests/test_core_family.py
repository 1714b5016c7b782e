"""The plain scenario family's build of the core (kernels_pyx/engine_family.pxi):
which runs go to mcsim._engine_plain, that it refuses the others, and that a run gives
the same bytes on either build.  The differential tests (tests/test_differential.py)
compare both builds with the reference engine."""
import numpy as np
import pytest

import mcsim
from mcsim import layout as lay
from mcsim._build import load_extension
from mcsim.engine import BlockOutput, block_bitgen, compiled_engine
from mcsim.histogram import N_BUCKETS
from mcsim.params import validate
from mcsim.scenario import compile_scenario
from mcsim.workload import load_workload


def plain_core():
    return load_extension("_engine_plain")


def record(**params):
    return compile_scenario(validate(params))


@pytest.mark.parametrize("params, fits", [
    ({}, True),
    ({"writer_ratio": 1.0, "hp_rate": 0.0}, True),
    ({"wake_jitter": "3us"}, True),                    # const: folded into wake
    ({"kernel": "4.19", "p_same_vma": 0.5}, True),     # 4.19's writers never take V
    ({"kernel": "6.18", "p_same_vma": 0.0}, True),     # no writer takes V
    ({"kernel": "6.18"}, False),                       # p_same_vma 0.5 by default
    ({"wake_jitter": "exp(3us)"}, False),
    ({"cpus": 1}, False),
])
def test_which_scenarios_are_plain(params, fits):
    assert compiled_engine().plain_family(record(**params)) is fits


def test_threads_and_other_generators_are_not_plain():
    core = compiled_engine()
    wl = load_workload("ps-scan")
    rec = compile_scenario(wl.config())
    wl.apply(rec)
    assert not core.plain_family(rec)
    ss = np.random.SeedSequence(1)
    assert core.plain_family(record(), np.random.PCG64DXSM(ss))
    assert not core.plain_family(record(), np.random.PCG64(ss))


def run(core, rec, bitgen, trials=2000):
    out = BlockOutput.zeros()
    rows = np.zeros((trials, len(lay.TRIAL_FIELDS)), dtype=np.int64)
    core.run_block(rec, bitgen, trials, out.hist_arrays, out.hist_scalars,
                   out.hist_floats, out.counters, rows)
    return out, rows


def test_the_plain_build_refuses_other_runs():
    with pytest.raises(ValueError, match="runs only the plain scenario family"):
        run(plain_core(), record(cpus=1), block_bitgen(1, 0))
    with pytest.raises(ValueError, match="runs only the plain scenario family"):
        run(plain_core(), record(), np.random.PCG64(1))
    with pytest.raises(ValueError, match="runs no script"):
        plain_core().run_script(record(), np.zeros(0))


@pytest.mark.parametrize("params", [{}, {"writer_ratio": 1.0, "hp_rate": 0.0},
                                    {"kernel": "6.18", "p_same_vma": 0.0, "p_retry_miss": 0.3}])
def test_run_block_goes_to_the_plain_build_with_the_same_bytes(params):
    core, plain = compiled_engine(), plain_core()
    rec = record(**params)
    before = plain.blocks_run(), core.blocks_run()
    out, rows = run(core, rec, block_bitgen(3, 0))
    assert (plain.blocks_run(), core.blocks_run()) == (before[0] + 1, before[1])
    was = core.use_plain_build(False)
    try:
        out2, rows2 = run(core, rec, block_bitgen(3, 0))
    finally:
        core.use_plain_build(was)
    assert (plain.blocks_run(), core.blocks_run()) == (before[0] + 1, before[1] + 1)
    assert out.counters[lay.COUNTERS.index("events")] > 1000
    np.testing.assert_array_equal(rows, rows2)
    for a, b in zip((out.hist_arrays, out.hist_scalars, out.hist_floats, out.counters),
                    (out2.hist_arrays, out2.hist_scalars, out2.hist_floats, out2.counters)):
        np.testing.assert_array_equal(a, b)


def test_simulate_goes_to_the_plain_build_with_the_same_bytes():
    """run_blocks_merged (the path of simulate) dispatches too; a scenario outside the
    family stays on the general build."""
    core, plain = compiled_engine(), plain_core()
    before = plain.blocks_run()
    a = mcsim.simulate(trials=70_000, seed=4)
    assert plain.blocks_run() == before + 2          # 65,536 + 4,464 trials
    was = core.use_plain_build(False)
    try:
        b = mcsim.simulate(trials=70_000, seed=4)
    finally:
        core.use_plain_build(was)
    assert plain.blocks_run() == before + 2
    assert a.counters == b.counters and all(a[m] == b[m] for m in lay.METRICS)
    general = core.blocks_run()
    mcsim.simulate(trials=100, seed=4, cpus=1)
    assert (plain.blocks_run(), core.blocks_run()) == (before + 2, general + 1)


def test_the_general_build_refuses_a_plain_build_of_other_sources(monkeypatch):
    """mcsim._engine finds mcsim._engine_plain by its SOURCE_HASH, which must be its own
    (the general build's was checked against the sources on disk when it was loaded)."""
    core = compiled_engine()
    monkeypatch.setattr(plain_core(), "SOURCE_HASH", "0" * 64)
    monkeypatch.setattr(core, "_plain_module", [])
    with pytest.raises(ImportError, match="_engine_plain is missing or was built from other"):
        run(core, record(), block_bitgen(1, 0))
    was = core.use_plain_build(False)           # the general build alone still runs it
    try:
        out, _ = run(core, record(), block_bitgen(1, 0))
    finally:
        core.use_plain_build(was)
    assert out.counters[lay.COUNTERS.index("events")] > 1000


def run_from(core, rec, start, trials=3000):
    """A block accumulated into arrays that start at ``start`` (not zero)."""
    out = BlockOutput.zeros()
    out.hist_arrays[...] = start
    core.run_block(rec, block_bitgen(7, 0), trials, out.hist_arrays, out.hist_scalars,
                   out.hist_floats, out.counters)
    return out


@pytest.mark.parametrize("room", [None, 4000, 60])
@pytest.mark.parametrize("acquisitions", [1, 2])
def test_the_plain_builds_histograms_near_the_int64_limit(room, acquisitions):
    """The plain build closes one-sample trials into ``ones`` and, with one acquisition
    per read, records hp_wait's samples for hp_acq_wait too (hist.pxd: hist_twin_start);
    both must part before an entry may saturate.  Arrays that start ``room`` below
    INT64_MAX (nn_safe = room: with 60 the first long trial saturates, with 4000 one
    later in the block) give the bytes of the general build, which does neither."""
    core = compiled_engine()
    rec = record(hp_rate=3000.0)
    rec["hp_acquisitions"] = acquisitions
    start = np.full((len(lay.METRICS), 3, N_BUCKETS), 11, dtype=np.int64)
    if room is not None:
        start[:, 1:, :] = np.iinfo(np.int64).max - room
    was = core.use_plain_build(False)
    try:
        general = run_from(core, rec, start)
    finally:
        core.use_plain_build(was)
    plain = run_from(plain_core(), rec, start)
    hp_wait, hp_acq = lay.METRICS.index("hp_wait"), lay.METRICS.index("hp_acq_wait")
    n = general.hist_scalars[:, 0]
    assert n[hp_wait] > 500 and n[hp_acq] == acquisitions * n[hp_wait]
    if room is not None:       # some entries saturated (else the test tests nothing)
        assert (general.hist_arrays[hp_wait, 1:] == np.iinfo(np.int64).max).any()
    for name in ("hist_arrays", "hist_scalars", "hist_floats", "counters"):
        assert getattr(plain, name).tobytes() == getattr(general, name).tobytes(), name
