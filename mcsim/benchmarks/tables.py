"""The benchmark table: rows of measurements with their provenance, the speed targets
judged on them, the reasons a run's timings cannot be trusted, and its file and JSON forms.

>>> import pyarrow as pa
>>> table = pa.table({"series": ["peers"], "scenario": ["reference"],
...                   "implementation": ["compiled"], "events_per_s": [2.5e7]})
>>> [(t["target"], t["met"]) for t in check_targets(table)]
[('M events/s, one core, reference scenario', True)]
"""
from __future__ import annotations

import json
import os
from pathlib import Path

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
    from ..errors import UsageError

    path = Path(out)
    if path.suffix.lower() not in OUT_SUFFIXES:
        raise UsageError(f"{option}: {str(path)!r} has no table format suffix; allowed: a "
                         "path ending in " + ", ".join(OUT_SUFFIXES[:-1]) + " or "
                         + OUT_SUFFIXES[-1])
    return path


def write_table(table, out) -> Path:
    """Write ``table`` atomically as Arrow IPC (``.arrow``, ``.feather``, ``.ipc``) or
    Parquet (``.parquet``); other suffixes are refused (:func:`check_out_path`)."""
    from ..dataset import write_table_atomic

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
            # the kernel presets' own paths, and closed-loop workloads (model.md §12)
            if row["scenario"].startswith(("kernel-", "workload-")):
                add(f"x reference scenario's events/s, one core, {row['scenario']}",
                    row["events_per_s"] / one["events_per_s"], 0.8)
    for row in _rows(table, series="peers", implementation="simpy"):
        mine = _one(table, series="peers", scenario=row["scenario"], implementation="compiled")
        if mine:
            # speed round 2 (issue 13): 150x on every scenario (100x before)
            add(f"x SimPy events/s, one core, {row['scenario']}",
                mine["events_per_s"] / row["events_per_s"], 150.0)
    if par:
        add(f"M trials/s on {par['workers']} cores, reference scenario "
            f"({par['events_per_trial']:.1f} events/trial)", par["trials_per_s"] / 1e6, 1.0)
    for row in _rows(table, series="peers", implementation="compiled-parallel"):
        mine = _one(table, series="peers", scenario=row["scenario"], implementation="compiled")
        if mine:
            add(f"x throughput 1 -> {row['workers']} workers, {row['scenario']}",
                row["trials_per_s"] / mine["trials_per_s"], 1.9)   # (1.8 before)
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


#: When timings stop being trustworthy: the load average before the bench (per core), the
#: CPU other processes or the hypervisor took while a measurement ran (per core), the share
#: of a core a one-worker measurement got, and the spread of the repeats.
BUSY_LOAD_PER_CORE, MIN_CPU_SHARE, MAX_SPREAD = 0.25, 0.90, 0.15


def noise_warnings(table, env: dict | None = None) -> list[str]:
    """Why the timings in ``table`` cannot be trusted (empty when they can): another load
    on the machine when the bench started, other processes' CPU or the hypervisor's steal
    while a measurement ran, a measurement that did not get a whole core, repeats that
    disagree.  The load average at the start is judged only where the measurements could
    not count other processes' CPU (no ``/proc/stat``); the one at the end is recorded
    but not judged: the bench's own runs raise it (a minute of one busy worker brings it
    near 1).

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
    busy = BUSY_LOAD_PER_CORE * cores
    rows = table.to_pylist()
    load = env.get("loadavg_start")
    # The load average is a proxy, and a slow one (a bench run just before leaves it near
    # 1): where each measurement counted the other processes' CPU itself, that decides.
    measured = any(r.get("other_cpu_cores") is not None for r in rows)
    if not measured and load is not None and load > busy:
        out.append(f"the machine was busy: load average {load:.2f} on {cores} cores")
    for r in rows:
        name = r.get("implementation", "?")
        if (r.get("other_cpu_cores") or 0.0) > busy:
            out.append(f"{name}: other processes used {r['other_cpu_cores']:.2f} of "
                       f"{cores} cores while it ran")
        if (r.get("steal_cores") or 0.0) > busy:
            out.append(f"{name}: the hypervisor took {r['steal_cores']:.2f} of {cores} "
                       "cores while it ran (steal)")
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
