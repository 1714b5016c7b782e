"""The model's parameters: one table with defaults, units, ranges and reasons.

Everything a user can set is a row of :data:`PARAMS`.  :func:`validate` turns user input
(Python values, or strings from a command line or TOML file) into a :class:`Config` with
canonical values, or raises one :class:`~mcsim.errors.ParameterError` naming the parameter,
the value and what is allowed.

The defaults tell the 2018 RFC's story: an LP cgroup on a disk (HDD-like service times)
throttled to one bio in flight (``throttle_depth = 7``), 400 mmap-lock users per second in
the LP process of which 10% are mmap/munmap writers, and a protected service reading
``/proc/<pid>/cmdline`` 200 times per second.  Under ``hold`` and ``stock-4.19`` its p99
wait is tens of milliseconds; under ``rfc-v2`` it is zero.

>>> cfg = validate({"policy": "rfc-v2", "writer_hold": "exp(50us)"})
>>> cfg["policy"], cfg["writer_hold"], cfg["lp_depth"]
('rfc-v2', Dist(kind='exp', a=50000.0, b=0.0), 1)
>>> validate({"throttle_depth": 9})
Traceback (most recent call last):
...
mcsim.errors.ParameterError: throttle_depth: 9 is out of range; allowed: an integer from 0 to 7
"""
from __future__ import annotations

import difflib
import math
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from .errors import ParameterError
from .kernels import ERAS, KERNELS
from .policies import POLICIES
from .units import Dist, parse_dist, parse_duration, parse_rate

#: ``kernel = "none"``: the 2018 model, set by ``policy`` and ``era``.
NO_KERNEL = "none"
#: HZ a kernel preset runs with unless ``hz`` is given (x86 distributions' default).
PRESET_HZ = 250
NR_REQUESTS = 128


@dataclass(frozen=True)
class Param:
    name: str
    default: Any
    kind: str            # "choice", "int", "prob", "rate", "duration", "dist"
    unit: str
    help: str
    choices: tuple = ()
    lo: float = 0
    hi: float = math.inf


P = Param
PARAMS: tuple[Param, ...] = (
    P("kernel", NO_KERNEL, "choice", "", "kernel preset (see `mcsim kernels`): sets the rwsem "
      "era, fault path, VMA-lock rules and HP reader program; none = the 2018 model set by "
      "policy and era", choices=(NO_KERNEL, *KERNELS)),
    P("era", "4.x", "choice", "", "rwsem rules: 4.x (rwsem-xadd), 5.3 (handoff bit, wake all "
      "readers) or 5.11+ (and reader stealing); set by kernel presets", choices=ERAS),
    P("policy", "stock-4.19", "choice", "", "fault-path policy (see `mcsim policies`)",
      choices=tuple(POLICIES)),
    P("throttle_depth", 7, "int", "halvings", "io.latency halving steps applied to the LP "
      "cgroup: lp_depth = max(1, 128 >> throttle_depth); 0 = unthrottled, 7 = one bio", hi=7),
    P("wake", "0", "duration", "ns", "latency from a wake-up to the task running (model.md "
      "§7.1); 0 makes scripted cases exact"),
    P("hp_rate", 200.0, "rate", "1/s", "HP /proc/<pid>/cmdline reads per second (Poisson)"),
    P("hp_hold", "lognormal(5us, 0.5)", "dist", "ns", "HP read critical section "
      "(access_remote_vm copy of the argument page)"),
    P("lp_rate", 400.0, "rate", "1/s", "LP mmap-lock acquisitions per second (Poisson): "
      "faults and writers together"),
    P("writer_ratio", 0.1, "prob", "", "fraction of LP acquisitions that are mmap/munmap/"
      "mprotect writers", hi=1),
    P("writer_hold", "lognormal(20us, 1.0)", "dist", "ns", "writer critical section"),
    P("write_fault_ratio", 0.05, "prob", "", "fraction of faults that are write faults on a "
      "shared file mapping (->page_mkwrite)", hi=1),
    P("p_miss", 0.05, "prob", "", "read fault: page not cached, sync readahead submits a "
      "bio", hi=1),
    P("p_async_ra", 0.02, "prob", "", "read fault: cached page marked PageReadahead, async "
      "readahead submits a bio and does not wait", hi=1),
    P("p_locked", 0.01, "prob", "", "read fault: page locked under another context's read "
      "bio, which enters the gate as the fault arrives", hi=1),
    P("p_mkwrite_slow", 0.1, "prob", "", "write fault: ->page_mkwrite waits for one "
      "throttled writeback bio (btrfs reservation/flush)", hi=1),
    P("fault_cpu", "2us", "dist", "ns", "pass-1 CPU work under L (VMA and page-cache "
      "lookup)"),
    P("minor_cpu", "2us", "dist", "ns", "retry pass CPU work under L (minor fault)"),
    P("mkwrite_fast", "lognormal(20us, 0.5)", "dist", "ns", "fast ->page_mkwrite "
      "(reservation fits)"),
    P("device", "hdd", "dist", "ns", "device service time per bio: ssd = lognormal(100us, "
      "0.6), hdd = lognormal(8ms, 0.5), or any distribution"),
    P("bg_io_rate", 30.0, "rate", "1/s", "other LP bios per second (reads, writeback) that "
      "never touch L but compete for the LP slots"),
    P("evict_rate", 0.1, "rate", "1/s", "hazard that reclaim evicts a fault's page between "
      "its passes (matters for policies that keep no page)"),
    P("revalidate_fail", 0.0, "prob", "", "rfc-v2: probability that the kept page fails "
      "re-validation and mkwrite is redone under L on the retry pass", hi=1),
    P("handoff_timeout", "4ms", "duration", "ns", "5.3+: waiting time after which the first "
      "waiter sets the handoff bit, in continuous time (used when hz = 0)"),
    P("hz", 0, "int", "Hz", "kernel tick rate: > 0 makes the handoff timeout "
      "RWSEM_WAIT_TIMEOUT = DIV_ROUND_UP(HZ, 250) jiffies with jiffy granularity; 0 uses "
      "handoff_timeout (kernel presets default to 250)", hi=10_000),
    P("p_same_vma", 0.5, "prob", "", "6.4+: fraction of writers that change the faulting "
      "VMA (mprotect/madvise, vma_start_write waits for its readers) rather than another "
      "one (mmap/munmap elsewhere)", hi=1),
    P("p_mkwrite_writeback", 0.0, "prob", "", "write fault: ->page_mkwrite waits for "
      "writeback of the page already in flight (another context's bio, gated)", hi=1),
    P("p_retry_miss", 0.0, "prob", "", "a retry pass finds the page not uptodate (evicted, "
      "read failed or aborted) and reads it under the retry pass's lock", hi=1),
    P("p_dirty_throttle", 0.0, "prob", "", "write fault: balance_dirty_pages() sleeps at "
      "its end (under the lock before 5.5, dropped after)", hi=1),
    P("dirty_throttle", "exp(10ms)", "dist", "ns", "length of a dirty-throttling sleep"),
    P("p_hp_fallback", 0.0, "prob", "", "cmdline-vma series: an HP acquisition falls back "
      "to mmap_lock(R) (non-present page, a read spanning VMAs)", hi=1),
    P("max_readers_wakeup", 256, "int", "readers", "5.11+: readers granted per wake-up "
      "(MAX_READERS_WAKEUP)", lo=1, hi=1 << 20),
    P("max_trial_events", 10_000_000, "int", "events", "safety limit: a trial (regenerative "
      "cycle) longer than this means the system is overloaded; also bounds a runaway "
      "trial's memory (~270 bytes per queued task)", lo=1000, hi=10**8),
    P("warmup", "1s", "duration", "ns", "window trials (workloads with threads, model.md "
      "§12.3): simulated time run before the counted window, so each trial starts counting "
      "near the steady state (docs/workloads.md)"),
    P("window", "10s", "duration", "ns", "window trials: simulated time, after the warm-up, "
      "in which starting tasks are counted (docs/workloads.md)", lo=1),
    P("wake_jitter", "0", "dist", "ns", "added to wake at every wake-up, drawn at the "
      "wake-up (model.md §13.2): a measured wake-up latency, e.g. an empirical(...) table "
      "of its quantiles; 0 = every wake-up takes exactly wake"),
    P("cpus", 0, "int", "CPUs", "CPUs the tasks share (model.md §14): a woken task runs only "
      "on an idle CPU, else waits in the run queue until one frees; 0 = every task has its "
      "own CPU (no CPU waits)", hi=1024),
    P("cpu_switch", "2us", "dist", "ns", "cpus > 0: from a CPU freeing to the first task of "
      "the run queue running on it (the context switch, model.md §14.3)"),
    P("io_cpu", "0", "dist", "ns", "cpus > 0: CPU work each issued bio costs a server "
      "context at its submission (a FUSE daemon's thread receiving the request; model.md "
      "§14.6); 0 = a block device, no server context"),
    P("cpu_affinity", 0.0, "prob", "", "cpus > 0: per-CPU run queues (model.md §14.7); a "
      "woken context goes to its waker's CPU (a timer's: its last CPU) and, with that CPU "
      "busy and another idle, waits there with this probability; 0 = one run queue, a "
      "woken context always takes an idle CPU", hi=1),
    P("timer_slack", "0", "duration", "ns", "cpus > 0 and cpu_affinity > 0: a thread's "
      "think is a timer on the CPU it last ran on, expiring timer_slack before it fires; one "
      "firing wakes every timer of that CPU already expired (model.md §14.8; the threads' "
      "timerslack_ns, 50us by default on Linux); 0 = each think ends alone"),
    P("wake_remote", "0", "dist", "ns", "timer_slack > 0: the later wakees of one timer "
      "firing take an idle CPU and start after this cross-CPU wake-up (model.md §14.8)"),
)
PARAM_BY_NAME = {p.name: p for p in PARAMS}
DEFAULTS = {p.name: p.default for p in PARAMS}
#: Parameters added after points were stored whose default changes nothing (model.md
#: §14.6, §14.7, §14.8): a point's identity leaves them out while they hold their default, so that every
#: stored point keeps its key (mcsim.points.PointSpec.identity).
IDENTITY_OMITS_DEFAULT = ("io_cpu", "cpu_affinity", "timer_slack", "wake_remote")


def _allowed(p: Param) -> str:
    if p.kind == "choice":
        return "one of " + ", ".join(p.choices)
    if p.kind == "int":
        return f"an integer from {p.lo} to {p.hi}"
    if p.kind == "prob":
        return "a probability from 0 to 1"
    if p.kind == "rate":
        return "a non-negative rate per second, e.g. 200 or 200/s"
    if p.kind == "duration":
        return "a duration such as 50us, 8ms, 1s" + (" (above zero)" if p.lo > 0 else "")
    return ("a duration or a distribution: exp(20us), lognormal(100us, 0.6), const(5us), "
            "uniform(1ms, 2ms), empirical(1ms, 2ms, 5ms), ssd, hdd")


def _convert_int(p: Param, value):
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, str):
        value = value.strip().replace("_", "")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError
    return int(value)


def _convert_float(p: Param, value):
    if isinstance(value, bool):
        raise ValueError
    out = float(value)
    if not math.isfinite(out):
        raise ValueError
    return out


CONVERTERS: dict[str, Callable[[Param, Any], Any]] = {
    "int": _convert_int,
    "prob": _convert_float,
    "rate": lambda p, v: parse_rate(v, p.name),
    "duration": lambda p, v: parse_duration(v, p.name),
    "dist": lambda p, v: parse_dist(v, p.name),
}


def _convert(p: Param, value):
    if p.kind == "choice":
        if value not in p.choices:
            raise ParameterError(p.name, value, _allowed(p))
        return value
    try:
        out = CONVERTERS[p.kind](p, value)
    except ParameterError:
        raise
    except (TypeError, ValueError):
        raise ParameterError(p.name, value, _allowed(p)) from None
    if p.kind in ("int", "prob", "rate", "duration") and not (p.lo <= out <= p.hi):
        raise ParameterError(p.name, value, _allowed(p), "is out of range")
    return out


class Config(dict):
    """Validated parameters: a plain dict of canonical values plus derived ``lp_depth``."""

    @property
    def lp_depth(self) -> int:
        return max(1, NR_REQUESTS >> self["throttle_depth"])

    def __getitem__(self, key):
        if key == "lp_depth":
            return self.lp_depth
        return super().__getitem__(key)

    def public(self) -> dict:
        """Values as a user would type them again (distributions and durations as text)."""
        out = {}
        for name, value in self.items():
            out[name] = str(value) if isinstance(value, Dist) else value
        return out


def check_param_name(name, value: Any = None) -> None:
    """Raise :class:`~mcsim.errors.ParameterError` unless ``name`` is a model parameter,
    naming the closest parameters.

    >>> check_param_name("writer_ration", 0.1)
    Traceback (most recent call last):
    ...
    mcsim.errors.ParameterError: writer_ration: 0.1 is not a parameter; allowed: a parameter listed by `mcsim params` (did you mean writer_ratio or write_fault_ratio or writer_hold?)
    """
    if name not in PARAM_BY_NAME:
        close = difflib.get_close_matches(str(name), PARAM_BY_NAME, n=3, cutoff=0.6)
        hint = f" (did you mean {' or '.join(close)}?)" if close else ""
        raise ParameterError(name, value, "a parameter listed by `mcsim params`" + hint,
                             "is not a parameter")


def check_param(name, value) -> Any:
    """The canonical value of one parameter, checked alone (the checks that involve
    several parameters are :func:`validate`'s).

    >>> check_param("device", "ssd"), check_param("window", "2s")
    (Dist(kind='lognormal', a=100000.0, b=0.6), 2000000000)
    """
    check_param_name(name, value)
    return _convert(PARAM_BY_NAME[name], value)


def validate(values: Mapping[str, Any] | None = None, *, closed_loop: bool = False,
             **kwargs) -> Config:
    """Check and convert parameters; unknown names, wrong types and bad ranges raise.

    All-zero open-stream rates (``hp_rate``, ``lp_rate``, ``bg_io_rate``) leave nothing to
    simulate, unless ``closed_loop``: the configuration runs a workload with closed-loop
    threads (:mod:`mcsim.workload`), which simulate without the open stream.

    >>> validate(hp_rate=0, lp_rate=0, bg_io_rate=0)
    Traceback (most recent call last):
    ...
    mcsim.errors.ParameterError: hp_rate: 0.0 leaves nothing to simulate; allowed: at least one of hp_rate, lp_rate, bg_io_rate above zero (or a workload with threads)
    >>> validate(hp_rate=0, lp_rate=0, bg_io_rate=0, closed_loop=True)["window"]
    10000000000
    """
    if values is not None and not isinstance(values, Mapping):
        raise ParameterError("params", values, "a mapping of parameter names to values such "
                             "as {'policy': 'rfc-v2'}, or keywords: policy='rfc-v2'",
                             "is not a mapping")
    merged = dict(values or {})
    merged.update(kwargs)
    for name in merged:
        check_param_name(name, merged[name])
    cfg = Config()
    for p in PARAMS:
        cfg[p.name] = _convert(p, merged.get(p.name, p.default))
    _apply_kernel(cfg, merged)
    read_mix = cfg["p_miss"] + cfg["p_async_ra"] + cfg["p_locked"]
    if read_mix > 1 + 1e-12:
        raise ParameterError("p_miss", cfg["p_miss"], "p_miss + p_async_ra + p_locked <= 1 "
                             f"(they sum to {read_mix:g}; the rest are page-cache hits)",
                             "is out of range")
    if cfg["p_mkwrite_slow"] + cfg["p_mkwrite_writeback"] > 1 + 1e-12:
        raise ParameterError("p_mkwrite_writeback", cfg["p_mkwrite_writeback"],
                             "p_mkwrite_slow + p_mkwrite_writeback <= 1 (the rest are fast "
                             "mkwrites)", "is out of range")
    _check_timers(cfg, merged)
    if open_rate(cfg) <= 0 and not closed_loop:
        raise ParameterError("hp_rate", cfg["hp_rate"], "at least one of hp_rate, lp_rate, "
                             "bg_io_rate above zero (or a workload with threads)",
                             "leaves nothing to simulate")
    return cfg


def _check_timers(cfg: Config, given: Mapping[str, Any]) -> None:
    """§14.8 stands on §14.7's numbered CPUs: ``timer_slack`` needs ``cpus`` and
    ``cpu_affinity`` above 0, and ``wake_remote`` means nothing without ``timer_slack``.

    >>> validate(timer_slack="50us", cpus=2)
    Traceback (most recent call last):
    ...
    mcsim.errors.ParameterError: timer_slack: '50us' needs per-CPU run queues; allowed: 0, or above 0 with cpus > 0 and cpu_affinity > 0 (model.md §14.8)
    """
    if cfg["timer_slack"] > 0 and not (cfg["cpus"] > 0 and cfg["cpu_affinity"] > 0):
        raise ParameterError("timer_slack", given["timer_slack"], "0, or above 0 with "
                             "cpus > 0 and cpu_affinity > 0 (model.md §14.8)",
                             "needs per-CPU run queues")
    if cfg["timer_slack"] == 0 and not _is_zero(cfg["wake_remote"]):
        raise ParameterError("wake_remote", given["wake_remote"], "0 unless timer_slack "
                             "> 0 (model.md §14.8)", "applies to nothing")


def _is_zero(dist) -> bool:
    return dist.kind == "const" and dist.a == 0


def open_rate(cfg: Mapping[str, Any]) -> float:
    """Arrivals per second of the open stream (model.md §4.3): the three rates' sum."""
    return cfg["hp_rate"] + cfg["lp_rate"] + cfg["bg_io_rate"]


def _apply_kernel(cfg: Config, given: Mapping[str, Any]) -> None:
    """A kernel preset sets ``policy`` and ``era`` (giving other values is an error; its own
    are accepted, so a result's parameters validate again) and, unless ``hz`` is given,
    HZ = :data:`PRESET_HZ`."""
    name = cfg["kernel"]
    if name == NO_KERNEL:
        return
    kernel = KERNELS[name]
    for field in ("policy", "era"):
        if field in given and given[field] != getattr(kernel, field):
            raise ParameterError(field, given[field], f"no {field} with kernel={name} (the "
                                 f"preset sets it; use kernel=none to choose policy and era)",
                                 "conflicts with kernel")
    cfg["policy"], cfg["era"] = kernel.policy, kernel.era
    if "hz" not in given:
        cfg["hz"] = PRESET_HZ
