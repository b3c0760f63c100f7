"""The workbook of a comparison: the sheet's rows once, each output side by side per
workflow (``summary [A]``, ``summary [B]``), each workflow's status, and a Compare sheet
with how each workflow did and how many rows each output differs in.

Streamed with the results workbook's writer (`engine.sheets.ooxml`): rows are read a page
at a time from every batch together, so memory stays flat; output text is always text,
never a formula."""

from __future__ import annotations

import functools
import json
import pathlib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import IO, Any

from engine.compare.figures import ComparisonFigures, FiguresTally
from engine.compare.labels import COMPARE_LABELS, side_by_side
from engine.models import Batch, Row, RowStatus
from engine.ports import Store
from engine.sheets.ooxml import (
    SheetPart,
    WorkbookWriter,
    column_letter,
    row_cells,
    safe_text,
    value_cell,
)
from engine.sheets.results import PAGE_ROWS, output_columns
from engine.sheets.sentences import SUMMARY_LABELS
from engine.sheets.styles import Style

# per workflow after the outputs: the outcome, then what a run cost
_META = ("status", "error", "elapsed_s", "tokens")
_STATUS_STYLE = {
    RowStatus.SUCCEEDED: Style.SUCCEEDED,
    RowStatus.FAILED: Style.FAILED,
    RowStatus.CANCELLED: Style.CANCELLED,
    RowStatus.PENDING: Style.NOT_RUN,
    RowStatus.RUNNING: Style.NOT_RUN,
}
_PLAIN = (str, int, float, bool)

Offload = Callable[[Callable[[], None]], Awaitable[None]]


class ComparisonWriter:
    """Streams a comparison workbook: `add` the rows of each sheet row (one per batch), then `close`."""

    def __init__(
        self,
        target: pathlib.Path | IO[bytes],
        batches: Sequence[Batch],
        comparison_id: str,
        output_keys: Sequence[str],
        labels: Mapping[str, str] = SUMMARY_LABELS,
        words: Mapping[str, str] = COMPARE_LABELS,
    ) -> None:
        self.batches = list(batches)
        self.comparison_id = comparison_id
        self._words = words
        self._status_words = {s: labels[f"status_{s.value}"] for s in RowStatus}
        lead = self.batches[0]
        self._width = len(lead.columns)
        workflows = [b.workflow for b in self.batches]
        self._outs = output_columns(lead.columns, output_keys)
        self._out_headers = dict(self._outs)
        headers = [
            *lead.columns, *side_by_side([h for _, h in self._outs], workflows),
            words["differs_column"], *side_by_side(_META, workflows),
        ]
        self._refs = [column_letter(i) for i in range(len(headers))]
        n = len(self.batches)
        widths = [16.0] * self._width + [30.0] * (len(self._outs) * n) + [20.0]
        widths += [11.0] * n + [30.0] * n + [10.0] * n + [9.0] * n
        self._book = WorkbookWriter(str(target) if isinstance(target, pathlib.Path) else target)
        part = SheetPart(labels["results_sheet"], widths, freeze_header=True, autofilter=True)
        self._sheet = self._book.add_sheet(part)
        self._sheet.add_row("".join(value_cell(f"{r}1", h, Style.HEADER)
                                    for r, h in zip(self._refs, headers, strict=True)))
        self._tally = FiguresTally([(b.workflow, b.id) for b in self.batches], list(output_keys))

    def add(self, aligned: Sequence[Sequence[Row | None]]) -> None:
        """Sheet rows in order; each the rows of that sheet row in the batches' order."""
        refs, sheet = self._refs, self._sheet
        for rows in aligned:
            n = str(sheet.next_row)
            first = next(r for r in rows if r is not None)
            cells = list(first.cells[: self._width]) + [None] * (self._width - len(first.cells))
            outputs = [
                _shown((r.outputs or {}).get(k) if r else None) for k, _ in self._outs for r in rows
            ]
            differing = [self._out_headers[k] for k, _ in self._outs if self._tally.differs(rows, k)]
            values = [*cells, *outputs, ", ".join(differing) or None]
            line = row_cells(refs, n, values)
            at = len(values)
            for i, r in enumerate(rows):
                if r is not None:
                    word = self._status_words[r.status]
                    line += value_cell(refs[at + i] + n, word, _STATUS_STYLE[r.status])
            at += len(rows)
            rest: list[Any] = [r.error if r else None for r in rows]
            rest += [None if not r or r.elapsed_s is None else round(r.elapsed_s, 3) for r in rows]
            rest += [r.tokens if r else None for r in rows]
            sheet.add_row(line + row_cells(refs, n, rest, at))
            self._tally.add(rows)

    def close(self) -> ComparisonFigures:
        figures = self._tally.figures()
        words = self._words
        sheet = self._book.add_sheet(SheetPart(words["sheet"], (30.0, *([24.0] * len(self.batches)))))

        def line(label: str, values: Sequence[Any], style: int = Style.LABEL) -> None:
            r = str(sheet.next_row)
            refs = [column_letter(i) for i in range(len(values) + 1)]
            sheet.add_row(value_cell(f"A{r}", label, style) + row_cells(refs, r, list(values), 1))

        each = figures.workflows
        line(words["workflow"], [f.workflow for f in each], Style.HEADER)
        line(words["comparison"], [self.comparison_id] * len(each))
        line(words["source_file"], [self.batches[0].source_name] * len(each))
        line(words["batch"], [f.batch_id for f in each])
        line(words["rows"], [f.rows for f in each])
        line(words["succeeded"], [f.succeeded for f in each])
        line(words["failed"], [f.failed for f in each])
        line(words["success_rate"], [None if f.success_rate is None else round(f.success_rate * 100, 1)
                                     for f in each])
        line(words["median_s"], [None if f.median_s is None else round(f.median_s, 3) for f in each])
        line(words["p95_s"], [None if f.p95_s is None else round(f.p95_s, 3) for f in each])
        line(words["tokens"], [f.tokens for f in each])
        sheet.add_row("")
        line(words["differ_heading"], [words["differ_rows"], words["differ_of"]], Style.HEADER)
        for column in figures.columns:
            line(self._out_headers[column.key], [column.differing, column.compared])
        sheet.add_row("")
        r = sheet.next_row
        sheet.add_row(value_cell(f"A{r}", words["note"], Style.WRAP))
        self._book.close()
        return figures


async def write_comparison(
    target: pathlib.Path | IO[bytes],
    batches: Sequence[Batch],
    store: Store,
    *,
    comparison_id: str,
    offload: Offload | None = None,
    labels: Mapping[str, str] = SUMMARY_LABELS,
    words: Mapping[str, str] = COMPARE_LABELS,
    page_rows: int = PAGE_ROWS,
) -> ComparisonFigures:
    """Write a stored comparison's workbook, reading every batch a page at a time.

    ``offload`` runs each CPU-bound step (a daemon passes a thread, so its loop stays free)."""

    async def run(step: Callable[[], Any]) -> None:
        if offload is None:
            step()
        else:
            await offload(step)

    keys: list[str] = []
    for batch in batches:
        keys.extend(k for k in await store.output_keys(batch.id) if k not in keys)
    holder: list[ComparisonWriter] = []
    await run(lambda: holder.append(ComparisonWriter(target, batches, comparison_id, keys, labels, words)))
    writer = holder[0]
    after = -1
    while True:
        pages = [await store.rows_page(b.id, after=after, limit=page_rows) for b in batches]
        by_index = [{r.index: r for r in page} for page in pages]
        indexes = sorted({i for found in by_index for i in found})
        if not indexes:
            break
        aligned = [[found.get(i) for found in by_index] for i in indexes]
        await run(functools.partial(writer.add, aligned))
        after = indexes[-1]
    figures: list[ComparisonFigures] = []
    await run(lambda: figures.append(writer.close()))
    return figures[0]


def _shown(value: Any) -> Any:
    if value is None or type(value) in _PLAIN:
        return value
    return safe_text(json.dumps(value, ensure_ascii=False, default=str))
