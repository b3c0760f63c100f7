"""Async engines for SQLite (WAL, busy timeout, BEGIN IMMEDIATE writes) and PostgreSQL."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry, PoolResetState
from sqlalchemy.util import await_

from engine.private import private_file
from storage.types import json_dumps

DEFAULT_URL = "sqlite+aiosqlite:///./data/dify-batch.db"
SQLITE_BUSY_TIMEOUT_MS = 10_000
WRITE_OPTION = "dify_batch_write"
"""Execution option set on the write engine: its transactions begin IMMEDIATE on SQLite."""


def sqlite_file(database_url: str) -> Path | None:
    """The database file of a SQLite URL, None for PostgreSQL or an in-memory SQLite."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database)


def create_engine(database_url: str, *, connect_args: Mapping[str, Any] | None = None) -> AsyncEngine:
    """An async engine for the URL; SQLite gets the pragmas and transaction hooks."""
    path = sqlite_file(database_url)
    if path is not None:
        # created 0600 before SQLite opens it: SQLite gives its -wal and -shm files the
        # database file's mode
        private_file(path)
    sqlite = make_url(database_url).get_backend_name() == "sqlite"
    engine = create_async_engine(
        database_url,
        json_serializer=json_dumps,
        connect_args=dict(connect_args or {}),
        pool_pre_ping=path is None,
        # every SQLite checkout ends its own transaction (commit, or the rollback that
        # closing a connection does); the pool's unconditional rollback on return was one
        # more trip to aiosqlite's thread per write. `_on_reset` still rolls back a
        # connection that comes back inside a transaction.
        pool_reset_on_return=None if sqlite else "rollback",
    )
    if sqlite:
        _install_sqlite_hooks(engine)
    return engine


def _install_sqlite_hooks(engine: AsyncEngine) -> None:
    # The documented recipe (SQLAlchemy, "Transactions with SQLite and the sqlite3
    # driver"): take transaction control away from the driver and emit BEGIN ourselves.
    # A deferred BEGIN that later writes fails with "database is locked" at once when
    # another connection wrote meanwhile, whatever the busy timeout, so writes begin
    # IMMEDIATE and wait their turn instead.

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            # the busy timeout first: switching a new file to WAL takes a lock that several
            # processes opening it at once contend for
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            # in WAL mode NORMAL cannot corrupt; a power cut (not a crash) may lose the
            # last commits, which the engine re-runs (at least once, never lost silently)
            cursor.execute("PRAGMA synchronous=NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        write = conn.get_execution_options().get(WRITE_OPTION, False)
        # straight to the driver: one trip to aiosqlite's thread, where exec_driver_sql
        # took three (cursor, execute, close) plus a whole statement execution on the loop
        driver = conn.connection.driver_connection
        assert driver is not None
        await_(driver.execute("BEGIN IMMEDIATE" if write else "BEGIN"))

    @event.listens_for(engine.sync_engine, "reset")
    def _on_reset(dbapi_connection: Any, _record: ConnectionPoolEntry, state: PoolResetState) -> None:
        # stands in for the pool's reset-on-return, but only when there is something to undo
        # (an error path); `in_transaction` is read without a trip to the driver's thread
        if not state.asyncio_safe or state.transaction_was_reset:
            return
        if dbapi_connection.driver_connection.in_transaction:
            dbapi_connection.rollback()
