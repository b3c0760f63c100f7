"""Conversions between engine dataclasses and table rows (plain mappings)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.models import (
    Batch,
    BatchEvent,
    BatchStatus,
    ChatRef,
    ChatUpload,
    Row,
    RowStatus,
    RowUpdate,
    Schedule,
    ScheduleKind,
)

Record = Mapping[Any, Any]


def batch_to_record(b: Batch) -> dict[str, Any]:
    return {
        "id": b.id,
        "workflow": b.workflow,
        "owner": b.owner,
        "status": b.status.value,
        "total": b.total,
        "created_at": b.created_at,
        "columns": list(b.columns),
        "source_name": b.source_name,
        "source_path": b.source_path,
        "started_at": b.started_at,
        "finished_at": b.finished_at,
        "error": b.error,
        "schedule_id": b.schedule_id,
        "fire_time": b.fire_time,
        "blank_rows": b.blank_rows,
        "sample": b.sample,
        "locale": b.locale,
        "comparison_id": b.comparison_id,
    }


def batch_from_record(r: Record) -> Batch:
    return Batch(
        id=r["id"],
        workflow=r["workflow"],
        owner=r["owner"],
        status=BatchStatus(r["status"]),
        total=r["total"],
        created_at=r["created_at"],
        columns=tuple(r["columns"]),
        source_name=r["source_name"],
        source_path=r["source_path"],
        started_at=r["started_at"],
        finished_at=r["finished_at"],
        error=r["error"],
        schedule_id=r["schedule_id"],
        fire_time=r["fire_time"],
        blank_rows=r["blank_rows"],
        sample=bool(r["sample"]),
        locale=r["locale"],
        comparison_id=r["comparison_id"],
    )


# RowUpdate fields besides the key; every one of them overwrites the stored value
UPDATE_FIELDS = tuple(
    name for name in RowUpdate.__dataclass_fields__ if name not in ("batch_id", "index")
)


def row_to_record(row: Row) -> dict[str, Any]:
    record = {name: getattr(row, name) for name in UPDATE_FIELDS}
    record.update(
        batch_id=row.batch_id,
        idx=row.index,
        sheet_row=row.sheet_row,
        cells=list(row.cells),
        inputs=row.inputs,
        query=row.query,
        status=row.status.value,
        lease_owner=None,
        lease_until=None,
    )
    return record


_FRESH = Row("", 0, 0, (), {})
"""A row as the sheet gives it: every execution field at its default."""


def is_fresh(row: Row) -> bool:
    """True when a row has never run, so only its sheet fields need storing."""
    return all(getattr(row, name) == getattr(_FRESH, name) for name in UPDATE_FIELDS)


def fresh_row_record(row: Row) -> dict[str, Any]:
    """The columns of a row that has never run; the table's defaults fill the rest."""
    return {
        "batch_id": row.batch_id,
        "idx": row.index,
        "sheet_row": row.sheet_row,
        "cells": list(row.cells),
        "inputs": row.inputs,
        "query": row.query,
        "status": RowStatus.PENDING.value,
        "attempts": 0,
        "tokens": 0,
    }


def row_from_record(r: Record) -> Row:
    return Row(
        batch_id=r["batch_id"],
        index=r["idx"],
        sheet_row=r["sheet_row"],
        cells=tuple(r["cells"]),
        inputs=r["inputs"],
        query=r["query"],
        status=RowStatus(r["status"]),
        attempts=r["attempts"],
        not_before=r["not_before"],
        run_id=r["run_id"],
        task_id=r["task_id"],
        outputs=r["outputs"],
        error=r["error"],
        elapsed_s=r["elapsed_s"],
        tokens=r["tokens"],
        started_at=r["started_at"],
        finished_at=r["finished_at"],
        overload_since=r["overload_since"],
        sent_at=r["sent_at"],
        sent_user=r["sent_user"],
        workflow_id=r["workflow_id"],
    )


def update_params(u: RowUpdate) -> dict[str, Any]:
    """Bind parameters for the grouped UPDATE; keys are prefixed so they never clash with columns."""
    params = {f"v_{name}": getattr(u, name) for name in UPDATE_FIELDS}
    params["v_status"] = u.status.value
    params["k_batch_id"] = u.batch_id
    params["k_idx"] = u.index
    return params


def event_from_record(r: Record) -> BatchEvent:
    return BatchEvent(batch_id=r["batch_id"], kind=r["kind"], detail=r["detail"], at=r["at"])


def chat_to_record(chat: ChatRef) -> dict[str, Any]:
    return {
        "platform": chat.platform,
        "chat_id": chat.chat_id,
        "thread_id": chat.thread_id,
        "progress_message_id": chat.progress_message_id,
        "reply_to_message_id": chat.reply_to_message_id,
        "owner_display": chat.owner_display,
    }


def chat_from_record(r: Record) -> ChatRef:
    return ChatRef(
        platform=r["platform"],
        chat_id=r["chat_id"],
        thread_id=r["thread_id"],
        progress_message_id=r["progress_message_id"],
        reply_to_message_id=r["reply_to_message_id"],
        owner_display=r["owner_display"],
    )


def schedule_to_record(s: Schedule) -> dict[str, Any]:
    return {
        "id": s.id,
        "owner": s.owner,
        "workflow": s.workflow,
        "kind": s.kind.value,
        "when_text": s.when_text,
        "timezone": s.timezone,
        "source_name": s.source_name,
        "source_path": s.source_path,
        "created_at": s.created_at,
        "run_at": s.run_at,
        "cron": s.cron,
        "chat": None if s.chat is None else chat_to_record(s.chat),
        "active": s.active,
        "last_fire_time": s.last_fire_time,
        "locale": s.locale,
    }


def schedule_from_record(r: Record) -> Schedule:
    return Schedule(
        id=r["id"],
        owner=r["owner"],
        workflow=r["workflow"],
        kind=ScheduleKind(r["kind"]),
        when_text=r["when_text"],
        timezone=r["timezone"],
        source_name=r["source_name"],
        source_path=r["source_path"],
        created_at=r["created_at"],
        run_at=r["run_at"],
        cron=r["cron"],
        chat=None if r["chat"] is None else chat_from_record(r["chat"]),
        active=r["active"],
        last_fire_time=r["last_fire_time"],
        locale=r["locale"],
    )


def upload_to_record(u: ChatUpload) -> dict[str, Any]:
    return {
        "id": u.id,
        "owner": u.owner,
        "owner_chat": u.owner_chat,
        "chat_id": u.where.chat_id,
        "chat": chat_to_record(u.where),
        "message_id": u.message_id,
        "filename": u.filename,
        "path": u.path,
        "created_at": u.created_at,
    }


def upload_from_record(r: Record) -> ChatUpload:
    return ChatUpload(
        id=r["id"],
        owner=r["owner"],
        owner_chat=r["owner_chat"],
        where=chat_from_record(r["chat"]),
        filename=r["filename"],
        path=r["path"],
        message_id=r["message_id"],
        created_at=r["created_at"],
    )
