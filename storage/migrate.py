"""Schema upgrades: the Alembic revisions in `storage/migrations`, applied when a store opens.

Every process that opens the database calls `upgrade` first, so replicas and CLI runs
meet the schema their code expects. The work is done under a lock (PostgreSQL: an
advisory lock held by the migrating transaction; SQLite: the write lock of a
``BEGIN IMMEDIATE`` transaction), and the revision is read again once the lock is held,
so of several processes starting together one upgrades and the others find it done.
Before a SQLite file is changed a copy is kept beside it.

A database made by 0.1.0 has the tables but no ``alembic_version``: it is stamped with
the baseline and upgraded from there. A database whose revision this code does not know
was upgraded by a newer release and is refused (`SchemaTooNew`), never touched.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from engine.errors import AppError
from storage.connect import WRITE_OPTION, sqlite_file

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

# alembic is imported where it is used: it costs a third of a second at start-up, and
# every CLI command (even --help) imports the store, while only a needed upgrade runs it

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"
BASELINE = "0001"
"""The revision of the schema released as 0.1.0."""
PG_LOCK_KEY = 7_301_994_417_211_020
"""Advisory lock id for schema upgrades; any constant no other application uses."""
LEGACY_TABLE = "batch"
"""A database with this table but no revision was made by 0.1.0."""


class SchemaTooNew(AppError):
    """The database was upgraded by a newer dify-batch than this one."""


@dataclass(frozen=True, slots=True)
class SchemaState:
    current: tuple[str, ...]
    """Revisions in ``alembic_version``: empty for a new database or one made by 0.1.0."""
    head: str
    legacy: bool
    """Tables of 0.1.0 without a revision."""

    @property
    def up_to_date(self) -> bool:
        return self.current == (self.head,)


@dataclass(frozen=True, slots=True)
class Upgraded:
    before: tuple[str, ...]
    """The revisions it had; empty for a 0.1.0 database and for a new one."""
    after: str
    backup: Path | None
    created: bool = False
    """The database was empty: the revisions built it."""


@cache
def _script(location: Path) -> ScriptDirectory:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_config(location))


def head_revision(location: Path = MIGRATIONS) -> str:
    """The newest revision this code knows."""
    head = _script(location).get_current_head()
    assert head is not None, "the migrations folder holds no revision"
    return head


def _config(location: Path) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(location))
    return config


def _state(conn: Connection, location: Path) -> SchemaState:
    from alembic.runtime.migration import MigrationContext

    script = _script(location)
    head = head_revision(location)
    current = tuple(MigrationContext.configure(conn).get_current_heads())
    known = {rev.revision for rev in script.walk_revisions()}
    unknown = [rev for rev in current if rev not in known]
    if unknown:
        raise SchemaTooNew(
            f"the database is at schema revision {', '.join(unknown)}, made by a newer "
            f"dify-batch; this one knows revisions up to {head}. Run the newer release, "
            "or restore the copy taken before the upgrade."
        )
    legacy = not current and inspect(conn).has_table(LEGACY_TABLE)
    return SchemaState(current, head, legacy)


async def current(engine: AsyncEngine, *, location: Path = MIGRATIONS) -> SchemaState:
    """Where the database stands, without changing it."""
    async with engine.connect() as conn:
        return await conn.run_sync(_state, location)


async def upgrade(engine: AsyncEngine, *, location: Path = MIGRATIONS) -> Upgraded | None:
    """Bring the database to the newest revision; None when it already was there."""
    state = await current(engine, location=location)
    if state.up_to_date:
        return None
    async with engine.connect() as conn:
        done = await conn.run_sync(_migrate, location, sqlite_file(str(engine.url)))
    if done is None:  # another process did it while we waited for the lock
        return None
    if not done.created:
        log.warning(
            "database schema upgraded from %s to %s%s", ", ".join(done.before) or "0.1.0", done.after,
            f"; the previous file was copied to {done.backup}" if done.backup else "",
        )
    return done


def _migrate(conn: Connection, location: Path, path: Path | None) -> Upgraded | None:
    sqlite = conn.dialect.name == "sqlite"
    if sqlite:
        # copying a table (SQLite's way to alter it) drops the old one; with foreign keys
        # on, that would cascade into the rows. The pragma only works outside a transaction.
        _pragma(conn, "foreign_keys=OFF")
    try:
        conn.execution_options(**{WRITE_OPTION: True})  # SQLite: BEGIN IMMEDIATE, the write lock
        with conn.begin():
            if not sqlite:
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_LOCK_KEY})
            state = _state(conn, location)
            if state.up_to_date:
                return None
            backup = None
            if path is not None and (state.current or state.legacy):
                # under the write lock, so the copy is the state the upgrade starts from;
                # WAL lets the copy read while we hold it
                backup = _copy_aside(path, state.current[0] if state.current else "0.1.0")
            from alembic import command

            config = _config(location)
            config.attributes["connection"] = conn
            if state.legacy:
                command.stamp(config, BASELINE)
            command.upgrade(config, "head")
            if sqlite:
                broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"the upgrade broke {len(broken)} foreign key(s); nothing was changed")
            return Upgraded(state.current, state.head, backup, created=not (state.current or state.legacy))
    finally:
        if sqlite:
            _pragma(conn, "foreign_keys=ON")


def _pragma(conn: Connection, pragma: str) -> None:
    dbapi = conn.connection.dbapi_connection
    assert dbapi is not None
    cursor = dbapi.cursor()
    try:
        cursor.execute(f"PRAGMA {pragma}")
    finally:
        cursor.close()


def _copy_aside(path: Path, revision: str) -> Path:
    """A consistent copy of the SQLite file (WAL included), private to this user."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}.before-upgrade-from-{revision}-{stamp}")
    source = sqlite3.connect(path)
    try:
        copy = sqlite3.connect(target)
        try:
            source.backup(copy)
        finally:
            copy.close()
    finally:
        source.close()
    target.chmod(0o600)
    return target
