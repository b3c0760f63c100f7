"""SQLModel tables: batch, row, batch_event, schedule, chat_binding, chat_upload, batch_reporter,
lane_slot, lane_waiter, sheet_file."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, ForeignKey, Index, Integer, LargeBinary, String, Table, UniqueConstraint, false
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime, json_column


def _when(*, nullable: bool = True, index: bool = False) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable, index=index))


def _json(*, nullable: bool = True) -> Any:
    return Field(default=None, sa_column=Column(json_column(), nullable=nullable))


class BatchTable(SQLModel, table=True):
    __tablename__ = "batch"
    __table_args__ = (
        # one batch per schedule firing, however many replicas or double fires try
        UniqueConstraint("schedule_id", "fire_time", name="uq_batch_firing"),
        Index("ix_batch_owner_created", "owner", "created_at"),
    )

    id: str = Field(primary_key=True)
    workflow: str
    owner: str
    status: str = Field(index=True)
    total: int
    created_at: datetime = _when(nullable=False)
    columns: list[str] = _json(nullable=False)
    source_name: str = ""
    source_path: str | None = None
    started_at: datetime | None = _when()
    finished_at: datetime | None = _when()
    error: str | None = None
    schedule_id: str | None = None
    fire_time: datetime | None = _when()
    blank_rows: int = 0
    # a trial over a sheet's first rows; the server default lets a migration add it to old batches
    sample: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    locale: str = Field(default="en", sa_column_kwargs={"server_default": "en"})
    comparison_id: str | None = Field(default=None, index=True)  # the batches of one comparison


class RowTable(SQLModel, table=True):
    __tablename__ = "row"
    __table_args__ = (
        # claim_rows walks one batch's pending rows in index order and stops at the limit;
        # not_before rides along so the due check needs no table lookup
        Index("ix_row_claim", "batch_id", "status", "idx", "not_before"),
        # reclaim_expired: running rows whose lease ran out
        Index("ix_row_lease", "status", "lease_until"),
    )

    batch_id: str = Field(
        sa_column=Column(String, ForeignKey("batch.id", ondelete="CASCADE"), primary_key=True)
    )
    idx: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    sheet_row: int
    cells: list[Any] = _json(nullable=False)
    inputs: dict[str, Any] = _json(nullable=False)
    query: str | None = None
    status: str
    attempts: int = 0
    not_before: datetime | None = _when()
    run_id: str | None = None
    task_id: str | None = None
    outputs: dict[str, Any] | None = _json()
    error: str | None = None
    elapsed_s: float | None = None
    tokens: int = 0
    started_at: datetime | None = _when()
    finished_at: datetime | None = _when()
    overload_since: datetime | None = _when()
    # the attempt in flight was sent at, as user: looked up in Dify's run log after a crash
    sent_at: datetime | None = _when()
    sent_user: str | None = None
    workflow_id: str | None = None  # the app version Dify ran the row on
    # which store instance holds a running row, and until when (multi-replica claiming)
    lease_owner: str | None = None
    lease_until: datetime | None = _when()


class BatchEventTable(SQLModel, table=True):
    __tablename__ = "batch_event"
    __table_args__ = (Index("ix_batch_event_batch", "batch_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    batch_id: str = Field(
        sa_column=Column(String, ForeignKey("batch.id", ondelete="CASCADE"), nullable=False)
    )
    kind: str
    detail: str = ""
    at: datetime = _when(nullable=False)


class ScheduleTable(SQLModel, table=True):
    __tablename__ = "schedule"
    __table_args__ = (Index("ix_schedule_owner_created", "owner", "created_at"),)

    id: str = Field(primary_key=True)
    owner: str
    workflow: str
    kind: str
    when_text: str
    timezone: str
    source_name: str
    source_path: str
    created_at: datetime = _when(nullable=False)
    run_at: datetime | None = _when()
    cron: str | None = None
    chat: dict[str, Any] | None = _json()
    active: bool = True
    last_fire_time: datetime | None = _when()
    locale: str = Field(default="en", sa_column_kwargs={"server_default": "en"})


class ChatBindingTable(SQLModel, table=True):
    __tablename__ = "chat_binding"

    # no foreign key: a chat may be bound before its batch is stored
    batch_id: str = Field(primary_key=True)
    platform: str
    chat_id: str
    thread_id: str | None = None
    progress_message_id: str | None = None
    reply_to_message_id: str | None = None
    owner_display: str = ""


class ChatUploadTable(SQLModel, table=True):
    __tablename__ = "chat_upload"
    __table_args__ = (Index("ix_chat_upload_chat_created", "chat_id", "created_at"),)

    id: str = Field(primary_key=True)
    owner: str
    owner_chat: str
    chat_id: str  # also inside ``chat``; a column so lookups by chat use the index
    chat: dict[str, Any] = _json(nullable=False)
    message_id: str | None = None
    filename: str
    path: str
    created_at: datetime = _when(nullable=False, index=True)


class BatchReporterTable(SQLModel, table=True):
    __tablename__ = "batch_reporter"

    # no foreign key, like chat_binding: the right to report is taken around the batch's life
    batch_id: str = Field(primary_key=True)
    reporter: str
    until: datetime = _when(nullable=False)


class LaneSlotTable(SQLModel, table=True):
    __tablename__ = "lane_slot"

    # one record per concurrency slot of a workflow held by a live process: a process runs
    # at most as many rows at once as it holds slots, so every process together stays
    # within the workflow's limit (slot numbers below it)
    workflow: str = Field(primary_key=True)
    slot: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    owner: str
    until: datetime = _when(nullable=False)


class LaneWaiterTable(SQLModel, table=True):
    __tablename__ = "lane_waiter"

    # a live process that has rows to send but fewer slots than its fair share: holders
    # above their share give slots back as their rows finish
    workflow: str = Field(primary_key=True)
    owner: str = Field(primary_key=True)
    until: datetime = _when(nullable=False)


class SheetFileTable(SQLModel, table=True):
    __tablename__ = "sheet_file"

    # an uploaded sheet's bytes, by the name its copy has under every replica's data_dir
    # (content-addressed), so a replica on another machine can run or re-run it
    name: str = Field(primary_key=True)
    size: int
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = _when(nullable=False, index=True)


def _table(model: type[SQLModel]) -> Table:
    return model.__table__  # type: ignore[attr-defined,no-any-return]


BATCH = _table(BatchTable)
ROW = _table(RowTable)
EVENT = _table(BatchEventTable)
SCHEDULE = _table(ScheduleTable)
CHAT = _table(ChatBindingTable)
UPLOAD = _table(ChatUploadTable)
REPORTER = _table(BatchReporterTable)
SLOT = _table(LaneSlotTable)
WAITER = _table(LaneWaiterTable)
SHEET_FILE = _table(SheetFileTable)
TABLES = (BATCH, ROW, EVENT, SCHEDULE, CHAT, UPLOAD, REPORTER, SLOT, WAITER, SHEET_FILE)
