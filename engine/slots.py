"""A workflow's concurrency limit across processes: this process's share of the slots.

Every process that runs rows of a workflow (daemons, CLI runs) holds some of its slots in
the store (`Store.hold_slots`), and calls Dify with at most as many rows at once as it holds.
A process takes free slots when it has more to send than it holds, and gives back the ones
it did not use since the last upkeep tick, so an idle or finishing process frees them for
the others. One process alone takes them all on its first row and keeps them while busy;
when another process waits for slots, each holder above its fair share gives one back
whenever a row of its own finishes, until the limit is shared evenly.

`SharedGate` puts this in front of a lane's own gate without the lane knowing: it takes the
lane's ticket first (the adaptive limit), then a slot, and gives both back together.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any, cast

from engine.ports import Store

log = logging.getLogger(__name__)

WAIT_POLL_S = 1.0
"""How often a process that has rows to send but no free slot asks the store again."""


class SharedSlots:
    def __init__(
        self, store: Store, workflow: str, limit: int, *, clock: Callable[[], datetime],
        poll_s: float = WAIT_POLL_S,
    ) -> None:
        self.workflow = workflow
        self.limit = limit
        self.held = 0
        self.share = limit
        self.in_use = 0
        self._peak = 0  # most in use since the last `settle`
        self._store = store
        self._clock = clock
        self._poll_s = poll_s
        self._changed = asyncio.Event()
        self._asking = asyncio.Lock()
        self._giving_back: asyncio.Task[None] | None = None

    async def acquire(self) -> None:
        while self.in_use >= self.held:
            if self.held < self.limit:
                await self._ask(self.limit)
                if self.in_use < self.held:
                    break
            self._changed.clear()
            try:
                async with asyncio.timeout(self._poll_s):
                    await self._changed.wait()
            except TimeoutError:
                pass
        self.in_use += 1
        self._peak = max(self._peak, self.in_use)

    def release(self) -> None:
        self.in_use -= 1
        self._changed.set()
        if self.held > self.share and not self._asking.locked():
            # another process waits: hand back what this one holds above its share
            self._giving_back = asyncio.get_running_loop().create_task(self._ask(self.share))

    async def settle(self) -> None:
        """Give back the slots not used since the last call, and learn the fair share
        (upkeep calls it every tick: one small write)."""
        keep = max(self._peak, self.in_use)
        self._peak = self.in_use
        if self.held or self.in_use:
            await self._ask(keep)

    async def let_go(self) -> None:
        await self._ask(0)

    async def _ask(self, want: int) -> None:
        async with self._asking:
            try:
                held, self.share = await self._store.hold_slots(
                    self.workflow, want=want, keep=self.in_use, limit=self.limit, now=self._clock()
                )
            except Exception:
                log.exception("workflow %s: could not take concurrency slots", self.workflow)
                return
            if held != self.held:
                log.debug("workflow %s: holding %d of %d slots", self.workflow, held, self.limit)
            self.held = held
            self._changed.set()


class SharedGate:
    """A lane's gate (anything with ``acquire() -> ticket`` and ``release()``) that also
    holds one shared slot per ticket; every other attribute is the inner gate's."""

    def __init__(self, inner: Any, slots: SharedSlots) -> None:
        self._inner = inner
        self.slots = slots

    async def acquire(self) -> Any:
        ticket = await self._inner.acquire()
        try:
            await self.slots.acquire()
        except BaseException:
            self._inner.release()
            raise
        return ticket

    def release(self) -> None:
        self.slots.release()
        self._inner.release()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def share(gate: Any, slots: SharedSlots) -> Any:
    """``gate`` wrapped, typed as the gate it wraps (it answers for every attribute)."""
    return cast(Any, SharedGate(gate, slots))
