"""Wall time per event of the core alone: one block of trials, repeated in one process.

A developer tool for comparing two builds of the core (``kernels_pyx/``) on a noisy
machine: run it on each checkout in turn, several times, alternating, and compare the
fastest repeats (the least disturbed)::

    for i in 1 2 3 4 5; do for tree in /path/before /path/after; do
        echo "$tree $(PYTHONPATH=$tree python bench/blocktime.py throttled)"
    done; done

It times ``run_block`` as ``one_block.py`` counts it under callgrind (docs/benchmarks.md,
"Core optimisations", round 3 on): the scenario of ``INSTRUCTION_SCENARIOS``, one block
of ``--trials`` trials, seed 1 (the repeats take streams 0, 1, ...), and prints the
fastest repeat's nanoseconds per event.  Timings compare only within one session.
"""
from __future__ import annotations

import argparse
import sys
import time


def block_ns_per_event(scenario: str, trials: int = 65536, repeats: int = 7) -> float:
    """The fastest of ``repeats`` blocks' wall time per event, in ns."""
    from mcsim.benchmarks.scenarios import INSTRUCTION_SCENARIOS
    from mcsim.engine import BlockOutput, block_bitgen, compiled_engine
    from mcsim.params import validate
    from mcsim.scenario import compile_scenario

    record = compile_scenario(validate(dict(INSTRUCTION_SCENARIOS[scenario]["params"])))
    engine = compiled_engine()
    best = float("inf")
    for stream in range(repeats):
        out = BlockOutput.zeros()
        start = time.perf_counter()
        engine.run_block(record, block_bitgen(1, stream), trials, out.hist_arrays,
                         out.hist_scalars, out.hist_floats, out.counters)
        elapsed = time.perf_counter() - start
        best = min(best, elapsed * 1e9 / max(1, out.counter_dict()["events"]))
    return best


def main(argv=None) -> int:
    from mcsim.benchmarks.scenarios import INSTRUCTION_SCENARIOS

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scenario", choices=sorted(INSTRUCTION_SCENARIOS))
    parser.add_argument("--trials", type=int, default=65536, help="trials per block")
    parser.add_argument("--repeats", type=int, default=7, help="blocks timed")
    args = parser.parse_args(argv)
    for name in ("trials", "repeats"):
        if not 1 <= getattr(args, name) <= 10**8:
            parser.error(f"--{name}: {getattr(args, name)}; allowed: 1 to 100000000")
    print(f"{block_ns_per_event(args.scenario, args.trials, args.repeats):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
