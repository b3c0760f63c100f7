"""From an uploaded file to a batch: check it against the app's form, keep a copy under
the data directory, submit it. Shared by the CLI, both chat adapters and the scheduler."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from engine.errors import NotFound, SheetError
from engine.models import Batch, BatchStatus, ChatRef, InputForm, ParsedSheet, Row, SheetLimits
from engine.ports import Store, WorkflowClient
from engine.service import BatchService
from engine.sheets.reading import read_sheet

_UNSAFE = re.compile(r"[^\w.\-]+", re.UNICODE)
_UNFINISHED = (BatchStatus.RUNNING, BatchStatus.PAUSED, BatchStatus.PENDING)
log = logging.getLogger(__name__)


class Intake:
    """Checks uploads and turns good ones into batches."""

    def __init__(
        self,
        service: BatchService,
        store: Store,
        clients: Mapping[str, WorkflowClient],
        limits: SheetLimits,
        data_dir: Path,
    ) -> None:
        self.service = service
        self.store = store
        self.clients = clients
        self.limits = limits
        self.uploads_dir = data_dir / "uploads"
        self._forms: dict[str, InputForm] = {}

    async def form(self, workflow: str) -> InputForm:
        """The workflow's input form, fetched once per process."""
        if workflow not in self.clients:
            raise NotFound(f"No workflow named {workflow!r}.")
        if workflow not in self._forms:
            self._forms[workflow] = await self.clients[workflow].form()
        return self._forms[workflow]

    async def check(self, workflow: str, data: bytes, filename: str) -> ParsedSheet:
        """Read and validate a file; file-level problems raise `SheetError`."""
        form = await self.form(workflow)
        # in a thread: reading a big sheet takes seconds, and a daemon's loop must keep
        # answering everyone else meanwhile (calamine lets go of the GIL while it parses)
        return await asyncio.to_thread(read_sheet, data, filename, form, self.limits)

    def keep(self, data: bytes, filename: str) -> Path:
        """Store the upload under the data directory (content-addressed, so re-uploads share)."""
        self.uploads_dir.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256(data).hexdigest()[:16]
        name = _UNSAFE.sub("_", Path(filename).name)[-80:] or "upload"
        path = self.uploads_dir / f"{digest}-{name}"
        if not path.exists():
            tmp = path.with_suffix(path.suffix + ".part")
            tmp.write_bytes(data)
            tmp.replace(path)
        return path

    async def submit(
        self,
        workflow: str,
        owner: str,
        data: bytes,
        filename: str,
        *,
        parsed: ParsedSheet | None = None,
        schedule_id: str | None = None,
        fire_time: datetime | None = None,
        chat: ChatRef | None = None,
    ) -> Batch:
        """Check (unless already checked), keep and submit. Rows with problems refuse all.

        With ``chat`` the batch is bound to it before it starts, so its very first
        progress report already knows where to go.
        """
        sheet = parsed if parsed is not None else await self.check(workflow, data, filename)
        if not sheet.ok:
            raise SheetError(
                f"{len(sheet.problems)} problem(s) in {filename}; nothing was started.",
                [f"row {p.row}, column {p.column!r}: {p.message}" for p in sheet.problems],
            )
        if not sheet.rows:
            raise SheetError(f"{filename} has no data rows; nothing was started.")
        path = self.keep(data, filename)
        return await self.service.submit(
            workflow=workflow,
            owner=owner,
            sheet=sheet,
            source_name=Path(filename).name,
            source_path=str(path),
            schedule_id=schedule_id,
            fire_time=fire_time,
            chat=chat,
        )

    async def finish_storing(self) -> list[str]:
        """Store what a crash left unstored of unfinished batches; returns their ids.

        A big sheet starts while its rows are still being stored (in index order, a slice
        per transaction), so a crash can leave a batch with fewer rows than its total.
        Its kept upload is read and checked again and the missing rows are added; a batch
        whose upload is gone or no longer checks out is failed with the reason.
        """
        fixed: list[str] = []
        for batch in await self.store.list_batches(statuses=_UNFINISHED, limit=1_000_000):
            stored = (await self.store.progress(batch.id)).total
            if stored >= batch.total:
                continue
            try:
                if not batch.source_path or batch.workflow not in self.clients:
                    raise SheetError("its uploaded file was not kept")
                data = Path(batch.source_path).read_bytes()
                sheet = await self.check(batch.workflow, data, batch.source_name)
                if not sheet.ok or len(sheet.rows) != batch.total:
                    raise SheetError("its uploaded file no longer reads the same")
                await self._store_from(batch.id, sheet, stored)
            except (SheetError, OSError) as exc:
                log.error("batch %s: its rows cannot be stored after a restart: %s", batch.id, exc)
                await self.store.update_batch(
                    batch.id, status=BatchStatus.FAILED, expected=list(_UNFINISHED),
                    finished_at=datetime.now(UTC),
                    error=f"only {stored} of {batch.total} rows were stored before a restart and "
                    f"the rest cannot be: {exc}",
                )
            fixed.append(batch.id)
        return fixed

    async def _store_from(self, batch_id: str, sheet: ParsedSheet, stored: int) -> None:
        rest = sheet.rows[stored:]
        try:
            for at in range(0, len(rest), 2_000):
                await self.store.add_rows(batch_id, [
                    Row(batch_id, stored + at + i, r.sheet_row, r.cells, r.inputs, query=r.query)
                    for i, r in enumerate(rest[at : at + 2_000])
                ])
        except Exception:  # e.g. another live process is storing it right now: it finishes the job
            log.warning("batch %s: its remaining rows were not stored here", batch_id, exc_info=True)
            return
        await self.store.add_event(batch_id, "stored", f"rows {stored + 1}-{len(sheet.rows)} after a restart")
