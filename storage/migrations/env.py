"""Alembic's environment: runs revisions on the connection `storage.migrate` shares, or,
from the ``alembic`` command line, on ``$DIFY_BATCH_DATABASE_URL`` (a sync or async URL)."""

from __future__ import annotations

import asyncio
import os
from typing import Any, Literal

from alembic import context
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel
from sqlmodel.sql.sqltypes import AutoString

import storage.tables  # noqa: F401  (registers the tables on SQLModel.metadata)
from storage.types import UTCDateTime


def _render_item(kind: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    # revisions spell plain SQLAlchemy types, so an old revision never breaks when our
    # own column types change
    if kind == "type" and isinstance(obj, AutoString):
        return "sa.String()"
    if kind == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


# render_as_batch: SQLite cannot ALTER most things, so autogenerate writes
# `op.batch_alter_table` (copy, move, swap), which PostgreSQL runs as plain ALTERs
OPTIONS: dict[str, Any] = {
    "target_metadata": SQLModel.metadata,
    "render_as_batch": True,
    "compare_type": True,
    "render_item": _render_item,
}


def _run(connection: Connection) -> None:
    context.configure(connection=connection, **OPTIONS)
    with context.begin_transaction():
        context.run_migrations()


def _from_url(url: str) -> None:
    from storage.connect import create_engine

    async def go() -> None:
        engine = create_engine(url)
        try:
            async with engine.connect() as conn:
                await conn.run_sync(_run)
                await conn.commit()
        finally:
            await engine.dispose()

    if "+aiosqlite" in url or "+asyncpg" in url:
        asyncio.run(go())
        return
    from sqlalchemy import create_engine as create_sync_engine

    with create_sync_engine(url).begin() as conn:
        _run(conn)


shared = context.config.attributes.get("connection")
if shared is not None:
    _run(shared)
else:
    url = os.environ.get("DIFY_BATCH_DATABASE_URL") or context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("set DIFY_BATCH_DATABASE_URL to the database to work on")
    _from_url(url)
