"""Measure the reproducer over a set of runs and print a Markdown table of the reader's
per-read wait, the fault and writer latencies and the loop rates.

    python -m mcsim.realkernel.table --duration 5s

>>> [(s.path, s.writer, s.delay) for s in plan("5s")][:3]
[('retry', 'same', '5ms'), ('retry', 'same', '20ms'), ('retry', 'same', '50ms')]
"""
from __future__ import annotations

import argparse
import sys

from .runner import RunResult, measure_wakeup, run
from .spec import RunSpec


def plan(duration: str) -> list[RunSpec]:
    """Both paths at D = 5, 20, 50 ms with a same-VMA writer, then the controls at 20 ms
    (no writer; writer on another VMA) and without slow IO (D = 0)."""
    specs = []
    for path in ("retry", "mkwrite"):
        specs += [RunSpec(path=path, delay=d, writer="same", duration=duration)
                  for d in ("5ms", "20ms", "50ms")]
        specs += [RunSpec(path=path, delay="20ms", writer=w, duration=duration)
                  for w in ("none", "other")]
        specs += [RunSpec(path=path, delay="0", writer="same", duration=duration)]
    return specs


HEADER = ("| path | D | writer | reads | read p50 | p90 | p99 | max (ms) | fault p50 | "
          "writer p50 | p99 (ms) | reads/s | faults/s | writes/s |\n"
          "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")


def row(res: RunResult) -> str:
    """One table row of a run's measurements (latencies in ms)."""
    s, rd, fl, wr, rt = (res.spec, res.quantiles("read"), res.quantiles("fault"),
                         res.quantiles("writer"), res.rates())
    return (f"| {s.path} | {s.delay} | {s.writer} | {rd['n']} | {rd['p50']:.3f} | "
            f"{rd['p90']:.3f} | {rd['p99']:.3f} | {rd['max']:.3f} | {fl['p50']:.3f} | "
            f"{wr['p50']:.3f} | {wr['p99']:.3f} | {rt['reads_per_s']:.0f} | "
            f"{rt['faults_per_s']:.1f} | {rt['writes_per_s']:.0f} |")


def quantile_table(values_ms, qs=(1, 5, 10, 25, 50, 75, 90, 95, 99, 99.9), digits=3) -> str:
    """A one-row Markdown table of the given quantiles (ms) of a sample.

    >>> print(quantile_table([1.0, 2.0, 3.0], qs=(50,)))
    | p50 |
    |---|
    | 2.000 |
    """
    import numpy as np
    v = np.percentile(values_ms, qs)
    return ("| " + " | ".join(f"p{q:g}" for q in qs) + " |\n|" + "---|" * len(qs) + "\n| "
            + " | ".join(f"{x:.{digits}f}" for x in v) + " |")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--duration", default="5s")
    a = ap.parse_args(argv)
    results = []
    print(HEADER, flush=True)
    for spec in plan(a.duration):
        results.append(run(spec))
        print(row(results[-1]), flush=True)
    # Constants of the model, from the control runs only: the fault at D = 0 (a FUSE round
    # trip plus the fault path) and, at D = 20 ms with no writer, what a fault takes beyond
    # its device time (wake-ups and FUSE overhead around the delay).
    for res in results:
        s = res.spec
        if s.delay_ns == 0 and s.writer == "same":
            print(f"\nfault latency, path {s.path}, D = 0 (ms):\n" + quantile_table(res.fault_ns / 1e6))
        if s.writer == "none":
            n_reads = 2 if s.path == "retry" else 1
            extra = res.fault_ns / 1e6 - n_reads * s.delay_ns / 1e6
            print(f"\nfault latency minus {n_reads}·D, path {s.path}, D = {s.delay}, no writer "
                  f"(ms):\n" + quantile_table(extra))
    wake = measure_wakeup(5000)
    print("\nwake-up latency: a thread blocked on a pipe, woken by another's write, nothing "
          "else running (ms):\n" + quantile_table(wake / 1e6, digits=4))
    return 0


if __name__ == "__main__":
    sys.exit(main())
