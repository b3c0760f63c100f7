"""The results workbook: each row's inputs, outputs and outcome, streamed, plus a Summary sheet.

Layout: the person's columns in their order, then one column per output of the app, then
the outcome (status, error) and last the technical columns (attempts, elapsed_s, tokens,
run_id), which the Summary sheet explains. Header bold, frozen and filterable; status
cells coloured; numbers stay numbers and dates real dates; text never becomes a formula.
The Summary also sets the estimate stored with the batch beside what it came to, and carries
native charts of the rows by outcome and by run time (`engine.sheets.charts`).
"""

from __future__ import annotations

import asyncio
import functools
import json
import pathlib
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import IO, Any

from engine.estimate import Estimate, recorded_estimate
from engine.models import Batch, Row, RowStatus
from engine.ports import Store
from engine.sheets.charts.drawing import add_charts
from engine.sheets.charts.tables import CHART_ROWS, Actual, write_estimate, write_outcomes, write_run_times
from engine.sheets.ooxml import (
    SheetPart,
    WorkbookWriter,
    column_letter,
    row_cells,
    safe_text,
    value_cell,
)
from engine.sheets.results_text import column_notes, summary_lines, wall_time
from engine.sheets.sentences import CHART_LABELS, SUMMARY_LABELS
from engine.sheets.styles import Style

META_COLUMNS = ("status", "error", "attempts", "elapsed_s", "tokens", "run_id")
PAGE_ROWS = 2_000
"""Rows read from the store at a time: memory stays flat however big the batch."""

_STATUS_STYLE = {
    RowStatus.SUCCEEDED: Style.SUCCEEDED,
    RowStatus.FAILED: Style.FAILED,
    RowStatus.CANCELLED: Style.CANCELLED,
    RowStatus.PENDING: Style.NOT_RUN,
    RowStatus.RUNNING: Style.NOT_RUN,
}
# the reader stores date cells as ISO text (JSON has no dates); they go back as real dates
_ISO_DATE = re.compile(r"\d{4}-\d\d-\d\d(?:[T ]\d\d:\d\d:\d\d(?:\.\d{1,6})?)?")
_PLAIN = (str, int, float, bool)
_MIN_WIDTH, _MAX_WIDTH = 8.0, 60.0
_META_WIDTHS = (11.0, 40.0, 9.0, 10.0, 9.0, 38.0)
_SUMMARY_WIDTHS = (28.0, 48.0, 14.0, 14.0)
"""Label, value, and the estimate table's two more columns; the charts sit right of these."""

RowPages = Callable[[int, int], Awaitable[Sequence[Row]]]
"""``(after_index, limit)`` → the next rows in index order; empty when there are no more."""


def output_columns(columns: Sequence[str], output_keys: Iterable[str]) -> list[tuple[str, str]]:
    """(output key, column header) pairs; a key that clashes with an input or meta column gets ``output.``."""
    taken = {c.casefold() for c in columns} | set(META_COLUMNS)
    return [(k, f"output.{k}" if k.casefold() in taken else k) for k in output_keys]


class ResultsWriter:
    """Streams one results workbook: `add` rows in index order, then `close`."""

    def __init__(
        self,
        target: pathlib.Path | IO[bytes],
        batch: Batch,
        output_keys: Sequence[str],
        sample: Sequence[Row],
        labels: Mapping[str, str] = SUMMARY_LABELS,
        *,
        chart_labels: Mapping[str, str] = CHART_LABELS,
        estimate: Estimate | None = None,
    ) -> None:
        """``estimate``: the one made when the batch was created, set beside the outcome."""
        self.batch = batch
        self._labels = labels
        self._chart_labels = chart_labels
        self._estimate = estimate
        self._status_words = {s: labels[f"status_{s.value}"] for s in RowStatus}
        self._width = len(batch.columns)
        self._outs = output_columns(batch.columns, output_keys)
        headers = [*batch.columns, *(h for _, h in self._outs), *META_COLUMNS]
        self._refs = [column_letter(i) for i in range(len(headers))]
        self._book = WorkbookWriter(str(target) if isinstance(target, pathlib.Path) else target)
        widths = _widths(headers, self._width, len(self._outs), [self._values(r) for r in sample[:200]])
        part = SheetPart(labels["results_sheet"], widths, freeze_header=True, autofilter=True)
        self._sheet = self._book.add_sheet(part)
        header = (value_cell(f"{c}1", h, Style.HEADER) for c, h in zip(self._refs, headers, strict=True))
        self._sheet.add_row("".join(header))
        self._counts: dict[str, int] = {}
        self._tokens = 0
        self._elapsed: list[float] = []
        self._versions: dict[str, None] = {}  # the app versions that produced these rows, first seen first

    def _values(self, row: Row) -> list[Any]:
        cells = list(row.cells[: self._width])
        if len(cells) < self._width:
            cells += [None] * (self._width - len(cells))
        outputs = row.outputs or {}
        elapsed = None if row.elapsed_s is None else round(row.elapsed_s, 3)
        return [
            *cells, *(outputs.get(k) for k, _ in self._outs),
            row.status.value, row.error, row.attempts, elapsed, row.tokens, row.run_id,
        ]

    def add(self, rows: Iterable[Row]) -> None:
        refs, width, sheet = self._refs, self._width, self._sheet
        status_at = width + len(self._outs)
        counts, words = self._counts, self._status_words
        for row in rows:
            n = str(sheet.next_row)
            values = self._values(row)
            for i in range(width):
                v = values[i]
                if type(v) is str and len(v) >= 10 and v[4] == "-" and _ISO_DATE.fullmatch(v):
                    values[i] = _date_or_text(v)
            for i in range(width, status_at):
                v = values[i]
                if v is not None and type(v) not in _PLAIN:
                    values[i] = _json(v)
            sheet.add_row(
                row_cells(refs, n, values[:status_at])
                + value_cell(refs[status_at] + n, words[row.status], _STATUS_STYLE[row.status])
                + row_cells(refs, n, values[status_at + 1 :], status_at + 1)
            )
            counts[row.status.value] = counts.get(row.status.value, 0) + 1
            self._tokens += row.tokens
            if row.elapsed_s is not None:
                self._elapsed.append(row.elapsed_s)
            if row.workflow_id:
                self._versions[row.workflow_id] = None

    def close(self) -> None:
        labels, figures = self._labels, self._chart_labels
        summary = self._book.add_sheet(SheetPart(labels["sheet"], _SUMMARY_WIDTHS))
        lines = summary_lines(
            self.batch, self._counts, self._tokens, self._elapsed, list(self._versions), labels
        )
        for label, value in lines:
            r = summary.next_row
            summary.add_row(value_cell(f"A{r}", label, Style.LABEL) + value_cell(f"B{r}", value))
        summary.add_row("")
        if self._estimate is not None:
            actual = Actual(sum(self._counts.values()), wall_time(self.batch), self._tokens)
            write_estimate(summary, self._estimate, actual, figures)
            summary.add_row("")
        charts = [write_outcomes(summary, self._counts, figures, labels, chart_row=0)]
        summary.add_row("")
        run_times = write_run_times(summary, self._elapsed, figures, chart_row=CHART_ROWS)
        if run_times is not None:
            charts.append(run_times)
            summary.add_row("")
        for label, value in column_notes(labels):
            r = summary.next_row
            style = Style.HEADER if not value else Style.LABEL
            note = value_cell(f"B{r}", value, Style.WRAP if value else 0)
            summary.add_row(value_cell(f"A{r}", label, style) + note)
        add_charts(self._book, summary, charts)
        self._book.close()


def write_results(
    target: pathlib.Path | IO[bytes],
    batch: Batch,
    rows: Iterable[Row],
    output_keys: Sequence[str] | None = None,
    *,
    labels: Mapping[str, str] = SUMMARY_LABELS,
    chart_labels: Mapping[str, str] = CHART_LABELS,
    estimate: Estimate | None = None,
) -> None:
    """Write the results workbook from rows in hand; ``labels`` (`SUMMARY_LABELS` or a
    translation) word the sheet names, the status words and the Summary, ``chart_labels``
    (`CHART_LABELS` or a translation) its charts and the ``estimate`` set beside the outcome.

    Pass ``output_keys`` (the union of output names in first-seen order) to stream a one-shot
    iterator in constant memory; without it ``rows`` is scanned first, so a non-Sequence is
    materialised into a list. For a batch in the store, `write_results_paged` reads it in pages.
    """
    if output_keys is None:
        if not isinstance(rows, Sequence):
            rows = list(rows)
        output_keys = list(dict.fromkeys(k for r in rows for k in (r.outputs or {})))
    sample = rows[:200] if isinstance(rows, Sequence) else []
    writer = ResultsWriter(
        target, batch, output_keys, sample, labels, chart_labels=chart_labels, estimate=estimate
    )
    writer.add(rows)
    writer.close()


async def write_results_paged(
    target: pathlib.Path | IO[bytes],
    batch: Batch,
    output_keys: Sequence[str],
    pages: RowPages,
    *,
    page_rows: int = PAGE_ROWS,
    offload: Callable[[Callable[[], None]], Awaitable[None]] | None = None,
    labels: Mapping[str, str] = SUMMARY_LABELS,
    chart_labels: Mapping[str, str] = CHART_LABELS,
    estimate: Estimate | None = None,
) -> None:
    """Write the results workbook reading rows a page at a time.

    ``offload`` runs each CPU-bound step (e.g. in a thread, so a daemon's loop stays
    responsive); without it the steps run inline, which is quickest for a CLI process.
    """

    async def run(step: Callable[[], None]) -> None:
        if offload is None:
            step()
        else:
            await offload(step)

    page = list(await pages(-1, page_rows))
    holder: list[ResultsWriter] = []

    def begin(first: list[Row] = page) -> None:
        holder.append(ResultsWriter(
            target, batch, output_keys, first, labels, chart_labels=chart_labels, estimate=estimate
        ))

    await run(begin)
    writer = holder[0]
    while page:
        # the next page is read while this one is written (the database works in its own thread)
        ahead = asyncio.ensure_future(pages(page[-1].index, page_rows)) if len(page) == page_rows else None
        await run(functools.partial(writer.add, page))
        page = list(await ahead) if ahead is not None else []
    await run(writer.close)


def _date_or_text(text: str) -> datetime | str:
    try:
        return datetime.fromisoformat(text)
    except ValueError:  # shaped like a date but not one (2026-13-45): the person's text stays
        return text


def _json(value: Any) -> str:
    return safe_text(json.dumps(value, ensure_ascii=False, default=str))


def _shown_width(value: Any) -> float:
    if value is None:
        return 0.0
    text = value if isinstance(value, str) else str(value)
    first = text.split("\n", 1)[0]
    # East Asian characters take about two columns
    return len(first) + sum(1 for ch in first if ord(ch) >= 0x2E80)


def _widths(
    headers: Sequence[str], inputs: int, outputs: int, sample: Sequence[Sequence[Any]]
) -> list[float]:
    """Column widths from the header and a sample of rows: wide enough to read, capped so long text wraps."""
    widths = []
    for i, header in enumerate(headers):
        if i >= inputs + outputs:
            widths.append(max(_META_WIDTHS[i - inputs - outputs], _shown_width(header) + 3))
            continue
        seen = sorted(_shown_width(r[i]) for r in sample if i < len(r))
        typical = seen[int(len(seen) * 0.9)] if seen else 0.0
        # +3 leaves room for the filter button beside the header text
        widths.append(min(_MAX_WIDTH, max(_MIN_WIDTH, _shown_width(header) + 3, typical + 2)))
    return widths


async def write_batch_results(
    target: pathlib.Path | IO[bytes],
    batch: Batch,
    store: Store,
    *,
    offload: Callable[[Callable[[], None]], Awaitable[None]] | None = None,
    labels: Mapping[str, str] = SUMMARY_LABELS,
    chart_labels: Mapping[str, str] = CHART_LABELS,
) -> None:
    """The results workbook of a stored batch, read from the store in pages, with the
    estimate the batch stored when it was made."""

    async def pages(after: int, limit: int) -> Sequence[Row]:
        return await store.rows_page(batch.id, after=after, limit=limit)

    keys = await store.output_keys(batch.id)
    estimate = await recorded_estimate(store, batch.id)
    await write_results_paged(
        target, batch, keys, pages, offload=offload, labels=labels, chart_labels=chart_labels,
        estimate=estimate,
    )
