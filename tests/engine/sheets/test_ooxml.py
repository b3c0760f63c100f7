"""The streaming workbook writer: the inline row path writes exactly what the per-cell path does."""

from __future__ import annotations

from datetime import UTC, date, datetime

from engine.sheets.ooxml import EXCEL_CELL_LIMIT, column_letter, row_cells, value_cell

SAMPLES: list[object] = [
    None, "", "plain", " padded ", "=1+1", "-5", "@x", "\tlead", "a<b>&c", "line\nbreak", "x\x07y",
    "字" * (EXCEL_CELL_LIMIT + 3), "long " * 20, 0, -3, 2**60, 1.5, float("nan"), float("inf"), True,
    False, datetime(2026, 1, 2, 3, 4, 5), datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), date(2026, 1, 2),
]


def test_row_cells_equals_value_cell_for_every_kind_of_value() -> None:
    refs = [column_letter(i) for i in range(len(SAMPLES) + 3)]
    expected = "".join(value_cell(f"{refs[i]}7", v) for i, v in enumerate(SAMPLES, 3))
    assert row_cells(refs, "7", SAMPLES, 3) == expected


def test_column_letters() -> None:
    letters = [column_letter(i) for i in (0, 25, 26, 51, 52, 701, 702)]
    assert letters == ["A", "Z", "AA", "AZ", "BA", "ZZ", "AAA"]
