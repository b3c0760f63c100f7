"""Workbooks a person gets before a run: the input template to fill in, and the annotated
copy of an upload that failed its checks."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from engine.models import QUERY_VARIABLE, FieldType, FormField, InputForm, ParsedSheet, SheetProblem
from engine.sheets.ooxml import text_width
from engine.sheets.reading import TEMPLATE_SHEET, read_table
from engine.sheets.sentences import TEMPLATE_LABELS
from engine.sheets.xlsx import safe_text, set_cell, workbook_bytes, write_only_cell

_BAD_FILL = PatternFill("solid", fgColor="FFC7CE")
_REQUIRED_FILL = PatternFill("solid", fgColor="FFF2CC")
# named: a font without a name is drawn in the application's default face (a serif in LibreOffice)
_BOLD = Font(name="Calibri", size=11, bold=True)
_LINES = Alignment(vertical="top", wrap_text=True)
"""For a cell of several lines: without wrapping they show run together (Excel) or spill
over the row above (LibreOffice)."""
_LINE_HEIGHT = 15.0
_ABOUT_WIDTHS = (24, 20, 30, 10, 30, 16, 16, 60)
_PROBLEMS_WIDTHS = (20, 8, 24, 80)
Labels = Mapping[str, str]
"""`TEMPLATE_LABELS` or a translation of it (same keys and placeholders)."""


def _type_help(t: FieldType, labels: Labels) -> str:
    return labels.get(f"type_{t.value}", t.value).format()


def _template_fields(form: InputForm, labels: Labels) -> list[FormField]:
    fields = [f for f in form.fields if f.type is not FieldType.EXTERNAL_DATA_TOOL]
    if form.needs_query:
        query = FormField(
            QUERY_VARIABLE,
            QUERY_VARIABLE,
            FieldType.PARAGRAPH,
            required=True,
            description=labels["query_description"],
        )
        fields.insert(0, query)
    return fields


def template_workbook(workflow: str, form: InputForm, *, labels: Labels = TEMPLATE_LABELS) -> bytes:
    """An .xlsx to fill in: one column per input, validations, and an About sheet explaining each.

    Headers are the form's labels whatever the language; ``labels`` words the rest."""
    wb = Workbook()
    ws = wb.active
    ws.title = TEMPLATE_SHEET
    lists = wb.create_sheet("Lists")
    lists.sheet_state = "hidden"  # select options live here: an inline list breaks on commas and 255 chars
    fields = _template_fields(form, labels)
    for col, f in enumerate(fields, 1):
        letter = get_column_letter(col)
        head = set_cell(ws, 1, col, f.label or f.variable)
        head.font = _BOLD
        # the variable name is shown because a header may also be typed as the variable name
        need = labels["required"] if f.required else labels["optional"]
        note = labels["note"].format(variable=f.variable, need=need, type=_type_help(f.type, labels))
        head.comment = Comment(safe_text(note), "dify-batch")
        if f.required:
            head.fill = _REQUIRED_FILL
        ws.column_dimensions[letter].width = max(14, min(40, len(f.label or f.variable) + 4))
        dv = _validation(f, col, lists, labels)
        if dv is not None:
            dv.sqref = f"{letter}2:{letter}1048576"  # openpyxl accepts a range string
            ws.add_data_validation(dv)
    ws.freeze_panes = "A2"
    _about(wb.create_sheet(labels["about_sheet"]), workflow, fields, labels)
    wb.active = 0
    return workbook_bytes(wb)


def _validation(f: FormField, col: int, lists: Any, labels: Labels) -> DataValidation | None:
    if f.type is FieldType.SELECT and f.options:
        for r, option in enumerate(f.options, 1):
            set_cell(lists, r, col, option)
        ref = f"Lists!${get_column_letter(col)}$1:${get_column_letter(col)}${len(f.options)}"
        return DataValidation(
            type="list",
            formula1=ref,
            allow_blank=True,
            showErrorMessage=True,
            error=labels["pick_option"],
        )
    if f.type is FieldType.NUMBER:
        return DataValidation(
            type="decimal",
            operator="between",
            formula1="-1E+300",
            formula2="1E+300",
            allow_blank=True,
            showErrorMessage=True,
            error=labels["enter_number"],
        )
    if f.type is FieldType.CHECKBOX:
        return DataValidation(
            type="list",
            formula1='"TRUE,FALSE"',
            allow_blank=True,
            showErrorMessage=True,
            error=labels["enter_bool"],
        )
    if f.type in (FieldType.TEXT_INPUT, FieldType.PARAGRAPH) and f.max_length:
        return DataValidation(
            type="textLength",
            operator="lessThanOrEqual",
            formula1=str(f.max_length),
            allow_blank=True,
            showErrorMessage=True,
            error=labels["at_most_chars"].format(n=f.max_length),
        )
    return None


def _about(ws: Any, workflow: str, fields: list[FormField], labels: Labels) -> None:
    set_cell(ws, 1, 1, labels["title"].format(workflow=workflow)).font = _BOLD
    set_cell(ws, 2, 1, labels["intro"])
    heads = tuple(labels[f"head_{h}"] for h in (
        "column", "variable", "type", "required", "options", "max_length", "default", "description"
    ))
    for c, h in enumerate(heads, 1):
        set_cell(ws, 4, c, h).font = _BOLD
    widest = list(_ABOUT_WIDTHS)
    for r, f in enumerate(fields, 5):
        max_len = (
            ""
            if not f.max_length
            else labels["max_files" if f.type is FieldType.FILE_LIST else "max_chars"].format(n=f.max_length)
        )
        values = (
            f.label,
            f.variable,
            _type_help(f.type, labels),
            labels["yes"] if f.required else labels["no"],
            "\n".join(f.options),
            max_len,
            "" if f.default is None else f.default,
            f.description,
        )
        for c, v in enumerate(values, 1):
            cell = set_cell(ws, r, c, v)
            if isinstance(v, str) and "\n" in v:
                cell.alignment = _LINES
                ws.row_dimensions[r].height = _LINE_HEIGHT * (v.count("\n") + 1)
            widest[c - 1] = max(widest[c - 1], text_width(str(v)) + 2)
    for c, width in enumerate(widest, 1):
        ws.column_dimensions[get_column_letter(c)].width = min(width, 60)


def annotated_copy(
    data: bytes,
    filename: str,
    parsed: ParsedSheet,
    *,
    labels: Labels = TEMPLATE_LABELS,
    describe: Callable[[SheetProblem], str] = lambda p: p.message,
) -> bytes:
    """The uploaded sheet as .xlsx with bad cells filled and commented, plus a Problems sheet.

    ``data`` must be the bytes ``read_sheet`` accepted (the file checks are not repeated).
    ``describe`` says a problem in the reader's language (default: the English message).
    """
    _, table = read_table(data, filename)
    index = {name: i for i, name in reversed(list(enumerate(parsed.columns)))}
    marks: dict[tuple[int, int], list[str]] = {}
    reach: dict[int, int] = {}  # widest marked column per row, so marks past a short row still show
    for p in parsed.problems:
        if p.row > 0 and p.column in index:
            marks.setdefault((p.row, index[p.column]), []).append(describe(p))
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
    probs = wb.create_sheet(labels["problems_sheet"])
    for c, width in enumerate(_PROBLEMS_WIDTHS, 1):  # a write-only sheet takes these before its rows
        probs.column_dimensions[get_column_letter(c)].width = width
    probs.freeze_panes = "A2"
    heads = (labels[f"problems_head_{h}"] for h in ("sheet", "row", "column", "problem"))
    probs.append([_bold(probs, h) for h in heads])
    for p in parsed.problems:
        probs.append(
            [
                write_only_cell(probs, p.sheet),
                p.row or None,
                write_only_cell(probs, p.column),
                write_only_cell(probs, describe(p)),
            ]
        )
    return workbook_bytes(wb)


def _bold(ws: Any, text: str) -> WriteOnlyCell:
    cell = WriteOnlyCell(ws, safe_text(text))
    cell.font = _BOLD
    return cell
