"""mcsim.trace.returns: R - W after each release that ends a fault, on an excerpt of a real
`mcsim repro --path mkwrite --delay 5ms --trace FILE` recording (docs/traces.md, "The
fixtures"), every value derived by hand from the fixture's timestamps."""
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from mcsim.errors import ParameterError
from mcsim.trace.returns import Returns, returns

FIXTURE = Path(__file__).parent / "data" / "returns_6.18.trace"
WRITER, READER = 7574, 7575


def ns(a: str, b: str) -> int:
    """b - a in ns, from the fixture's seconds."""
    return int((Decimal(b) - Decimal(a)) * 10**9)


def lines():
    return FIXTURE.read_text().splitlines()


#: Per cycle, from the fixture: the writer's madvise() (enter, exit), the reader's
#: pread64() return right after, the writer's next mmap_lock request after its exit, the
#: reader's next request after its pread64() return.
CYCLES = [
    ("63488.607721", "63488.611774", "63488.611783", "63488.612862", "63488.612864"),
    ("63488.612861", "63488.617985", "63488.617994", "63488.619081", "63488.619059"),
    ("63488.619080", "63488.624208", "63488.624221", "63488.625291", "63488.625289"),
    ("63488.625290", "63488.630416", "63488.630443", "63488.631491", "63488.631513"),
]


def test_the_fixture_holds_the_stamps_the_expectations_use():
    text = FIXTURE.read_text()
    for enter, done, r_exit, w_req, r_req in CYCLES:
        assert f"target-{WRITER}    [001] ..... {enter}: sys_madvise(" in text or \
            f"target-{WRITER}    [000] ..... {enter}: sys_madvise(" in text
        assert f"{done}: sys_madvise -> 0x0" in text
        assert f"{r_exit}: sys_pread64 -> 0x10e" in text
        assert f"{w_req}: mmap_lock_start_locking" in text and "write=true" in text
        assert f"{r_req}: mmap_lock_start_locking" in text
    # the one short call (3 us) between the cycles, and the last call without its return
    assert "63488.631490: sys_madvise(" in text and "63488.631493: sys_madvise -> 0x0" in text
    assert "63488.632564: sys_madvise(" in text


def test_four_cycles_derived_by_hand():
    r = returns(lines())
    assert (r.writer, r.reader, r.unreleased) == (WRITER, READER, 0)
    expected = [ns(w_req, r_req) for _, _, _, w_req, r_req in CYCLES]
    assert expected == [2_000, -22_000, -2_000, 22_000]
    assert r.r_minus_w_ns.tolist() == expected
    assert r.reader_first == 0.5
    assert r.quantiles_us((25, 50, 75)) == {25: -7.0, 50: 0.0, 75: 7.0}
    assert r.summary().startswith("R - W after a release: 4 cycles (0 long writer calls")


def test_min_wait_picks_the_calls_that_waited():
    # the first call took 4.053 ms, the other three 5.124, 5.128 and 5.126 ms
    assert [ns(e, d) for e, d, *_ in CYCLES] == [4_053_000, 5_124_000, 5_128_000, 5_126_000]
    assert returns(lines(), min_wait_ns=5_000_000).r_minus_w_ns.tolist() == [
        -22_000, -2_000, 22_000]
    assert returns(lines(), min_wait_ns=6_000_000).r_minus_w_ns.size == 0
    # with no minimum the 3 us call at .631490 counts too, and the read that returned
    # 24 us after it (.631517, a read that never waited) passes for a released one: the
    # minimum is what keeps such calls out
    r = returns(lines(), min_wait_ns=0)
    assert r.unreleased == 0
    assert r.r_minus_w_ns.tolist()[4:] == [ns("63488.632565", "63488.632587")] == [22_000]


def test_window_decides_which_reads_were_released():
    # the reader's read returned 9, 9, 13 and 27 us after the writer's call
    assert [ns(d, x) for _, d, x, _, _ in CYCLES] == [9_000, 9_000, 13_000, 27_000]
    r = returns(lines(), window_ns=10_000)
    assert r.r_minus_w_ns.tolist() == [2_000, -22_000] and r.unreleased == 2
    assert returns(lines(), window_ns=27_000).r_minus_w_ns.size == 4


def test_threads_given_or_unknown():
    assert returns(lines(), writer=WRITER, reader=READER).r_minus_w_ns.size == 4
    # the roles swapped: the reader makes no madvise() call, so there is no cycle
    assert returns(lines(), writer=READER, reader=WRITER).r_minus_w_ns.size == 0
    with pytest.raises(ParameterError, match=r"^writer: 99 has no event in the trace; allowed: "):
        returns(lines(), writer=99)
    with pytest.raises(ParameterError, match=r"^reader: 98 has no event"):
        returns(lines(), reader=98)


@pytest.mark.parametrize("kw", [{"min_wait_ns": -1}, {"window_ns": 1.5}, {"window_ns": True},
                                {"min_wait_ns": "1ms"}])
def test_bad_bounds_are_one_line_errors(kw):
    with pytest.raises(ParameterError) as err:
        returns(lines(), **kw)
    (name,) = kw
    message = str(err.value)
    assert message.startswith(f"{name}: ") and "allowed: an integer number of ns" in message
    assert "\n" not in message


def test_no_writer_in_the_trace():
    only_reader = [line for line in lines() if "target-" not in line]
    r = returns(only_reader)
    assert r.writer is None and r.reader == READER and r.r_minus_w_ns.size == 0
    assert r.reader_first is None and r.quantiles_us() == {}
    assert r.summary() == ("R - W after a release: 0 cycles (0 long writer calls without "
                           "the reader released)")


def test_trace_cmd_report_lines_give_the_same_answer():
    """The same events as `trace-cmd report -t` prints them (ns timestamps, syscalls as
    sys_enter_NAME / sys_exit_NAME)."""
    tc = []
    for line in lines():
        if "sys_madvise(" in line or "sys_pread64(" in line:
            head, _, rest = line.partition(": sys_")
            call, _, args = rest.partition("(")
            tc.append(f"{head}000: sys_enter_{call}: {args.rstrip(')')}")
        elif " -> " in line:
            head, _, rest = line.partition(": sys_")
            call, _, ret = rest.partition(" -> ")
            tc.append(f"{head}000: sys_exit_{call}: {ret}")
        elif ": mmap_lock_" in line:
            head, _, rest = line.partition(": mmap_lock_")
            tc.append(f"{head}000: mmap_lock_{rest}")
    assert returns(tc).r_minus_w_ns.tolist() == [2_000, -22_000, -2_000, 22_000]


def test_returns_of_an_empty_array():
    r = Returns(np.zeros(0, np.int64), None, None)
    assert r.reader_first is None and r.summary().startswith("R - W after a release: 0 cycles")
