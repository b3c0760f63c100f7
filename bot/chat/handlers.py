"""Platform-neutral command handling: a parsed command from a person in a chat becomes
calls on the engine service and the replies to send. Adapters only translate."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from bot.chat import commands as c
from bot.chat.access import Access
from bot.chat.comparing import comparison_bytes, comparison_caption, comparison_filename, comparison_text
from bot.chat.progress import RETRIED, results_bytes, results_filename
from bot.chat.surface import Actor, OutFile, Reply, Scheduling
from bot.chat.text.renderer import Messages
from bot.intake import Intake
from engine.compare.runs import is_comparison_id, on_every_batch
from engine.errors import AppError, CommandError, NotFound
from engine.models import Batch, ChatRef
from engine.service import BatchService
from engine.sheets.template import template_workbook

STATUS_LIST_LIMIT = 10
"""Recent batches listed by a bare status while several are unfinished."""

class CommandHandlers:
    """Runs every command of DESIGN §1 except uploads (see `bot.chat.uploads`)."""

    def __init__(
        self,
        service: BatchService,
        intake: Intake,
        access: Access,
        messages: Messages,
        scheduling: Scheduling | None = None,
    ) -> None:
        self.service = service
        self.intake = intake
        self.access = access
        self.m = messages
        self.scheduling = scheduling

    async def handle_text(self, text: str, actor: Actor, where: ChatRef) -> list[Reply]:
        """Parse and run one command; every expected failure becomes a clear reply."""
        try:
            command = c.parse_command(text, messages=self.m)
            return await self.handle(command, actor, where)
        except AppError as exc:
            return [Reply(self.m.error_text(exc, batch_id=_batch_id_of(text)))]

    async def handle(self, command: c.Command, actor: Actor, where: ChatRef) -> list[Reply]:
        match command:
            case c.Start() | c.Help():
                return [Reply(self.m.help_text())]
            case c.Workflows():
                return [Reply(self.m.workflows_text(self.access.workflows_for(actor.user, actor.chat)))]
            case c.Template(workflow=workflow):
                return [await self._template(workflow, actor)]
            case c.Status(batch_id=None):
                return [await self._status(actor)]
            case c.Status(batch_id=str(found)) | c.Result(batch_id=str(found)) if is_comparison_id(found):
                return [await self._comparison(found, isinstance(command, c.Result), actor)]
            case c.Pause(batch_id=str(found)) | c.Resume(batch_id=str(found)) | c.Cancel(
                batch_id=str(found)
            ) | c.Retry(batch_id=str(found)) if is_comparison_id(found):
                return [await self._steer_comparison(command, found, actor)]
            case c.Status() | c.Pause() | c.Resume() | c.Cancel() | c.Retry() | c.Result():
                return [await self._batch_command(command, actor)]
            case c.Schedules():
                return [await self._schedules(actor)]
            case c.Unschedule(schedule_id=schedule_id):
                return [await self._unschedule(schedule_id, actor)]
            case c.Run() | c.Schedule():
                # these need a file: the upload flow handles them (caption, reply, latest)
                raise CommandError(self.m.needs_file.format(cmd=self.m.cmd("run")))
        raise CommandError(self.m.unknown_command.format(cmd=str(command), help=self.m.cmd("help")))

    async def _template(self, workflow: str, actor: Actor) -> Reply:
        self.access.check_use(workflow, actor.user, actor.chat, messages=self.m)
        form = await self.intake.form(workflow)
        data = template_workbook(workflow, form, labels=self.m.template_labels)
        return Reply(
            self.m.out(self.m.template_caption.format(workflow=workflow, run=self.m.cmd("run"))),
            file=OutFile(f"{workflow}-template.xlsx", data),
        )

    async def _status(self, actor: Actor) -> Reply:
        """The latest batch in full, or, while several are unfinished, a line for each recent one."""
        recent = await self.service.list(actor.user, limit=STATUS_LIST_LIMIT)
        if sum(not b.status.is_final for b in recent) < 2:
            return await self._batch_command(c.Status(None), actor)
        progress = [await self.service.progress(b.id) for b in recent]
        return Reply(self.m.status_list_text(list(zip(recent, progress, strict=True))))

    async def resolve(self, batch_id: str | None, actor: Actor) -> Batch:
        """The batch a command means: the given id, else the person's latest; theirs only."""
        if batch_id is None:
            batch = await self.service.latest(actor.user)
            if batch is None:
                raise NotFound(self.m.no_batches)
        else:
            try:
                batch = await self.service.get(batch_id)
            except NotFound:
                raise NotFound(self.m.no_batch.format(id=batch_id)) from None
        self.access.check_touch(batch.id, batch.owner, actor.user, messages=self.m)
        return batch

    async def _batch_command(self, command: c.BatchCommand, actor: Actor) -> Reply:
        batch = await self.resolve(command.batch_id, actor)
        action: dict[type, Callable[[str], Awaitable[Batch]]] = {
            c.Pause: self.service.pause,
            c.Resume: self.service.resume,
            c.Cancel: self.service.cancel,
            c.Retry: self.service.retry_failed,
        }
        if isinstance(command, c.Result):
            return await self.result_reply(batch)
        run = action.get(type(command))
        if run is not None:
            batch = await run(batch.id)
        progress = await self.service.progress(batch.id)
        now = datetime.now(UTC)
        if batch.status.is_final:
            return Reply(self.m.final_text(batch, progress, now=now))
        return Reply(self.m.progress_text(batch, progress, now=now))

    async def result_reply(self, batch: Batch) -> Reply:
        progress = await self.service.progress(batch.id)
        data = await results_bytes(batch, self.intake.store)
        return Reply(
            self.m.results_caption(batch, progress, ""),
            file=OutFile(results_filename(batch), data),
        )

    async def _comparison(self, comparison_id: str, workbook: bool, actor: Actor) -> Reply:
        """``/status`` or ``/result`` of a comparison: every workflow in one answer."""
        store = self.intake.store
        batches = await self._comparison_batches(comparison_id, actor)
        if workbook:
            data, figures = await comparison_bytes(comparison_id, batches, store)
            caption = comparison_caption(self.m, comparison_id, batches, figures, "")
            return Reply(caption, file=OutFile(comparison_filename(comparison_id, batches), data))
        progress = [await self.service.progress(b.id) for b in batches]
        return Reply(comparison_text(self.m, comparison_id, batches, progress, now=datetime.now(UTC)))

    async def _comparison_batches(self, comparison_id: str, actor: Actor) -> list[Batch]:
        batches = await self.intake.store.comparison_batches(comparison_id)
        if not batches:
            raise NotFound(self.m.no_batch.format(id=comparison_id))
        for batch in batches:
            self.access.check_touch(batch.id, batch.owner, actor.user, messages=self.m)
        return batches

    async def _steer_comparison(self, command: c.BatchCommand, comparison_id: str, actor: Actor) -> Reply:
        """``/pause``, ``/resume``, ``/cancel`` or ``/retry`` of a comparison: every batch of it
        that the command applies to (a finished workflow is left as it is)."""
        batches = await self._comparison_batches(comparison_id, actor)
        action: dict[type, Callable[[str], Awaitable[Batch]]] = {
            c.Pause: self.service.pause,
            c.Resume: self.service.resume,
            c.Cancel: self.service.cancel,
            c.Retry: self.service.retry_failed,
        }
        lead = batches[0]
        failed = [(await self.service.progress(b.id)).failed for b in batches]
        if isinstance(command, c.Retry) and not failed[0] and any(failed):
            # the workbook goes out when the first batch finishes (`ProgressReporter`): when
            # only another workflow's rows run again, it is owed again all the same. Written
            # before any row runs, so the last batch cannot finish ahead of it.
            await self.intake.store.add_event(lead.id, RETRIED, comparison_id)
        await on_every_batch(batches, action[type(command)])
        batches = await self.intake.store.comparison_batches(comparison_id)
        progress = [await self.service.progress(b.id) for b in batches]
        return Reply(comparison_text(self.m, comparison_id, batches, progress, now=datetime.now(UTC)))

    async def _schedules(self, actor: Actor) -> Reply:
        scheduling = self._need_scheduling()
        owner = None if self.access.is_admin(actor.user) else actor.user
        return Reply(self.m.schedules_text(await scheduling.list(owner)))

    async def _unschedule(self, schedule_id: str, actor: Actor) -> Reply:
        scheduling = self._need_scheduling()
        try:
            await scheduling.remove(
                schedule_id, by=actor.user, is_admin=self.access.is_admin(actor.user)
            )
        except NotFound:
            raise NotFound(self.m.no_schedule.format(id=schedule_id)) from None
        return Reply(self.m.unscheduled_text(schedule_id))

    def _need_scheduling(self) -> Scheduling:
        if self.scheduling is None:
            raise CommandError(self.m.no_scheduler)
        return self.scheduling


def _batch_id_of(text: str) -> str | None:
    words = text.split()
    candidate = words[1].lstrip("#").lower() if len(words) == 2 else ""
    # only a real id: "<@U123> status" or "/difybatch status" must not read "status" as one
    return candidate if c.BATCH_ID.fullmatch(candidate) else None


def chat_for(where: ChatRef, actor: Actor, reply_to: str | None) -> ChatRef:
    """Where a new batch reports: this chat and thread, replying to the upload."""
    return dataclasses.replace(
        where, progress_message_id=None, reply_to_message_id=reply_to, owner_display=actor.display
    )
