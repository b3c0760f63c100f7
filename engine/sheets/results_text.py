"""What the results workbook's Summary sheet says, from the labels of the reader's language.

The English labels are `engine.sheets.sentences.SUMMARY_LABELS`; a catalogue in `bot` gives
the same keys in another language, so the engine never imports a front end's wording."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from engine.models import Batch

NOTED_COLUMNS = ("status", "error", "attempts", "elapsed_s", "tokens", "run_id")
"""The technical columns the Summary explains (label ``note_<column>``)."""


def summary_lines(
    batch: Batch,
    counts: dict[str, int],
    tokens: int,
    elapsed: Sequence[float],
    versions: Sequence[str],
    labels: Mapping[str, str],
) -> list[tuple[str, Any]]:
    """(label, value) pairs of the Summary sheet, in order; times are datetimes, durations seconds."""
    wall = wall_time(batch)
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
        *(
            (labels["rows_in"].format(status=labels[f"status_{s}"]), n)
            for s, n in sorted(counts.items())
        ),
        (labels["blank_rows"], batch.blank_rows),
        (labels["total_tokens"], tokens),
        (labels["wall_time"], None if wall is None else round(wall, 3)),
        (labels["row_time_total"], round(sum(elapsed), 3)),
        (labels["row_time_mean"], round(sum(elapsed) / len(elapsed), 3) if elapsed else None),
        (labels["row_time_max"], round(max(elapsed), 3) if elapsed else None),
    ]
    if batch.error:
        lines.append((labels["error"], batch.error))
    return lines


def wall_time(batch: Batch) -> float | None:
    """Seconds from the batch's start to its finish; None while it has not finished."""
    if batch.finished_at and batch.started_at:
        return (batch.finished_at - batch.started_at).total_seconds()
    return None


def column_notes(labels: Mapping[str, str]) -> list[tuple[str, str]]:
    """The heading, then (column, meaning) for each technical column."""
    return [(labels["columns"], ""), *((c, labels[f"note_{c}"]) for c in NOTED_COLUMNS)]
