"""Scripted interleavings (no randomness) pin the model's semantics, on both engines.

The first table is model.md §6: an LP background bio holds the only IO slot until 9.9 ms;
a fault at t=0 needs one 0.1 ms bio; a writer wants L at 1 ms for 50 µs; an HP reader wants
it at 2 ms for 10 µs.  Era 4.x, wake latency 0, one LP slot.
"""
import pytest

import mcsim
from mcsim.layout import LANE_GATE, LANE_HOLD, LANE_IO, LANE_WAIT

MS = 1_000_000
US = 1_000

RFC_CASE = [
    {"at": 0, "kind": "bg_io", "bio": "9.9ms"},
    {"at": 0, "kind": "fault", "fault": None, "bio": "0.1ms"},
    {"at": "1ms", "kind": "writer", "hold": "50us"},
    {"at": "2ms", "kind": "hp_read", "hold": "10us"},
]
EXPECTED_HP_WAIT_US = {
    "miss": {"hold": 8050, "stock-4.19": 7950, "rfc-v1": 0, "rfc-v2": 0, "upstream-5.1": 0},
    "mkwrite_slow": {"hold": 8050, "stock-4.19": 8050, "rfc-v1": 8050, "rfc-v2": 0,
                     "upstream-5.1": 8050},
}


def rfc_case(fault):
    tasks = [dict(t) for t in RFC_CASE]
    tasks[1]["fault"] = fault
    return tasks


@pytest.mark.parametrize("fault", sorted(EXPECTED_HP_WAIT_US))
@pytest.mark.parametrize("policy", sorted(mcsim.POLICIES))
def test_rfc_table(engine, fault, policy):
    r = mcsim.run_script(rfc_case(fault), policy=policy, throttle_depth=7, engine=engine)
    assert r.hp_waits() == [EXPECTED_HP_WAIT_US[fault][policy] * US]


@pytest.mark.parametrize("fault", sorted(EXPECTED_HP_WAIT_US))
@pytest.mark.parametrize("policy", sorted(mcsim.POLICIES))
def test_engines_agree_on_timeline(fault, policy):
    a = mcsim.run_script(rfc_case(fault), policy=policy, engine="compiled")
    b = mcsim.run_script(rfc_case(fault), policy=policy, engine="reference")
    assert a.timeline == b.timeline
    assert [t.waits for t in a.tasks] == [t.waits for t in b.tasks]
    assert [t.done for t in a.tasks] == [t.done for t in b.tasks]


def lanes(result, task, lane):
    return [(a, b) for (t, ln, a, b) in result.timeline if t == task and ln == lane]


def test_stock_419_timeline_details(engine):
    """stock-4.19: the fault holds L through its gate wait, drops it at 9.9 ms for the
    completion wait, and its retry pass queues behind nobody at 10 ms."""
    r = mcsim.run_script(rfc_case("miss"), policy="stock-4.19", engine=engine)
    assert lanes(r, 1, LANE_GATE) == [(0, 9900 * US)]
    assert lanes(r, 1, LANE_HOLD) == [(0, 9900 * US), (10 * MS, 10 * MS)]
    assert lanes(r, 1, LANE_IO) == [(9900 * US, 10 * MS)]
    assert lanes(r, 2, LANE_WAIT) == [(1 * MS, 9900 * US)]
    assert lanes(r, 2, LANE_HOLD) == [(9900 * US, 9950 * US)]
    assert r.tasks[1].waits == [0, 0]                     # two passes, neither waited


def test_wake_latency_applies_to_every_wake_up(engine):
    """Wake latency 5 µs: gate hand-off, IO completion, writer wake and reader grant each
    cost 5 µs (model.md §7.1)."""
    r = mcsim.run_script(rfc_case("miss"), policy="hold", wake="5us", engine=engine)
    # fault: slot handed at 9.9 ms, runs 9.905, bio done 10.005, runs 10.010, releases;
    # writer woken, runs 10.015, holds to 10.065; HP granted then, runs at 10.070.
    assert r.hp_waits() == [10070 * US - 2 * MS]
    assert r.tasks[2].waits == [10015 * US - 1 * MS]


def test_readers_share_without_writers(engine):
    tasks = [{"at": 0, "kind": "bg_io", "bio": "9.9ms"},
             {"at": 0, "kind": "fault", "fault": "miss", "bio": "0.1ms"},
             {"at": "2ms", "kind": "hp_read", "hold": "10us"}]
    for policy in mcsim.POLICIES:
        assert mcsim.run_script(tasks, policy=policy, engine=engine).hp_waits() == [0]


def test_eviction_between_passes_reads_under_lock(engine):
    """upstream-5.1 keeps no page: an evicted page is read on pass 2 holding L, behind the
    gate, and an HP reader queued behind a writer waits for it.  rfc-v2 keeps the page."""
    tasks = [{"at": 0, "kind": "fault", "fault": "miss", "bio": "1ms", "evicted": True,
              "evict_bio": "2ms"},
             {"at": "1500us", "kind": "writer", "hold": "10us"},
             {"at": "1600us", "kind": "hp_read", "hold": "0"}]
    up = mcsim.run_script(tasks, policy="upstream-5.1", engine=engine)
    # pass 1 unlocked 0..1 ms; pass 2 takes L at 1 ms and reads until 3 ms holding it.
    assert up.tasks[2].waits == [3 * MS + 10 * US - 1600 * US]
    assert lanes(up, 0, LANE_HOLD)[-1] == (1 * MS, 3 * MS)
    rfc = mcsim.run_script(tasks, policy="rfc-v2", engine=engine)
    assert rfc.hp_waits() == [0]


def test_locked_page_wait(engine):
    """A fault on a page locked under another context's read: stock-4.19 drops L for the
    wait (lock_page_or_retry); hold keeps it."""
    tasks = [{"at": 0, "kind": "fault", "fault": "locked", "bio": "3ms"},
             {"at": "1ms", "kind": "writer", "hold": "10us"},
             {"at": "2ms", "kind": "hp_read", "hold": "0"}]
    assert mcsim.run_script(tasks, policy="hold", engine=engine).hp_waits() == [1010 * US]
    stock = mcsim.run_script(tasks, policy="stock-4.19", engine=engine)
    assert stock.hp_waits() == [0]
    assert len(stock.tasks[0].waits) == 2                 # it retried


def test_async_readahead_submit_only(engine):
    """Async readahead: stock-4.19 holds L while the RA bio waits at the gate but does not
    wait for its completion; rfc-v1 drops L first and retries."""
    tasks = [{"at": 0, "kind": "bg_io", "bio": "5ms"},
             {"at": 0, "kind": "fault", "fault": "async_ra", "bio": "20ms"},
             {"at": "1ms", "kind": "writer", "hold": "10us"},
             {"at": "2ms", "kind": "hp_read", "hold": "0"}]
    stock = mcsim.run_script(tasks, policy="stock-4.19", throttle_depth=7, engine=engine)
    assert stock.hp_waits() == [5 * MS + 10 * US - 2 * MS]
    assert len(stock.tasks[1].waits) == 1
    rfc = mcsim.run_script(tasks, policy="rfc-v1", throttle_depth=7, engine=engine)
    assert rfc.hp_waits() == [0] and len(rfc.tasks[1].waits) == 2


def test_era_4x_queued_writer_blocks_later_readers(engine):
    tasks = [{"at": 0, "kind": "hp_read", "hold": "1ms"},
             {"at": "100us", "kind": "writer", "hold": "1ms"},
             {"at": "200us", "kind": "hp_read", "hold": "0"}]
    for era in ("4.x", "5.11+"):
        r = mcsim.run_script(tasks, era=era, engine=engine)
        assert r.tasks[2].waits == [2 * MS - 200 * US]


def test_reader_stealing_and_handoff_in_511(engine):
    """5.11+: while a woken writer has not run yet (wake 1 ms), a new reader steals the free
    lock; in 4.x it queues.  After 4 ms of waiting the writer sets the handoff bit and the
    next reader can no longer steal."""
    tasks = [{"at": 0, "kind": "hp_read", "hold": "5ms"},
             {"at": "10us", "kind": "writer", "hold": "10us"},
             {"at": "5500us", "kind": "hp_read", "hold": "3ms"}]
    old = mcsim.run_script(tasks, era="4.x", wake="1ms", engine=engine)
    assert old.tasks[2].waits[0] > 0
    new = mcsim.run_script(tasks, era="5.11+", wake="1ms", engine=engine)
    assert new.tasks[2].waits == [0]                       # stole the lock at 5.5 ms
    # The writer ran at 6 ms, found L taken after 5.99 ms > 4 ms of waiting: handoff.
    tasks.append({"at": "6500us", "kind": "hp_read", "hold": "0"})
    new = mcsim.run_script(tasks, era="5.11+", wake="1ms", engine=engine)
    writer_runs = 8500 * US + 1 * MS                       # woken at 8.5 ms, runs 9.5 ms
    assert new.tasks[3].waits == [writer_runs + 10 * US + 1 * MS - 6500 * US]


def test_511_grants_all_queued_readers(engine):
    """5.11+ grants every queued reader at a release (skipping a writer between them);
    4.x grants only the readers at the head."""
    tasks = [{"at": 0, "kind": "writer", "hold": "1ms"},
             {"at": "100us", "kind": "hp_read", "hold": "0"},
             {"at": "200us", "kind": "writer", "hold": "1ms"},
             {"at": "300us", "kind": "hp_read", "hold": "0"}]
    old = mcsim.run_script(tasks, era="4.x", engine=engine)
    assert old.tasks[3].waits == [2 * MS - 300 * US]
    new = mcsim.run_script(tasks, era="5.11+", engine=engine)
    assert new.tasks[3].waits == [1 * MS - 300 * US]


def test_mkwrite_fast_under_rfc_v2_costs_a_retry(engine):
    tasks = [{"at": 0, "kind": "fault", "fault": "mkwrite_fast", "mkwrite": "30us",
              "cpu": "1us", "minor": "2us"}]
    v2 = mcsim.run_script(tasks, policy="rfc-v2", engine=engine)
    v1 = mcsim.run_script(tasks, policy="rfc-v1", engine=engine)
    assert len(v2.tasks[0].waits) == 2 and v2.tasks[0].done == 33 * US
    assert len(v1.tasks[0].waits) == 1 and v1.tasks[0].done == 31 * US


def test_revalidation_failure_redoes_mkwrite_under_lock(engine):
    tasks = [{"at": 0, "kind": "fault", "fault": "mkwrite_slow", "bio": "1ms",
              "revalidate_fail": True},
             {"at": "1100us", "kind": "writer", "hold": "0"},
             {"at": "1200us", "kind": "hp_read", "hold": "0"}]
    r = mcsim.run_script(tasks, policy="rfc-v2", engine=engine)
    assert r.hp_waits() == [2 * MS - 1200 * US]


def test_script_errors_name_the_field():
    with pytest.raises(mcsim.ParameterError, match=r"task\[0\]\.kind"):
        mcsim.run_script([{"at": 0, "kind": "reader"}])
    with pytest.raises(mcsim.ParameterError, match=r"task\[0\]\.hold"):
        mcsim.run_script([{"at": 0, "kind": "fault", "hold": "1ms"}])
    with pytest.raises(mcsim.ParameterError, match="time order"):
        mcsim.run_script([{"at": "2ms", "kind": "writer"}, {"at": "1ms", "kind": "writer"}])
