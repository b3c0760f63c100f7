"""Engine value types: the input form, batches, rows, results, progress, schedules.

All are frozen dataclasses; a change is a new value (``dataclasses.replace``). JSON-like
values (inputs, outputs, cells) are plain ``dict``/``list`` of str, int, float, bool, None.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeAlias

from engine.text.phrases import Phrase

JsonDict: TypeAlias = dict[str, Any]


class AppType(StrEnum):
    WORKFLOW = "workflow"
    COMPLETION = "completion"
    CHAT = "chat"


class ResponseMode(StrEnum):
    STREAMING = "streaming"
    BLOCKING = "blocking"


class FieldType(StrEnum):
    """Dify's ``user_input_form`` control types, as ``GET /parameters`` names them."""

    TEXT_INPUT = "text-input"
    PARAGRAPH = "paragraph"
    SELECT = "select"
    NUMBER = "number"
    CHECKBOX = "checkbox"
    FILE = "file"
    FILE_LIST = "file-list"
    JSON_OBJECT = "json_object"
    EXTERNAL_DATA_TOOL = "external_data_tool"


@dataclass(frozen=True, slots=True)
class FormField:
    """One input variable of the app's start node."""

    variable: str
    label: str
    type: FieldType
    required: bool = False
    max_length: int | None = None
    options: tuple[str, ...] = ()
    default: Any = None
    description: str = ""
    allowed_file_types: tuple[str, ...] = ()


QUERY_VARIABLE = "query"
"""Chat apps take their message from a ``query`` column besides the form's inputs."""


@dataclass(frozen=True, slots=True)
class InputForm:
    """The app's input form as ``GET /parameters`` and ``GET /info`` describe it."""

    fields: tuple[FormField, ...]
    app_type: AppType = AppType.WORKFLOW

    @property
    def needs_query(self) -> bool:
        return self.app_type is AppType.CHAT


class BatchStatus(StrEnum):
    SCHEDULED = "scheduled"
    PENDING = "pending"
    RUNNING = "running"
    PAUSED = "paused"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_final(self) -> bool:
        return self in FINAL_BATCH_STATUSES


FINAL_BATCH_STATUSES = frozenset({BatchStatus.COMPLETED, BatchStatus.FAILED, BatchStatus.CANCELLED})


class RowStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_final(self) -> bool:
        return self in _FINAL_ROW


_FINAL_ROW = frozenset({RowStatus.SUCCEEDED, RowStatus.FAILED, RowStatus.CANCELLED})


@dataclass(frozen=True, slots=True)
class RunResult:
    """What one Dify run ended with. ``status`` is Dify's: succeeded, failed, stopped, …"""

    status: str
    outputs: JsonDict = field(default_factory=dict)
    error: str | None = None
    run_id: str | None = None
    task_id: str | None = None
    elapsed_s: float = 0.0
    tokens: int = 0
    workflow_id: str | None = None
    """The published app version that ran (Dify's ``workflow_id``); None for plain chat apps."""

    @property
    def succeeded(self) -> bool:
        return self.status in ("succeeded", "partial-succeeded")


@dataclass(frozen=True, slots=True)
class Batch:
    """One run of a workflow over the rows of one sheet."""

    id: str
    workflow: str
    owner: str
    """The identity that started it, ``<platform>:<id>`` (``cli:<login>`` from the CLI)."""
    status: BatchStatus
    total: int
    created_at: datetime
    columns: tuple[str, ...] = ()
    """The sheet's headers in their original order, for the results workbook."""
    source_name: str = ""
    source_path: str | None = None
    """Where the uploaded file is kept under the data directory."""
    started_at: datetime | None = None
    finished_at: datetime | None = None
    error: str | None = None
    schedule_id: str | None = None
    fire_time: datetime | None = None
    blank_rows: int = 0
    sample: bool = False
    """A trial over the sheet's first rows (``run --sample N``), not the whole sheet."""
    locale: str = "en"
    """The language of the person who started it: its messages and files use it."""
    comparison_id: str | None = None
    """Set on each batch of a comparison (one workflow each, same rows): ``run --workflow A --workflow B``."""


@dataclass(frozen=True, slots=True)
class Row:
    """One input row of a batch and, once run, its result."""

    batch_id: str
    index: int
    """0-based position in the batch."""
    sheet_row: int
    """The row number a person sees in the spreadsheet (header is row 1)."""
    cells: tuple[Any, ...]
    """The original cell values, in the order of ``Batch.columns``."""
    inputs: JsonDict
    query: str | None = None
    status: RowStatus = RowStatus.PENDING
    attempts: int = 0
    not_before: datetime | None = None
    run_id: str | None = None
    task_id: str | None = None
    outputs: JsonDict | None = None
    error: str | None = None
    elapsed_s: float | None = None
    tokens: int = 0
    started_at: datetime | None = None
    finished_at: datetime | None = None
    overload_since: datetime | None = None
    sent_at: datetime | None = None
    """When the current attempt was (about to be) sent; None once its run id is known or it ended."""
    sent_user: str | None = None
    """The ``user`` that attempt was sent with: Dify's run log is searched by it after a crash."""
    workflow_id: str | None = None
    """The app version (Dify's ``workflow_id``) that produced the result."""


@dataclass(frozen=True, slots=True)
class RowUpdate:
    """A change to one row's execution state, written by the runner in groups."""

    batch_id: str
    index: int
    status: RowStatus
    attempts: int
    not_before: datetime | None = None
    run_id: str | None = None
    task_id: str | None = None
    outputs: JsonDict | None = None
    error: str | None = None
    elapsed_s: float | None = None
    tokens: int = 0
    started_at: datetime | None = None
    finished_at: datetime | None = None
    overload_since: datetime | None = None
    sent_at: datetime | None = None
    sent_user: str | None = None
    workflow_id: str | None = None


@dataclass(frozen=True, slots=True)
class FoundRun:
    """A run in Dify's own records (run log, conversations) that a sent row may have started."""

    run_id: str
    inputs: JsonDict
    query: str | None = None
    result: RunResult | None = None
    """Its outcome when the record already holds it (a chat message's answer); else poll run_id."""


@dataclass(frozen=True, slots=True)
class PastRow:
    """A finished row of an earlier batch, as much as an estimate needs of it."""

    batch_id: str
    succeeded: bool
    attempts: int
    elapsed_s: float | None
    tokens: int


@dataclass(frozen=True, slots=True)
class Progress:
    """Counts of a batch's rows by status, plus tokens used so far."""

    total: int
    pending: int = 0
    running: int = 0
    succeeded: int = 0
    failed: int = 0
    cancelled: int = 0
    tokens: int = 0
    unreachable_since: datetime | None = None
    """Dify has not been reachable since then (the batch's lane waits for it)."""
    next_try_at: datetime | None = None
    trouble: str = ""
    """What the last attempt to reach Dify ran into."""

    @property
    def done(self) -> int:
        return self.succeeded + self.failed + self.cancelled


@dataclass(frozen=True, slots=True)
class BatchEvent:
    """One line of a batch's execution log."""

    batch_id: str
    kind: str
    detail: str
    at: datetime


@dataclass(frozen=True, slots=True)
class ChatRef:
    """Where a batch talks to people: a chat, its thread, and the progress message."""

    platform: str
    chat_id: str
    thread_id: str | None = None
    progress_message_id: str | None = None
    reply_to_message_id: str | None = None
    owner_display: str = ""


@dataclass(frozen=True, slots=True)
class ChatUpload:
    """A file sent in chat with no command yet, kept until it runs, is scheduled or is discarded.

    Stored so the buttons under its check summary still work after a restart."""

    id: str
    owner: str  # the sender's identity, ``<platform>:<user id>``
    owner_chat: str  # the identity of the chat it was sent in, for ``allow`` lists
    where: ChatRef
    filename: str
    path: str  # the kept copy under the data directory
    message_id: str | None
    created_at: datetime


class ScheduleKind(StrEnum):
    ONCE = "once"
    CRON = "cron"


@dataclass(frozen=True, slots=True)
class Schedule:
    """A deferred or recurring run of a workflow over a stored sheet."""

    id: str
    owner: str
    workflow: str
    kind: ScheduleKind
    when_text: str
    timezone: str
    source_name: str
    source_path: str
    created_at: datetime
    run_at: datetime | None = None
    cron: str | None = None
    chat: ChatRef | None = None
    active: bool = True
    last_fire_time: datetime | None = None
    locale: str = "en"
    """The language of the person who made it, passed on to the batches it starts."""


@dataclass(frozen=True, slots=True)
class SheetLimits:
    """What an uploaded file may be: bytes on disk, bytes once unzipped, data rows."""

    max_rows: int = 10_000
    max_file_bytes: int = 20 * 1024 * 1024
    max_unzipped_bytes: int = 200 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class SheetRow:
    """One non-blank data row of an uploaded sheet, checked against the form."""

    sheet_row: int
    cells: tuple[Any, ...]
    inputs: JsonDict
    query: str | None = None


@dataclass(frozen=True, slots=True)
class SheetProblem:
    """One thing wrong with a sheet: where (sheet, row, column) and what."""

    sheet: str
    row: int
    column: str
    message: str
    """In English; ``phrase`` keeps its code so a front end can say it in the reader's language."""
    phrase: Phrase | None = None


@dataclass(frozen=True, slots=True)
class ParsedSheet:
    """An uploaded sheet read and checked against the form; runnable when ``problems`` is empty."""

    sheet_name: str
    columns: tuple[str, ...]
    rows: Sequence[SheetRow]
    """A tuple, or (from `read_sheet`) rows built from the parsed sheet as they are read."""
    problems: tuple[SheetProblem, ...] = ()
    blank_rows: int = 0
    extra_columns: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems
