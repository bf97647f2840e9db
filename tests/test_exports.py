"""Credit exports: CSV cells that a spreadsheet would run as formulas are neutralised."""

from __future__ import annotations

import csv
import io

from hypothesis import given
from hypothesis import strategies as st

from archive.outputs.exports import FORMULA_STARTS, csv_text, spreadsheet_safe

# Texts as metadata brings them: anything, often starting with a formula character.
texts = st.one_of(st.text(), st.builds(str.__add__, st.sampled_from(FORMULA_STARTS),
                                       st.text()))
cells = st.one_of(st.none(), st.integers(), texts)


@given(texts)
def test_spreadsheet_safe_only_prefixes_formula_starts(value: str) -> None:
    safe = spreadsheet_safe(value)
    assert not safe.startswith(FORMULA_STARTS)
    assert safe == (f"'{value}" if value.startswith(FORMULA_STARTS) else value)


@given(st.lists(st.tuples(cells, cells, cells), max_size=5))
def test_csv_cells_parse_back_neutralised_and_quoted(rows: list[tuple]) -> None:
    columns = ("a", "b", "c")
    text = csv_text([dict(zip(columns, row, strict=True)) for row in rows], columns)
    parsed = list(csv.reader(io.StringIO(text, newline="")))
    assert parsed[0] == list(columns)
    expected = [["" if v is None else str(spreadsheet_safe(v)) for v in row] for row in rows]
    assert parsed[1:] == expected
    for row, original in zip(parsed[1:], rows, strict=True):
        assert not any(cell.startswith(FORMULA_STARTS)
                       for cell, value in zip(row, original, strict=True)
                       if isinstance(value, str))
    # Every field is quoted, so a cell starts with the quote, never with what it holds.
    quoted = "".join(",".join('"' + cell.replace('"', '""') + '"' for cell in row) + "\n"
                     for row in expected)
    assert text == "a,b,c\n" + quoted
