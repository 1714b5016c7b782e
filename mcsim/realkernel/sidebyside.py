"""Measured beside predicted: the model's run of a reproducer run, the summary of a
result row (measured or simulated alike) and the side-by-side table.

A summary holds what ``mcsim repro`` compares (latencies in ms): the reader's wait per
read (``hp_wait``: its lock waits within one ``pread()``) at p50, p90, p99 and max, the
writer's wait (``writer_wait``) at p50 and p99, and the three loops' throughputs.
"""
from __future__ import annotations

import math

from .spec import RunSpec

#: (key, heading, format) of each column of the table.
COLUMNS = (("reads", "reads", "{:,.0f}"), ("p50", "read p50", "{:.3f}"),
           ("p90", "p90", "{:.3f}"), ("p99", "p99", "{:.3f}"), ("max", "max", "{:.3f}"),
           ("writer_p50", "writer p50", "{:.3f}"), ("writer_p99", "writer p99", "{:.3f}"),
           ("reads_per_s", "reads/s", "{:,.0f}"), ("faults_per_s", "faults/s", "{:,.1f}"),
           ("writes_per_s", "writes/s", "{:,.0f}"))
#: Kernel release → the model's kernel preset of the same rules.
PRESETS = (("6.18", "6.18"),)


def kernel_preset(release: str) -> str | None:
    """The model's preset for a kernel release (``uname -r``), None if it has none.

    >>> kernel_preset("6.18.44-fc-v1045"), kernel_preset("5.15.0")
    ('6.18', None)
    """
    for prefix, preset in PRESETS:
        if release == prefix or release.startswith(prefix + ".") or release.startswith(prefix + "-"):
            return preset
    return None


def workload_for(spec: RunSpec, hz: int, extra: dict | None = None,
                 thinks: dict | None = None, lead=None) -> dict:
    """The run as a workload for the model, at the kernel's HZ and with the calibrated
    parameters ``extra`` (e.g. ``device``, ``wake_jitter``) over the description's;
    ``thinks`` and ``lead`` as :meth:`RunSpec.workload` takes them.

    >>> workload_for(RunSpec(delay="5ms"), 1000, {"device": "6ms"})["params"]["device"]
    '6ms'
    """
    w = spec.workload(thinks, lead)
    w["params"] = {**w["params"], "hz": int(hz), **(extra or {})}
    return w


def predict(spec: RunSpec, hz: int, extra: dict | None = None, trials: int = 4,
            seed: int = 1, engine: str = "compiled", thinks: dict | None = None, lead=None):
    """Simulate the run ``trials`` windows of its duration; an mcsim Result.

    >>> res = predict(RunSpec(path="mkwrite", delay="5ms", duration="500ms"), 250,
    ...               trials=1, engine="reference")
    >>> res.row()["workload"], res.row()["source"]
    ('repro-mkwrite-same', 'simulated')
    """
    from ..api import simulate
    from ..workload import load_workload

    wl = load_workload(workload_for(spec, hz, extra, thinks, lead))
    return simulate(workload=wl, trials=trials, seed=seed, engine=engine)


def _ms(row: dict, name: str) -> float:
    v = row.get(name)
    return float("nan") if v is None else float(v) / 1e6


def summary(row: dict, rates: dict) -> dict:
    """What the table shows of a result row, with the loops' ``rates`` (per second:
    ``reads_per_s``, ``faults_per_s``, ``writes_per_s``).

    >>> s = summary({"hp_wait_n": 3, "hp_wait_p50_ns": 2e6, "writer_wait_p99_ns": 1e6},
    ...             {"reads_per_s": 10})
    >>> s["reads"], s["p50"], s["writer_p99"], math.isnan(s["p90"])
    (3, 2.0, 1.0, True)
    """
    out = {"reads": int(row.get("hp_wait_n") or 0)}
    for key, metric, q in (("p50", "hp_wait", "p50"), ("p90", "hp_wait", "p90"),
                           ("p99", "hp_wait", "p99"), ("max", "hp_wait", "max"),
                           ("writer_p50", "writer_wait", "p50"),
                           ("writer_p99", "writer_wait", "p99")):
        out[key] = _ms(row, f"{metric}_{q}_ns")
    for key in ("reads_per_s", "faults_per_s", "writes_per_s"):
        out[key] = float(rates.get(key, float("nan")))
    return out


def simulated_rates(row: dict) -> dict:
    """The loops' throughputs of a simulated row, by thread name.

    >>> simulated_rates({"thread_names": ["target/faulter", "ps/reader"],
    ...                  "thread_throughput_per_s": [24.0, 506.0]})
    {'faults_per_s': 24.0, 'writes_per_s': 0.0, 'reads_per_s': 506.0}
    """
    by_name = dict(zip(row.get("thread_names") or [], row.get("thread_throughput_per_s") or []))
    return {"faults_per_s": float(by_name.get("target/faulter", 0.0)),
            "writes_per_s": float(by_name.get("target/writer", 0.0)),
            "reads_per_s": float(by_name.get("ps/reader", 0.0))}


def _cell(value, fmt: str) -> str:
    if isinstance(value, float) and math.isnan(value):
        return "-"
    return fmt.format(value)


def format_table(rows: list[tuple[str, dict]]) -> str:
    """The side-by-side table: one line per (label, summary), latencies in ms.

    >>> s = {"reads": 2500, "p50": 0.001, "p90": 0.002, "p99": 19.7, "max": 21.1,
    ...      "writer_p50": 0.0, "writer_p99": 20.0, "reads_per_s": 490.0,
    ...      "faults_per_s": 24.0, "writes_per_s": 480.0}
    >>> print(format_table([("measured", s)]))
    run         reads  read p50      p90      p99      max  writer p50  writer p99  reads/s  faults/s  writes/s
    measured    2,500     0.001    0.002   19.700   21.100       0.000      20.000      490      24.0       480
    """
    width = max([8] + [len(label) for label, _ in rows]) + 2
    head = "run".ljust(width) + "".join(
        h.rjust(max(len(h), 7) + (2 if i else 0)) for i, (_, h, _) in enumerate(COLUMNS))
    lines = [head]
    for label, s in rows:
        cells = [_cell(s.get(k, float("nan")), fmt).rjust(max(len(h), 7) + (2 if i else 0))
                 for i, (k, h, fmt) in enumerate(COLUMNS)]
        lines.append(label.ljust(width) + "".join(cells))
    return "\n".join(line.rstrip() for line in lines)
