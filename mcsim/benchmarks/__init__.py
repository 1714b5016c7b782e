"""The benchmark suite's code: what the benchmarks run and the peer they run against.

* :mod:`mcsim.benchmarks.scenarios`: every benchmark configuration as a parameter dict
  (``SCENARIOS``, ``INSTRUCTION_SCENARIOS``, the SimPy agreement configuration
  ``AGREEMENT``, the queue-depth family ``pending_family``);
* :mod:`mcsim.benchmarks.simpy_model`: the same model written idiomatically in SimPy, the
  Python peer (needs the ``bench`` extra: ``pip install mcsim[bench]``);
* :mod:`mcsim.benchmarks.measure`: one measurement in a fresh process, the
  implementations and modes, the machine's description;
* :mod:`mcsim.benchmarks.tables`: the results table, the speed targets, the reasons a
  run's timings cannot be trusted, files and JSON;
* :mod:`mcsim.benchmarks.scaling`: cost against trials and against pending events.

The runner is :mod:`mcsim.bench` (``mcsim bench``, ``python -m mcsim.bench``) and the
instruction counter :mod:`mcsim.callgrind` (``mcsim bench --instructions``); the ``bench/``
folder of a source checkout holds the scripts that start them.  Importing this package
imports neither SimPy nor the compiled core.

>>> from mcsim.benchmarks import scenarios
>>> scenarios.SCENARIOS["reference"]["params"]
{}
"""
