"""The benchmark suite (mcsim.bench): the compiled core against the pure-Python reference
and SimPy on every scenario of mcsim.benchmarks.scenarios.  The same as `mcsim bench`:

    python bench/run.py                        # quick: about half a minute
    python bench/run.py --full --out bench.parquet
"""
import sys

from mcsim.bench import main

if __name__ == "__main__":
    sys.exit(main())
