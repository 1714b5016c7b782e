"""The compiled core's PCG64DXSM fast path (kernels_pyx/engine_random.pxi): it steps its
own copy of the block generator's state, so it must give numpy's stream bit for bit, in
the same order through numpy's ziggurat draws, and leave the caller's generator exactly
where numpy's own draws would.  Any other bit generator is drawn from through its
bitgen_t; a PCG64DXSM subclass takes that generic path too, which is how these tests
compare the two paths on the same stream."""

import numpy as np
import pytest

from mcsim.engine import BlockOutput, block_bitgen, compiled_engine
from mcsim.params import validate
from mcsim.scenario import compile_scenario


class GenericPCG64DXSM(np.random.PCG64DXSM):
    """The same generator, but not exactly the type the fast path recognises."""


def _state(bg):
    """A generator's state, comparable with == (whatever its type's name and arrays)."""
    st = dict(bg.state)
    st.pop("bit_generator")
    return repr(st)


def _draws(bg, n, what):
    return compiled_engine()._pcg64_draws(bg, n, what)


@pytest.mark.parametrize("seed", [0, 1, 12345, 2**63 + 7])
def test_raw_and_double_draws_match_numpy(seed):
    ours, theirs = np.random.PCG64DXSM(seed), np.random.PCG64DXSM(seed)
    assert np.array_equal(_draws(ours, 5000, "raw"), theirs.random_raw(5000))
    assert ours.state == theirs.state
    u = _draws(ours, 5000, "double")
    assert np.array_equal(u, np.random.Generator(theirs).random(5000))
    assert ours.state == theirs.state


def test_ziggurat_draws_match_numpy():
    ours, theirs = block_bitgen(3, 1), block_bitgen(3, 1)
    gen = np.random.Generator(theirs)
    assert np.array_equal(_draws(ours, 20000, "exponential"), gen.standard_exponential(20000))
    assert np.array_equal(_draws(ours, 20000, "normal"), gen.standard_normal(20000))
    assert ours.state == theirs.state


# numpy's ziggurat draws (numpy/random/src/distributions/distributions.c): the core takes
# the fast path inline and leaves the rest to numpy's own function.  The known answers
# are numpy's: its Generator's draws, from the same seed, over a few million draws.
ZIG_N = 2_000_000
ZIGGURAT_R = {"exponential": 7.69711747013104972, "normal": 3.65415288536100880}  # numpy's
ZIG_METHOD = {"exponential": "standard_exponential", "normal": "standard_normal"}


@pytest.fixture(scope="module", params=["_engine", "_engine_plain"])
def core(request):
    """Both builds: the general one draws inline where s.fast_rng, the plain one always."""
    from mcsim.engine import load_extension
    return load_extension(request.param)


@pytest.mark.parametrize("what", ["exponential", "normal"])
@pytest.mark.parametrize("seed", [0, 7, 2**64 - 1])
def test_ziggurat_draws_match_numpy_over_millions(core, what, seed):
    ours, theirs = np.random.PCG64DXSM(seed), np.random.PCG64DXSM(seed)
    want = getattr(np.random.Generator(theirs), ZIG_METHOD[what])(ZIG_N)
    assert np.array_equal(core._pcg64_draws(ours, ZIG_N, what), want)
    assert ours.state == theirs.state


@pytest.mark.parametrize("what", ["exponential", "normal"])
def test_ziggurat_fast_path_declines_and_numpy_takes_over(core, what):
    """The inline fast path alone: where it returns, numpy's value; where it declines,
    the state it found is back and numpy's function draws that value from it.  Both of
    numpy's rare paths are reached: the tail beyond the base layer's r (idx 0) and the
    wedges; about 2.3% (exponential) and 1.5% (normal) of draws decline."""
    ours, theirs = np.random.PCG64DXSM(11), np.random.PCG64DXSM(11)
    want = getattr(np.random.Generator(theirs), ZIG_METHOD[what])(ZIG_N)
    got = core._pcg64_draws(ours, ZIG_N, what + "-fast")
    assert ours.state == theirs.state
    assert not np.isinf(got).any()                # every decline put the state back
    declined = np.isnan(got)
    assert np.array_equal(got[~declined], want[~declined])
    tail = np.abs(want[declined]) >= ZIGGURAT_R[what]
    assert 0.005 * ZIG_N < declined.sum() < 0.05 * ZIG_N
    assert tail.sum() > 100 and (~tail).sum() > 10_000


@pytest.mark.parametrize("what", ["exponential", "normal"])
def test_ziggurat_bounds_are_numpys(core, what):
    """Random draws almost never land on a bound, so each index's bound is checked where
    it lies: numpy's function (the one linked in) takes its fast path, drawing one uint64,
    exactly where the inline test does, with the same value, one below the bound and not
    at it (index 1's bound is 0: never)."""
    rows = core._ziggurat_bounds(what)
    assert len(rows) == (511 if what == "exponential" else 1022)
    for idx, m, took, used, x, y in rows:
        assert bool(took) == (used == 1), (idx, m)
        assert took or used > 1
        if took:
            assert np.float64(x).tobytes() == np.float64(y).tobytes(), (idx, m)
    bounds = {}
    for idx, m, took, used, x, y in rows:
        bounds.setdefault(idx, set()).add((m, took))
    for idx, seen in bounds.items():
        top = max(m for m, _ in seen)
        assert (top, 0) in seen and ((top - 1, 1) in seen) == (idx != 1)


def test_mixed_draws_keep_one_stream_in_order():
    ours, theirs = block_bitgen(8, 0), block_bitgen(8, 0)
    gen = np.random.Generator(theirs)
    want = []
    for i in range(4000):
        k = i % 4
        if k == 0:
            want.append(gen.random())
        elif k == 1:
            want.append(gen.standard_exponential())
        elif k == 2:
            want.append(gen.standard_normal())
        else:
            want.append(float(int(theirs.random_raw()) >> 11))
    assert np.array_equal(_draws(ours, 4000, "mixed"), np.array(want))
    assert ours.state == theirs.state


def test_uint32_draws_keep_numpys_buffered_half():
    ours, theirs = np.random.PCG64DXSM(4), np.random.PCG64DXSM(4)
    np.random.Generator(ours).integers(0, 2**32, size=3, dtype=np.uint32)   # odd: a half left
    want = np.random.Generator(theirs)
    want.integers(0, 2**32, size=3, dtype=np.uint32)
    assert ours.state == theirs.state and ours.state["has_uint32"] == 1
    assert np.array_equal(_draws(ours, 7, "uint32"),
                          want.integers(0, 2**32, size=7, dtype=np.uint32))
    assert ours.state == theirs.state


def _run(params, bg, trials):
    rec = compile_scenario(validate(params))
    out = BlockOutput.zeros()
    rows = np.zeros((trials, len(compiled_engine().TRIAL_FIELD_NAMES)), dtype=np.int64)
    compiled_engine().run_block(rec, bg, trials, out.hist_arrays, out.hist_scalars,
                                out.hist_floats, out.counters, rows)
    return [out.hist_arrays, out.hist_scalars, out.hist_floats, out.counters, rows]


CONFIGS = [
    ({}, 1500),
    (dict(writer_ratio=1.0, bg_io_rate=0.0, hp_rate=0.0, writer_hold="exp(1ms)"), 1500),
    (dict(cpus=2, cpu_switch="exp(2us)", wake_jitter="lognormal(3us, 0.5)"), 500),
]


@pytest.mark.parametrize("params,trials", CONFIGS)
def test_fast_and_generic_paths_agree(params, trials):
    fast, generic = block_bitgen(21, 2), GenericPCG64DXSM(np.random.SeedSequence(21, spawn_key=(2,)))
    a, b = _run(params, fast, trials), _run(params, generic, trials)
    for x, y in zip(a, b):
        assert np.array_equal(x, y)
    assert _state(fast) == _state(generic)        # the fast path wrote its state back
    assert _state(fast) != _state(block_bitgen(21, 2))


@pytest.mark.parametrize("cls", [np.random.PCG64, np.random.SFC64, np.random.MT19937,
                                 np.random.Philox])
def test_other_bit_generators_run_through_their_bitgen(cls):
    a, b = cls(17), cls(17)
    x, y = _run({}, a, 300), _run({}, b, 300)
    for u, v in zip(x, y):
        assert np.array_equal(u, v)
    assert _state(a) == _state(b) != _state(cls(17))


@pytest.mark.parametrize("cls", [np.random.PCG64, np.random.SFC64])
def test_generic_path_matches_the_reference_engine(cls):
    """The generic path draws what the Python reference draws from the same generator."""
    from mcsim.engine import output_of_reference
    from mcsim.reference import ReferenceEngine

    params = dict(cpus=2, cpu_switch="exp(2us)", wake_jitter="lognormal(3us, 0.5)")
    rec = compile_scenario(validate(params))
    x = _run(params, cls(5), 40)
    ref = output_of_reference(ReferenceEngine(rec, cls(5)).run_trials(40))
    for u, v in zip(x[:4], [ref.hist_arrays, ref.hist_scalars, ref.hist_floats, ref.counters]):
        assert np.array_equal(u, v)


def _libm_exp():
    """libm's own exp (exp@@GLIBC_2.29 on glibc: the wrapper the core skips), by ctypes."""
    import ctypes
    import ctypes.util
    name = ctypes.util.find_library("m")
    if name is None:
        pytest.skip("no libm to compare with")
    f = ctypes.CDLL(name).exp
    f.restype, f.argtypes = ctypes.c_double, [ctypes.c_double]
    return f


def test_the_lognormal_exp_is_libms_bit_for_bit(core):
    """The lognormal draw's exp (engine_random.pxi's mcsim_exp: glibc's __exp_finite on
    x86-64, the function behind exp's errno wrapper) returns libm's exp's bits: on the
    lognormal's arguments b·Z (Z normal, b up to a few), across the whole finite range,
    and where exp overflows (+inf), underflows (subnormal, 0) or meets inf and NaN."""
    libm_exp = _libm_exp()
    rng = np.random.default_rng(20261203)
    x = np.concatenate([
        rng.standard_normal(200_000) * rng.choice([0.1, 0.5, 1.0, 2.0, 4.0], 200_000),
        rng.uniform(-746.0, 710.0, 100_000),
        np.array([0.0, -0.0, 1e-300, -1e-300, 5e-324, 709.78, 709.7827128933840,
                  709.7827128933841, 710.0, 1e308, -708.4, -745.1, -745.2, -746.0, -1e308,
                  np.inf, -np.inf, np.nan]),
    ])
    got, name = core._exp_values(x)
    want = np.array([libm_exp(float(v)) for v in x])
    assert name in ("__exp_finite@GLIBC_2.15", "exp")
    assert got.tobytes() == want.tobytes()
    assert np.isinf(got[-3]) and got[-2] == 0.0 and np.isnan(got[-1])
    assert (got[-11:-9] == np.inf).all() and 0 < got[-8] < 2.3e-308   # overflow, subnormal


def test_the_cores_roundings_to_ns_are_numerics(core):
    """Both of the core's roundings of a draw to ns (to_ns, and its twin with memory
    operands at the arrival's gap) give mcsim.numeric.to_ns's integer: round half up,
    clamped to [0, MAX_DRAW_NS], NaN and -inf to 0, +inf to MAX_DRAW_NS."""
    from mcsim.numeric import MAX_DRAW_NS, to_ns
    rng = np.random.default_rng(8)
    x = np.concatenate([
        rng.standard_exponential(50_000) * 10.0 ** rng.integers(-3, 17, 50_000),
        rng.standard_normal(20_000) * 1e3,
        np.array([0.0, -0.0, 0.49999999999999994, 0.5, 1.5, 2.5, -0.5, -0.6, -1e300,
                  MAX_DRAW_NS - 1.0, float(MAX_DRAW_NS), MAX_DRAW_NS * 2.0, 1e300,
                  np.inf, -np.inf, np.nan, 5e-324]),
    ])
    want = np.array([to_ns(float(v)) for v in x], dtype=np.int64)
    a, b = core._to_ns_values(x)
    assert np.array_equal(a, want) and np.array_equal(b, want)
    assert want[-4] == MAX_DRAW_NS and want[-3] == 0 and want[-2] == 0
