"""SqlStore: the `Store` port on SQLAlchemy Core over SQLModel tables (SQLite or PostgreSQL).

Multi-replica claiming (PostgreSQL): `claim_rows` picks due pending rows with
``FOR UPDATE SKIP LOCKED`` and stamps each with a lease (``lease_owner`` = this store's
``worker_id``, ``lease_until`` = now + ``lease_s``), so two stores on one database never
claim the same row. A store keeps its leases alive with `renew_leases` (a heartbeat well
inside ``lease_s``; any `update_rows` that leaves a row running renews it too). When a
replica dies its leases run out, and recovery on another replica calls `reclaim_expired`:
it takes over running rows whose lease has passed and returns them, to be handled exactly
like running rows found at start (reconcile by saved run id, else back to pending). On a
single SQLite process every running row at start is stale, so `rows(statuses=[RUNNING])`
is enough there.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel

from engine.errors import AlreadyExists
from engine.models import (
    Batch,
    BatchEvent,
    BatchStatus,
    Progress,
    Row,
    RowStatus,
    RowUpdate,
)
from storage import codec
from storage import statements as sql
from storage.bulk import insert_rows
from storage.connect import DEFAULT_URL, create_engine
from storage.sql_pages import RowPages
from storage.sql_side import ScheduleAndChatTables
from storage.tables import BATCH, EVENT, ROW, TABLES

DEFAULT_LEASE_S = 900.0
"""Longer than any row's timeout, so a live row's lease never lapses between heartbeats."""

def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class SqlStore(ScheduleAndChatTables, RowPages):
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
        """Connect, create missing tables (and a SQLite file's directory), return the store."""
        engine = create_engine(database_url, connect_args=connect_args)
        store = cls(engine, worker_id=worker_id or default_worker_id(), lease_s=lease_s)
        try:
            async with store._write() as conn:
                await conn.run_sync(SQLModel.metadata.create_all, tables=list(TABLES))
        except BaseException:
            await engine.dispose()
            raise
        return store

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
        """Take over running rows whose lease ran out (their store died); see the module doc.

        The rows come back as they were saved (status running, run id, attempts), now
        leased to this store, so the caller reconciles them before any re-run.
        """
        return await self._take(batch_id, sql.lease_expired(batch_id, now), limit=limit, now=now)

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

    # events

    async def add_event(self, batch_id: str, kind: str, detail: str = "") -> None:
        record = {"batch_id": batch_id, "kind": kind, "detail": detail, "at": datetime.now(UTC)}
        async with self._write() as conn:
            await conn.execute(insert(EVENT), [record])

    async def events(self, batch_id: str) -> list[BatchEvent]:
        stmt = select(EVENT).where(EVENT.c.batch_id == batch_id).order_by(EVENT.c.id)
        return [codec.event_from_record(r) for r in await self._all(stmt)]
