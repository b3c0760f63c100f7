"""Sharing one database with other replicas: lease heartbeat, take-over and discovery.

Rows are claimed with a lease (DESIGN §5). While this process lives, a heartbeat keeps
its leases ahead of the clock, so only a dead (or frozen) replica's rows ever expire.
Each tick, every lane takes over its running batches' expired rows: a row with a saved
run id is reconciled with Dify like at recovery (its finished result is kept, never run
again), one without goes back to `pending`. Every ``discover_s`` the store is asked for
running batches, to serve the ones this process does not serve yet (another replica created
or resumed them) and to pause or cancel the ones another replica paused or cancelled.
Between two discoveries a pause elsewhere still stops this process's claims at once: the
store hands out rows of running batches only.
Each tick also gives back the concurrency slots a lane did not use (`engine.lanes.slots`): every
lane gets its share here so the workflow's limit holds across processes.
On a single process all of this finds nothing to do and costs one small UPDATE a tick.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Collection, Iterable, Mapping
from datetime import datetime

from engine.lanes.cursor import Mode
from engine.lanes.lane import Lane
from engine.lanes.slots import SharedSlots
from engine.models import Batch, BatchStatus
from engine.ports import Store
from engine.settings import WorkflowSettings

log = logging.getLogger(__name__)

LEASE_FLOOR_S = 60.0


def lease_for(workflows: Iterable[WorkflowSettings]) -> float:
    """A lease outliving the longest row timeout twice over, so a live row never lapses."""
    longest = max((s.timeout_s for s in workflows), default=0.0)
    return max(LEASE_FLOOR_S, 2 * longest)


def checked_lease(workflows: Collection[WorkflowSettings], lease_s: float | None) -> float:
    """``lease_s`` (default: `lease_for`), refused unless it outlives every row timeout."""
    longest = max((s.timeout_s for s in workflows), default=0.0)
    lease = lease_s if lease_s is not None else lease_for(workflows)
    if lease <= longest:
        raise ValueError(f"lease_s {lease:g} must exceed the longest row timeout ({longest:g} s)")
    return lease


class Upkeep:
    def __init__(
        self,
        store: Store,
        lanes: Mapping[str, Lane],
        *,
        locks: Mapping[str, asyncio.Lock],
        clock: Callable[[], datetime],
        heartbeat_s: float,
        discover_s: float,
        serve_others: bool = True,
    ) -> None:
        self._store = store
        self._lanes = lanes
        self._locks = locks
        self._clock = clock
        self._heartbeat_s = heartbeat_s
        self._discover_s = discover_s
        self._serve_others = serve_others
        self._task: asyncio.Task[None] | None = None
        self.slots = {
            name: SharedSlots(
                store, name, lane.settings.concurrency, clock=clock,
                poll_s=min(1.0, heartbeat_s, discover_s),
            )
            for name, lane in lanes.items()
        }
        for name, lane in lanes.items():
            lane.slots = self.slots[name]

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="replica-upkeep")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        tick = min(self._heartbeat_s, self._discover_s)
        next_beat = loop.time() + self._heartbeat_s
        next_discovery = loop.time() + self._discover_s
        while True:
            await asyncio.sleep(tick)
            try:
                if loop.time() >= next_beat:
                    next_beat = loop.time() + self._heartbeat_s
                    await self._store.renew_leases(now=self._clock())
                    for lane in self._lanes.values():
                        await self.reclaim(lane, self._clock())
                if loop.time() >= next_discovery:
                    next_discovery = loop.time() + self._discover_s
                    await self.discover()
                for slots in self.slots.values():
                    await slots.settle()
            except Exception:
                # a database hiccup must not end the upkeep: the next tick tries again
                log.exception("replica upkeep failed; retrying in %.1f s", tick)

    async def reclaim(self, lane: Lane, now: datetime) -> None:
        """Take over rows of the lane's running batches whose owner stopped renewing their lease."""
        for cursor in [c for c in lane.cursors.values() if c.mode is Mode.ACTIVE]:
            rows = await self._store.reclaim_expired(cursor.batch.id, limit=lane.chunk, now=now)
            ours = cursor.flights.keys() | {r.index for r in cursor.buffer}
            for row in rows:
                if row.index in ours:
                    continue  # our own heartbeat was late; taking it re-leased it to us
                log.info("row %s/%d: lease expired, taking it over", row.batch_id, row.index)
                if row.run_id:
                    lane.adopt(cursor.batch, row)
                else:
                    lane.requeue(row)

    async def discover(self) -> None:
        """Follow what other replicas did: serve running batches this process does not serve
        (started or resumed elsewhere), and pause or cancel the ones it serves that were
        paused or cancelled elsewhere."""
        running = await self._store.list_batches(statuses=[BatchStatus.RUNNING], limit=10_000)
        for batch in running:
            lane = self._lanes.get(batch.workflow)
            if lane is not None and self._serve_others and not _serving(lane, batch.id):
                await self._serve(lane, batch)
        running_ids = {b.id for b in running}
        for lane in self._lanes.values():
            for batch_id in [i for i in lane.cursors if _serving(lane, i) and i not in running_ids]:
                await self._stop_serving(lane, batch_id)

    async def _serve(self, lane: Lane, batch: Batch) -> None:
        """Run a batch another replica started or resumed, unless it changed meanwhile."""
        async with self._locks[batch.id]:
            current = await self._store.get_batch(batch.id)
            if current is not None and current.status is BatchStatus.RUNNING and not _serving(lane, batch.id):
                log.info("batch %s: running elsewhere, serving it here too", batch.id)
                lane.add_batch(current)

    async def _stop_serving(self, lane: Lane, batch_id: str) -> None:
        """Do here what another replica did to a batch this one serves: pause or cancel."""
        async with self._locks[batch_id]:
            current = await self._store.get_batch(batch_id)
            if current is None or not _serving(lane, batch_id):
                return
            if current.status is BatchStatus.PAUSED:
                log.info("batch %s: paused elsewhere, pausing here too", batch_id)
                await lane.pause_batch(batch_id)
            elif current.status is BatchStatus.CANCELLED:
                log.info("batch %s: cancelled elsewhere, cancelling here too", batch_id)
                await lane.cancel_batch(batch_id)
            # completed or failed: the lane runs dry and the service forgets the batch


def _serving(lane: Lane, batch_id: str) -> bool:
    cursor = lane.cursors.get(batch_id)
    return cursor is not None and cursor.mode is Mode.ACTIVE
