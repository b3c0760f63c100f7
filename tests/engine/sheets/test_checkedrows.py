"""A big sheet's rows: checked a chunk at a time (fast column tests, or cell by cell where
those do not pass), kept as parsed and built when used; the same rows and problems either way."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from engine.context import ContextInput, with_context
from engine.errors import SheetError
from engine.models import FieldType, FormField, InputForm, SheetLimits
from engine.sheets.checkedrows import CHUNK, SheetRows
from engine.sheets.reading import open_table_soon, read_sheet
from tests.bench.sheets import xlsx_bytes

TITLE = FormField("title", "Title", FieldType.PARAGRAPH, required=True, max_length=20)
COUNT = FormField("count", "Count", FieldType.NUMBER, required=True)
NOTE = FormField("note", "Note", FieldType.TEXT_INPUT)
FORM = InputForm((TITLE, COUNT, NOTE))
N = 3 * CHUNK + 100  # several chunks and a part one
LIMITS = SheetLimits(max_rows=10 * N)


def body(n: int = N) -> list[list[Any]]:
    return [[f"t{i}", float(i) + (0.5 if i % 2 else 0.0), f"n{i}"] for i in range(n)]


def read(rows: list[list[Any]], header: tuple[str, ...] = ("Title", "Count", "Note")) -> Any:
    return read_sheet(xlsx_bytes([list(header), *rows]), "big.xlsx", FORM, LIMITS)


def test_every_row_is_built_as_the_sheet_has_it() -> None:
    parsed = read(body())
    assert parsed.ok, parsed.problems[:3]
    assert isinstance(parsed.rows, SheetRows) and len(parsed.rows) == N
    rows = list(parsed.rows)
    assert [r.sheet_row for r in rows] == list(range(2, N + 2))
    assert rows[0].inputs == {"title": "t0", "count": 0, "note": "n0"}
    assert isinstance(rows[0].inputs["count"], int)  # a whole number goes to Dify as one
    assert rows[N - 1].inputs == {"title": f"t{N - 1}", "count": N - 1 + 0.5, "note": f"n{N - 1}"}
    assert rows[7].cells == ("t7", 7.5, "n7")
    assert parsed.rows[N - 1] == rows[N - 1] and parsed.rows[-1] == rows[-1]  # one at a time as well


def test_slices_and_reversed_reading_build_the_same_rows() -> None:
    rows = read(body()).rows
    whole = list(rows)
    assert list(rows[CHUNK - 3 : CHUNK + 3]) == whole[CHUNK - 3 : CHUNK + 3]
    assert list(rows[::-1])[:5] == whole[::-1][:5]
    assert list(rows[::700]) == whole[::700]
    assert rows[:10] == tuple(whole[:10]) and len(rows[:10]) == 10
    assert list(rows[N:]) == []


def test_blank_rows_in_the_middle_are_skipped_and_counted_trailing_ones_are_not() -> None:
    rows: list[list[Any]] = body()
    rows[CHUNK + 5] = [None, None, None]
    rows[2 * CHUNK] = ["   ", None, ""]  # only spaces: blank as well
    rows += [[None, None, None]] * 3
    parsed = read(rows)
    assert parsed.ok and parsed.blank_rows == 2
    assert len(parsed.rows) == N - 2
    built = list(parsed.rows)
    assert built[CHUNK + 5].sheet_row == CHUNK + 5 + 3  # the header, the 1-based row and the blank one
    assert built[CHUNK + 5].inputs["title"] == f"t{CHUNK + 6}"
    assert built[-1].inputs["title"] == f"t{N - 1}"


@pytest.mark.parametrize(
    ("at", "column", "value", "expected"),
    [
        (5, 0, None, "required"),
        (CHUNK + 1, 0, "   ", "required"),
        (2 * CHUNK + 17, 0, "x" * 21, "too long"),
        (3 * CHUNK + 99, 1, "abc", "must be a number"),
        (CHUNK - 1, 1, None, "required"),
        (2 * CHUNK, 1, True, "number"),
    ],
)
def test_a_bad_cell_anywhere_is_found_at_its_row(at: int, column: int, value: Any, expected: str) -> None:
    rows = body()
    rows[at][column] = value
    parsed = read(rows)
    assert [(p.row, p.column) for p in parsed.problems] == [(at + 2, ("Title", "Count")[column])]
    assert expected in parsed.problems[0].message


def test_other_cells_that_are_fine_pass_cell_by_cell() -> None:
    rows = body()
    rows[CHUNK + 3][1] = " 42 "  # text in a number column: a number all the same
    rows[CHUNK + 4][0] = 17.0  # a number in a text column: its text
    rows[CHUNK + 5][2] = None  # an optional cell left empty
    parsed = read(rows)
    assert parsed.ok, parsed.problems
    built = list(parsed.rows)
    assert built[CHUNK + 3].inputs["count"] == 42
    assert built[CHUNK + 4].inputs["title"] == "17"
    assert "note" not in built[CHUNK + 5].inputs


def test_data_under_no_header_deep_in_the_sheet_is_a_problem_and_gets_a_column() -> None:
    rows: list[list[Any]] = body()
    rows[2 * CHUNK + 3] = [*rows[2 * CHUNK + 3], None, "stray"]
    parsed = read(rows)
    assert [(p.row, p.column) for p in parsed.problems] == [(2 * CHUNK + 5, "Column E")]
    assert parsed.columns == ("Title", "Count", "Note", "Column D", "Column E")
    assert parsed.rows[0].cells == ("t0", 0.0, "n0", None, None)


def test_too_many_rows_are_refused_whatever_chunk_they_end_in() -> None:
    data = xlsx_bytes([["Title", "Count", "Note"], *body(CHUNK + 10)])
    assert len(read_sheet(data, "big.xlsx", FORM, SheetLimits(max_rows=CHUNK + 10)).rows) == CHUNK + 10
    with pytest.raises(SheetError, match="more than"):
        read_sheet(data, "big.xlsx", FORM, SheetLimits(max_rows=CHUNK + 9))


def test_context_inputs_are_added_as_each_row_is_built() -> None:
    parsed = read(body())
    wanted = (ContextInput("row_no", "row"), ContextInput("who", "owner", max_length=3))
    filled = with_context(parsed, wanted, batch_id="b1", file="big.xlsx", owner="cli:ann")
    assert isinstance(filled.rows, SheetRows)
    last = filled.rows[N - 1]
    assert last.inputs["row_no"] == str(N + 1) and last.inputs["who"] == "cli"
    assert [r.inputs["row_no"] for r in filled.rows[:3]] == ["2", "3", "4"]
    assert "row_no" not in parsed.rows[0].inputs  # the sheet itself is left as it was


def test_a_sheet_opened_from_its_file_reads_as_from_its_bytes(tmp_path: Path) -> None:
    data = xlsx_bytes([["Title", "Count", "Note"], *body(50)])
    path = tmp_path / "big.xlsx"
    path.write_bytes(data)
    table = open_table_soon(data, path.name, LIMITS, path=path).result(timeout=30)
    from_file = read_sheet(table, path.name, FORM, LIMITS)
    assert from_file == read_sheet(data, path.name, FORM, LIMITS)
    assert len(from_file.rows) == 50


def test_a_refused_file_is_refused_before_any_thread_parses_it(tmp_path: Path) -> None:
    data = xlsx_bytes([["Title", "Count", "Note"], *body(50)])
    with pytest.raises(SheetError, match="more than"):
        open_table_soon(data, "big.xlsx", SheetLimits(max_rows=10), path=None)
