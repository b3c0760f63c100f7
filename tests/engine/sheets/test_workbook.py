"""Written workbooks: template round trip, annotated copy, streamed results with formula-safe text."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

from openpyxl import load_workbook

from engine.models import (
    AppType,
    Batch,
    BatchStatus,
    FieldType,
    FormField,
    InputForm,
    Row,
    RowStatus,
    SheetLimits,
)
from engine.sheets.reading import read_sheet
from engine.sheets.results import write_results
from engine.sheets.sentences import SUMMARY_LABELS
from engine.sheets.template import annotated_copy, template_workbook
from engine.sheets.xlsx import EXCEL_CELL_LIMIT, TRUNCATED_MARK
from tests.bench.sheets import xlsx_bytes

FORM = InputForm(
    (
        FormField("title", "标题", FieldType.TEXT_INPUT, required=True, max_length=20, description="=danger"),
        FormField("lang", "Language", FieldType.SELECT, options=("en", "zh, cn", "=1+1")),
        FormField("n", "Count", FieldType.NUMBER),
        FormField("ok", "OK?", FieldType.CHECKBOX),
        FormField("docs", "Docs", FieldType.FILE_LIST, max_length=3),
        FormField("meta", "Meta", FieldType.JSON_OBJECT),
    ),
    AppType.CHAT,
)
FORMULA_LIKE = ["=cmd|' /C calc'!A0", "+1", "-1", "@SUM(A1)", '=HYPERLINK("http://x")', "#N/A"]


def test_template_reads_back_clean_with_every_header_matched() -> None:
    data = template_workbook("summarize", FORM)
    parsed = read_sheet(data, "summarize-template.xlsx", FORM, SheetLimits())
    assert parsed.ok
    assert parsed.rows == ()
    assert parsed.columns == ("query", "标题", "Language", "Count", "OK?", "Docs", "Meta")
    assert parsed.extra_columns == ()


def test_template_carries_variables_validations_and_about() -> None:
    wb = load_workbook(io.BytesIO(template_workbook("summarize", FORM)))
    ws = wb["Inputs"]
    assert wb.sheetnames[0] == "Inputs"
    assert "variable: title" in ws["B1"].comment.text
    assert "Required" in ws["B1"].comment.text
    assert ws["B1"].fill.fgColor.rgb != ws["C1"].fill.fgColor.rgb  # required is marked, optional not
    kinds = {str(dv.sqref): (dv.type, dv.formula1) for dv in ws.data_validations.dataValidation}
    assert kinds["C2:C1048576"] == ("list", "Lists!$C$1:$C$3")
    assert kinds["D2:D1048576"][0] == "decimal"
    assert kinds["E2:E1048576"] == ("list", '"TRUE,FALSE"')
    assert kinds["B2:B1048576"][0] == "textLength"
    lists = wb["Lists"]
    assert lists.sheet_state == "hidden"
    assert [lists.cell(r, 3).value for r in (1, 2, 3)] == ["en", "zh, cn", "=1+1"]
    assert lists.cell(3, 3).data_type == "s"
    about = [[c.value for c in r] for r in wb["About"].iter_rows(min_row=5)]
    by_var = {r[1]: r for r in about}
    assert by_var["title"][3] == "yes"
    assert by_var["title"][5] == "20 characters"
    assert by_var["title"][7] == "=danger"
    assert wb["About"].cell(5 + 1, 8).data_type == "s"
    assert by_var["docs"][5] == "3 files"
    assert by_var["lang"][4] == "en\nzh, cn\n=1+1"


def test_a_filled_template_runs() -> None:
    wb = load_workbook(io.BytesIO(template_workbook("summarize", FORM)))
    wb["Inputs"].append(["hi", "标题一", "zh, cn", 2, "TRUE", "https://a.example/x", '{"k": 1}'])
    buf = io.BytesIO()
    wb.save(buf)
    parsed = read_sheet(buf.getvalue(), "filled.xlsx", FORM, SheetLimits())
    assert parsed.ok, parsed.problems
    assert parsed.rows[0].query == "hi"
    assert parsed.rows[0].inputs == {
        "title": "标题一",
        "lang": "zh, cn",
        "n": 2,
        "ok": True,
        "docs": ["https://a.example/x"],
        "meta": {"k": 1},
    }


def test_annotated_copy_marks_bad_cells_and_lists_problems() -> None:
    form = InputForm(
        (FormField("n", "N", FieldType.NUMBER, required=True), FormField("t", "T", FieldType.TEXT_INPUT))
    )
    data = xlsx_bytes([["N", "T", "Notes"], ["abc", "@not a formula", "k"], [None], [None, "x"], [5, "y"]])
    parsed = read_sheet(data, "in.xlsx", form, SheetLimits())
    assert len(parsed.problems) == 2
    wb = load_workbook(io.BytesIO(annotated_copy(data, "in.xlsx", parsed)))
    assert wb.sheetnames == ["Sheet1", "Problems"]
    ws = wb["Sheet1"]
    assert ws["A2"].value == "abc"
    assert "must be a number" in ws["A2"].comment.text
    assert ws["A2"].fill.fgColor.rgb.endswith("FFC7CE")
    assert "required" in ws["A4"].comment.text  # true row 4, after a blank row
    assert ws["B2"].value == "@not a formula"  # the copy never turns text into formulas
    assert ws["B2"].data_type == "s"
    assert ws["A5"].comment is None
    assert ws["C2"].value == "k"
    problems = [[c.value for c in r] for r in wb["Problems"].iter_rows()]
    assert problems[0] == ["Sheet", "Row", "Column", "Problem"]
    assert [(p[1], p[2]) for p in problems[1:]] == [(2, "N"), (4, "N")]
    # fixing the copy's first sheet and sending it back is a normal upload
    reparsed = read_sheet(annotated_copy(data, "in.xlsx", parsed), "fixed.xlsx", form, SheetLimits())
    assert [p.row for p in reparsed.problems] == [2, 4]


def test_annotated_copy_of_a_csv() -> None:
    form = InputForm((FormField("n", "N", FieldType.NUMBER),))
    data = "N,备注\nx,中文\n".encode("gb18030")
    parsed = read_sheet(data, "in.csv", form, SheetLimits())
    ws = load_workbook(io.BytesIO(annotated_copy(data, "in.csv", parsed)))["CSV"]
    assert ws["B2"].value == "中文"
    assert ws["A2"].comment is not None


def _batch(columns: tuple[str, ...]) -> Batch:
    t0 = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
    return Batch(
        "b1",
        "summarize",
        "telegram:1",
        BatchStatus.COMPLETED,
        3,
        t0,
        columns=columns,
        source_name="in.xlsx",
        started_at=t0,
        finished_at=t0 + timedelta(seconds=90),
        blank_rows=2,
    )


def _row(i: int, status: RowStatus, outputs: dict[str, object] | None, **kw: object) -> Row:
    return Row("b1", i, i + 2, (f"in{i}", i, None), {}, status=status, outputs=outputs, attempts=1, **kw)  # type: ignore[arg-type]


def _read(buf: io.BytesIO) -> tuple[list[list[object]], list[list[object]], object]:
    wb = load_workbook(io.BytesIO(buf.getvalue()))
    res = [[c.value for c in r] for r in wb["Results"].iter_rows()]
    summary = [[c.value for c in r] for r in wb["Summary"].iter_rows()]
    return res, summary, wb["Results"]


def test_results_columns_outputs_and_summary() -> None:
    rows = [
        _row(
            0,
            RowStatus.SUCCEEDED,
            {"answer": "hi", "title": "clash", "data": {"k": [1, "二"]}},
            elapsed_s=1.23456,
            tokens=10,
            run_id="r0",
        ),
        _row(1, RowStatus.FAILED, None, error="boom", elapsed_s=0.5),
        _row(
            2, RowStatus.SUCCEEDED, {"status": "done", "score": 3.5, "tags": ["a"]}, tokens=5, elapsed_s=2.0
        ),
    ]
    buf = io.BytesIO()
    write_results(buf, _batch(("title", "Count", "Notes")), iter(rows))
    res, summary, _ = _read(buf)
    assert res[0] == [
        "title",
        "Count",
        "Notes",
        "answer",
        "output.title",
        "data",
        "output.status",
        "score",
        "tags",
        "status",
        "error",
        "attempts",
        "elapsed_s",
        "tokens",
        "run_id",
    ]
    assert res[1][:9] == ["in0", 0, None, "hi", "clash", '{"k": [1, "二"]}', None, None, None]
    assert res[1][9:] == ["succeeded", None, 1, 1.235, 10, "r0"]
    assert res[2][9:11] == ["failed", "boom"]
    assert res[3][6:9] == ["done", 3.5, '["a"]']
    s = {r[0]: r[1] for r in summary if r}
    label = SUMMARY_LABELS
    assert s[label["workflow"]] == "summarize"
    assert s[label["owner"]] == "telegram:1"
    assert s[label["rows"]] == 3
    assert s[label["rows_in"].format(status="succeeded")] == 2
    assert s[label["rows_in"].format(status="failed")] == 1
    assert s[label["total_tokens"]] == 15
    assert s[label["wall_time"]] == 90
    assert s[label["blank_rows"]] == 2
    # a real date-time (UTC wall time, the label says so), not ISO text
    assert s[label["started"]] == datetime(2026, 1, 1, 9, 0)
    for column in ("attempts", "elapsed_s", "tokens", "run_id"):
        assert s.get(column), f"the Summary sheet explains {column}"


def test_results_look_header_frozen_filtered_statuses_coloured_dates_real() -> None:
    rows = [
        _row(0, RowStatus.SUCCEEDED, {"answer": "long " * 40, "n": 7}),
        _row(1, RowStatus.FAILED, None, error="boom"),
        _row(2, RowStatus.CANCELLED, None),
        _row(3, RowStatus.PENDING, None),
    ]
    rows[1] = Row("b1", 1, 3, ("2026-13-45", None, None), {}, status=RowStatus.FAILED, error="boom")
    rows[0] = Row("b1", 0, 2, ("2026-03-04", "2026-03-04T05:06:07", "x"), {},
                  status=RowStatus.SUCCEEDED, outputs={"answer": "long " * 40, "n": 7})
    buf = io.BytesIO()
    write_results(buf, _batch(("when", "at", "x")), rows)
    wb = load_workbook(io.BytesIO(buf.getvalue()))
    ws = wb["Results"]
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:K5"
    assert all(c.font.b for c in ws[1])
    assert ws["A2"].value == datetime(2026, 3, 4) and ws["A2"].is_date
    assert ws["B2"].value == datetime(2026, 3, 4, 5, 6, 7) and ws["B2"].is_date
    assert ws["A3"].value == "2026-13-45"  # shaped like a date, but not one: kept as typed
    assert ws["D2"].alignment.wrap_text  # long text wraps
    assert ws["E2"].value == 7 and ws["E2"].data_type == "n"
    fills = {ws.cell(r, 6).value: ws.cell(r, 6).fill.fgColor.rgb for r in range(2, 6)}
    assert len(set(fills.values())) == 4, fills  # succeeded, failed, cancelled, not run differ
    widths = {k: d.width for k, d in ws.column_dimensions.items()}
    assert 8 <= widths["C"] <= 60 and widths["D"] == 60  # capped: the long answer wraps instead
    assert [c.value for c in ws[1]][5:] == ["status", "error", "attempts", "elapsed_s", "tokens", "run_id"]


def test_results_text_is_never_a_formula_and_is_cleaned_and_cut(tmp_path) -> None:  # type: ignore[no-untyped-def]
    outputs = {f"o{i}": v for i, v in enumerate(FORMULA_LIKE)}
    outputs["ctrl"] = "a\x00b\x07c\x1fd"
    outputs["long"] = "字" * (EXCEL_CELL_LIMIT + 10)
    row = Row("b1", 0, 2, ("=SUM(1,2)", "-5", None), {}, status=RowStatus.SUCCEEDED, outputs=outputs)
    target = tmp_path / "out.xlsx"
    write_results(target, _batch(("a", "b", "c")), [row], output_keys=list(outputs))
    ws = load_workbook(target)["Results"]
    values = [c.value for c in ws[2]]
    assert values[:2] == ["=SUM(1,2)", "-5"]
    assert values[3 : 3 + len(FORMULA_LIKE)] == FORMULA_LIKE
    assert all(c.data_type == "s" for c in ws[2][: 3 + len(FORMULA_LIKE)] if c.value is not None)
    # Excel keeps them text even when someone edits the cell
    assert all(c.quotePrefix for c in ws[2][: 3 + len(FORMULA_LIKE)] if str(c.value)[:1] in "=+-@")
    assert values[3 + len(FORMULA_LIKE)] == "abcd"
    long = values[4 + len(FORMULA_LIKE)]
    assert isinstance(long, str)
    assert len(long) == EXCEL_CELL_LIMIT
    assert long.endswith(TRUNCATED_MARK)


def test_results_with_output_keys_stream_a_generator_in_order() -> None:
    def rows():  # type: ignore[no-untyped-def]
        for i in range(50):
            yield _row(i, RowStatus.SUCCEEDED, {"answer": i})

    buf = io.BytesIO()
    write_results(buf, _batch(("a", "b", "c")), rows(), output_keys=["answer"])
    res, _, _ = _read(buf)
    assert [r[3] for r in res[1:]] == list(range(50))
    assert len(res) == 51


def test_results_raw_xml_has_no_formula_elements() -> None:
    import zipfile

    row = Row("b1", 0, 2, ("=1+1",), {}, status=RowStatus.SUCCEEDED, outputs={"x": "=cmd|' /C calc'!A0"})
    buf = io.BytesIO()
    write_results(buf, _batch(("a",)), [row])
    sheet = zipfile.ZipFile(io.BytesIO(buf.getvalue())).read("xl/worksheets/sheet1.xml")
    assert b"<f>" not in sheet
    assert b"=cmd|" in sheet
