"""Parsing and formatting of durations, rates and distributions."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mcsim.errors import ParameterError
from mcsim.units import (DIST_CODES, Dist, format_duration, format_duration_exact, parse_dist,
                         parse_duration, parse_rate)


@pytest.mark.parametrize("text, ns", [
    ("50us", 50_000), ("50 us", 50_000), ("50µs", 50_000), ("50\u03bcs", 50_000),
    ("8ms", 8_000_000), ("1.5s", 1_500_000_000), ("0.1s", 100_000_000), ("0", 0),
    ("0ns", 0), ("  7ns ", 7), ("2.5ns", 2), ("3.5ns", 4), ("1e3us", 1_000_000), (".5ms", 500_000),
    (1500, 1500), (0, 0), (2.6, 3),
])
def test_parse_duration(text, ns):
    assert parse_duration(text) == ns


@pytest.mark.parametrize("bad, problem", [
    ("5xs", "is not a duration"), ("", "is not a duration"), ("ms", "is not a duration"),
    ("-5us", "is negative"), ("50", "has no unit"), ("5 u s", "is not a duration"),
    (-1, "is negative"), (math.inf, "is too long"), (math.nan, "is not a number"),
    (10**13 + 1, "is too long"), ("10001s", "is too long"), ("1e999s", "is too long"),
    (None, "is not a duration"), (True, "is not a duration"), ([5], "is not a duration"),
])
def test_parse_duration_errors_name_the_parameter(bad, problem):
    with pytest.raises(ParameterError) as info:
        parse_duration(bad, "writer_hold")
    err = info.value
    assert err.param == "writer_hold" and (err.value is bad or bad != bad)
    assert str(err).startswith(f"writer_hold: {bad!r} {problem}; allowed: a number with a unit")
    assert "\n" not in str(err)
    assert isinstance(err, ValueError)


def test_exact_error_message():
    with pytest.raises(ParameterError, match=r"^writer_hold: '5xs' is not a duration; allowed: "
                                             r"a number with a unit such as 50us, 8ms, 1s"):
        parse_duration("5xs", "writer_hold")


@pytest.mark.parametrize("ns, text", [
    (8_050_000, "8.05 ms"), (50_000, "50 µs"), (0, "0"), (1, "1 ns"), (999, "999 ns"),
    (999.7, "1 µs"), (1_234_567, "1.23 ms"), (12_345_678_901, "12.3 s"), (100.25, "100 ns"),
    (-50_000, "-50 µs"), (3_600_000_000_000, "3600 s"),
])
def test_format_duration(ns, text):
    assert format_duration(ns) == text


@given(st.integers(1, 10**15))
def test_format_duration_keeps_three_significant_digits(ns):
    number, unit = format_duration(ns).split()
    scale = {"ns": 1, "µs": 1e3, "ms": 1e6, "s": 1e9}[unit]
    assert float(number) >= 1 and (float(number) < 1000 or unit == "s")
    assert abs(float(number) * scale - ns) <= 0.005 * ns


@given(st.integers(0, 10**13))
def test_exact_duration_format_round_trips(ns):
    assert parse_duration(format_duration_exact(ns)) == ns


@pytest.mark.parametrize("text, rate", [
    (200, 200.0), (2.5, 2.5), ("200", 200.0), ("200/s", 200.0), ("5/ms", 5000.0),
    ("3 / us", 3e6), ("0", 0.0), ("1e3/s", 1000.0),
])
def test_parse_rate(text, rate):
    assert parse_rate(text, "hp_rate") == rate


@pytest.mark.parametrize("bad", ["fast", "200/h", "-5/s", -1.0, math.nan, None, "5/"])
def test_parse_rate_errors_name_the_parameter(bad):
    with pytest.raises(ParameterError, match=r"^hp_rate: .*allowed: a non-negative number per second"):
        parse_rate(bad, "hp_rate")


@pytest.mark.parametrize("spec, dist", [
    ("5us", Dist("const", 5000.0)), (5000, Dist("const", 5000.0)), ("0", Dist("const", 0.0)),
    ("const(5us)", Dist("const", 5000.0)), ("exp(20us)", Dist("exp", 20_000.0)),
    ("lognormal(100us, 0.6)", Dist("lognormal", 100_000.0, 0.6)),
    (" LogNormal( 100us ,0.6 ) ", Dist("lognormal", 100_000.0, 0.6)),
    ("ssd", Dist("lognormal", 100_000.0, 0.6)), ("hdd", Dist("lognormal", 8_000_000.0, 0.5)),
    ({"dist": "exp", "mean": "20us"}, Dist("exp", 20_000.0)),
    ({"dist": "const", "value": 7}, Dist("const", 7.0)),
    ({"dist": "lognormal", "median": "8ms", "sigma": 0.5}, Dist("lognormal", 8e6, 0.5)),
    (Dist("exp", 1.0), Dist("exp", 1.0)),
    ("uniform(1ms, 2ms)", Dist("uniform", 1e6, 2e6)), ("uniform(0, 0)", Dist("uniform", 0.0)),
    ({"dist": "uniform", "low": "5us", "high": 6000}, Dist("uniform", 5000.0, 6000.0)),
    ("empirical(1us, 2us)", Dist("empirical", table=(1000.0, 2000.0))),
    ({"dist": "empirical", "quantiles": ["1us", 1500]}, Dist("empirical", table=(1e3, 1.5e3))),
])
def test_parse_dist(spec, dist):
    assert parse_dist(spec, "device") == dist
    assert parse_dist(str(dist)) == dist


@pytest.mark.parametrize("bad", [
    "gauss(5us)", "exp(5us, 1)", "lognormal(5us)", "lognormal(5us, -1)", "lognormal(5us, x)",
    "exp(5xs)", "exp()", "fast", "", {"dist": "exp"}, {"dist": "exp", "mean": "5us", "x": 1},
    {"dist": "weibull", "scale": "5us"}, {"dist": "lognormal", "median": "5us", "sigma": True},
    None, [1, 2], "uniform(2ms, 1ms)", "uniform(1ms)", "uniform(1ms, x)",
    {"dist": "uniform", "low": "1ms"}, "empirical(1ms)", "empirical(2ms, 1ms)",
    {"dist": "empirical", "quantiles": "1ms"},
])
def test_parse_dist_errors_name_the_parameter(bad):
    with pytest.raises(ParameterError, match=r"^device: ") as info:
        parse_dist(bad, "device")
    assert info.value.param == "device" and "\n" not in str(info.value)


def test_dist_means_and_codes():
    assert parse_dist("exp(20us)").mean_ns() == 20_000
    assert parse_dist("const(5us)").mean_ns() == 5_000
    assert parse_dist("lognormal(100us, 0.6)").mean_ns() == pytest.approx(100_000 * math.exp(0.18))
    assert parse_dist("uniform(1ms, 4ms)").mean_ns() == 2_500_000      # (a + b) / 2
    assert parse_dist("empirical(0, 1ms, 4ms)").mean_ns() == 1_500_000  # (0.5 + 2.5) / 2
    assert DIST_CODES == {"const": 0, "exp": 1, "lognormal": 2, "uniform": 3, "empirical": 4}
    assert [parse_dist(s).code for s in ("1us", "exp(1us)", "ssd", "uniform(0, 1us)",
                                         "empirical(0, 1us)")] == [0, 1, 2, 3, 4]


@given(st.sampled_from(["const", "exp", "lognormal", "uniform"]), st.integers(0, 10**13),
       st.floats(0, 5, allow_nan=False), st.integers(0, 10**13))
def test_str_of_dist_round_trips(kind, ns, sigma, high):
    b = {"lognormal": sigma, "uniform": float(max(ns, high))}.get(kind, 0.0)
    dist = Dist(kind, float(ns), b)
    assert parse_dist(str(dist)) == dist
