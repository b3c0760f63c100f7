"""The tables beside batches and rows: schedules, chat bindings, chat uploads and reporters."""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from engine.errors import AlreadyExists, NotFound
from engine.models import ChatRef, ChatUpload, Schedule
from storage import codec
from storage import statements as sql
from storage.sql_access import SqlAccess
from storage.tables import CHAT, SCHEDULE, SHEET_FILE, UPLOAD


class ScheduleAndChatTables(SqlAccess):
    """`Store` methods for schedules, chat bindings and uploads; `SqlStore` adds the rest."""

    # schedules

    async def add_schedule(self, schedule: Schedule) -> None:
        await self._insert_new(SCHEDULE, codec.schedule_to_record(schedule), f"schedule {schedule.id}")

    async def get_schedule(self, schedule_id: str) -> Schedule | None:
        found = await self._all(select(SCHEDULE).where(SCHEDULE.c.id == schedule_id))
        return codec.schedule_from_record(found[0]) if found else None

    async def list_schedules(
        self, *, owner: str | None = None, active_only: bool = True
    ) -> list[Schedule]:
        stmt = select(SCHEDULE).order_by(SCHEDULE.c.created_at, SCHEDULE.c.id)
        if owner is not None:
            stmt = stmt.where(SCHEDULE.c.owner == owner)
        if active_only:
            stmt = stmt.where(SCHEDULE.c.active.is_(True))
        return [codec.schedule_from_record(r) for r in await self._all(stmt)]

    async def update_schedule(
        self, schedule_id: str, *, active: bool | None = None, last_fire_time: datetime | None = None
    ) -> None:
        values: dict[str, Any] = {}
        if active is not None:
            values["active"] = active
        if last_fire_time is not None:
            values["last_fire_time"] = last_fire_time
        # with nothing to change, a no-op UPDATE still tells whether the schedule exists
        stmt = update(SCHEDULE).where(SCHEDULE.c.id == schedule_id).values(values or {"id": schedule_id})
        async with self._write() as conn:
            result = await conn.execute(stmt)
        if result.rowcount != 1:
            raise NotFound(f"no schedule {schedule_id}")

    # chat bindings

    async def bind_chat(self, batch_id: str, chat: ChatRef) -> None:
        stmt = sql.upsert_chat(self._engine.dialect.name, batch_id, codec.chat_to_record(chat))
        async with self._write() as conn:
            await conn.execute(stmt)

    async def chat_for(self, batch_id: str) -> ChatRef | None:
        found = await self._all(select(CHAT).where(CHAT.c.batch_id == batch_id))
        return codec.chat_from_record(found[0]) if found else None

    # chat uploads

    async def add_upload(self, upload: ChatUpload) -> None:
        await self._insert_new(UPLOAD, codec.upload_to_record(upload), f"upload {upload.id}")

    async def get_upload(self, upload_id: str) -> ChatUpload | None:
        found = await self._all(select(UPLOAD).where(UPLOAD.c.id == upload_id))
        return codec.upload_from_record(found[0]) if found else None

    async def find_upload(
        self, chat_id: str, *, owner: str | None = None, message_id: str | None = None
    ) -> ChatUpload | None:
        found = await self._all(sql.newest_upload(chat_id, owner=owner, message_id=message_id))
        return codec.upload_from_record(found[0]) if found else None

    async def forget_uploads(self, *, upload_id: str | None = None, before: datetime | None = None) -> int:
        async with self._write() as conn:
            result = await conn.execute(sql.delete_uploads(upload_id=upload_id, before=before))
        return result.rowcount

    # uploaded sheets

    async def keep_sheet(self, name: str, data: bytes, *, now: datetime) -> None:
        record = {"name": name, "size": len(data), "data": data, "created_at": now}
        if self._sqlite:
            kept = sqlite_insert(SHEET_FILE).on_conflict_do_nothing()  # content-addressed: the same bytes
            async with self._write() as conn:
                await conn.execute(kept, [record])
                # sqlite3 leaves a statement's last parameters bound to it in its cache for the
                # connection's life: a copy of the upload (13.5 MB for 100,000 rows). The same
                # statement again, with no data and the key now taken, changes nothing and lets go of it.
                await conn.execute(kept, [{**record, "size": 0, "data": b""}])
            return
        with contextlib.suppress(AlreadyExists):
            await self._insert_new(SHEET_FILE, record, f"sheet {name}")

    async def load_sheet(self, name: str) -> bytes | None:
        found = await self._all(select(SHEET_FILE.c.data).where(SHEET_FILE.c.name == name))
        return bytes(found[0]["data"]) if found else None

    async def has_sheet(self, name: str) -> bool:
        return bool(await self._all(select(SHEET_FILE.c.name).where(SHEET_FILE.c.name == name)))

    # who reports a batch in chat

    async def hold_reporting(self, batch_id: str, reporter: str, *, now: datetime, hold_s: float) -> bool:
        until = now + timedelta(seconds=hold_s)
        stmt = sql.take_reporting(self._engine.dialect.name, batch_id, reporter, now=now, until=until)
        async with self._write() as conn:
            result = await conn.execute(stmt)
        return result.rowcount == 1
