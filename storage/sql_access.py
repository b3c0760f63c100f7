"""The async engine under `SqlStore`, and the two ways the store touches it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import Select, Table, insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from engine.errors import AlreadyExists
from storage import codec
from storage.connect import WRITE_OPTION


class SqlAccess:
    """Write transactions, serialised on SQLite, and plain reads, on one async engine."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._writer = engine.execution_options(**{WRITE_OPTION: True})
        self._sqlite = engine.dialect.name == "sqlite"
        # SQLite has one writer at a time anyway; queueing here is cheaper than the busy handler
        self._write_lock: contextlib.AbstractAsyncContextManager[Any] = (
            asyncio.Lock() if self._sqlite else contextlib.nullcontext()
        )

    @property
    def engine(self) -> AsyncEngine:
        return self._engine

    async def close(self) -> None:
        await self._engine.dispose()

    @contextlib.asynccontextmanager
    async def _write(self) -> AsyncIterator[AsyncConnection]:
        async with self._write_lock, self._writer.begin() as conn:
            yield conn

    async def _all(self, stmt: Select[Any]) -> list[codec.Record]:
        async with self._engine.connect() as conn:
            result = await conn.execute(stmt)
            return list(result.mappings().all())

    async def _insert_new(self, table: Table, record: dict[str, Any], what: str) -> None:
        """Insert one record; `AlreadyExists` (naming ``what``) when its key is taken."""
        try:
            async with self._write() as conn:
                await conn.execute(insert(table), [record])
        except IntegrityError as e:
            raise AlreadyExists(f"{what} exists") from e
