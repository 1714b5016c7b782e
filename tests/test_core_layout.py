"""The compiled core's typed boundary: one source of truth for names and positions.

kernels_pyx/layout.pxd is generated from mcsim/layout.py, mcsim/policies.py,
mcsim/scenario.py and mcsim/numeric.py; these tests regenerate it and compare, check that
the built core reports the same names, reads the scenario and counter records by their
typed layout (a mismatched record is refused, never misread), and takes its model data
only from the record.
"""
import re
from pathlib import Path

import numpy as np
import pytest

from mcsim import layout as lay
from mcsim.engine import BlockOutput, block_bitgen, compiled_engine
from mcsim.params import validate
from mcsim.scenario import SCENARIO_DTYPE, compile_scenario, compile_script

ROOT = Path(__file__).resolve().parent.parent
KERNELS = ROOT / "kernels_pyx"


def test_generated_layout_is_current():
    """`python -m mcsim.layout` regenerates kernels_pyx/layout.pxd byte for byte."""
    assert (ROOT / lay.C_LAYOUT_PATH).read_text() == lay.c_layout()


def test_generated_structs_mirror_the_dtypes():
    text = lay.c_layout()
    scenario = text.split("cdef packed struct Scenario:\n")[1].split("\n\n")[0]
    fields = [line.split()[-1].split("[")[0] for line in scenario.splitlines()]
    assert fields == list(SCENARIO_DTYPE.names)
    assert "    int64_t programs[7][3][4]" in scenario
    counters = text.split("cdef packed struct Counters:\n")[1].split("\n\n")[0]
    assert [line.split()[-1] for line in counters.splitlines()] == list(lay.COUNTERS)
    assert lay.COUNTERS_DTYPE.itemsize == 8 * len(lay.COUNTERS)


def test_core_reports_the_layout_names():
    eng = compiled_engine()
    assert eng.METRIC_NAMES == lay.METRICS
    assert eng.COUNTER_NAMES == lay.COUNTERS
    assert eng.TRIAL_FIELD_NAMES == lay.TRIAL_FIELDS
    assert eng.N_COUNTER_SLOTS == len(lay.COUNTERS)


def run_raw(rec, counters, trials=300, seed=3):
    out = BlockOutput.zeros()
    compiled_engine().run_block(rec, block_bitgen(seed, 0), trials, out.hist_arrays,
                                out.hist_scalars, out.hist_floats, counters)
    return out


def test_counters_record_and_flat_array_are_the_same_bytes():
    rec = compile_scenario(validate(kernel="6.18", p_dirty_throttle=0.5))
    flat = np.zeros(len(lay.COUNTERS), dtype=np.int64)
    typed = np.zeros(1, dtype=lay.COUNTERS_DTYPE)
    run_raw(rec, flat)
    run_raw(rec, typed)
    assert typed.view(np.int64).tolist() == flat.tolist()
    assert int(typed["trials"][0]) == 300 and int(typed["faults"][0]) > 0


def test_mismatched_records_are_refused():
    rec = compile_scenario(validate())
    short = np.zeros(1, dtype=np.dtype(SCENARIO_DTYPE.descr[:-1]))   # one field missing
    with pytest.raises((ValueError, KeyError)):
        run_raw(short, np.zeros(len(lay.COUNTERS), dtype=np.int64))
    with pytest.raises(ValueError, match="counters"):
        run_raw(rec, np.zeros(len(lay.COUNTERS) - 1, dtype=np.int64))
    wrong = np.zeros(1, dtype=[("trials", "<i8"), ("events", "<f8")])
    with pytest.raises(ValueError):
        run_raw(rec, wrong)


def test_script_reports_up_to_max_acquisitions_waits():
    rows = compile_script([{"at": 0, "kind": "hp_read", "hold": "1us"}])
    rec = compile_scenario(validate(kernel="6.18"))             # two acquisitions per read
    raw = compiled_engine().run_script(rec, rows)
    assert raw["waits"].shape == (1, compiled_engine().MAX_SCRIPT_WAITS)
    assert raw["nwaits"].tolist() == [2] and raw["waits"][0, :2].tolist() == [0, 0]


def core_sources():
    return {p.name: p.read_text() for p in KERNELS.glob("engine*.p*")}


def test_core_takes_model_data_only_from_the_record():
    """No import of mcsim's model modules in the core (errors and the input checks are
    the only Python it calls), and no positional counter or hand-numbered offset."""
    for name, text in core_sources().items():
        code = "\n".join(line.split("#")[0] for line in text.splitlines())
        imports = re.findall(r"^\s*(?:from|import)\s+(mcsim[\w.]*)", code, re.M)
        assert set(imports) <= {"mcsim.numeric", "mcsim.errors"}, (name, imports)
        assert not re.search(r"counters\[", code), name
        assert not re.search(r"^\s+[A-Z][A-Z0-9_]+ = \d+\s*$", code, re.M) or name == "engine.pyx", name


def test_core_files_stay_readable():
    """One seam per file, each a sitting (house rule: about 600 lines at most)."""
    sizes = {name: text.count("\n") for name, text in core_sources().items()}
    for seam in ("events", "rwsem", "gate", "vma", "faults", "hp", "trial"):
        assert f"engine_{seam}.pxi" in sizes
    assert max(sizes.values()) < 600, sizes
