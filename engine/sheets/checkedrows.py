"""A sheet's rows checked in one fast pass, then kept as the reader parsed them and built
(cells, inputs) one at a time when they are stored.

Held as `SheetRow`s, 100,000 rows × 10 cells of mixed text were ~190 MB of Python objects
(a tuple and a dict a row, and every value as a Python object) until the last of them
was stored. Here a checked sheet keeps only the parser's own table (calamine's, ~84 MB for
that sheet, or the CSV reader's lists) and the position of each data row, and builds
rows on the way into the store, a slice at a time.

The check looks at a chunk of rows a column at a time with C-speed tests (all text, none
blank, none too long; all finite numbers). A chunk that does not pass them is checked
cell by cell as before, which finds its problems, or finds that it has none.
"""

from __future__ import annotations

import math
from array import array
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from itertools import islice
from typing import Any, Protocol, overload

from engine.models import QUERY_VARIABLE, FieldType, FormField, JsonDict, SheetProblem, SheetRow
from engine.sheets.cells import CellProblem, cell_value, converter
from engine.sheets.ooxml import column_letter
from engine.sheets.sentences import sheet_phrase
from engine.text.phrases import Phrase

MAX_PROBLEMS = 10_000
"""Problems kept per sheet; beyond this one last entry says how many more there were."""
CHUNK = 512
"""Rows looked at together by the fast check: its column tests are one C call a chunk.
Small enough to stay in the CPU's cache (4,096 took twice as long over 100,000 rows)."""

QUERY_FIELD = FormField(QUERY_VARIABLE, QUERY_VARIABLE, FieldType.PARAGRAPH, required=True)
_REQUIRED = sheet_phrase("cell_required")
_NO_HEADER = sheet_phrase("cell_no_header")
_TEXT = (FieldType.TEXT_INPUT, FieldType.PARAGRAPH)
_NUMBER_TYPES = frozenset({float, int})


class RawRows(Protocol):
    """A parsed table's rows as the reader gives them, position 0 being spreadsheet row 1."""

    def rows_from(self, position: int) -> Iterator[Sequence[Any]]: ...


class ListRows:
    """A table read whole into lists (CSV)."""

    def __init__(self, rows: list[list[Any]]) -> None:
        self._rows = rows

    def rows_from(self, position: int) -> Iterator[Sequence[Any]]:
        return islice(self._rows, position, None)


class CursorRows:
    """A table read through a one-way iterator (calamine's ``iter_rows``, which makes Python
    values a row at a time from the parsed sheet): reading on from where the last reader
    stopped costs nothing, going back starts the iterator again."""

    def __init__(self, open_rows: Callable[[], Iterator[Sequence[Any]]]) -> None:
        self._open = open_rows
        self._rows: Iterator[Sequence[Any]] | None = None
        self._at = 0

    def rows_from(self, position: int) -> Iterator[Sequence[Any]]:
        if self._rows is None or position < self._at:
            self._rows, self._at = self._open(), 0
        rows = self._rows
        deque(islice(rows, position - self._at), maxlen=0)  # skip, in C
        self._at = position
        return self._follow(rows)

    def _follow(self, rows: Iterator[Sequence[Any]]) -> Iterator[Sequence[Any]]:
        for raw in rows:
            if self._rows is rows:  # a later reader may have started the iterator again
                self._at += 1
            yield raw


class SheetRows(Sequence[SheetRow]):
    """The checked rows of a sheet; each is built from the parsed table when asked for."""

    __slots__ = ("_build", "_positions", "_source")

    def __init__(
        self, source: RawRows, positions: array[int], build: Callable[[int, Sequence[Any]], SheetRow]
    ) -> None:
        self._source = source
        self._positions = positions
        self._build = build

    def __len__(self) -> int:
        return len(self._positions)

    @overload
    def __getitem__(self, index: int) -> SheetRow: ...
    @overload
    def __getitem__(self, index: slice) -> SheetRows: ...
    def __getitem__(self, index: int | slice) -> SheetRow | SheetRows:
        if isinstance(index, slice):
            return SheetRows(self._source, self._positions[index], self._build)
        position = self._positions[index]
        return self._build(position, next(self._source.rows_from(position)))

    def __iter__(self) -> Iterator[SheetRow]:
        positions = self._positions
        if not positions:
            return
        at = positions[0]
        raws = self._source.rows_from(at)
        for position in positions:
            if position < at:  # a reversed slice: read from there again
                at, raws = position, self._source.rows_from(position)
            while at < position:  # blank rows in between
                next(raws)
                at += 1
            raw = next(raws)
            at += 1
            yield self._build(position, raw)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, SheetRows | tuple | list):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # rows hold dicts: never hashable

    def then(self, change: Callable[[SheetRow], SheetRow]) -> SheetRows:
        """The same rows, each changed by ``change`` as it is built."""
        build = self._build
        return SheetRows(self._source, self._positions, lambda p, raw: change(build(p, raw)))


def changed_rows(rows: Sequence[SheetRow], change: Callable[[SheetRow], SheetRow]) -> Sequence[SheetRow]:
    """``rows`` each changed by ``change``: still built lazily when they were."""
    if isinstance(rows, SheetRows):
        return rows.then(change)
    return tuple(change(r) for r in rows)


class SheetCheck:
    """Checks a sheet's data rows against the form once, and builds any of them afterwards."""

    def __init__(self, sheet: str, columns: tuple[str, ...], slots: dict[int, FormField]) -> None:
        self.sheet = sheet
        self.columns = columns
        self.width = len(columns)
        self.overflow = 0
        """The widest data row after its trailing empty cells: beyond ``width``, data under no header."""
        self.blank_rows = 0
        self._pending_blank = 0
        self._problems: list[SheetProblem] = []
        self._dropped = 0
        # resolved once per sheet, not once per cell: a 100,000-row sheet has a million cells
        self._plan = [(i, f, converter(f)) for i, f in slots.items()]

    def run(
        self, raws: Iterator[Sequence[Any]], start: int, max_rows: int, too_many: Callable[[], Exception]
    ) -> array[int]:
        """Check every row from position ``start`` on; returns the positions of the data rows."""
        positions: array[int] = array("L")
        position = start
        while chunk := list(islice(raws, CHUNK)):
            if self._fast_ok(chunk):
                self.blank_rows += self._pending_blank
                self._pending_blank = 0
                positions.extend(range(position, position + len(chunk)))
                self.overflow = max(self.overflow, min(len(chunk[0]), self.width))
            else:
                for offset, raw in enumerate(chunk):
                    self._check_row(position + offset, raw, positions)
            position += len(chunk)
            if len(positions) > max_rows:
                raise too_many()
        return positions

    def build(self, position: int, raw: Sequence[Any]) -> SheetRow:
        """The row at ``position`` (which passed the check) with its cells and inputs."""
        cells = self._cells(raw)
        if self.overflow > self.width and len(cells) < self.overflow:
            cells.extend([None] * (self.overflow - len(cells)))
        inputs, query = self._inputs(position + 1, cells, record=False)
        return SheetRow(position + 1, tuple(cells), inputs, query)

    def problems(self) -> tuple[SheetProblem, ...]:
        if self._dropped:
            said = sheet_phrase("more_problems", n=self._dropped)
            more = SheetProblem(self.sheet, 0, "", str(said), said)
            return (*self._problems, more)
        return tuple(self._problems)

    # -- cell by cell ---------------------------------------------------------------------

    def _cells(self, raw: Sequence[Any]) -> list[Any]:
        cells = [cell_value(v) for v in raw]
        while len(cells) > self.width and cells[-1] is None:
            cells.pop()
        return cells

    def _check_row(self, position: int, raw: Sequence[Any], positions: array[int]) -> None:
        cells = self._cells(raw)
        if all(c is None for c in cells):
            self._pending_blank += 1  # counted only if data follows: trailing blank rows are no rows
            return
        self.blank_rows += self._pending_blank
        self._pending_blank = 0
        self.overflow = max(self.overflow, len(cells))
        self._inputs(position + 1, cells, record=True)
        positions.append(position)

    def _inputs(self, sheet_row: int, cells: list[Any], *, record: bool) -> tuple[JsonDict, str | None]:
        inputs: JsonDict = {}
        query: str | None = None
        width = len(cells)
        for i, f, convert in self._plan:
            raw = cells[i] if i < width else None
            if raw is None:
                if f.required and record:
                    self._add(sheet_row, i, _REQUIRED)
                continue
            try:
                value = convert(raw)
            except ValueError as exc:  # a row with problems is still built, without that input
                if record:
                    self._add(sheet_row, i, exc.phrase if isinstance(exc, CellProblem) else str(exc))
                continue
            if f is QUERY_FIELD:
                query = value
            else:
                inputs[f.variable] = value
        if record and width > self.width:
            self._add(sheet_row, width - 1, _NO_HEADER, f"Column {column_letter(width - 1)}")
        return inputs, query

    def _add(self, row: int, col: int, message: Phrase | str, label: str | None = None) -> None:
        if len(self._problems) >= MAX_PROBLEMS:
            self._dropped += 1
            return
        said = message if isinstance(message, Phrase) else None
        self._problems.append(SheetProblem(self.sheet, row, label or self.columns[col], str(message), said))

    # -- a chunk at a time ----------------------------------------------------------------

    def _fast_ok(self, chunk: list[Sequence[Any]]) -> bool:
        """True only if checking each row of ``chunk`` would find no problem and no blank row."""
        lengths = set(map(len, chunk))
        if len(lengths) != 1:
            return False
        (length,) = lengths
        columns = list(zip(*chunk, strict=True))
        for extra in columns[self.width :]:  # nothing under no header
            if extra.count("") != len(extra):
                return False
        filled = False  # some column proven to have a value in every row: no blank rows
        for i, field, convert in self._plan:
            if i >= length:
                if field.required:
                    return False
                continue
            full = _column_ok(field, convert, columns[i])
            if full is None:
                return False
            filled = filled or full
        return filled or not any(all(cell_value(v) is None for v in raw) for raw in chunk)


def _column_ok(field: FormField, convert: Callable[[Any], Any], column: tuple[Any, ...]) -> bool | None:
    """None if some cell of ``column`` is a problem for ``field``; else whether every cell has a value."""
    kinds = set(map(type, column))
    if field.type in _TEXT and kinds == {str}:
        blanks = "" in column or any(map(str.isspace, column))
        if blanks and field.required:
            return None
        if field.max_length and max(map(len, column)) > field.max_length:
            return None
        return not blanks
    if field.type is FieldType.NUMBER and kinds <= _NUMBER_TYPES:
        return True if all(map(math.isfinite, column)) else None
    full = True
    for v in column:  # any other field or mix of types: as `check` would, one cell at a time
        value = cell_value(v)
        if value is None:
            if field.required:
                return None
            full = False
            continue
        try:
            convert(value)
        except ValueError:
            return None
    return full
