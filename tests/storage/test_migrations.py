"""Upgrading in place: a database made by 0.1.0 (its frozen DDL) is stamped, upgraded and
read back whole; a newer database is refused; the revisions and the models agree."""

from __future__ import annotations

import asyncio
import json
import shutil
import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import SQLModel

from engine.models import BatchStatus, RowStatus
from storage import SqlStore, migrate
from tests.storage.conftest import PgSchema
from tests.storage.ddl_0_1_0 import POSTGRES, SQLITE

T = "2026-11-01 09:00:00"

# what a 0.1.0 daemon left behind: a finished batch, a paused one, a schedule, a binding,
# an upload waiting for its button, a reporter's hold; {ts} is a timestamp literal
OLD_DATA = (
    "INSERT INTO batch (id, workflow, owner, status, total, created_at, columns, source_name,"
    " source_path, started_at, finished_at, error, schedule_id, fire_time, blank_rows) VALUES"
    " ('b0001', 'summarize', 'telegram:1', 'completed', 2, {ts}, '[\"text\"]', 'a.xlsx',"
    " '/data/uploads/a.xlsx', {ts}, {ts}, NULL, NULL, NULL, 0),"
    " ('b0002', 'summarize', 'slack:U1', 'paused', 1, {ts}, '[\"text\"]', 'b.xlsx',"
    " '/data/uploads/b.xlsx', {ts}, NULL, NULL, 's0001', {ts}, 1)",
    "INSERT INTO row (batch_id, idx, sheet_row, cells, inputs, query, status, attempts,"
    " not_before, run_id, task_id, outputs, error, elapsed_s, tokens, started_at, finished_at,"
    " overload_since, lease_owner, lease_until) VALUES"
    " ('b0001', 0, 2, '[\"héllo\"]', '{{\"text\": \"héllo\"}}', NULL, 'succeeded', 1, NULL, 'run-1',"
    " 'task-1', '{{\"summary\": \"hi\"}}', NULL, 1.5, 42, {ts}, {ts}, NULL, NULL, NULL),"
    " ('b0001', 1, 3, '[\"x\"]', '{{\"text\": \"x\"}}', NULL, 'failed', 3, NULL, NULL, NULL, NULL,"
    " 'boom', 0.5, 0, {ts}, {ts}, NULL, NULL, NULL),"
    " ('b0002', 0, 2, '[\"y\"]', '{{\"text\": \"y\"}}', NULL, 'pending', 0, NULL, NULL, NULL, NULL,"
    " NULL, NULL, 0, NULL, NULL, NULL, NULL, NULL)",
    "INSERT INTO batch_event (batch_id, kind, detail, at) VALUES ('b0001', 'results_sent', '', {ts})",
    "INSERT INTO schedule (id, owner, workflow, kind, when_text, timezone, source_name, source_path,"
    " created_at, run_at, cron, chat, active, last_fire_time) VALUES ('s0001', 'slack:U1',"
    " 'summarize', 'cron', 'every day 09:00', 'UTC', 'b.xlsx', '/data/uploads/b.xlsx', {ts},"
    " NULL, '0 9 * * *', '{slack_chat}', {true}, {ts})",
    "INSERT INTO chat_binding (batch_id, platform, chat_id, thread_id, progress_message_id,"
    " reply_to_message_id, owner_display) VALUES ('b0002', 'slack', 'C1', '1.2', '1.3', NULL, 'Ann')",
    "INSERT INTO chat_upload (id, owner, owner_chat, chat_id, chat, message_id, filename, path,"
    " created_at) VALUES ('u0001', 'telegram:1', 'telegram:1', '1',"
    " '{tg_chat}', '77', 'c.xlsx', '/data/uploads/c.xlsx', {ts})",
    "INSERT INTO batch_reporter (batch_id, reporter, until) VALUES ('b0002', 'host:1', {ts})",
)


def _chat(platform: str, chat_id: str) -> str:
    return json.dumps({
        "platform": platform, "chat_id": chat_id, "thread_id": None, "progress_message_id": None,
        "reply_to_message_id": None, "owner_display": "",
    })


def _old_data(ts: str, true: str) -> list[str]:
    chats = {"slack_chat": _chat("slack", "C1"), "tg_chat": _chat("telegram", "1")}
    return [s.format(ts=ts, true=true, **chats) for s in OLD_DATA]


def make_sqlite_0_1_0(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path)
    try:
        for statement in (*SQLITE, *_old_data(f"'{T}.000000'", "1")):
            db.execute(statement)
        db.commit()
    finally:
        db.close()


async def make_pg_0_1_0(pg: PgSchema) -> None:
    engine = create_async_engine(pg.url, connect_args=pg.connect_args)
    try:
        async with engine.begin() as conn:
            for statement in (*POSTGRES, *_old_data(f"'{T}+00'", "true")):
                await conn.exec_driver_sql(statement)
    finally:
        await engine.dispose()


async def assert_everything_kept(store: SqlStore) -> None:
    done = await store.get_batch("b0001")
    assert done is not None and done.status is BatchStatus.COMPLETED
    assert done.created_at == datetime(2026, 11, 1, 9, tzinfo=UTC)
    rows = await store.rows("b0001")
    assert [(r.status, r.tokens, r.outputs, r.error) for r in rows] == [
        (RowStatus.SUCCEEDED, 42, {"summary": "hi"}, None),
        (RowStatus.FAILED, 0, None, "boom"),
    ]
    assert rows[0].inputs == {"text": "héllo"} and rows[0].run_id == "run-1"
    paused = await store.get_batch("b0002")
    assert paused is not None and paused.status is BatchStatus.PAUSED and paused.blank_rows == 1
    # 0.2.0's columns give what 0.1.0 meant: English, a whole sheet, nothing sent unrecorded
    assert (done.locale, done.sample, paused.locale, paused.sample) == ("en", False, "en", False)
    assert (rows[0].sent_at, rows[0].sent_user, rows[0].workflow_id) == (None, None, None)
    assert [e.kind for e in await store.events("b0001")] == ["results_sent"]
    schedule = await store.get_schedule("s0001")
    assert schedule is not None and schedule.cron == "0 9 * * *" and schedule.active
    assert schedule.locale == "en"
    chat = await store.chat_for("b0002")
    assert chat is not None and (chat.chat_id, chat.progress_message_id) == ("C1", "1.3")
    upload = await store.get_upload("u0001")
    assert upload is not None and upload.path == "/data/uploads/c.xlsx"
    # and the upgraded database is used as before
    assert await store.claim_rows("b0002", limit=5, now=datetime.now(UTC)) == []  # paused


async def revisions(store: SqlStore) -> Sequence[str]:
    async with store.engine.connect() as conn:
        return tuple(await conn.run_sync(lambda c: MigrationContext.configure(c).get_current_heads()))


def schema_differences(conn: Connection) -> list[object]:
    # what `alembic check` computes: the models against the database the revisions built
    context = MigrationContext.configure(conn, opts={"compare_type": True})
    return list(compare_metadata(context, SQLModel.metadata))


async def test_a_0_1_0_sqlite_database_is_upgraded_keeping_everything(tmp_path: Path) -> None:
    path = tmp_path / "data" / "dify-batch.db"
    make_sqlite_0_1_0(path)
    store = await SqlStore.open(f"sqlite+aiosqlite:///{path}")
    try:
        assert await revisions(store) == (migrate.head_revision(),)
        await assert_everything_kept(store)
        async with store.engine.connect() as conn:
            assert await conn.run_sync(schema_differences) == []
    finally:
        await store.close()
    copies = list(path.parent.glob("dify-batch.db.before-upgrade-from-0.1.0-*"))
    assert len(copies) == 1 and copies[0].stat().st_mode & 0o777 == 0o600
    with sqlite3.connect(copies[0]) as old:  # the copy is the untouched 0.1.0 database
        assert old.execute("SELECT count(*) FROM row").fetchone() == (3,)
        assert not old.execute("SELECT name FROM sqlite_master WHERE name='alembic_version'").fetchall()


async def test_a_0_1_0_postgres_database_is_upgraded_keeping_everything(pg: PgSchema) -> None:
    await make_pg_0_1_0(pg)
    store = await pg.open()
    try:
        assert await revisions(store) == (migrate.head_revision(),)
        await assert_everything_kept(store)
        async with store.engine.connect() as conn:
            assert await conn.run_sync(schema_differences) == []
    finally:
        await store.close()


async def test_replicas_opening_a_0_1_0_database_together_upgrade_it_once(tmp_path: Path) -> None:
    path = tmp_path / "dify-batch.db"
    make_sqlite_0_1_0(path)
    url = f"sqlite+aiosqlite:///{path}"
    stores = await asyncio.gather(*(SqlStore.open(url) for _ in range(4)))
    try:
        await assert_everything_kept(stores[0])
    finally:
        for store in stores:
            await store.close()
    assert len(list(tmp_path.glob("dify-batch.db.before-upgrade-*"))) == 1


async def test_postgres_replicas_upgrade_once_under_the_advisory_lock(pg: PgSchema) -> None:
    await make_pg_0_1_0(pg)
    stores = await asyncio.gather(*(pg.open() for _ in range(3)))
    try:
        await assert_everything_kept(stores[0])
        assert await revisions(stores[1]) == (migrate.head_revision(),)
    finally:
        for store in stores:
            await store.close()


async def test_a_database_newer_than_the_code_is_refused_untouched(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}"
    store = await SqlStore.open(url)
    async with store.engine.begin() as conn:
        await conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    await store.close()
    with pytest.raises(migrate.SchemaTooNew, match="revision 9999, made by a newer dify-batch"):
        await SqlStore.open(url)
    assert not list(tmp_path.glob("*.before-upgrade-*"))


async def test_a_new_database_is_built_by_the_revisions_and_matches_the_models(
    tmp_path: Path, pg: PgSchema
) -> None:
    for store in (await SqlStore.open(f"sqlite+aiosqlite:///{tmp_path / 'new.db'}"), await pg.open()):
        try:
            assert await revisions(store) == (migrate.head_revision(),)
            async with store.engine.connect() as conn:
                assert await conn.run_sync(schema_differences) == []
        finally:
            await store.close()


FUTURE_REVISION = '''
"""A later revision as the lead will write them: a new column on batch (SQLite copies the table)."""
import sqlalchemy as sa
from alembic import op

revision = "9999"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("batch") as batch_op:
        batch_op.add_column(sa.Column("note", sa.String(), nullable=True))
        batch_op.alter_column("source_name", existing_type=sa.String(), server_default="")


def downgrade() -> None:
    with op.batch_alter_table("batch") as batch_op:
        batch_op.drop_column("note")
'''


async def test_a_revision_that_copies_the_batch_table_keeps_its_rows_on_sqlite(tmp_path: Path) -> None:
    # dropping the old `batch` table with foreign keys on would cascade into every row
    location = tmp_path / "migrations"
    shutil.copytree(migrate.MIGRATIONS, location, ignore=shutil.ignore_patterns("__pycache__"))
    (location / "versions" / "9999_note.py").write_text(
        FUTURE_REVISION.format(head=migrate.head_revision()), encoding="utf-8"
    )
    path = tmp_path / "dify-batch.db"
    make_sqlite_0_1_0(path)
    url = f"sqlite+aiosqlite:///{path}"
    store = await SqlStore.open(url)  # at today's head
    try:
        done = await migrate.upgrade(store.engine, location=location)
        assert done is not None and done.after == "9999"
        await assert_everything_kept(store)
        async with store.engine.connect() as conn:
            assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar() == 1
            assert (await conn.execute(text("SELECT count(*) FROM row"))).scalar() == 3
    finally:
        await store.close()
