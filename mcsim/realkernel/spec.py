"""What one reproducer run is, and the same run as a workload the model simulates."""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import ParameterError
from ..units import format_duration_exact, parse_duration

PATHS = ("retry", "mkwrite")
WRITERS = ("none", "same", "other")

#: The fault kind of each path (docs/model.md §11.3–§11.4) and the parameters it needs.
_FAULT = {
    # A miss whose TRIED retry pass reads the page again under mmap_lock(R).
    "retry": ("miss", {"p_retry_miss": 1.0}),
    # ->page_mkwrite waits for a writeback started as the fault arrives.
    "mkwrite": ("mkwrite_writeback", {}),
}


@dataclass(frozen=True)
class RunSpec:
    """One reproducer run: the inversion path, the FUSE reply delay D, how long, the writer
    and the three think times (durations as mcsim accepts them: "20ms", "1500us", ns).

    - `path`: "retry" (a read fault whose TRIED retry pass reads the page holding
      mmap_lock(R)) or "mkwrite" (a write fault whose ->page_mkwrite waits for writeback
      holding the VMA lock).
    - `writer`: "same" (madvise() of the faulting VMA: it write-locks the VMA under
      mmap_lock(W), as mprotect() does), "other" (mmap()/munmap() of a page elsewhere) or
      "none".

    >>> s = RunSpec(path="retry", delay="5ms", duration="2s", writer="other")
    >>> s.delay_ns, s.duration_ns, s.args()["target"][:2]
    (5000000, 2000000000, ['path=retry', 'duration_ms=2000'])
    >>> RunSpec(path="read")
    Traceback (most recent call last):
    ...
    mcsim.errors.ParameterError: path: 'read' is not valid; allowed: one of retry, mkwrite
    """

    path: str = "retry"
    delay: object = "20ms"
    duration: object = "5s"
    writer: str = "same"
    fault_think: object = "1ms"
    writer_think: object = "1ms"
    reader_think: object = "1ms"

    def __post_init__(self):
        if self.path not in PATHS:
            raise ParameterError("path", self.path, "one of " + ", ".join(PATHS))
        if self.writer not in WRITERS:
            raise ParameterError("writer", self.writer, "one of " + ", ".join(WRITERS))
        for name in ("delay", "duration", "fault_think", "writer_think", "reader_think"):
            parse_duration(getattr(self, name), name)
        if not 0 <= self.delay_ns <= 10**9:
            raise ParameterError("delay", self.delay, "0 to 1s", "is out of range")
        if not 10**8 <= self.duration_ns <= 3600 * 10**9:
            raise ParameterError("duration", self.duration, "100ms to 1h", "is out of range")
        for name in ("fault_think", "writer_think", "reader_think"):
            if parse_duration(getattr(self, name), name) > 10**9:
                raise ParameterError(name, getattr(self, name), "0 to 1s", "is out of range")

    @property
    def delay_ns(self) -> int:
        return parse_duration(self.delay, "delay")

    @property
    def duration_ns(self) -> int:
        return parse_duration(self.duration, "duration")

    def _us(self, name: str) -> int:
        return parse_duration(getattr(self, name), name) // 1000

    def args(self) -> dict[str, list[str]]:
        """The key=value arguments of each reproducer program (the FUSE server's are
        positional: delay in µs and whether every other READ fails).

        >>> RunSpec(path="mkwrite", delay="20ms").args()["fusedelay"]
        ['20000', '0']
        """
        ms = self.duration_ns // 10**6
        return {
            "fusedelay": [str(self.delay_ns // 1000), "1" if self.path == "retry" else "0"],
            "target": [f"path={self.path}", f"duration_ms={ms}",
                       f"fault_think_us={self._us('fault_think')}", f"writer={self.writer}",
                       f"writer_think_us={self._us('writer_think')}"],
            "reader": [f"duration_ms={ms}", f"think_us={self._us('reader_think')}"],
        }

    def workload(self, thinks: dict | None = None, lead=None) -> dict:
        """The same run as a workload (the structure of `mcsim.workload`, docs/model.md
        §12): process "target" with VMA "data", a fault thread and a writer thread;
        process "ps" whose reader thread reads target's cmdline; kernel 6.18 at HZ 250 and
        a device taking exactly D.  The FUSE round-trip overhead and the wake-up latency
        are not in it: they are measured constants the calibration adds; ``thinks`` maps a
        think time (ns) to the distribution it really sleeps (the calibration's), ``lead``
        is the fault loop's work before each fault (its ``sync_file_range()``, or its
        ``madvise()`` and ``posix_fadvise()``) as the fault step's ``lead``
        (docs/model.md §14.6; the calibration's, else none).

        >>> w = RunSpec(path="retry", delay="5ms", writer="same").workload()
        >>> w["params"]["device"], w["params"]["p_retry_miss"]
        ('5ms', 1.0)
        >>> [t["name"] for p in w["process"] for t in p["thread"]]
        ['faulter', 'writer', 'reader']
        >>> w["process"][0]["thread"][1]["program"][0]["vma"]
        'data'
        >>> RunSpec(path="mkwrite").workload(lead="30us")["process"][0]["thread"][0]["program"]
        [{'step': 'fault', 'vma': 'data', 'kind': 'mkwrite_writeback', 'think': '1ms', 'lead': '30us'}]
        """
        kind, fault_params = _FAULT[self.path]
        thinks = thinks or {}

        def fmt(ns):
            return format_duration_exact(ns)

        def think(name):
            ns = parse_duration(getattr(self, name))
            return thinks.get(ns, format_duration_exact(ns))

        fault = {"step": "fault", "vma": "data", "kind": kind, "think": think("fault_think")}
        if lead is not None:
            fault["lead"] = lead
        threads = [{"name": "faulter", "program": [fault]}]
        if self.writer != "none":
            write = {"step": "write", "think": think("writer_think")}
            if self.writer == "same":
                write["vma"] = "data"       # madvise() of the faulting VMA
            threads.append({"name": "writer", "program": [write]})
        reader = {"name": "reader", "program": [
            {"step": "cmdline", "process": "target",
             "think": think("reader_think")}]}
        return {
            "workload": {
                "name": f"repro-{self.path}-{self.writer}",
                "description": (f"the {self.path} path of the mcsim reproducer on a FUSE file "
                                f"whose replies take {fmt(self.delay_ns)}, writer {self.writer}, "
                                "and a /proc/<pid>/cmdline reader"),
                "trial": "window",
            },
            "params": {"kernel": "6.18", "hz": 250, "device": fmt(self.delay_ns),
                       "window": fmt(self.duration_ns), **fault_params},
            "process": [
                {"name": "target", "vmas": ["data"], "thread": threads},
                {"name": "ps", "vmas": [], "thread": [reader]},
            ],
        }
