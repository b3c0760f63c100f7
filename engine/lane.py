"""One lane per workflow: its limits, and round-robin dispatch over the batches it serves.

The dispatcher takes a slot, waits out any lane-wide pause and the rate bucket, then
takes the next row from the batch served longest ago, so a small batch is never stuck
behind a big one. Rows are claimed from the store in chunks. A row's task holds its slot
only while the app is called; a retry waits in the store (`pending`, `not_before`).
"""

from __future__ import annotations

import asyncio
import heapq
import logging
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from engine.limits import AimdGate, LanePause, TokenBucket
from engine.models import Batch, BatchStatus, Row, RowStatus, RowUpdate
from engine.ports import Store, WorkflowClient
from engine.runner import RowRunner, Signal
from engine.settings import WorkflowSettings
from engine.writer import GroupWriter

log = logging.getLogger(__name__)

Finished = Callable[[str], Awaitable[None]]
"""Asked when a batch has nothing queued or in flight; the service decides if it is done."""


class Mode(Enum):
    ACTIVE = "active"
    PAUSED = "paused"
    CANCELLED = "cancelled"


@dataclass(eq=False, slots=True)
class _Flight:
    task: asyncio.Task[None] | None = None
    task_id: str | None = None


class _Cursor:
    """The lane's view of one batch: claimed rows not yet sent, and rows in flight."""

    __slots__ = ("batch", "buffer", "due", "flights", "mode", "next_claim")

    def __init__(self, batch: Batch, mode: Mode) -> None:
        self.batch = batch
        self.mode = mode
        self.buffer: deque[Row] = deque()
        self.flights: dict[int, _Flight] = {}
        """Rows sent (or being reconciled) whose final write has not committed yet."""
        self.next_claim = 0.0
        self.due: list[float] = []
        """not_before times of this batch's retries, soonest first."""

    @property
    def busy(self) -> bool:
        return bool(self.buffer or self.flights)


class Lane:
    def __init__(
        self,
        settings: WorkflowSettings,
        client: WorkflowClient,
        store: Store,
        writer: GroupWriter,
        *,
        finished: Finished,
        clock: Callable[[], datetime],
        sleep: Callable[[float], Awaitable[None]],
        rand: Callable[[], float],
        idle_poll_s: float = 1.0,
        run_poll_s: float = 2.0,
        cancel_grace_s: float = 5.0,
    ) -> None:
        self.settings = settings
        self.client = client
        self.runner = RowRunner(settings, client, clock=clock, sleep=sleep, rand=rand, poll_s=run_poll_s)
        self.gate = AimdGate(settings.concurrency)
        seconds = lambda: clock().timestamp()  # noqa: E731
        self.bucket = TokenBucket.per_minute(settings.requests_per_minute, clock=seconds, sleep=sleep)
        self.pause = LanePause(clock=seconds, sleep=sleep)
        self.cursors: OrderedDict[str, _Cursor] = OrderedDict()
        self._store = store
        self._writer = writer
        self._finished = finished
        self._clock = clock
        self._idle_poll_s = idle_poll_s
        self._cancel_grace_s = cancel_grace_s
        self._chunk = max(8, settings.concurrency)
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._stopping = False

    # -- control, called by the service ---------------------------------------------------

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._dispatch(), name=f"lane-{self.settings.name}")

    def add_batch(self, batch: Batch) -> None:
        """Serve (or serve again) a running batch."""
        cursor = self.cursors.get(batch.id)
        if cursor is None:
            cursor = self.cursors[batch.id] = _Cursor(batch, Mode.ACTIVE)
        cursor.batch, cursor.mode, cursor.next_claim = batch, Mode.ACTIVE, 0.0
        self._wake.set()

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
        """Stop dispatching, stop the batch's runs on Dify, and end its rows `cancelled`."""
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
        late = [f.task for f in cursor.flights.values() if f.task is not None and not f.task.done()]
        if late:
            self._background(self._cancel_after(late, self._cancel_grace_s))

    def adopt(self, batch: Batch, row: Row) -> None:
        """Watch a row that was in flight before a restart until its run is resolved."""
        mode = Mode.ACTIVE if batch.status is BatchStatus.RUNNING else Mode.PAUSED
        cursor = self.cursors.get(batch.id) or self.cursors.setdefault(batch.id, _Cursor(batch, mode))
        flight = cursor.flights[row.index] = _Flight(task_id=row.task_id)
        flight.task = self._background(self._watch(cursor, row))

    async def reclaim(self, now: datetime) -> None:
        """Take over rows of the running batches whose owner stopped renewing their lease."""
        for cursor in [c for c in self.cursors.values() if c.mode is Mode.ACTIVE]:
            rows = await self._store.reclaim_expired(cursor.batch.id, limit=self._chunk, now=now)
            ours = cursor.flights.keys() | {r.index for r in cursor.buffer}
            for row in rows:
                if row.index in ours:
                    continue  # our own heartbeat was late; taking it re-leased it to us
                log.info("row %s/%d: lease expired, taking it over", row.batch_id, row.index)
                if row.run_id:
                    self.adopt(cursor.batch, row)
                else:
                    self._writer.put(requeued(row))

    def committed(self, batch_id: str, updates: Iterable[RowUpdate]) -> None:
        """The writer stored these updates: rows leave flight, retries get a claim time."""
        cursor = self.cursors.get(batch_id)
        if cursor is None:
            return
        now = self._now()
        for u in updates:
            if u.status is RowStatus.RUNNING:
                continue
            cursor.flights.pop(u.index, None)
            if u.status is RowStatus.PENDING:
                due = u.not_before.timestamp() if u.not_before is not None else now
                heapq.heappush(cursor.due, due)
                cursor.next_claim = min(cursor.next_claim, due)
        if not cursor.busy:
            if cursor.mode is Mode.ACTIVE:
                cursor.next_claim = min(cursor.next_claim, now)  # claim again: maybe it is done
            else:
                del self.cursors[batch_id]
        self._wake.set()

    async def shutdown(self, grace_s: float) -> None:
        """Stop intake, give rows in flight ``grace_s`` to finish, then abandon the rest.

        Abandoned rows stay `running` with their run id for the next `recover()`.
        """
        self._stopping = True
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        for cursor in list(self.cursors.values()):
            await self._release(cursor)  # unsent rows go back to `pending` (cancelled ones have none)
        if self._tasks:
            _, late = await asyncio.wait(set(self._tasks), timeout=grace_s)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)

    # -- dispatch -------------------------------------------------------------------------

    async def _dispatch(self) -> None:
        while True:
            try:
                await self._dispatch_one()
            except Exception:
                log.exception("lane %s: dispatch failed; retrying", self.settings.name)
                await asyncio.sleep(self._idle_poll_s)

    async def _dispatch_one(self) -> None:
        ticket = await self.gate.acquire()
        try:
            await self.pause.wait()
            if self.bucket is not None:
                await self.bucket.acquire()
            picked = await self._next_row()
        except BaseException:
            self.gate.release()
            raise
        if picked is None:
            self.gate.release()
            if self.bucket is not None:
                self.bucket.refund()
            await self._idle()
            return
        cursor, row = picked
        flight = cursor.flights[row.index] = _Flight()
        flight.task = self._background(self._run_row(cursor, flight, row, ticket))

    async def _next_row(self) -> tuple[_Cursor, Row] | None:
        self._wake.clear()  # a wake-up from here on is seen by the next _idle
        now = self._clock()
        for cursor in [c for c in self.cursors.values() if c.mode is Mode.ACTIVE]:
            row = await self._take(cursor, now)
            if row is not None:
                self.cursors.move_to_end(cursor.batch.id)  # served: go to the back of the line
                return cursor, row
        return None

    async def _take(self, cursor: _Cursor, now: datetime) -> Row | None:
        if cursor.buffer:
            return cursor.buffer.popleft()
        t = now.timestamp()
        if t < cursor.next_claim:
            return None
        rows = await self._store.claim_rows(cursor.batch.id, limit=self._chunk, now=now)
        cursor.buffer.extend(rows)
        if cursor.mode is not Mode.ACTIVE:  # paused or cancelled while we were claiming
            await self._release(cursor)
            return None
        if rows:
            return cursor.buffer.popleft()
        while cursor.due and cursor.due[0] <= t:
            heapq.heappop(cursor.due)
        cursor.next_claim = min(t + self._idle_poll_s, cursor.due[0] if cursor.due else float("inf"))
        if not cursor.busy:
            await self._finished(cursor.batch.id)
        return None

    async def _idle(self) -> None:
        now = self._now()
        waits = [c.next_claim - now for c in self.cursors.values() if c.mode is Mode.ACTIVE]
        timeout = min(self._idle_poll_s, max(0.001, min(waits))) if waits else None
        try:
            async with asyncio.timeout(timeout):
                await self._wake.wait()
        except TimeoutError:
            pass

    # -- rows -----------------------------------------------------------------------------

    async def _run_row(self, cursor: _Cursor, flight: _Flight, row: Row, ticket: int) -> None:
        def started(update: RowUpdate) -> None:
            flight.task_id = update.task_id
            self._writer.put(update)
            if cursor.mode is Mode.CANCELLED and update.task_id:
                self._background(self.runner.stop(update.task_id, cursor.batch.owner))

        try:
            outcome = await self.runner.run(
                row, user=cursor.batch.owner, started=started,
                cancelled=lambda: cursor.mode is Mode.CANCELLED,
            )
        except asyncio.CancelledError:
            if not self._stopping:
                self._writer.put(self._cancelled(row, row.attempts + 1))
            raise
        finally:
            self.gate.release()
        if outcome.signal is Signal.SUCCESS:
            self.gate.on_success()
        elif outcome.signal is Signal.OVERLOAD and self.gate.on_overload(ticket):
            log.warning("lane %s overloaded: limit now %d", self.settings.name, self.gate.limit)
        if outcome.pause_s:
            self.pause.pause_for(outcome.pause_s)
        self._writer.put(outcome.update)

    async def _watch(self, cursor: _Cursor, row: Row) -> None:
        await self.gate.acquire()  # the run still occupies Dify: count it against the lane
        try:
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

    def _cancelled(self, row: Row, attempts: int) -> RowUpdate:
        return RowUpdate(row.batch_id, row.index, RowStatus.CANCELLED, attempts,
                         error="cancelled", started_at=row.started_at, finished_at=self._clock())


    async def _release(self, cursor: _Cursor) -> None:
        """Hand claimed but unsent rows back: `pending` on pause, `cancelled` on cancel."""
        rows, cursor.buffer = list(cursor.buffer), deque()
        if not rows:
            return
        if cursor.mode is Mode.CANCELLED:
            updates = [self._cancelled(r, r.attempts) for r in rows]
        else:
            updates = [requeued(r) for r in rows]
        await self._writer.write(updates)

    async def _cancel_after(self, tasks: list[asyncio.Task[None]], delay_s: float) -> None:
        await asyncio.sleep(delay_s)
        for task in tasks:
            task.cancel()

    def _background(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _now(self) -> float:
        return self._clock().timestamp()


def requeued(row: Row) -> RowUpdate:
    """The row back to `pending` as it was, its attempt not spent (the stop was ours)."""
    return RowUpdate(row.batch_id, row.index, RowStatus.PENDING, row.attempts, not_before=row.not_before,
                     error=row.error, overload_since=row.overload_since)
