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
    FoundRun,
    InputForm,
    JsonDict,
    PastRow,
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

    async def find_runs(self, user: str, *, after: datetime) -> list[FoundRun] | None:
        """Runs Dify's own records hold for ``user`` since ``after``, oldest first, with their
        inputs; None when the app keeps no such records (then a sent row is sent again)."""
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

    async def comparison_batches(self, comparison_id: str) -> list[Batch]:
        """The batches of one comparison, in the order they were created; empty if none."""
        ...

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

    async def take_abandoned(self, batch_id: str, *, now: datetime) -> list[Row]:
        """Recovery at start: take over every running row of the batch that no live process
        holds (its lease passed, or its owner is known dead), as `reclaim_expired` does.

        Rows a live process (a daemon, another CLI run) still runs are left to it."""
        ...

    async def hold_slots(
        self, workflow: str, *, want: int, keep: int, limit: int, now: datetime
    ) -> tuple[int, int]:
        """Hold up to ``want`` of the workflow's ``limit`` concurrency slots, shared by every
        process on the database: never fewer than ``keep`` (those in use), and no more than
        a fair share while another process waits for slots. Returns (held, fair share).
        Slots are renewed by `renew_leases` and let go at `close`."""
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

    async def past_rows(self, workflow: str, *, batches: int = 5, rows: int = 500) -> list[PastRow]:
        """The finished (succeeded or failed) rows of ``workflow``'s latest ``batches`` started
        batches, newest batch first (any order within one), at most ``rows`` of them: what an
        estimate is made from."""
        ...

    # events
    async def add_event(self, batch_id: str, kind: str, detail: str = "") -> None: ...

    async def events(self, batch_id: str) -> list[BatchEvent]: ...

    async def events_of_kind(self, kinds: Sequence[str]) -> list[BatchEvent]:
        """Every event of these kinds across batches, oldest first (e.g. results still owed)."""
        ...

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

    # uploaded sheets, so every replica can read them (no shared disk needed)
    async def keep_sheet(self, name: str, data: bytes, *, now: datetime) -> None:
        """Store a sheet's bytes under ``name`` (content-addressed: a name already kept is left)."""
        ...

    async def load_sheet(self, name: str) -> bytes | None: ...

    async def has_sheet(self, name: str) -> bool: ...

    async def close(self) -> None: ...


class Notifier(Protocol):
    """Where the engine reports progress; the bot turns this into throttled edits."""

    async def batch_changed(self, batch: Batch, progress: Progress) -> None: ...


class Housekeeping(Protocol):
    """What retention, health and the metrics ask of storage, beside the `Store` the engine uses."""

    async def ping(self) -> None:
        """Raise unless the database answers."""
        ...

    async def batch_counts(self) -> dict[BatchStatus, int]:
        """How many batches are in each state (states with none may be missing)."""
        ...

    async def finished_before(self, before: datetime, *, limit: int) -> list[Batch]:
        """Up to ``limit`` completed, failed or cancelled batches that finished before ``before``."""
        ...

    async def delete_batches(self, batch_ids: Sequence[str]) -> int:
        """Delete batches with their rows, events, chat binding and reporter; returns how many."""
        ...

    async def files_in_use(self) -> set[str]:
        """Paths of kept sheets still referenced by a batch, an active schedule or an upload."""
        ...

    async def forget_sheets(self, *, keep: set[str], before: datetime) -> list[str]:
        """Delete the sheets kept in the database before ``before`` whose names are not in
        ``keep``; returns their names."""
        ...


class RunObserver(Protocol):
    """Told what the lanes do, for metrics; the bot implements it, the engine only calls it.

    Calls are synchronous and must be cheap: they happen on the lanes' hot path."""

    def row_settled(self, workflow: str, update: RowUpdate) -> None:
        """An attempt ended: the row finished (succeeded, failed, cancelled) or will be retried."""
        ...

    def dify_error(self, workflow: str, kind: str) -> None:
        """A call to Dify failed; ``kind`` is one of `engine.errors.DIFY_ERROR_KINDS`."""
        ...


class NoObserver:
    """The default `RunObserver`: nobody is watching."""

    def row_settled(self, workflow: str, update: RowUpdate) -> None:
        pass

    def dify_error(self, workflow: str, kind: str) -> None:
        pass
