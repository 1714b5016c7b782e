"""One benchmark measurement: an implementation, a configuration, a fresh process.

:func:`measure` starts ``python -m mcsim.bench --worker SPEC``; there :func:`worker` sizes
the run to a target duration with calibration runs, warms up, and times ``repeats`` runs
of identical work (same seed), recording wall and process CPU time and the peak resident
set.  :data:`IMPLEMENTATIONS` are the ways to run trials (the compiled core on one
thread and on all cores, the reference twin, the SimPy peer), :data:`MODES` how long and
how often to measure, and :func:`environment` the machine and build they ran on.

>>> IMPLEMENTATIONS["compiled-parallel"].engine, IMPLEMENTATIONS["simpy"].parallel
('compiled', False)
>>> IMPLEMENTATIONS["python-reference"].granule
1
"""
from __future__ import annotations

import importlib
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from ..engine import BLOCK_TRIALS

#: The folder holding this mcsim package: measurement processes start there, so that
#: ``python -m mcsim.bench`` imports this very mcsim (a source checkout or an install).
PACKAGE_ROOT = Path(__file__).resolve().parents[2]
SEED = 20180101
MIB = 1024.0              # VmHWM and ru_maxrss are in KiB on Linux


# ---------------------------------------------------------------------- implementations
@dataclass(frozen=True)
class Impl:
    """A way to run trials: ``engine`` is mcsim's (compiled/reference) or ``simpy``."""

    engine: str
    parallel: bool = False
    first_trials: int = 1 << 16      # calibration run size
    round_to: int = 1                # trials are rounded up to a multiple of this

    @property
    def workers(self) -> int:
        return (os.cpu_count() or 1) if self.parallel else 1

    @property
    def granule(self) -> int:
        """Trials are rounded up to a multiple of this (whole blocks for every worker)."""
        return self.round_to * self.workers


IMPLEMENTATIONS = {
    "compiled": Impl("compiled", first_trials=1 << 12),
    "compiled-parallel": Impl("compiled", parallel=True, first_trials=4 * BLOCK_TRIALS,
                              round_to=BLOCK_TRIALS),
    "python-reference": Impl("reference", first_trials=200),
    "simpy": Impl("simpy", first_trials=200),
}


@dataclass(frozen=True)
class Mode:
    """How much to measure: per-run target duration by engine, repeats, memory series."""

    repeats: int
    warmup: int
    target_s: dict
    memory_trials: tuple            # trials of the compiled memory series (fresh process each)
    memory_scenario: str = "reference"


MODES = {
    "quick": Mode(repeats=5, warmup=1,
                  target_s={"compiled": 0.1, "reference": 0.12, "simpy": 0.12},
                  memory_trials=(1 << 16, 1 << 20)),
    "full": Mode(repeats=7, warmup=1,
                 target_s={"compiled": 0.6, "reference": 1.5, "simpy": 1.5},
                 memory_trials=(10**5, 10**6, 10**7)),
}


def _runner(impl: Impl, params: dict, workload: str | None = None):
    """A function ``run(trials, seed) -> dict`` of work done (events, trials, ...);
    ``workload``: a ready workload's name (the engines only)."""
    from ..api import simulate
    from ..params import validate

    if impl.engine == "simpy":
        from . import simpy_model

        cfg = validate(params)

        def run_simpy(trials, seed):
            out = simpy_model.run(cfg, trials, seed)
            for metric in out.samples:        # the same output as the engines: histograms
                out.histogram(metric)
            return {"events": out.events, "trials": out.trials, "sim_ns": out.sim_ns,
                    "kernel_events": out.kernel_events, "max_pending_events": None}
        return run_simpy

    extra = {} if workload is None else {"workload": workload}

    def run_mcsim(trials, seed):
        res = simulate(params, trials=trials, seed=seed, workers=impl.workers,
                       engine=impl.engine, **extra)
        c = res.counters
        return {"events": c["events"], "trials": c["trials"], "sim_ns": c["sim_ns"],
                "kernel_events": None, "max_pending_events": c["max_pending_events"],
                # a window trial is a block of its own (docs/model.md §12.3)
                "block_trials": 1 if res.trial_kind == "window" else BLOCK_TRIALS}
    return run_mcsim


def _timed(run, trials, seed):
    wall0, cpu0 = time.perf_counter(), time.process_time()
    work = run(trials, seed)
    return time.perf_counter() - wall0, time.process_time() - cpu0, work


def _size(impl: Impl, run, target_s: float, seed: int, first: int | None = None) -> int:
    """Trials for a run of about ``target_s`` seconds, from calibration runs (a second,
    longer one when the first was too short to time well; both also warm up).  ``first``:
    the scenario's calibration size where its trials are long (at most the
    implementation's).  Rounded up to whole blocks for every worker, where a block is
    what the run reports (one trial for window trials: rounding those to 65,536 would
    make a run of a 0.6 s target last minutes).

    >>> def run(trials, seed):
    ...     time.sleep(0.001 * trials)
    ...     return {"block_trials": 1}
    >>> _size(IMPLEMENTATIONS["compiled-parallel"], run, 0.02, 1, first=2) < 100
    True
    """
    n = min(impl.first_trials, first or impl.first_trials)
    wall, _, work = _timed(run, n, seed)
    if wall < target_s / 4:
        n = max(1, int(n * target_s / 4 / max(wall, 1e-6)))
        wall, _, work = _timed(run, n, seed)
    n = max(1, int(n * target_s / max(wall, 1e-6)))
    granule = impl.workers * min(impl.round_to, work.get("block_trials", impl.round_to))
    return -(-n // granule) * granule


def _max_rss_mib() -> float:
    """This process's peak resident set so far (MiB).

    Linux: ``VmHWM`` of ``/proc/self/status``, the high-water mark of this process image
    (``ru_maxrss`` would not do: Linux carries it over from the parent across
    fork+exec, so a fresh subprocess would report its parent's peak).
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / MIB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / MIB


def worker(spec: dict) -> dict:
    """One measurement, in the current (fresh) process: calibrate, warm up, time.

    ``spec``: ``impl``, ``params``, ``repeats``, ``warmup``, ``seed``, optionally
    ``workload`` and ``first_trials``, and either ``trials`` or ``target_s``.
    """
    from ..engine import compiled_engine

    impl = IMPLEMENTATIONS[spec["impl"]]
    run = _runner(impl, spec["params"], spec.get("workload"))
    compiled_engine()                 # every import done: the baseline is the interpreter
    base_rss = _max_rss_mib()
    seed = spec.get("seed", SEED)
    trials = spec.get("trials") or _size(impl, run, spec["target_s"], seed,
                                         spec.get("first_trials"))
    for _ in range(spec.get("warmup", 1)):
        run(trials, seed)
    walls, cpus = [], []
    for _ in range(spec.get("repeats", 5)):
        wall, cpu, work = _timed(run, trials, seed)
        walls.append(wall)
        cpus.append(cpu)
    return {"walls": walls, "cpus": cpus, "work": work, "workers": impl.workers,
            "base_rss_mib": base_rss, "peak_rss_mib": _max_rss_mib()}


def _machine_cpu_s(stat: str = "/proc/stat") -> tuple[float, float] | None:
    """CPU seconds the whole machine has spent busy and stolen (by the hypervisor) since
    boot, from ``/proc/stat``'s first line; None where there is none (not Linux)."""
    try:
        with open(stat) as f:
            fields = f.readline().split()
    except OSError:
        return None
    if not fields or fields[0] != "cpu" or len(fields) < 9:
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, fields[1:9])
    tick = os.sysconf("SC_CLK_TCK")
    return (user + nice + system + irq + softirq) / tick, steal / tick


def others_cores(machine_before, machine_after, own_cpu_s: float,
                 wall_s: float) -> tuple[float | None, float | None]:
    """What else the machine did while a measurement ran, in cores: (other processes'
    CPU, the hypervisor's steal), averaged over ``wall_s``.  Other processes' CPU is the
    machine's busy time less ``own_cpu_s`` (the bench's own processes).  Unlike the load
    average, which the measurement itself raises (one busy worker drives it towards 1),
    this counts only the competition.  (None, None) without ``/proc/stat``.

    >>> others_cores((100.0, 5.0), (103.0, 5.2), own_cpu_s=2.0, wall_s=2.0)
    (0.5, 0.1)
    >>> others_cores((100.0, 5.0), (101.9, 5.0), own_cpu_s=2.0, wall_s=2.0)  # tick rounding
    (0.0, 0.0)
    """
    if machine_before is None or machine_after is None or wall_s <= 0:
        return None, None
    busy = machine_after[0] - machine_before[0] - own_cpu_s
    steal = machine_after[1] - machine_before[1]
    return round(max(0.0, busy) / wall_s, 3), round(max(0.0, steal) / wall_s, 3)


def measure(impl: str, params: dict, *, repeats: int = 5, warmup: int = 1,
            trials: int | None = None, target_s: float = 0.1, seed: int = SEED,
            workload: str | None = None, first_trials: int | None = None) -> dict:
    """Run :func:`worker` in a fresh subprocess and summarise it as one table row
    (without the scenario/mode columns)."""
    spec = {"impl": impl, "params": params, "repeats": repeats, "warmup": warmup,
            "trials": trials, "target_s": target_s, "seed": seed, "parent": os.getpid(),
            "workload": workload, "first_trials": first_trials}
    load = os.getloadavg()[0]         # other work on the machine skews timings: record it
    machine0, own0 = _machine_cpu_s(), os.times()
    proc = subprocess.run([sys.executable, "-m", "mcsim.bench", "--worker", json.dumps(spec)],
                          capture_output=True, text=True, check=False, cwd=PACKAGE_ROOT)
    machine1, own1 = _machine_cpu_s(), os.times()
    own_cpu = sum(own1[:4]) - sum(own0[:4])   # this process and its finished children
    others, steal = others_cores(machine0, machine1, own_cpu, own1.elapsed - own0.elapsed)
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark worker for {impl} failed:\n{proc.stderr}")
    raw = json.loads(proc.stdout.strip().splitlines()[-1])
    work, walls = raw["work"], raw["walls"]
    median = statistics.median(walls)
    cpu = statistics.median(raw["cpus"])
    return {
        "implementation": impl, "engine": IMPLEMENTATIONS[impl].engine,
        "workers": raw["workers"], "trials": work["trials"], "events": work["events"],
        "events_per_trial": work["events"] / work["trials"],
        "sim_seconds": work["sim_ns"] / 1e9, "repeats": len(walls),
        "median_s": median, "min_s": min(walls), "max_s": max(walls),
        "events_per_s": work["events"] / median, "ns_per_event": median * 1e9 / work["events"],
        "trials_per_s": work["trials"] / median, "cpu_utilisation": cpu / median,
        "peak_rss_mib": raw["peak_rss_mib"], "base_rss_mib": raw["base_rss_mib"],
        "max_pending_events": work["max_pending_events"],
        "kernel_events": work["kernel_events"], "loadavg_before": load,
        "other_cpu_cores": others, "steal_cores": steal,
    }


# ---------------------------------------------------------------------- provenance
def _version(module: str) -> str | None:
    try:
        return importlib.import_module(module).__version__
    except ImportError:
        return None


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def environment() -> dict:
    """The machine, the versions and the build flags a benchmark ran with."""
    from ..engine import compiled_engine

    engine = compiled_engine()
    return {
        "cpu_model": _cpu_model(), "cores": os.cpu_count(),
        "platform": platform.platform(), "python": platform.python_version(),
        "numpy": _version("numpy"), "cython": _version("Cython"), "simpy": _version("simpy"),
        "pyarrow": _version("pyarrow"), "mcsim": _version("mcsim"),
        "build_flags": engine.BUILD_FLAGS, "source_hash": engine.SOURCE_HASH,
        "loadavg_start": os.getloadavg()[0],
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


# ---------------------------------------------------------------------- the suite
def available_implementations() -> list[str]:
    """The implementations this machine can run (SimPy only when installed)."""
    names = ["compiled", "compiled-parallel", "python-reference", "simpy"]
    if (os.cpu_count() or 1) < 2:
        names.remove("compiled-parallel")
    try:
        import simpy  # noqa: F401
    except ImportError:
        names.remove("simpy")
    return names
