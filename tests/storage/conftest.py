"""Store fixtures: the in-memory fake, SqlStore on a SQLite file, SqlStore on PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from engine.ports import Store
from storage import SqlStore
from tests.fakes.memory_store import InMemoryStore

PG_CANDIDATES = (
    "postgresql+asyncpg://postgres@127.0.0.1:5432/test",
    "postgresql+asyncpg://root@127.0.0.1:5432/test",
)


async def _reachable(url: str) -> bool:
    engine = create_async_engine(url, connect_args={"timeout": 3})
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        return True
    except Exception:
        return False
    finally:
        await engine.dispose()


@cache
def pg_url() -> str | None:
    """The test PostgreSQL URL: DIFY_BATCH_TEST_PG, else a local trust-auth server, else None."""
    env = os.environ.get("DIFY_BATCH_TEST_PG")
    candidates = (env,) if env else PG_CANDIDATES
    for url in candidates:
        if asyncio.run(_reachable(url)):
            return url
    return None


@pytest.fixture(scope="session")
def pg_available() -> str | None:
    # resolved outside any test's event loop, once per session
    return pg_url()


@dataclass
class PgSchema:
    """A fresh schema for one test; every store opened with `connect_args` lives in it."""

    url: str
    name: str = field(default_factory=lambda: f"t_{uuid.uuid4().hex[:12]}")

    @property
    def connect_args(self) -> dict[str, Any]:
        return {"server_settings": {"search_path": self.name}}

    async def open(self, **kwargs: Any) -> SqlStore:
        return await SqlStore.open(self.url, connect_args=self.connect_args, **kwargs)

    async def _ddl(self, sql: str) -> None:
        engine = create_async_engine(self.url, isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as conn:
                await conn.execute(text(sql))
        finally:
            await engine.dispose()


@contextlib.asynccontextmanager
async def fresh_schema(url: str) -> AsyncIterator[PgSchema]:
    schema = PgSchema(url)
    await schema._ddl(f'CREATE SCHEMA "{schema.name}"')
    try:
        yield schema
    finally:
        await schema._ddl(f'DROP SCHEMA "{schema.name}" CASCADE')


@pytest.fixture
async def pg(pg_available: str | None) -> AsyncIterator[PgSchema]:
    if pg_available is None:
        pytest.skip("PostgreSQL not reachable (set DIFY_BATCH_TEST_PG)")
    async with fresh_schema(pg_available) as schema:
        yield schema


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'db' / 'store.db'}"


@pytest.fixture(params=["memory", "sqlite", "postgres"])
async def store(
    request: pytest.FixtureRequest, sqlite_url: str, pg_available: str | None
) -> AsyncIterator[Store]:
    if request.param == "memory":
        yield InMemoryStore()
        return
    async with contextlib.AsyncExitStack() as stack:
        if request.param == "sqlite":
            sql = await SqlStore.open(sqlite_url)
        else:
            if pg_available is None:
                pytest.skip("PostgreSQL not reachable (set DIFY_BATCH_TEST_PG)")
            schema = await stack.enter_async_context(fresh_schema(pg_available))
            sql = await schema.open()
        stack.push_async_callback(sql.close)
        yield sql
