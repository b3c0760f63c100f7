"""BatchService: the one façade the CLI, the chat bots and the scheduler drive batches through."""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import logging
import random
import secrets
from collections import defaultdict
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime

from engine.context import ContextInput, with_context
from engine.errors import InvalidTransition, NotFound, SheetError, StateError
from engine.estimate import (
    ESTIMATE_EVENT,
    HISTORY_BATCHES,
    HISTORY_ROWS,
    Estimate,
    estimate_from,
    estimate_json,
)
from engine.lanes.lane import Lane
from engine.lanes.writer import GroupWriter
from engine.logcontext import about
from engine.models import Batch, BatchStatus, ChatRef, ParsedSheet, Progress, Row, RowStatus, RowUpdate
from engine.notices import Notices
from engine.ports import Notifier, RunObserver, Store, WorkflowClient
from engine.recovery import recover_batches
from engine.settings import WorkflowSettings
from engine.sheets.sentences import problem_line, sheet_phrase
from engine.states import check_batch
from engine.text.sentences import state_phrase
from engine.upkeep import Upkeep, checked_lease

log = logging.getLogger(__name__)

B = BatchStatus


FIRST_SLICE = 500
"""Rows stored before a batch starts; the rest follow in `STORE_SLICE`s while it runs
(small slices: a claim waits for the write lock at most one slice, ~50 ms)."""
STORE_SLICE = 2_000
STORE_GRACE_S = 1.0
"""How long the rest of a big sheet waits for its batch's first commit (the 'sent' marks of
its first calls) before being stored anyway: the first claim and the marks, and so the
first calls, then do not queue for the write lock behind slices being stored."""


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _rows_of(batch_id: str, sheet: ParsedSheet, start: int, count: int) -> list[Row]:
    return [
        Row(batch_id, i, r.sheet_row, r.cells, r.inputs, query=r.query)
        for i, r in enumerate(sheet.rows[start : start + count], start)
    ]


class BatchService:
    """Submit, steer and watch batches; one `Lane` per workflow does the running."""

    def __init__(
        self,
        store: Store,
        workflows: Mapping[str, WorkflowSettings],
        clients: Mapping[str, WorkflowClient],
        notifier: Notifier,
        *,
        clock: Callable[[], datetime] = _utcnow,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rand: Callable[[], float] = random.random,
        new_id: Callable[[], str] = lambda: secrets.token_hex(3),
        flush_delay_s: float = 0.05,
        notify_interval_s: float = 0.5,
        idle_poll_s: float = 1.0,
        run_poll_s: float = 2.0,
        cancel_grace_s: float = 5.0,
        lease_s: float | None = None,
        heartbeat_s: float | None = None,
        discover_s: float = 5.0,
        serve_others: bool = True,
        observer: RunObserver | None = None,
    ) -> None:
        """``lease_s`` (default: from the workflows' timeouts) must outlive every row timeout;
        the heartbeat renews it every ``heartbeat_s`` (default: a quarter of it, at most 30 s).
        ``serve_others=False`` (the CLI) serves only the batches this process submits or
        resumes, never running batches it discovers in the store."""
        missing = sorted(set(workflows) - set(clients))
        if missing:
            raise ValueError(f"no client for workflow(s): {', '.join(missing)}")
        lease = checked_lease(workflows.values(), lease_s)
        store.set_lease(lease)
        self._store = store
        self._notices = Notices(store, notifier, interval_s=notify_interval_s, annotate=self._annotate)
        self._clock = clock
        self._new_id = new_id
        self._writer = GroupWriter(store, self._on_commit, max_delay_s=flush_delay_s, sleep=sleep)
        self.lanes = {
            name: Lane(
                settings, clients[name], store, self._writer, finished=self._finish,
                claimed=self._notices.claimed, troubled=self._troubled,
                outage_too_long=self._outage_too_long, clock=clock,
                sleep=sleep, rand=rand, idle_poll_s=idle_poll_s, run_poll_s=run_poll_s,
                cancel_grace_s=cancel_grace_s,
            )
            for name, settings in workflows.items()
        }
        if observer is not None:
            for lane in self.lanes.values():
                lane.observer = observer
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._upkeep = Upkeep(
            store, self.lanes, locks=self._locks, clock=clock,
            heartbeat_s=heartbeat_s or min(30.0, lease / 4), discover_s=discover_s,
            serve_others=serve_others,
        )
        self._started = False
        self._recovered = False
        self._side_tasks: set[asyncio.Task[None]] = set()
        self._storing: dict[str, asyncio.Task[None]] = {}
        self._first_sent: dict[str, asyncio.Event] = {}

    # -- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        """Start the writer, the notifier loop and every lane; calling it again does nothing."""
        if self._started:
            return
        self._started = True
        self._writer.start()
        self._notices.start()
        for lane in self.lanes.values():
            lane.start()
        self._upkeep.start()

    async def recover(self, only: Collection[str] | None = None) -> builtins.list[Batch]:
        """Pick up after a restart (see `recover_batches`); returns the batches that resume.

        ``only`` limits it to those batches (the CLI's `resume ID`)."""
        if self._recovered:
            return []
        self._recovered = True
        return await recover_batches(self._store, self.lanes, only=only)

    async def shutdown(self, grace_s: float) -> None:
        """Stop intake, let rows in flight finish for ``grace_s``, and persist everything.

        Rows still in flight stay `running` with their run id for the next `recover()`;
        batch states are left as they are.
        """
        await self._upkeep.stop()
        await asyncio.gather(*self._side_tasks, return_exceptions=True)
        # a batch half stored would never finish: its rows go in first (seconds at most)
        for waiting in self._first_sent.values():
            waiting.set()
        await asyncio.gather(*self._storing.values(), return_exceptions=True)
        await asyncio.gather(*(lane.shutdown(grace_s) for lane in self.lanes.values()))
        await self._writer.close()
        await self._notices.stop()

    # -- commands -------------------------------------------------------------------------

    async def submit(
        self,
        *,
        workflow: str,
        owner: str,
        sheet: ParsedSheet,
        source_name: str,
        source_path: str | None = None,
        schedule_id: str | None = None,
        fire_time: datetime | None = None,
        start: bool = True,
        chat: ChatRef | None = None,
        context: Sequence[ContextInput] = (),
        sample: bool = False,
        locale: str = "en",
        comparison_id: str | None = None,
    ) -> Batch:
        """Create a batch from a checked sheet; raises `AlreadyExists` for a duplicate firing.

        ``context`` names inputs each row gets from the batch (its row number, the batch id, …);
        ``sample`` marks a trial over the sheet's first rows.

        With ``chat`` the batch is bound to it before its first notification and before it
        starts, so the first progress report already goes there and already says it runs.
        """
        lane = self.lanes.get(workflow)
        if lane is None:
            raise NotFound(f"there is no workflow named {workflow!r}")
        if not sheet.ok:
            problems = [problem_line(p) for p in sheet.problems]
            raise SheetError(sheet_phrase("form_mismatch"), problems)
        # made before the batch exists, so it counts the same earlier batches `check` does
        est = await self.estimate(workflow, len(sheet.rows))
        now = self._clock()
        batch = Batch(
            id=await self._free_id(), workflow=workflow, owner=owner,
            status=B.RUNNING if start else B.PENDING, total=len(sheet.rows), created_at=now,
            columns=sheet.columns, source_name=source_name, source_path=source_path,
            started_at=now if start else None, schedule_id=schedule_id, fire_time=fire_time,
            blank_rows=sheet.blank_rows, sample=sample, locale=locale, comparison_id=comparison_id,
        )
        sheet = with_context(sheet, context, batch_id=batch.id, file=source_name, owner=owner)
        # a big sheet starts once its first slice is stored; the rest is stored meanwhile
        # (in slices, each its own short transaction, so claims and results get their turn)
        first = _rows_of(batch.id, sheet, 0, FIRST_SLICE)
        await self._store.create_batch(batch, first)
        total = len(sheet.rows)
        await self._store.add_event(batch.id, "created", f"{total} rows, {workflow}, by {owner}")
        await self._store.add_event(batch.id, ESTIMATE_EVENT, estimate_json(est))
        if chat is not None:
            await self._store.bind_chat(batch.id, chat)
        if total > len(first):
            sent = self._first_sent[batch.id] = asyncio.Event()
            if not start:
                sent.set()  # nothing will run it soon: no reason to wait
            self._storing[batch.id] = asyncio.create_task(self._store_rest(batch.id, sheet, len(first), sent))
        self._notices.seed(batch.id, Progress(total=total, pending=total))
        if start:
            lane.add_batch(batch)
        await self._notices.notify(batch.id)
        return batch

    async def estimate(self, workflow: str, rows: int) -> Estimate:
        """What ``rows`` rows on ``workflow`` should cost, from its latest batches."""
        settings = self._lane_named(workflow).settings
        history = await self._store.past_rows(workflow, batches=HISTORY_BATCHES, rows=HISTORY_ROWS)
        return estimate_from(
            rows, history, concurrency=settings.concurrency,
            requests_per_minute=settings.requests_per_minute,
        )

    def _lane_named(self, workflow: str) -> Lane:
        lane = self.lanes.get(workflow)
        if lane is None:
            raise NotFound(f"there is no workflow named {workflow!r}")
        return lane

    async def _store_rest(self, batch_id: str, sheet: ParsedSheet, start: int, sent: asyncio.Event) -> None:
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(sent.wait(), STORE_GRACE_S)
            self._first_sent.pop(batch_id, None)
            # a slice at a time: the rows are built from the parsed sheet as they are stored
            # (engine.sheets.checkedrows), never all at once
            for at in range(start, len(sheet.rows), STORE_SLICE):
                await self._store.add_rows(batch_id, _rows_of(batch_id, sheet, at, STORE_SLICE))
        except Exception as exc:
            log.exception("storing the rows of batch %s failed", batch_id)
            await self._store.update_batch(
                batch_id, status=B.FAILED, finished_at=self._clock(),
                error=f"storing its rows failed ({type(exc).__name__}); nothing more will run",
            )
            for lane in self.lanes.values():
                lane.forget(batch_id)
        finally:
            self._storing.pop(batch_id, None)

    async def stored(self, batch_id: str) -> None:
        """Return once every row of the batch is in the store (at once for most batches)."""
        task = self._storing.get(batch_id)
        if task is not None:
            waiting = self._first_sent.get(batch_id)
            if waiting is not None:
                waiting.set()  # someone needs every row now
            await asyncio.shield(task)

    async def pause(self, batch_id: str) -> Batch:
        """Stop dispatching; rows in flight finish and are kept."""
        async with self._locks[batch_id]:
            batch = await self.get(batch_id)
            await self._move(batch, B.PAUSED)
            await self._lane(batch).pause_batch(batch_id)
        return await self._changed_to(batch_id, "paused")

    async def resume(self, batch_id: str) -> Batch:
        """Run a paused (or not yet started) batch."""
        async with self._locks[batch_id]:
            batch = await self.get(batch_id)
            if batch.status.is_final:
                state = batch.status.value
                raise InvalidTransition(state_phrase("retry_not_final", id=batch_id, state=state))
            await self._move(batch, B.RUNNING, started_at=batch.started_at or self._clock())
            self._lane(batch).add_batch(await self.get(batch_id))
        return await self._changed_to(batch_id, "resumed")

    async def cancel(self, batch_id: str) -> Batch:
        """Stop dispatching, stop runs in flight on Dify, and mark every unfinished row cancelled."""
        await self.stored(batch_id)  # rows still being stored must be there to be cancelled
        async with self._locks[batch_id]:
            batch = await self.get(batch_id)
            # the partial results go out with the final report: not before every row is settled
            self._notices.hold(batch_id)
            try:
                await self._move(batch, B.CANCELLED, finished_at=self._clock())
                await self._lane(batch).cancel_batch(batch_id)
                await self._writer.flush()  # rows that ended, and retries decided before, land first
                await self._store.reset_rows(
                    batch_id, from_statuses=[RowStatus.PENDING], to=RowStatus.CANCELLED
                )
                self._notices.forget(batch_id)
            finally:
                self._notices.release(batch_id)
        return await self._changed_to(batch_id, "cancelled")

    async def retry_failed(self, batch_id: str) -> Batch:
        """Put the failed rows back to `pending` and run the batch again."""
        async with self._locks[batch_id]:
            batch = await self.get(batch_id)
            if (await self._store.progress(batch_id)).failed == 0:
                raise InvalidTransition(state_phrase("no_failed_rows", id=batch_id))
            if batch.status.is_final:
                await self._move(batch, B.RUNNING)
            await self._store.reset_rows(batch_id, from_statuses=[RowStatus.FAILED], to=RowStatus.PENDING)
            self._notices.forget(batch_id)
            batch = await self.get(batch_id)
            if batch.status is B.RUNNING:
                self._lane(batch).add_batch(batch)
        return await self._changed_to(batch_id, "retry")

    # -- queries --------------------------------------------------------------------------

    async def get(self, batch_id: str) -> Batch:
        batch = await self._store.get_batch(batch_id)
        if batch is None:
            raise NotFound(f"there is no batch {batch_id}")
        return batch

    async def progress(self, batch_id: str) -> Progress:
        await self.get(batch_id)
        return await self._store.progress(batch_id)

    async def rows(self, batch_id: str) -> builtins.list[Row]:
        await self.get(batch_id)
        return await self._store.rows(batch_id)

    async def latest(self, owner: str) -> Batch | None:
        found = await self._store.list_batches(owner=owner, limit=1)
        return found[0] if found else None

    async def list(self, owner: str | None = None, limit: int = 20) -> builtins.list[Batch]:
        return await self._store.list_batches(owner=owner, limit=limit)

    async def wait(self, batch_id: str) -> Batch:
        """Return once the batch is final or paused and none of its rows is still in flight."""
        lane: Lane | None = None
        while True:
            changed = self._notices.changed
            # while its lane still holds rows of it, the batch cannot be settled: no store read
            if lane is None or not lane.is_busy(batch_id):
                batch = await self.get(batch_id)
                lane = self._lane(batch)
                settled = batch.status.is_final or batch.status is B.PAUSED
                if settled and not lane.is_busy(batch_id):
                    return batch
            await changed.wait()

    # -- internals ------------------------------------------------------------------------

    def _lane(self, batch: Batch) -> Lane:
        lane = self.lanes.get(batch.workflow)
        if lane is None:
            raise StateError(f"batch {batch.id}: workflow {batch.workflow!r} is not configured")
        return lane

    async def _free_id(self) -> str:
        for _ in range(50):
            batch_id = self._new_id()
            if await self._store.get_batch(batch_id) is None:
                return batch_id
        raise StateError("could not find a free batch id")

    async def _move(
        self,
        batch: Batch,
        target: BatchStatus,
        *,
        started_at: datetime | None = None,
        finished_at: datetime | None = None,
        error: str | None = None,
    ) -> None:
        check_batch(batch.status, target)
        if not await self._store.update_batch(
            batch.id, status=target, expected=[batch.status], started_at=started_at,
            finished_at=finished_at, error=error,
        ):
            raise InvalidTransition(state_phrase("changed_meanwhile", id=batch.id))

    async def _changed_to(self, batch_id: str, kind: str, detail: str = "") -> Batch:
        await self._store.add_event(batch_id, kind, detail)
        log.info("batch %s %s", batch_id, kind, extra=about(batch_id))
        await self._notices.notify(batch_id, reread=True)
        return await self.get(batch_id)

    async def _finish(self, batch_id: str) -> None:
        """The lane has nothing left for this batch: close it if the store agrees."""
        async with self._locks[batch_id]:
            batch = await self._store.get_batch(batch_id)
            if batch is None or self._lane(batch).is_busy(batch_id):
                return
            if batch.status.is_final:
                # another replica closed it: stop serving it, and wake whoever waits here
                self._lane(batch).forget(batch_id)
                closed = False
            elif batch.status is not B.RUNNING:
                return
            else:
                closed = await self._close(batch)
                if not closed:
                    return
        await self._notices.notify(batch_id)

    async def _close(self, batch: Batch) -> bool:
        """Mark a running batch whose rows are all done completed (or failed); False if not yet."""
        progress = await self._store.progress(batch.id)
        if progress.pending or progress.running or progress.total < batch.total:
            return False  # rows still to run, or still being stored
        failed = progress.total > 0 and progress.succeeded == 0 and progress.failed > 0
        status, error = (B.FAILED, "every row failed") if failed else (B.COMPLETED, None)
        if not await self._store.update_batch(
            batch.id, status=status, expected=[B.RUNNING], finished_at=self._clock(), error=error
        ):
            return False
        self._lane(batch).forget(batch.id)
        counts = f"{progress.succeeded} ok, {progress.failed} failed"
        await self._store.add_event(batch.id, status.value, counts)
        log.info("batch %s %s", batch.id, status.value, extra=about(batch.id, batch.workflow))
        return True

    # -- Dify unreachable -------------------------------------------------------------------

    def _annotate(self, batch: Batch, progress: Progress) -> Progress:
        """A running batch whose lane cannot reach Dify says so, and since when."""
        lane = self.lanes.get(batch.workflow)
        if lane is None or not lane.outage.active or batch.status is not B.RUNNING:
            return progress
        o = lane.outage
        return replace(progress, unreachable_since=o.since, next_try_at=o.next_try, trouble=o.reason)

    def _troubled(self, lane: Lane) -> None:
        for batch_id in lane.serving():
            self._notices.touch(batch_id)

    def _outage_too_long(self, lane: Lane) -> None:
        since, why = lane.outage.since, lane.outage.reason or "no answer"
        lane.outage.reset()  # a resume starts a new wait for Dify, with a new limit
        when = since.strftime("%Y-%m-%d %H:%M UTC") if since is not None else "a while"
        reason = (f"Dify has been unreachable since {when} ({why}); "
                  f"paused by itself after {lane.settings.outage_pause_after_s:g} s")
        for batch_id in lane.serving():
            task = asyncio.create_task(self._pause_for_outage(batch_id, reason))
            self._side_tasks.add(task)
            task.add_done_callback(self._side_tasks.discard)

    async def _pause_for_outage(self, batch_id: str, reason: str) -> None:
        try:
            async with self._locks[batch_id]:
                batch = await self.get(batch_id)
                if batch.status is not B.RUNNING:
                    return
                await self._move(batch, B.PAUSED, error=reason)
                await self._lane(batch).pause_batch(batch_id)
            await self._changed_to(batch_id, "paused", reason)
        except Exception:
            log.exception("pausing batch %s while Dify is unreachable failed", batch_id)

    def _on_commit(self, updates: Sequence[RowUpdate]) -> None:
        by_batch: dict[str, list[RowUpdate]] = {}
        for u in updates:
            by_batch.setdefault(u.batch_id, []).append(u)
        for batch_id, group in by_batch.items():
            waiting = self._first_sent.get(batch_id)
            if waiting is not None:
                waiting.set()
            for lane in self.lanes.values():
                lane.committed(batch_id, group)
            self._notices.committed(batch_id, group)
