"""The engine's ports: what it needs from Dify, from storage and from chat.

Small protocols speaking engine types only, so test fakes need no base class.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Protocol

from engine.models import (
    Batch,
    BatchEvent,
    BatchStatus,
    ChatRef,
    ChatUpload,
    InputForm,
    JsonDict,
    Progress,
    Row,
    RowStatus,
    RowUpdate,
    RunResult,
    Schedule,
)

RunStarted = Callable[[str, str], Awaitable[None]]
"""Called with ``(run_id, task_id)`` as soon as Dify has named the run."""


class WorkflowClient(Protocol):
    """One Dify app."""

    async def form(self) -> InputForm:
        """The app's input form (``GET /parameters`` + ``GET /info``)."""
        ...

    async def run(
        self,
        inputs: JsonDict,
        *,
        user: str,
        trace_id: str,
        query: str | None = None,
        on_started: RunStarted | None = None,
    ) -> RunResult:
        """Run the app once. A run Dify finished as failed is returned, not raised.

        Raises `TransientWorkflowError` or `PermanentWorkflowError` for everything else.
        """
        ...

    async def stop(self, task_id: str, *, user: str) -> None:
        """Ask Dify to stop a run; Dify answers success even for unknown tasks."""
        ...

    async def fetch_run(self, run_id: str) -> RunResult | None:
        """A run's state by id (``GET /workflows/run/{id}``); None when Dify does not know it."""
        ...

    async def aclose(self) -> None: ...


class Store(Protocol):
    """Durable state: batches, rows, events, schedules and chat bindings."""

    # batches
    async def create_batch(self, batch: Batch, rows: Sequence[Row]) -> None:
        """Insert a batch with all its rows in one transaction.

        Raises `AlreadyExists` when another batch has the same ``(schedule_id, fire_time)``.
        """
        ...

    async def add_rows(self, batch_id: str, rows: Sequence[Row]) -> None:
        """Insert more rows of an existing batch in one transaction (a big sheet's rest,
        stored while its first rows already run)."""
        ...

    async def get_batch(self, batch_id: str) -> Batch | None: ...

    async def list_batches(
        self,
        *,
        owner: str | None = None,
        statuses: Sequence[BatchStatus] | None = None,
        limit: int = 50,
    ) -> list[Batch]:
        """Newest first."""
        ...

    async def update_batch(
        self,
        batch_id: str,
        *,
        status: BatchStatus,
        expected: Sequence[BatchStatus] | None = None,
        started_at: datetime | None = None,
        finished_at: datetime | None = None,
        error: str | None = None,
    ) -> bool:
        """Set a batch's status; with ``expected``, only from those states. True if changed."""
        ...

    # rows
    async def rows(self, batch_id: str, *, statuses: Sequence[RowStatus] | None = None) -> list[Row]:
        """A batch's rows in index order."""
        ...

    async def rows_page(self, batch_id: str, *, after: int, limit: int) -> list[Row]:
        """Up to ``limit`` rows with an index above ``after``, in index order, for the results
        workbook: ``inputs``, the row's times and its lease may be left out (empty/None)."""
        ...

    async def output_keys(self, batch_id: str) -> list[str]:
        """The output names of a batch's rows, in first-seen order."""
        ...

    async def claim_rows(self, batch_id: str, *, limit: int, now: datetime) -> list[Row]:
        """Mark up to ``limit`` pending rows whose ``not_before`` has passed as running.

        Only while the batch is running: a paused or cancelled batch gives nothing."""
        ...

    async def update_rows(self, updates: Sequence[RowUpdate]) -> None:
        """Apply row changes in one transaction: committed when this returns."""
        ...

    async def reclaim_expired(self, batch_id: str, *, limit: int, now: datetime) -> list[Row]:
        """Take over up to ``limit`` running rows whose lease ran out (their owner died).

        They come back as saved (running, run id, attempts), now leased to this store, to be
        reconciled by run id before any re-run. A store with a single owner returns none.
        """
        ...

    async def renew_leases(self, *, now: datetime) -> int:
        """Heartbeat: extend the lease of every running row this store holds; returns how many."""
        ...

    def set_lease(self, lease_s: float) -> None:
        """How long a claim or a heartbeat keeps a row this store's; longer than any row's timeout."""
        ...

    async def reset_rows(
        self, batch_id: str, *, from_statuses: Sequence[RowStatus], to: RowStatus
    ) -> int:
        """Move every row in ``from_statuses`` to ``to`` (clearing run ids); returns how many."""
        ...

    async def progress(self, batch_id: str) -> Progress: ...

    # events
    async def add_event(self, batch_id: str, kind: str, detail: str = "") -> None: ...

    async def events(self, batch_id: str) -> list[BatchEvent]: ...

    # schedules
    async def add_schedule(self, schedule: Schedule) -> None: ...

    async def get_schedule(self, schedule_id: str) -> Schedule | None: ...

    async def list_schedules(
        self, *, owner: str | None = None, active_only: bool = True
    ) -> list[Schedule]: ...

    async def update_schedule(
        self, schedule_id: str, *, active: bool | None = None, last_fire_time: datetime | None = None
    ) -> None: ...

    # chat bindings
    async def bind_chat(self, batch_id: str, chat: ChatRef) -> None:
        """Remember (or replace) where a batch reports, including its progress message id."""
        ...

    async def chat_for(self, batch_id: str) -> ChatRef | None: ...

    async def hold_reporting(self, batch_id: str, reporter: str, *, now: datetime, hold_s: float) -> bool:
        """Take, or keep, the right to report a batch in chat for ``hold_s``: True while
        ``reporter`` holds it (it was free, had lapsed, or was already its own). Replicas
        sharing a database use it so one of them edits the progress message and sends the file."""
        ...

    # chat uploads waiting for a button
    async def add_upload(self, upload: ChatUpload) -> None: ...

    async def get_upload(self, upload_id: str) -> ChatUpload | None: ...

    async def find_upload(
        self, chat_id: str, *, owner: str | None = None, message_id: str | None = None
    ) -> ChatUpload | None:
        """The newest upload in a chat, optionally only that person's or only that message's."""
        ...

    async def forget_uploads(self, *, upload_id: str | None = None, before: datetime | None = None) -> int:
        """Drop one upload, or every upload older than ``before``; returns how many went."""
        ...

    async def close(self) -> None: ...


class Notifier(Protocol):
    """Where the engine reports progress; the bot turns this into throttled edits."""

    async def batch_changed(self, batch: Batch, progress: Progress) -> None: ...
