"""The io.latency gate and the device (docs/model.md §2.3, §7.11, §7.12).

At most ``lp_depth`` LP bios are in flight.  A bio takes a slot at once only if one is free
and nobody waits (FIFO, no barging); a completing bio frees its slot and hands it to the
first waiter (the 5.0+ ``rq_qos_wait()`` protocol) *before* it wakes its own waiter.  The
device has unlimited parallelism: each bio completes after its own service time.

>>> import numpy as np
>>> from mcsim.params import validate
>>> from mcsim.reference import ReferenceEngine
>>> from mcsim.reference.base import Task
>>> from mcsim.scenario import compile_scenario
>>> eng = ReferenceEngine(compile_scenario(validate(throttle_depth=7)))
>>> eng._reset_trial()
>>> a, b = Task(0, 3), Task(1, 3)
>>> eng._gate_enter(a), eng._gate_enter(b), eng.inflight, len(eng.gate_queue)
(True, False, 1, 1)
"""
from __future__ import annotations

from collections import deque

from .. import layout as lay
from .base import BIO_BG, BIO_WAKE_OWNER, EV_BIO_DONE, PC_GATE, PC_WAITED


class GateMixin:
    """Gate slots, the gate's FIFO, bio issue and completion."""

    def _reset_gate(self):
        self.inflight = 0
        self.gate_queue = deque()

    def _gate_enter(self, task):
        """A bio asks for an LP slot: True if it may issue now."""
        task.t_req = self.now
        if self.inflight < self.depth and not self.gate_queue:
            self.inflight += 1
            self._record(task, lay.M_GATE_WAIT, 0)
            return True
        self._grow("gate", len(self.gate_queue))
        self.gate_queue.append(task)
        self._lane_on(task, lay.LANE_GATE)
        return False

    def _issue(self, task, duration, notify):
        self.counters["bios"] += 1
        self._lane_on(task, lay.LANE_IO)
        self._schedule(self.now + duration, EV_BIO_DONE, task, notify)
        if self.serve:                   # the bio's server context (§14.6)
            self._serve_io()

    def _bio_done(self, task, notify):
        """Completion: inflight − 1 and the slot's hand-off first, then the bio's waiter
        (``bio_endio()``: ``rq_qos_done_bio()`` before ``bi_end_io()``)."""
        self.inflight -= 1
        if self.gate_queue:              # the freed slot goes to the first waiter
            nxt = self.gate_queue.popleft()
            self.inflight += 1
            self._wake(nxt, PC_GATE)
        self._lane_off(task, lay.LANE_IO)
        if notify == BIO_BG:
            self._finish(task)
            fault = task.page_waiter     # a page's read or writeback: unlock / end it
            if fault is not None:
                fault.page_ready = True
                if fault.waiting_page:
                    fault.waiting_page = False
                    self._wake(fault, PC_WAITED)
        elif notify == BIO_WAKE_OWNER:
            self._wake(task, PC_WAITED)

    def _gate_granted(self, task):
        """A task handed a slot runs: record its gate wait (it issues next)."""
        self._lane_off(task, lay.LANE_GATE)
        self._record(task, lay.M_GATE_WAIT, self.now - task.t_req)
