"""SqlStore: the `Store` port on SQLAlchemy Core over SQLModel tables (SQLite or PostgreSQL).

Claiming (every process, SQLite or PostgreSQL, daemon or CLI): `claim_rows` picks due
pending rows (``FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite's single writer serialises
claims) and stamps each with a lease (``lease_owner`` = this store's ``worker_id``,
``lease_until`` = now + ``lease_s``), so two stores on one database never claim the same
row. A store keeps its leases alive with `renew_leases` (a heartbeat well inside
``lease_s``; any `update_rows` that leaves a row running renews it too). A running row is
abandoned once its lease has passed, or at once when its owner is a process of this
machine that no longer runs (`storage.workers`); `take_abandoned` (recovery at start) and
`reclaim_expired` (the heartbeat) take over only such rows, to be handled like running
rows found at start (reconcile by saved run id, else back to pending). Never a row a live
process holds. `close` lets go of this store's leases and slots at once.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from engine.errors import AlreadyExists
from engine.models import (
    Batch,
    BatchEvent,
    BatchStatus,
    PastRow,
    Progress,
    Row,
    RowStatus,
    RowUpdate,
)
from storage import codec, migrate, slots, workers
from storage import statements as sql
from storage.bulk import insert_rows
from storage.connect import DEFAULT_URL, create_engine
from storage.sql_pages import RowPages
from storage.sql_side import ScheduleAndChatTables
from storage.sql_upkeep import HousekeepingQueries
from storage.tables import BATCH, EVENT, ROW

DEFAULT_LEASE_S = 900.0
"""Longer than any row's timeout, so a live row's lease never lapses between heartbeats."""

log = logging.getLogger(__name__)

LET_GO = datetime(2000, 1, 1, tzinfo=UTC)
"""The lease a closing store leaves on rows it still holds: long passed, so others take them."""


def default_worker_id() -> str:
    return workers.new_worker_id()


INSERT_SLICE = 2_000
"""Rows per statement when taking over abandoned rows: big enough to amortise the call."""


class SqlStore(ScheduleAndChatTables, HousekeepingQueries, RowPages):
    """The `Store` port on SQL. Build it with `SqlStore.open`; `close` disposes the engine."""

    def __init__(self, engine: AsyncEngine, *, worker_id: str, lease_s: float = DEFAULT_LEASE_S) -> None:
        super().__init__(engine)
        self.worker_id = worker_id
        self.lease = timedelta(seconds=lease_s)

    @classmethod
    async def open(
        cls,
        database_url: str = DEFAULT_URL,
        *,
        worker_id: str | None = None,
        lease_s: float = DEFAULT_LEASE_S,
        connect_args: Mapping[str, Any] | None = None,
    ) -> SqlStore:
        """Connect, bring the schema to this code's revision (`storage.migrate`), return the store."""
        engine = create_engine(database_url, connect_args=connect_args)
        store = cls(engine, worker_id=worker_id or default_worker_id(), lease_s=lease_s)
        try:
            await migrate.upgrade(engine)
        except BaseException:
            await engine.dispose()
            raise
        workers.opened(store.worker_id)
        return store

    async def close(self) -> None:
        """Let go of this store's leases and slots (a live process takes its rows over at
        once, instead of after the lease), then dispose of the engine."""
        try:
            async with self._write() as conn:
                await conn.execute(
                    update(ROW)
                    .where(ROW.c.lease_owner == self.worker_id, ROW.c.status == sql.RUNNING)
                    .values(lease_until=LET_GO)
                )
                for stmt in slots.release_all(self.worker_id):
                    await conn.execute(stmt)
        except Exception as exc:
            # the leases then lapse by time; nothing is lost
            log.warning("could not hand back leases at close: %s", exc)
        finally:
            workers.closed(self.worker_id)
            await super().close()

    # batches

    async def create_batch(self, batch: Batch, rows: Sequence[Row]) -> None:
        async with self._write() as conn:
            try:
                await conn.execute(insert(BATCH), [codec.batch_to_record(batch)])
            except IntegrityError as e:
                raise AlreadyExists(
                    f"batch {batch.id} or the firing {batch.schedule_id} at {batch.fire_time} exists"
                ) from e
            await insert_rows(conn, rows)

    async def add_rows(self, batch_id: str, rows: Sequence[Row]) -> None:
        """More rows of a batch already created (a big sheet is stored while it starts)."""
        if any(r.batch_id != batch_id for r in rows):
            raise ValueError(f"rows of another batch given to add_rows({batch_id!r})")
        async with self._write() as conn:
            await insert_rows(conn, rows)

    async def get_batch(self, batch_id: str) -> Batch | None:
        found = await self._all(select(BATCH).where(BATCH.c.id == batch_id))
        return codec.batch_from_record(found[0]) if found else None

    async def list_batches(
        self,
        *,
        owner: str | None = None,
        statuses: Sequence[BatchStatus] | None = None,
        limit: int = 50,
    ) -> list[Batch]:
        stmt = select(BATCH).order_by(BATCH.c.created_at.desc(), BATCH.c.id.desc()).limit(limit)
        if owner is not None:
            stmt = stmt.where(BATCH.c.owner == owner)
        if statuses is not None:
            stmt = stmt.where(BATCH.c.status.in_([s.value for s in statuses]))
        return [codec.batch_from_record(r) for r in await self._all(stmt)]

    async def update_batch(
        self,
        batch_id: str,
        *,
        status: BatchStatus,
        expected: Sequence[BatchStatus] | None = None,
        started_at: datetime | None = None,
        finished_at: datetime | None = None,
        error: str | None = None,
    ) -> bool:
        values: dict[str, Any] = {"status": status.value, "error": error, "finished_at": finished_at}
        if started_at is not None:
            values["started_at"] = started_at
        stmt = update(BATCH).where(BATCH.c.id == batch_id).values(values)
        if expected is not None:
            # the guard is in the UPDATE itself, so two racing callers cannot both win
            stmt = stmt.where(BATCH.c.status.in_([s.value for s in expected]))
        async with self._write() as conn:
            result = await conn.execute(stmt)
        return result.rowcount == 1

    # rows

    async def rows(self, batch_id: str, *, statuses: Sequence[RowStatus] | None = None) -> list[Row]:
        stmt = select(ROW).where(ROW.c.batch_id == batch_id).order_by(ROW.c.idx)
        if statuses is not None:
            stmt = stmt.where(ROW.c.status.in_([s.value for s in statuses]))
        return [codec.row_from_record(r) for r in await self._all(stmt)]

    async def claim_rows(self, batch_id: str, *, limit: int, now: datetime) -> list[Row]:
        return await self._take(batch_id, sql.due_pending(batch_id, now), limit=limit, now=now)

    async def reclaim_expired(self, batch_id: str, *, limit: int, now: datetime) -> list[Row]:
        """Take over abandoned running rows (lease passed, or owner dead here); see the module doc.

        The rows come back as they were saved (status running, run id, attempts), now
        leased to this store, so the caller reconciles them before any re-run.
        """
        dead = await self._dead_owners(batch_id)
        return await self._take(batch_id, sql.lease_expired(batch_id, now, dead), limit=limit, now=now)

    async def take_abandoned(self, batch_id: str, *, now: datetime) -> list[Row]:
        """Recovery at start: every abandoned running row of the batch, leased to this store."""
        rows: list[Row] = []
        while chunk := await self.reclaim_expired(batch_id, limit=INSERT_SLICE, now=now):
            rows += chunk
        return rows

    async def _dead_owners(self, batch_id: str) -> list[str]:
        stmt = (
            select(ROW.c.lease_owner)
            .where(ROW.c.batch_id == batch_id, ROW.c.status == sql.RUNNING)
            .where(ROW.c.lease_owner.is_not(None), ROW.c.lease_owner != self.worker_id)
            .distinct()
        )
        return [r["lease_owner"] for r in await self._all(stmt) if workers.dead_here(r["lease_owner"])]

    async def hold_slots(
        self, workflow: str, *, want: int, keep: int, limit: int, now: datetime
    ) -> tuple[int, int]:
        """Hold up to ``want`` of the workflow's concurrency slots (at least ``keep``) within a
        fair share; returns (held, fair share). See `storage.slots`."""
        async with self._write() as conn:
            return await slots.hold(
                conn, workflow, self.worker_id, want=want, keep=keep, limit=limit, now=now,
                until=now + self.lease,
            )

    async def _take(self, batch_id: str, condition: Any, *, limit: int, now: datetime) -> list[Row]:
        if limit <= 0:
            return []
        stmt = sql.take_rows(batch_id, condition, limit=limit, owner=self.worker_id, until=now + self.lease)
        async with self._write() as conn:
            result = await conn.execute(stmt)
            claimed = [codec.row_from_record(r) for r in result.mappings().all()]
        claimed.sort(key=lambda r: r.index)
        return claimed

    async def renew_leases(self, *, now: datetime) -> int:
        """Heartbeat: push out the lease of every running row this store holds; returns how many."""
        row_locks = self.engine.dialect.name != "sqlite"
        stmt = sql.renew_leases(self.worker_id, until=now + self.lease, row_locks=row_locks)
        async with self._write() as conn:
            result = await conn.execute(stmt)
            for stmt in slots.renew(self.worker_id, now + self.lease):
                await conn.execute(stmt)
        return result.rowcount

    def set_lease(self, lease_s: float) -> None:
        self.lease = timedelta(seconds=lease_s)

    async def update_rows(self, updates: Sequence[RowUpdate]) -> None:
        if not updates:
            return
        until = datetime.now(UTC) + self.lease
        params = []
        # one lock order for every multi-row write, so two transactions never wait on each other
        for u in sorted(updates, key=lambda u: (u.batch_id, u.index)):
            p = codec.update_params(u)
            running = u.status is RowStatus.RUNNING
            p["v_lease_owner"] = self.worker_id if running else None
            p["v_lease_until"] = until if running else None
            params.append(p)
        # one executemany in one short transaction: ~100x the rate of per-row ORM commits
        async with self._write() as conn:
            await conn.execute(sql.UPDATE_ROW, params)

    async def reset_rows(
        self, batch_id: str, *, from_statuses: Sequence[RowStatus], to: RowStatus
    ) -> int:
        stmt = (
            update(ROW)
            .where(ROW.c.batch_id == batch_id, ROW.c.status.in_([s.value for s in from_statuses]))
            .values(sql.reset_values(to))
        )
        async with self._write() as conn:
            result = await conn.execute(stmt)
        return result.rowcount

    async def progress(self, batch_id: str) -> Progress:
        counts = dict.fromkeys(RowStatus, 0)
        tokens = 0
        for r in await self._all(sql.progress(batch_id)):
            counts[RowStatus(r["status"])] = r["n"]
            tokens += r["t"]
        return Progress(
            total=sum(counts.values()),
            pending=counts[RowStatus.PENDING],
            running=counts[RowStatus.RUNNING],
            succeeded=counts[RowStatus.SUCCEEDED],
            failed=counts[RowStatus.FAILED],
            cancelled=counts[RowStatus.CANCELLED],
            tokens=int(tokens),
        )

    async def past_rows(self, workflow: str, *, batches: int = 5, rows: int = 500) -> list[PastRow]:
        found: list[PastRow] = []
        for b in await self._all(sql.recent_batches(workflow, limit=batches)):
            if len(found) >= rows:
                break
            found += [
                PastRow(
                    batch_id=r["batch_id"], succeeded=r["status"] == RowStatus.SUCCEEDED.value,
                    attempts=r["attempts"], elapsed_s=r["elapsed_s"], tokens=r["tokens"],
                )
                for r in await self._all(sql.finished_rows(b["id"], limit=rows - len(found)))
            ]
        return found

    # events

    async def add_event(self, batch_id: str, kind: str, detail: str = "") -> None:
        record = {"batch_id": batch_id, "kind": kind, "detail": detail, "at": datetime.now(UTC)}
        async with self._write() as conn:
            await conn.execute(insert(EVENT), [record])

    async def events(self, batch_id: str) -> list[BatchEvent]:
        stmt = select(EVENT).where(EVENT.c.batch_id == batch_id).order_by(EVENT.c.id)
        return [codec.event_from_record(r) for r in await self._all(stmt)]

    async def events_of_kind(self, kinds: Sequence[str]) -> list[BatchEvent]:
        stmt = select(EVENT).where(EVENT.c.kind.in_(list(kinds))).order_by(EVENT.c.id)
        return [codec.event_from_record(r) for r in await self._all(stmt)]
