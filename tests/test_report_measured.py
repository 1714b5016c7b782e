"""`mcsim report` of measured rows: each measured row (a kernel trace, imported) beside
its simulated twins, paired by an ``mcsim repro`` file's ``mcsim.repro_rows`` metadata or
by equal parameters; its numbers and CCDF lines come from the rows, not from pixels.
The measured row is the trace fixture tests/data/mmap_lock_6.18.trace (docs/traces.md
"The fixtures") read by mcsim's importer; no kernel runs here."""
import json
import re
from pathlib import Path

import pyarrow as pa
import pytest

import mcsim
from mcsim import schema
from mcsim.dataset import file_metadata, write_table_atomic
from mcsim.plot import ccdf_points, histogram
from mcsim.trace.importer import import_lines
from mcsim.trace.measured import measured_row
from mcsim.units import format_duration

FIXTURE = Path(__file__).parent / "data" / "mmap_lock_6.18.trace"
TRIALS = 400


@pytest.fixture(scope="module")
def measured():
    lines = FIXTURE.read_text().splitlines()
    return measured_row(import_lines(lines, readers=["hp-reader"]))


@pytest.fixture(scope="module")
def simulated():
    kw = dict(policy="hold", throttle_depth=7, writer_ratio=0.1, trials=TRIALS)
    return [mcsim.simulate(seed=s, **kw).row() for s in (1, 2)]


def _write(path, rows, **meta):
    table = pa.Table.from_pylist(rows, schema=schema.arrow_schema(file_metadata(
        command="test", **meta)))
    write_table_atomic(table, str(path))
    return path


def _measured_block(page: str) -> str:
    start = page.index("<h2>Measured beside simulated</h2>")
    return page[start:page.index("<h2>", start + 4)]


def _row_cells(block: str, name: str) -> list[str]:
    """The cells after the ``name`` cell of the table row whose row-name cell is ``name``
    (the run cell, on a group's first row, comes before it)."""
    for tr in re.findall(r"<tr[^>]*>(.*?)</tr>", block, re.S):
        cells = [re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<td[^>]*>.*?</td>", tr)]
        if name in cells:
            return cells[cells.index(name) + 1:]
    raise AssertionError(f"no row {name!r}")


def _expected(row, base=None):
    """The table's cells for ``row``, computed here from the row's columns: trials, then
    per metric n and p50/p90/p99/max (with ``base``: model − measured, signed)."""
    out = ["" if base else f"{row['trials']:,}"]
    for metric in ("hp_wait", "writer_wait"):
        out.append("" if base else f"{row[f'{metric}_n']:,}")
        for stat in ("p50", "p90", "p99", "max"):
            v = row[f"{metric}_{stat}_ns"]
            if base is None:
                out.append(format_duration(v))
                continue
            d = v - base[f"{metric}_{stat}_ns"]
            out.append("0" if d == 0 else ("+" if d > 0 else "\u2212") + format_duration(abs(d)))
    return out


def test_repro_file_pairs_by_its_metadata(tmp_path, measured, simulated):
    """An `mcsim repro -o` file: the run names its rows; a simulated row of another run
    with the same parameters is not a twin of this measurement."""
    from mcsim.report import write_report

    model, other = simulated
    names = [{"run": "retry D=20ms", "role": "measured"},
             {"run": "retry D=20ms", "role": "model"},
             {"run": "retry D=0", "role": "model"}]
    path = _write(tmp_path / "repro.parquet", [measured, model, other],
                  repro_rows=json.dumps(names), source="measured+simulated")
    page = write_report(path, tmp_path / "r.html").read_text()
    block = _measured_block(page)
    assert len(re.findall(r"<td class=l rowspan=3>retry D=20ms</td>", block)) == 1
    assert "retry D=0" not in block
    assert _row_cells(block, "measured") == _expected(measured)
    assert _row_cells(block, "model") == _expected(model)
    assert _row_cells(block, "\u0394 model \u2212 measured") == _expected(model, measured)
    assert measured["hp_wait_n"] > 0 and measured["writer_wait_n"] > 0
    # the simulated rows keep their own sections; the measured CCDF figure is drawn
    assert "<h2>The numbers</h2>" in page and block.count("<svg") == 1


def test_pairing_by_parameters_without_metadata(tmp_path, measured, simulated):
    """A directory of a measured file and a sweep: no repro metadata, the measured row
    has null parameters (as `mcsim trace import` writes it), so it pairs with the sweep's
    rows only when they are one configuration."""
    from mcsim.plot import twins

    one, two = simulated
    pairs = twins([one, measured, two])
    assert len(pairs) == 1 and [r for _, r in pairs[0].models] == [one, two]
    swept = mcsim.simulate(policy="rfc-v2", throttle_depth=7, writer_ratio=0.1,
                           trials=TRIALS, seed=1).row()
    assert twins([one, swept, measured])[0].models == []
    # with parameters of its own, the measured row's twins are the rows that equal them
    own = {**measured, **{c.name: one[c.name] for c in schema.columns()
                          if c.group == "parameter"}}
    pairs = twins([one, swept, own])
    assert [r for _, r in pairs[0].models] == [one]

    d = tmp_path / "mixed"
    d.mkdir()
    _write(d / "measured.parquet", [measured], source="measured")
    _write(d / "sim.parquet", [one])
    from mcsim.report import write_report

    block = _measured_block(write_report(d, tmp_path / "m.html").read_text())
    assert _row_cells(block, "measured") == _expected(measured)
    assert _row_cells(block, "simulated") == _expected(one)


def test_measured_ccdf_is_drawn_from_its_histogram(measured, simulated):
    """The figure's lines are the rows' exact-histogram CCDFs, measured first."""
    from mcsim.plot import Twin, ccdf_twin

    twin = Twin("run", measured, [("model", simulated[0])])
    fig = ccdf_twin(twin)
    for ax, metric in zip(fig.axes, ("hp_wait", "writer_wait")):
        lines = {line.get_label(): line for line in ax.get_lines()}
        for name, row in (("measured", measured), ("model", simulated[0])):
            xs, ys = ccdf_points(histogram(row, metric))
            if not xs:
                assert name not in lines
                continue
            assert list(lines[name].get_xdata()) == xs
            assert list(lines[name].get_ydata()) == ys


def test_plain_sweep_has_no_measured_section(tmp_path, simulated):
    from mcsim.report import report_html

    page = report_html(simulated[:1], source="x")
    assert "Measured beside simulated" not in page and "<h2>The numbers</h2>" in page


def test_measured_only_table(tmp_path, measured):
    """Only measured rows: the comparison says there is no twin, no traceback."""
    from mcsim.report import write_report

    path = _write(tmp_path / "m.parquet", [measured], source="measured")
    page = write_report(path, tmp_path / "m.html").read_text()
    assert "no simulated twin in this table" in page
    assert "every row of this table was measured" in page
