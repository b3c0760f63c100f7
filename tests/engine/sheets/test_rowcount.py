"""Files over the row limit are refused by counting, before any reader loads them."""

from __future__ import annotations

import io
import re
import zipfile

import pytest

from engine.errors import SheetError
from engine.models import SheetLimits
from engine.sheets.filecheck import check_file
from engine.sheets.template import template_workbook
from tests.bench.sheets import patch_member, xlsx_bytes
from tests.engine.sheets.test_workbook import FORM

LIMIT = SheetLimits(max_rows=5)


def _csv(lines: list[str]) -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def test_a_csv_one_row_over_is_refused_naming_the_limit_and_setting() -> None:
    with pytest.raises(SheetError) as refused:
        check_file(_csv(["Title", *(f"r{i}" for i in range(6))]), "big.csv", LIMIT)
    assert "more than 5 data rows" in str(refused.value)
    assert "[limits] max_rows" in str(refused.value)
    check_file(_csv(["Title", *(f"r{i}" for i in range(5))]), "ok.csv", LIMIT)


def test_csv_blank_lines_and_newlines_inside_quotes_do_not_count() -> None:
    lines = ["Title", *('"line one\nline two\nline three"' for _ in range(5)), *([""] * 20), ",,"]
    check_file(_csv(lines), "quoted.csv", LIMIT)


def test_gb18030_csv_is_counted_too() -> None:
    text = "\r\n".join(["标题", *(f"第{i}行" for i in range(7))]).encode("gb18030")
    with pytest.raises(SheetError, match=re.escape("[limits] max_rows")):
        check_file(text, "gb.csv", LIMIT)


def test_an_xlsx_whose_dimension_lies_is_counted_while_it_inflates() -> None:
    data = xlsx_bytes([["Title"], *([f"r{i}"] for i in range(8))])
    sheet = "xl/worksheets/sheet1.xml"
    small = b'<dimension ref="A1:A2"'
    lying = patch_member(data, sheet, lambda xml: re.sub(rb'<dimension ref="[^"]+"', small, xml))
    assert small in zipfile.ZipFile(io.BytesIO(lying)).read(sheet)
    with pytest.raises(SheetError, match="more than 5 data rows"):
        check_file(lying, "lying.xlsx", LIMIT)


def test_xlsx_rows_without_values_do_not_count() -> None:
    rows: list[list[object]] = [["Title"], *([f"r{i}"] for i in range(5)), *([None] for _ in range(30))]
    data = xlsx_bytes(rows)
    # formatted but empty rows, as Excel writes them after a row was cleared
    padded = patch_member(
        data,
        "xl/worksheets/sheet1.xml",
        lambda xml: xml.replace(b"</sheetData>", b"".join(
            b'<row r="%d" s="1" customFormat="1"><c r="A%d" s="1"/></row>' % (i, i) for i in range(50, 80)
        ) + b"</sheetData>"),
    )
    check_file(padded, "padded.xlsx", LIMIT)


def test_the_template_counts_its_inputs_sheet_not_the_about_sheet() -> None:
    # the About sheet has a row per column; the Inputs sheet only its header
    check_file(template_workbook("summarize", FORM), "t.xlsx", SheetLimits(max_rows=1))
