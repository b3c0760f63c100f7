"""What opening the workbooks in LibreOffice showed wrong: a date column sized for its ISO text
showed ``###`` once written as a date-time; the comparison's ``status [summarize-v2]`` headers
wrapped into cells a third their width; the template's select options ran over the row above
and its bold headers came out in a serif; the Problems sheet's sentences were cut at a default
width under a plain header."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import datetime

from openpyxl import load_workbook

from engine.models import FieldType, FormField, InputForm, SheetLimits
from engine.sheets.compare_sheet import ComparisonWriter
from engine.sheets.reading import read_sheet
from engine.sheets.results import write_results
from engine.sheets.template import annotated_copy, template_workbook
from tests.bench.sheets import xlsx_bytes
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


def test_the_template_shows_each_option_on_its_own_line_in_a_named_bold_face() -> None:
    form = InputForm((
        FormField("tone", "Tone", FieldType.SELECT, options=("formal", "casual", "playful")),
        FormField("files", "Photos of the product, front and back", FieldType.FILE_LIST, max_length=3),
    ))
    book = load_workbook(io.BytesIO(template_workbook("summarize", form)))
    header = book["Inputs"]["A1"]
    assert header.font.b and header.font.name == "Calibri"
    about = book["About"]
    options = next(c for row in about.iter_rows() for c in row if c.value == "formal\ncasual\nplayful")
    assert options.alignment.wrap_text
    assert about.row_dimensions[options.row].height == 45
    label = about.cell(options.row + 1, 1).value
    assert about.column_dimensions["A"].width >= len(str(label)) + 2


def test_the_problems_sheet_has_a_bold_frozen_header_and_room_for_its_sentences() -> None:
    form = InputForm((FormField("n", "N", FieldType.NUMBER, required=True),))
    data = xlsx_bytes([["N"], ["abc"]])
    parsed = read_sheet(data, "in.xlsx", form, SheetLimits())
    problems = load_workbook(io.BytesIO(annotated_copy(data, "in.xlsx", parsed)))["Problems"]
    assert all(c.font.b for c in problems[1])
    assert problems.freeze_panes == "A2"
    sentence = str(problems["D2"].value)
    assert problems.column_dimensions["D"].width >= len(sentence)


def test_the_summary_notes_rows_are_tall_enough_for_their_wrapped_sentences() -> None:
    buf = io.BytesIO()
    write_results(buf, sample_batch(), sample_rows())
    summary = load_workbook(buf)["Summary"]
    width = summary.column_dimensions["B"].width
    notes = [c for c in summary["B"] if c.alignment.wrap_text and c.value and not c.font.b]
    assert notes
    for cell in notes:
        lines = -(-len(str(cell.value)) // int(width))
        assert summary.row_dimensions[cell.row].height >= 15 * lines, cell.value
        label = summary.cell(cell.row, 1)
        assert label.font.b and label.alignment.vertical == "top"  # level with the first line
