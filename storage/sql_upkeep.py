"""The `Housekeeping` queries: batch counts for the metrics, and what retention deletes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, select

from engine.models import FINAL_BATCH_STATUSES, Batch, BatchStatus
from storage import codec
from storage.sql_access import SqlAccess
from storage.tables import BATCH, CHAT, REPORTER, SCHEDULE, SHEET_FILE, UPLOAD

_FINAL = [s.value for s in FINAL_BATCH_STATUSES]


class HousekeepingQueries(SqlAccess):
    async def ping(self) -> None:
        async with self._engine.connect() as conn:
            await conn.execute(select(1))

    async def batch_counts(self) -> dict[BatchStatus, int]:
        stmt = select(BATCH.c.status, func.count().label("n")).group_by(BATCH.c.status)
        return {BatchStatus(r["status"]): int(r["n"]) for r in await self._all(stmt)}

    async def finished_before(self, before: datetime, *, limit: int) -> list[Batch]:
        # a batch cancelled before it started has no finished_at of its own
        finished = func.coalesce(BATCH.c.finished_at, BATCH.c.created_at)
        stmt = (
            select(BATCH)
            .where(BATCH.c.status.in_(_FINAL), finished < before)
            .order_by(finished, BATCH.c.id)
            .limit(limit)
        )
        return [codec.batch_from_record(r) for r in await self._all(stmt)]

    async def delete_batches(self, batch_ids: Sequence[str]) -> int:
        if not batch_ids:
            return 0
        async with self._write() as conn:
            # only batches still finished: a /retry may have started one again meanwhile
            final = select(BATCH.c.id).where(BATCH.c.id.in_(list(batch_ids)), BATCH.c.status.in_(_FINAL))
            if conn.dialect.name != "sqlite":  # SQLite's write transaction already excludes others
                final = final.with_for_update()
            ids = [r[0] for r in (await conn.execute(final)).all()]
            # bindings and reporters carry no foreign key; rows and events cascade
            await conn.execute(delete(CHAT).where(CHAT.c.batch_id.in_(ids)))
            await conn.execute(delete(REPORTER).where(REPORTER.c.batch_id.in_(ids)))
            await conn.execute(delete(BATCH).where(BATCH.c.id.in_(ids)))
        return len(ids)

    async def forget_sheets(self, *, keep: set[str], before: datetime) -> list[str]:
        old = select(SHEET_FILE.c.name).where(SHEET_FILE.c.created_at < before)
        doomed = [r["name"] for r in await self._all(old) if r["name"] not in keep]
        for at in range(0, len(doomed), 500):
            async with self._write() as conn:
                await conn.execute(delete(SHEET_FILE).where(SHEET_FILE.c.name.in_(doomed[at : at + 500])))
        return doomed

    async def files_in_use(self) -> set[str]:
        paths: set[str] = set()
        for stmt in (
            select(BATCH.c.source_path.label("p")).where(BATCH.c.source_path.is_not(None)).distinct(),
            select(SCHEDULE.c.source_path.label("p")).where(SCHEDULE.c.active.is_(True)).distinct(),
            select(UPLOAD.c.path.label("p")).distinct(),
        ):
            paths.update(str(r["p"]) for r in await self._all(stmt))
        return paths
