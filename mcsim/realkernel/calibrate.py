"""The model's constants measured on this machine, from control runs only.

Two constants, each a measured distribution (docs/realkernel.md, "Calibration"):

- the **per-IO overhead beyond D**, from a control run at the same D without a writer
  (nothing then contends for the locks).  On ``mkwrite`` the fault waits for its one
  WRITE holding its VMA lock, which no tracepoint shows: the overhead is what a fault
  takes beyond D, ``fault − D``.  On ``retry`` the trace shows the lock that matters:
  the TRIED pass's hold of ``mmap_lock(R)`` (``hold_fault``) is its READ as the lock
  sees it, and the overhead is ``hold − D``; the rest of a fault (the first pass, its
  READ without a lock, and the faulting thread waiting for a CPU on the way) is not under
  a lock the model draws (a fault's own latency put 2–10× too long a tail under the lock
  at D = 0).  Each hold is taken less the faulting thread's time runnable in it (waiting
  for a CPU after the READ's wake-up, or preempted; the trace's ``sched_switch`` and
  ``sched_waking``): the model draws that wait itself (its wake-up and CPUs), and with
  the CPUs busy it was most of the tail (with two CPU hogs beside a D = 0 control the
  holds' p99 went from 0.08 to 0.66 ms, their time on a CPU or asleep from 0.06 to 0.07).
  It holds the FUSE round trip, the server's ``nanosleep()`` overshoot and
  the faulting thread's wake-up, and goes into the model's ``device`` as
  ``empirical(D + q₀, …, D + q_m)`` (docs/model.md §13.1);
- the **wake-up latency**: the wake-up probe (``repro/wake.c``), a thread blocked on a
  pipe woken by another's write; it goes into ``wake_jitter`` (§13.2) as
  ``empirical(q₀, …, q_m)`` (the 6.18 preset's ``wake`` is 0).

- the reader's **hold** of ``mmap_lock(R)`` per acquisition, from the no-writer
  control's trace (``hold_hp``: nothing contends there), into ``hp_hold``;
- at D = 0, ``device`` is the same measure on the control without a writer and without
  slow IO (the server does not sleep, so the overhead measured at D > 0 does not apply).

- the machine's **CPUs** (``cpus``, docs/model.md §14: the CPUs this process may run on)
  and the **context switch** onto a freed CPU: the wake-up probe with both threads pinned
  to one CPU (``pin=1``), into ``cpu_switch`` as ``empirical(q₀, …, q_m)``. The unpinned
  probe above is the idle path of §14.2, this one the busy path of §14.3.

- the **placement** of woken tasks (``cpu_affinity``, §14.7): in the no-writer controls'
  traces (at D and at D = 0, pooled), of the wake-ups whose affine CPU (the waker's, an
  interrupt's wakee's previous CPU) was busy while another CPU was idle, the share the
  kernel put on the affine CPU (:mod:`mcsim.trace.placement`); with fewer than
  :data:`MIN_PLACEMENT_CHOICES` such choices it stays at 0.

- the **think times** as the loops really sleep them: the probe sleeping each of the run's
  think times 2,000 times (``sleep=1``), each into the threads' ``think`` as
  ``empirical(q₀, …, q_m)``. A ``nanosleep()`` of 1 ms takes 1.05–1.15 ms here (timer
  slack, wake-up); exact think times keep the model's loops in step.

- the fault loop's **work before each fault** (``lead``, docs/model.md §14.6): what its
  ``sync_file_range()`` (``mkwrite``: it starts the page's writeback, then returns) or its
  ``madvise()`` and ``posix_fadvise()`` (``retry``) take, timed by the target on the
  no-writer control, into the fault step's ``lead``; on ``mkwrite`` the page's IO starts
  with it, so each IO is ``lead + fault`` (the writeback runs from the call's start);
- the **FUSE server's CPU per request** at its arrival (``repro/fusedelay.c``: its
  thread's CPU time from its previous reply to the request's handler: reading the request
  once woken, libfuse's dispatch), on the no-writer control, into ``io_cpu`` (§14.6): the
  server's thread takes a CPU while the thread that sent the request runs on.

- the loops' **timer slack** (``timer_slack``, docs/model.md §14.8): this process's
  ``/proc/self/timerslack_ns``, which the reproducer's processes inherit; and the
  **cross-CPU wake-up** (``wake_remote``): the wake-up probe with the waker pinned to one
  CPU and the sleeper to another, idle one (``pin=2``), as ``empirical(q₀, …, q_m)``.
  Both go into the model only with ``cpu_affinity`` measured above 0 (§14.8 stands on
  §14.7's numbered CPUs) and two CPUs.

- the writer's **hold** of ``mmap_lock(W)``, from the writer-elsewhere control's trace
  (``hold_writer``: its ``mmap()``/``munmap()`` wait for no VMA), into ``writer_hold``.
  Not from a writer of the faulting VMA: its hold includes its wait in
  ``vma_start_write()`` for the fault's VMA lock, which the model draws itself.

Nothing else is set from measurements: the kernel preset's rules (handoff, stealing,
two acquisitions per ``cmdline`` read), the fault's CPU times and the think times stay
as the preset and the run describe.  Without an engine that takes measured distributions,
each table is reduced to what the parameters take: a constant (the median) for
``device`` and ``wake``, a lognormal through the median and p90 for the holds.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Equally spaced quantiles of a table: m = 256 intervals, 257 values (the most §13.1
#: allows), so that each segment holds 0.39% of the draws and a p99 falls between
#: neighbouring measured quantiles (with 33 points the last segment spread 3.1% of the
#: draws evenly up to the p99.9: a D = 0 fault time with a p99 of 0.3 ms and a p99.9 of
#: 1.5 ms became a p99 of 1.1 ms).
TABLE_INTERVALS = 256
#: The table's top point: the sample's p99.9, not its maximum.  The quantile function
#: of §13.1 interpolates linearly between equally spaced points, so its last segment
#: spreads 1/m of the draws (3.1%) evenly up to the top point; with the maximum there,
#: one stray sample (a wake-up delayed 6 ms by other work on the machine) would stand
#: for 3% of all draws.  The same rule for every table; the top 0.1% is cut.
TOP_PERCENTILE = 99.9
#: Fewer choices than this (wake-ups whose affine CPU was busy with another idle) in the
#: controls' traces leave ``cpu_affinity`` at 0: 20 choices put a share's standard error
#: at no more than 0.112 (sqrt(0.25 / 20)).
MIN_PLACEMENT_CHOICES = 20


def quantile_table(values_ns, intervals: int = TABLE_INTERVALS,
                   top: float = TOP_PERCENTILE) -> list[int]:
    """``intervals + 1`` equally spaced quantiles of a sample from its minimum to its
    ``top`` percentile, in whole ns, never below 0: the points of an ``empirical(...)``
    distribution.

    >>> quantile_table([0, 10, 20, 30, 40], intervals=4, top=100)
    [0, 10, 20, 30, 40]
    >>> quantile_table([-5, 5], intervals=2, top=100)
    [0, 0, 5]
    >>> quantile_table(range(1001), intervals=2)     # p0, p49.95, p99.9
    [0, 500, 999]
    """
    v = np.asarray(values_ns, dtype=float)
    if v.size == 0:
        raise ValueError("no values to make a quantile table of")
    q = np.percentile(v, np.linspace(0, top, intervals + 1))
    return [int(round(x)) for x in np.maximum(q, 0.0)]


def empirical(points_ns) -> str:
    """The ``empirical(...)`` distribution text of a quantile table (ns).

    >>> empirical([1000, 1500, 4000])
    'empirical(1000ns, 1500ns, 4000ns)'
    """
    return "empirical(" + ", ".join(f"{int(p)}ns" for p in points_ns) + ")"


def ios_per_fault(path: str) -> int:
    """Device IOs per fault of a path: 2 READs on ``retry`` (the failed first READ, then
    the retry pass's), 1 WRITE on ``mkwrite``.

    >>> ios_per_fault("retry"), ios_per_fault("mkwrite")
    (2, 1)
    """
    return 2 if path == "retry" else 1


@dataclass(frozen=True)
class Calibration:
    """Measured constants: ``io_overhead_ns`` (per device IO, beyond D) and ``wake_ns``
    as quantile tables, and where they came from (``source``, words).

    >>> c = Calibration([100, 200, 900], [5, 10, 40], "test")
    >>> c.params(5_000_000)
    {'device': 'empirical(5000100ns, 5000200ns, 5000900ns)', 'wake_jitter': 'empirical(5ns, 10ns, 40ns)'}
    """

    io_overhead_ns: list
    wake_ns: list
    source: str
    hp_hold_ns: list | None = None
    writer_hold_ns: list | None = None
    #: Per device IO of a fault at D = 0 (the D = 0 control without a writer): what
    #: ``device`` is at D = 0, where the server does not sleep and the overhead beyond D
    #: measured at D > 0 (its timer overshoot, its wake-up) does not arise.
    fast_io_ns: list | None = None
    #: The busy path's latency (the pinned wake-up probe) and the machine's CPU count:
    #: ``cpu_switch`` and ``cpus`` (docs/model.md §14); 0 CPUs = not set.
    switch_ns: list | None = None
    cpus: int = 0
    #: A think time (ns, as the run states it) → the quantile table of how long it
    #: really sleeps (the probe's ``sleep=1``): the threads' ``think`` (§12.2).
    think_ns: dict | None = None
    #: What the IO tables were measured as: "lock hold" (the TRIED pass's hold of
    #: mmap_lock(R) in the trace, ``retry``) or "fault time" (``mkwrite``).
    io_from: str = "fault time"
    #: The fault loop's work before each fault (the fault step's ``lead``) and the FUSE
    #: server's CPU per request (``io_cpu``), docs/model.md §14.6; None: not measured.
    lead_ns: list | None = None
    server_cpu_ns: list | None = None
    #: ``cpu_affinity`` (docs/model.md §14.7): how often the kernel left a woken task on
    #: its busy affine CPU with another CPU idle, in the no-writer controls' traces
    #: (:mod:`mcsim.trace.placement`); None: too few such choices (left at 0).
    #: ``placement``: those traces' counts, pooled (:meth:`Placement.as_dict`).
    cpu_affinity: float | None = None
    placement: dict | None = None
    #: The threads' timer slack (ns, ``timer_slack``) and the cross-CPU wake-up probe's
    #: quantile table (``wake_remote``), docs/model.md §14.8; None: not measured.
    timer_slack_ns: int | None = None
    remote_wake_ns: list | None = None

    def lead(self):
        """The fault step's ``lead`` (``empirical``), None when not measured.

        >>> Calibration([1], [1], "x", lead_ns=[20000, 40000]).lead()
        'empirical(20000ns, 40000ns)'
        """
        return empirical(self.lead_ns) if self.lead_ns else None

    def thinks(self) -> dict:
        """The stated think times (ns) → their measured distribution (``empirical``).

        >>> Calibration([1], [1], "x", think_ns={1000000: [1050000, 1090000]}).thinks()
        {1000000: 'empirical(1050000ns, 1090000ns)'}
        """
        return {int(k): empirical(v) for k, v in (self.think_ns or {}).items()}

    def params(self, delay_ns: int) -> dict:
        """The model parameters for a run at D = ``delay_ns``: the measured distributions
        as ``empirical`` tables, ``wake_jitter`` (docs/model.md §13) and, when measured,
        ``cpus``, ``cpu_switch`` and ``io_cpu`` (§14).

        >>> Calibration([100], [5, 10], "x", switch_ns=[3, 4], cpus=2).params(0)["cpus"]
        2
        >>> Calibration([100], [5], "x", cpus=2, server_cpu_ns=[30000]).params(0)["io_cpu"]
        'empirical(30000ns)'
        >>> Calibration([100], [5], "x", cpus=2, cpu_affinity=0.875).params(0)["cpu_affinity"]
        0.875
        >>> p = Calibration([100], [5], "x", cpus=2, cpu_affinity=0.9, timer_slack_ns=50000,
        ...                 remote_wake_ns=[15000, 17000]).params(0)
        >>> p["timer_slack"], p["wake_remote"]
        ('50000ns', 'empirical(15000ns, 17000ns)')
        >>> "timer_slack" in Calibration([100], [5], "x", cpus=2, timer_slack_ns=50000,
        ...                              remote_wake_ns=[15000]).params(0)   # no affinity
        False
        """
        holds = {"hp_hold": self.hp_hold_ns, "writer_hold": self.writer_hold_ns}
        io = [delay_ns + p for p in self.io_overhead_ns]
        if delay_ns == 0 and self.fast_io_ns:
            io = list(self.fast_io_ns)
        out = {"device": empirical(io),
               "wake_jitter": empirical(self.wake_ns)}
        if self.cpus > 0:
            out["cpus"] = int(self.cpus)
            if self.switch_ns:
                out["cpu_switch"] = empirical(self.switch_ns)
            if self.server_cpu_ns:
                out["io_cpu"] = empirical(self.server_cpu_ns)
            if self.cpu_affinity is not None:
                out["cpu_affinity"] = float(self.cpu_affinity)
            out.update(self._timer_params())
        return {**out, **{k: empirical(v) for k, v in holds.items() if v}}


    def _timer_params(self) -> dict:
        """``timer_slack`` and ``wake_remote`` (§14.8) when both were measured and the
        CPUs are numbered (``cpu_affinity`` above 0); else nothing."""
        if (self.timer_slack_ns and self.remote_wake_ns and self.cpu_affinity
                and self.cpus > 1):
            return {"timer_slack": f"{int(self.timer_slack_ns)}ns",
                    "wake_remote": empirical(self.remote_wake_ns)}
        return {}


def hist_table(hist, intervals: int = TABLE_INTERVALS,
               top: float = TOP_PERCENTILE) -> list[int] | None:
    """An equally spaced quantile table of a measured histogram, minimum to the ``top``
    percentile (None when empty).

    >>> from mcsim.histogram import Histogram
    >>> hist_table(Histogram.from_trials([1, 2, 3, 4, 5], [5]), intervals=4, top=100)
    [1, 2, 3, 4, 5]
    """
    if hist.n == 0:
        return None
    return [int(round(hist.quantile(p))) for p in np.linspace(0, top / 100, intervals + 1)]


def from_control(fault_ns, path: str, delay_ns: int, wake_ns, source: str,
                 hp_hold=None, fast_fault_ns=None, writer_hold=None, switch_ns=None,
                 cpus: int = 0, sleeps: dict | None = None, lock_hold=None,
                 fast_lock_hold=None, lead_ns=None, fast_lead_ns=None,
                 server_cpu_ns=None, placement=None, remote_ns=None,
                 timer_slack_ns: int | None = None) -> Calibration:
    """The calibration from a control run's fault latencies (no writer, at ``delay_ns``)
    and the wake-up probe's latencies; ``hp_hold`` the reader's measured hold histogram
    of the control's trace, ``fast_fault_ns`` the D = 0 control's fault latencies,
    ``writer_hold`` the writer-elsewhere control's measured hold histogram, ``switch_ns``
    the pinned probe's latencies, ``cpus`` the machine's CPUs and ``sleeps`` each think
    time's (ns) measured sleeps (all optional).  ``lock_hold`` and ``fast_lock_hold``
    (``retry``: the faults' holds of ``mmap_lock(R)``, ns, in the traces of the no-writer
    controls at D and at D = 0) replace the fault times where given: one READ per hold.
    ``lead_ns`` and ``fast_lead_ns`` are the fault loop's work before each fault on the
    same controls (one per fault, in ``fault_ns``'s order), ``server_cpu_ns`` the FUSE
    server's CPU per request: the ``lead`` and ``io_cpu`` tables; on ``mkwrite`` the page's
    writeback starts with the lead, so a fault's IO is ``lead + fault``.  ``placement``
    (a :class:`mcsim.trace.placement.Placement`, the controls' pooled) gives
    ``cpu_affinity`` when it holds at least :data:`MIN_PLACEMENT_CHOICES` choices.
    ``remote_ns`` (the cross-CPU wake-up probe's latencies) and ``timer_slack_ns`` give
    ``wake_remote`` and ``timer_slack`` (docs/model.md §14.8).

    >>> c = from_control([5_100_000], "mkwrite", 5_000_000, [9000], "x", lead_ns=[30_000])
    >>> c.io_overhead_ns[0], c.lead_ns[0], len(c.lead_ns)
    (130000, 30000, 257)

    >>> c = from_control([41_000_000, 41_000_000], "retry", 20_000_000, [9000], "x")
    >>> c.io_overhead_ns[0], c.wake_ns[-1]
    (500000, 9000)
    >>> c = from_control([41_000_000], "retry", 20_000_000, [9000], "x",
    ...                  lock_hold=[20_300_000] * 4)
    >>> c.io_overhead_ns[0], c.io_from
    (300000, 'lock hold')
    """
    n = ios_per_fault(path)
    io_from = "fault time"
    if path == "mkwrite":
        fault_ns = _with_lead(fault_ns, lead_ns)
        fast_fault_ns = _with_lead(fast_fault_ns, fast_lead_ns)
    if lock_hold is not None and len(lock_hold):
        io = quantile_table(np.asarray(lock_hold, dtype=float) - delay_ns)
        io_from = "lock hold"
    else:
        io = quantile_table((np.asarray(fault_ns, dtype=float) - n * delay_ns) / n)
    if fast_lock_hold is not None and len(fast_lock_hold):
        fast = quantile_table(fast_lock_hold)
    elif fast_fault_ns is not None and len(fast_fault_ns):
        fast = quantile_table(np.asarray(fast_fault_ns) / n)
    else:
        fast = None
    affinity, counts = placement_affinity(placement)
    return Calibration(io, quantile_table(wake_ns), source,
                       hist_table(hp_hold) if hp_hold is not None else None,
                       hist_table(writer_hold) if writer_hold is not None else None,
                       fast,
                       quantile_table(switch_ns) if switch_ns is not None and len(switch_ns)
                       else None, int(cpus),
                       {int(k): quantile_table(v) for k, v in sleeps.items()} if sleeps
                       else None, io_from,
                       quantile_table(lead_ns) if _some(lead_ns) else None,
                       quantile_table(server_cpu_ns) if _some(server_cpu_ns) else None,
                       affinity, counts, timer_slack_ns,
                       quantile_table(remote_ns) if _some(remote_ns) else None)


def placement_affinity(placement) -> tuple:
    """``(cpu_affinity, counts)`` from pooled placement counts: the share of choices that
    stayed, or None with fewer than :data:`MIN_PLACEMENT_CHOICES` choices (too few to
    set a parameter from: it stays at 0); ``counts`` the counts as a dict (None without
    a trace).

    >>> from mcsim.trace.placement import Placement
    >>> p = Placement(); p.by_kind["task"].update(choices=40, stayed=35)
    >>> placement_affinity(p)[0]
    0.875
    >>> p = Placement(); p.by_kind["task"].update(choices=19, stayed=19)
    >>> placement_affinity(p)[0] is None
    True
    """
    if placement is None:
        return None, None
    counts = placement.as_dict()
    if placement.choices < MIN_PLACEMENT_CHOICES:
        return None, counts
    return placement.affinity, counts


def _some(values) -> bool:
    return values is not None and len(values) > 0


def _with_lead(fault_ns, lead_ns):
    """Each fault's time from its loop's ``sync_file_range()`` on (``lead + fault``),
    where the leads were measured one per fault; else the fault times as they are."""
    if not _some(fault_ns) or not _some(lead_ns) or len(lead_ns) != len(fault_ns):
        return fault_ns
    return np.asarray(fault_ns, dtype=float) + np.asarray(lead_ns, dtype=float)
