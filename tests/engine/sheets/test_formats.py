"""Real .xls (BIFF8) and .ods workbooks, written by other producers, read through calamine.

The .xls is written by xlwt, an independent BIFF writer; the .ods is assembled from its
OpenDocument parts the way LibreOffice lays them out (``mimetype`` first and stored)."""

from __future__ import annotations

import io
import zipfile
from xml.sax.saxutils import escape

import pytest
import xlwt  # type: ignore[import-untyped]

from engine.errors import SheetError
from engine.models import FieldType, FormField, InputForm, SheetLimits
from engine.sheets.filecheck import FileKind, sniff_kind
from engine.sheets.reading import read_sheet

FORM = InputForm(
    (
        FormField("title", "Title", FieldType.TEXT_INPUT, required=True),
        FormField("lang", "目标语言", FieldType.SELECT, options=("英语", "日语")),
        FormField("count", "Count", FieldType.NUMBER),
    )
)
LIMITS = SheetLimits(max_rows=50)
ROWS: list[list[object]] = [["Title", "目标语言", "Count"], ["你好", "日语", 3], ["second", None, 2.5]]


def xls_bytes(rows: list[list[object]], sheet: str = "Products") -> bytes:
    book = xlwt.Workbook(encoding="utf-8")
    ws = book.add_sheet(sheet)
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is not None:
                ws.write(r, c, value)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


_ODS_NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'office:version="1.2"'
)


def _ods_cell(value: object) -> str:
    if value is None:
        return "<table:table-cell/>"
    if isinstance(value, int | float):
        return (
            f'<table:table-cell office:value-type="float" office:value="{value}">'
            f"<text:p>{value}</text:p></table:table-cell>"
        )
    text = escape(str(value))
    return f'<table:table-cell office:value-type="string"><text:p>{text}</text:p></table:table-cell>'


def ods_bytes(rows: list[list[object]], sheet: str = "Products") -> bytes:
    body = "".join(
        "<table:table-row>" + "".join(_ods_cell(v) for v in row) + "</table:table-row>" for row in rows
    )
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {_ODS_NS}>'
        f'<office:body><office:spreadsheet><table:table table:name="{escape(sheet)}">{body}'
        "</table:table></office:spreadsheet></office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" '
        'manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" '
        'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet", zipfile.ZIP_STORED)
        zf.writestr("META-INF/manifest.xml", manifest, zipfile.ZIP_DEFLATED)
        zf.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
    return buf.getvalue()


@pytest.mark.parametrize(("make", "name", "kind"), [
    (xls_bytes, "products.xls", FileKind.XLS),
    (ods_bytes, "products.ods", FileKind.ODS),
])
def test_xls_and_ods_rows_become_dify_inputs(make, name: str, kind: FileKind) -> None:  # type: ignore[no-untyped-def]
    data = make(ROWS)
    assert sniff_kind(data, name) is kind

    parsed = read_sheet(data, name, FORM, LIMITS)

    assert parsed.ok, parsed.problems
    assert parsed.sheet_name == "Products"
    assert parsed.columns == ("Title", "目标语言", "Count")
    assert [r.inputs for r in parsed.rows] == [
        {"title": "你好", "lang": "日语", "count": 3},
        {"title": "second", "count": 2.5},
    ]
    assert isinstance(parsed.rows[0].inputs["count"], int), "a whole float from the workbook is sent as int"
    assert [r.sheet_row for r in parsed.rows] == [2, 3]


@pytest.mark.parametrize("make", [xls_bytes, ods_bytes])
def test_xls_and_ods_rows_are_checked_against_the_form(make) -> None:  # type: ignore[no-untyped-def]
    data = make([["Title", "目标语言"], ["ok", "英语"], [None, "法语"]])

    parsed = read_sheet(data, "bad." + ("xls" if make is xls_bytes else "ods"), FORM, LIMITS)

    assert not parsed.ok
    assert {(p.row, p.column) for p in parsed.problems} == {(3, "Title"), (3, "目标语言")}


def test_a_named_xls_that_is_really_text_is_refused_with_a_reason() -> None:
    with pytest.raises(SheetError, match=r"named \.xls but is not an Excel/ODS workbook"):
        read_sheet(b"Title\nhello\n", "products.xls", FORM, LIMITS)
