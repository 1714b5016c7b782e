"""What the differential tests share (tests/test_differential.py, the Hypothesis
strategies; tests/test_differential_stress.py, the fixed stress sets;
tests/test_differential_outside.py): :func:`assert_same_run`, which runs the compiled core
and its pure-Python twin on one configuration and asserts the same trials, histograms
and counters, bit for bit, on the build of the core the configuration belongs to and, for
the plain family, on the general build too; the reference engine that also records the
peaks the stress sets must reach; and the distributions the configurations draw from.
"""
from collections import Counter

import numpy as np
import pytest
from hypothesis import strategies as st

import mcsim
from mcsim import layout as lay
from mcsim._build import load_extension
from mcsim.engine import BlockOutput, block_bitgen, compiled_engine
from mcsim.kernels import KERNELS
from mcsim.params import validate
from mcsim.reference import ReferenceEngine
from mcsim.scenario import TK_FAULT, TK_HP, compile_scenario

durations = st.sampled_from(["0", "1us", "exp(20us)", "lognormal(50us, 1.0)", "const(3us)"])
devices = st.sampled_from(["ssd", "exp(200us)", "lognormal(500us, 0.8)", "const(150us)"])
#: CPUs (model.md §14): 0, every task on a CPU of its own (the model of §1–§13), most often.
CPUS = [0, 0, 0, 1, 2, 3]
#: The context switch onto a freed CPU (§14.3) and the wake-up jitter (§13.2, drawn on the
#: idle path of §14.2): const (no draw), exp and empirical.  No two of them are equal, so a
#: draw from one is never mistaken for a draw from the other.
CPU_SWITCHES = ["2us", "exp(3us)", "empirical(0, 1us, 4us, 30us)"]
JITTERS = ["0", "exp(5us)", "empirical(1us, 3us, 8us, 60us)"]
#: A server context's CPU work per issued bio (§14.6): none most often, const, exp, empirical.
IO_CPUS = ["0", "0", "20us", "exp(30us)", "empirical(5us, 20us, 90us)"]
#: Per-CPU run queues (§14.7): 0 (one run queue) most often, 1 (no draw), fractional.
AFFINITIES = [0.0, 0.0, 1.0, 0.5, 0.98]

# Initial capacities of the compiled core's growable buffers (sim_init in
# kernels_pyx/engine_api.pxi): the event heap, the task table and the two FIFOs (io.latency
# gate, L's wait queue).  Each doubles when full; the stress set must make all of them grow.
INITIAL_HEAP = 64
INITIAL_TASKS = 64
INITIAL_FIFO = 64


#: Blocks the differential tests ran on each build of the core (compiled_block), by
#: mcsim._engine's FAMILY: "plain" (mcsim._engine_plain) or "general".
BUILDS_RUN = Counter()


def _builds():
    return {core.FAMILY: core.blocks_run()
            for core in (compiled_engine(), load_extension("_engine_plain"))}


def compiled_block(scenario, seed, trials, counters=None, plain=True):
    """Run one block of ``trials`` on the compiled core; return its output and trial rows.

    ``counters`` (optional) is filled in place, so a caller still sees the counters when
    the block ends in an error.  This is the one place the differential tests call the
    core: it checks the engine's invariants after every event (as the reference does).
    A scenario of the plain family runs on mcsim._engine_plain, or with ``plain=False``
    on the general build; either way the build that ran is checked and counted.
    """
    core = compiled_engine()
    out = BlockOutput.zeros()
    if counters is not None:
        out.counters = counters
    rows = np.zeros((trials, len(lay.TRIAL_FIELDS)), dtype=np.int64)
    before, was = _builds(), core.use_plain_build(plain)
    try:
        core.run_block(scenario, block_bitgen(seed, 0), trials, out.hist_arrays,
                       out.hist_scalars, out.hist_floats, out.counters, rows,
                       check_invariants=True)
    finally:
        core.use_plain_build(was)
        ran = [f for f, n in _builds().items() if n > before[f]]
        expected = "plain" if plain and core.plain_family(scenario) else "general"
        assert ran == [expected], (ran, expected)
        BUILDS_RUN[expected] += 1
    return out, rows


def assert_general_build_agrees(scenario, seed, trials, out, rows, counters):
    """A plain-family scenario (run on mcsim._engine_plain) also on the general build:
    the same bytes, or the same error after the same counters."""
    if not compiled_engine().plain_family(scenario):
        return
    again = np.zeros(len(lay.COUNTERS), dtype=np.int64)
    if out is None:
        with pytest.raises(mcsim.SimulationError, match="overloaded"):
            compiled_block(scenario, seed, trials, again, plain=False)
        np.testing.assert_array_equal(again, counters)
        return
    out2, rows2 = compiled_block(scenario, seed, trials, again, plain=False)
    np.testing.assert_array_equal(rows2, rows)
    for a, b in zip((out.hist_arrays, out.hist_scalars, out.hist_floats, out.counters),
                    (out2.hist_arrays, out2.hist_scalars, out2.hist_floats, out2.counters)):
        np.testing.assert_array_equal(a, b)


class PeakReference(ReferenceEngine):
    """The reference engine, also recording the peak number of live tasks and the peak
    lengths of the gate, lock and run queues (what the core's task table and FIFOs must
    hold), how many random wake-up jitters it drew (§13.2, §14.2) and the most readers of
    L waiting at once in the run queue (a reader granted L with no idle CPU, §14.3).
    ``_check`` runs after every event when ``check_invariants`` is on."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.peaks = Counter()

    def _check(self):
        super()._check()
        for name, value in (("tasks", self.alive), ("gate_queue", len(self.gate_queue)),
                            ("lock_queue", len(self.queue)),
                            ("run_queue", len(self.run_queue)),
                            ("queued_holding_l", queued_readers_holding_l(self))):
            self.peaks[name] = max(self.peaks[name], value)

    def _wake_delay(self):
        self.peaks["jitter_draws"] += int(self.wake_jitter["kind"]) != 0
        return super()._wake_delay()


def queued_readers_holding_l(engine):
    """How many tasks in the reference's run queue (model.md §14.2) hold an L for read:
    HP readers and fault passes granted L while no CPU was idle (§14.3)."""
    return sum(ctx.holding and ctx.kind in (TK_HP, TK_FAULT) for ctx, _ in engine.run_queue)


def assert_same_run(params, seed, trials):
    """Run both engines on one configuration and assert they agree bit for bit.

    Returns ``(counters, peaks, overloaded, histograms)`` (histograms by metric name, None
    when overloaded).  An overloaded configuration must end in the
    same SimulationError on both engines, after the same completed trials and with the same
    counters up to the failing event.
    """
    scenario = compile_scenario(validate(params))
    ref = PeakReference(scenario, block_bitgen(seed, 0), record_trials=True,
                        check_invariants=True)
    counters = np.zeros(len(lay.COUNTERS), dtype=np.int64)
    try:
        ref.run_trials(trials)
    except mcsim.SimulationError:
        with pytest.raises(mcsim.SimulationError, match="overloaded"):
            compiled_block(scenario, seed, trials, counters)
        assert dict(zip(lay.COUNTERS, counters.tolist())) == ref.counters
        assert_general_build_agrees(scenario, seed, trials, None, None, counters)
        return ref.counters, ref.peaks, True, None
    out, rows = compiled_block(scenario, seed, trials, counters)
    assert_general_build_agrees(scenario, seed, trials, out, rows, counters)
    np.testing.assert_array_equal(np.array(ref.trial_rows), rows)
    assert out.counter_dict() == ref.counters
    hists = out.histograms()
    for m, hist in enumerate(ref.hists):
        assert hist == hists[lay.METRICS[m]], lay.METRICS[m]
    assert_liveness(validate(params), hists, ref.counters)
    return ref.counters, ref.peaks, False, hists


def assert_liveness(cfg, hists, counters):
    """Every request for L ended in exactly one recorded wait (model.md §11.3, §11.5).

    Writers record ``writer_wait`` and fault passes ``fault_lock_wait`` (waits for L only,
    fallbacks included).  An HP read makes ``hp_acquisitions`` requests, each recording
    ``hp_acq_wait``: all of them are for L when ``hp_lock`` is mmap; when it is vma only the
    fallbacks (counter ``hp_fallbacks``) are, the others hold the VMA lock at once.
    """
    kernel = KERNELS.get(cfg["kernel"])
    if kernel is not None and kernel.hp_lock == "vma":
        hp_on_l = counters["hp_fallbacks"]
        assert hp_on_l <= hists["hp_acq_wait"].n
    else:
        hp_on_l = hists["hp_acq_wait"].n
    waits = hp_on_l + hists["writer_wait"].n + hists["fault_lock_wait"].n
    assert waits == counters["lock_acquisitions"], (hp_on_l, hists["writer_wait"].n,
                                                    hists["fault_lock_wait"].n)
