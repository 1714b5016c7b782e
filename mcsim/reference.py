"""The pure-Python reference twin of mcsim's engine: slow, plain, written to be read.

It implements ``docs/model.md`` directly and is the oracle the compiled core is tested
against: for the same scenario record, seed and block, both must produce the same trials,
the same histograms and the same counters, bit for bit.  It consumes randomness in exactly
the same order as the compiled engine (see :meth:`ReferenceEngine._arrive`), draws through
numpy's ``Generator`` on the same bit generator, and orders events by ``(time, seq)``.

>>> import numpy as np
>>> from mcsim.params import validate
>>> from mcsim.scenario import compile_scenario
>>> eng = ReferenceEngine(compile_scenario(validate()), np.random.PCG64DXSM(1))
>>> raw = eng.run_trials(200)
>>> raw.counters["trials"]
200
"""
from __future__ import annotations

import heapq
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from . import layout as lay
from .errors import SimulationError
from .histogram import Histogram
from .numeric import (INVARIANTS, MAX_TIME_NS, SATURATED, check_scenario, check_script_rows,
                      draw_ns, sat_add, time_limit_error, to_ns)
from .policies import (ARG_BIO, ARG_MKWRITE, BL_NONE, BL_PASS2_READ, BLAME_NAMES,
                       FAULT_KINDS, FAULT_PROGRAMS, FK_ASYNC_RA, FK_HIT, FK_LOCKED, FK_MISS,
                       FK_MKWRITE_FAST, FK_MKWRITE_SLOW, OP_CPU, OP_SUBMIT, OP_WAIT_IO,
                       OP_WAIT_PAGE)
from .scenario import TK_BG, TK_FAULT, TK_HP, TK_WRITER

EV_ARRIVAL, EV_RUN, EV_BIO_DONE = 0, 1, 2
# What a bio completion does besides freeing its slot.
BIO_NOTIFY_NONE, BIO_WAKE_OWNER, BIO_BG = 0, 1, 2
# Where a task resumes when it runs again after sleeping.
PC_LOCK, PC_GATE, PC_OP, PC_WAITED, PC_HOLD_DONE = 0, 1, 2, 3, 4
# Extra operands of ops in a retry pass (pass-1 operands are in policies.py).
ARG_CPU, ARG_MINOR, ARG_EVICT_BIO = 3, 4, 5
N_BLAME = 5
READ, WRITE = 0, 1
#: Initial capacities of the compiled core's growable buffers (event heap without the
#: arrival slot, task table, lock queue, gate queue): the ``buffer_growths`` counter counts
#: their doublings, which this engine reproduces without having such buffers.
INITIAL_CAPACITY = 64


@dataclass(eq=False)
class Task:
    id: int
    kind: int
    fault: int = 0
    hold: int = 0
    cpu: int = 0
    minor: int = 0
    bio: int = 0
    mkwrite: int = 0
    evicted: int = -1
    evict_bio: int = 0
    revalidate_fail: int = -1
    t_arrive: int = 0
    t_req: int = 0           # when the current L request (or gate entry) was made
    t_grant: int = 0         # when L was granted (hold time counts from here)
    t_pass_end: int = 0      # when pass 1 returned VM_FAULT_RETRY
    pc: int = PC_LOCK
    passes: int = 1
    program: list = field(default_factory=list)
    ip: int = 0
    holding: bool = False
    dropped: bool = False
    woken: bool = False      # a queued writer woken, not yet run
    blocked: int = BL_NONE   # blame kind while blocked holding L
    page_ready: bool = True  # FK_LOCKED: the other context's read has completed
    waiting_page: bool = False
    page_waiter: "Task | None" = None   # bg task carrying a locked page's read
    snap: list = field(default_factory=list)  # blocking integrals at the HP request
    waits: list = field(default_factory=list)  # each L acquisition's wait (scripts)
    done: int = -1
    lanes: dict = field(default_factory=dict)  # timeline: lane → start time


@dataclass
class RawResult:
    """What one block of trials produced: histograms, counters, optional per-trial rows."""

    hists: list
    counters: dict
    trial_rows: list


class ReferenceEngine:
    """One engine instance runs trials (random mode) or one script, sequentially."""

    def __init__(self, scenario, bitgen=None, record_trials: bool = False,
                 check_invariants: bool = False):
        check_scenario(scenario)
        self.sc = scenario[0] if scenario.shape else scenario
        self.gen = np.random.Generator(bitgen) if bitgen is not None else None
        self.policy = [bool(x) for x in self.sc["policy"]]
        self.era = int(self.sc["era"])
        self.depth = int(self.sc["lp_depth"])
        self.wake = int(self.sc["wake_ns"])
        self.record_trials = record_trials
        self.check_invariants = check_invariants
        self.timeline = None
        self.hists = [Histogram.empty() for _ in lay.METRICS]
        self.counters = {name: 0 for name in lay.COUNTERS}
        self.trial_rows = []
        self.capacity = dict.fromkeys(("heap", "tasks", "lock", "gate"), INITIAL_CAPACITY)
        self.reuse_ids = True    # the compiled core reuses a finished task's slot (not in scripts)

    # ------------------------------------------------------------------ event queue
    def _reset_trial(self):
        self.now = 0
        self.seq = 0
        self.heap = []
        self.alive = 0
        self.inflight = 0
        self.gate_queue = deque()
        self.writer = None
        self.nreaders = 0
        self.queue = []          # L's FIFO wait list of tasks; task.t_req = enqueue time
        self.handoff = False
        self.nblocked = [0] * (N_BLAME + 1)     # holders blocked per blame kind, [-1] = any
        self.integral = [0] * (N_BLAME + 1)
        self.last = [0] * (N_BLAME + 1)
        self.samples = [[] for _ in lay.METRICS]
        self.trial = dict.fromkeys(lay.TRIAL_FIELDS, 0)
        self.next_id = 0
        self.slots = 0           # the compiled task table's used and free slots
        self.free_slots = 0
        self.nheap = 0           # pending events other than the random arrival

    def _grow(self, buffer, length):
        """A buffer of ``length`` entries takes one more: the compiled core doubles it when
        full (its capacity persists over the trials of a block)."""
        if length == self.capacity[buffer]:
            self.capacity[buffer] *= 2
            self.counters["buffer_growths"] += 1

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

    def _wake(self, task, pc):
        task.pc = pc
        self._schedule(self.now + self.wake, EV_RUN, task)

    def _record(self, metric, value):
        self.samples[metric].append(value)

    # ------------------------------------------------------------------ timeline
    def _lane_on(self, task, lane):
        if self.timeline is not None:
            task.lanes[lane] = self.now

    def _lane_off(self, task, lane):
        if self.timeline is not None and lane in task.lanes:
            self.timeline.append((task.id, lane, task.lanes.pop(lane), self.now))

    # ------------------------------------------------------------------ inversion clock
    def _blocked_change(self, kind, delta):
        """A holder of L starts (+1) or stops (-1) blocking in step ``kind``."""
        for k in (kind, N_BLAME):
            if self.nblocked[k] > 0:
                self.integral[k] += self.now - self.last[k]
            self.last[k] = self.now
            self.nblocked[k] += delta

    def _integrals_now(self):
        return [self.integral[k] + (self.now - self.last[k] if self.nblocked[k] else 0)
                for k in range(N_BLAME + 1)]

    def _block(self, task, blame):
        if task.holding and blame != BL_NONE:
            task.blocked = blame
            self._blocked_change(blame, +1)

    def _unblock(self, task):
        if task.blocked != BL_NONE:
            self._blocked_change(task.blocked, -1)
            task.blocked = BL_NONE

    # ------------------------------------------------------------------ the rwsem L
    def _read_request(self, task):
        """down_read: True if granted at once (no wake-up), else queued."""
        self.counters["lock_acquisitions"] += 1
        task.t_req = self.now
        if self.writer is None and not self.handoff:
            if not self.queue:
                self.nreaders += 1
                return True
            if self.era == 1 and self.nreaders == 0:     # 5.11+ reader lock stealing
                self.counters["reader_steals"] += 1
                self.nreaders += 1
                return True
        self._grow("lock", len(self.queue))
        self.queue.append((task, READ))
        self._lane_on(task, lay.LANE_WAIT)
        return False

    def _write_request(self, task):
        self.counters["lock_acquisitions"] += 1
        task.t_req = self.now
        if self.writer is None and self.nreaders == 0 and not self.handoff:
            if self.queue:
                self.counters["writer_steals"] += 1
            self.writer = task
            return True
        self._grow("lock", len(self.queue))
        self.queue.append((task, WRITE))
        self._lane_on(task, lay.LANE_WAIT)
        return False

    def _release(self, task):
        """up_read / up_write by ``task``; a free L wakes the head of the queue."""
        self._lane_off(task, lay.LANE_HOLD)
        task.holding = False
        held = self.now - task.t_grant
        if self.writer is task:
            self.writer = None
            self._record(lay.M_HOLD_WRITER, held)
        else:
            self.nreaders -= 1
            self._record(lay.M_HOLD_HP if task.kind == TK_HP else lay.M_HOLD_FAULT, held)
        if self.writer is None and self.nreaders == 0:
            self._wake_waiters()

    def _wake_waiters(self):
        if not self.queue:
            return
        head, mode = self.queue[0]
        if mode == WRITE:
            if not head.woken:           # a writer is only woken; it takes L when it runs
                head.woken = True
                self._wake(head, PC_LOCK)
            return
        if self.era == 0:                # 4.x: the consecutive readers at the head
            granted = []
            while self.queue and self.queue[0][1] == READ:
                granted.append(self.queue.pop(0)[0])
        else:                            # 5.11+: every queued reader, up to the limit
            granted, rest = [], []
            limit = int(self.sc["max_readers_wakeup"])
            for entry in self.queue:
                if entry[1] == READ and len(granted) < limit:
                    granted.append(entry[0])
                else:
                    rest.append(entry)
            self.queue = rest
            self.handoff = False
        for task in granted:
            self._grant_read(task)
        if not self.queue:
            self.handoff = False

    def _grant_read(self, task):
        self.nreaders += 1
        task.holding = True
        task.t_grant = self.now
        self._lane_on(task, lay.LANE_HOLD)
        if task.kind == TK_HP:
            self._judge_inversion(task)
        self._wake(task, PC_LOCK)

    def _writer_runs(self, task):
        """A woken writer runs: it takes L if free, else sleeps again at the head."""
        task.woken = False
        if self.writer is None and self.nreaders == 0:
            self.queue.pop(0)
            self.writer = task
            self.handoff = False
            return True
        if self.era == 1 and self.now - task.t_req > int(self.sc["handoff_ns"]):
            if not self.handoff:
                self.counters["handoffs"] += 1
            self.handoff = True
        return False

    # ------------------------------------------------------------------ io.latency gate
    def _gate_enter(self, task):
        """A bio asks for an LP slot: True if it may issue now."""
        task.t_req = self.now
        if self.inflight < self.depth and not self.gate_queue:
            self.inflight += 1
            self._record(lay.M_GATE_WAIT, 0)
            return True
        self._grow("gate", len(self.gate_queue))
        self.gate_queue.append(task)
        self._lane_on(task, lay.LANE_GATE)
        return False

    def _issue(self, task, duration, notify):
        self.counters["bios"] += 1
        self._lane_on(task, lay.LANE_IO)
        self._schedule(self.now + duration, EV_BIO_DONE, task, notify)

    def _bio_done(self, task, notify):
        self.inflight -= 1
        if self.gate_queue:              # the freed slot goes to the first waiter
            nxt = self.gate_queue.popleft()
            self.inflight += 1
            self._wake(nxt, PC_GATE)
        self._lane_off(task, lay.LANE_IO)
        if notify == BIO_BG:
            self._finish(task)
            fault = task.page_waiter
            if fault is not None:
                fault.page_ready = True
                if fault.waiting_page:
                    fault.waiting_page = False
                    self._wake(fault, PC_WAITED)
        elif notify == BIO_WAKE_OWNER:
            self._wake(task, PC_WAITED)

    # ------------------------------------------------------------------ tasks
    def _finish(self, task):
        self.alive -= 1
        task.done = self.now
        if self.reuse_ids:
            self.free_slots += 1

    def _start(self, task):
        """A task arrives at ``self.now``."""
        self.alive += 1
        task.t_arrive = self.now
        if task.kind == TK_HP:
            self.counters["hp_reads"] += 1
            if self._read_request(task):
                task.holding, task.t_grant = True, self.now
                self._lane_on(task, lay.LANE_HOLD)
                self._hp_runs(task)
            else:
                task.snap = self._integrals_now()
        elif task.kind == TK_WRITER:
            self.counters["writes"] += 1
            if self._write_request(task):
                self._took_write(task)
        elif task.kind == TK_BG:
            self.counters["bg_bios"] += 1
            if self._gate_enter(task):
                self._issue(task, task.bio, BIO_BG)
        else:
            self.counters["faults"] += 1
            self.counters["faults_" + FAULT_KINDS[task.fault]] += 1
            if task.fault == FK_LOCKED:
                # Another LP context is reading this page: its bio enters the gate now.
                page = Task(self._new_id(), TK_BG, bio=task.bio)
                page.page_waiter = task
                task.page_ready = False
                self.alive += 1
                if self._gate_enter(page):
                    self._issue(page, page.bio, BIO_BG)
            self._fault_pass(task)

    def _new_id(self):
        """A new task's id; mirrors the compiled core's slot allocation for buffer_growths."""
        if self.free_slots:
            self.free_slots -= 1
        else:
            self._grow("tasks", self.slots)
            self.slots += 1
        self.next_id += 1
        return self.next_id - 1

    def _hp_runs(self, task):
        """The HP reader runs holding L."""
        wait = self.now - task.t_req
        self._lane_off(task, lay.LANE_WAIT)
        self._record(lay.M_HP_WAIT, wait)
        task.waits.append(wait)
        self.trial["hp_reads"] += 1
        self.trial["hp_wait_sum"] += wait
        self.trial["hp_wait_max"] = max(self.trial["hp_wait_max"], wait)
        self._hold_for(task, task.hold)

    def _took_write(self, task):
        """The writer runs holding L (a writer is never granted while asleep)."""
        wait = self.now - task.t_req
        task.holding, task.t_grant = True, self.now
        self._lane_off(task, lay.LANE_WAIT)
        self._lane_on(task, lay.LANE_HOLD)
        self._record(lay.M_WRITER_WAIT, wait)
        task.waits.append(wait)
        self.trial["writes"] += 1
        self.trial["writer_wait_sum"] += wait
        self._hold_for(task, task.hold)

    def _hold_for(self, task, duration):
        if duration > 0:
            task.pc = PC_HOLD_DONE
            self._schedule(self.now + duration, EV_RUN, task)
        else:
            self._release(task)
            self._finish(task)

    def _judge_inversion(self, task):
        """An HP reader is granted L: was a holder blocked on LP IO during its wait?"""
        now = self._integrals_now()
        overlap = [now[k] - task.snap[k] for k in range(N_BLAME + 1)]
        if overlap[N_BLAME] > 0:
            blame = max(range(N_BLAME), key=lambda k: (overlap[k], -k))
            self.counters["inversions"] += 1
            self.counters["blame_" + BLAME_NAMES[blame]] += 1
            self.trial["inversions"] += 1
            self._record(lay.M_INVERSION_WAIT, self.now + self.wake - task.t_req)

    # ------------------------------------------------------------------ faults
    def _fault_pass(self, task):
        """Start a pass: take L for read (pass 2 queues behind a waiting writer too)."""
        task.pc = PC_LOCK
        if self._read_request(task):
            task.holding, task.t_grant = True, self.now
            self._lane_on(task, lay.LANE_HOLD)
            self._fault_locked(task)

    def _fault_locked(self, task):
        """The pass runs holding L: build its program and advance."""
        self._lane_off(task, lay.LANE_WAIT)
        self._record(lay.M_FAULT_LOCK_WAIT, self.now - task.t_req)
        task.waits.append(self.now - task.t_req)
        task.dropped = False
        task.ip = 0
        if task.passes == 1:
            task.program = [(OP_CPU, -1, BL_NONE, ARG_CPU)] + list(FAULT_PROGRAMS[task.fault])
        else:
            task.program = [(OP_CPU, -1, BL_NONE, ARG_MINOR)] + self._retry_steps(task)
        self._advance(task)

    def _retry_steps(self, task):
        """Pass 2: an evicted page is read under L; a failed re-validation redoes mkwrite."""
        steps = []
        if not self.policy[5]:
            if task.evicted < 0:
                evicted = False
                if self.sc["evict_per_ns"] > 0:
                    e = self.gen.standard_exponential()
                    evicted = float(self.sc["evict_per_ns"]) * (self.now - task.t_pass_end) > e
                    if evicted:
                        task.evict_bio = draw_ns(self.gen, self.sc["device"])
                task.evicted = int(evicted)
            if task.evicted:
                self.counters["evictions"] += 1
                steps += [(OP_SUBMIT, -1, BL_PASS2_READ, ARG_EVICT_BIO),
                          (OP_WAIT_IO, -1, BL_PASS2_READ, 0)]
        elif task.fault in (FK_MKWRITE_FAST, FK_MKWRITE_SLOW):
            if task.revalidate_fail < 0:
                fail = False
                if self.sc["revalidate_fail"] > 0:
                    fail = self.gen.random() < float(self.sc["revalidate_fail"])
                    if fail and task.fault == FK_MKWRITE_SLOW:
                        task.bio = draw_ns(self.gen, self.sc["device"])
                    elif fail:
                        task.mkwrite = draw_ns(self.gen, self.sc["mkwrite_fast"])
                task.revalidate_fail = int(fail)
            if task.revalidate_fail:
                self.counters["revalidate_fails"] += 1
                steps += list(FAULT_PROGRAMS[task.fault])
        return steps

    def _operand(self, task, arg):
        return {ARG_BIO: task.bio, ARG_MKWRITE: task.mkwrite, ARG_CPU: task.cpu,
                ARG_MINOR: task.minor, ARG_EVICT_BIO: task.evict_bio}[arg]

    def _advance(self, task):
        """Run the pass's steps until one sleeps; at the end, finish or retry."""
        prog = task.program
        while task.ip < len(prog):
            op, col, blame, arg = prog[task.ip]
            if op == OP_WAIT_PAGE and task.page_ready:
                task.ip += 1                       # trylock_page succeeds: nothing to drop
                continue
            locked = task.passes == 2 or col < 0 or self.policy[col]
            if not locked and task.holding:
                self._release(task)                # the policy drops L before this step
                task.dropped = True
            if op == OP_CPU:
                task.ip += 1
                duration = self._operand(task, arg)
                if duration > 0:
                    task.pc = PC_OP
                    self._schedule(self.now + duration, EV_RUN, task)
                    return
            elif op == OP_SUBMIT:
                if not self._gate_enter(task):
                    self._block(task, blame)
                    return                         # resumes in _run at PC_GATE
                self._submit_issue(task)
            else:
                if op == OP_WAIT_PAGE:
                    task.waiting_page = True
                    self._lane_on(task, lay.LANE_IO)
                self._block(task, blame)
                return                             # resumes in _run at PC_WAITED
        self._end_pass(task)

    def _submit_issue(self, task):
        op, col, blame, arg = task.program[task.ip]
        nxt = task.ip + 1
        waited = nxt < len(task.program) and task.program[nxt][0] == OP_WAIT_IO
        self._issue(task, self._operand(task, arg), BIO_WAKE_OWNER if waited else BIO_NOTIFY_NONE)
        task.ip += 1

    def _end_pass(self, task):
        if task.passes == 1 and task.dropped:      # VM_FAULT_RETRY: retry once, with TRIED
            self.counters["retries"] += 1
            task.passes = 2
            task.t_pass_end = self.now
            self._fault_pass(task)
            return
        if task.holding:
            self._release(task)
        latency = self.now - task.t_arrive
        self._record(lay.M_FAULT_LATENCY, latency)
        self._record(lay.M_FAULT_PASSES, task.passes)
        self.trial["faults"] += 1
        self.trial["fault_latency_sum"] += latency
        self._finish(task)

    # ------------------------------------------------------------------ dispatch
    def _run(self, task):
        """A task runs again: after a wake-up, a CPU stretch or a critical section."""
        pc = task.pc
        if pc == PC_HOLD_DONE:
            self._release(task)
            self._finish(task)
        elif pc == PC_LOCK:
            if task.kind == TK_WRITER:
                if self._writer_runs(task):
                    self._took_write(task)
            elif task.kind == TK_HP:
                self._hp_runs(task)
            else:
                self._fault_locked(task)
        elif pc == PC_GATE:                       # handed a gate slot: issue the bio
            self._lane_off(task, lay.LANE_GATE)
            self._record(lay.M_GATE_WAIT, self.now - task.t_req)
            if task.kind == TK_BG:
                self._issue(task, task.bio, BIO_BG)
            else:
                self._unblock(task)
                self._submit_issue(task)
                self._advance(task)
        elif pc == PC_WAITED:                     # the awaited bio or page completed
            self._unblock(task)
            if task.program[task.ip][0] == OP_WAIT_PAGE:
                self._lane_off(task, lay.LANE_IO)
            task.ip += 1
            self._advance(task)
        else:                                     # PC_OP: a CPU stretch ended
            self._advance(task)

    def _dispatch(self, ev, task, arg):
        if ev == EV_RUN:
            self._run(task)
        elif ev == EV_BIO_DONE:
            self._bio_done(task, arg)
        else:
            self._arrive()

    # ------------------------------------------------------------------ random mode
    def _arrive(self):
        """A Poisson arrival: draw its type and attributes, then the next gap (this order
        of draws is part of the contract with the compiled engine)."""
        sc, gen = self.sc, self.gen
        task = Task(self._new_id(), TK_BG)
        u = gen.random()
        if u < sc["cut_hp"]:
            task.kind = TK_HP
            task.hold = draw_ns(gen, sc["hp_hold"])
        elif u < sc["cut_lp"]:
            if gen.random() < sc["writer_ratio"]:
                task.kind = TK_WRITER
                task.hold = draw_ns(gen, sc["writer_hold"])
            else:
                task.kind = TK_FAULT
                if gen.random() < sc["write_fault_ratio"]:
                    if gen.random() < sc["p_mkwrite_slow"]:
                        task.fault = FK_MKWRITE_SLOW
                        task.bio = draw_ns(gen, sc["device"])
                    else:
                        task.fault = FK_MKWRITE_FAST
                        task.mkwrite = draw_ns(gen, sc["mkwrite_fast"])
                else:
                    k = gen.random()
                    task.fault = (FK_MISS if k < sc["cut_miss"] else
                                  FK_ASYNC_RA if k < sc["cut_async_ra"] else
                                  FK_LOCKED if k < sc["cut_locked"] else FK_HIT)
                    if task.fault != FK_HIT:
                        task.bio = draw_ns(gen, sc["device"])
                task.cpu = draw_ns(gen, sc["fault_cpu"])
                task.minor = draw_ns(gen, sc["minor_cpu"])
        else:
            task.bio = draw_ns(gen, sc["device"])
        gap = to_ns(float(sc["arrival_mean_ns"]) * gen.standard_exponential())
        self._schedule(self.now + gap, EV_ARRIVAL, None)
        self._start(task)

    def run_trials(self, n_trials: int) -> RawResult:
        """Simulate ``n_trials`` regenerative cycles.

        A trial starts with an arrival into an empty system and ends when the system is
        empty again (L free, nobody queued, no bio waiting or in flight).  The arrival that
        was already drawn for after that moment is the first arrival of the next trial: the
        exponential gap is memoryless, so trials are independent and identically
        distributed, and the gap is counted as idle simulated time.
        """
        limit = int(self.sc["max_trial_events"])
        for _ in range(n_trials):
            self._reset_trial()
            self._schedule(0, EV_ARRIVAL, None)
            events = 0
            while True:
                t, _, ev, task, arg = self._pop()
                self.now = t
                self._dispatch(ev, task, arg)
                events += 1
                if self.check_invariants:
                    self._check()
                if self.alive == 0 and self.inflight == 0:
                    break
                if events >= limit:
                    raise SimulationError(
                        f"a trial reached max_trial_events={limit} events without the "
                        "system emptying: the configuration is overloaded (LP IO or lock "
                        "demand above capacity)")
            next_arrival = self._pop()[0]
            assert not self.heap, "events pending in an empty system"
            self._end_trial(events, self.now, next_arrival - self.now)
        return RawResult(self.hists, self.counters, self.trial_rows)

    def _check(self):
        """Safety and liveness properties that must hold after every event, in the order
        of :data:`mcsim.numeric.INVARIANTS` (the compiled core checks the same ones)."""
        broken = self._broken_invariant()
        if broken is not None:
            raise AssertionError(f"mcsim engine: invariant broken: {INVARIANTS[broken]}")

    def _broken_invariant(self):
        if self.writer is not None and self.nreaders > 0:
            return 0                                   # reader and writer hold L
        if not (self.nreaders >= 0 and 0 <= self.inflight <= self.depth):
            return 1
        if self.writer is None and self.nreaders == 0 and self.queue:
            head, mode = self.queue[0]
            if not (mode == WRITE and head.woken):
                return 2                               # L free, nobody queued woken
        if self.gate_queue and self.inflight != self.depth:
            return 3
        if self.era == 0:
            if self.handoff or self.counters["reader_steals"] != 0:
                return 4
            # 4.x: a reader is queued only behind a writer or while the lock is write-held
            writer_ahead = self.writer is not None
            for _, mode in self.queue:
                if mode == WRITE:
                    writer_ahead = True
                elif not writer_ahead:
                    return 5
        if self.handoff and not self.queue:
            return 6
        return None

    def _end_trial(self, events, busy, idle):
        c = self.counters
        c["trials"] += 1
        c["events"] = sat_add(c["events"], events)
        c["busy_ns"] = sat_add(c["busy_ns"], busy)
        c["sim_ns"] = sat_add(c["sim_ns"], busy + idle)
        c["max_trial_events"] = max(c["max_trial_events"], events)
        for hist, values in zip(self.hists, self.samples):
            hist.add_trial(values)
        if self.record_trials:
            self.trial.update(events=events, busy_ns=busy, idle_ns=idle)
            # the per-trial sums saturate in the core (this engine's ints never overflow)
            self.trial_rows.append([min(self.trial[f], SATURATED) for f in lay.TRIAL_FIELDS])

    # ------------------------------------------------------------------ scripted mode
    def run_script(self, rows):
        """Run scripted tasks (no randomness).  Returns ``(tasks, timeline)``: the
        :class:`Task` objects (``waits`` holds each L acquisition's wait, ``done`` the end
        time) and a list of ``(task, lane, start, end)`` intervals."""
        check_script_rows(rows)
        self._reset_trial()
        self.reuse_ids = False
        self.timeline = []
        tasks = []
        for row in rows:
            task = Task(self._new_id(), int(row["kind"]), fault=int(row["fault"]), hold=int(row["hold"]),
                        cpu=int(row["cpu"]), minor=int(row["minor"]), bio=int(row["bio"]),
                        mkwrite=int(row["mkwrite"]), evicted=int(row["evicted"]),
                        evict_bio=int(row["evict_bio"]),
                        revalidate_fail=int(row["revalidate_fail"]))
            tasks.append(task)
            self._schedule(int(row["at"]), EV_ARRIVAL, task)
        while self.heap:
            t, _, ev, task, arg = self._pop()
            self.now = t
            if ev == EV_ARRIVAL:
                self._start(task)
            else:
                self._dispatch(ev, task, arg)
        return tasks, sorted(self.timeline, key=lambda r: (r[0], r[2], r[1]))
