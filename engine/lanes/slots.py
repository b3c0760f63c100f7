"""A workflow's concurrency limit across processes: this process's share of the slots.

Every process that runs rows of a workflow (daemons, CLI runs) holds some of its slots in
the store (`Store.hold_slots`), and calls Dify with at most as many rows at once as it holds.
A process takes free slots when it has more to send than it holds, and gives back the ones
it did not use since the last upkeep tick, so an idle or finishing process frees them for
the others. One process alone takes them all on its first row and keeps them while busy;
when another process waits for slots, each holder above its fair share gives one back
whenever a row of its own finishes, until the limit is shared evenly.

A lane holds a slot only around a call to Dify (or the watch of an adopted run), never
while it looks for work: an idle process holds none.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Protocol

from engine.ports import Store

log = logging.getLogger(__name__)

WAIT_POLL_S = 1.0
"""How often a process that has rows to send but no free slot asks the store again."""


class Slots(Protocol):
    def held(self) -> contextlib.AbstractAsyncContextManager[None]:
        """Hold one slot for the duration of the block (waits for one first)."""
        ...


class Unshared:
    """No other process to share with (a lane built on its own, in unit tests)."""

    def held(self) -> contextlib.AbstractAsyncContextManager[None]:
        return contextlib.nullcontext()


UNSHARED = Unshared()


class SharedSlots:
    def __init__(
        self, store: Store, workflow: str, limit: int, *, clock: Callable[[], datetime],
        poll_s: float = WAIT_POLL_S,
    ) -> None:
        self.workflow = workflow
        self.limit = limit
        self.owned = 0
        self.share = limit
        self.in_use = 0
        self._peak = 0  # most in use since the last `settle`
        self._store = store
        self._clock = clock
        self._poll_s = poll_s
        self._changed = asyncio.Event()
        self._asking = asyncio.Lock()
        self._giving_back: set[asyncio.Task[None]] = set()

    @contextlib.asynccontextmanager
    async def held(self) -> AsyncIterator[None]:
        await self.acquire()
        try:
            yield
        finally:
            self.release()

    async def acquire(self) -> None:
        asked = False
        while True:
            self._changed.clear()  # before the check: a release from here on wakes the wait
            if self.in_use < self.owned:
                break
            if not asked and self.owned < min(self.limit, self.share):
                asked = True  # free slots may be there: ask once, then wait for a change
                await self._ask(self.limit)
                continue
            try:
                async with asyncio.timeout(self._poll_s):
                    await self._changed.wait()
            except TimeoutError:
                asked = False  # ask again: the others may have given slots back or gone
                self.share = max(self.share, self.owned + 1)
        self.in_use += 1
        self._peak = max(self._peak, self.in_use)

    def release(self) -> None:
        self.in_use -= 1
        self._changed.set()
        if self.owned > self.share and not self._asking.locked():
            # another process waits: hand back what this one holds above its share
            task = asyncio.get_running_loop().create_task(self._ask(self.share))
            self._giving_back.add(task)
            task.add_done_callback(self._giving_back.discard)

    async def settle(self) -> None:
        """Give back the slots not used since the last call, and learn the fair share
        (upkeep calls it every tick: one small write)."""
        keep = max(self._peak, self.in_use)
        self._peak = self.in_use
        if self.owned or self.in_use:
            await self._ask(keep)

    async def _ask(self, want: int) -> None:
        async with self._asking:
            before = self.owned
            # no call may start while the store decides: it may take back every slot not in
            # use at the moment of asking, and one taken meanwhile would be over the limit
            self.owned = min(self.owned, self.in_use)
            try:
                held, self.share = await self._store.hold_slots(
                    self.workflow, want=want, keep=self.in_use, limit=self.limit, now=self._clock()
                )
            except Exception:
                self.owned = before  # nothing changed in the store
                log.exception("workflow %s: could not take concurrency slots", self.workflow)
                return
            finally:
                self._changed.set()
            if held != before:
                log.debug("workflow %s: holding %d of %d slots", self.workflow, held, self.limit)
            self.owned = held
