"""docs/model.md stays in step with the code: its parameter table lists every row of
mcsim.params.PARAMS (name, unit, default, in order) and its policy table every row of
mcsim.policies.POLICY_LIST (which steps hold L, whether the page is kept)."""
from pathlib import Path

from mcsim.params import PARAMS
from mcsim.policies import POLICY_LIST

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
        assert [c == "L" for c in row[2:7]] == list(p.locked), p.name
        assert all(c in ("L", "–") for c in row[2:7]), p.name
        assert row[7] == ("yes" if p.keeps_page else "no"), p.name
