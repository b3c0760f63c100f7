"""InMemoryStore: the `Store` port kept in dicts, for engine unit tests.

It runs the same contract suite as the SQL store (tests/storage), so it cannot drift.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from engine.errors import AlreadyExists, NotFound
from engine.models import (
    Batch,
    BatchEvent,
    BatchStatus,
    ChatRef,
    ChatUpload,
    PastRow,
    Progress,
    Row,
    RowStatus,
    RowUpdate,
    Schedule,
)


class InMemoryStore:
    def __init__(self) -> None:
        self.batches: dict[str, Batch] = {}
        self.batch_rows: dict[str, list[Row]] = {}
        self.batch_events: list[BatchEvent] = []
        self.schedules: dict[str, Schedule] = {}
        self.chats: dict[str, ChatRef] = {}
        self.uploads: dict[str, ChatUpload] = {}
        self.reporters: dict[str, tuple[str, datetime]] = {}
        self.sheets: dict[str, bytes] = {}
        self.update_calls = 0
        self.renewals = 0
        self.lease_s = 0.0

    async def create_batch(self, batch: Batch, rows: Sequence[Row]) -> None:
        if batch.id in self.batches:
            raise AlreadyExists(f"batch {batch.id} exists")
        if batch.schedule_id is not None:
            for other in self.batches.values():
                if (other.schedule_id, other.fire_time) == (batch.schedule_id, batch.fire_time):
                    raise AlreadyExists("this firing already has its batch")
        self.batches[batch.id] = batch
        self.batch_rows[batch.id] = sorted(rows, key=lambda r: r.index)

    async def add_rows(self, batch_id: str, rows: Sequence[Row]) -> None:
        if any(r.batch_id != batch_id for r in rows):
            raise ValueError(f"rows of another batch given to add_rows({batch_id!r})")
        self.batch_rows[batch_id] = sorted([*self.batch_rows[batch_id], *rows], key=lambda r: r.index)

    async def get_batch(self, batch_id: str) -> Batch | None:
        return self.batches.get(batch_id)

    async def comparison_batches(self, comparison_id: str) -> list[Batch]:
        found = [b for b in self.batches.values() if b.comparison_id == comparison_id]
        return sorted(found, key=lambda b: (b.created_at, b.id))

    async def list_batches(
        self,
        *,
        owner: str | None = None,
        statuses: Sequence[BatchStatus] | None = None,
        limit: int = 50,
    ) -> list[Batch]:
        found = [
            b
            for b in self.batches.values()
            if (owner is None or b.owner == owner) and (statuses is None or b.status in statuses)
        ]
        found.sort(key=lambda b: (b.created_at, b.id), reverse=True)
        return found[:limit]

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
        batch = self.batches.get(batch_id)
        if batch is None or (expected is not None and batch.status not in expected):
            return False
        changes: dict[str, object] = {"status": status, "error": error}
        if started_at is not None:
            changes["started_at"] = started_at
        changes["finished_at"] = finished_at
        self.batches[batch_id] = dataclasses.replace(batch, **changes)  # type: ignore[arg-type]
        return True

    async def rows(self, batch_id: str, *, statuses: Sequence[RowStatus] | None = None) -> list[Row]:
        return [
            r for r in self.batch_rows.get(batch_id, []) if statuses is None or r.status in statuses
        ]

    async def rows_page(self, batch_id: str, *, after: int, limit: int) -> list[Row]:
        return [r for r in self.batch_rows.get(batch_id, []) if r.index > after][:limit]

    async def output_keys(self, batch_id: str) -> list[str]:
        rows = self.batch_rows.get(batch_id, [])
        return list(dict.fromkeys(k for r in rows for k in (r.outputs or {})))

    async def claim_rows(self, batch_id: str, *, limit: int, now: datetime) -> list[Row]:
        claimed: list[Row] = []
        batch = self.batches.get(batch_id)
        if batch is None or batch.status is not BatchStatus.RUNNING:
            return claimed
        rows = self.batch_rows.get(batch_id, [])
        for i, row in enumerate(rows):
            if len(claimed) >= limit:
                break
            due = row.not_before is None or row.not_before <= now
            if row.status is RowStatus.PENDING and due:
                rows[i] = dataclasses.replace(row, status=RowStatus.RUNNING)
                claimed.append(rows[i])
        return claimed

    async def update_rows(self, updates: Sequence[RowUpdate]) -> None:
        self.update_calls += 1
        for u in updates:
            rows = self.batch_rows[u.batch_id]
            fields = {f.name: getattr(u, f.name) for f in dataclasses.fields(u)}
            del fields["batch_id"], fields["index"]
            rows[u.index] = dataclasses.replace(rows[u.index], **fields)

    async def reclaim_expired(self, batch_id: str, *, limit: int, now: datetime) -> list[Row]:
        # one process owns every row here, and its running rows are alive: nothing expired
        return []

    async def keep_sheet(self, name: str, data: bytes, *, now: datetime) -> None:
        self.sheets.setdefault(name, data)

    async def load_sheet(self, name: str) -> bytes | None:
        return self.sheets.get(name)

    async def has_sheet(self, name: str) -> bool:
        return name in self.sheets

    async def take_abandoned(self, batch_id: str, *, now: datetime) -> list[Row]:
        # one process, and recovery runs before it claims anything: every running row is stale
        return [r for r in self.batch_rows.get(batch_id, []) if r.status is RowStatus.RUNNING]

    async def hold_slots(
        self, workflow: str, *, want: int, keep: int, limit: int, now: datetime
    ) -> tuple[int, int]:
        # no other process shares this store: every slot is free
        return max(keep, min(want, limit)), limit

    async def renew_leases(self, *, now: datetime) -> int:
        self.renewals += 1
        return sum(r.status is RowStatus.RUNNING for rows in self.batch_rows.values() for r in rows)

    def set_lease(self, lease_s: float) -> None:
        self.lease_s = lease_s

    async def reset_rows(
        self, batch_id: str, *, from_statuses: Sequence[RowStatus], to: RowStatus
    ) -> int:
        rows = self.batch_rows.get(batch_id, [])
        moved = 0
        for i, row in enumerate(rows):
            if row.status in from_statuses:
                rows[i] = dataclasses.replace(
                    row, status=to, run_id=None, task_id=None, not_before=None, error=None,
                    sent_at=None, sent_user=None,
                    outputs=None if to is RowStatus.PENDING else row.outputs,
                    attempts=0 if to is RowStatus.PENDING else row.attempts,
                    # an old overload clock would make the re-run give up at its first 429
                    overload_since=None if to is RowStatus.PENDING else row.overload_since,
                    workflow_id=None if to is RowStatus.PENDING else row.workflow_id,
                )
                moved += 1
        return moved

    async def progress(self, batch_id: str) -> Progress:
        rows = self.batch_rows.get(batch_id, [])
        counts = dict.fromkeys(RowStatus, 0)
        for row in rows:
            counts[row.status] += 1
        return Progress(
            total=len(rows),
            pending=counts[RowStatus.PENDING],
            running=counts[RowStatus.RUNNING],
            succeeded=counts[RowStatus.SUCCEEDED],
            failed=counts[RowStatus.FAILED],
            cancelled=counts[RowStatus.CANCELLED],
            tokens=sum(r.tokens for r in rows),
        )

    async def past_rows(self, workflow: str, *, batches: int = 5, rows: int = 500) -> list[PastRow]:
        unstarted = (BatchStatus.SCHEDULED, BatchStatus.PENDING)
        recent = sorted(
            (b for b in self.batches.values() if b.workflow == workflow and b.status not in unstarted),
            key=lambda b: (b.created_at, b.id), reverse=True,
        )[:batches]
        finished = [
            r for b in recent for r in self.batch_rows[b.id]
            if r.status in (RowStatus.SUCCEEDED, RowStatus.FAILED)
        ]
        return [
            PastRow(r.batch_id, r.status is RowStatus.SUCCEEDED, r.attempts, r.elapsed_s, r.tokens)
            for r in finished[:rows]
        ]

    async def add_event(self, batch_id: str, kind: str, detail: str = "") -> None:
        self.batch_events.append(BatchEvent(batch_id, kind, detail, datetime.now(UTC)))

    async def events(self, batch_id: str) -> list[BatchEvent]:
        return [e for e in self.batch_events if e.batch_id == batch_id]

    async def events_of_kind(self, kinds: Sequence[str]) -> list[BatchEvent]:
        return [e for e in self.batch_events if e.kind in kinds]

    async def add_schedule(self, schedule: Schedule) -> None:
        if schedule.id in self.schedules:
            raise AlreadyExists(f"schedule {schedule.id} exists")
        self.schedules[schedule.id] = schedule

    async def get_schedule(self, schedule_id: str) -> Schedule | None:
        return self.schedules.get(schedule_id)

    async def list_schedules(
        self, *, owner: str | None = None, active_only: bool = True
    ) -> list[Schedule]:
        found = [
            s
            for s in self.schedules.values()
            if (owner is None or s.owner == owner) and (s.active or not active_only)
        ]
        return sorted(found, key=lambda s: (s.created_at, s.id))

    async def update_schedule(
        self, schedule_id: str, *, active: bool | None = None, last_fire_time: datetime | None = None
    ) -> None:
        schedule = self.schedules.get(schedule_id)
        if schedule is None:
            raise NotFound(f"no schedule {schedule_id}")
        if active is not None:
            schedule = dataclasses.replace(schedule, active=active)
        if last_fire_time is not None:
            schedule = dataclasses.replace(schedule, last_fire_time=last_fire_time)
        self.schedules[schedule_id] = schedule

    async def bind_chat(self, batch_id: str, chat: ChatRef) -> None:
        self.chats[batch_id] = chat

    async def chat_for(self, batch_id: str) -> ChatRef | None:
        return self.chats.get(batch_id)

    async def hold_reporting(self, batch_id: str, reporter: str, *, now: datetime, hold_s: float) -> bool:
        holder = self.reporters.get(batch_id)
        if holder is not None and holder[0] != reporter and holder[1] >= now:
            return False
        self.reporters[batch_id] = (reporter, now + timedelta(seconds=hold_s))
        return True

    async def add_upload(self, upload: ChatUpload) -> None:
        if upload.id in self.uploads:
            raise AlreadyExists(f"upload {upload.id} exists")
        self.uploads[upload.id] = upload

    async def get_upload(self, upload_id: str) -> ChatUpload | None:
        return self.uploads.get(upload_id)

    async def find_upload(
        self, chat_id: str, *, owner: str | None = None, message_id: str | None = None
    ) -> ChatUpload | None:
        found = [
            u for u in self.uploads.values()
            if u.where.chat_id == chat_id
            and (owner is None or u.owner == owner)
            and (message_id is None or u.message_id == message_id)
        ]
        return max(found, key=lambda u: (u.created_at, u.id), default=None)

    async def forget_uploads(self, *, upload_id: str | None = None, before: datetime | None = None) -> int:
        if (upload_id is None) == (before is None):
            raise ValueError("give exactly one of upload_id and before")
        gone = [u.id for u in self.uploads.values()
                if u.id == upload_id or (before is not None and u.created_at < before)]
        for key in gone:
            del self.uploads[key]
        return len(gone)

    async def close(self) -> None:
        return None
