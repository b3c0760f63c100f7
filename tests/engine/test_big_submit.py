"""A big sheet starts on its first slice while the rest is stored, and still runs every row once."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from engine.models import BatchStatus, Row, RowStatus
from engine.service import FIRST_SLICE, STORE_SLICE
from tests.engine.conftest import Make
from tests.fakes.memory_store import InMemoryStore


class GatedStore(InMemoryStore):
    """Holds every `add_rows` until the test opens the gate."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()
        self.added = 0

    async def add_rows(self, batch_id: str, rows: Sequence[Row]) -> None:
        await self.gate.wait()
        await super().add_rows(batch_id, rows)
        self.added += 1


async def test_rows_run_while_the_rest_is_stored_and_the_batch_waits_for_all(make: Make) -> None:
    store = GatedStore()
    h = await make(store=store, idle_poll_s=0.01)
    total = FIRST_SLICE + STORE_SLICE + 7  # a full slice and a part one after the first
    batch = await h.submit(total)

    async with asyncio.timeout(10):
        while h.wf.calls_by_key.total() < FIRST_SLICE:  # the first slice runs with the gate shut
            await asyncio.sleep(0.005)
    progress = await h.service.progress(batch.id)
    assert progress.total == FIRST_SLICE and progress.succeeded + progress.running == FIRST_SLICE
    for _ in range(20):  # the lane finds nothing left to claim again and again...
        await asyncio.sleep(0.01)
    # ...but a batch whose rows are not all stored is not finished
    assert (await h.service.get(batch.id)).status is BatchStatus.RUNNING

    store.gate.set()
    done = await asyncio.wait_for(h.service.wait(batch.id), 20)
    assert done.status is BatchStatus.COMPLETED
    rows = await h.service.rows(batch.id)
    assert [r.index for r in rows] == list(range(total))
    assert all(r.status is RowStatus.SUCCEEDED for r in rows)
    assert set(h.wf.calls_by_key.values()) == {1} and len(h.wf.calls_by_key) == total
    assert store.added == 2


async def test_cancel_while_storing_cancels_every_row(make: Make) -> None:
    store = GatedStore()
    h = await make(store=store, idle_poll_s=0.01)
    batch = await h.submit(FIRST_SLICE + 10)
    store.gate.set()
    cancelled = await h.service.cancel(batch.id)
    assert cancelled.status is BatchStatus.CANCELLED
    await asyncio.wait_for(h.service.wait(batch.id), 10)
    rows = await h.service.rows(batch.id)
    assert len(rows) == FIRST_SLICE + 10
    assert not [r for r in rows if r.status in (RowStatus.PENDING, RowStatus.RUNNING)]
