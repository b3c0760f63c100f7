"""Cells written with openpyxl that Excel keeps as typed: text never turns into a formula
or an error code, and nothing is longer than a cell may hold."""

from __future__ import annotations

import io
import json
import math
from datetime import datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE
from openpyxl.comments import Comment
from openpyxl.styles import PatternFill

EXCEL_CELL_LIMIT = 32_767
TRUNCATED_MARK = "…[truncated]"

_FORMULA_LEAD = ("=", "+", "-", "@", "\t", "\r")


def safe_text(value: str) -> str:
    """Text Excel will keep: characters openpyxl refuses removed, cut (and marked) at the cell limit."""
    text: str = ILLEGAL_CHARACTERS_RE.sub("", value)
    if len(text) > EXCEL_CELL_LIMIT:
        text = text[: EXCEL_CELL_LIMIT - len(TRUNCATED_MARK)] + TRUNCATED_MARK
    return text


def _plain_value(value: Any) -> Any:
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


def write_only_cell(ws: Any, value: Any, *, fill: PatternFill | None = None, note: str | None = None) -> Any:
    """A write-only cell value; text that openpyxl would turn into a formula or error is forced to text."""
    v = _plain_value(value)
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


def set_cell(ws: Any, row: int, col: int, value: Any) -> Any:
    """Set a cell in a normal worksheet, never letting text become a formula."""
    cell = ws.cell(row=row, column=col, value=_plain_value(value))
    if isinstance(cell.value, str) and _needs_forcing(cell.value):
        cell.data_type = "s"
        cell.quotePrefix = True
    return cell


def workbook_bytes(wb: Workbook) -> bytes:
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
