"""Every row is checked against the form: required, types, options, lengths, URLs; values coerced for Dify."""

from __future__ import annotations

from typing import Any

import pytest

from engine.models import FieldType, FormField, InputForm, SheetLimits
from engine.sheets.reading import MAX_PROBLEMS, read_sheet
from tests.bench.sheets import xlsx_bytes


def one(field: FormField, value: Any) -> tuple[dict[str, Any], list[str]]:
    """Read a one-column sheet holding ``value`` under ``field``; return the inputs and problem messages."""
    parsed = read_sheet(xlsx_bytes([[field.label], [value]]), "t.xlsx", InputForm((field,)), SheetLimits())
    assert all(p.row == 2 and p.column == field.label for p in parsed.problems)
    return parsed.rows[0].inputs, [p.message for p in parsed.problems]


NUM = FormField("n", "N", FieldType.NUMBER)
BOX = FormField("b", "B", FieldType.CHECKBOX)
SEL = FormField("s", "S", FieldType.SELECT, options=("Red", "Green blue"))
TXT = FormField("t", "T", FieldType.TEXT_INPUT, max_length=5)
JSN = FormField("j", "J", FieldType.JSON_OBJECT)
FIL = FormField("f", "F", FieldType.FILE)
FLS = FormField("fl", "FL", FieldType.FILE_LIST, max_length=2)


@pytest.mark.parametrize(
    ("field", "cell", "expected"),
    [
        (NUM, 3.0, 3),
        (NUM, 2.5, 2.5),
        (NUM, " 42 ", 42),
        (NUM, "1e3", 1000),
        (NUM, "-0.25", -0.25),
        (BOX, True, True),
        (BOX, "yes", True),
        (BOX, "FALSE", False),
        (BOX, 0.0, False),
        (BOX, "1", True),
        (BOX, "否", False),
        (SEL, "Red", "Red"),
        (SEL, "green BLUE", "Green blue"),
        (TXT, "12345", "12345"),
        (TXT, "中文五个字", "中文五个字"),
        (JSN, '{"a": [1, 2], "名": "值"}', {"a": [1, 2], "名": "值"}),
        (FIL, " https://x.example/a.pdf ", "https://x.example/a.pdf"),
        (
            FLS,
            "https://a.example/1.png\nhttp://b.example/2.png",
            ["https://a.example/1.png", "http://b.example/2.png"],
        ),
        (
            FLS,
            "https://a.example/1.png, https://b.example/2.png",
            ["https://a.example/1.png", "https://b.example/2.png"],
        ),
    ],
)
def test_good_cells_are_coerced_for_dify(field: FormField, cell: Any, expected: Any) -> None:
    inputs, problems = one(field, cell)
    assert problems == []
    assert inputs == {field.variable: expected}
    assert type(inputs[field.variable]) is type(expected)


@pytest.mark.parametrize(
    ("field", "cell", "says"),
    [
        (NUM, "abc", "must be a number, got 'abc'"),
        (NUM, True, "not TRUE/FALSE"),
        (NUM, "nan", "finite"),
        (BOX, "maybe", "must be TRUE or FALSE"),
        (BOX, 2, "must be TRUE or FALSE"),
        (SEL, "Purple", "'Purple' is not one of the options: 'Red', 'Green blue'"),
        (TXT, "123456", "too long: 6 characters, the limit is 5"),
        (JSN, "{oops", "not valid JSON"),
        (JSN, "[1, 2]", "must be a JSON object"),
        (FIL, "ftp://x.example/a", "is not an http(s) URL"),
        (FIL, "https://a.example/1 https://a.example/2", "exactly one"),
        (FIL, "C:\\docs\\a.pdf", "not an http(s) URL"),
        (
            FLS,
            "https://a.example/1 https://a.example/2 https://a.example/3",
            "at most 2 files allowed, found 3",
        ),
        (FLS, "https://a.example/1 not-a-url", "'not-a-url' is not an http(s) URL"),
    ],
)
def test_bad_cells_are_problems_with_a_reason(field: FormField, cell: Any, says: str) -> None:
    inputs, problems = one(field, cell)
    assert inputs == {}
    assert len(problems) == 1
    assert says in problems[0]


def test_required_empty_cell_is_a_problem_and_optional_is_omitted() -> None:
    form = InputForm(
        (FormField("a", "A", FieldType.TEXT_INPUT, required=True), FormField("b", "B", FieldType.NUMBER))
    )
    parsed = read_sheet(
        xlsx_bytes([["A", "B"], [None, None, "x"], ["ok", None]]), "t.xlsx", form, SheetLimits()
    )
    assert [(p.sheet, p.row, p.column, p.message) for p in parsed.problems[:1]] == [
        ("Sheet1", 2, "A", "required, but the cell is empty")
    ]
    assert parsed.rows[1].inputs == {"a": "ok"}
    assert not parsed.ok


def test_every_row_is_checked_not_just_the_first_bad_one() -> None:
    rows = [["N"], ["x"], [1], ["y"], [2]]
    parsed = read_sheet(xlsx_bytes(rows), "t.xlsx", InputForm((NUM,)), SheetLimits())
    assert [p.row for p in parsed.problems] == [2, 4]
    assert len(parsed.rows) == 4  # bad rows are kept so the annotated copy can show them


def test_problem_list_is_capped_with_a_count_of_the_rest() -> None:
    n = MAX_PROBLEMS + 5
    data = ("N\n" + "x\n" * n).encode()
    parsed = read_sheet(data, "t.csv", InputForm((NUM,)), SheetLimits(max_rows=n))
    assert len(parsed.problems) == MAX_PROBLEMS + 1
    assert parsed.problems[-1].message == "…and 5 more problems not listed"
