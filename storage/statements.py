"""The SQL statements of the hot paths, built once or from a few arguments."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    ColumnElement,
    Delete,
    Select,
    Update,
    and_,
    bindparam,
    delete,
    exists,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import sqlite
from sqlalchemy.sql.dml import Insert

from engine.models import BatchStatus, RowStatus
from storage import codec
from storage.tables import BATCH, CHAT, REPORTER, ROW, UPLOAD

if TYPE_CHECKING:
    from sqlalchemy import Table
    from sqlalchemy.dialects import postgresql

RUNNING = RowStatus.RUNNING.value

UPDATE_ROW = (
    update(ROW)
    .where(ROW.c.batch_id == bindparam("k_batch_id"), ROW.c.idx == bindparam("k_idx"))
    .values({name: bindparam(f"v_{name}") for name in (*codec.UPDATE_FIELDS, "lease_owner", "lease_until")})
)
"""One row's change, run as an executemany over a group of `codec.update_params`."""


def due_pending(batch_id: str, now: datetime) -> ColumnElement[bool]:
    # checked in the claim itself, so a pause or cancel made on another replica stops this
    # one's claims at once instead of at its next re-read of the batch
    batch_running = exists().where(BATCH.c.id == batch_id, BATCH.c.status == BatchStatus.RUNNING.value)
    return and_(
        ROW.c.batch_id == batch_id,
        ROW.c.status == RowStatus.PENDING.value,
        or_(ROW.c.not_before.is_(None), ROW.c.not_before <= now),
        batch_running,
    )


def lease_expired(batch_id: str, now: datetime, dead_owners: Sequence[str] = ()) -> ColumnElement[bool]:
    """Running rows no live process holds: the lease passed, or its owner is known dead."""
    lapsed = or_(ROW.c.lease_until.is_(None), ROW.c.lease_until < now)
    if dead_owners:
        lapsed = or_(lapsed, ROW.c.lease_owner.in_(list(dead_owners)))
    return and_(ROW.c.batch_id == batch_id, ROW.c.status == RUNNING, lapsed)


def take_rows(
    batch_id: str, condition: ColumnElement[bool], *, limit: int, owner: str, until: datetime
) -> Update:
    """Lease up to ``limit`` rows matching ``condition`` to ``owner``, in index order, returning them."""
    # SKIP LOCKED: a row another replica is claiming right now is passed over, not waited
    # for; SQLite ignores FOR UPDATE and serialises claims with BEGIN IMMEDIATE instead.
    # Without the row locks two replicas could pick the same row from their snapshots.
    picked = (
        select(ROW.c.idx)
        .where(condition)
        .order_by(ROW.c.idx)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .cte("picked")
    )
    return (
        update(ROW)
        .where(ROW.c.batch_id == batch_id, ROW.c.idx == picked.c.idx)
        .values(status=RUNNING, lease_owner=owner, lease_until=until)
        .returning(*ROW.c)
    )


def renew_leases(owner: str, *, until: datetime, row_locks: bool) -> Update:
    """Push out ``owner``'s leases on its running rows.

    With row locks (PostgreSQL), rows another transaction holds right now (this replica's
    own writer, mostly) are skipped, not waited for: waiting in heap order against a writer
    locking in index order deadlocked, and a row being written gets its lease renewed by
    that write. SQLite has one writer at a time, and its driver reports no row count for
    a statement that starts with WITH, so there it is a plain UPDATE.
    """
    condition = (ROW.c.lease_owner == owner) & (ROW.c.status == RUNNING)
    if not row_locks:
        return update(ROW).where(condition).values(lease_until=until)
    mine = (
        select(ROW.c.batch_id, ROW.c.idx)
        .where(condition)
        .order_by(ROW.c.batch_id, ROW.c.idx)
        .with_for_update(skip_locked=True)
        .cte("mine")
    )
    return (
        update(ROW)
        .where(ROW.c.batch_id == mine.c.batch_id, ROW.c.idx == mine.c.idx)
        .values(lease_until=until)
    )


def reset_values(to: RowStatus) -> dict[str, Any]:
    values: dict[str, Any] = {
        "status": to.value,
        "run_id": None,
        "task_id": None,
        "not_before": None,
        "error": None,
        "lease_owner": None,
        "lease_until": None,
        "sent_at": None,
        "sent_user": None,
    }
    if to is RowStatus.PENDING:
        # a fresh start: no old result, attempts or overload clock carried into the re-run
        values.update(outputs=None, attempts=0, overload_since=None, workflow_id=None)
    return values


def progress(batch_id: str) -> Select[Any]:
    return (
        select(ROW.c.status, func.count().label("n"), func.coalesce(func.sum(ROW.c.tokens), 0).label("t"))
        .where(ROW.c.batch_id == batch_id)
        .group_by(ROW.c.status)
    )


def recent_batches(workflow: str, *, limit: int) -> Select[Any]:
    """A workflow's latest batches that have started, newest first, for estimates."""
    return (
        select(BATCH.c.id)
        .where(
            BATCH.c.workflow == workflow,
            BATCH.c.status.not_in([BatchStatus.SCHEDULED.value, BatchStatus.PENDING.value]),
        )
        .order_by(BATCH.c.created_at.desc(), BATCH.c.id.desc())
        .limit(limit)
    )


def finished_rows(batch_id: str, *, limit: int) -> Select[Any]:
    """Up to ``limit`` finished rows of one batch. Unordered: a LIMIT without ORDER BY stops
    early on the claim index, where sorting a 100,000-row batch would not."""
    finished = [RowStatus.SUCCEEDED.value, RowStatus.FAILED.value]
    return (
        select(ROW.c.batch_id, ROW.c.status, ROW.c.attempts, ROW.c.elapsed_s, ROW.c.tokens)
        .where(ROW.c.batch_id == batch_id, ROW.c.status.in_(finished))
        .limit(limit)
    )


def _dialect_insert(dialect: str, table: Table) -> sqlite.Insert | postgresql.Insert:
    if dialect == "postgresql":
        # imported only for PostgreSQL: SQLite users (and every CLI start) skip ~20 ms and 2 MB
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(table)
    return sqlite.insert(table)


def upsert_chat(dialect: str, batch_id: str, record: dict[str, Any]) -> Insert:
    return _dialect_insert(dialect, CHAT).values(batch_id=batch_id, **record).on_conflict_do_update(
        index_elements=[CHAT.c.batch_id], set_=record
    )


def take_reporting(dialect: str, batch_id: str, reporter: str, *, now: datetime, until: datetime) -> Insert:
    """Insert or extend ``reporter``'s hold on a batch; another holder's only once it lapsed."""
    stmt = _dialect_insert(dialect, REPORTER).values(batch_id=batch_id, reporter=reporter, until=until)
    return stmt.on_conflict_do_update(
        index_elements=[REPORTER.c.batch_id],
        set_={"reporter": reporter, "until": until},
        where=(REPORTER.c.reporter == reporter) | (REPORTER.c.until < now),
    )


def newest_upload(chat_id: str, *, owner: str | None, message_id: str | None) -> Select[Any]:
    stmt = select(UPLOAD).where(UPLOAD.c.chat_id == chat_id)
    if owner is not None:
        stmt = stmt.where(UPLOAD.c.owner == owner)
    if message_id is not None:
        stmt = stmt.where(UPLOAD.c.message_id == message_id)
    # the id breaks ties between uploads made within one clock tick
    return stmt.order_by(UPLOAD.c.created_at.desc(), UPLOAD.c.id.desc()).limit(1)


def delete_uploads(*, upload_id: str | None, before: datetime | None) -> Delete:
    if (upload_id is None) == (before is None):
        raise ValueError("give exactly one of upload_id and before")
    if upload_id is not None:
        return delete(UPLOAD).where(UPLOAD.c.id == upload_id)
    return delete(UPLOAD).where(UPLOAD.c.created_at < before)
