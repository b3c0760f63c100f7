"""Columns wide enough for what they show, found by opening the workbooks in LibreOffice: a
date column was sized for its ISO text and showed ``###`` once written as a date-time, and the
comparison's ``status [summarize-v2]`` headers were wrapped into cells a third their width."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import datetime

from openpyxl import load_workbook

from engine.sheets.compare_sheet import ComparisonWriter
from engine.sheets.results import write_results
from tests.engine.sheets.test_excel_schema import sample_batch, sample_rows


def test_a_day_stays_a_day_and_its_column_fits_it() -> None:
    rows = sample_rows()
    rows[0] = replace(rows[0], cells=("t0", "2026-03-04T05:06:07"))  # one date-time among days
    buf = io.BytesIO()
    write_results(buf, sample_batch(), rows)
    sheet = load_workbook(buf)["Results"]
    day = sheet["B3"]
    assert day.value == datetime(2026, 3, 4) and day.number_format == "yyyy-mm-dd"
    assert sheet["B2"].number_format == "yyyy-mm-dd hh:mm:ss"
    width = sheet.column_dimensions["B"].width
    assert width >= len("2026-03-04") + 2


def test_comparison_headers_fit_their_columns() -> None:
    buf = io.BytesIO()
    writer = ComparisonWriter(buf, [sample_batch("b1"), sample_batch("b2", "summarize-v2")], "c1", ["answer"])
    writer.add([list(pair) for pair in zip(sample_rows("b1"), sample_rows("b2"), strict=True)])
    writer.close()
    sheet = load_workbook(buf)["Results"]
    for cell in sheet[1]:
        width = sheet.column_dimensions[cell.column_letter].width
        assert width >= len(str(cell.value)) + 3, (cell.value, width)
