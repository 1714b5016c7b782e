"""Scaling curves of the compiled core: cost vs trials (= simulated horizon) and vs the
number of pending events; memory vs trials for the core and for the SimPy peer.

Every point is one fresh subprocess (:func:`mcsim.benchmarks.measure.measure`: calibration, warm-up,
median of the timed runs).  Prints Markdown tables (docs/benchmarks.md shows them);
``--out FILE`` also writes every point as Parquet (or Arrow IPC for ``.arrow``).

    python bench/scaling.py            # quick: about a minute
    python bench/scaling.py --full     # up to 10**7 trials: several minutes

(``python -m mcsim.benchmarks.scaling`` is the same.)

>>> print(format_pending([{"scenario": "occupancy-1", "max_pending_events": 9,
...                        "events_per_trial": 20.0, "trials": 1000,
...                        "events_per_s": 2.5e7, "ns_per_event": 40.0}]))
| scenario | max pending events | events/trial | trials | M events/s | ns/event |
|---|---|---|---|---|---|
| occupancy-1 | 9 | 20.0 | 1,000 | 25.0 | 40.0 |
"""
from __future__ import annotations

import argparse
import sys

from .measure import environment, measure
from .scenarios import pending_family
from .tables import to_table, write_table

QUICK = {"trials": (10**4, 10**5, 10**6), "simpy_trials": (10**3, 10**4),
         "occupancy": (0.5, 1, 2, 4, 8), "target_s": 0.3, "repeats": 5}
FULL = {"trials": (10**4, 10**5, 10**6, 10**7), "simpy_trials": (10**3, 10**4, 10**5),
        "occupancy": (0.5, 1, 2, 4, 8, 10), "target_s": 1.0, "repeats": 5}


def _note(text):
    print(text, file=sys.stderr, flush=True)


def vs_trials(settings) -> list[dict]:
    """The reference scenario at growing trial counts (the horizon grows with them)."""
    rows = []
    for impl, sizes in (("compiled", settings["trials"]), ("simpy", settings["simpy_trials"])):
        for trials in sizes:
            _note(f"[scaling] {impl}: {trials:,} trials")
            row = measure(impl, {}, trials=trials, repeats=settings["repeats"], warmup=1)
            rows.append({"series": "trials", "scenario": "reference", **row})
    return rows


def vs_pending(settings) -> list[dict]:
    """Scenarios with more bios in flight, hence more pending completion events."""
    rows = []
    family = pending_family(settings["occupancy"])
    for name, params in family.items():
        _note(f"[scaling] compiled: {name}")
        row = measure("compiled", params, target_s=settings["target_s"],
                      repeats=settings["repeats"], warmup=1)
        rows.append({"series": "pending", "scenario": name, **row})
    return rows


def format_trials(rows) -> str:
    lines = [("| implementation | trials | simulated horizon | median wall s | ns/trial | "
              "ns/event | events/trial | peak RSS MiB (+ over imports) |"),
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(
            f"| {r['implementation']} | {r['trials']:,} | {r['sim_seconds'] / 3600:,.2f} h | "
            f"{r['median_s']:.4f} | {r['median_s'] * 1e9 / r['trials']:,.0f} | "
            f"{r['ns_per_event']:,.1f} | {r['events_per_trial']:.2f} | "
            f"{r['peak_rss_mib']:.1f} (+{r['peak_rss_mib'] - r['base_rss_mib']:.1f}) |")
    return "\n".join(lines)


def format_pending(rows) -> str:
    lines = [("| scenario | max pending events | events/trial | trials | M events/s | "
              "ns/event |"), "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['scenario']} | {r['max_pending_events']} | "
                     f"{r['events_per_trial']:,.1f} | {r['trials']:,} | "
                     f"{r['events_per_s'] / 1e6:.1f} | {r['ns_per_event']:.1f} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--full", action="store_true")
    parser.add_argument("--out")
    args = parser.parse_args(argv)
    settings = FULL if args.full else QUICK
    env = environment()
    trials, pending = vs_trials(settings), vs_pending(settings)
    print("### Cost vs trials (and simulated horizon)\n\n" + format_trials(trials))
    print("\n### Cost vs pending events\n\n" + format_pending(pending))
    if args.out:
        write_table(to_table(trials + pending, env, "full" if args.full else "quick"),
                    args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
