"""mcsim's model written the way a SimPy user would write it: the benchmark's Python peer.

Same model as ``mcsim/reference/`` and the compiled core (the spec's model.md, era
``4.x``), built from SimPy's own parts:

* one **process** per task: HP reader, LP writer, LP fault, background bio, and one per
  fault bio in flight on the device;
* the mmap lock ``L`` as a small resource class, :class:`RwSem`, with the 4.x rwsem rules
  (readers share; a queued writer makes later readers queue; a woken writer takes ``L``
  only when it runs and sleeps again at the head if a newcomer took it first);
* the io.latency **gate** as a ``simpy.Resource`` with ``lp_depth`` slots (FIFO, no
  barging; a slot is held by the bio until it completes);
* the fault steps and the policies **stated here**, from the text of docs/model.md (§2.4,
  §3), not imported from ``mcsim.policies``: :data:`FAULT_STEPS` says which steps each
  fault kind performs, :data:`LOCKED_STEPS` which of them each policy runs holding ``L``.
  A peer that shared the engine's tables would share their mistakes;
* parameters from :func:`mcsim.params.validate`, randomness from ``random.Random`` (the
  draws are not the engine's, so agreement with it is statistical, not bitwise).

**Trials and events, defined as in the compiled engine.**  A trial is a regenerative
cycle: it starts with an arrival into an empty system (no task, no LP bio holding a slot)
and ends when the system is empty again; the model runs ``trials`` of them back to back
in one long simulation and then drains.  ``events`` counts the engine's events, i.e.
what ``counters['events']`` counts in ``mcsim._engine`` (events popped from its queue):
one per arrival, one per timed stretch that ends (critical section, CPU work), one per
bio completion and one per wake-up of a sleeping task.  ``kernel_events`` is SimPy's own
count of scheduled events (``env._eid``), about 3x more.

>>> from mcsim.params import validate
>>> out = run(validate(device="ssd", hp_rate=2000), trials=300, seed=1)
>>> out.trials, out.events >= out.trials, out.histogram("hp_wait").trials
(300, True, 300)
"""
from __future__ import annotations

import math
import random
from collections import deque
from dataclasses import dataclass

import numpy as np
import simpy

from ..histogram import Histogram
from ..layout import METRICS

READ, WRITE = 0, 1
HP, WRITER, FAULT = "hp", "writer", "fault"
METRIC = {name: i for i, name in enumerate(METRICS)}

#: Blamed steps, in the order that breaks ties (model.md §5).
BLAME_ORDER = ("submit", "io", "locked_page", "pass2_read", "mkwrite")
N_BLAME = len(BLAME_ORDER)        # index N_BLAME of the clock = "any"
BLAME = {name: i for i, name in enumerate(BLAME_ORDER)}
NO_BLAME = -1

#: Pass-1 steps of each fault kind after the lookup (model.md §2.4): ``(action, policy
#: column, blame while blocked holding L, operand)``.  Actions: ``cpu`` (work for the
#: operand's time), ``submit`` (a bio of the operand's time through the gate), ``wait_io``
#: (until that bio completes), ``wait_page`` (until another context's read completes).
FAULT_STEPS = {
    "hit": (),
    "miss": (("submit", "miss_submit", "submit", "bio"),
             ("wait_io", "miss_io", "io", None)),
    "async_ra": (("submit", "ra_submit", "submit", "bio"),),
    "locked": (("wait_page", "locked_wait", "locked_page", None),),
    "mkwrite_fast": (("cpu", "mkwrite", None, "mkwrite"),),
    "mkwrite_slow": (("submit", "mkwrite", "mkwrite", "bio"),
                     ("wait_io", "mkwrite", "mkwrite", None)),
}
WRITE_KINDS = ("mkwrite_fast", "mkwrite_slow")

#: Parameters of the newer kernels' steps (docs/model.md §11) that the peer leaves out: it
#: refuses a configuration that sets any of them.
NOT_MODELLED = ("p_mkwrite_writeback", "p_retry_miss", "p_dirty_throttle", "p_hp_fallback")

#: The policy columns each policy runs holding L (model.md §3); the others drop L first.
LOCKED_STEPS = {
    "hold": {"miss_submit", "miss_io", "ra_submit", "locked_wait", "mkwrite"},
    "stock-4.19": {"miss_submit", "ra_submit", "mkwrite"},
    "rfc-v1": {"mkwrite"},
    "rfc-v2": set(),
    "upstream-5.1": {"mkwrite"},
}
#: Policies whose retry finds the page kept (``vmf->cached_page``): no eviction, and a
#: write fault's page is re-validated instead.
KEEPS_PAGE = {"rfc-v1", "rfc-v2"}


class Task:
    """One simulated thread: what the lock and the inversion clock need to know about it."""

    __slots__ = ("kind", "t_req", "t_grant", "holding", "woken", "blocked", "snap",
                 "wakeup", "fault", "bio", "mkwrite", "cpu", "minor", "page_ready",
                 "page_event")

    def __init__(self, kind):
        self.kind = kind
        self.holding = self.woken = False
        self.blocked = NO_BLAME
        self.snap = self.wakeup = self.page_event = None
        self.page_ready = True
        self.t_req = self.t_grant = 0


class RwSem:
    """The mmap lock ``L``: a Linux rwsem with the era-4.x rules (model.md §2, §7.2-7.3).

    ``down_read``/``down_write`` return ``None`` when ``L`` is taken at once (no
    wake-up), else the event a sleeping task waits for.
    """

    def __init__(self, model):
        self.model = model
        self.writer = None
        self.nreaders = 0
        self.queue = deque()          # (task, mode), FIFO

    def free(self):
        return self.writer is None and self.nreaders == 0

    def _take(self, task):
        task.holding, task.t_grant = True, self.model.env.now

    def _enqueue(self, task, mode):
        task.wakeup = self.model.env.event()
        self.queue.append((task, mode))
        return task.wakeup

    def down_read(self, task):
        task.t_req = self.model.env.now
        if self.writer is None and not self.queue:
            self.nreaders += 1
            self._take(task)
            return None
        return self._enqueue(task, READ)

    def down_write(self, task):
        task.t_req = self.model.env.now
        if self.free():               # a newcomer writer takes a free L even past waiters
            self.writer = task
            self._take(task)
            return None
        return self._enqueue(task, WRITE)

    def writer_runs(self, task):
        """A woken writer runs: it takes ``L`` if free, else sleeps again at the head."""
        task.woken = False
        if self.free():
            self.queue.popleft()
            self.writer = task
            self._take(task)
            return True
        task.wakeup = self.model.env.event()
        return False

    def up(self, task):
        task.holding = False
        if self.writer is task:
            self.writer = None
        else:
            self.nreaders -= 1
        if self.free() and self.queue:
            self._wake_waiters()

    def _wake_waiters(self):
        head, mode = self.queue[0]
        if mode == WRITE:             # a writer is only woken; it takes L when it runs
            if not head.woken:
                head.woken = True
                head.wakeup.succeed()
            return
        while self.queue and self.queue[0][1] == READ:   # the readers at the head
            task = self.queue.popleft()[0]
            self.nreaders += 1
            self._take(task)
            if task.kind == HP:
                self.model.judge_inversion(task)
            task.wakeup.succeed()


class InversionClock:
    """For each blame kind, the time integral of "a holder of ``L`` is blocked on LP IO"
    (model.md §7.13); an HP wait overlapping a positive stretch of it is an inversion."""

    def __init__(self, env):
        self.env = env
        self.nblocked = [0] * (N_BLAME + 1)
        self.integral = [0] * (N_BLAME + 1)
        self.last = [0] * (N_BLAME + 1)

    def _change(self, kind, delta):
        for k in (kind, N_BLAME):
            if self.nblocked[k]:
                self.integral[k] += self.env.now - self.last[k]
            self.last[k] = self.env.now
            self.nblocked[k] += delta

    def block(self, task, blame):
        """``task`` sleeps in the step blamed ``blame`` (a name, or None: not blamed)."""
        if task.holding and blame is not None:
            task.blocked = BLAME[blame]
            self._change(task.blocked, +1)

    def unblock(self, task):
        if task.blocked != NO_BLAME:
            self._change(task.blocked, -1)
            task.blocked = NO_BLAME

    def now(self):
        return [self.integral[k] + (self.env.now - self.last[k] if self.nblocked[k] else 0)
                for k in range(N_BLAME + 1)]

    def blame(self, snap):
        """The blamed step of a wait that started at ``snap``, or None if no inversion."""
        overlap = [a - b for a, b in zip(self.now(), snap)]
        if overlap[N_BLAME] <= 0:
            return None
        return max(range(N_BLAME), key=lambda k: (overlap[k], -k))


def sampler(rng: random.Random, dist):
    """A zero-argument function drawing int ns from a :class:`mcsim.units.Dist`."""
    a, b = float(dist.a), float(dist.b)
    if dist.kind == "const":
        value = int(a + 0.5)
        return lambda: value
    if dist.kind == "exp":
        return lambda: int(a * rng.expovariate(1.0) + 0.5)
    return lambda: int(a * math.exp(b * rng.gauss(0.0, 1.0)) + 0.5)


@dataclass
class SimpyRun:
    """What :func:`run` returns: work done, and every sample with the trial it belongs to."""

    trials: int
    events: int
    kernel_events: int
    sim_ns: int
    counters: dict
    samples: dict        # metric -> list of int ns
    trial_of: dict       # metric -> list of trial numbers (1-based), one per sample

    def histogram(self, metric: str) -> Histogram:
        """The metric as an mcsim :class:`~mcsim.histogram.Histogram` (one trial per cycle)."""
        values = np.asarray(self.samples[metric], dtype=np.int64)
        lengths = np.bincount(np.asarray(self.trial_of[metric], dtype=np.int64),
                              minlength=self.trials + 1)[1:]
        return Histogram.from_trials(values, lengths)


class Model:
    """The whole system: sources, tasks, ``L``, the gate and the statistics."""

    def __init__(self, cfg, seed: int = 0):
        if cfg["kernel"] != "none":
            raise ValueError("the SimPy peer implements the 2018 model only (kernel = none)")
        beyond = [name for name in NOT_MODELLED if cfg[name]]
        if beyond:
            raise ValueError("the SimPy peer does not model " + ", ".join(beyond))
        if cfg["era"] != "4.x":
            raise ValueError("the SimPy peer implements era 4.x only")
        if cfg["policy"] not in LOCKED_STEPS:
            raise ValueError(f"the SimPy peer does not describe policy {cfg['policy']!r}")
        self.cfg = cfg
        self.env = simpy.Environment()
        self.rng = rng = random.Random(seed)
        self.locked_steps = LOCKED_STEPS[cfg["policy"]]
        self.keeps_page = cfg["policy"] in KEEPS_PAGE
        self.wake = int(cfg["wake"])
        self.L = RwSem(self)
        self.gate = simpy.Resource(self.env, capacity=cfg["lp_depth"])
        self.clock = InversionClock(self.env)
        self.draw = {name: sampler(rng, cfg[name]) for name in (
            "hp_hold", "writer_hold", "fault_cpu", "minor_cpu", "mkwrite_fast", "device")}
        self.samples = [[] for _ in METRICS]
        self.trial_of = [[] for _ in METRICS]
        self.counters = dict.fromkeys(("hp_reads", "writes", "faults", "bg_bios", "bios",
                                       "retries", "evictions", "revalidate_fails",
                                       "inversions"), 0)
        self.alive = self.trials = self.events = 0
        self.n_trials = 0
        self.stopped = False

    # ------------------------------------------------------------------ plumbing
    def record(self, metric, value):
        self.samples[metric].append(value)
        self.trial_of[metric].append(self.trials)

    def sleep(self, event):
        """Wait for a wake-up (one engine event), then the wake latency (model.md §7.1)."""
        yield event
        self.events += 1
        if self.wake:
            yield self.env.timeout(self.wake)

    def stretch(self, duration):
        """On-CPU work or a critical section: one engine event when it ends."""
        if duration > 0:
            yield self.env.timeout(duration)
            self.events += 1

    def release(self, task):
        held = self.env.now - task.t_grant
        metric = {HP: "hold_hp", WRITER: "hold_writer"}.get(task.kind, "hold_fault")
        self.record(METRIC[metric], held)
        self.L.up(task)

    def judge_inversion(self, task):
        blame = self.clock.blame(task.snap)
        if blame is not None:
            self.counters["inversions"] += 1
            key = f"blame_{BLAME_ORDER[blame]}"
            self.counters[key] = self.counters.get(key, 0) + 1
            self.record(METRIC["inversion_wait"], self.env.now + self.wake - task.t_req)

    # ------------------------------------------------------------------ arrivals
    def empty(self):
        return self.alive == 0 and self.gate.count == 0

    def source(self, rate, start):
        """Poisson arrivals at ``rate`` per second; ``start()`` starts one task."""
        if rate <= 0:
            return
        expo, mean = self.rng.expovariate, 1e9 / rate
        while True:
            yield self.env.timeout(int(mean * expo(1.0) + 0.5))
            if self.stopped:
                return
            if self.empty():                      # a new regenerative cycle
                if self.trials == self.n_trials:
                    self.stopped = True
                    return
                self.trials += 1
            self.events += 1
            start()

    def start_lp(self):
        if self.rng.random() < self.cfg["writer_ratio"]:
            self.env.process(self.writer())
        else:
            self.env.process(self.fault(self.new_fault()))

    # ------------------------------------------------------------------ HP readers, writers
    def hp_reader(self):
        task = Task(HP)
        self.alive += 1
        self.counters["hp_reads"] += 1
        hold = self.draw["hp_hold"]()
        granted = self.L.down_read(task)
        if granted is not None:
            task.snap = self.clock.now()
            yield from self.sleep(granted)
        self.record(METRIC["hp_wait"], self.env.now - task.t_req)
        yield from self.stretch(hold)
        self.release(task)
        self.alive -= 1

    def writer(self):
        task = Task(WRITER)
        self.alive += 1
        self.counters["writes"] += 1
        hold = self.draw["writer_hold"]()
        wakeup = self.L.down_write(task)
        while wakeup is not None:
            yield from self.sleep(wakeup)
            wakeup = None if self.L.writer_runs(task) else task.wakeup
        self.record(METRIC["writer_wait"], self.env.now - task.t_req)
        yield from self.stretch(hold)
        self.release(task)
        self.alive -= 1

    # ------------------------------------------------------------------ io.latency gate
    def gate_enter(self, task, blame):
        """Get an LP slot, sleeping FIFO at the gate if none is free; returns the slot."""
        t0 = self.env.now
        slot = self.gate.request()
        if not slot.triggered:
            self.clock.block(task, blame)
            yield from self.sleep(slot)
            self.clock.unblock(task)
        self.record(METRIC["gate_wait"], self.env.now - t0)
        return slot

    def bio(self, slot, duration, done):
        """A bio on the device: completes, frees its slot, then wakes whoever waits."""
        yield self.env.timeout(duration)
        self.events += 1
        self.gate.release(slot)
        done.succeed()

    def background_bio(self, page_of=None):
        """Other LP IO (never touches ``L``); with ``page_of``, the read a locked page waits on."""
        self.alive += 1
        self.counters["bg_bios"] += page_of is None
        duration = page_of.bio if page_of is not None else self.draw["device"]()
        slot = yield from self.gate_enter(Task("bg"), None)
        self.counters["bios"] += 1
        yield self.env.timeout(duration)
        self.events += 1
        self.gate.release(slot)
        self.alive -= 1
        if page_of is not None:
            page_of.page_ready = True
            if page_of.page_event is not None:
                page_of.page_event.succeed()

    # ------------------------------------------------------------------ faults
    def new_fault(self):
        """Draw a fault's kind and durations (the same mix as the engine's arrivals)."""
        cfg, rng, draw = self.cfg, self.rng, self.draw
        task = Task(FAULT)
        task.bio = task.mkwrite = 0
        if rng.random() < cfg["write_fault_ratio"]:
            task.fault = "mkwrite_slow" if rng.random() < cfg["p_mkwrite_slow"] \
                else "mkwrite_fast"
        else:
            k = rng.random()
            cut_ra = cfg["p_miss"] + cfg["p_async_ra"]
            task.fault = ("miss" if k < cfg["p_miss"] else "async_ra" if k < cut_ra else
                          "locked" if k < cut_ra + cfg["p_locked"] else "hit")
        if task.fault == "mkwrite_fast":
            task.mkwrite = draw["mkwrite_fast"]()
        elif task.fault != "hit":
            task.bio = draw["device"]()
        task.cpu, task.minor = draw["fault_cpu"](), draw["minor_cpu"]()
        return task

    def program(self, task):
        """The fault kind's pass-1 steps, with each step's duration looked up."""
        operand = {"bio": task.bio, "mkwrite": task.mkwrite, None: 0}
        return [(action, column, blame, operand[arg])
                for action, column, blame, arg in FAULT_STEPS[task.fault]]

    def pass_steps(self, task, passes, t_pass_end):
        """The steps of a pass after taking ``L`` (model.md §7.6, §7.9, §7.10).  A column
        of None means "always under L": the lookup work, and everything in pass 2."""
        if passes == 1:
            return [("cpu", None, None, task.cpu)] + self.program(task)
        steps = [("cpu", None, None, task.minor)]
        cfg = self.cfg
        if not self.keeps_page:
            gone = self.env.now - t_pass_end
            if cfg["evict_rate"] > 0 and cfg["evict_rate"] * 1e-9 * gone > \
                    self.rng.expovariate(1.0):
                self.counters["evictions"] += 1
                steps += [("submit", None, "pass2_read", self.draw["device"]()),
                          ("wait_io", None, "pass2_read", 0)]
        elif (task.fault in WRITE_KINDS and cfg["revalidate_fail"] > 0
              and self.rng.random() < cfg["revalidate_fail"]):
            self.counters["revalidate_fails"] += 1
            if task.fault == "mkwrite_slow":
                task.bio = self.draw["device"]()
            else:
                task.mkwrite = self.draw["mkwrite_fast"]()
            steps += [(action, None, blame, duration)
                      for action, _, blame, duration in self.program(task)]
        return steps

    def run_steps(self, task, steps):
        """Run a pass's steps; the policy drops ``L`` before a step whose column it does
        not hold.  Returns whether ``L`` was dropped (then the fault retries)."""
        dropped, done = False, None
        for action, column, blame, duration in steps:
            if action == "wait_page" and task.page_ready:
                continue                          # trylock_page succeeds
            if task.holding and column is not None and column not in self.locked_steps:
                self.release(task)
                dropped = True
            if action == "cpu":
                yield from self.stretch(duration)
            elif action == "submit":
                slot = yield from self.gate_enter(task, blame)
                done = self.env.event()
                self.counters["bios"] += 1
                self.env.process(self.bio(slot, duration, done))
            else:
                if action == "wait_page":
                    task.page_event = done = self.env.event()
                self.clock.block(task, blame)
                yield from self.sleep(done)
                self.clock.unblock(task)
        return dropped

    def fault(self, task):
        """A page fault: pass 1 under the policy, at most one retry pass (model.md §2)."""
        self.alive += 1
        self.counters["faults"] += 1
        t0 = self.env.now
        if task.fault == "locked":                # another context's read enters the gate
            task.page_ready = False
            self.env.process(self.background_bio(page_of=task))
        passes, t_pass_end = 1, 0
        while True:
            granted = self.L.down_read(task)
            if granted is not None:
                yield from self.sleep(granted)
            self.record(METRIC["fault_lock_wait"], self.env.now - task.t_req)
            steps = self.pass_steps(task, passes, t_pass_end)
            dropped = yield from self.run_steps(task, steps)
            if passes == 2 or not dropped:
                break
            self.counters["retries"] += 1
            passes, t_pass_end = 2, self.env.now
        if task.holding:
            self.release(task)
        self.record(METRIC["lp_fault_latency"], self.env.now - t0)
        self.record(METRIC["fault_passes"], passes)
        self.alive -= 1

    # ------------------------------------------------------------------ driver
    def run(self, trials: int) -> SimpyRun:
        """Simulate ``trials`` regenerative cycles, then let every started task finish."""
        cfg = self.cfg
        self.n_trials = trials
        self.env.process(self.source(cfg["hp_rate"],
                                     lambda: self.env.process(self.hp_reader())))
        self.env.process(self.source(cfg["lp_rate"], self.start_lp))
        self.env.process(self.source(cfg["bg_io_rate"],
                                     lambda: self.env.process(self.background_bio())))
        self.env.run()
        return SimpyRun(trials=self.trials, events=self.events,
                        kernel_events=next(self.env._eid), sim_ns=int(self.env.now),
                        counters=dict(self.counters),
                        samples=dict(zip(METRICS, self.samples)),
                        trial_of=dict(zip(METRICS, self.trial_of)))


def run(cfg, trials: int, seed: int = 0) -> SimpyRun:
    """Simulate ``trials`` regenerative cycles of the validated configuration ``cfg``."""
    return Model(cfg, seed).run(trials)
