"""Benchmarks: mcsim's compiled core next to its peers, on the same model and parameters.

:func:`run_benchmarks` measures, for every scenario of :mod:`mcsim.benchmarks.scenarios`
and every implementation (the compiled core on one thread and on all cores, the
pure-Python reference twin, the SimPy model of :mod:`mcsim.benchmarks.simpy_model`, on
the scenarios it models), events/s, ns/event, trials/s and peak memory, and returns them
as a :class:`pyarrow.Table`.

How it measures (docs/benchmarks.md has the details):

* **one fresh subprocess per measurement** (``python -m mcsim.bench --worker ...``): it
  sizes the run to a target duration with calibration runs, does a warm-up run, then
  ``repeats`` timed runs of identical work (same seed); the table reports the **median**
  wall time (and min/max), and the median process CPU time over it (``cpu_utilisation``:
  how many cores were busy);
* **memory** is the subprocess's peak resident set (Linux ``VmHWM``), for every
  implementation alike, next to its value right after the imports (``base_rss_mib``);
* **an event** is what the compiled engine counts in ``counters['events']``: an event
  popped from its queue (an arrival, the end of a CPU stretch or critical section, a bio
  completion, the wake-up of a sleeping task); the reference twin counts the same, and
  the SimPy model counts the same points of its processes (SimPy's own, ~2x larger count
  of kernel events is reported as ``kernel_events``);
* **a trial** is one regenerative cycle (model.md §4), the same in all implementations.

>>> sorted(IMPLEMENTATIONS)
['compiled', 'compiled-parallel', 'python-reference', 'simpy']
>>> MODES["quick"].repeats >= 5 and MODES["full"].repeats >= 5
True
"""
from __future__ import annotations

import argparse
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

from .engine import BLOCK_TRIALS

#: The folder holding this mcsim package: measurement processes start there, so that
#: ``python -m mcsim.bench`` imports this very mcsim (a source checkout or an install).
PACKAGE_ROOT = Path(__file__).resolve().parent.parent
SEED = 20180101
MIB = 1024.0              # VmHWM and ru_maxrss are in KiB on Linux


def bench_module(name: str):
    """The benchmark module ``mcsim.benchmarks.<name>`` (``scenarios``, ``simpy_model``,
    ``scaling``).

    >>> bench_module("scenarios").SCENARIOS["reference"]["params"]
    {}
    """
    return importlib.import_module(f".benchmarks.{name}", __package__)


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


def _runner(impl: Impl, params: dict):
    """A function ``run(trials, seed) -> dict`` of work done (events, trials, ...)."""
    from .api import simulate
    from .params import validate

    if impl.engine == "simpy":
        from .benchmarks import simpy_model

        cfg = validate(params)

        def run_simpy(trials, seed):
            out = simpy_model.run(cfg, trials, seed)
            for metric in out.samples:        # the same output as the engines: histograms
                out.histogram(metric)
            return {"events": out.events, "trials": out.trials, "sim_ns": out.sim_ns,
                    "kernel_events": out.kernel_events, "max_pending_events": None}
        return run_simpy

    def run_mcsim(trials, seed):
        res = simulate(params, trials=trials, seed=seed, workers=impl.workers,
                       engine=impl.engine)
        c = res.counters
        return {"events": c["events"], "trials": c["trials"], "sim_ns": c["sim_ns"],
                "kernel_events": None, "max_pending_events": c["max_pending_events"]}
    return run_mcsim


def _timed(run, trials, seed):
    wall0, cpu0 = time.perf_counter(), time.process_time()
    work = run(trials, seed)
    return time.perf_counter() - wall0, time.process_time() - cpu0, work


def _size(impl: Impl, run, target_s: float, seed: int) -> int:
    """Trials for a run of about ``target_s`` seconds, from calibration runs (a second,
    longer one when the first was too short to time well; both also warm up)."""
    n = impl.first_trials
    wall, _, _ = _timed(run, n, seed)
    if wall < target_s / 4:
        n = max(1, int(n * target_s / 4 / max(wall, 1e-6)))
        wall, _, _ = _timed(run, n, seed)
    n = max(1, int(n * target_s / max(wall, 1e-6)))
    return -(-n // impl.granule) * impl.granule


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

    ``spec``: ``impl``, ``params``, ``repeats``, ``warmup``, ``seed`` and either
    ``trials`` or ``target_s``.
    """
    from .engine import compiled_engine

    impl = IMPLEMENTATIONS[spec["impl"]]
    run = _runner(impl, spec["params"])
    compiled_engine()                 # every import done: the baseline is the interpreter
    base_rss = _max_rss_mib()
    seed = spec.get("seed", SEED)
    trials = spec.get("trials") or _size(impl, run, spec["target_s"], seed)
    for _ in range(spec.get("warmup", 1)):
        run(trials, seed)
    walls, cpus = [], []
    for _ in range(spec.get("repeats", 5)):
        wall, cpu, work = _timed(run, trials, seed)
        walls.append(wall)
        cpus.append(cpu)
    return {"walls": walls, "cpus": cpus, "work": work, "workers": impl.workers,
            "base_rss_mib": base_rss, "peak_rss_mib": _max_rss_mib()}


def measure(impl: str, params: dict, *, repeats: int = 5, warmup: int = 1,
            trials: int | None = None, target_s: float = 0.1, seed: int = SEED) -> dict:
    """Run :func:`worker` in a fresh subprocess and summarise it as one table row
    (without the scenario/mode columns)."""
    spec = {"impl": impl, "params": params, "repeats": repeats, "warmup": warmup,
            "trials": trials, "target_s": target_s, "seed": seed, "parent": os.getpid()}
    load = os.getloadavg()[0]         # other work on the machine skews timings: record it
    proc = subprocess.run([sys.executable, "-m", "mcsim.bench", "--worker", json.dumps(spec)],
                          capture_output=True, text=True, check=False, cwd=PACKAGE_ROOT)
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
    from .engine import compiled_engine

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


def _note(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run_benchmarks(mode: str = "quick", out: str | os.PathLike | None = None,
                   implementations=None, *, scenarios=None, echo=print,
                   progress: bool = True):
    """Measure every scenario x implementation; print the table; return it.

    ``mode``: ``"quick"`` (about 20 s: short runs, 5 repeats) or ``"full"`` (minutes:
    longer runs, 7 repeats, memory series up to 10**7 trials).  ``implementations``:
    names from :data:`IMPLEMENTATIONS` (default: all this machine can run).
    ``scenarios``: names from :data:`mcsim.benchmarks.scenarios.SCENARIOS` (default:
    all); SimPy runs only the scenarios it models (not the kernel presets).  ``out``: also
    write the table to this file (``.arrow``/``.feather``/``.ipc``: Arrow IPC;
    ``.parquet``: Parquet; other names are refused before anything runs).
    ``echo`` prints the table and the targets (``None``: silent).

    Example (not run here: it takes seconds)::

        table = run_benchmarks("quick", out="bench.parquet", implementations=["compiled"])
        table.to_pandas()[["scenario", "events_per_s"]]
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    settings = MODES[mode]
    if out is not None:
        check_out_path(out)               # before minutes of measuring, not after
    impls = list(implementations) if implementations else available_implementations()
    unknown = [name for name in impls if name not in IMPLEMENTATIONS]
    if unknown:
        raise ValueError(f"unknown implementation(s) {unknown}; choose from "
                         + ", ".join(IMPLEMENTATIONS))
    from .benchmarks.scenarios import SCENARIOS as catalogue

    names = list(scenarios) if scenarios else list(catalogue)
    unknown = [name for name in names if name not in catalogue]
    if unknown:
        raise ValueError(f"unknown scenario(s) {unknown}; choose from " + ", ".join(catalogue))
    env = environment()
    rows = []
    for name in names:
        for impl in impls:
            if impl == "simpy" and not catalogue[name].get("simpy", True):
                continue                  # a kernel preset: outside the peer's model
            if progress:
                _note(f"[bench] {mode}: {name} / {impl}")
            engine = IMPLEMENTATIONS[impl].engine
            row = measure(impl, catalogue[name]["params"], repeats=settings.repeats,
                          warmup=settings.warmup, target_s=settings.target_s[engine])
            rows.append({"series": "peers", "scenario": name, **row})
    if "compiled" in impls:
        rows += _memory_series(settings, catalogue, progress)
    env["loadavg_end"] = os.getloadavg()[0]
    table = to_table(rows, env, mode)
    if echo is not None:
        echo(format_table(table))
        echo(format_targets(check_targets(table), noise_warnings(table, env)))
    if out is not None:
        write_table(table, out)
    return table


def _memory_series(settings: Mode, catalogue: dict, progress: bool) -> list[dict]:
    """Peak RSS of the compiled core as trials grow, each size in a fresh process."""
    rows = []
    params = catalogue[settings.memory_scenario]["params"]
    for trials in settings.memory_trials:
        if progress:
            _note(f"[bench] memory: compiled, {trials:,} trials")
        row = measure("compiled", params, repeats=1, warmup=0, trials=trials)
        rows.append({"series": "memory", "scenario": settings.memory_scenario, **row})
    return rows


# ---------------------------------------------------------------------- results
ENV_COLUMNS = ("cpu_model", "cores", "python", "numpy", "cython", "simpy", "mcsim",
               "build_flags", "timestamp")


def to_table(rows: list[dict], env: dict, mode: str):
    """Rows plus provenance columns; the whole environment also goes in the metadata."""
    import pyarrow as pa

    full = [{"mode": mode, **row, **{k: env.get(k) for k in ENV_COLUMNS}} for row in rows]
    table = pa.Table.from_pylist(full)
    meta = {"mcsim.bench.environment": json.dumps(env),
            "mcsim.bench.targets": json.dumps(check_targets(table)),
            "mcsim.bench.warnings": json.dumps(noise_warnings(table, env))}
    return table.replace_schema_metadata(meta)


IPC_SUFFIXES = (".arrow", ".feather", ".ipc")
OUT_SUFFIXES = (".parquet",) + IPC_SUFFIXES


def check_out_path(out, option: str = "--out") -> Path:
    """Refuse a file name whose suffix names no format the table can be written in.

    >>> check_out_path("b.arrow").name
    'b.arrow'
    >>> check_out_path("b.csv")
    Traceback (most recent call last):
    ...
    mcsim.errors.UsageError: --out: 'b.csv' has no table format suffix; allowed: a path ending in .parquet, .arrow, .feather or .ipc
    """
    from .errors import UsageError

    path = Path(out)
    if path.suffix.lower() not in OUT_SUFFIXES:
        raise UsageError(f"{option}: {str(path)!r} has no table format suffix; allowed: a "
                         "path ending in " + ", ".join(OUT_SUFFIXES[:-1]) + " or "
                         + OUT_SUFFIXES[-1])
    return path


def write_table(table, out) -> Path:
    """Write ``table`` atomically as Arrow IPC (``.arrow``, ``.feather``, ``.ipc``) or
    Parquet (``.parquet``); other suffixes are refused (:func:`check_out_path`)."""
    from .dataset import write_table_atomic

    path = check_out_path(out)
    if path.suffix.lower() in IPC_SUFFIXES:
        from pyarrow import feather

        return write_table_atomic(table, path, writer=feather.write_feather)
    return write_table_atomic(table, path)


#: Columns of the benchmark table in seconds, and their names in nanoseconds (JSON).
SECONDS_TO_NS = {"median_s": "median_ns", "min_s": "min_ns", "max_s": "max_ns",
                 "sim_seconds": "sim_ns"}


def to_document(table) -> dict:
    """The benchmark table as one JSON-ready document (``mcsim bench --json``): the mode,
    the environment, one entry per measurement with times in ns (``median_ns``,
    ``sim_ns``, ``ns_per_event``) and rates per second (``events_per_s``,
    ``trials_per_s``), and the targets.

    >>> import pyarrow as pa
    >>> doc = to_document(pa.table({"mode": ["quick"], "median_s": [0.25],
    ...                              "sim_seconds": [2.0], "events_per_s": [4e6]}))
    >>> doc["mode"], doc["measurements"]
    ('quick', [{'median_ns': 250000000, 'sim_ns': 2000000000, 'events_per_s': 4000000.0}])
    """
    meta = table.schema.metadata or {}
    measurements = []
    for row in table.to_pylist():
        mode = row.pop("mode", None)
        measurements.append({SECONDS_TO_NS.get(k, k): (round(v * 1e9) if k in SECONDS_TO_NS
                                                       and v is not None else v)
                             for k, v in row.items()})
    return {"mode": mode if measurements else None,
            "environment": json.loads(meta.get(b"mcsim.bench.environment", b"{}")),
            "measurements": measurements,
            "targets": json.loads(meta.get(b"mcsim.bench.targets", b"[]")),
            "warnings": json.loads(meta.get(b"mcsim.bench.warnings", b"[]"))}


def _rows(table, **where) -> list[dict]:
    return [r for r in table.to_pylist() if all(r.get(k) == v for k, v in where.items())]


def _one(table, **where):
    found = _rows(table, **where)
    return found[0] if found else None


def check_targets(table) -> list[dict]:
    """The project's speed targets, evaluated on a benchmark table (missing peers: skipped).

    Each entry: ``target``, ``value``, ``threshold``, ``met``.
    """
    out = []

    def add(target, value, threshold):
        out.append({"target": target, "value": value, "threshold": threshold,
                    "met": bool(value >= threshold)})

    one = _one(table, series="peers", scenario="reference", implementation="compiled")
    par = _one(table, series="peers", scenario="reference", implementation="compiled-parallel")
    if one:
        add("M events/s, one core, reference scenario", one["events_per_s"] / 1e6, 10.0)
        for row in _rows(table, series="peers", implementation="compiled"):
            if row["scenario"].startswith("kernel-"):   # the kernel presets' own paths
                add(f"x reference scenario's events/s, one core, {row['scenario']}",
                    row["events_per_s"] / one["events_per_s"], 0.8)
    for row in _rows(table, series="peers", implementation="simpy"):
        mine = _one(table, series="peers", scenario=row["scenario"], implementation="compiled")
        if mine:
            add(f"x SimPy events/s, one core, {row['scenario']}",
                mine["events_per_s"] / row["events_per_s"], 100.0)
    if par:
        add(f"M trials/s on {par['workers']} cores, reference scenario "
            f"({par['events_per_trial']:.1f} events/trial)", par["trials_per_s"] / 1e6, 1.0)
    for row in _rows(table, series="peers", implementation="compiled-parallel"):
        mine = _one(table, series="peers", scenario=row["scenario"], implementation="compiled")
        if mine:
            add(f"x throughput 1 -> {row['workers']} workers, {row['scenario']}",
                row["trials_per_s"] / mine["trials_per_s"], 1.8)
    memory = sorted(_rows(table, series="memory"), key=lambda r: r["trials"])
    if len(memory) >= 2:
        growth = memory[-1]["peak_rss_mib"] / memory[0]["peak_rss_mib"]
        out.append({"target": f"peak RSS x{growth:.3f} from {memory[0]['trials']:,} to "
                              f"{memory[-1]['trials']:,} trials (flat: <= 1.05)",
                    "value": growth, "threshold": 1.05, "met": bool(growth <= 1.05)})
    return out


def _si(x: float) -> str:
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(x) >= scale:
            return f"{x / scale:.3g} {unit}"
    return f"{x:.3g}"


def format_table(table) -> str:
    """The table as Markdown (what docs/benchmarks.md shows)."""
    head = ("scenario", "implementation", "workers", "trials", "events/trial",
            "median s [min, max]", "events/s", "ns/event", "trials/s", "CPU/wall",
            "peak RSS MiB (+ over imports)", "vs SimPy")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in table.to_pylist():
        simpy = _one(table, series="peers", scenario=r["scenario"], implementation="simpy")
        ratio = (f"{r['events_per_s'] / simpy['events_per_s']:.3g}x"
                 if simpy and r["series"] == "peers" else "")
        name = r["scenario"] + (" (memory)" if r["series"] == "memory" else "")
        cells = (name, r["implementation"], r["workers"], f"{r['trials']:,}",
                 f"{r['events_per_trial']:.2f}",
                 f"{r['median_s']:.3f} [{r['min_s']:.3f}, {r['max_s']:.3f}]",
                 _si(r["events_per_s"]), f"{r['ns_per_event']:.1f}", _si(r["trials_per_s"]),
                 f"{r['cpu_utilisation']:.2f}",
                 f"{r['peak_rss_mib']:.1f} (+{r['peak_rss_mib'] - r['base_rss_mib']:.1f})",
                 ratio)
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    return "\n".join(lines)


#: When timings stop being trustworthy: the load average beside the measurement (per
#: core), the share of a core a one-worker measurement got, and the spread of the repeats.
BUSY_LOAD_PER_CORE, MIN_CPU_SHARE, MAX_SPREAD = 0.25, 0.90, 0.15


def noise_warnings(table, env: dict | None = None) -> list[str]:
    """Why the timings in ``table`` cannot be trusted (empty when they can): another load
    on the machine, a measurement that did not get a whole core, repeats that disagree.

    >>> import pyarrow as pa
    >>> noise_warnings(pa.table({"implementation": ["compiled"], "workers": [1],
    ...                          "cpu_utilisation": [0.6], "min_s": [1.0], "max_s": [1.5],
    ...                          "loadavg_before": [0.0]}), {"cores": 2})
    ['compiled: the process got 0.60 of a core (another process competed)', 'compiled: repeats vary by 50% (min 1 s, max 1.5 s)']
    """
    env = env if env is not None else json.loads(
        (table.schema.metadata or {}).get(b"mcsim.bench.environment", b"{}"))
    cores = env.get("cores") or os.cpu_count() or 1
    out = []
    loads = [env.get("loadavg_start"), env.get("loadavg_end")]
    worst = max((x for x in loads if x is not None), default=0.0)
    if worst > BUSY_LOAD_PER_CORE * cores:
        out.append(f"the machine was busy: load average {worst:.2f} on {cores} cores")
    for r in table.to_pylist():
        name = r.get("implementation", "?")
        if r.get("workers") == 1 and r.get("cpu_utilisation", 1.0) < MIN_CPU_SHARE:
            out.append(f"{name}: the process got {r['cpu_utilisation']:.2f} of a core "
                       "(another process competed)")
        if r.get("min_s") and r["max_s"] / r["min_s"] - 1 > MAX_SPREAD:
            out.append(f"{name}: repeats vary by {r['max_s'] / r['min_s'] - 1:.0%} "
                       f"(min {r['min_s']:.3g} s, max {r['max_s']:.3g} s)")
    return out


def format_targets(targets: list[dict], warnings: list[str] = ()) -> str:
    """The targets, one line each; a missed target on a noisy run reads "not judged"
    (the numbers cannot tell), after the reasons why the run was noisy."""
    lines = ["", "Targets:"]
    if warnings:
        lines[1:1] = ["Timings not trustworthy on this run:"] + [f"  - {w}" for w in warnings]
    for t in targets:
        mark = "MET " if t["met"] else ("????" if warnings else "MISS")
        note = "; not judged on a noisy run" if not t["met"] and warnings else ""
        lines.append(f"  [{mark}] {t['target']}: {t['value']:.3g} (target "
                     f"{t['threshold']:g}{note})")
    return "\n".join(lines)


def main(argv=None) -> int:
    """``python -m mcsim.bench [--full] [--out FILE] [--impl NAME ...]``."""
    parser = argparse.ArgumentParser(prog="python -m mcsim.bench", description=__doc__
                                     .split("\n")[0])
    parser.add_argument("--full", action="store_true", help="the long run (minutes)")
    parser.add_argument("--out", help="also write the table (.parquet, or .arrow)")
    parser.add_argument("--impl", nargs="+", choices=sorted(IMPLEMENTATIONS),
                        help="implementations to measure (default: all available)")
    parser.add_argument("--scenario", nargs="+", help="scenarios (default: all)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        spec = json.loads(args.worker)
        if "parent" in spec:                # a killed `mcsim bench` leaves no measurement
            from .executors import die_with_parent

            die_with_parent(spec.pop("parent"))
        print(json.dumps(worker(spec)))
        return 0
    from .errors import McsimError

    try:
        run_benchmarks("full" if args.full else "quick", out=args.out,
                       implementations=args.impl, scenarios=args.scenario)
    except (McsimError, ValueError) as exc:      # one line, as the mcsim command does
        parser.exit(getattr(exc, "exit_code", 2), f"{parser.prog}: error: {exc}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
