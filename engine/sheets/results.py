"""The results workbook: each row's inputs, outputs and outcome, streamed, plus a Summary sheet."""

from __future__ import annotations

import pathlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, BinaryIO

from openpyxl import Workbook

from engine.models import Batch, Row
from engine.sheets.sentences import SUMMARY_LABELS
from engine.sheets.xlsx import write_only_cell

META_COLUMNS = ("status", "error", "attempts", "elapsed_s", "tokens", "run_id")


def output_columns(columns: Sequence[str], output_keys: Iterable[str]) -> list[tuple[str, str]]:
    """(output key, column header) pairs; a key that clashes with an input or meta column gets ``output.``."""
    taken = {c.casefold() for c in columns} | set(META_COLUMNS)
    return [(k, f"output.{k}" if k.casefold() in taken else k) for k in output_keys]


def write_results(
    target: pathlib.Path | BinaryIO,
    batch: Batch,
    rows: Iterable[Row],
    output_keys: Sequence[str] | None = None,
    *,
    labels: Mapping[str, str] = SUMMARY_LABELS,
) -> None:
    """Stream the results workbook: original columns, one per output, then status/error/…; plus Summary.

    The output columns must be known before the first row is written. Pass ``output_keys``
    (the union of output names in first-seen order, e.g. from the store) to stream a one-shot
    iterator in constant memory; without it ``rows`` is scanned first, so a non-Sequence is
    materialised into a list. ``labels`` (`SUMMARY_LABELS` or a translation) words the Summary
    sheet and the status words; the column headers stay as the sheet and the app name them.
    """
    if output_keys is None:
        if not isinstance(rows, Sequence):
            rows = list(rows)
        output_keys = list(dict.fromkeys(k for r in rows for k in (r.outputs or {})))
    outs = output_columns(batch.columns, output_keys)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(labels["results_sheet"])
    width = len(batch.columns)
    ws.append([write_only_cell(ws, c) for c in (*batch.columns, *(h for _, h in outs), *META_COLUMNS)])
    counts: dict[str, int] = {}
    tokens = 0
    elapsed: list[float] = []
    versions: dict[str, None] = {}  # the app versions that produced these rows, first seen first
    for row in rows:
        cells = list(row.cells[:width]) + [None] * (width - len(row.cells))
        outputs = row.outputs or {}
        values = [
            *cells,
            *(outputs.get(k) for k, _ in outs),
            labels[f"status_{row.status.value}"],
            row.error,
            row.attempts,
            None if row.elapsed_s is None else round(row.elapsed_s, 3),
            row.tokens,
            row.run_id,
        ]
        ws.append([write_only_cell(ws, v) for v in values])
        counts[row.status.value] = counts.get(row.status.value, 0) + 1
        tokens += row.tokens
        if row.elapsed_s is not None:
            elapsed.append(row.elapsed_s)
        if row.workflow_id:
            versions[row.workflow_id] = None
    _summary(wb.create_sheet(labels["sheet"]), batch, counts, tokens, elapsed, labels, list(versions))
    if isinstance(target, pathlib.Path):
        wb.save(str(target))
    else:
        wb.save(target)


def _summary(
    ws: Any, batch: Batch, counts: dict[str, int], tokens: int, elapsed: list[float],
    labels: Mapping[str, str], versions: list[str],
) -> None:
    wall = (
        (batch.finished_at - batch.started_at).total_seconds()
        if batch.finished_at and batch.started_at
        else None
    )
    status = {s: labels[f"status_{s}"] for s in counts}
    lines: list[tuple[str, Any]] = [
        (labels["workflow"], batch.workflow),
        (labels["app_version"], ", ".join(versions) or None),
        (labels["batch"], batch.id),
        (labels["owner"], batch.owner),
        (labels["source_file"], batch.source_name),
        (labels["batch_status"], labels[f"status_{batch.status.value}"]),
        (labels["created"], batch.created_at),
        (labels["started"], batch.started_at),
        (labels["finished"], batch.finished_at),
        (labels["rows"], sum(counts.values())),
        *((labels["rows_in"].format(status=status[s]), n) for s, n in sorted(counts.items())),
        (labels["blank_rows"], batch.blank_rows),
        (labels["total_tokens"], tokens),
        (labels["wall_time"], None if wall is None else round(wall, 3)),
        (labels["row_time_total"], round(sum(elapsed), 3)),
        (labels["row_time_mean"], round(sum(elapsed) / len(elapsed), 3) if elapsed else None),
        (labels["row_time_max"], round(max(elapsed), 3) if elapsed else None),
    ]
    if batch.error:
        lines.append((labels["error"], batch.error))
    for key, value in lines:
        ws.append([write_only_cell(ws, key), write_only_cell(ws, value)])
