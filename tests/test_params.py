"""Bad parameters raise one clear error naming the parameter, the value and what is allowed."""
import pytest

import mcsim
from mcsim.params import PARAMS, validate


@pytest.mark.parametrize("params, pattern", [
    ({"polcy": "hold"}, r"^polcy: 'hold' is not a parameter; allowed: a parameter listed by .mcsim params. \(did you mean policy\?\)"),
    ({"policy": "rfc-v3"}, r"^policy: 'rfc-v3' is not valid; allowed: one of hold, "),
    ({"throttle_depth": 8}, r"^throttle_depth: 8 is out of range; allowed: an integer from 0 to 7"),
    ({"throttle_depth": 1.5}, r"^throttle_depth: 1.5 .*allowed: an integer"),
    ({"writer_ratio": 1.2}, r"^writer_ratio: 1.2 is out of range; allowed: a probability"),
    ({"writer_ratio": "lots"}, r"^writer_ratio: 'lots' .*allowed: a probability"),
    ({"wake": "5 parsecs"}, r"^wake: '5 parsecs' is not a duration"),
    ({"writer_hold": "gamma(2us)"}, r"^writer_hold: 'gamma\(2us\)'"),
    ({"hp_rate": -1}, r"^hp_rate: -1"),
    ({"p_miss": 0.6, "p_async_ra": 0.5}, r"^p_miss: .*sum to 1\.1"),
    ({"hp_rate": 0, "lp_rate": 0, "bg_io_rate": 0}, r"leaves nothing to simulate"),
])
def test_bad_parameters(params, pattern):
    with pytest.raises(mcsim.ParameterError, match=pattern) as info:
        validate(params)
    assert "\n" not in str(info.value)


def test_units_are_accepted():
    cfg = validate({"wake": "20us", "writer_hold": "exp(50us)", "hp_rate": "5/ms",
                    "device": "lognormal(2ms, 0.3)"})
    assert cfg["wake"] == 20_000 and cfg["hp_rate"] == 5000.0
    assert cfg["writer_hold"].mean_ns() == pytest.approx(50_000)
    assert cfg["lp_depth"] == 1


def test_every_parameter_has_a_valid_default_and_help():
    cfg = validate({})
    for p in PARAMS:
        assert p.name in cfg and p.help and p.kind


@pytest.mark.parametrize("kwargs, name", [({"trials": 0}, "trials"), ({"seed": -1}, "seed"),
                                          ({"workers": 0}, "workers"),
                                          ({"engine": "gpu"}, "engine")])
def test_run_arguments_are_checked(kwargs, name):
    with pytest.raises(mcsim.ParameterError, match=f"^{name}:"):
        mcsim.simulate(**kwargs)


def test_overloaded_configuration_is_a_clear_error():
    with pytest.raises(mcsim.SimulationError, match="overloaded"):
        mcsim.simulate(bg_io_rate=500.0, max_trial_events=20_000, trials=10)
