"""The HP reader's program: one ``cmdline`` ``read()`` makes ``hp_acquisitions`` lock
acquisitions in a row, each holding for the read's one ``hold`` (docs/model.md §11.5), and
the inversion judgement of each acquisition of ``L`` (§5, §7.13, §11.7).

With ``hp_lock = vma`` (the 2026 ``__access_remote_vm`` series) an acquisition holds the
lock of the VMA holding the arguments at once (no modelled writer changes that VMA), unless
it falls back to ``L``: the script row's ``fallback``, or a ``p_hp_fallback`` draw at each
request in random mode.

>>> import mcsim
>>> r = mcsim.run_script([{"at": 0, "kind": "writer", "hold": "1ms"},
...                       {"at": "100us", "kind": "hp_read", "hold": "10us"}],
...                      kernel="6.18", engine="reference")
>>> r.tasks[1].waits, r.tasks[1].done      # two acquisitions of L: 900 µs, then none
([900000, 0], 1020000)
"""
from __future__ import annotations

from .. import layout as lay
from ..policies import BLAME_NAMES
from ..scenario import LOCK_MMAP, LOCK_VMA
from .base import N_BLAME


class HpMixin:
    """HP reads: acquisitions, their waits and holds, and the inversion verdict."""

    def _hp_start(self, task):
        self.counters["hp_reads"] += 1
        if task.thread >= 0 and self.thread_states[task.thread].scan_t0 < 0:
            self.thread_states[task.thread].scan_t0 = self.now   # a scan's first request
        self._hp_request(task)

    def _hp_request(self, task):
        """The next acquisition of the read asks for its lock."""
        if self.hp_lock == LOCK_VMA and not self._hp_falls_back(task):
            task.acq_lock = LOCK_VMA
            task.t_req = task.t_grant = self.now
            self._hp_runs(task)
            return
        task.acq_lock = LOCK_MMAP
        if self._read_request(task):
            task.holding, task.t_grant = True, self.now
            self._lane_on(task, lay.LANE_HOLD)
            self._hp_runs(task)
        else:
            task.snap = self._integrals_now(self.locks[task.proc])
            self._cpu_sleep(task)            # queued for L (§14.1 item 1)

    def _hp_falls_back(self, task):
        """Does this acquisition under the VMA lock fall back to ``L``?"""
        if task.fallback >= 0:
            back = bool(task.fallback)
        elif self.sc["p_hp_fallback"] > 0:
            back = self.gen.random() < float(self.sc["p_hp_fallback"])
        else:
            back = False
        if back:
            self.counters["hp_fallbacks"] += 1
        return back

    def _hp_runs(self, task):
        """The acquisition runs holding its lock; the last one completes the read's wait."""
        wait = self.now - task.t_req
        self._lane_off(task, lay.LANE_WAIT)
        self._record(task, lay.M_HP_ACQ_WAIT, wait)
        task.waits.append(wait)
        task.wait_sum += wait
        if task.inverted:                    # judged at the grant, recorded as it runs (§14.4)
            task.inverted = False
            self._record(task, lay.M_INVERSION_WAIT, wait)
        task.acquisitions += 1
        if task.acquisitions == self.hp_acquisitions and task.counted:
            self._record(task, lay.M_HP_WAIT, task.wait_sum)
            self.trial["hp_reads"] += 1
            self.trial["hp_wait_sum"] += task.wait_sum
            self.trial["hp_wait_max"] = max(self.trial["hp_wait_max"], task.wait_sum)
        self._hold_for(task, task.hold)

    def _hp_release(self, task):
        """The acquisition's hold ends; the next request is made at this instant."""
        if task.acq_lock == LOCK_MMAP:
            self._release(task)
        else:
            self._record(task, lay.M_HOLD_HP, self.now - task.t_grant)
        if task.acquisitions < self.hp_acquisitions:
            self._hp_request(task)
        else:
            self._finish(task)

    def _judge_inversion(self, task):
        """An HP acquisition is granted ``L_p``: was a holder of ``L_p`` blocked in a blamed
        step during its wait?  The kind with the largest overlap is blamed, ties to the
        earlier kind.  The counters count every inversion of the trial; the trial field only
        a counted read's (§12.3).  The ``inversion_wait`` sample is the acquisition's whole
        wait, recorded when it runs (:meth:`_hp_runs`, §14.4)."""
        now = self._integrals_now(self.locks[task.proc])
        overlap = [now[k] - task.snap[k] for k in range(N_BLAME + 1)]
        if overlap[N_BLAME] > 0:
            blame = max(range(N_BLAME), key=lambda k: (overlap[k], -k))
            self.counters["inversions"] += 1
            self.counters["blame_" + BLAME_NAMES[blame]] += 1
            if task.counted:
                self.trial["inversions"] += 1
            task.inverted = True
