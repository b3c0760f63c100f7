"""From an uploaded file to a batch: check it against the app's form, keep a copy under
the data directory, submit it. Shared by the CLI, both chat adapters and the scheduler."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

from engine.errors import NotFound, SheetError
from engine.models import Batch, ChatRef, InputForm, ParsedSheet, SheetLimits
from engine.ports import Store, WorkflowClient
from engine.private import private_dir, write_private
from engine.service import BatchService
from engine.sheets.reading import read_sheet

_UNSAFE = re.compile(r"[^\w.\-]+", re.UNICODE)


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
        return read_sheet(data, filename, await self.form(workflow), self.limits)

    def keep(self, data: bytes, filename: str) -> Path:
        """Store the upload under the data directory (content-addressed, so re-uploads share)."""
        private_dir(self.uploads_dir)
        digest = hashlib.sha256(data).hexdigest()[:16]
        name = _UNSAFE.sub("_", Path(filename).name)[-80:] or "upload"
        path = self.uploads_dir / f"{digest}-{name}"
        if not path.exists():
            write_private(path, data)
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
