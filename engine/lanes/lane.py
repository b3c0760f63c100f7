"""One lane per workflow: its limits, and round-robin dispatch over the batches it serves.

The dispatcher takes a slot, waits out any lane-wide pause and the rate bucket, then
takes the next row from the batch served longest ago, so a small batch is never stuck
behind a big one. Rows are claimed from the store in chunks, and the next chunk is claimed
in the background while half of the last one is still unsent, so a wave of finishing rows
never waits for the store to hand out their successors. A row's task holds its slot only
while the app is called; a retry waits in the store (`pending`, `not_before`).
"""

from __future__ import annotations

import asyncio
import heapq
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime

from engine.lanes.adoption import LaneAdoption
from engine.lanes.cursor import Cursor, Flight, Mode
from engine.lanes.limits import AimdGate, LanePause, Ticket, TokenBucket
from engine.lanes.lookup import SentRunLookup
from engine.lanes.outage import OutageWatch
from engine.lanes.runner import RowRunner, Signal
from engine.lanes.slots import UNSHARED, Slots
from engine.lanes.writer import GroupWriter
from engine.logcontext import bind_row
from engine.models import Row, RowStatus, RowUpdate
from engine.ports import NoObserver, RunObserver, Store, WorkflowClient
from engine.settings import WorkflowSettings

log = logging.getLogger(__name__)

Finished = Callable[[str], Awaitable[None]]
"""Asked when a batch has nothing queued or in flight; the service decides if it is done."""
Claimed = Callable[[str, int], None]
"""Told how many of a batch's rows a claim moved from `pending` to `running`."""
Troubled = Callable[["Lane"], None]
"""Told when the lane's view of Dify changed: unreachable (again), or back."""


class Lane(LaneAdoption):
    observer: RunObserver = NoObserver()
    """Told how each attempt ended (metrics); set by whoever builds the lane."""

    def __init__(
        self,
        settings: WorkflowSettings,
        client: WorkflowClient,
        store: Store,
        writer: GroupWriter,
        *,
        finished: Finished,
        claimed: Claimed = lambda _batch_id, _n: None,
        troubled: Troubled = lambda _lane: None,
        outage_too_long: Troubled = lambda _lane: None,
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
        self.lookup = SentRunLookup(client, timeout_s=settings.timeout_s, clock=clock, sleep=sleep,
                                    poll_s=run_poll_s)
        self.gate = AimdGate(settings.concurrency)
        seconds = lambda: clock().timestamp()  # noqa: E731
        self.bucket = TokenBucket.per_minute(settings.requests_per_minute, clock=seconds, sleep=sleep)
        self.pause = LanePause(clock=seconds, sleep=sleep)
        self.outage = OutageWatch(base_s=settings.backoff_base_s, max_s=settings.backoff_max_s, rand=rand)
        self._troubled = troubled
        self._outage_too_long = outage_too_long
        self.slots: Slots = UNSHARED  # the workflow's limit across processes (set by the upkeep)
        self.cursors: OrderedDict[str, Cursor] = OrderedDict()
        self._store = store
        self._writer = writer
        self._finished = finished
        self._claimed = claimed
        self._clock = clock
        self._idle_poll_s = idle_poll_s
        self._cancel_grace_s = cancel_grace_s
        self.chunk = max(32, settings.concurrency)
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._stopping = False

    # -- control, called by the service ---------------------------------------------------

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._dispatch(), name=f"lane-{self.settings.name}")

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
        claims = [c.claiming for c in self.cursors.values() if c.claiming is not None]
        await asyncio.gather(*claims, return_exceptions=True)  # their rows are handed back below
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
            await self.outage.turn()  # Dify unreachable: one probe at a time
            await self.pause.wait()  # the probe before us may have made the lane wait again
            if self.bucket is not None:
                await self.bucket.acquire()
            picked = await self._next_row()
        except BaseException:
            self.outage.idle()
            self.gate.release()
            raise
        if picked is None:
            self.outage.idle()
            self.gate.release()
            if self.bucket is not None:
                self.bucket.refund()
            await self._idle()
            return
        cursor, row = picked
        flight = cursor.flights[row.index] = Flight()
        flight.task = self._background(self._run_row(cursor, flight, row, ticket))

    async def _next_row(self) -> tuple[Cursor, Row] | None:
        self._wake.clear()  # a wake-up from here on is seen by the next _idle
        now = self._clock()
        for cursor in [c for c in self.cursors.values() if c.mode is Mode.ACTIVE]:
            row = await self._take(cursor, now)
            if row is not None:
                self.cursors.move_to_end(cursor.batch.id)  # served: go to the back of the line
                return cursor, row
        return None

    async def _take(self, cursor: Cursor, now: datetime) -> Row | None:
        t = now.timestamp()
        if not cursor.buffer:
            if cursor.claiming is None and t >= cursor.next_claim:
                cursor.claiming = self._background(self._claim(cursor, now))
            if cursor.claiming is None:
                return None
            claim = cursor.claiming
            await asyncio.wait([claim])  # not cancelled with us: shutdown hands its rows back
            if not cursor.buffer or cursor.mode is not Mode.ACTIVE:
                if not cursor.busy and cursor.mode is Mode.ACTIVE:
                    await self._finished(cursor.batch.id)
                return None
        row = cursor.buffer.popleft()
        if len(cursor.buffer) <= self.chunk // 2 and cursor.claiming is None and t >= cursor.next_claim:
            cursor.claiming = self._background(self._claim(cursor, now))
        return row

    async def _claim(self, cursor: Cursor, now: datetime) -> None:
        t = now.timestamp()
        try:
            rows = await self._store.claim_rows(cursor.batch.id, limit=self.chunk, now=now)
        except Exception:
            log.exception("lane %s: claiming rows of %s failed", self.settings.name, cursor.batch.id)
            rows = []
        finally:
            cursor.claiming = None
        if rows:
            self._claimed(cursor.batch.id, len(rows))
        cursor.buffer.extend(rows)
        if cursor.mode is not Mode.ACTIVE:  # paused or cancelled while we were claiming
            await self._release(cursor)
        elif not rows:
            while cursor.due and cursor.due[0] <= t:
                heapq.heappop(cursor.due)
            cursor.next_claim = min(t + self._idle_poll_s, cursor.due[0] if cursor.due else float("inf"))
        self._wake.set()

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

    async def _run_row(self, cursor: Cursor, flight: Flight, row: Row, ticket: Ticket) -> None:
        bind_row(row.batch_id, self.settings.name, row.index)
        def started(update: RowUpdate) -> None:
            flight.task_id = update.task_id
            self._writer.put(update)
            if cursor.mode is Mode.CANCELLED and update.task_id:
                self._background(self.runner.stop(update.task_id, cursor.batch.owner))

        try:
            await self._writer.write([self.runner.sent(row, user=cursor.batch.owner)])
            async with self.slots.held():
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
            self.outage.idle()
        if outcome.signal is Signal.OUTAGE:
            self._unreachable(outcome.update)
        elif self.outage.answered():
            log.warning("lane %s: Dify answers again", self.settings.name)
            self._troubled(self)
        if outcome.signal is Signal.SUCCESS:
            self.gate.on_success(ticket)
        elif outcome.signal is Signal.OVERLOAD and self.gate.on_overload(ticket):
            log.warning("lane %s overloaded: limit now %d", self.settings.name, self.gate.limit)
        if outcome.pause_s:
            self.pause.pause_for(outcome.pause_s)
        self._writer.put(outcome.update)
        self.observer.row_settled(self.settings.name, outcome.update)

    def _unreachable(self, update: RowUpdate) -> None:
        now = self._clock()
        first = not self.outage.active
        why = (update.error or "no answer").removeprefix("Dify is unreachable: ")
        wait = self.outage.failed(now, update.started_at or now, why)
        self.pause.pause_for(wait)
        if first:
            log.warning("lane %s: Dify is unreachable (%s); waiting for it",
                        self.settings.name, self.outage.reason)
        self._troubled(self)
        limit = self.settings.outage_pause_after_s
        if limit > 0 and self.outage.lasted(now) >= limit:
            log.warning("lane %s: Dify unreachable for %.0f s; pausing its batches",
                        self.settings.name, limit)
            self._outage_too_long(self)

    def _now(self) -> float:
        return self._clock().timestamp()

