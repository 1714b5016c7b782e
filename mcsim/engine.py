"""Run compiled scenarios in blocks of trials, on one or several threads.

Trials are grouped in blocks of :data:`BLOCK_TRIALS` regenerative cycles, or of one window
trial (:func:`trial_block_size`, docs/model.md §12.3).  Block ``b`` of a run with seed ``s``
draws from its own stream, ``PCG64DXSM(SeedSequence(s, spawn_key=(b,)))``, whatever thread,
process or machine runs it; blocks are merged in index order.  So the result of a run is a
pure function of (scenario, seed, number of trials): the same bytes for 1 or N workers.
The compiled core takes consecutive blocks by chunks (a run of one-trial window blocks
would otherwise spend much of its time in Python, under the GIL); a chunk's integer sums
merge in any grouping, and its blocks' float sums are still added one block at a time.

Both engines sit behind the same function: ``engine="compiled"`` (``mcsim._engine``, the
default) and ``engine="reference"`` (the pure-Python twin, for tests).
"""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from collections.abc import Sequence
from typing import Callable, Iterator

import numpy as np

from . import layout as lay
from ._build import load_extension
from .histogram import (ARRAYS, EMPTY_VMAX, EMPTY_VMIN, FLOAT_SCALARS, INT_SCALARS, N_BUCKETS,
                        Histogram)
from .numeric import SATURATED, sat_add_into

BLOCK_TRIALS = 1 << 16
#: Most blocks the compiled core runs in one call (:func:`_run_chunks`): one-trial
#: window blocks go by up to this many, so that the Python around a call (the blocks'
#: seeding, the merge) is a small part of a run and threads scale; a chunk stops earlier
#: at :data:`CHUNK_TRIALS` trials (a block of regenerative cycles is a chunk of its own).
CHUNK_BLOCKS = 16
CHUNK_TRIALS = 256
ENGINES = ("compiled", "reference")
#: Columns of ``BlockOutput.hist_scalars`` (mcsim.histogram.INT_SCALARS).
_VMIN, _VMAX = INT_SCALARS.index("vmin"), INT_SCALARS.index("vmax")
_N = INT_SCALARS.index("n")
_SUMMED = [i for i, name in enumerate(INT_SCALARS) if name not in ("vmin", "vmax")]


def block_bitgen(seed: int, block: int) -> np.random.PCG64DXSM:
    """The bit generator of one block: a function of (seed, block index) only."""
    return np.random.PCG64DXSM(np.random.SeedSequence(seed, spawn_key=(block,)))


def trial_block_size(record) -> int:
    """Trials per block for a compiled scenario record: :data:`BLOCK_TRIALS` regenerative
    cycles, or 1 for window trials, so that window trial ``k`` draws from the stream of
    block ``k`` (docs/model.md §12.3) and trials merge exactly in any grouping.

    >>> from mcsim.params import validate
    >>> from mcsim.scenario import TRIAL_WINDOW, compile_scenario
    >>> rec = compile_scenario(validate())
    >>> trial_block_size(rec) == BLOCK_TRIALS
    True
    >>> rec["trial_kind"] = TRIAL_WINDOW
    >>> trial_block_size(rec)
    1
    """
    from .scenario import TRIAL_WINDOW
    kind = int(np.asarray(record).reshape(-1)[0]["trial_kind"])
    return 1 if kind == TRIAL_WINDOW else BLOCK_TRIALS


def block_sizes(n_trials: int, first_block: int = 0,
                block_trials: int = BLOCK_TRIALS) -> BlockPlan:
    """``(block index, trials)`` for a run of ``n_trials`` starting at ``first_block``, in
    blocks of ``block_trials`` (:func:`trial_block_size` of the scenario).

    >>> list(block_sizes(BLOCK_TRIALS + 5, first_block=2))
    [(2, 65536), (3, 5)]
    >>> list(block_sizes(3, first_block=7, block_trials=1))
    [(7, 1), (8, 1), (9, 1)]
    """
    return BlockPlan(n_trials, first_block, block_trials)


class BlockPlan(Sequence):
    """The blocks of a run as a lazy sequence: a run of 10**12 trials is 15 million
    blocks, which must not become a list before the first one runs."""

    def __init__(self, n_trials: int, first_block: int = 0, block_trials: int = BLOCK_TRIALS):
        if block_trials < 1:
            raise ValueError(f"block_trials must be at least 1, not {block_trials}")
        self.n_trials, self.first_block, self.block_trials = n_trials, first_block, block_trials
        self._full, self._rest = divmod(n_trials, block_trials)

    def __len__(self) -> int:
        return self._full + (1 if self._rest else 0)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        return (self.first_block + i, self.block_trials if i < self._full else self._rest)


@dataclass
class BlockOutput:
    """Raw arrays of one or more merged blocks, in the layout the C engine fills."""

    hist_arrays: np.ndarray     # [metric, (counts, yy, yn), bucket]
    hist_scalars: np.ndarray    # [metric, (n, total, vmin, vmax, nn, trials, overflow)]
    hist_floats: np.ndarray     # [metric, (ss, sn)]
    counters: np.ndarray        # [counter], int64; counter_record() views it typed
    #: Metrics whose arrays may be non-zero (an engine's output: those with samples);
    #: None: unknown, look at the arrays.
    filled: np.ndarray | None = None

    @classmethod
    def zeros(cls) -> BlockOutput:
        nm = len(lay.METRICS)
        scalars = np.zeros((nm, len(INT_SCALARS)), dtype=np.int64)
        scalars[:, _VMIN] = EMPTY_VMIN
        scalars[:, _VMAX] = EMPTY_VMAX
        return cls(np.zeros((nm, len(ARRAYS), N_BUCKETS), dtype=np.int64), scalars,
                   np.zeros((nm, len(FLOAT_SCALARS))),
                   np.zeros(len(lay.COUNTERS), dtype=np.int64))

    def add(self, other: BlockOutput) -> None:
        """Merge another block in place (floats add in call order).  Integer sums are
        exact up to the int64 limit and saturate there, as in the engines
        (:mod:`mcsim.numeric`): numpy's ``+=`` would wrap around silently.

        >>> a, b = BlockOutput.zeros(), BlockOutput.zeros()
        >>> a.counters[lay.C["sim_ns"]] = b.counters[lay.C["sim_ns"]] = 6 * 10**18
        >>> a.add(b); a.counter_dict()["sim_ns"] == SATURATED
        True
        """
        # Only the metrics whose arrays hold something (a one-trial block fills a few):
        # the merge of many small blocks stays cheap.
        filled = other.filled_metrics()
        for m in filled:
            sat_add_into(self.hist_arrays[m], other.hist_arrays[m])
        if self.filled is not None:
            self.filled = np.union1d(self.filled, filled)
        s, o = self.hist_scalars, other.hist_scalars
        summed = s[:, _SUMMED]                  # a copy (fancy index), written back
        sat_add_into(summed, o[:, _SUMMED])
        s[:, _SUMMED] = summed
        np.minimum(s[:, _VMIN], o[:, _VMIN], out=s[:, _VMIN])
        np.maximum(s[:, _VMAX], o[:, _VMAX], out=s[:, _VMAX])
        self.hist_floats += other.hist_floats
        maxima = [lay.C["max_pending_events"], lay.C["max_trial_events"]]
        merged_max = np.maximum(self.counters[maxima], other.counters[maxima])
        sat_add_into(self.counters, other.counters)
        self.counters[maxima] = merged_max

    def filled_metrics(self) -> np.ndarray:
        """Indices of the metrics whose arrays may hold something."""
        if self.filled is None:
            return np.flatnonzero(self.hist_arrays.reshape(len(self.hist_arrays), -1)
                                  .any(axis=1))
        return self.filled

    def histograms(self) -> dict[str, Histogram]:
        out = {}
        for m, name in enumerate(lay.METRICS):
            scalars = dict(zip(INT_SCALARS, (int(x) for x in self.hist_scalars[m])))
            scalars.update(zip(FLOAT_SCALARS, (float(x) for x in self.hist_floats[m])))
            a = self.hist_arrays[m]
            out[name] = Histogram.from_arrays(*(x.copy() for x in a), scalars)
        return out

    def counter_dict(self) -> dict[str, int]:
        return {name: int(v) for name, v in zip(lay.COUNTERS, self.counters)}

    def counter_record(self) -> np.ndarray:
        """The counters as one typed record (:data:`mcsim.layout.COUNTERS_DTYPE`), a view
        of the same bytes the engines fill.

        >>> out = BlockOutput.zeros(); out.counters[lay.C["retries"]] = 3
        >>> int(out.counter_record()["retries"])
        3
        """
        return self.counters.view(lay.COUNTERS_DTYPE)[0]


_compiled = []


def compiled_engine():
    """``mcsim._engine``, imported once and checked against the sources (never stale)."""
    if not _compiled:
        _compiled.append(load_extension("_engine"))
    return _compiled[0]


def _compiled_block(scenario, block: int, trials: int, seed: int) -> BlockOutput:
    """One block on the compiled core, alone (:func:`run_blocks` runs them by chunks)."""
    out = BlockOutput.zeros()
    compiled_engine().run_block(scenario, block_bitgen(seed, block), trials, out.hist_arrays,
                      out.hist_scalars, out.hist_floats, out.counters)
    out.filled = np.flatnonzero(out.hist_scalars[:, _N])   # a metric without samples: zeros
    return out


def _reference_block(scenario, block: int, trials: int, seed: int) -> BlockOutput:
    from .reference import ReferenceEngine

    return output_of_reference(
        ReferenceEngine(scenario, block_bitgen(seed, block)).run_trials(trials))


def output_of_reference(raw) -> BlockOutput:
    """The reference engine's raw result in the arrays the compiled core fills."""
    out = BlockOutput.zeros()
    for m, hist in enumerate(raw.hists):
        out.hist_arrays[m] = [getattr(hist, k) for k in ARRAYS]
        sc = hist.scalars()
        out.hist_scalars[m] = [sc[k] for k in INT_SCALARS]
        out.hist_floats[m] = [sc[k] for k in FLOAT_SCALARS]
    out.counters[:] = [raw.counters[name] for name in lay.COUNTERS]
    return out


RUNNERS: dict[str, Callable[..., BlockOutput]] = {
    "compiled": _compiled_block, "reference": _reference_block}


def merge_compiled(total: BlockOutput, part: BlockOutput,
                   block_floats: np.ndarray | None = None) -> None:
    """``total.add(part)`` in compiled code without the GIL (``mcsim._engine.merge_outputs``:
    the same bytes).  With ``block_floats`` (``[blocks, metric, (ss, sn)]``), ``part``
    holds several blocks' integer sums and these rows their float sums, added one block
    at a time, in order (``part.hist_floats`` is not read)."""
    floats = part.hist_floats[None] if block_floats is None else block_floats
    filled = np.asarray(part.filled_metrics(), dtype=np.int64)
    compiled_engine().merge_outputs(
        total.hist_arrays, total.hist_scalars, total.hist_floats, total.counters,
        part.hist_arrays, part.hist_scalars, floats, part.counters, filled)
    if total.filled is not None:
        total.filled = np.union1d(total.filled, filled)


def _columns(chunk: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    """The block indices and the trials of ``(block, trials)`` pairs, as int64 arrays."""
    blocks, trials = np.array(chunk, dtype=np.int64).reshape(-1, 2).T
    return np.ascontiguousarray(blocks), np.ascontiguousarray(trials)


class _Sums:
    """One thread's integer sums of the chunks it ran (they merge in any order), and the
    bound of their yy/yn entries that the core carries from call to call."""

    def __init__(self):
        self.out, self.largest, self.spare = BlockOutput.zeros(), 0, _spare()

    def run(self, scenario, words: np.ndarray, chunk: list[tuple[int, int]]):
        """The chunk's blocks added to these sums; returns their float sums (one row per
        block, to be added in block order) and their trials."""
        blocks, trials = _columns(chunk)
        rows = np.empty((len(chunk), len(lay.METRICS), len(FLOAT_SCALARS)))
        out = self.out
        self.largest = compiled_engine().run_blocks_merged(
            scenario, words, blocks, trials, out.hist_arrays, out.hist_scalars,
            out.hist_floats, out.counters, block_floats=rows, largest=self.largest,
            spare=self.spare)
        return rows, int(trials.sum())


def _spare() -> np.ndarray:
    """Zeroed arrays for the plain build's histograms (``run_blocks_merged``'s ``spare``),
    which every chunk of a run reuses: each leaves them zeroed."""
    return np.zeros(compiled_engine().spare_size(), dtype=np.int64)


def _chunks(blocks: Sequence[tuple[int, int]], workers: int) -> Iterator[list[tuple[int, int]]]:
    """Consecutive blocks grouped for one call of the core each: up to
    :data:`CHUNK_BLOCKS` blocks or :data:`CHUNK_TRIALS` trials and, with several workers,
    fewer as the run nears its end (a quarter of the blocks left per worker), so that the
    workers finish together and a short run still gives each of them several chunks.

    >>> [len(c) for c in _chunks(block_sizes(40, block_trials=1), workers=2)]
    [5, 4, 3, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]
    >>> [len(c) for c in _chunks(block_sizes(40, block_trials=1), workers=1)]
    [16, 16, 8]
    >>> [len(c) for c in _chunks(block_sizes(3 * BLOCK_TRIALS), workers=1)]
    [1, 1, 1]
    """
    left, chunk, trials = len(blocks), [], 0
    for block, n in blocks:
        chunk.append((block, n))
        trials += n
        size = CHUNK_BLOCKS if workers <= 1 else min(CHUNK_BLOCKS, left // (4 * workers))
        if len(chunk) >= size or trials >= CHUNK_TRIALS:
            left -= len(chunk)
            yield chunk
            chunk, trials = [], 0
    if chunk:
        yield chunk


def run_blocks(scenario: np.ndarray, seed: int, blocks: Sequence[tuple[int, int]],
               workers: int = 1, engine: str = "compiled",
               progress: Callable[[int], None] | None = None) -> BlockOutput:
    """Run the given ``(block, trials)`` pairs and merge them in block order.

    The compiled engine releases the GIL, so ``workers`` threads run blocks in parallel;
    at most ``2 * workers`` finished blocks (or chunks of blocks) wait to be merged, so
    memory stays flat.  ``progress`` is called with the number of trials just merged.
    """
    if RUNNERS[engine] is _compiled_block:
        return _run_chunks(scenario, seed, blocks, workers, progress)
    runner = RUNNERS[engine]
    total = BlockOutput.zeros()
    if workers <= 1:
        for block, trials in blocks:
            total.add(runner(scenario, block, trials, seed))
            if progress:
                progress(trials)
        return total
    with ThreadPoolExecutor(max_workers=workers) as pool:
        def submit(item):
            return pool.submit(runner, scenario, item[0], item[1], seed)
        for (block, trials), out in zip(blocks, _bounded(submit, blocks, 2 * workers)):
            total.add(out)
            if progress:
                progress(trials)
    return total


def _run_chunks(scenario, seed: int, blocks, workers: int, progress) -> BlockOutput:
    """:func:`run_blocks` on the compiled core, by chunks of blocks (:func:`_chunks`), so
    that the Python per one-trial block is small.  The integer sums merge in any order:
    one worker's chunks go straight into the total, and each of several workers keeps its
    own sums, merged into the total at the end, without the GIL.  The float sums come
    back one row per block and are added to the total in block order."""
    core = compiled_engine()
    words, total = core.seed_words(seed), BlockOutput.zeros()
    if workers <= 1:
        largest, spare = 0, _spare()
        for chunk in _chunks(blocks, 1):
            block_ids, trials = _columns(chunk)
            largest = core.run_blocks_merged(
                scenario, words, block_ids, trials, total.hist_arrays, total.hist_scalars,
                total.hist_floats, total.counters, largest=largest, spare=spare)
            if progress:
                progress(int(trials.sum()))
        return total
    local, sums = threading.local(), []

    def run(chunk):
        if not hasattr(local, "sums"):
            local.sums = _Sums()
            sums.append(local.sums)               # (list.append is atomic)
        return local.sums.run(scenario, words, chunk)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for rows, trials in _bounded(lambda chunk: pool.submit(run, chunk),
                                     _chunks(blocks, workers), 2 * workers):
            core.add_float_rows(total.hist_floats, rows)
            if progress:
                progress(trials)
    for part in sums:
        part.out.filled = np.flatnonzero(part.out.hist_scalars[:, _N])  # no samples: zeros
        merge_compiled(total, part.out, block_floats=np.zeros((0, *total.hist_floats.shape)))
    return total


def _bounded(submit, items, window) -> Iterator:
    """Like ``pool.map`` in order, but with at most ``window`` items submitted ahead:
    ``submit(item)`` returns a future."""
    pending = []
    for item in items:
        pending.append(submit(item))
        if len(pending) >= window:
            yield pending.pop(0).result()
    for fut in pending:
        yield fut.result()
