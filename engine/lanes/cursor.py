"""A lane's view of one batch (claimed rows not yet sent, rows in flight), and the row
updates the lane writes on its own authority: a requeue and a cancel."""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from engine.models import Batch, Row, RowStatus, RowUpdate


class Mode(Enum):
    ACTIVE = "active"
    PAUSED = "paused"
    CANCELLED = "cancelled"


@dataclass(eq=False, slots=True)
class Flight:
    task: asyncio.Task[None] | None = None
    task_id: str | None = None


class Cursor:
    """Claimed rows not yet sent, rows in flight, and when to claim again."""

    __slots__ = ("batch", "buffer", "claiming", "due", "flights", "mode", "next_claim")

    def __init__(self, batch: Batch, mode: Mode) -> None:
        self.batch = batch
        self.mode = mode
        self.buffer: deque[Row] = deque()
        self.flights: dict[int, Flight] = {}
        """Rows sent (or being reconciled) whose final write has not committed yet."""
        self.next_claim = 0.0
        self.claiming: asyncio.Task[None] | None = None
        """A claim under way; its rows join ``buffer`` (or go back, if the batch stopped)."""
        self.due: list[float] = []
        """not_before times of this batch's retries, soonest first."""

    @property
    def busy(self) -> bool:
        return bool(self.buffer or self.flights or self.claiming)


def requeued(row: Row) -> RowUpdate:
    """The row back to `pending` as it was, its attempt not spent (the stop was ours)."""
    return RowUpdate(row.batch_id, row.index, RowStatus.PENDING, row.attempts, not_before=row.not_before,
                     error=row.error, overload_since=row.overload_since)


def cancelled(row: Row, attempts: int, now: datetime) -> RowUpdate:
    return RowUpdate(row.batch_id, row.index, RowStatus.CANCELLED, attempts,
                     error="cancelled", started_at=row.started_at, finished_at=now)
