"""SharedSlots: a process never runs more calls than the slots the store granted it, not
even while the store is deciding to take some back."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from engine.lanes.slots import SharedSlots
from tests.fakes.memory_store import InMemoryStore


class DecidingStore(InMemoryStore):
    """Answers `hold_slots` only when ``answer`` is set, with a fair share of ``share``."""

    def __init__(self) -> None:
        super().__init__()
        self.answer = asyncio.Event()
        self.answer.set()
        self.share = 4

    async def hold_slots(
        self, workflow: str, *, want: int, keep: int, limit: int, now: datetime
    ) -> tuple[int, int]:
        await self.answer.wait()
        return max(keep, min(want, limit, self.share)), self.share


async def test_no_call_starts_on_a_slot_the_store_is_taking_back() -> None:
    store = DecidingStore()
    slots = SharedSlots(store, "wf", 4, clock=lambda: datetime.now(UTC), poll_s=0.01)
    await slots.acquire()
    await slots.acquire()
    assert (slots.owned, slots.in_use) == (4, 2)

    store.answer.clear()
    store.share = 2  # another process waits now
    settling = asyncio.create_task(slots.settle())
    third = asyncio.create_task(slots.acquire())
    await asyncio.sleep(0.05)
    assert not third.done()  # the store has not answered: no new call on a slot it may take

    store.answer.set()
    await settling
    await asyncio.sleep(0.05)
    assert (slots.owned, slots.in_use) == (2, 2)
    assert not third.done()  # the share is 2 and both are in use

    slots.release()
    await asyncio.wait_for(third, 1)
    assert slots.in_use <= slots.owned


async def test_an_idle_process_gives_its_slots_back() -> None:
    store = DecidingStore()
    slots = SharedSlots(store, "wf", 4, clock=lambda: datetime.now(UTC))
    async with slots.held():
        assert slots.owned == 4
    await slots.settle()  # one was used since the last tick: one is kept
    assert slots.owned == 1
    await slots.settle()  # none used since
    assert slots.owned == 0
