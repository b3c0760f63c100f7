"""From an uploaded file to a batch: check it against the app's form, keep it, submit it.
Shared by the CLI, both chat adapters and the scheduler.

A kept sheet lives in the database (`Store.keep_sheet`), so a replica on another machine,
with no disk in common, can run a pending upload another replica received, or fire a
schedule made there. The copy under this process's data directory is a cache: the
recorded path names the sheet, and `load` falls back to the database (and refills the
cache) when the file is not on this machine. The bytes are within ``max_file_mb``: nothing
larger gets this far."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import logging
import re
from collections.abc import Mapping
from concurrent.futures import Future
from datetime import UTC, datetime
from pathlib import Path

from bot.config_sentences import config_phrase
from engine.context import inputs_to_fill, unknown_variables, with_context
from engine.errors import ConfigError, NotFound, SheetError
from engine.models import Batch, BatchStatus, ChatRef, InputForm, ParsedSheet, Row, SheetLimits
from engine.ports import Store, WorkflowClient
from engine.private import private_dir, write_private
from engine.service import BatchService
from engine.sheets.filecheck import check_file
from engine.sheets.reading import Table, read_sheet
from engine.sheets.sentences import problem_line, sheet_phrase

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
            form = await self.clients[workflow].form()
            problems = unknown_variables(self._context(workflow), form)
            if problems:
                raise ConfigError(
                    [config_phrase("in_workflow", workflow=workflow, problem=p) for p in problems]
                )
            self._forms[workflow] = form
        return self._forms[workflow]

    def _context(self, workflow: str) -> tuple[tuple[str, str], ...]:
        lane = self.service.lanes.get(workflow)
        return lane.settings.context if lane is not None else ()

    async def check(self, workflow: str, data: bytes | Future[Table], filename: str) -> ParsedSheet:
        """Read and validate a file; file-level problems raise `SheetError`.

        ``data``: the file's bytes, or the file already being checked and parsed (`open_table_soon`)."""
        form = await self.form(workflow)
        upload: bytes | Table
        if isinstance(data, bytes):
            upload = data
        else:
            upload = await asyncio.wrap_future(data)
        # in a thread: reading a big sheet takes seconds, and a daemon's loop must keep
        # answering everyone else meanwhile (calamine lets go of the GIL while it parses)
        return await asyncio.to_thread(read_sheet, upload, filename, form, self.limits)

    async def keep(self, data: bytes, filename: str) -> Path:
        """Keep the upload in the database and under the data directory (content-addressed,
        so re-uploads share); returns the path to record."""
        if len(data) > self.limits.max_file_bytes:
            check_file(data, filename, self.limits)  # raises the too-large refusal
        private_dir(self.uploads_dir)
        digest = hashlib.sha256(data).hexdigest()[:16]
        name = _UNSAFE.sub("_", Path(filename).name)[-80:] or "upload"
        path = self.uploads_dir / f"{digest}-{name}"
        await self.store.keep_sheet(path.name, data, now=datetime.now(UTC))
        if not path.exists():
            write_private(path, data)
        return path

    async def has(self, path: str | Path) -> bool:
        """Whether a kept sheet can be loaded here (from this machine or the database)."""
        return Path(path).is_file() or await self.store.has_sheet(Path(path).name)

    async def load(self, path: str | Path) -> bytes:
        """A kept sheet's bytes, from this machine if it has them, else from the database."""
        local = Path(path)
        try:
            return await asyncio.to_thread(local.read_bytes)
        except FileNotFoundError:
            pass
        data = await self.store.load_sheet(local.name)
        if data is None:
            raise NotFound(f"the stored sheet {local.name} is gone")
        write_private(self.uploads_dir / local.name, data)  # the next use is local
        return data

    async def submit(
        self,
        workflow: str,
        owner: str,
        data: bytes | Path,
        filename: str,
        *,
        parsed: ParsedSheet | None = None,
        schedule_id: str | None = None,
        fire_time: datetime | None = None,
        chat: ChatRef | None = None,
        sample: int | None = None,
        locale: str = "en",
        comparison_id: str | None = None,
    ) -> Batch:
        """Check (unless already checked), keep and submit. Rows with problems refuse all.

        With ``chat`` the batch is bound to it before it starts, so its very first
        progress report already knows where to go. With ``sample`` only the first that many
        rows run, as a batch of their own marked as a sample. ``locale`` is the language of
        the person who starts it; the batch keeps it for its messages and files.

        ``data`` is the upload, or the path `keep` has already kept it under (the CLI keeps
        a big sheet while it is still being parsed).
        """
        if parsed is None:
            upload = data if isinstance(data, bytes) else await self.load(data)
            parsed = await self.check(workflow, upload, filename)
        sheet = parsed
        refused = refusal(sheet, filename)
        if refused is not None:
            raise refused
        if sample is not None:
            sheet = dataclasses.replace(sheet, rows=sheet.rows[:sample])
        path = await self.keep(data, filename) if isinstance(data, bytes) else data
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
            comparison_id=comparison_id,
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
                data = await self.load(Path(batch.source_path))
                sheet = await self.check(batch.workflow, data, batch.source_name)
                if not sheet.ok or len(sheet.rows) < batch.total:
                    raise SheetError("its uploaded file no longer reads the same")
                await self._store_from(batch, sheet, stored)
            except (SheetError, NotFound, OSError) as exc:
                log.error("batch %s: its rows cannot be stored after a restart: %s", batch.id, exc)
                await self.store.update_batch(
                    batch.id, status=BatchStatus.FAILED, expected=list(_UNFINISHED),
                    finished_at=datetime.now(UTC),
                    error=f"only {stored} of {batch.total} rows were stored before a restart and "
                    f"the rest cannot be: {exc}",
                )
            fixed.append(batch.id)
        return fixed

    async def _store_from(self, batch: Batch, sheet: ParsedSheet, stored: int) -> None:
        batch_id = batch.id
        # the same context inputs as the rows stored before the crash (engine.context)
        context = inputs_to_fill(self._context(batch.workflow), await self.form(batch.workflow), sheet)
        sheet = with_context(sheet, context, batch_id=batch_id, file=batch.source_name, owner=batch.owner)
        rest = sheet.rows[stored : batch.total]  # a sample keeps only the sheet's first rows
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
