"""Steering a lane's batches, as the service asks: serve, pause, cancel, forget.

Pause and cancel stop dispatch at once; rows already claimed but not sent go back
(`pending` on pause, `cancelled` on cancel). Cancel also stops the batch's runs on Dify
and returns once each of them ended, abandoning after a grace period the rows whose stop
did not end them.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict, deque
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Any

from engine.lanes.cursor import Cursor, Mode, cancelled, requeued
from engine.lanes.runner import RowRunner
from engine.lanes.writer import GroupWriter
from engine.models import Batch, Row, RowUpdate


class LaneControl:
    """The part of `Lane` the service steers batches with; `Lane` adds dispatch and rows."""

    cursors: OrderedDict[str, Cursor]
    runner: RowRunner
    _writer: GroupWriter
    _wake: asyncio.Event
    _clock: Callable[[], datetime]
    _cancel_grace_s: float
    _tasks: set[asyncio.Task[None]]

    def add_batch(self, batch: Batch) -> None:
        """Serve (or serve again) a running batch."""
        cursor = self.cursors.get(batch.id)
        if cursor is None:
            cursor = self.cursors[batch.id] = Cursor(batch, Mode.ACTIVE)
        cursor.batch, cursor.mode, cursor.next_claim = batch, Mode.ACTIVE, 0.0
        self._wake.set()

    def serving(self) -> list[str]:
        """The batches this lane is running now."""
        return [batch_id for batch_id, c in self.cursors.items() if c.mode is Mode.ACTIVE]

    def forget(self, batch_id: str) -> None:
        self.cursors.pop(batch_id, None)

    def is_busy(self, batch_id: str) -> bool:
        cursor = self.cursors.get(batch_id)
        return cursor is not None and cursor.busy

    async def pause_batch(self, batch_id: str) -> None:
        """Stop dispatching the batch; rows in flight finish and are kept."""
        cursor = self.cursors.get(batch_id)
        if cursor is not None:
            cursor.mode = Mode.PAUSED
            await self._release(cursor)

    async def cancel_batch(self, batch_id: str) -> None:
        """Stop dispatching, stop the batch's runs on Dify, and end its rows `cancelled`.

        Returns once no row of the batch is in flight here any more (their final updates
        are queued with the writer)."""
        cursor = self.cursors.get(batch_id)
        if cursor is None:
            return
        cursor.mode = Mode.CANCELLED
        await self._release(cursor)
        user = cursor.batch.owner
        stops = []
        for flight in list(cursor.flights.values()):
            task = flight.task
            if task is None or task.done():
                continue
            if flight.task_id:
                stops.append(self.runner.stop(flight.task_id, user))
            else:
                task.cancel()  # not started on Dify's side yet: nothing to wait for
        await asyncio.gather(*stops)
        # wait for every row in flight to end (cancelled, or succeeded if it finished first),
        # so nothing reports the batch while a row of it is still `running`
        late = [f.task for f in cursor.flights.values() if f.task is not None and not f.task.done()]
        if late:
            _, unstopped = await asyncio.wait(late, timeout=self._cancel_grace_s)
            for task in unstopped:
                task.cancel()  # its stop did not end it: abandoned, written `cancelled`
            await asyncio.gather(*unstopped, return_exceptions=True)

    def _cancelled(self, row: Row, attempts: int) -> RowUpdate:
        return cancelled(row, attempts, self._clock())

    async def _release(self, cursor: Cursor) -> None:
        """Hand claimed but unsent rows back: `pending` on pause, `cancelled` on cancel."""
        rows, cursor.buffer = list(cursor.buffer), deque()
        if not rows:
            return
        if cursor.mode is Mode.CANCELLED:
            updates = [self._cancelled(r, r.attempts) for r in rows]
        else:
            updates = [requeued(r) for r in rows]
        await self._writer.write(updates)

    def _background(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

