"""Progress reports: coalesced per batch, with the counts kept in memory.

Every report used to read the batch's counts from the store (a GROUP BY over its rows),
a few times a second per running batch, on the event loop the Dify calls share. The
service sees every row transition this process commits, so it keeps the counts itself:
seeded exactly when a batch is created, read from the store when it has none for a batch
(after a restart, or after a bulk change it did not follow row by row: `forget`), and
re-read whenever the batch changes state, so the final report is exact. Rows that another
replica sharing the database finishes are invisible here, so the counts are also re-read
every ``refresh_s`` (a re-read that raced a commit and lags is dropped, so `done` never
goes backwards).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from dataclasses import replace

from engine.models import Batch, Progress, RowStatus, RowUpdate
from engine.ports import Notifier, Store

log = logging.getLogger(__name__)

_FIELD = {RowStatus.PENDING: "pending", RowStatus.SUCCEEDED: "succeeded",
          RowStatus.FAILED: "failed", RowStatus.CANCELLED: "cancelled"}


class Notices:
    def __init__(
        self, store: Store, notifier: Notifier, *, interval_s: float, refresh_s: float = 5.0,
        annotate: Callable[[Batch, Progress], Progress] = lambda _batch, progress: progress,
    ) -> None:
        self._annotate = annotate
        self._store = store
        self._notifier = notifier
        self._interval_s = interval_s
        self._refresh_s = refresh_s
        self._counts: dict[str, Progress] = {}
        self._read_at: dict[str, float] = {}
        self._dirty: set[str] = set()
        self._dirty_event = asyncio.Event()
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._held: set[str] = set()

    @property
    def changed(self) -> asyncio.Event:
        """Set after the next report (of any batch); a fresh event each time."""
        return self._changed

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="batch-notifier")

    async def stop(self) -> None:
        """Stop the loop, then report what is still unreported."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        for batch_id in self._take_dirty():
            await self.notify(batch_id)

    # -- counts -----------------------------------------------------------------------------

    def seed(self, batch_id: str, progress: Progress) -> None:
        self._counts[batch_id] = progress
        self._read_at[batch_id] = asyncio.get_running_loop().time()

    def forget(self, batch_id: str) -> None:
        """The store changed this batch's rows in bulk: read its counts again next time."""
        self._counts.pop(batch_id, None)
        self._read_at.pop(batch_id, None)

    def claimed(self, batch_id: str, n: int) -> None:
        p = self._counts.get(batch_id)
        if p is not None:
            self._counts[batch_id] = replace(p, pending=max(0, p.pending - n), running=p.running + n)

    def committed(self, batch_id: str, updates: Iterable[RowUpdate]) -> None:
        """Every update the engine writes is of a row it holds `running` (claimed or adopted)."""
        p = self._counts.get(batch_id)
        if p is not None:
            moved = {"pending": 0, "succeeded": 0, "failed": 0, "cancelled": 0}
            left, tokens = 0, 0
            for u in updates:
                field = _FIELD.get(u.status)
                if field is not None:
                    moved[field] += 1
                    left += 1
                    tokens += u.tokens
            self._counts[batch_id] = replace(
                p, running=max(0, p.running - left), tokens=p.tokens + tokens,
                **{k: getattr(p, k) + v for k, v in moved.items()},
            )
        self._dirty.add(batch_id)
        self._dirty_event.set()

    def touch(self, batch_id: str) -> None:
        """Report the batch again at the next round though no row moved (its lane's state did)."""
        self._dirty.add(batch_id)
        self._dirty_event.set()

    def hold(self, batch_id: str) -> None:
        """Report nothing of this batch until `release`: it is final in the store while its
        rows in flight are still being settled (cancel), and a final report sends the file."""
        self._held.add(batch_id)

    def release(self, batch_id: str) -> None:
        self._held.discard(batch_id)

    # -- reports ----------------------------------------------------------------------------

    async def notify(self, batch_id: str, *, reread: bool = False) -> None:
        if batch_id in self._held:
            self._dirty.add(batch_id)  # reported once released
            return
        try:
            batch = await self._store.get_batch(batch_id)
            if batch is None:
                return
            # a final report is read from the store: it must count rows other replicas finished
            reread = reread or batch.status.is_final
            progress = self._annotate(batch, await self._progress(batch_id, reread))
            await self._notifier.batch_changed(batch, progress)
        except Exception:
            log.exception("notifying about batch %s failed", batch_id)
        finally:
            changed, self._changed = self._changed, asyncio.Event()
            changed.set()

    async def _progress(self, batch_id: str, reread: bool) -> Progress:
        known = self._counts.get(batch_id)
        now = asyncio.get_running_loop().time()
        if known is not None and not reread and now - self._read_at.get(batch_id, now) < self._refresh_s:
            return known
        fresh = await self._store.progress(batch_id)
        self._read_at[batch_id] = now
        current = self._counts.get(batch_id)  # commits may have moved it during the read
        if current is None or reread or fresh.done >= current.done:
            self._counts[batch_id] = current = fresh
        return current

    def _take_dirty(self) -> set[str]:
        dirty, self._dirty = self._dirty, set()
        self._dirty_event.clear()
        return dirty

    async def _loop(self) -> None:
        # one report per batch per round, however many rows that round committed
        while True:
            await self._dirty_event.wait()
            for batch_id in self._take_dirty():
                await self.notify(batch_id)
            await asyncio.sleep(self._interval_s)
