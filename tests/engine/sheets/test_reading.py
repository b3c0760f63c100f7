"""Reading sheets: formats, encodings, header matching, blank rows, formulas, file-level refusals."""

from __future__ import annotations

from datetime import date

import pytest

from engine.errors import SheetError
from engine.models import AppType, FieldType, FormField, InputForm, SheetLimits
from engine.sheets.reading import read_sheet
from tests.bench.sheets import patch_member, xlsx_bytes

FORM = InputForm(
    (
        FormField("title", "Title", FieldType.TEXT_INPUT, required=True),
        FormField("lang", "目标语言", FieldType.SELECT, options=("英语", "日语")),
        FormField("count", "Count", FieldType.NUMBER),
    )
)
LIMITS = SheetLimits(max_rows=50)


def read(data: bytes, name: str = "in.xlsx", form: InputForm = FORM, limits: SheetLimits = LIMITS):  # type: ignore[no-untyped-def]
    return read_sheet(data, name, form, limits)


def test_xlsx_rows_become_dify_inputs() -> None:
    parsed = read(xlsx_bytes([["Title", "目标语言", "Count"], ["你好", "日语", 3.0], ["x", None, 2.5]]))
    assert parsed.ok, parsed.problems
    assert parsed.columns == ("Title", "目标语言", "Count")
    assert [r.inputs for r in parsed.rows] == [
        {"title": "你好", "lang": "日语", "count": 3},
        {"title": "x", "count": 2.5},  # empty optional cell left out so Dify applies its default
    ]
    assert isinstance(parsed.rows[0].inputs["count"], int)
    assert [r.sheet_row for r in parsed.rows] == [2, 3]
    assert parsed.rows[1].cells == ("x", None, 2.5)


@pytest.mark.parametrize("header", ["title", "TITLE", " T i t l e ", "Title *"])
def test_headers_match_by_label_or_variable_ignoring_case_and_space(header: str) -> None:
    parsed = read(xlsx_bytes([["count", header, "Notes"], [1, "hi", "keep me"]]))
    assert parsed.ok
    assert parsed.rows[0].inputs == {"title": "hi", "count": 1}
    assert parsed.extra_columns == ("Notes",)
    assert parsed.rows[0].cells == (1, "hi", "keep me")


def test_a_label_wins_over_another_fields_variable_name() -> None:
    form = InputForm((FormField("a", "b", FieldType.TEXT_INPUT), FormField("b", "Bee", FieldType.TEXT_INPUT)))
    parsed = read(xlsx_bytes([["b", "Bee"], ["to a", "to b"]]), form=form)
    assert parsed.rows[0].inputs == {"a": "to a", "b": "to b"}


def test_blank_rows_are_skipped_counted_and_row_numbers_stay_true() -> None:
    rows = [[None], [None, None], ["Title"], ["a"], [None], ["  "], ["b"], [None], [None]]
    parsed = read(xlsx_bytes(rows))
    assert [(r.sheet_row, r.inputs["title"]) for r in parsed.rows] == [(4, "a"), (7, "b")]
    assert parsed.blank_rows == 2  # trailing blanks are not "in" the data


def test_leading_empty_columns_keep_positions() -> None:
    parsed = read(xlsx_bytes([[None, "Title"], [None, "x"]]))
    assert parsed.rows[0].inputs == {"title": "x"}


def test_formula_cells_count_as_their_cached_value_or_empty() -> None:
    data = xlsx_bytes([["Title", "Count"], ["a", "=1+1"], ["b", "=2+2"]])
    # openpyxl cannot store cached values, so write one in as Excel would
    data = patch_member(
        data,
        "xl/worksheets/sheet1.xml",
        lambda xml: xml.replace(b"<f>1+1</f><v />", b"<f>1+1</f><v>2</v>", 1),
    )
    parsed = read(data)
    assert [r.inputs for r in parsed.rows] == [{"title": "a", "count": 2}, {"title": "b"}]


def test_dates_and_numbers_in_text_columns_become_text() -> None:
    form = InputForm((FormField("t", "T", FieldType.TEXT_INPUT), FormField("u", "U", FieldType.PARAGRAPH)))
    parsed = read(xlsx_bytes([["T", "U"], [123.0, date(2024, 1, 2)], [1.5, True]]), form=form)
    assert [r.inputs for r in parsed.rows] == [{"t": "123", "u": "2024-01-02"}, {"t": "1.5", "u": "TRUE"}]
    assert parsed.rows[0].cells == (123, "2024-01-02")


def test_a_sheet_named_like_the_template_is_preferred() -> None:
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.append(["notes"])
    wb.create_sheet("inputs").append(["Title"])
    wb["inputs"].append(["from inputs"])
    import io

    buf = io.BytesIO()
    wb.save(buf)
    parsed = read(buf.getvalue())
    assert parsed.sheet_name == "inputs"
    assert parsed.rows[0].inputs == {"title": "from inputs"}


@pytest.mark.parametrize(
    "encoded",
    [
        "Title,目标语言\n你好,日语\n".encode(),
        "Title,目标语言\n你好,日语\n".encode("utf-8-sig"),
        "Title,目标语言\n你好,日语\n".encode("gb18030"),
        "Title;目标语言\r\n你好;日语\r\n".encode("gb18030"),
        "Title\t目标语言\n你好\t日语\n".encode("utf-16"),
    ],
)
def test_csv_encodings_and_delimiters(encoded: bytes) -> None:
    parsed = read(encoded, "in.csv")
    assert parsed.ok, parsed.problems
    assert parsed.rows[0].inputs == {"title": "你好", "lang": "日语"}


def test_csv_keeps_text_as_typed_and_counts_blank_records() -> None:
    parsed = read(b'Title,Count\n007,12\n,\n"multi\nline",3\n', "in.csv")
    assert [r.inputs for r in parsed.rows] == [
        {"title": "007", "count": 12},
        {"title": "multi\nline", "count": 3},
    ]
    assert [r.sheet_row for r in parsed.rows] == [2, 4]
    assert parsed.blank_rows == 1


def test_chat_apps_need_a_query_column_that_goes_to_query() -> None:
    form = InputForm((FormField("title", "Title", FieldType.TEXT_INPUT),), AppType.CHAT)
    parsed = read(xlsx_bytes([["Query", "Title"], ["how?", "t"], [None, "u"]]), form=form)
    assert parsed.rows[0].query == "how?"
    assert parsed.rows[0].inputs == {"title": "t"}
    assert [(p.row, p.column) for p in parsed.problems] == [(3, "Query")]
    with pytest.raises(SheetError, match=r"'query' \(query\)"):
        read(xlsx_bytes([["Title"], ["t"]]), form=form)


def test_missing_required_header_names_it() -> None:
    with pytest.raises(SheetError, match=r"missing: 'Title' \(title\)") as info:
        read(xlsx_bytes([["Count", "Other"], [1, 2]]))
    assert info.value.problems == ("missing column Title (title)",)


def test_two_columns_for_one_field_are_refused() -> None:
    with pytest.raises(SheetError, match="both mean"):
        read(xlsx_bytes([["Title", "title"], ["a", "b"]]))


@pytest.mark.parametrize("rows", [[], [[None, None], [None]]])
def test_empty_sheet_is_refused(rows: list[list[object]]) -> None:
    with pytest.raises(SheetError, match="empty"):
        read(xlsx_bytes(rows))


def test_header_only_sheet_reads_as_no_rows() -> None:
    parsed = read(xlsx_bytes([["Title"]]))
    assert parsed.ok
    assert parsed.rows == ()


def test_too_many_rows_is_refused_but_blank_rows_do_not_count() -> None:
    rows = [["Title"]] + [["x"], [None]] * 3
    assert len(read(xlsx_bytes(rows), limits=SheetLimits(max_rows=3)).rows) == 3
    with pytest.raises(SheetError, match="more than 2 data rows"):
        read(xlsx_bytes(rows), limits=SheetLimits(max_rows=2))


def test_data_under_no_header_is_kept_and_flagged() -> None:
    parsed = read(xlsx_bytes([["Title"], ["a", None, "stray"]]))
    assert parsed.columns == ("Title", "Column B", "Column C")
    assert parsed.rows[0].cells == ("a", None, "stray")
    assert [(p.row, p.column) for p in parsed.problems] == [(2, "Column C")]


def test_unreadable_workbook_gives_a_clear_error() -> None:
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600
    with pytest.raises(SheetError, match="could not be read as a xls workbook"):
        read(ole, "old.xls")
