"""Rows a restart or a dead replica left in flight, taken over by a lane: a row with a run
id is watched until Dify says how its run ended; a row sent without one is first looked up
in Dify's own records (`engine.lanes.lookup`), and sent again only when no run shows up."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import replace

from engine.lanes.control import LaneControl
from engine.lanes.cursor import Cursor, Flight, Mode, requeued
from engine.lanes.limits import AimdGate
from engine.lanes.lookup import SentRunLookup
from engine.lanes.slots import Slots
from engine.logcontext import bind_row
from engine.models import Batch, BatchStatus, Row, RowStatus
from engine.ports import RunObserver, Store
from engine.settings import WorkflowSettings

log = logging.getLogger(__name__)


class LaneAdoption(LaneControl):
    """The part of `Lane` that takes over rows in flight; `Lane` adds dispatch."""

    settings: WorkflowSettings
    gate: AimdGate
    lookup: SentRunLookup
    slots: Slots
    observer: RunObserver
    _store: Store
    _stopping: bool

    def adopt(self, batch: Batch, row: Row) -> None:
        """Watch a row that was in flight before a restart until its run is resolved: by its
        run id, or (sent without one) by looking the run up in Dify's records first."""
        if not row.run_id:
            self.adopt_sent(batch, [row])
            return
        cursor = self._cursor_for(batch)
        flight = cursor.flights[row.index] = Flight(task_id=row.task_id)
        flight.task = self._background(self._watch(cursor, row))

    def adopt_sent(self, batch: Batch, rows: Sequence[Row]) -> None:
        """Rows left `running` without a run id: those sent are looked up in Dify's records
        (together, one search for them all), the others go back to `pending`."""
        sent = [r for r in rows if r.sent_at is not None and r.sent_user]
        for row in rows:
            if row.sent_at is None or not row.sent_user:
                self._writer.put(requeued(row))
        if not sent:
            return
        cursor = self._cursor_for(batch)
        task = self._background(self._find_sent(cursor, sent))
        for row in sent:
            cursor.flights[row.index] = Flight(task=task)

    def requeue(self, row: Row) -> None:
        """Hand a row taken over from a dead replica back to `pending` (it has no run id);
        one that was sent is looked up in Dify's records first."""
        cursor = self.cursors.get(row.batch_id)
        if row.sent_at is not None and row.sent_user and cursor is not None:
            self.adopt_sent(cursor.batch, [row])
            return
        self._writer.put(requeued(row))

    def _cursor_for(self, batch: Batch) -> Cursor:
        mode = Mode.ACTIVE if batch.status is BatchStatus.RUNNING else Mode.PAUSED
        return self.cursors.get(batch.id) or self.cursors.setdefault(batch.id, Cursor(batch, mode))

    async def _watch(self, cursor: Cursor, row: Row) -> None:
        bind_row(row.batch_id, self.settings.name, row.index)
        await self.gate.acquire()  # the run still occupies Dify: count it against the lane
        try:
            async with self.slots.held():
                update = await self.runner.reconcile(row, user=cursor.batch.owner)
        except asyncio.CancelledError:
            if not self._stopping:
                self._writer.put(self._cancelled(row, row.attempts))
            raise
        finally:
            self.gate.release()
        if cursor.mode is Mode.CANCELLED and update.status is RowStatus.PENDING:
            update = self._cancelled(row, row.attempts)
        self._writer.put(update)
        self.observer.row_settled(self.settings.name, update)

    async def _find_sent(self, cursor: Cursor, rows: list[Row]) -> None:
        try:
            taken = {r.run_id for r in await self._store.rows(cursor.batch.id) if r.run_id}
            found = await self.lookup.resolve(rows, taken)
        except asyncio.CancelledError:
            if not self._stopping:
                for row in rows:
                    self._writer.put(self._cancelled(row, row.attempts))
            raise
        except Exception:
            log.exception("lane %s: looking up sent rows of %s failed", self.settings.name, cursor.batch.id)
            found = {}
        def cancelled() -> bool:
            return cursor.mode is Mode.CANCELLED

        for row in rows:
            run = found.get(row.index)
            if run is None:
                # Dify recorded no run for it within its timeout: send it again, attempt unspent
                self._writer.put(self._cancelled(row, row.attempts) if cancelled() else requeued(row))
                continue
            log.info("row %s/%d: found its run %s in Dify's records", row.batch_id, row.index, run.run_id)
            adopted = replace(row, attempts=row.attempts + 1, run_id=run.run_id)
            if run.result is not None:
                self._writer.put(self.runner.settle(adopted, run.result, cancelled=cancelled).update)
            else:  # still running: watch it as a recovered run
                cursor.flights[row.index] = Flight(task=self._background(self._watch(cursor, adopted)))
