"""The pure-Python reference twin of mcsim's engine: slow, plain, written to be read.

It implements ``docs/model.md`` (the 2018 model, §1–§10, kernels as data, §11, workloads,
§12, measured durations, §13, and CPUs, §14) from its text and is the oracle the compiled
core is tested against: for the same scenario record, seed and block, both must produce the
same trials, the same histograms and the same counters, bit for bit.  It consumes
randomness in exactly the order of model.md §4.3, §11.8, §12.5 and §14.5, draws through
numpy's ``Generator`` on the same bit generator, and orders events by ``(time, seq)``.

The engine is cut along the same seams as the compiled core, one module per part of the
model, composed here:

========================  ==========================================================
:mod:`.base`              tasks, the event heap, timeline, the inversion clock
:mod:`.rwsem`             each process's mmap lock ``L_p`` (eras as rules, handoff in jiffies)
:mod:`.gate`              the io.latency gate and the device
:mod:`.vma`               the per-VMA locks ``V_v`` and the writers' ``vma_start_write()``
:mod:`.faults`            fault passes, programs, the retry, ``TRIED``
:mod:`.hp`                the HP reader's acquisitions and the inversion verdict
:mod:`.trial`             the event loop, random and scripted modes, invariants
:mod:`.threads`           closed-loop threads, scans, window trials
:mod:`.cpus`              the machine's CPUs and its run queue (§14)
:mod:`.outside`           work outside the locks: server contexts, a fault's lead (§14.6)
:mod:`.placement`         per-CPU run queues and wake-up affinity (§14.7)
:mod:`.timers`            threads' timers armed per CPU, fired together (§14.8)
========================  ==========================================================

>>> import numpy as np
>>> from mcsim.params import validate
>>> from mcsim.scenario import compile_scenario
>>> eng = ReferenceEngine(compile_scenario(validate()), np.random.PCG64DXSM(1))
>>> raw = eng.run_trials(200)
>>> raw.counters["trials"]
200
"""
from __future__ import annotations

from .base import EngineBase, RawResult, Task
from .cpus import CpuMixin
from .faults import FaultMixin
from .gate import GateMixin
from .hp import HpMixin
from .outside import OutsideMixin
from .placement import PlacementMixin
from .rwsem import RwsemMixin
from .threads import ThreadMixin
from .timers import TimerMixin
from .trial import TrialMixin
from .vma import VmaMixin

__all__ = ["ReferenceEngine", "RawResult", "Task"]


class ReferenceEngine(TrialMixin, ThreadMixin, TimerMixin, HpMixin, FaultMixin, VmaMixin, GateMixin, RwsemMixin,
                      CpuMixin, PlacementMixin, OutsideMixin, EngineBase):
    """One engine instance runs trials (:meth:`run_trials`, random mode) or one script
    (:meth:`run_script`), sequentially.

    ``ReferenceEngine(scenario, bitgen, record_trials=False, check_invariants=False)``:
    ``scenario`` is a compiled record (:func:`mcsim.scenario.compile_scenario`), ``bitgen``
    a numpy bit generator (not needed for scripts); ``record_trials`` keeps one row of
    :data:`mcsim.layout.TRIAL_FIELDS` per trial; ``check_invariants`` checks
    :data:`mcsim.numeric.INVARIANTS` after every event.
    """
