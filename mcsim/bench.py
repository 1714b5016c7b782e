"""Benchmarks: mcsim's compiled core next to its peers, on the same model and parameters.

:func:`run_benchmarks` measures, for every scenario of :mod:`mcsim.benchmarks.scenarios`
and every implementation (the compiled core on one thread and on all cores, the
pure-Python reference twin, the SimPy model of :mod:`mcsim.benchmarks.simpy_model`, on
the scenarios it models), events/s, ns/event, trials/s and peak memory, and returns them
as a :class:`pyarrow.Table`.

How it measures (docs/benchmarks.md has the details):

* **one fresh subprocess per measurement** (:mod:`mcsim.benchmarks.measure`, which runs
  ``python -m mcsim.bench --worker ...``): it sizes the run to a target duration with
  calibration runs, does a warm-up run, then ``repeats`` timed runs of identical work
  (same seed); the table (:mod:`mcsim.benchmarks.tables`) reports the **median** wall
  time (and min/max), and the median process CPU time over it (``cpu_utilisation``: how
  many cores were busy);
* **memory** is the subprocess's peak resident set (Linux ``VmHWM``), for every
  implementation alike, next to its value right after the imports (``base_rss_mib``);
* **an event** is what the compiled engine counts in ``counters['events']``: an event
  popped from its queue (an arrival, the end of a CPU stretch or critical section, a bio
  completion, the wake-up of a sleeping task); the reference twin counts the same, and
  the SimPy model counts the same points of its processes (SimPy's own, ~2x larger count
  of kernel events is reported as ``kernel_events``);
* **a trial** is one regenerative cycle (model.md §4), the same in all implementations;
  in a workload scenario, one window (model.md §12.3), the compiled core's and the
  reference twin's.

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
import sys

from .benchmarks.measure import (IMPLEMENTATIONS, MODES, Mode, available_implementations,
                                 environment, measure, worker)
from .benchmarks.tables import (check_out_path, check_targets, format_table, format_targets,
                                noise_warnings, to_document, to_table, write_table)


def bench_module(name: str):
    """The benchmark module ``mcsim.benchmarks.<name>`` (``scenarios``, ``simpy_model``,
    ``scaling``).

    >>> bench_module("scenarios").SCENARIOS["reference"]["params"]
    {}
    """
    return importlib.import_module(f".benchmarks.{name}", __package__)


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
            spec = catalogue[name]
            row = measure(impl, spec["params"], repeats=settings.repeats,
                          warmup=settings.warmup, target_s=settings.target_s[engine],
                          workload=spec.get("workload"),
                          first_trials=spec.get("first_trials"))
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


def main(argv=None) -> int:
    """``python -m mcsim.bench [--full] [--out FILE] [--impl NAME ...] [--json]``."""
    parser = argparse.ArgumentParser(prog="python -m mcsim.bench", description=__doc__
                                     .split("\n")[0])
    parser.add_argument("--full", action="store_true", help="the long run (minutes)")
    parser.add_argument("--out", help="also write the table (.parquet, or .arrow)")
    parser.add_argument("--impl", nargs="+", choices=sorted(IMPLEMENTATIONS),
                        help="implementations to measure (default: all available)")
    parser.add_argument("--scenario", nargs="+", help="scenarios (default: all)")
    parser.add_argument("--json", action="store_true", help="print one JSON document "
                        "(times in ns) instead of the table, as `mcsim bench --json`")
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
        table = run_benchmarks("full" if args.full else "quick", out=args.out,
                               implementations=args.impl, scenarios=args.scenario,
                               echo=None if args.json else print)
    except (McsimError, ValueError) as exc:      # one line, as the mcsim command does
        parser.exit(getattr(exc, "exit_code", 2), f"{parser.prog}: error: {exc}\n")
    if args.json:
        print(json.dumps(to_document(table), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
