"""The reference engine's common ground: tasks, the event queue, the timeline of a script,
the per-process inversion clock (docs/model.md §4.1, §7.13, §11.7, §12.1) and the workload
fields of the record (§12).

Every other module of :mod:`mcsim.reference` is a mixin over :class:`EngineBase`: it reads
the scenario record through the attributes set here and schedules through
:meth:`EngineBase._schedule`.

>>> import numpy as np
>>> from mcsim.params import validate
>>> from mcsim.scenario import LOCK_VMA, compile_scenario
>>> eng = EngineBase(compile_scenario(validate(kernel="6.18")), np.random.PCG64DXSM(1))
>>> eng.first_lock == LOCK_VMA, eng.hp_acquisitions, eng.jiffy_ns, len(eng.programs)
(True, 2, 4000000, 7)
"""
from __future__ import annotations

import heapq
from dataclasses import dataclass, field

import numpy as np

from .. import layout as lay
from ..histogram import Histogram
from ..numeric import MAX_TIME_NS, check_scenario, draw_ns, time_limit_error
from ..policies import BL_NONE, BLAME_NAMES
from ..scenario import LOCK_MMAP, TRIAL_WINDOW

EV_ARRIVAL, EV_RUN, EV_BIO_DONE, EV_STEP = 0, 1, 2, 3
# What a bio completion does besides freeing its slot.
BIO_NOTIFY_NONE, BIO_WAKE_OWNER, BIO_BG = 0, 1, 2
# Where a task resumes when it runs again after sleeping.
PC_LOCK, PC_GATE, PC_OP, PC_WAITED, PC_HOLD_DONE, PC_VMA = range(6)
# A queued arrival or thread step (§14.2) starts its task when it runs.
PC_START = 6
# Work outside the locks (§14.6, :mod:`.outside`): a server context runs, its CPU work
# ended; a thread's fault step's lead ended.
PC_SERVE, PC_SERVE_END, PC_LEAD = 7, 8, 9
N_BLAME = len(BLAME_NAMES)
READ, WRITE = 0, 1
#: Initial capacities of the compiled core's growable buffers (event heap without the
#: arrival slot, task table, lock queues, gate queue, run queue): ``buffer_growths`` counts
#: their doublings, which this engine reproduces without having such buffers.
INITIAL_CAPACITY = 64


@dataclass(eq=False)
class Task:
    """One task and where it stands.  Durations come from an arrival's draws or a script
    row; -1 in ``evicted``, ``revalidate_fail`` and ``fallback`` means "not decided yet"
    (random mode)."""

    id: int
    kind: int
    fault: int = 0
    hold: int = 0
    cpu: int = 0
    minor: int = 0
    bio: int = 0
    mkwrite: int = 0
    dirty: int = 0
    evicted: int = -1
    evict_bio: int = 0
    revalidate_fail: int = -1
    same_vma: int = 0
    fallback: int = -1
    t_arrive: int = 0
    t_req: int = 0           # when the current lock request (or gate entry) was made
    t_grant: int = 0         # when the lock was granted (hold time counts from here)
    t_vma: int = 0           # when the current fault pass took V
    t_pass_end: int = 0      # when the pass before the current one returned VM_FAULT_RETRY
    pc: int = PC_LOCK
    # a fault's passes
    passes: int = 1
    program: list = field(default_factory=list)
    ip: int = 0
    pass_vma: bool = False   # the current pass holds V (not a fallback to L)
    tried: bool = False      # the current pass runs with FAULT_FLAG_TRIED
    major: bool = False      # the current pass reads the page from the device
    dropped: bool = False    # the current pass released its lock before a step
    completed: bool = False  # ... and that drop ends the fault (VM_FAULT_COMPLETED)
    dirty_retry: bool = False  # the drop was before dirty throttling: the PTE is in place
    holding: bool = False    # holds L (read or write)
    holding_vma: bool = False  # holds V for read (a fault pass)
    woken: bool = False      # a queued writer woken, not yet run
    in_vma: bool = False     # a writer done with vma_start_write(), running in V
    blocked: int = BL_NONE   # blame kind while blocked holding L
    inverted: bool = False   # an HP acquisition judged an inversion at its grant (§14.4)
    last_cpu: int | None = None  # per-CPU run queues: the CPU it last ran on (§14.7)
    page_ready: bool = True  # page_bio kinds: the other context's bio has completed
    waiting_page: bool = False
    page_waiter: "Task | None" = None   # bg task carrying a page's read or writeback
    # an HP read's acquisitions
    acq_lock: int = LOCK_MMAP  # the lock the current acquisition holds
    acquisitions: int = 0      # acquisitions that ran so far
    wait_sum: int = 0          # the read's summed acquisition waits
    snap: list = field(default_factory=list)  # blocking integrals at the HP request
    waits: list = field(default_factory=list)  # each lock acquisition's wait (scripts)
    done: int = -1
    lanes: dict = field(default_factory=dict)  # timeline: lane → start time
    # the workload (§12): whose lock, which VMA, measured or not, which thread runs it
    proc: int = 0              # the process whose L this task takes (faults: the VMA's)
    vma: int = 0               # a fault's VMA; a writer's changed VMA (-1: elsewhere)
    counted: bool = True       # started inside the window (always, in cycle trials)
    thread: int = -1           # the closed-loop thread whose step this is, or -1
    lead: int = 0              # a fault step's CPU work before its first pass (§14.6)


@dataclass
class RawResult:
    """What one block of trials produced: histograms, counters, optional per-trial rows."""

    hists: list
    counters: dict
    trial_rows: list


class EngineBase:
    """The scenario record as attributes, the event heap, metrics and the inversion clock."""

    def __init__(self, scenario, bitgen=None, record_trials: bool = False,
                 check_invariants: bool = False):
        check_scenario(scenario)
        sc = self.sc = scenario[0] if scenario.shape else scenario
        self.gen = np.random.Generator(bitgen) if bitgen is not None else None
        self.depth = int(sc["lp_depth"])
        self.wake = int(sc["wake_ns"])
        # measured durations (§13): the quantile tables of empirical distributions, and the
        # jitter added to every wake-up (a const one draws nothing)
        self.tables = sc["tables"]
        self.table_points = sc["table_points"]
        self.wake_jitter = sc["wake_jitter"]
        # the machine's CPUs (§14): 0 = a CPU per task, nothing of §14 applies
        self.cpus = int(sc["cpus"])
        self.cpu_switch = sc["cpu_switch"]
        # per-CPU run queues and wake-up affinity (§14.7): off at cpu_affinity = 0
        self.cpu_affinity = float(sc["cpu_affinity"])
        self.affine = self.cpus > 0 and self.cpu_affinity > 0
        # thread timers coalesced per CPU (§14.8): off at timer_slack = 0
        self.timer_slack = int(sc["timer_slack"])
        self.wake_remote = sc["wake_remote"]
        self.timers = self.affine and self.timer_slack > 0
        # work outside the locks (§14.6): a server context per issued bio, unless there are
        # no CPUs or io_cpu is const 0 (then nothing is created and nothing drawn)
        self.io_cpu = sc["io_cpu"]
        self.serve = self.cpus > 0 and not (int(self.io_cpu["kind"]) == 0
                                            and float(self.io_cpu["a"]) == 0.0)
        # the rwsem era, as three rules (model.md §11.1)
        self.rw_handoff = bool(sc["rw_handoff"])
        self.rw_wake_all_readers = bool(sc["rw_wake_all_readers"])
        self.rw_reader_steal = bool(sc["rw_reader_steal"])
        self.handoff_ns = int(sc["handoff_ns"])
        self.jiffy_ns = int(sc["jiffy_ns"])
        self.handoff_jiffies = int(sc["handoff_jiffies"])
        self.max_readers_wakeup = int(sc["max_readers_wakeup"])
        # the fault path
        self.policy = [bool(x) for x in sc["policy"]]
        self.keeps_page = bool(sc["keeps_page"])
        self.dirty_completes = bool(sc["dirty_completes"])
        self.first_lock = int(sc["first_lock"])
        self.retry_lock = int(sc["retry_lock"])
        self.tried_on_major = bool(sc["tried_on_major"])
        self.vma_writers = bool(sc["vma_writers"])
        self.hp_acquisitions = int(sc["hp_acquisitions"])
        self.hp_lock = int(sc["hp_lock"])
        self.programs = [[tuple(int(x) for x in step) for step in prog if step[0] >= 0]
                         for prog in sc["programs"]]
        self.major = [bool(x) for x in sc["major"]]
        self.page_bio = [bool(x) for x in sc["page_bio"]]
        # the workload (§12); check_scenario() has checked its indexes and kinds
        self.window_trials = int(sc["trial_kind"]) == TRIAL_WINDOW
        self.warmup = int(sc["warmup_ns"])
        self.window = int(sc["window_ns"])
        self.open_stream = bool(sc["open_stream"])
        self.n_processes = int(sc["n_processes"])
        self.n_vmas = int(sc["n_vmas"])
        self.vma_process = [int(x) for x in sc["vma_process"][:self.n_vmas]]
        self.threads = sc["threads"][:int(sc["n_threads"])]
        self.steps = sc["steps"][:int(sc["n_steps"])]
        self.record_trials = record_trials
        self.check_invariants = check_invariants
        self.timeline = None
        self.hists = [Histogram.empty() for _ in lay.METRICS]
        self.counters = {name: 0 for name in lay.COUNTERS}
        self.trial_rows = []
        # one wait queue per process's L (§12.1), hence one buffer each
        self.capacity = dict.fromkeys(("heap", "tasks", "gate", "cpu"), INITIAL_CAPACITY)
        self.capacity.update({("lock", p): INITIAL_CAPACITY for p in range(self.n_processes)})
        self.reuse_ids = True    # the compiled core reuses a finished task's slot (not in scripts)
        self.base = 0            # simulated time before this trial in the block (jiffies)

    # ------------------------------------------------------------------ a trial's state
    def _reset_trial(self):
        self.now = 0
        self.seq = 0
        self.heap = []
        self.alive = 0
        self.nheap = 0           # pending events other than the random arrival
        self.alive_counted = 0   # live tasks started inside the window (§12.3)
        self.open_counted = 0    # counted scans and counted iterations not yet ended (§12.3)
        self.next_id = 0
        self.slots = 0           # the compiled task table's used and free slots
        self.free_slots = 0
        self.samples = [[] for _ in lay.METRICS]
        self.trial = dict.fromkeys(lay.TRIAL_FIELDS, 0)
        self._reset_rwsem()
        self._reset_gate()
        self._reset_vma()
        self._reset_cpus()
        self._reset_timers()

    def _grow(self, buffer, length):
        """A buffer of ``length`` entries takes one more: the compiled core doubles it when
        full (its capacity persists over the trials of a block)."""
        if length == self.capacity[buffer]:
            self.capacity[buffer] *= 2
            self.counters["buffer_growths"] += 1

    # ------------------------------------------------------------------ event queue
    def _schedule(self, t, ev, task, arg=0):
        if t > MAX_TIME_NS:
            raise time_limit_error()
        if not (ev == EV_ARRIVAL and task is None):  # the core keeps that one beside its heap
            self._grow("heap", self.nheap)
            self.nheap += 1
        heapq.heappush(self.heap, (t, self.seq, ev, task, arg))
        self.seq += 1
        if len(self.heap) > self.counters["max_pending_events"]:
            self.counters["max_pending_events"] = len(self.heap)

    def _pop(self):
        t, seq, ev, task, arg = heapq.heappop(self.heap)
        if not (ev == EV_ARRIVAL and task is None):
            self.nheap -= 1
        return t, seq, ev, task, arg

    def _draw(self, dist):
        """One duration from a distribution of the record (empirical ones read its tables)."""
        return draw_ns(self.gen, dist, self.tables, self.table_points)

    def _wake_delay(self):
        """``wake + j``, ``j`` drawn from ``wake_jitter`` now, at the wake-up (§13.2)."""
        return self.wake + self._draw(self.wake_jitter)

    def _wake(self, task, pc):
        """Every wake-up of a sleeping task costs ``wake`` plus a jitter drawn at that moment
        (model.md §4.1, §13.2); with CPUs, a context takes an idle CPU first or waits for
        one in the run queue (§14.2 (a)).  A background bio needs no CPU."""
        if self._is_context(task):
            self._cpu_wake(task, pc)
            return
        task.pc = pc
        self._schedule(self.now + self._wake_delay(), EV_RUN, task)

    def _record(self, task, metric, value):
        """A sample of ``metric`` for ``task``: kept only if the task is counted (§12.3)."""
        if task.counted:
            self.samples[metric].append(value)

    def _counted_at(self, t):
        """Is a task starting at ``t`` counted?  Every task of a cycle trial is; in a window
        trial, those starting in ``[warmup, warmup + window)``."""
        return not self.window_trials or self.warmup <= t < self.warmup + self.window

    # ------------------------------------------------------------------ tasks
    def _new_id(self):
        """A new task's id; mirrors the compiled core's slot allocation for buffer_growths."""
        if self.free_slots:
            self.free_slots -= 1
        else:
            self._grow("tasks", self.slots)
            self.slots += 1
        self.next_id += 1
        return self.next_id - 1

    def _finish(self, task):
        self.alive -= 1
        if task.counted:
            self.alive_counted -= 1
        task.done = self.now
        if self.reuse_ids:
            self.free_slots += 1
        if task.thread >= 0:
            self._thread_next(task)       # the thread thinks, then starts its next step
        self._cpu_sleep(task)             # §14.1 item 6, after the think time is drawn

    # ------------------------------------------------------------------ timeline
    def _lane_on(self, task, lane):
        if self.timeline is not None:
            task.lanes[lane] = self.now

    def _lane_off(self, task, lane):
        if self.timeline is not None and lane in task.lanes:
            self.timeline.append((task.id, lane, task.lanes.pop(lane), self.now))

    # ------------------------------------------------------------------ inversion clock
    def _blocked_change(self, lk, kind, delta):
        """A holder of ``lk`` (an ``L_p``) starts (+1) or stops (-1) blocking in step
        ``kind``; each process has its own clock (§12.1)."""
        for k in (kind, N_BLAME):
            if lk.nblocked[k] > 0:
                lk.integral[k] += self.now - lk.last[k]
            lk.last[k] = self.now
            lk.nblocked[k] += delta

    def _integrals_now(self, lk):
        return [lk.integral[k] + (self.now - lk.last[k] if lk.nblocked[k] else 0)
                for k in range(N_BLAME + 1)]

    def _block(self, task, blame):
        """The task sleeps in a blamed step: counted only while it holds L (a task holding
        only V delays an HP reader only through a writer, which is counted; §11.7)."""
        if task.holding and blame != BL_NONE:
            task.blocked = blame
            self._blocked_change(self.locks[task.proc], blame, +1)

    def _unblock(self, task):
        if task.blocked != BL_NONE:
            self._blocked_change(self.locks[task.proc], task.blocked, -1)
            task.blocked = BL_NONE
