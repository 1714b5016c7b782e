"""The compiled runs of several blocks and their merge (kernels_pyx/engine_merge.pxi,
engine_seed.pxi, mcsim.engine.run_blocks): the same bytes as the Python merge of the
blocks one by one, ``BlockOutput.add`` (saturating sums, vmin/vmax by min/max, the two
high-water counters by max, float sums block by block in block order), for any grouping
and worker count."""
import numpy as np
import pytest

from mcsim import layout as lay
from mcsim.engine import (BlockOutput, _compiled_block, block_bitgen, block_sizes,
                          compiled_engine, merge_compiled, run_blocks)
from mcsim.errors import SimulationError
from mcsim.histogram import EMPTY_VMAX, EMPTY_VMIN, INT_SCALARS
from mcsim.numeric import MAX_DRAW_NS, SATURATED
from mcsim.params import validate
from mcsim.points import PointSpec
from mcsim.scenario import compile_scenario

VMIN, VMAX = INT_SCALARS.index("vmin"), INT_SCALARS.index("vmax")
MAXIMA = [lay.C["max_pending_events"], lay.C["max_trial_events"]]


def same(a: BlockOutput, b: BlockOutput) -> None:
    for name in ("hist_arrays", "hist_scalars", "hist_floats", "counters"):
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype and x.tobytes() == y.tobytes(), name


def crafted(rng, filled) -> BlockOutput:
    """A block's output with entries anywhere in [0, 2**63): about half of the large ones
    overflow when two are added; empty metrics keep the empty vmin/vmax."""
    out = BlockOutput.zeros()
    big = lambda *shape: rng.integers(0, SATURATED, size=shape, dtype=np.int64,
                                      endpoint=True)
    small = lambda *shape: rng.integers(0, 1000, size=shape, dtype=np.int64)
    for m in filled:
        out.hist_arrays[m] = np.where(rng.random(out.hist_arrays[m].shape) < 0.5,
                                      big(*out.hist_arrays[m].shape),
                                      small(*out.hist_arrays[m].shape))
        out.hist_scalars[m] = big(len(INT_SCALARS))
        lo, hi = np.sort(rng.integers(0, 10**6, size=2))
        out.hist_scalars[m, VMIN], out.hist_scalars[m, VMAX] = lo, hi
    out.hist_floats[:] = rng.standard_normal(out.hist_floats.shape) * 1e6
    out.counters[:] = np.where(rng.random(len(out.counters)) < 0.5, big(len(out.counters)),
                               small(len(out.counters)))
    out.counters[MAXIMA] = small(2)
    out.filled = np.array(sorted(filled), dtype=np.int64)
    return out


def copy(out: BlockOutput) -> BlockOutput:
    return BlockOutput(*(x.copy() for x in (out.hist_arrays, out.hist_scalars,
                                            out.hist_floats, out.counters)), out.filled)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_compiled_merge_is_the_python_merge(seed):
    """Saturation, min/max, counters by max: merge_compiled of each crafted block equals
    BlockOutput.add of it, and so does merging the blocks' integer sums first (in
    compiled code, in another order) with their float sums added block by block after."""
    rng = np.random.default_rng(seed)
    nm = len(lay.METRICS)
    base = crafted(rng, [0, 3])
    blocks = [crafted(rng, rng.choice(nm, size=3, replace=False)) for _ in range(5)]
    want, got = copy(base), copy(base)
    for b in blocks:
        want.add(b)
        merge_compiled(got, b)
    same(got, want)
    assert list(got.filled) == list(want.filled)
    assert (got.hist_arrays == SATURATED).any() and (got.counters == SATURATED).any()
    assert np.all(got.hist_arrays >= 0) and np.all(got.counters >= 0)

    ints = BlockOutput.zeros()
    for b in reversed(blocks):
        merge_compiled(ints, b)
    grouped = copy(base)
    merge_compiled(grouped, ints, block_floats=np.stack([b.hist_floats for b in blocks]))
    same(grouped, want)


def test_the_compiled_merge_of_empty_metrics_keeps_them_empty():
    total, part = BlockOutput.zeros(), BlockOutput.zeros()
    part.counters[MAXIMA] = (7, 9)
    merge_compiled(total, part)
    assert np.all(total.hist_scalars[:, VMIN] == EMPTY_VMIN)
    assert np.all(total.hist_scalars[:, VMAX] == EMPTY_VMAX)
    assert list(total.counters[MAXIMA]) == [7, 9]


def test_the_merge_checks_its_arguments():
    total, part = BlockOutput.zeros(), BlockOutput.zeros()
    part.filled = np.array([len(lay.METRICS)], dtype=np.int64)
    with pytest.raises(ValueError, match="not a metric"):
        merge_compiled(total, part)
    with pytest.raises(ValueError, match="hist_arrays must be"):
        compiled_engine().merge_outputs(
            total.hist_arrays[1:], total.hist_scalars, total.hist_floats, total.counters,
            part.hist_arrays, part.hist_scalars, part.hist_floats[None], part.counters,
            np.zeros(0, dtype=np.int64))


def run_chunk(rec, seed, blocks, rows=True) -> BlockOutput:
    """run_blocks_merged of the (block, trials) pairs into zeros; with ``rows``, the
    float sums come back one row per block and are added here, in order."""
    core, out = compiled_engine(), BlockOutput.zeros()
    ids, trials = (np.array(c, dtype=np.int64) for c in zip(*blocks))
    kept = np.full((len(blocks), len(lay.METRICS), 2), np.nan) if rows else None
    core.run_blocks_merged(rec, core.seed_words(seed), ids, trials, out.hist_arrays,
                           out.hist_scalars, out.hist_floats, out.counters,
                           block_floats=kept)
    if rows:
        assert not np.isnan(kept).any() and not out.hist_floats.any()
        core.add_float_rows(out.hist_floats, kept)
    return out


def short_workload(name="mkwrite-vs-mprotect", window_ns=40_000_000):
    """A ready workload's record with a shorter warm-up and window (fewer events)."""
    point = PointSpec.make({}, trials=1, seed=0, command="", workload=name)
    rec = compile_scenario(point.config, point.workload)
    rec[0]["warmup_ns"], rec[0]["window_ns"] = 5_000_000, window_ns
    return rec


def one_by_one(rec, seed, blocks) -> BlockOutput:
    """The blocks as run_blocks merged them before chunks: run_block each into a zeroed
    output, BlockOutput.add in block order."""
    total = BlockOutput.zeros()
    for block, trials in blocks:
        total.add(_compiled_block(rec, block, trials, seed))
    return total


@pytest.mark.parametrize("name", ["mkwrite-vs-mprotect", "mkwrite-vs-mprotect-2cpus",
                                  "read-vs-mmap"])
def test_a_chunk_of_window_blocks_is_the_blocks_one_by_one(name):
    rec = short_workload(name)
    blocks = [(b, 1) for b in range(3, 3 + 7)]
    want = one_by_one(rec, 11, blocks)
    same(run_chunk(rec, 11, blocks), want)
    same(run_chunk(rec, 11, blocks, rows=False), want)


def test_blocks_merged_straight_into_a_total_are_the_blocks_one_by_one():
    """run_blocks_merged into an output that already holds blocks, adding the float sums
    block by block (one worker's path), with the yy/yn bound scanned (-1) or carried."""
    rec, core = short_workload(), compiled_engine()
    want = one_by_one(rec, 4, [(b, 1) for b in range(6)])
    for bound in (-1, None):
        total, largest = BlockOutput.zeros(), 0
        for first in (0, 2, 5):
            last = {0: 2, 2: 5, 5: 6}[first]
            blocks = np.arange(first, last, dtype=np.int64)
            largest = core.run_blocks_merged(
                rec, core.seed_words(4), blocks, np.ones_like(blocks), total.hist_arrays,
                total.hist_scalars, total.hist_floats, total.counters,
                largest=largest if bound is None else bound)
        same(total, want)


def test_a_chunk_of_regenerative_blocks_is_the_blocks_one_by_one():
    rec = compile_scenario(validate({"policy": "hold"}))
    blocks = [(0, 500), (1, 300), (2, 1)]
    same(run_chunk(rec, 5, blocks), one_by_one(rec, 5, blocks))


def test_a_chunk_saturates_its_counters():
    """Two blocks of 600 one-read trials with 2**53 ns gaps in one chunk: each has sim_ns
    600 * 2**53 (5.4e18), together past 2**63."""
    rec = compile_scenario(validate())
    rec["cut_hp"], rec["cut_lp"] = 1.0, 1.0
    rec["arrival_mean_ns"] = np.inf
    c = run_chunk(rec, 1, [(0, 600), (1, 600)]).counter_dict()
    assert c["sim_ns"] == SATURATED and c["trials"] == 1200
    assert MAX_DRAW_NS * 600 < SATURATED < MAX_DRAW_NS * 1200


@pytest.mark.parametrize("seed", [0, 1, 5, 2**32 - 1, 2**32, 20180101, 2**63 - 1,
                                  2**70 + 3, 2**200 + 7])
def test_the_core_seeds_a_block_as_numpy(seed):
    """A block's generator seeded in C (SeedSequence and PCG64DXSM's seeding) is numpy's,
    for seeds of 1 to 7 words and block indices of 1 and 2 words."""
    core = compiled_engine()
    for block in (0, 1, 3, 2**32 - 1, 2**32, 2**40 + 5, 2**63 - 1):
        st = block_bitgen(seed, block).state["state"]
        assert core._block_pcg_state(seed, block) == (st["state"], st["inc"])
    with pytest.raises(ValueError, match="non-negative"):
        core.seed_words(-1)


def test_a_failing_block_in_a_chunk_raises_as_run_block():
    rec = short_workload()
    rec[0]["max_trial_events"] = 50
    with pytest.raises(SimulationError, match="max_trial_events=50"):
        run_chunk(rec, 1, [(0, 1), (1, 1)])


@pytest.mark.parametrize("first", [0, 13])
def test_run_blocks_gives_the_same_bytes_for_any_worker_count(first):
    """A workload's window blocks, chunked differently for 1, 2 and 3 workers, and the
    merge of the blocks one by one: the same bytes."""
    rec = short_workload(window_ns=20_000_000)
    blocks = block_sizes(37, first_block=first, block_trials=1)
    want = one_by_one(rec, 9, blocks)
    for workers in (1, 2, 3):
        seen = []
        got = run_blocks(rec, 9, blocks, workers=workers, progress=seen.append)
        same(got, want)
        assert sum(seen) == 37


def test_chunks_share_a_spare_array_that_each_leaves_zeroed():
    """run_blocks_merged's ``spare`` (the plain build's histogram arrays, zeroed once per
    run by mcsim.engine.run_blocks): several chunks that share one give the bytes of the
    blocks one by one, and it is all zeros after each; a wrong size is refused."""
    core, rec = compiled_engine(), compile_scenario(validate())
    spare = np.zeros(core.spare_size(), dtype=np.int64)
    out, blocks = BlockOutput.zeros(), [(0, 3000), (1, 2000), (2, 4000)]
    for block, trials in blocks:
        core.run_blocks_merged(rec, core.seed_words(9), np.array([block], dtype=np.int64),
                               np.array([trials], dtype=np.int64), out.hist_arrays,
                               out.hist_scalars, out.hist_floats, out.counters, spare=spare)
        assert not spare.any()
    same(out, one_by_one(rec, 9, blocks))
    with pytest.raises(ValueError, match="spare has 5 entries; it must have spare_size"):
        core.run_blocks_merged(rec, core.seed_words(9), np.array([0], dtype=np.int64),
                               np.array([10], dtype=np.int64), out.hist_arrays,
                               out.hist_scalars, out.hist_floats, out.counters,
                               spare=np.zeros(5, dtype=np.int64))
