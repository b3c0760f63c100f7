"""SqlStore beyond the contract: SQLite setup, several stores on one database, leases, restarts."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import StatementError

from engine.models import RowStatus, RowUpdate
from storage import SqlStore
from storage.tables import ROW
from tests.storage.builders import T0, batch, rows, running_batch
from tests.storage.conftest import PgSchema

R = RowStatus


async def _claim_all(store: SqlStore, batch_id: str, *, limit: int) -> list[int]:
    got: list[int] = []
    while claimed := await store.claim_rows(batch_id, limit=limit, now=T0):
        got.extend(r.index for r in claimed)
        await asyncio.sleep(0)
    return got


async def _leases(store: SqlStore, batch_id: str) -> dict[int, tuple[str | None, datetime | None]]:
    async with store.engine.connect() as conn:
        result = await conn.execute(
            select(ROW.c.idx, ROW.c.lease_owner, ROW.c.lease_until).where(ROW.c.batch_id == batch_id)
        )
        return {idx: (owner, until) for idx, owner, until in result}


async def test_sqlite_file_is_set_up_for_concurrent_use(sqlite_url: str, tmp_path: Path) -> None:
    store = await SqlStore.open(sqlite_url)
    try:
        assert (tmp_path / "db" / "store.db").is_file()
        async with store.engine.connect() as conn:
            assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
            assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar() == 1
            assert (await conn.execute(text("PRAGMA busy_timeout"))).scalar() >= 5000
    finally:
        await store.close()


async def test_stores_opening_one_new_sqlite_file_at_once_do_not_lock_out(sqlite_url: str) -> None:
    # create_all reads the schema and then writes it: under a deferred BEGIN the losers
    # fail at once with "database is locked"
    stores = await asyncio.gather(*(SqlStore.open(sqlite_url) for _ in range(4)))
    for store in stores:
        await store.close()


async def test_two_sqlite_stores_write_together(sqlite_url: str) -> None:
    a = await SqlStore.open(sqlite_url, worker_id="a")
    b = await SqlStore.open(sqlite_url, worker_id="b")
    try:
        await a.create_batch(running_batch("b1", total=300), rows("b1", 300))

        async def work(store: SqlStore) -> list[int]:
            mine: list[int] = []
            while claimed := await store.claim_rows("b1", limit=5, now=T0):
                mine.extend(r.index for r in claimed)
                await store.update_rows(
                    [RowUpdate("b1", r.index, R.SUCCEEDED, attempts=1, tokens=1) for r in claimed]
                )
                await store.add_event("b1", "tick", store.worker_id)
            return mine

        got_a, got_b = await asyncio.gather(work(a), work(b))
        assert not set(got_a) & set(got_b)
        assert sorted(got_a + got_b) == list(range(300))
        progress = await b.progress("b1")
        assert (progress.succeeded, progress.tokens) == (300, 300)
    finally:
        await a.close()
        await b.close()


async def test_a_result_is_committed_when_update_rows_returns(sqlite_url: str) -> None:
    writer = await SqlStore.open(sqlite_url)
    reader = await SqlStore.open(sqlite_url)
    try:
        await writer.create_batch(batch("b1"), rows("b1"))
        await writer.update_rows([RowUpdate("b1", 1, R.SUCCEEDED, attempts=1, outputs={"a": "好"})])
        seen = (await reader.rows("b1"))[1]
        assert (seen.status, seen.outputs) == (R.SUCCEEDED, {"a": "好"})
    finally:
        await writer.close()
        await reader.close()


async def test_data_survives_close_and_reopen(sqlite_url: str) -> None:
    store = await SqlStore.open(sqlite_url)
    await store.create_batch(batch("b1", schedule_id="s1", fire_time=T0), rows("b1"))
    await store.update_rows([RowUpdate("b1", 0, R.FAILED, attempts=3, error="坏了")])
    await store.add_event("b1", "failed")
    await store.close()

    again = await SqlStore.open(sqlite_url)
    try:
        got = await again.get_batch("b1")
        assert got == batch("b1", schedule_id="s1", fire_time=T0)
        assert got is not None
        assert got.created_at.tzinfo is UTC
        assert (await again.rows("b1"))[0].error == "坏了"
        assert [e.kind for e in await again.events("b1")] == ["failed"]
    finally:
        await again.close()


async def test_naive_datetimes_are_refused(sqlite_url: str) -> None:
    store = await SqlStore.open(sqlite_url)
    try:
        with pytest.raises(StatementError, match="naive datetime"):
            await store.create_batch(batch("b1", created_at=datetime(2026, 5, 1, 9, 0)), [])
        assert await store.get_batch("b1") is None
    finally:
        await store.close()


async def _check_leases(a: SqlStore, b: SqlStore) -> None:
    now = datetime.now(UTC)
    await a.create_batch(running_batch("b1", total=4), rows("b1", 4))
    claimed = await a.claim_rows("b1", limit=3, now=now)
    assert [r.index for r in claimed] == [0, 1, 2]
    leases = await _leases(a, "b1")
    assert leases[0] == ("a", now + timedelta(seconds=60))
    assert leases[3] == (None, None)

    # a live lease is not taken over; once it runs out, it is, with the saved run id
    await a.update_rows([RowUpdate("b1", 1, R.RUNNING, attempts=1, run_id="run-1", task_id="t1")])
    await a.update_rows([RowUpdate("b1", 2, R.SUCCEEDED, attempts=1)])
    assert (await _leases(a, "b1"))[2] == (None, None)
    assert await b.reclaim_expired("b1", limit=10, now=now + timedelta(seconds=30)) == []
    assert await a.renew_leases(now=now + timedelta(seconds=50)) == 2
    assert await b.reclaim_expired("b1", limit=10, now=now + timedelta(seconds=100)) == []
    taken = await b.reclaim_expired("b1", limit=10, now=now + timedelta(seconds=200))
    assert [(r.index, r.status, r.run_id) for r in taken] == [(0, R.RUNNING, None), (1, R.RUNNING, "run-1")]
    assert {i: owner for i, (owner, _) in (await _leases(b, "b1")).items()} == {
        0: "b", 1: "b", 2: None, 3: None
    }
    assert await a.renew_leases(now=now + timedelta(seconds=200)) == 0


async def test_expired_leases_are_taken_over_on_sqlite(sqlite_url: str) -> None:
    a = await SqlStore.open(sqlite_url, worker_id="a", lease_s=60)
    b = await SqlStore.open(sqlite_url, worker_id="b", lease_s=60)
    try:
        await _check_leases(a, b)
    finally:
        await a.close()
        await b.close()


async def test_expired_leases_are_taken_over_on_postgres(pg: PgSchema) -> None:
    a = await pg.open(worker_id="a", lease_s=60)
    b = await pg.open(worker_id="b", lease_s=60)
    try:
        await _check_leases(a, b)
    finally:
        await a.close()
        await b.close()


async def test_postgres_replicas_never_claim_the_same_row(pg: PgSchema) -> None:
    stores = [await pg.open(worker_id=f"w{i}") for i in range(4)]
    try:
        await stores[0].create_batch(running_batch("b1", total=2000), rows("b1", 2000))
        # two claimers per store, so claims also race inside one connection pool
        results = await asyncio.gather(
            *(_claim_all(s, "b1", limit=7) for s in stores for _ in range(2))
        )
        flat = [i for got in results for i in got]
        assert len(flat) == len(set(flat)) == 2000
        assert sum(1 for got in results if got) >= 2
        owners = {i: owner for i, (owner, _) in (await _leases(stores[0], "b1")).items()}
        for k, got in enumerate(results):
            assert {owners[i] for i in got} <= {f"w{k // 2}"}
    finally:
        for s in stores:
            await s.close()


async def test_postgres_datetimes_come_back_in_utc(pg: PgSchema) -> None:
    store = await pg.open()
    try:
        await store.create_batch(batch("b1"), rows("b1"))
        got = await store.get_batch("b1")
        assert got is not None
        assert got.created_at.tzinfo is UTC
        assert got.created_at == T0
    finally:
        await store.close()
