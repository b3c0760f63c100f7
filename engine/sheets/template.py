"""Workbooks a person gets before a run: the input template to fill in, and the annotated
copy of an upload that failed its checks."""

from __future__ import annotations

from typing import Any

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from engine.models import QUERY_VARIABLE, FieldType, FormField, InputForm, ParsedSheet
from engine.sheets.reading import TEMPLATE_SHEET, read_table
from engine.sheets.xlsx import safe_text, set_cell, workbook_bytes, write_only_cell

_BAD_FILL = PatternFill("solid", fgColor="FFC7CE")
_REQUIRED_FILL = PatternFill("solid", fgColor="FFF2CC")
_BOLD = Font(bold=True)
_TYPE_HELP = {
    FieldType.TEXT_INPUT: "Text",
    FieldType.PARAGRAPH: "Text (may be long)",
    FieldType.SELECT: "One of the options",
    FieldType.NUMBER: "Number",
    FieldType.CHECKBOX: "TRUE or FALSE",
    FieldType.FILE: "File: one http(s) URL",
    FieldType.FILE_LIST: "Files: http(s) URLs, one per line or comma-separated",
    FieldType.JSON_OBJECT: 'JSON object, like {"key": "value"}',
}


def _template_fields(form: InputForm) -> list[FormField]:
    fields = [f for f in form.fields if f.type is not FieldType.EXTERNAL_DATA_TOOL]
    if form.needs_query:
        query = FormField(
            QUERY_VARIABLE,
            QUERY_VARIABLE,
            FieldType.PARAGRAPH,
            required=True,
            description="The message sent to the chat app (each row is a new conversation).",
        )
        fields.insert(0, query)
    return fields


def template_workbook(workflow: str, form: InputForm) -> bytes:
    """An .xlsx to fill in: one column per input, validations, and an About sheet explaining each."""
    wb = Workbook()
    ws = wb.active
    ws.title = TEMPLATE_SHEET
    lists = wb.create_sheet("Lists")
    lists.sheet_state = "hidden"  # select options live here: an inline list breaks on commas and 255 chars
    fields = _template_fields(form)
    for col, f in enumerate(fields, 1):
        letter = get_column_letter(col)
        head = set_cell(ws, 1, col, f.label or f.variable)
        head.font = _BOLD
        # the variable name is shown because a header may also be typed as the variable name
        need = "Required" if f.required else "Optional"
        note = f"variable: {f.variable}\n{need}; {_TYPE_HELP.get(f.type, '')}"
        head.comment = Comment(safe_text(note), "dify-batch")
        if f.required:
            head.fill = _REQUIRED_FILL
        ws.column_dimensions[letter].width = max(14, min(40, len(f.label or f.variable) + 4))
        dv = _validation(f, col, lists)
        if dv is not None:
            dv.sqref = f"{letter}2:{letter}1048576"  # openpyxl accepts a range string
            ws.add_data_validation(dv)
    ws.freeze_panes = "A2"
    _about(wb.create_sheet("About"), workflow, fields)
    wb.active = 0
    return workbook_bytes(wb)


def _validation(f: FormField, col: int, lists: Any) -> DataValidation | None:
    if f.type is FieldType.SELECT and f.options:
        for r, option in enumerate(f.options, 1):
            set_cell(lists, r, col, option)
        ref = f"Lists!${get_column_letter(col)}$1:${get_column_letter(col)}${len(f.options)}"
        return DataValidation(
            type="list",
            formula1=ref,
            allow_blank=True,
            showErrorMessage=True,
            error="Pick one of the listed options.",
        )
    if f.type is FieldType.NUMBER:
        return DataValidation(
            type="decimal",
            operator="between",
            formula1="-1E+300",
            formula2="1E+300",
            allow_blank=True,
            showErrorMessage=True,
            error="Enter a number.",
        )
    if f.type is FieldType.CHECKBOX:
        return DataValidation(
            type="list",
            formula1='"TRUE,FALSE"',
            allow_blank=True,
            showErrorMessage=True,
            error="Enter TRUE or FALSE.",
        )
    if f.type in (FieldType.TEXT_INPUT, FieldType.PARAGRAPH) and f.max_length:
        return DataValidation(
            type="textLength",
            operator="lessThanOrEqual",
            formula1=str(f.max_length),
            allow_blank=True,
            showErrorMessage=True,
            error=f"At most {f.max_length} characters.",
        )
    return None


def _about(ws: Any, workflow: str, fields: list[FormField]) -> None:
    set_cell(ws, 1, 1, f"Input template for workflow '{workflow}'").font = _BOLD
    set_cell(
        ws,
        2,
        1,
        "Fill one row per run on the Inputs sheet. Headers may be in any order; "
        "extra columns are kept in the results. Blank rows are skipped.",
    )
    heads = ("Column", "Variable", "Type", "Required", "Options", "Max length", "Default", "Description")
    for c, h in enumerate(heads, 1):
        set_cell(ws, 4, c, h).font = _BOLD
    for r, f in enumerate(fields, 5):
        max_len = (
            ""
            if not f.max_length
            else (f"{f.max_length} files" if f.type is FieldType.FILE_LIST else f"{f.max_length} characters")
        )
        values = (
            f.label,
            f.variable,
            _TYPE_HELP.get(f.type, f.type.value),
            "yes" if f.required else "no",
            "\n".join(f.options),
            max_len,
            "" if f.default is None else f.default,
            f.description,
        )
        for c, v in enumerate(values, 1):
            set_cell(ws, r, c, v)
    for c, width in enumerate((24, 20, 30, 10, 30, 16, 16, 60), 1):
        ws.column_dimensions[get_column_letter(c)].width = width


def annotated_copy(data: bytes, filename: str, parsed: ParsedSheet) -> bytes:
    """The uploaded sheet as .xlsx with bad cells filled and commented, plus a Problems sheet.

    ``data`` must be the bytes ``read_sheet`` accepted (the file checks are not repeated).
    """
    _, table = read_table(data, filename)
    index = {name: i for i, name in reversed(list(enumerate(parsed.columns)))}
    marks: dict[tuple[int, int], list[str]] = {}
    reach: dict[int, int] = {}  # widest marked column per row, so marks past a short row still show
    for p in parsed.problems:
        if p.row > 0 and p.column in index:
            marks.setdefault((p.row, index[p.column]), []).append(p.message)
            reach[p.row] = max(reach.get(p.row, 0), index[p.column] + 1)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(parsed.sheet_name[:31] or "Sheet1")
    for r, raw in enumerate(table, 1):
        cells = list(raw)
        cells += [""] * (reach.get(r, 0) - len(cells))
        out = []
        for c, v in enumerate(cells):
            msgs = marks.get((r, c))
            value = v if not (isinstance(v, str) and not v) else None
            out.append(
                write_only_cell(ws, value, fill=_BAD_FILL, note="\n".join(msgs))
                if msgs
                else write_only_cell(ws, value)
            )
        ws.append(out)
    probs = wb.create_sheet("Problems")
    probs.append([write_only_cell(probs, h) for h in ("Sheet", "Row", "Column", "Problem")])
    for p in parsed.problems:
        probs.append(
            [
                write_only_cell(probs, p.sheet),
                p.row or None,
                write_only_cell(probs, p.column),
                write_only_cell(probs, p.message),
            ]
        )
    return workbook_bytes(wb)
