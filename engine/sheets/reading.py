"""Reads an uploaded sheet (xlsx/xls/ods via calamine, csv) and checks every row against the app's form."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any

from python_calamine import CalamineError, CalamineWorkbook, SheetVisibleEnum

from engine.errors import SheetError
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
from engine.sheets.cells import CellProblem, coerce, converter, loose
from engine.sheets.filecheck import FileKind, check_file, sniff_kind
from engine.sheets.rowcount import INPUTS_SHEET, too_many_rows
from engine.sheets.sentences import sheet_phrase
from engine.text.phrases import Phrase

TEMPLATE_SHEET = INPUTS_SHEET
MAX_PROBLEMS = 10_000
"""Problems kept per sheet; beyond this one last entry says how many more there were."""

_NOT_INPUT = (FieldType.EXTERNAL_DATA_TOOL,)  # filled by Dify's tool, never by the person
_REQUIRED = sheet_phrase("cell_required")
_NO_HEADER = sheet_phrase("cell_no_header")
_QUERY_FIELD = FormField(QUERY_VARIABLE, QUERY_VARIABLE, FieldType.PARAGRAPH, required=True)


def read_sheet(data: bytes, filename: str, form: InputForm, limits: SheetLimits) -> ParsedSheet:
    """Read and check a sheet in one pass.

    File-level problems raise SheetError; row problems go in ``problems``.
    """
    check_file(data, filename, limits)
    sheet_name, table = iter_table(data, filename)
    header_at = -1
    header: list[Any] | None = None
    for at, raw in enumerate(table):
        if not _blank(raw):
            header_at, header = at, list(raw)
            break
    if header is None:
        raise SheetError(sheet_phrase("sheet_empty", filename=filename, sheet=sheet_name))
    width = max(i for i, v in enumerate(header) if _cell(v) is not None) + 1
    columns = tuple(_header_text(header[i], i) for i in range(width))
    slots = _match_headers(columns, form, filename)
    checker = _RowChecker(sheet_name, columns, slots)
    rows: list[SheetRow] = []
    blank = pending_blank = overflow = 0
    check = checker.check
    # rows come one at a time from the reader: no second copy of the whole table in memory
    for i, raw in enumerate(table, start=header_at + 1):
        cells = [_cell(v) for v in raw]
        if all(c is None for c in cells):
            pending_blank += 1
            continue
        blank += pending_blank
        pending_blank = 0
        if len(rows) >= limits.max_rows:
            raise too_many_rows(filename, limits.max_rows)
        while len(cells) > width and cells[-1] is None:
            cells.pop()
        if len(cells) > overflow:
            overflow = len(cells)
        rows.append(check(i + 1, cells))
    if overflow > width:  # data under no header: give those columns names rather than drop them
        columns += tuple(_header_text("", i) for i in range(width, overflow))
        rows = [replace(r, cells=r.cells + (None,) * (overflow - len(r.cells))) for r in rows]
    extra = tuple(c for i, c in enumerate(columns) if i not in slots)
    return ParsedSheet(sheet_name, columns, tuple(rows), checker.problems(), blank, extra)


def read_table(data: bytes, filename: str) -> tuple[str, list[list[Any]]]:
    """The data sheet's name and its rows as read, row i being spreadsheet row i + 1.

    ``data`` must already have passed ``check_file`` (this does not repeat the size checks).
    """
    name, rows = iter_table(data, filename)
    return name, [list(r) for r in rows]


def iter_table(data: bytes, filename: str) -> tuple[str, Iterator[Sequence[Any]]]:
    """Like `read_table`, but the rows are produced as they are consumed."""
    kind = sniff_kind(data, filename)
    if kind is FileKind.CSV:
        return "CSV", iter(_csv_table(data))
    try:
        with CalamineWorkbook.from_object(io.BytesIO(data)) as wb:
            name = _pick_sheet(wb)
            sheet = wb.get_sheet_by_name(name)
    except (CalamineError, ValueError, OSError) as exc:
        if "entity" in str(exc).lower():
            raise SheetError(sheet_phrase("xml_tricks", filename=filename)) from exc
        raise SheetError(
            sheet_phrase("unreadable", filename=filename, kind=kind.value, error=str(exc))
        ) from exc
    return name, _rows_from(sheet)


def _rows_from(sheet: Any) -> Iterator[Sequence[Any]]:
    # iter_rows starts at row 1 but at the first used column: the leading empty columns
    # are put back so that cells stay under their headers (as to_python(skip_empty_area=False))
    start = sheet.start
    if start is None:
        return
    pad = [""] * start[1]
    for row in sheet.iter_rows():
        yield pad + row if pad else row


def _pick_sheet(wb: CalamineWorkbook) -> str:
    sheets = [m for m in wb.sheets_metadata if m.visible == SheetVisibleEnum.Visible] or wb.sheets_metadata
    for meta in sheets:
        if loose(meta.name) == loose(TEMPLATE_SHEET):
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
    raise SheetError(sheet_phrase("csv_encoding"))


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


def _match_headers(columns: tuple[str, ...], form: InputForm, filename: str) -> dict[int, FormField]:
    fields = [f for f in form.fields if f.type not in _NOT_INPUT]
    if form.needs_query:
        fields.insert(0, _QUERY_FIELD)
    by_name: dict[str, FormField] = {}
    for f in fields:  # labels first: a label beats another field's variable name
        by_name.setdefault(loose(f.label), f)
    for f in fields:
        by_name.setdefault(loose(f.variable), f)
    slots: dict[int, FormField] = {}
    seen: dict[str, str] = {}
    for i, col in enumerate(columns):
        found = by_name.get(loose(col))
        if found is None:
            continue
        if found.variable in seen:
            raise SheetError(sheet_phrase(
                "duplicate_columns", filename=filename, first=seen[found.variable], second=col,
                label=found.label, variable=found.variable,
            ))
        seen[found.variable] = col
        slots[i] = found
    missing = [f for f in fields if f.required and f.variable not in seen]
    if missing:
        names = ", ".join(f"'{f.label}' ({f.variable})" for f in missing)
        raise SheetError(
            sheet_phrase("missing_columns", filename=filename, names=names, header=", ".join(columns)),
            [sheet_phrase("missing_column", label=f.label, variable=f.variable) for f in missing],
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
        self._plan = [(i, f, converter(f)) for i, f in self.slots.items()]

    def check(self, sheet_row: int, cells: list[Any]) -> SheetRow:
        inputs: dict[str, Any] = {}
        query: str | None = None
        width = len(cells)
        for i, f, convert in self._plan:
            raw = cells[i] if i < width else None
            if raw is None:
                if f.required:
                    self._add(sheet_row, i, _REQUIRED)
                continue
            try:
                value = convert(raw)
            except ValueError as exc:
                self._add(sheet_row, i, exc.phrase if isinstance(exc, CellProblem) else str(exc))
                continue
            if f is _QUERY_FIELD:
                query = value
            else:
                inputs[f.variable] = value
        if len(cells) > len(self.columns):
            self._add(
                sheet_row,
                len(cells) - 1,
                _NO_HEADER,
                f"Column {_letter(len(cells) - 1)}",
            )
        return SheetRow(sheet_row, tuple(cells), inputs, query)

    def _add(self, row: int, col: int, message: Phrase | str, label: str | None = None) -> None:
        if len(self._problems) >= MAX_PROBLEMS:
            self._dropped += 1
            return
        said = message if isinstance(message, Phrase) else None
        self._problems.append(SheetProblem(self.sheet, row, label or self.columns[col], str(message), said))

    def problems(self) -> tuple[SheetProblem, ...]:
        if self._dropped:
            said = sheet_phrase("more_problems", n=self._dropped)
            more = SheetProblem(self.sheet, 0, "", str(said), said)
            return (*self._problems, more)
        return tuple(self._problems)


__all__ = ["MAX_PROBLEMS", "TEMPLATE_SHEET", "coerce", "iter_table", "read_sheet", "read_table"]
