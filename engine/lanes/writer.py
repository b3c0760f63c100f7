"""The group writer: row results go to the store in short grouped transactions.

A row only counts as done once `on_commit` has seen its update, i.e. after the store's
transaction returned. Within a group the latest update of a row wins (updates carry a
row's whole execution state), and groups commit strictly in order.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence

from engine.lanes.limits import Sleep
from engine.models import RowUpdate
from engine.ports import Store

log = logging.getLogger(__name__)

OnCommit = Callable[[Sequence[RowUpdate]], None]
"""Called right after a group's transaction, before anything else can run, so the caller's
view of what is in flight never lags the store."""


class GroupWriter:
    def __init__(
        self,
        store: Store,
        on_commit: OnCommit,
        *,
        max_rows: int = 500,
        max_delay_s: float = 0.01,
        retry_s: float = 0.5,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._store = store
        self._on_commit = on_commit
        self._max_rows = max_rows
        self._max_delay_s = max_delay_s
        self._retry_s = retry_s
        self._sleep = sleep
        self._pending: dict[tuple[str, int], RowUpdate] = {}
        self._put_seq = 0
        self._done_seq = 0
        self._work = asyncio.Event()
        self._full = asyncio.Event()
        self._committed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self.groups = 0

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="row-writer")

    def put(self, update: RowUpdate) -> None:
        """Queue an update; never blocks (the caller may be inside a Dify stream callback)."""
        self._pending[(update.batch_id, update.index)] = update
        self._put_seq += 1
        self._work.set()
        if len(self._pending) >= self._max_rows:
            self._full.set()

    async def write(self, updates: Sequence[RowUpdate]) -> None:
        """Queue updates and return once they are committed."""
        for u in updates:
            self.put(u)
        await self.flush()

    async def flush(self) -> None:
        """Return once everything queued before this call is committed."""
        target = self._put_seq
        if self._task is None or self._task.done():
            while self._done_seq < target:
                await self._commit_pending()
            return
        self._full.set()  # no reason to wait out the grouping delay
        while self._done_seq < target:
            event = self._committed
            await event.wait()

    async def close(self) -> None:
        """Commit what is queued, then stop."""
        if self._task is None:
            await self.flush()
            return
        await self.flush()
        self._task.cancel()
        try:
            await self._task
        except asyncio.CancelledError:
            if (task := asyncio.current_task()) is not None and task.cancelling():
                raise
        self._task = None
        await self.flush()  # anything put while we were stopping

    async def _run(self) -> None:
        while True:
            await self._work.wait()
            if not self._full.is_set():
                try:
                    async with asyncio.timeout(self._max_delay_s):
                        await self._full.wait()
                except TimeoutError:
                    pass
            await self._commit_pending()

    async def _commit_pending(self) -> None:
        async with self._lock:
            group = list(self._pending.values())
            seq = self._put_seq
            self._pending = {}
            self._work.clear()
            self._full.clear()
            if group:
                await self._commit(group)
                try:
                    self._on_commit(group)
                except Exception:
                    log.exception("handling %d committed row updates failed", len(group))
            self._done_seq = max(self._done_seq, seq)
            done, self._committed = self._committed, asyncio.Event()
            done.set()

    async def _commit(self, group: list[RowUpdate]) -> None:
        while True:
            try:
                await self._store.update_rows(group)
                self.groups += 1
                return
            except Exception:
                # nothing may be reported done before it is stored: keep the group and retry
                log.exception("writing %d row updates failed; retrying", len(group))
                await self._sleep(self._retry_s)
