"""Engine values for store tests: batches, rows, schedules with sensible defaults."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from engine.models import Batch, BatchStatus, ChatRef, Row, Schedule, ScheduleKind

T0 = datetime(2026, 5, 1, 9, 30, 15, 123456, tzinfo=UTC)


def running_batch(batch_id: str = "b1", **changes: Any) -> Batch:
    """A batch whose rows may be claimed (claims take rows of running batches only)."""
    return batch(batch_id, **{"status": BatchStatus.RUNNING, **changes})


def batch(batch_id: str = "b1", **changes: Any) -> Batch:
    values: dict[str, Any] = {
        "id": batch_id,
        "workflow": "summarize",
        "owner": "telegram:1",
        "status": BatchStatus.PENDING,
        "total": 3,
        "created_at": T0,
        "columns": ("title", "text"),
        "source_name": "sheet.xlsx",
    }
    values.update(changes)
    return Batch(**values)


def rows(batch_id: str = "b1", n: int = 3, **changes: Any) -> list[Row]:
    return [
        Row(
            batch_id=batch_id,
            index=i,
            sheet_row=i + 2,
            cells=(f"title {i}", f"text {i}"),
            inputs={"title": f"title {i}", "text": f"text {i}"},
            **changes,
        )
        for i in range(n)
    ]


def schedule(schedule_id: str = "s1", **changes: Any) -> Schedule:
    values: dict[str, Any] = {
        "id": schedule_id,
        "owner": "slack:U1",
        "workflow": "summarize",
        "kind": ScheduleKind.CRON,
        "when_text": "every weekday 09:00",
        "timezone": "Asia/Shanghai",
        "source_name": "sheet.xlsx",
        "source_path": "data/uploads/s1.xlsx",
        "created_at": T0,
        "cron": "0 9 * * 1-5",
        "chat": ChatRef("slack", "C1", thread_id="1714555555.000100", owner_display="Ann"),
    }
    values.update(changes)
    return Schedule(**values)


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)
