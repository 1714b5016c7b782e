"""Scaling curves of the compiled core (mcsim.benchmarks.scaling): cost vs trials and vs
pending events, memory vs trials.  Run from a source checkout:

    python bench/scaling.py            # quick: about a minute
    python bench/scaling.py --full     # up to 10**7 trials: several minutes
"""
import sys

from mcsim.benchmarks.scaling import main

if __name__ == "__main__":
    sys.exit(main())
