"""Reads an uploaded sheet (xlsx/xls/ods via calamine, csv) and checks every row against the app's form."""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlsplit

from python_calamine import CalamineError, CalamineWorkbook, SheetVisibleEnum

from engine.errors import SheetError
from engine.filecheck import FileKind, check_file, sniff_kind
from engine.models import (
    QUERY_VARIABLE,
    FieldType,
    FormField,
    InputForm,
    ParsedSheet,
    SheetLimits,
    SheetProblem,
    SheetRow,
)

TEMPLATE_SHEET = "Inputs"
"""The template's data sheet; a workbook with a sheet of this name is read from it, else the first."""
MAX_PROBLEMS = 10_000
"""Problems kept per sheet; beyond this one last entry says how many more there were."""

_TRUE = frozenset({"true", "yes", "y", "1", "on", "是", "真"})
_FALSE = frozenset({"false", "no", "n", "0", "off", "否", "假"})
_URL_SPLIT = re.compile(r"[\s,，]+")
_INT_TEXT = re.compile(r"[+-]?\d+")
_NOT_INPUT = (FieldType.EXTERNAL_DATA_TOOL,)  # filled by Dify's tool, never by the person
_QUERY_FIELD = FormField(QUERY_VARIABLE, QUERY_VARIABLE, FieldType.PARAGRAPH, required=True)


def read_sheet(data: bytes, filename: str, form: InputForm, limits: SheetLimits) -> ParsedSheet:
    """Read and check a sheet. File-level problems raise SheetError; row problems go in ``problems``."""
    check_file(data, filename, limits)
    sheet_name, table = read_table(data, filename)
    header_at = next((i for i, r in enumerate(table) if not _blank(r)), None)
    if header_at is None:
        raise SheetError(
            f"{filename}: the sheet '{sheet_name}' is empty; it needs a header row and data rows."
        )
    header = table[header_at]
    width = max(i for i, v in enumerate(header) if _cell(v) is not None) + 1
    columns = tuple(_header_text(header[i], i) for i in range(width))
    slots = _match_headers(columns, form, filename)
    checker = _RowChecker(sheet_name, columns, slots)
    rows: list[SheetRow] = []
    blank = pending_blank = overflow = 0
    for i in range(header_at + 1, len(table)):
        cells = [_cell(v) for v in table[i]]
        table[i] = []  # release as we go: the calamine table and our rows must not both peak
        if all(c is None for c in cells):
            pending_blank += 1
            continue
        blank += pending_blank
        pending_blank = 0
        if len(rows) >= limits.max_rows:
            raise SheetError(
                f"{filename} has more than {limits.max_rows} data rows; split it into smaller files."
            )
        while len(cells) > width and cells[-1] is None:
            cells.pop()
        overflow = max(overflow, len(cells))
        rows.append(checker.check(i + 1, cells))
    if overflow > width:  # data under no header: give those columns names rather than drop them
        columns += tuple(_header_text("", i) for i in range(width, overflow))
        rows = [replace(r, cells=r.cells + (None,) * (overflow - len(r.cells))) for r in rows]
    extra = tuple(c for i, c in enumerate(columns) if i not in slots)
    return ParsedSheet(sheet_name, columns, tuple(rows), checker.problems(), blank, extra)


def read_table(data: bytes, filename: str) -> tuple[str, list[list[Any]]]:
    """The data sheet's name and its rows as read, row i being spreadsheet row i + 1.

    ``data`` must already have passed ``check_file`` (this does not repeat the size checks).
    """
    kind = sniff_kind(data, filename)
    if kind is FileKind.CSV:
        return "CSV", _csv_table(data)
    try:
        with CalamineWorkbook.from_object(io.BytesIO(data)) as wb:
            name = _pick_sheet(wb)
            table = wb.get_sheet_by_name(name).to_python(skip_empty_area=False)
    except (CalamineError, ValueError, OSError) as exc:
        if "entity" in str(exc).lower():
            raise SheetError(f"{filename} contains XML entity tricks, which are refused for safety.") from exc
        raise SheetError(f"{filename} could not be read as a {kind.value} workbook: {exc}") from exc
    return name, list(table)


def _pick_sheet(wb: CalamineWorkbook) -> str:
    sheets = [m for m in wb.sheets_metadata if m.visible == SheetVisibleEnum.Visible] or wb.sheets_metadata
    for meta in sheets:
        if _norm(meta.name) == _norm(TEMPLATE_SHEET):
            return meta.name
    return sheets[0].name


def _csv_table(data: bytes) -> list[list[Any]]:
    text = _decode(data)
    sample = text[:65536]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    return [list(r) for r in csv.reader(io.StringIO(text, newline=""), dialect)]


def _decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise SheetError("The CSV file is neither UTF-8 nor GB18030 text; save it as 'CSV UTF-8'.")


def _cell(v: Any) -> Any:
    """A cell as a JSON-like value: empty → None, dates and times → ISO text."""
    t = type(v)
    if t is str:
        return v if v and not v.isspace() else None
    if t is float or t is int or t is bool:
        return v
    if isinstance(v, datetime | date | time):
        return v.isoformat()
    if isinstance(v, timedelta):
        return str(v)
    return v


def _blank(row: Sequence[Any]) -> bool:
    return all(_cell(v) is None for v in row)


def _header_text(v: Any, i: int) -> str:
    text = _cell(v)
    return str(text).strip() if text is not None else f"Column {_letter(i)}"


def _letter(i: int) -> str:
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


def _norm(text: str) -> str:
    return "".join(text.split()).strip("*").casefold()


def _match_headers(columns: tuple[str, ...], form: InputForm, filename: str) -> dict[int, FormField]:
    fields = [f for f in form.fields if f.type not in _NOT_INPUT]
    if form.needs_query:
        fields.insert(0, _QUERY_FIELD)
    by_name: dict[str, FormField] = {}
    for f in fields:  # labels first: a label beats another field's variable name
        by_name.setdefault(_norm(f.label), f)
    for f in fields:
        by_name.setdefault(_norm(f.variable), f)
    slots: dict[int, FormField] = {}
    seen: dict[str, str] = {}
    for i, col in enumerate(columns):
        found = by_name.get(_norm(col))
        if found is None:
            continue
        if found.variable in seen:
            raise SheetError(
                f"{filename}: columns '{seen[found.variable]}' and '{col}' both mean "
                f"'{found.label}' ({found.variable}); keep one."
            )
        seen[found.variable] = col
        slots[i] = found
    missing = [f for f in fields if f.required and f.variable not in seen]
    if missing:
        names = ", ".join(f"'{f.label}' ({f.variable})" for f in missing)
        raise SheetError(
            f"{filename}: required column(s) missing: {names}. The header row has: "
            f"{', '.join(columns)}. Download the template to see the expected headers.",
            [f"missing column {f.label} ({f.variable})" for f in missing],
        )
    return slots


@dataclass
class _RowChecker:
    sheet: str
    columns: tuple[str, ...]
    slots: dict[int, FormField]

    def __post_init__(self) -> None:
        self._problems: list[SheetProblem] = []
        self._dropped = 0
        # resolved once per sheet, not once per cell: a 100,000-row sheet has a million cells
        self._plan = [(i, f, _converter(f)) for i, f in self.slots.items()]

    def check(self, sheet_row: int, cells: list[Any]) -> SheetRow:
        inputs: dict[str, Any] = {}
        query: str | None = None
        width = len(cells)
        for i, f, convert in self._plan:
            raw = cells[i] if i < width else None
            if raw is None:
                if f.required:
                    self._add(sheet_row, i, "required, but the cell is empty")
                continue
            try:
                value = convert(raw)
            except ValueError as exc:
                self._add(sheet_row, i, str(exc))
                continue
            if f is _QUERY_FIELD:
                query = value
            else:
                inputs[f.variable] = value
        if len(cells) > len(self.columns):
            self._add(
                sheet_row,
                len(cells) - 1,
                "this cell has no column header",
                f"Column {_letter(len(cells) - 1)}",
            )
        return SheetRow(sheet_row, tuple(cells), inputs, query)

    def _add(self, row: int, col: int, message: str, label: str | None = None) -> None:
        if len(self._problems) >= MAX_PROBLEMS:
            self._dropped += 1
            return
        self._problems.append(SheetProblem(self.sheet, row, label or self.columns[col], message))

    def problems(self) -> tuple[SheetProblem, ...]:
        if self._dropped:
            more = SheetProblem(self.sheet, 0, "", f"…and {self._dropped} more problems not listed")
            return (*self._problems, more)
        return tuple(self._problems)


def _converter(field: FormField) -> Callable[[Any], Any]:
    """`coerce` for one field, with a shortcut for the commonest cells (text, plain numbers)."""
    if field.type in (FieldType.TEXT_INPUT, FieldType.PARAGRAPH):
        limit = field.max_length

        def text(raw: Any) -> Any:
            if type(raw) is str and (not limit or len(raw) <= limit):
                return raw
            return coerce(field, raw)

        return text
    if field.type is FieldType.NUMBER:

        def number(raw: Any) -> Any:
            if type(raw) is float and math.isfinite(raw) and not raw.is_integer():
                return raw
            return _number(raw)

        return number
    return lambda raw: coerce(field, raw)


def coerce(field: FormField, raw: Any) -> Any:
    """Turn one non-empty cell into the value Dify expects for ``field``; ValueError says what is wrong."""
    t = field.type
    if t is FieldType.NUMBER:
        return _number(raw)
    if t is FieldType.CHECKBOX:
        return _checkbox(raw)
    text = _text(raw)
    if t is FieldType.SELECT:
        return _select(field, text)
    if t is FieldType.JSON_OBJECT:
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"not valid JSON ({exc.msg} at character {exc.pos + 1})") from exc
        if not isinstance(obj, dict):
            raise ValueError('must be a JSON object, like {"key": "value"}')
        return obj
    if t is FieldType.FILE:
        urls = [u for u in _URL_SPLIT.split(text) if u]
        if len(urls) != 1:
            raise ValueError("must be exactly one http(s) URL")
        return _url(urls[0])
    if t is FieldType.FILE_LIST:
        urls = [_url(u) for u in _URL_SPLIT.split(text) if u]
        if field.max_length and len(urls) > field.max_length:
            raise ValueError(f"at most {field.max_length} files allowed, found {len(urls)}")
        return urls
    if field.max_length and len(text) > field.max_length:
        raise ValueError(f"too long: {len(text)} characters, the limit is {field.max_length}")
    return text


def _text(raw: Any) -> str:
    if isinstance(raw, bool):
        return "TRUE" if raw else "FALSE"
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    return str(raw)


def _number(raw: Any) -> int | float:
    if isinstance(raw, bool):
        raise ValueError("must be a number, not TRUE/FALSE")
    if isinstance(raw, str):
        s = raw.strip()
        if _INT_TEXT.fullmatch(s):
            return int(s)
        try:
            raw = float(s)
        except ValueError:
            raise ValueError(f"must be a number, got '{_short(s)}'") from None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float):
        if not math.isfinite(raw):
            raise ValueError("must be a finite number")
        return int(raw) if raw.is_integer() and abs(raw) < 2**53 else raw
    raise ValueError(f"must be a number, got '{_short(str(raw))}'")


def _checkbox(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    key = _text(raw).strip().casefold()
    if key in _TRUE:
        return True
    if key in _FALSE:
        return False
    raise ValueError(f"must be TRUE or FALSE (also yes/no, 1/0), got '{_short(str(raw))}'")


def _select(field: FormField, text: str) -> str:
    if text in field.options:
        return text
    near = [o for o in field.options if _norm(o) == _norm(text)]
    if len(near) == 1:  # a case or spacing slip still names one option unambiguously
        return near[0]
    shown = ", ".join(f"'{o}'" for o in field.options[:20]) + (" …" if len(field.options) > 20 else "")
    raise ValueError(f"'{_short(text)}' is not one of the options: {shown}")


def _url(text: str) -> str:
    parts = urlsplit(text)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise ValueError(f"'{_short(text)}' is not an http(s) URL")
    return text


def _short(s: str, n: int = 40) -> str:
    return s if len(s) <= n else s[: n - 1] + "…"
