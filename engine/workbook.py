"""Writes workbooks: the input template, the annotated copy of a bad upload, and the streamed results."""

from __future__ import annotations

import io
import json
import math
import pathlib
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, BinaryIO

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from engine.models import QUERY_VARIABLE, Batch, FieldType, FormField, InputForm, ParsedSheet, Row
from engine.sheet import TEMPLATE_SHEET, read_table

EXCEL_CELL_LIMIT = 32_767
TRUNCATED_MARK = "…[truncated]"
META_COLUMNS = ("status", "error", "attempts", "elapsed_s", "tokens", "run_id")

_BAD_FILL = PatternFill("solid", fgColor="FFC7CE")
_REQUIRED_FILL = PatternFill("solid", fgColor="FFF2CC")
_BOLD = Font(bold=True)
_FORMULA_LEAD = ("=", "+", "-", "@", "\t", "\r")
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


def safe_text(value: str) -> str:
    """Text Excel will keep: characters openpyxl refuses removed, cut (and marked) at the cell limit."""
    text: str = ILLEGAL_CHARACTERS_RE.sub("", value)
    if len(text) > EXCEL_CELL_LIMIT:
        text = text[: EXCEL_CELL_LIMIT - len(TRUNCATED_MARK)] + TRUNCATED_MARK
    return text


def _value(value: Any) -> Any:
    """A plain cell value: JSON for containers, text for anything Excel cannot hold as a number."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, dict | list | tuple):
        return safe_text(json.dumps(value, ensure_ascii=False, default=str))
    if isinstance(value, datetime):
        return value.isoformat()
    return safe_text(str(value))


def _needs_forcing(text: str) -> bool:
    return text.startswith(_FORMULA_LEAD) or text in ERROR_CODES


def _wo(ws: Any, value: Any, *, fill: PatternFill | None = None, note: str | None = None) -> Any:
    """A write-only cell value; text that openpyxl would turn into a formula or error is forced to text."""
    v = _value(value)
    forced = isinstance(v, str) and _needs_forcing(v)
    if not forced and fill is None and note is None:
        return v  # plain values are cheaper; openpyxl stores ordinary str as text already
    cell = WriteOnlyCell(ws, value=v)
    if forced:
        cell.data_type = "s"  # assigning "=…" made it a formula; this makes it an inline string
        cell.quotePrefix = True  # Excel keeps it text even when someone edits the cell
    if fill is not None:
        cell.fill = fill
    if note is not None:
        cell.comment = Comment(safe_text(note), "dify-batch")
    return cell


def _put(ws: Any, row: int, col: int, value: Any) -> Any:
    """Set a cell in a normal worksheet, never letting text become a formula."""
    cell = ws.cell(row=row, column=col, value=_value(value))
    if isinstance(cell.value, str) and _needs_forcing(cell.value):
        cell.data_type = "s"
        cell.quotePrefix = True
    return cell


def _save(wb: Workbook) -> bytes:
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


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
        head = _put(ws, 1, col, f.label or f.variable)
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
    return _save(wb)


def _validation(f: FormField, col: int, lists: Any) -> DataValidation | None:
    if f.type is FieldType.SELECT and f.options:
        for r, option in enumerate(f.options, 1):
            _put(lists, r, col, option)
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
    _put(ws, 1, 1, f"Input template for workflow '{workflow}'").font = _BOLD
    _put(
        ws,
        2,
        1,
        "Fill one row per run on the Inputs sheet. Headers may be in any order; "
        "extra columns are kept in the results. Blank rows are skipped.",
    )
    heads = ("Column", "Variable", "Type", "Required", "Options", "Max length", "Default", "Description")
    for c, h in enumerate(heads, 1):
        _put(ws, 4, c, h).font = _BOLD
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
            _put(ws, r, c, v)
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
            out.append(_wo(ws, value, fill=_BAD_FILL, note="\n".join(msgs)) if msgs else _wo(ws, value))
        ws.append(out)
    probs = wb.create_sheet("Problems")
    probs.append([_wo(probs, h) for h in ("Sheet", "Row", "Column", "Problem")])
    for p in parsed.problems:
        probs.append([_wo(probs, p.sheet), p.row or None, _wo(probs, p.column), _wo(probs, p.message)])
    return _save(wb)


def output_columns(columns: Sequence[str], output_keys: Iterable[str]) -> list[tuple[str, str]]:
    """(output key, column header) pairs; a key that clashes with an input or meta column gets ``output.``."""
    taken = {c.casefold() for c in columns} | set(META_COLUMNS)
    return [(k, f"output.{k}" if k.casefold() in taken else k) for k in output_keys]


def write_results(
    target: pathlib.Path | BinaryIO,
    batch: Batch,
    rows: Iterable[Row],
    output_keys: Sequence[str] | None = None,
) -> None:
    """Stream the results workbook: original columns, one per output, then status/error/…; plus Summary.

    The output columns must be known before the first row is written. Pass ``output_keys``
    (the union of output names in first-seen order, e.g. from the store) to stream a one-shot
    iterator in constant memory; without it ``rows`` is scanned first, so a non-Sequence is
    materialised into a list.
    """
    if output_keys is None:
        if not isinstance(rows, Sequence):
            rows = list(rows)
        output_keys = list(dict.fromkeys(k for r in rows for k in (r.outputs or {})))
    outs = output_columns(batch.columns, output_keys)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Results")
    width = len(batch.columns)
    ws.append([_wo(ws, c) for c in (*batch.columns, *(h for _, h in outs), *META_COLUMNS)])
    counts: dict[str, int] = {}
    tokens = 0
    elapsed: list[float] = []
    for row in rows:
        cells = list(row.cells[:width]) + [None] * (width - len(row.cells))
        outputs = row.outputs or {}
        values = [
            *cells,
            *(outputs.get(k) for k, _ in outs),
            row.status.value,
            row.error,
            row.attempts,
            None if row.elapsed_s is None else round(row.elapsed_s, 3),
            row.tokens,
            row.run_id,
        ]
        ws.append([_wo(ws, v) for v in values])
        counts[row.status.value] = counts.get(row.status.value, 0) + 1
        tokens += row.tokens
        if row.elapsed_s is not None:
            elapsed.append(row.elapsed_s)
    _summary(wb.create_sheet("Summary"), batch, counts, tokens, elapsed)
    if isinstance(target, pathlib.Path):
        wb.save(str(target))
    else:
        wb.save(target)


def _summary(ws: Any, batch: Batch, counts: dict[str, int], tokens: int, elapsed: list[float]) -> None:
    wall = (
        (batch.finished_at - batch.started_at).total_seconds()
        if batch.finished_at and batch.started_at
        else None
    )
    lines: list[tuple[str, Any]] = [
        ("workflow", batch.workflow),
        ("batch", batch.id),
        ("owner", batch.owner),
        ("source file", batch.source_name),
        ("batch status", batch.status.value),
        ("created", batch.created_at),
        ("started", batch.started_at),
        ("finished", batch.finished_at),
        ("rows", sum(counts.values())),
        *((f"rows {s}", n) for s, n in sorted(counts.items())),
        ("blank rows skipped", batch.blank_rows),
        ("total tokens", tokens),
        ("wall time (s)", None if wall is None else round(wall, 3)),
        ("row time total (s)", round(sum(elapsed), 3)),
        ("row time mean (s)", round(sum(elapsed) / len(elapsed), 3) if elapsed else None),
        ("row time max (s)", round(max(elapsed), 3) if elapsed else None),
    ]
    if batch.error:
        lines.append(("error", batch.error))
    for key, value in lines:
        ws.append([_wo(ws, key), _wo(ws, value)])
