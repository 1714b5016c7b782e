"""After each release that ends a fault, which of the writer and the reader comes back first?

On ``mkwrite`` with the same VMA's writer (docs/realkernel.md), the writer's ``madvise()``
waits in ``vma_start_write()`` for the fault, holding ``mmap_lock(W)``, and the reader's
``pread()`` of ``/proc/<pid>/cmdline`` waits behind it.  When the fault ends, the writer
finishes its call and releases the lock, which lets the reader's read finish; both then
sleep their think time and come back.  Whichever requests the lock first sets the mode of
the reader's next read (docs/realkernel-results.md, "Where the model and the kernel
disagree"): the reader first, a free read; the writer first, a read that waits the whole
of the next fault.

:func:`returns` measures that from a trace with the ``mmap_lock`` events and the
``madvise``/``pread64`` syscalls (what ``mcsim trace record`` and ``mcsim repro --trace``
keep):

- a **cycle** is a writer's call (``sys_enter_madvise`` to ``sys_exit_madvise``) that took
  longer than ``min_wait_ns`` (it waited for a fault) and whose release let the reader's
  ``pread64()`` return within ``window_ns`` after the call's return;
- **W** is the writer's first ``mmap_lock_start_locking`` after its call returned, **R**
  the reader's first after that ``pread64()`` returned; the cycle's value is R − W (ns):
  negative when the reader came back first.

The writer is the thread with the most ``madvise()`` calls, the reader the thread with the
most ``pread64()`` calls, unless given.

>>> lines = '''
... t-7 [001] ..... 1.000000: sys_madvise(start: 0x1000, len_in: 0x1000, behavior: 0xa)
... t-7 [001] ..... 1.000001: mmap_lock_start_locking: mm=0000000000000001 memcg_id=0 write=true
... r-8 [000] ..... 1.000500: sys_pread64(fd: 3, buf: 0x1, count: 0x1000, pos: 0)
... r-8 [000] ..... 1.000501: mmap_lock_start_locking: mm=0000000000000001 memcg_id=0 write=false
... t-7 [001] ..... 1.005000: sys_madvise -> 0x0
... r-8 [000] ..... 1.005010: sys_pread64 -> 0x10e
... r-8 [000] ..... 1.006090: sys_pread64(fd: 3, buf: 0x1, count: 0x1000, pos: 0)
... r-8 [000] ..... 1.006091: mmap_lock_start_locking: mm=0000000000000001 memcg_id=0 write=false
... t-7 [001] ..... 1.006100: sys_madvise(start: 0x1000, len_in: 0x1000, behavior: 0xb)
... t-7 [001] ..... 1.006101: mmap_lock_start_locking: mm=0000000000000001 memcg_id=0 write=true
... '''.splitlines()
>>> r = returns(lines)
>>> r.r_minus_w_ns.tolist(), r.reader_first
([-10000], 1.0)
"""
from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from dataclasses import dataclass

import numpy as np

from ..errors import ParameterError
from .parse import parse_line

#: The events a cycle is built from.
EVENTS = frozenset({"sys_enter_madvise", "sys_exit_madvise", "sys_enter_pread64",
                    "sys_exit_pread64", "mmap_lock_start_locking"})


@dataclass
class Returns:
    """R − W per cycle (ns, in trace order), the two threads, and how many of the writer's
    calls were long (over ``min_wait_ns``) but had no reader released right after them.

    >>> r = Returns(np.array([-2000, 5000, 7000]), writer=7, reader=8, unreleased=1)
    >>> r.reader_first, r.quantiles_us((50,))
    (0.3333333333333333, {50: 5.0})
    >>> r.summary()
    'R - W after a release: 3 cycles (1 long writer call without the reader released), p10 / p25 / p50 / p75 / p90 -0.6 / 1.5 / 5.0 / 6.0 / 6.6 us, reader first 0.33'
    """

    r_minus_w_ns: np.ndarray
    writer: int | None
    reader: int | None
    unreleased: int = 0

    @property
    def reader_first(self) -> float | None:
        """The share of cycles in which the reader requested first (None without one)."""
        n = self.r_minus_w_ns.size
        return float((self.r_minus_w_ns < 0).sum() / n) if n else None

    def quantiles_us(self, ps=(10, 25, 50, 75, 90)) -> dict:
        """Percentiles of R − W in µs (empty without a cycle)."""
        if not self.r_minus_w_ns.size:
            return {}
        values = np.percentile(self.r_minus_w_ns / 1e3, ps)
        return {p: round(float(v), 3) for p, v in zip(ps, values)}

    def summary(self) -> str:
        """One line: cycles, the percentiles of R − W, the reader-first share."""
        n = self.r_minus_w_ns.size
        head = (f"R - W after a release: {n} cycles ({self.unreleased} long writer call"
                f"{'' if self.unreleased == 1 else 's'} without the reader released)")
        if not n:
            return head
        q = self.quantiles_us()
        return (f"{head}, p10 / p25 / p50 / p75 / p90 "
                f"{' / '.join(f'{v:.1f}' for v in q.values())} us, "
                f"reader first {self.reader_first:.2f}")


def _by_thread(lines):
    """The events of :data:`EVENTS` per thread, in trace order: (ts, name, fields)."""
    out = defaultdict(list)
    for line in lines:
        ev = parse_line(line)
        if ev.kind == "event" and ev.name in EVENTS:
            out[ev.pid].append((ev.ts, ev.name, ev.fields))
    return out


def _most(events, name):
    counts = Counter({pid: sum(1 for e in evs if e[1] == name) for pid, evs in events.items()})
    pid, n = counts.most_common(1)[0] if counts else (None, 0)
    return pid if n else None


def _check_thread(param, pid, events):
    if pid is not None and pid not in events:
        raise ParameterError(param, pid, "a thread id with madvise/pread64 or mmap_lock "
                             "events in the trace", "has no event in the trace")


def _long_calls(evs, min_wait_ns):
    """The return times of the writer's calls that took longer than ``min_wait_ns``."""
    out, enter = [], None
    for ts, name, _ in evs:
        if name == "sys_enter_madvise":
            enter = ts
        elif name == "sys_exit_madvise" and enter is not None:
            if ts - enter > min_wait_ns:
                out.append(ts)
            enter = None
    return out


def _requests(evs):
    return [ts for ts, name, _ in evs if name == "mmap_lock_start_locking"]


def returns(lines, writer: int | None = None, reader: int | None = None,
            min_wait_ns: int = 1_000_000, window_ns: int = 100_000) -> Returns:
    """R − W after each release that ends a fault (see the module's docstring)."""
    for param, value in (("min_wait_ns", min_wait_ns), ("window_ns", window_ns)):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 0:
            raise ParameterError(param, value, "an integer number of ns >= 0")
    events = _by_thread(lines)
    _check_thread("writer", writer, events)
    _check_thread("reader", reader, events)
    writer = writer if writer is not None else _most(events, "sys_enter_madvise")
    reader = reader if reader is not None else _most(events, "sys_enter_pread64")
    if writer is None or reader is None:
        return Returns(np.zeros(0, np.int64), writer, reader)
    w_req = _requests(events[writer])
    r_req = _requests(events[reader])
    r_exits = [ts for ts, name, _ in events[reader] if name == "sys_exit_pread64"]
    values, unreleased = [], 0
    for done in _long_calls(events[writer], min_wait_ns):
        k = bisect_left(r_exits, done)
        i = bisect_right(w_req, done)
        if k == len(r_exits) or r_exits[k] - done > window_ns:
            unreleased += 1
            continue
        j = bisect_right(r_req, r_exits[k])
        if i == len(w_req) or j == len(r_req):
            continue                      # the trace ends before one of them came back
        values.append(r_req[j] - w_req[i])
    return Returns(np.asarray(values, dtype=np.int64), writer, reader, unreleased)
