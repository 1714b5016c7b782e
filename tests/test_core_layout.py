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
        assert not re.search(r"^\s+[A-Z][A-Z0-9_]+ = \d+\s*$", code, re.M) or name == "engine_body.pxi", name


def test_core_files_stay_readable():
    """One seam per file, each a sitting (house rule: about 600 lines at most)."""
    sizes = {name: text.count("\n") for name, text in core_sources().items()}
    for seam in ("events", "rwsem", "gate", "vma", "faults", "hp", "trial"):
        assert f"engine_{seam}.pxi" in sizes
    assert max(sizes.values()) < 600, sizes


# ------------------------------------------------------------------ the rules of §11
# Scripted interleavings on the compiled core, derived by hand from the rules of
# docs/model.md §11 (wake latency 0, one LP slot, every CPU step 0).  The kernel facts
# behind each rule are cited there; these check that the core follows the text.
MS, US = 1_000_000, 1_000


def script(tasks, **params):
    """(per-task waits, counters, raw output) of a scripted run on the compiled core.  A
    task's waits: each lock acquisition's wait in order (a V pass or acquisition: 0; a
    same-VMA writer: its wait for L, then for V's readers)."""
    rows = compile_script(tasks)
    rec = compile_scenario(validate(dict({"wake": 0, "throttle_depth": 7}, **params)))
    raw = compiled_engine().run_script(rec, rows)
    waits = [raw["waits"][i, :raw["nwaits"][i]].tolist() for i in range(len(rows))]
    return waits, dict(zip(lay.COUNTERS, raw["counters"].tolist())), raw


def mprotect_during_writeback(same_vma):
    # 0: ->page_mkwrite waits for writeback in flight until 5 ms, holding only V (6.7+);
    # 1 ms: mprotect takes L(W); 2 ms: a cmdline read (two acquisitions on 6.18).
    return [{"at": 0, "kind": "fault", "fault": "mkwrite_writeback", "bio": "5ms"},
            {"at": "1ms", "kind": "writer", "hold": "50us", "same_vma": same_vma},
            {"at": "2ms", "kind": "hp_read", "hold": "10us"}]


def test_same_vma_writer_waits_for_the_writeback_holding_l():
    """§11.2: the writer write-locks V at 1 ms and waits for its reader (the fault) until
    the writeback ends at 5 ms, holding L; the reader queued at 2 ms is granted at the
    writer's release, 5.05 ms (wait 3.05 ms, blamed vma_start_write), and its second
    acquisition at 5.06 ms finds L free."""
    waits, c, _ = script(mprotect_during_writeback(True), kernel="6.18")
    assert waits == [[0], [0, 4 * MS], [3050 * US, 0]]
    assert (c["vma_writer_waits"], c["inversions"], c["blame_vma_start_write"]) == (1, 1, 1)
    assert c["faults_mkwrite_writeback"] == 1 and c["retries"] == 0   # dirty_completes


def test_writer_on_another_vma_does_not_wait():
    waits, c, _ = script(mprotect_during_writeback(False), kernel="6.18")
    assert waits == [[0], [0], [0, 0]]
    assert (c["vma_writer_waits"], c["inversions"]) == (0, 0)


def test_cmdline_under_the_vma_lock_skips_the_writer():
    """§11.5: 6.18+cmdline-vma reads take the arguments' VMA lock, at once; a read that
    falls back queues behind the writer as on 6.18."""
    waits, c, _ = script(mprotect_during_writeback(True), kernel="6.18+cmdline-vma")
    assert waits[2] == [0, 0] and c["lock_acquisitions"] == 1      # the writer's only
    tasks = mprotect_during_writeback(True)
    tasks[2]["fallback"] = True
    waits, c, _ = script(tasks, kernel="6.18+cmdline-vma")
    assert waits[2] == [3050 * US, 0] and c["hp_fallbacks"] == 2


def test_fault_falls_back_to_l_while_v_is_write_locked():
    """§11.2: a same-VMA writer holds L(W) and V from 0 to 1 ms (no reader: no wait); a
    fault at 0.5 ms finds V write-locked, falls back and waits for L until 1 ms."""
    tasks = [{"at": 0, "kind": "writer", "hold": "1ms", "same_vma": True},
             {"at": "0.5ms", "kind": "fault", "fault": "hit"}]
    waits, c, raw = script(tasks, kernel="6.18")
    assert waits == [[0, 0], [500 * US]] and c["fallbacks"] == 1
    assert raw["done"].tolist() == [1 * MS, 1 * MS]


def dirty_case():
    # 0: a write fault whose ->page_mkwrite is instant, then 5 ms in balance_dirty_pages.
    return [{"at": 0, "kind": "fault", "fault": "mkwrite_fast", "dirty": "5ms"},
            {"at": "1ms", "kind": "writer", "hold": "50us"},
            {"at": "2ms", "kind": "hp_read", "hold": "10us"}]


def test_dirty_throttling_under_l_before_5_5():
    """§11.4: on 4.19 the fault sleeps holding L until 5 ms (blamed dirty_throttle); the
    writer runs 5–5.05 ms, the reader (one acquisition on 4.19) waits 3.05 ms."""
    waits, c, _ = script(dirty_case(), kernel="4.19")
    assert waits[2] == [3050 * US]
    assert (c["dirty_throttles"], c["blame_dirty_throttle"], c["retries"]) == (1, 1, 0)


def test_dirty_throttling_dropped_from_5_5():
    """5.5 drops L before the sleep and retries (no dirty_completes); 6.7+ completes."""
    waits, c, raw = script(dirty_case(), kernel="5.5")
    assert waits == [[0, 0], [0], [0, 0]] and c["retries"] == 1
    assert raw["done"][0] == 5 * MS
    waits, c, _ = script(dirty_case(), kernel="6.18")
    assert waits[2] == [0, 0] and (c["retries"], c["dirty_throttles"]) == (0, 1)


def tried_case():
    # 0: a miss (1 ms bio) whose retry finds the page gone and re-reads it (3 ms);
    # 2 ms: a writer on another VMA; 2.5 ms: a cmdline read.
    return [{"at": 0, "kind": "fault", "fault": "miss", "bio": "1ms", "evicted": True,
             "evict_bio": "3ms"},
            {"at": "2ms", "kind": "writer", "hold": "50us"},
            {"at": "2.5ms", "kind": "hp_read", "hold": "10us"}]


def test_tried_retry_reads_under_l_with_a_writer_queued():
    """§11.3 on 6.18: pass 1 holds V and drops it for the IO; it was major, so the retry
    is TRIED and takes L (retry_lock mmap), re-reading 1–4 ms under it.  The writer
    queues at 2 ms, runs 4–4.05 ms; the reader waits 1.55 ms, blamed pass2_read."""
    waits, c, _ = script(tried_case(), kernel="6.18")
    assert waits == [[0, 0], [2 * MS], [1550 * US, 0]]
    assert (c["tried_passes"], c["evictions"], c["blame_pass2_read"]) == (1, 1, 1)


def test_retry_under_the_vma_lock_removes_the_wait():
    """6.18+vma-retry: the TRIED retry holds V instead, so L stays free."""
    waits, c, _ = script(tried_case(), kernel="6.18+vma-retry")
    assert waits == [[0, 0], [0], [0, 0]] and c["tried_passes"] == 1


def test_not_tried_retry_after_a_minor_vma_pass():
    """§11.3: a locked-page fault's V pass is not major, so on 6.18 its retry is not
    TRIED: it drops L before the re-read, and the third pass (TRIED, after a major pass)
    finishes under L.  No pass waits for its lock."""
    tasks = [{"at": 0, "kind": "fault", "fault": "locked", "bio": "1ms", "evicted": True,
              "evict_bio": "1ms"}]
    waits, c, raw = script(tasks, kernel="6.18")
    assert waits == [[0, 0, 0]] and (c["retries"], c["tried_passes"]) == (2, 1)
    assert raw["done"][0] == 2 * MS


def handoff_case(writer_at, first_hold):
    # An HP reader holds L from 0; a writer queues at writer_at; the release wakes it
    # (wake 100 us) and another reader steals L (5.11+) 50 us after the release, so the
    # writer runs into a taken lock 100 us after the release.
    return [{"at": 0, "kind": "hp_read", "hold": first_hold},
            {"at": writer_at, "kind": "writer", "hold": "10us"},
            {"at": f"{int(first_hold[:-2]) * 1000 + 50}us", "kind": "hp_read", "hold": "1ms"}]


@pytest.mark.parametrize("writer_at, first_hold, hz, handoffs", [
    (0, "7700us", 0, 1),         # continuous: 7.8 ms > 4 ms
    (0, "7700us", 250, 0),       # jiffy 1 > jiffy 0 + 1 is false
    ("3900us", "7950us", 250, 1),  # jiffy 2 > jiffy 0 + 1
    ("4100us", "7950us", 250, 0),  # jiffy 2 > jiffy 1 + 1 is false
])
def test_handoff_timeout_in_jiffies(writer_at, first_hold, hz, handoffs):
    """§11.6: with hz = 250 (4 ms jiffies, RWSEM_WAIT_TIMEOUT 1 jiffy) the woken writer
    sets the handoff iff jiffy(now) > jiffy(request) + 1."""
    _, c, _ = script(handoff_case(writer_at, first_hold), kernel="5.11", hz=hz, wake="100us")
    assert (c["reader_steals"], c["handoffs"]) == (1, handoffs)


@pytest.mark.parametrize("kernel", ["4.19", "5.5", "6.7", "6.18+vma-retry",
                                    "6.18+vma-retry+cmdline-vma"])
def test_invariants_hold_on_kernel_presets(kernel):
    """Every §11 rule under load, with the invariant checks on (incl. §11.9)."""
    params = {"kernel": kernel, "writer_ratio": 0.3, "p_same_vma": 0.7, "lp_rate": 1500.0,
              "p_mkwrite_writeback": 0.3, "write_fault_ratio": 0.4, "p_dirty_throttle": 0.5,
              "dirty_throttle": "exp(200us)", "p_retry_miss": 0.4, "p_hp_fallback": 0.3,
              "evict_rate": 50.0, "wake": "5us", "device": "ssd"}
    rec = compile_scenario(validate(params))
    out = BlockOutput.zeros()
    compiled_engine().run_block(rec, block_bitgen(2, 0), 2000, out.hist_arrays,
                                out.hist_scalars, out.hist_floats, out.counters,
                                check_invariants=True)
    c = out.counter_dict()
    assert c["trials"] == 2000 and c["faults_mkwrite_writeback"] > 0
