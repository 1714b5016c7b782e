"""docs/model.md stays in step with the code: its parameter table lists every row of
mcsim.params.PARAMS (name, unit, default, in order), its policy table every row of
mcsim.policies.POLICY_LIST (which steps hold L, whether the page is kept) and its presets
table every row of mcsim.kernels.KERNEL_LIST (every field the engines receive)."""
from pathlib import Path

from mcsim.kernel_docs import PRESET_COLUMNS, presets_table
from mcsim.kernels import KERNEL_LIST
from mcsim.params import PARAMS
from mcsim.policies import POLICY_LIST, STEP_COLUMNS

DOC = Path(__file__).resolve().parents[1] / "docs" / "model.md"


def table_rows(name):
    """Cells of the data rows of the Markdown table between <!-- name:begin/end -->."""
    text = DOC.read_text(encoding="utf-8")
    start = text.index(f"<!-- {name}:begin -->")
    end = text.index(f"<!-- {name}:end -->", start)
    lines = [ln.strip() for ln in text[start:end].splitlines() if ln.strip().startswith("|")]
    rows = [[c.strip() for c in ln.strip("|").split("|")] for ln in lines[2:]]
    assert rows, f"no rows in the {name} table"
    return rows


def unquote(cell):
    assert cell.startswith("`") and cell.endswith("`"), cell
    return cell[1:-1]


def test_parameter_table_matches_params():
    rows = table_rows("params")
    assert [unquote(r[0]) for r in rows] == [p.name for p in PARAMS]
    for row, p in zip(rows, PARAMS):
        assert row[1] == (p.unit or "—"), p.name
        assert unquote(row[2]) == str(p.default), p.name
        assert row[3], f"{p.name}: no reason given for the default"


def test_policy_table_matches_policies():
    rows = table_rows("policies")
    assert [unquote(r[0]) for r in rows] == [p.name for p in POLICY_LIST]
    for row, p in zip(rows, POLICY_LIST):
        assert len(row) == 3 + len(STEP_COLUMNS), p.name
        assert [c == "L" for c in row[2:-1]] == list(p.locked), p.name
        assert all(c in ("L", "–") for c in row[2:-1]), p.name
        assert row[-1] == ("yes" if p.keeps_page else "no"), p.name


def test_presets_table_is_the_generated_one():
    """The table between the kernels markers is exactly what mcsim.kernel_docs generates."""
    doc = [" | ".join(r) for r in table_rows("kernels")]
    generated = [ln.strip("|").strip() for ln in presets_table()[2:]]
    assert doc == [" | ".join(c.strip() for c in g.split("|")) for g in generated]


def test_presets_table_matches_kernel_list():
    """Read back cell by cell against the Kernel rows themselves, so a wrong generator
    cannot hide behind the comparison above."""
    rows = table_rows("kernels")
    assert [unquote(r[0]) for r in rows] == [k.name for k in KERNEL_LIST]
    col = {name: i for i, name in enumerate(PRESET_COLUMNS)}
    steps = slice(col["miss: submit"], col["dirty throttling"] + 1)
    lock = {"mmap": "mmap", "VMA": "vma"}
    for row, k in zip(rows, KERNEL_LIST):
        assert len(row) == len(PRESET_COLUMNS), k.name
        assert unquote(row[col["rwsem era"]]) == k.era, k.name
        assert all(c in ("L", "–") for c in row[steps]), k.name
        assert [c == "L" for c in row[steps]] == list(k.locked), k.name
        assert row[col["page kept"]] == ("yes" if k.keeps_page else "no"), k.name
        assert row[col["dirty drop ends fault"]] == ("yes" if k.dirty_completes else "no")
        assert lock[row[col["pass-1 lock"]]] == k.first_lock, k.name
        assert lock[row[col["retry lock"]]] == k.retry_lock, k.name
        assert row[col["retry TRIED"]] == ("if major" if k.tried_on_major else "always")
        assert row[col["VMA writers"]] == ("yes" if k.vma_writers else "no"), k.name
        assert int(row[col["HP reads: acquisitions"]]) == k.hp_acquisitions, k.name
        assert lock[row[col["HP lock"]]] == k.hp_lock, k.name
