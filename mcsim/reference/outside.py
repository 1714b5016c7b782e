"""Work outside the locks (docs/model.md §14.6): CPU work that takes no lock but holds a
CPU, so that on a machine of few CPUs it delays the tasks that do.

- **Server contexts** (``io_cpu``): with ``cpus > 0`` and ``io_cpu`` not ``const 0``, every
  bio issued creates a server context (a FUSE daemon's thread receiving the request): its
  work ``c`` is drawn at the issue, right after the bio's completion is scheduled; it
  becomes runnable by a wake-up (§14.2 (a)); when it runs it holds its CPU for ``c``, then
  ends and frees it.  It takes no lock and records nothing; it is alive (a cycle waits for
  it) but never counted (a window trial does not).
- **A fault step's lead** (``lead``): the fault starts as §2.4 says (its counters, its page
  bio into the gate), the thread runs ``lead`` on its CPU holding no lock, then the first
  pass takes its lock.

>>> import mcsim
>>> r = mcsim.run_script([{"at": 0, "kind": "bg_io", "bio": "1ms"},
...                       {"at": "1us", "kind": "writer", "hold": "10us"}],
...                      cpus=1, cpu_switch="0", io_cpu="40us", engine="reference")
>>> r.tasks[1].waits, r.tasks[1].done    # the writer waits for the server's CPU
([0], 50000)
"""
from __future__ import annotations

from ..scenario import TK_SERVER
from .base import EV_RUN, PC_LEAD, PC_SERVE, PC_SERVE_END, Task


class OutsideMixin:
    """Server contexts and the lead of a thread's fault step."""

    def _serve_io(self):
        """A bio was just issued (``self.serve``): its server context draws ``io_cpu`` and is
        woken (§14.6 items 1–2).  Never counted: it is no arrival or step (§12.3)."""
        ctx = Task(self._new_id(), TK_SERVER, counted=False)
        ctx.hold = self._draw(self.io_cpu)
        self.alive += 1
        self._wake(ctx, PC_SERVE)

    def _lead(self, task):
        """The fault started (§14.6 item 1): the thread runs its lead on the CPU it holds,
        under no lock; the first pass starts when it ends (item 3)."""
        task.pc = PC_LEAD
        self._schedule(self.now + task.lead, EV_RUN, task)

    def _outside_runs(self, task):
        """A server context runs and holds its CPU for its work (0: it ends now, §4.1), or
        its work ended and it ends, freeing the CPU; or a lead ended: the first pass."""
        if task.pc == PC_LEAD:
            self._fault_pass(task)
        elif task.pc == PC_SERVE and task.hold > 0:
            task.pc = PC_SERVE_END
            self._schedule(self.now + task.hold, EV_RUN, task)
        else:
            self._finish(task)
