"""The ``cpu_affinity`` parameter (docs/model.md §14.7): read, checked, compiled and hashed.

Everything here is Python-side and exact: a bad value is one line naming the parameter, the
value and what is allowed; the record carries the value; a point's identity leaves the
default out (mcsim.params.IDENTITY_OMITS_DEFAULT), so points stored before it keep their keys.
"""
import subprocess
import sys

import pytest

from mcsim.errors import ParameterError
from mcsim.numeric import check_scenario
from mcsim.params import validate
from mcsim.points import PointSpec
from mcsim.scenario import compile_scenario


@pytest.mark.parametrize("value, words", [
    (-0.1, "is out of range"), (1.5, "is out of range"), (float("nan"), "is not valid"),
    ("x", "is not valid"), (True, "is not valid")])
def test_a_bad_cpu_affinity_is_one_line(value, words):
    with pytest.raises(ParameterError) as info:
        validate(cpu_affinity=value)
    text = str(info.value)
    assert "\n" not in text and text.startswith("cpu_affinity: "), text
    assert words in text and "allowed: a probability from 0 to 1" in text, text


def test_a_bad_cpu_affinity_on_the_command_line_is_one_line_without_a_traceback():
    out = subprocess.run([sys.executable, "-m", "mcsim", "run", "--trials", "10",
                          "--set", "cpu_affinity=1.5"], capture_output=True, text=True)
    assert out.returncode != 0
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "cpu_affinity" in lines[0] and "1.5" in lines[0], out.stderr
    assert "Traceback" not in out.stderr


def test_cpu_affinity_goes_into_the_record():
    assert validate()["cpu_affinity"] == 0.0
    assert compile_scenario(validate())[0]["cpu_affinity"] == 0.0
    r = compile_scenario(validate(cpus=2, cpu_affinity="0.98"))[0]
    assert r["cpu_affinity"] == 0.98


@pytest.mark.parametrize("bad", [-0.5, 1.01, float("nan")])
def test_a_record_with_a_bad_cpu_affinity_is_refused(bad):
    rec = compile_scenario(validate(cpus=2))
    rec[0]["cpu_affinity"] = bad
    with pytest.raises(ParameterError, match=r"^scenario\.cpu_affinity: "):
        check_scenario(rec)


def test_cpu_affinity_at_its_default_keeps_a_points_key():
    key = PointSpec.make({"cpus": 2}, trials=3, seed=1, command="").key
    for zero in (0, 0.0, "0"):
        assert PointSpec.make({"cpus": 2, "cpu_affinity": zero}, trials=3, seed=1,
                              command="").key == key
    assert "cpu_affinity" not in PointSpec.make({}, trials=3, seed=1,
                                                command="").identity()["params"]
    assert PointSpec.make({"cpus": 2, "cpu_affinity": 1}, trials=3, seed=1,
                          command="").key != key
