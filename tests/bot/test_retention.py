"""Retention: old finished batches go with their rows and sheets; nothing running, paused,
owed a results file, or still needed by a schedule or an upload is touched."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.chat.progress import RESULTS_SENT
from bot.ops.retention import prune
from bot.results_files import OWED_EVENT
from engine.models import BatchStatus, ChatRef, ChatUpload
from storage import SqlStore
from tests.storage.builders import batch, rows, schedule
from tests.storage.conftest import fresh_schema

NOW = datetime(2026, 12, 4, 12, tzinfo=UTC)
OLD = NOW - timedelta(days=45)
RECENT = NOW - timedelta(days=3)


@pytest.fixture(params=["sqlite", "postgres"])
async def sql(
    request: pytest.FixtureRequest, tmp_path: Path, pg_available: str | None
) -> AsyncIterator[SqlStore]:
    if request.param == "sqlite":
        store = await SqlStore.open(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}")
        yield store
        await store.close()
        return
    if pg_available is None:
        pytest.skip("PostgreSQL not reachable (set DIFY_BATCH_TEST_PG)")
    async with fresh_schema(pg_available) as schema:
        store = await schema.open()
        yield store
        await store.close()


def sheet(data_dir: Path, name: str, *, age: timedelta) -> str:
    path = data_dir / "uploads" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"PK sheet")
    stamp = (NOW - age).timestamp()
    os.utime(path, (stamp, stamp))
    return str(path)


async def add(
    store: SqlStore, batch_id: str, status: BatchStatus, finished: datetime | None, path: str
) -> None:
    await store.create_batch(
        batch(batch_id, status=status, created_at=OLD - timedelta(days=1), finished_at=finished,
              source_path=path),
        rows(batch_id, 3),
    )
    await store.add_event(batch_id, "created")


async def test_prune_deletes_old_finished_batches_and_keeps_everything_else(
    sql: SqlStore, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    old = timedelta(days=45)
    await add(sql, "gone1", BatchStatus.COMPLETED, OLD, sheet(data, "gone1.xlsx", age=old))
    await add(sql, "gone2", BatchStatus.CANCELLED, None, sheet(data, "gone2.xlsx", age=old))
    await add(sql, "recent", BatchStatus.COMPLETED, RECENT, sheet(data, "recent.xlsx", age=old))
    await add(sql, "running", BatchStatus.RUNNING, None, sheet(data, "running.xlsx", age=old))
    await add(sql, "paused", BatchStatus.PAUSED, None, sheet(data, "paused.xlsx", age=old))
    # finished long ago in chat, but its results file never went out
    await add(sql, "owed", BatchStatus.FAILED, OLD, sheet(data, "owed.xlsx", age=old))
    await sql.bind_chat("owed", ChatRef("telegram", "1"))
    # delivered in chat: may go
    await add(sql, "sent", BatchStatus.COMPLETED, OLD, sheet(data, "sent.xlsx", age=old))
    await sql.bind_chat("sent", ChatRef("telegram", "1"))
    await sql.add_event("sent", RESULTS_SENT)
    # an old batch of a schedule that is still active: its sheet is the schedule's
    shared = sheet(data, "nightly.xlsx", age=old)
    await add(sql, "fired", BatchStatus.COMPLETED, OLD, shared)
    await sql.add_schedule(schedule("s1", source_path=shared))
    # an upload still waiting for its button, and a stray file nobody refers to
    waiting = sheet(data, "waiting.xlsx", age=timedelta(days=1))
    await sql.add_upload(ChatUpload("u1", "telegram:1", "telegram:1", ChatRef("telegram", "1"),
                                    "waiting.xlsx", waiting, None, RECENT))
    sheet(data, "stray-old.xlsx", age=old)
    stray_new = sheet(data, "stray-new.xlsx", age=timedelta(hours=1))
    # a CLI run whose results file was due but never written (a crash mid-write)
    await add(sql, "cli-owed", BatchStatus.COMPLETED, OLD, sheet(data, "cli-owed.xlsx", age=old))
    await sql.add_event("cli-owed", OWED_EVENT, "/somewhere/out.xlsx")
    # the database copies that replicas on other machines read: old ones go by the same rule
    for name in ("gone1.xlsx", "nightly.xlsx", "waiting.xlsx", "stray-old.xlsx"):
        await sql.keep_sheet(name, b"PK sheet", now=OLD)
    await sql.keep_sheet("fresh.xlsx", b"PK sheet", now=RECENT)

    pruned = await prune(sql, sql, data, keep_days=30, now=NOW)

    assert sorted(pruned.batches) == ["fired", "gone1", "gone2", "sent"]
    assert sorted(pruned.kept_owed) == ["cli-owed", "owed"]
    assert sorted(pruned.sheets) == ["gone1.xlsx", "stray-old.xlsx"]
    for name in ("nightly.xlsx", "waiting.xlsx", "fresh.xlsx"):
        assert await sql.has_sheet(name), name
    assert not await sql.has_sheet("gone1.xlsx")
    for gone in pruned.batches:
        assert await sql.get_batch(gone) is None
        assert await sql.rows(gone) == [] and await sql.events(gone) == []
        assert await sql.chat_for(gone) is None
    for kept in ("recent", "running", "paused", "owed"):
        assert await sql.get_batch(kept) is not None
        assert len(await sql.rows(kept)) == 3
    assert sorted(p.name for p in pruned.files) == ["gone1.xlsx", "gone2.xlsx", "sent.xlsx", "stray-old.xlsx"]
    left = sorted(p.name for p in (data / "uploads").iterdir())
    assert left == ["cli-owed.xlsx", "nightly.xlsx", "owed.xlsx", "paused.xlsx", "recent.xlsx",
                    "running.xlsx", "stray-new.xlsx", "waiting.xlsx"]
    assert Path(stray_new).exists()
    assert await sql.get_upload("u1") is not None

    again = await prune(sql, sql, data, keep_days=30, now=NOW)
    assert (again.batches, again.files) == ([], [])


async def test_the_daemon_prunes_at_start_and_db_prune_does_it_by_hand(tmp_path: Path) -> None:
    from tests.bot.cli.conftest import Cli, write_config
    from tests.fakes.dify import FakeDify
    from tests.support import make_config, running_daemon

    long_ago = datetime.now(UTC) - timedelta(days=40)
    async with FakeDify.running() as dify:
        config = make_config(tmp_path, dify=dify)
        store = await SqlStore.open(config.daemon.database_url)
        await store.create_batch(batch("old1", status=BatchStatus.COMPLETED, created_at=long_ago,
                                       finished_at=long_ago), rows("old1", 2))
        await store.create_batch(batch("new1", status=BatchStatus.COMPLETED, created_at=long_ago,
                                       finished_at=datetime.now(UTC)), rows("new1", 2))
        await store.close()
        async with running_daemon(config) as daemon:
            assert daemon.runtime is not None
            for _ in range(200):
                if await daemon.runtime.store.get_batch("old1") is None:
                    break
                await asyncio.sleep(0.05)
            assert await daemon.runtime.store.get_batch("old1") is None
            assert await daemon.runtime.store.get_batch("new1") is not None

        cli = Cli(tmp_path, tmp_path / "config.toml", dify)
        write_config(cli.config, dify)
        store = await SqlStore.open(f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
        await store.create_batch(batch("old2", status=BatchStatus.FAILED, created_at=long_ago,
                                       finished_at=long_ago), rows("old2", 2))
        busy = batch("busy", status=BatchStatus.RUNNING, created_at=long_ago)
        await store.create_batch(busy, rows("busy", 2))
        await store.close()
        code, out, err = await cli.run("db", "prune", "--keep-days", "30")
        assert code == 0, err
        assert out.startswith("deleted 1 batch(es) finished before ")
        code, out, err = await cli.run("db", "prune", "--keep-days", "0")
        assert code == 2 and "--keep-days must be 1 or more" in err
        store = await SqlStore.open(f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
        try:
            assert await store.get_batch("old2") is None
            assert await store.get_batch("busy") is not None
        finally:
            await store.close()
