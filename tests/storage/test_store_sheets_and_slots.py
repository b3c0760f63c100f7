"""The Store contract for kept sheets (every implementation), and the SQL store's shared
concurrency slots and abandoned-row take-over between stores on one database."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pytest

from engine.models import RowStatus, RowUpdate
from engine.ports import Store
from storage import SqlStore
from storage.workers import this_machine
from tests.storage.builders import T0, rows, running_batch
from tests.storage.conftest import PgSchema

Opener = Callable[..., Awaitable[SqlStore]]


async def test_a_kept_sheet_round_trips_and_is_kept_once(store: Store) -> None:
    data = bytes(range(256)) * 10
    assert not await store.has_sheet("abc-list.xlsx")
    assert await store.load_sheet("abc-list.xlsx") is None
    await store.keep_sheet("abc-list.xlsx", data, now=T0)
    await store.keep_sheet("abc-list.xlsx", data, now=T0)  # a re-upload of the same bytes
    assert await store.has_sheet("abc-list.xlsx")
    assert await store.load_sheet("abc-list.xlsx") == data


@pytest.fixture(params=["sqlite", "postgres"])
def opener(request: pytest.FixtureRequest, sqlite_url: str, pg_available: str | None) -> Opener:
    if request.param == "sqlite":
        async def open_sqlite(**kw: object) -> SqlStore:
            return await SqlStore.open(sqlite_url, **kw)  # type: ignore[arg-type]
        return open_sqlite
    if pg_available is None:
        pytest.skip("PostgreSQL not reachable (set DIFY_BATCH_TEST_PG)")
    pg: PgSchema = request.getfixturevalue("pg")

    async def open_pg(**kw: object) -> SqlStore:
        return await pg.open(**kw)
    return open_pg


async def test_slots_stay_within_the_limit_and_are_shared_fairly(opener: Opener) -> None:
    now = datetime.now(UTC)
    a, b = await opener(worker_id="a"), await opener(worker_id="b")
    assert await a.hold_slots("wf", want=4, keep=0, limit=4, now=now) == (4, 4)
    # b finds none free, and waits; a then learns its fair share
    assert await b.hold_slots("wf", want=4, keep=0, limit=4, now=now) == (0, 2)
    # a gives back what it does not use beyond its share, never one in use
    assert await a.hold_slots("wf", want=2, keep=3, limit=4, now=now) == (3, 2)
    assert await a.hold_slots("wf", want=2, keep=1, limit=4, now=now) == (2, 2)
    assert await b.hold_slots("wf", want=4, keep=0, limit=4, now=now) == (2, 2)
    # another workflow has slots of its own
    assert await b.hold_slots("other", want=3, keep=0, limit=3, now=now) == (3, 3)
    await a.close()  # a closing store lets go of its slots at once
    assert await b.hold_slots("wf", want=4, keep=0, limit=4, now=now) == (4, 4)
    await b.close()


async def test_a_lapsed_holders_slots_and_rows_are_taken_over_a_live_ones_never(opener: Opener) -> None:
    now = datetime.now(UTC)
    a, b = await opener(worker_id="a", lease_s=60), await opener(worker_id="b", lease_s=60)
    await a.create_batch(running_batch(), rows(n=3))
    assert len(await a.claim_rows("b1", limit=3, now=now)) == 3
    assert await a.hold_slots("wf", want=2, keep=0, limit=2, now=now) == (2, 2)
    assert await b.take_abandoned("b1", now=now) == []  # a is alive: its rows stay its own
    assert await b.hold_slots("wf", want=2, keep=0, limit=2, now=now) == (0, 1)
    later = now + timedelta(seconds=61)  # a stopped renewing
    assert [r.index for r in await b.take_abandoned("b1", now=later)] == [0, 1, 2]
    assert await b.hold_slots("wf", want=2, keep=0, limit=2, now=later) == (2, 2)
    await a.close()
    await b.close()


async def test_rows_of_a_dead_process_on_this_machine_are_taken_at_once(opener: Opener) -> None:
    now = datetime.now(UTC)
    dead = f"{this_machine()}:999999999:deadbeef"  # a pid no process can have
    a = await opener(worker_id=dead, lease_s=3600)
    await a.create_batch(running_batch(), rows(n=2))
    assert len(await a.claim_rows("b1", limit=2, now=now)) == 2
    await a.update_rows([RowUpdate("b1", 0, RowStatus.RUNNING, 1, run_id="run-0")])
    await a.engine.dispose()  # killed: no close, no hand-back; its lease runs for an hour
    b = await opener()
    taken = await b.take_abandoned("b1", now=now)
    assert [(r.index, r.run_id) for r in taken] == [(0, "run-0"), (1, None)]
    await b.close()
