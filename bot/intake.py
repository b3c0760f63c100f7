"""From an uploaded file to a batch: check it against the app's form, keep a copy under
the data directory, submit it. Shared by the CLI, both chat adapters and the scheduler."""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

from engine.context import inputs_to_fill, unknown_variables
from engine.errors import ConfigError, NotFound, SheetError
from engine.models import Batch, ChatRef, InputForm, ParsedSheet, SheetLimits
from engine.ports import Store, WorkflowClient
from engine.service import BatchService
from engine.sheets.reading import read_sheet
from engine.sheets.sentences import problem_line, sheet_phrase

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
            form = await self.clients[workflow].form()
            problems = unknown_variables(self._context(workflow), form)
            if problems:
                raise ConfigError([f"workflows.{workflow}: {p}" for p in problems])
            self._forms[workflow] = form
        return self._forms[workflow]

    def _context(self, workflow: str) -> tuple[tuple[str, str], ...]:
        lane = self.service.lanes.get(workflow)
        return lane.settings.context if lane is not None else ()

    async def check(self, workflow: str, data: bytes, filename: str) -> ParsedSheet:
        """Read and validate a file; file-level problems raise `SheetError`."""
        return read_sheet(data, filename, await self.form(workflow), self.limits)

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
        sample: int | None = None,
        locale: str = "en",
    ) -> Batch:
        """Check (unless already checked), keep and submit. Rows with problems refuse all.

        With ``chat`` the batch is bound to it before it starts, so its very first
        progress report already knows where to go. With ``sample`` only the first that many
        rows run, as a batch of their own marked as a sample. ``locale`` is the language of
        the person who starts it; the batch keeps it for its messages and files.
        """
        sheet = parsed if parsed is not None else await self.check(workflow, data, filename)
        refused = refusal(sheet, filename)
        if refused is not None:
            raise refused
        if sample is not None:
            sheet = dataclasses.replace(sheet, rows=sheet.rows[:sample])
        path = self.keep(data, filename)
        context = inputs_to_fill(self._context(workflow), await self.form(workflow), sheet)
        return await self.service.submit(
            workflow=workflow,
            owner=owner,
            sheet=sheet,
            source_name=Path(filename).name,
            source_path=str(path),
            schedule_id=schedule_id,
            fire_time=fire_time,
            chat=chat,
            context=context,
            sample=sample is not None,
            locale=locale,
        )


def refusal(sheet: ParsedSheet, filename: str) -> SheetError | None:
    """Why a checked sheet cannot run, in the words `run` and `check` both use; None if it can."""
    if not sheet.ok:
        return SheetError(
            sheet_phrase("rows_bad", n=len(sheet.problems), filename=filename),
            [problem_line(p) for p in sheet.problems],
        )
    if not sheet.rows:
        return SheetError(sheet_phrase("no_rows", filename=filename))
    return None
