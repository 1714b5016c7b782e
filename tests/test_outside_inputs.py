"""The inputs of work outside the locks (docs/model.md §14.6, docs/workloads.md): the
``io_cpu`` parameter and a fault step's ``lead``, read, checked, compiled and hashed.

Everything here is Python-side and exact: record fields derived from the docs (a lead of
0 is left out of a workload's canonical form; an empirical lead's table comes after the
step's hold and think; io_cpu at its default is left out of a point's identity).
"""
import pytest

from mcsim.errors import ParameterError
from mcsim.params import validate
from mcsim.points import PointSpec
from mcsim.scenario import TK_HP, compile_scenario
from mcsim.units import DIST_CODES
from mcsim.workload import load_workload
from test_workload import base, dist, record

CONST, EXP, EMPIRICAL = DIST_CODES["const"], DIST_CODES["exp"], 4
FAULT = ("process", 1, "thread", 0, "program", 0)          # base()'s fault step


def with_step(w, path, **keys):
    """``w`` with ``keys`` added to the step at ``path``."""
    node = w
    for key in path:
        node = node[key]
    node.update(keys)
    return w


def test_a_lead_compiles_into_its_fault_step():
    wl = load_workload(with_step(base(), FAULT, lead="38us"))
    assert wl.structure["process"][1]["thread"][0]["program"][0]["lead"] == "const(38us)"
    r = record(wl)
    j = [int(k) for k in r["steps"]["kind"][:int(r["n_steps"])]].index(2)   # the fault
    assert dist(r["steps"][j]["lead"]) == (CONST, 38e3, 0.0)
    assert all(dist(r["steps"][k]["lead"]) == (CONST, 0.0, 0.0)
               for k in range(int(r["n_steps"])) if k != j)


def test_a_zero_lead_keeps_the_workloads_hash():
    """A lead of 0 is the default and is left out of the canonical form (docs/workloads.md),
    so a workload written before leads existed keeps its hash, and ``lead = "0"`` too."""
    plain = load_workload(base())
    for zero in ("0", "0us", "const(0)"):
        assert load_workload(with_step(base(), FAULT, lead=zero)).hash == plain.hash
    assert load_workload(with_step(base(), FAULT, lead="1us")).hash != plain.hash


def test_an_empirical_leads_table_comes_after_the_steps_hold_and_think():
    """§13.1: tables are numbered in record order, the steps' hold/think/lead in order."""
    w = with_step(base(), FAULT, think="empirical(1ms, 2ms)", lead="empirical(10us, 50us)")
    r = record(load_workload(w))
    steps = r["steps"][:int(r["n_steps"])]
    j = [int(k) for k in steps["kind"]].index(2)
    think, lead = int(steps[j]["think"]["a"]), int(steps[j]["lead"]["a"])
    assert int(steps[j]["lead"]["kind"]) == EMPIRICAL and lead == think + 1
    assert r["tables"][lead][:2].tolist() == [10e3, 50e3]


@pytest.mark.parametrize("path, keys, where, words", [
    (("process", 1, "thread", 0, "program", 1), {"lead": "1us"},
     "process[1].thread[0].program[1].lead", "is not a known key"),
    (("process", 0, "thread", 0, "program", 0), {"lead": "1us"},
     "process[0].thread[0].program[0].lead", "is not a known key"),
    (FAULT, {"lead": "soon"}, "process[1].thread[0].program[0].lead", "allowed"),
    (FAULT, {"lead": "-5us"}, "process[1].thread[0].program[0].lead", "allowed"),
])
def test_a_bad_lead_is_one_line_naming_its_path(path, keys, where, words):
    with pytest.raises(ParameterError) as info:
        load_workload(with_step(base(), path, **keys))
    text = str(info.value)
    assert "\n" not in text and text.startswith(where + ": ") and words in text, text


def test_a_lead_alone_makes_a_loop_possible():
    """The impossible-loop check (docs/workloads.md) counts a lead that is not always 0 as
    a step that takes time, like the fault's CPU work."""
    w = base()
    w["process"][1]["thread"][0]["program"] = [{"step": "fault", "kind": "hit"}]
    wl = load_workload(w)
    with pytest.raises(ParameterError, match="impossible loop"):
        record(wl, fault_cpu="0")
    w["process"][1]["thread"][0]["program"][0]["lead"] = "exp(5us)"
    record(load_workload(w), fault_cpu="0")


def test_a_record_with_a_lead_on_another_step_is_refused():
    rec = record(load_workload(base()))
    j = [int(k) for k in rec["steps"]["kind"][:int(rec["n_steps"])]].index(TK_HP)
    rec["steps"][j]["lead"] = (EXP, 1e3, 0.0)
    from mcsim.numeric import check_scenario
    with pytest.raises(ParameterError, match=rf"^scenario\.steps\[{j}\]\.lead"):
        check_scenario(rec)


def test_io_cpu_is_a_checked_distribution():
    assert str(validate(io_cpu="40us")["io_cpu"]) == "const(40us)"
    assert str(validate()["io_cpu"]) == "const(0)"
    with pytest.raises(ParameterError, match=r"^io_cpu: "):
        validate(io_cpu="fast")
    r = compile_scenario(validate(io_cpu="empirical(10us, 40us)", cpus=2))[0]
    assert int(r["io_cpu"]["kind"]) == EMPIRICAL
    assert r["tables"][int(r["io_cpu"]["a"])][:2].tolist() == [10e3, 40e3]


def test_io_cpu_at_its_default_keeps_a_points_key():
    """A point's identity leaves io_cpu out at its default (mcsim.params
    IDENTITY_OMITS_DEFAULT), so points stored before it existed keep their keys."""
    key = PointSpec.make({"cpus": 2}, trials=3, seed=1, command="").key
    assert PointSpec.make({"cpus": 2, "io_cpu": "0"}, trials=3, seed=1, command="").key == key
    assert "io_cpu" not in PointSpec.make({}, trials=3, seed=1, command="").identity()["params"]
    assert PointSpec.make({"cpus": 2, "io_cpu": "40us"}, trials=3, seed=1,
                          command="").key != key
