"""Results of workloads (docs/model.md §12.3, §12.4): the inversion fraction counts only
counted (sampled) acquisitions, and a sweep over a workload's variables has them as axes in
figures and reports (mcsim.plot, mcsim.report), like parameters."""
import json

import numpy as np
import pytest

import mcsim
from mcsim import engine as engine_module
from mcsim.params import validate
from mcsim.workload import load_workload

needs_core = pytest.mark.skipif(not hasattr(engine_module, "trial_block_size"),
                                reason="the engines of this build do not run workloads yet")


def test_inversion_fraction_counts_sampled_acquisitions_only():
    """model.md §12.3: counters count the whole trial, warm-up included; samples only
    counted tasks.  The fraction divides samples by samples (56 of 120 counted
    acquisitions), never the counter (90, warm-up included) by samples."""
    from mcsim.histogram import Histogram
    from mcsim.layout import COUNTERS, METRICS
    from mcsim.result import Result

    hists = {m: Histogram.empty() for m in METRICS}
    hists["inversion_wait"] = Histogram.from_trials([5_000] * 56, [56])
    hists["hp_acq_wait"] = Histogram.from_trials([5_000] * 56 + [0] * 64, [120])
    counters = dict.fromkeys(COUNTERS, 0) | {"inversions": 90, "trials": 1}
    res = Result(validate(), seed=0, trials=1, counters=counters, hists=hists)
    assert res.inversion_fraction == 56 / 120
    assert res.row()["inversion_fraction"] == 56 / 120
    hists["hp_acq_wait"] = Histogram.empty()
    assert np.isnan(res.inversion_fraction)


@needs_core
def test_inversion_fraction_agrees_with_the_counter_in_cycles_only():
    """Regenerative cycles count every task: the sampled fraction equals inversions /
    hp_acq_wait.n exactly (the fraction of every earlier result).  A window trial's
    counter also counts its warm-up's inversions, which the samples leave out."""
    cyc = mcsim.simulate(policy="hold", trials=20_000, seed=2)
    assert cyc.counters["inversions"] > 0
    assert cyc.inversion_fraction == cyc.counters["inversions"] / cyc["hp_acq_wait"].n
    win = mcsim.simulate(workload="mkwrite-vs-mprotect", trials=4, seed=1, warmup="200ms",
                         window="200ms")
    sampled = win["inversion_wait"].n
    assert 0 < sampled < win.counters["inversions"]
    assert win.inversion_fraction == sampled / win["hp_acq_wait"].n <= 1


def test_workload_variables_are_sweep_axes():
    from mcsim import plot

    rows = [{"policy": "hold", "seed": 0, "workload": "ps-scan",
             "workload_vars": json.dumps({"n": n, "think": t}, sort_keys=True)}
            for n, t in ((2, "10ms"), (8, "10ms"), (2, "100ms"))]
    got = plot.rows_of(rows)
    assert [r["n"] for r in got] == [2, 8, 2] and [r["think"] for r in got] == \
        ["10ms", "10ms", "100ms"]
    assert plot.axes_of(got) == ["n", "think"]
    assert plot.rows_of(got) is got                       # keys there already: no copy
    assert plot.distinct(got, "think") == ["10ms", "100ms"]
    assert plot.select(got, {"n": 8}) == [got[1]]
    # A variable named like a column keeps the column and gets a key of its own.
    clash = plot.rows_of([{"seed": 0, "workload_vars": '{"seed":%d}' % s} for s in (1, 2)])
    assert plot.axes_of(clash) == ["var.seed"]
    # Rows of two workloads: the workload is an axis, a missing variable is None.
    mixed = plot.rows_of([{"workload": "open", "workload_vars": "{}"},
                          {"workload": "ps-scan", "workload_vars": '{"n":8}'}])
    assert plot.axes_of(mixed) == ["workload", "n"] and mixed[0]["n"] is None


@needs_core
def test_report_sweeps_over_a_workload_variable():
    from mcsim.report import report_columns, report_html

    assert {"workload", "workload_vars"} <= set(report_columns())
    rows = [mcsim.simulate(workload=load_workload("ps-scan", vars={"n": n}), trials=2,
                           seed=1, warmup="100ms", window="200ms").row()
            for n in (1, 2)]
    page = report_html(rows, source="vars")
    assert "axis <b>n</b>: 1, 2" in page
    assert "workload <b>ps-scan</b>" in page
    assert "against n" in page
