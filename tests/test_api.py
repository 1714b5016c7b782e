"""The Python entry points (mcsim/api.py): one orchestration path shared with `mcsim run`
and sweeps (mcsim/points.py), parameters validated once, precision targets, and the script
API's waits and kernel label.  Small trial counts on the reference twin keep this fast."""
import pickle

import numpy as np
import pytest

import mcsim
from mcsim import api, engine, params, points
from mcsim.errors import ParameterError
from mcsim.points import PointSpec, run_point, simulate_point


def _same(a, b):
    """Two results are the same simulation: configuration, counters and every histogram."""
    assert a.config == b.config and a.seed == b.seed and a.trials == b.trials
    assert a.counters == b.counters
    for metric, hist in a.hists.items():
        assert np.array_equal(hist.counts, b.hists[metric].counts), metric
        assert (hist.n, hist.vmin, hist.vmax) == (b.hists[metric].n, b.hists[metric].vmin,
                                                 b.hists[metric].vmax), metric


def test_simulate_is_the_point_path():
    """mcsim.simulate and simulate_point (mcsim run, sweeps) give the same result for the
    same parameters, seed and trials: they are one path."""
    given = {"policy": "hold", "writer_ratio": 0.3, "device": "ssd"}
    mine = mcsim.simulate(given, trials=300, seed=7, engine="reference")
    theirs = simulate_point(PointSpec.make(given, trials=300, seed=7, command=""),
                            engine="reference")
    _same(mine, theirs)
    assert mine.engine == theirs.engine == "reference"
    assert mine.extra["point_key"] == theirs.extra["point_key"]


def test_simulate_meets_a_precision_target_as_mcsim_run_does():
    target = 0.2
    res = mcsim.simulate(policy="hold", trials=1000, seed=1, p99_rel_ci=target)
    point = PointSpec.make({"policy": "hold"}, trials=1000, seed=1, p99_rel_ci=target,
                           command="")
    _same(res, simulate_point(point))
    assert res.trials > 1000 and res.extra["p99_rel_ci_met"] is True
    assert res.row()["hp_wait_p99_rel_ci"] <= target


def _count_validations(monkeypatch) -> list:
    calls = []
    real = params.validate

    def counting(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)
    for module in (api, points):
        monkeypatch.setattr(module, "validate", counting)
    return calls


def test_parameters_are_validated_once_on_the_way_in(monkeypatch):
    calls = _count_validations(monkeypatch)
    mcsim.simulate(throttle_depth=3, trials=50, seed=1, engine="reference")
    assert len(calls) == 1


def test_a_point_carries_its_config_to_a_sweep_worker(monkeypatch, tmp_path):
    """A point validated once in the parent is simulated in a worker (here: after a
    pickle round trip, as a process pool does) without validating again."""
    point = PointSpec.make({"throttle_depth": 3, "policy": "rfc-v1"}, trials=50, seed=2,
                           command="")
    shipped = pickle.loads(pickle.dumps(point))
    assert shipped == point and shipped.config == point.config
    calls = _count_validations(monkeypatch)
    monkeypatch.setattr(engine, "RUNNERS",           # run_point runs the compiled core
                        dict(engine.RUNNERS, compiled=engine.RUNNERS["reference"]))
    summary = run_point(shipped, tmp_path)
    assert calls == [] and summary["throttle_depth"] == 3 and summary["trials"] == 50


@pytest.mark.parametrize("kwargs, param", [
    ({"throttle_depth": 9}, "throttle_depth"),
    ({"throttle_depth": "deep"}, "throttle_depth"),
    ({"engine": "gpu"}, "engine"),
    ({"workers": 0}, "workers"),
    ({"trials": 0}, "trials"),
    ({"p99_rel_ci": -0.1}, "p99_rel_ci"),
    ({"p99_rel_ci": 0.1, "hp_rate": 0}, "p99_rel_ci"),
    ({"p99_rel_ci": 0.1, "trials": 1000, "max_trials": 10}, "max_trials"),
])
def test_bad_input_is_one_line_naming_the_parameter(kwargs, param):
    with pytest.raises(ParameterError) as info:
        mcsim.simulate(**{"trials": 100, **kwargs})
    text = str(info.value)
    assert "\n" not in text and text.startswith(f"{param}: ")


class _FakeCore:
    """A compiled core's ``run_script`` answer with four wait slots per task, as the core
    with per-VMA locks returns (an HP read makes up to two acquisitions, each waiting on
    up to two locks); the waits themselves are made up: this checks the plumbing only."""

    def __init__(self, waits, nwaits):
        self.waits, self.nwaits = np.array(waits, dtype=np.int64), np.array(nwaits)

    def run_script(self, scenario, rows):
        n = len(rows)
        return {"waits": self.waits[:n], "nwaits": self.nwaits[:n],
                "done": np.arange(n, dtype=np.int64) * 10,
                "timeline": np.zeros((0, 4), dtype=np.int64)}


SCRIPT = [{"at": 0, "kind": "writer", "hold": "50us"},
          {"at": "10us", "kind": "hp_read", "hold": "10us"}]


@pytest.mark.parametrize("slots", [2, 4])
def test_run_script_keeps_every_wait_the_core_records(monkeypatch, slots):
    waits = [[0] + [-1] * (slots - 1), [40000, 5000, 7000, 9000][:slots]]
    core = _FakeCore(waits, [1, slots])
    monkeypatch.setattr(engine, "compiled_engine", lambda: core)
    res = mcsim.run_script(SCRIPT)
    assert [t.waits for t in res.tasks] == [[0], waits[1]]
    assert res.hp_waits() == waits[1]


def test_run_script_names_the_kernel_it_ran(monkeypatch):
    core = _FakeCore([[0, -1, -1, -1], [1, -1, -1, -1]], [1, 1])
    monkeypatch.setattr(engine, "compiled_engine", lambda: core)
    preset = mcsim.run_script(SCRIPT, kernel="6.18")
    assert (preset.label, preset.kernel, preset.policy) == ("6.18", "6.18", "upstream-5.1")
    legacy = mcsim.run_script(SCRIPT, policy="rfc-v2")
    assert (legacy.label, legacy.kernel, legacy.policy) == ("rfc-v2", "none", "rfc-v2")
    with pytest.raises(ParameterError, match="^kernel: '6.19' "):
        mcsim.run_script(SCRIPT, kernel="6.19")
