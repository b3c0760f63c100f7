"""Every word the results workbook's Summary sheet shows, kept in one place so it can be translated."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from engine.models import Batch

SUMMARY_LABELS: dict[str, str] = {
    "workflow": "Workflow",
    "batch": "Batch",
    "owner": "Started by",
    "source": "Source file",
    "status": "Batch status",
    "created": "Created (UTC)",
    "started": "Started (UTC)",
    "finished": "Finished (UTC)",
    "rows": "Rows",
    "rows_status": "Rows {status}",
    "blank": "Blank rows skipped",
    "tokens": "Total tokens",
    "wall": "Wall time (s)",
    "row_total": "Row time total (s)",
    "row_mean": "Row time mean (s)",
    "row_max": "Row time max (s)",
    "error": "Error",
    "columns": "About the columns",
}
"""Summary sheet labels by key; the i18n catalogue replaces the values, never the keys."""

COLUMN_NOTES: dict[str, str] = {
    "status": "succeeded, failed, cancelled; pending or running means the row had not run "
    "when this file was written",
    "error": "why the row failed, in Dify's words where Dify gave a reason",
    "attempts": "how many times the row was sent to Dify (retries after transient errors count)",
    "elapsed_s": "seconds the row's last call to Dify took",
    "tokens": "tokens Dify reported for the row",
    "run_id": "Dify's run id: find the run in the app's logs in Dify",
}
"""What each technical column means, by column header."""


def summary_lines(
    batch: Batch, counts: dict[str, int], tokens: int, elapsed: Sequence[float]
) -> list[tuple[str, Any]]:
    """(label, value) pairs of the Summary sheet, in order; times are datetimes, durations seconds."""
    label = SUMMARY_LABELS
    wall = (
        (batch.finished_at - batch.started_at).total_seconds()
        if batch.finished_at and batch.started_at
        else None
    )
    lines: list[tuple[str, Any]] = [
        (label["workflow"], batch.workflow),
        (label["batch"], batch.id),
        (label["owner"], batch.owner),
        (label["source"], batch.source_name),
        (label["status"], batch.status.value),
        (label["created"], batch.created_at),
        (label["started"], batch.started_at),
        (label["finished"], batch.finished_at),
        (label["rows"], sum(counts.values())),
        *((label["rows_status"].format(status=s), n) for s, n in sorted(counts.items())),
        (label["blank"], batch.blank_rows),
        (label["tokens"], tokens),
        (label["wall"], None if wall is None else round(wall, 3)),
        (label["row_total"], round(sum(elapsed), 3)),
        (label["row_mean"], round(sum(elapsed) / len(elapsed), 3) if elapsed else None),
        (label["row_max"], round(max(elapsed), 3) if elapsed else None),
    ]
    if batch.error:
        lines.append((label["error"], batch.error))
    return lines


def column_notes() -> list[tuple[str, str]]:
    """The heading, then (column, meaning) for each technical column."""
    return [(SUMMARY_LABELS["columns"], ""), *COLUMN_NOTES.items()]

