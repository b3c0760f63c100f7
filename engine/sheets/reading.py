"""Reads an uploaded sheet (xlsx/xls/ods via calamine, csv) and checks every row against the app's form."""

from __future__ import annotations

import csv
import functools
import io
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from python_calamine import CalamineError, CalamineWorkbook, SheetVisibleEnum

from engine.errors import SheetError
from engine.models import FieldType, FormField, InputForm, ParsedSheet, SheetLimits
from engine.sheets.cells import cell_value, coerce, loose
from engine.sheets.checkedrows import (
    MAX_PROBLEMS,
    QUERY_FIELD,
    CursorRows,
    ListRows,
    RawRows,
    SheetCheck,
    SheetRows,
)
from engine.sheets.filecheck import FileKind, check_file, sniff_kind
from engine.sheets.ooxml import column_letter
from engine.sheets.rowcount import INPUTS_SHEET, too_many_rows
from engine.sheets.sentences import sheet_phrase

TEMPLATE_SHEET = INPUTS_SHEET

_NOT_INPUT = (FieldType.EXTERNAL_DATA_TOOL,)  # filled by Dify's tool, never by the person


def read_sheet(data: bytes | Table, filename: str, form: InputForm, limits: SheetLimits) -> ParsedSheet:
    """Read and check a sheet in one pass; its rows are built when they are used (`SheetRows`).

    ``data``: the file's bytes, or the sheet as `open_table` already checked and parsed them.
    File-level problems raise SheetError; row problems go in ``problems``.
    """
    table = open_table(data, filename, limits) if isinstance(data, bytes) else data
    raws = table.rows.rows_from(0)
    header_at = -1
    header: list[Any] | None = None
    for at, raw in enumerate(raws):
        if not _blank(raw):
            header_at, header = at, list(raw)
            break
    if header is None:
        raise SheetError(sheet_phrase("sheet_empty", filename=filename, sheet=table.name))
    width = max(i for i, v in enumerate(header) if cell_value(v) is not None) + 1
    columns = tuple(_header_text(header[i], i) for i in range(width))
    slots = _match_headers(columns, form, filename)
    check = SheetCheck(table.name, columns, slots)
    # rows come a chunk at a time from the reader: no second copy of the whole table in memory
    refusal = functools.partial(too_many_rows, filename, limits.max_rows)
    positions = check.run(raws, header_at + 1, limits.max_rows, refusal)
    if check.overflow > width:  # data under no header: give those columns names rather than drop them
        columns += tuple(_header_text("", i) for i in range(width, check.overflow))
    extra = tuple(c for i, c in enumerate(columns) if i not in slots)
    rows = SheetRows(table.rows, positions, check.build)
    return ParsedSheet(table.name, columns, rows, check.problems(), check.blank_rows, extra)


@dataclass(frozen=True)
class Table:
    """A sheet parsed but not yet checked: its name and its rows as the reader gives them."""

    name: str
    rows: RawRows


def open_table(data: bytes, filename: str, limits: SheetLimits) -> Table:
    """Check the file (`check_file`: size, type, zip bombs) and only then parse its data sheet."""
    check_file(data, filename, limits)
    return _parse(data, filename)


def open_table_soon(
    data: bytes, filename: str, limits: SheetLimits, *, path: Path | None = None
) -> Future[Table]:
    """`open_table`: the file checked now, then parsed in a thread of its own.

    calamine lets go of the GIL while it parses (about a second for 100,000 rows), so the
    caller can meanwhile import, open the database and ask Dify for the form. The checks
    run here rather than in the thread: they inflate the file in zlib calls between which
    they need the GIL back, and behind the caller's imports each wait for it took a switch
    interval (0.9 s for 100,000 rows instead of 0.26 s). Not a daemon thread: an
    interpreter shutting down under a running parse is not something to risk.

    ``path``: the file ``data`` was just read from. A workbook is then parsed from the
    file, so that the thread holds no bytes (calamine holds a copy of bytes it is given:
    13.5 MB for 100,000 rows × 10, while memory peaks). A file that changed on disk
    meanwhile is refused: what was parsed is then not what was checked.
    """
    stamp = _stamp(path) if path is not None else None
    kind = check_file(data, filename, limits)
    source: bytes | Path = path if path is not None and kind is not FileKind.CSV else data
    opened: Future[Table] = Future()

    def work() -> None:
        try:
            table = _parse(source, filename, kind)
            if isinstance(source, Path) and _stamp(source) != stamp:
                error = "it changed on disk while it was being read; run the command again"
                raise SheetError(sheet_phrase("unreadable", filename=filename, kind=kind.value, error=error))
            opened.set_result(table)
        except BaseException as exc:  # handed to whoever waits for the table
            opened.set_exception(exc)

    threading.Thread(target=work, name="open-sheet").start()
    return opened


def _stamp(path: Path) -> tuple[int, int, int]:
    st = path.stat()
    return st.st_ino, st.st_size, st.st_mtime_ns


def read_table(data: bytes, filename: str) -> tuple[str, list[list[Any]]]:
    """The data sheet's name and its rows as read, row i being spreadsheet row i + 1.

    ``data`` must already have passed ``check_file`` (this does not repeat the size checks).
    """
    name, rows = iter_table(data, filename)
    return name, [list(r) for r in rows]


def iter_table(data: bytes, filename: str) -> tuple[str, Iterator[Sequence[Any]]]:
    """Like `read_table`, but the rows are produced as they are consumed."""
    table = _parse(data, filename)
    return table.name, table.rows.rows_from(0)


def _parse(source: bytes | Path, filename: str, kind: FileKind | None = None) -> Table:
    """The data sheet of bytes, or of a file (which `check_file` passed as bytes)."""
    if isinstance(source, bytes):
        kind = sniff_kind(source, filename)
        if kind is FileKind.CSV:
            return Table("CSV", ListRows(_csv_table(source)))
    try:
        opened = source if isinstance(source, Path) else io.BytesIO(source)
        with CalamineWorkbook.from_object(opened) as wb:
            name = _pick_sheet(wb)
            sheet = wb.get_sheet_by_name(name)
    except (CalamineError, ValueError, OSError) as exc:
        if "entity" in str(exc).lower():
            raise SheetError(sheet_phrase("xml_tricks", filename=filename)) from exc
        what = kind.value if kind is not None else "spreadsheet"
        raise SheetError(sheet_phrase("unreadable", filename=filename, kind=what, error=str(exc))) from exc
    return Table(name, CursorRows(lambda: _rows_from(sheet)))


def _rows_from(sheet: Any) -> Iterator[Sequence[Any]]:
    # iter_rows starts at row 1 but at the first used column: the leading empty columns
    # are put back so that cells stay under their headers (as to_python(skip_empty_area=False))
    start = sheet.start
    if start is None:
        return iter(())
    if not start[1]:
        rows: Iterator[Sequence[Any]] = sheet.iter_rows()
        return rows
    pad = [""] * start[1]
    return (pad + row for row in sheet.iter_rows())


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


def _blank(row: Sequence[Any]) -> bool:
    return all(cell_value(v) is None for v in row)


def _header_text(v: Any, i: int) -> str:
    text = cell_value(v)
    return str(text).strip() if text is not None else f"Column {column_letter(i)}"


def _match_headers(columns: tuple[str, ...], form: InputForm, filename: str) -> dict[int, FormField]:
    fields = [f for f in form.fields if f.type not in _NOT_INPUT]
    if form.needs_query:
        fields.insert(0, QUERY_FIELD)
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


__all__ = ["MAX_PROBLEMS", "TEMPLATE_SHEET", "Table", "coerce", "iter_table", "open_table", "open_table_soon",
           "read_sheet", "read_table"]
