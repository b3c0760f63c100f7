"""Uploads in chat: a file with ``/run <workflow>`` starts at once; a file with no
command gets a check summary with buttons (Run, Schedule…, Discard, a workflow picker).
The upload is stored (the file under the data directory, the rest in the store) so buttons,
Telegram replies and Slack's ``run <workflow>`` after an upload can act on it, also after a
restart."""

from __future__ import annotations

import asyncio
import dataclasses
import secrets
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.chat import commands as c
from bot.chat.access import Access
from bot.chat.buttons import (
    Action,
    Callback,
    after_sample_buttons,
    check_buttons,
    resolve_workflow,
    schedule_choice_buttons,
    when_for,
)
from bot.chat.handlers import chat_for
from bot.chat.surface import Actor, OutFile, Reply, Scheduling
from bot.chat.text.renderer import Messages
from bot.intake import Intake
from engine.compare.runs import start_comparison
from engine.errors import CommandError, SheetError
from engine.models import Batch, ChatRef, ChatUpload, ParsedSheet
from engine.sheets.template import annotated_copy

KEEP_UPLOADS = timedelta(days=7)
"""How long an upload's buttons keep working."""
MAX_CHECKS_CACHED = 200
SAMPLE_ROWS = 3
"""How many rows the 🧪 Try button runs (its label says so)."""
_CAPTION_WORDS = frozenset({"run", "schedule"})


@dataclass
class PendingUpload:
    """A stored upload, with the checks made against it in this process."""

    record: ChatUpload
    checked: dict[str, ParsedSheet] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.record.id

    @property
    def actor(self) -> Actor:
        r = self.record
        return Actor(user=r.owner, chat=r.owner_chat, display=r.where.owner_display)

    @property
    def where(self) -> ChatRef:
        return self.record.where

    @property
    def filename(self) -> str:
        return self.record.filename

    @property
    def path(self) -> Path:
        return Path(self.record.path)

    @property
    def message_id(self) -> str | None:
        return self.record.message_id


@dataclass(frozen=True, slots=True)
class ButtonOutcome:
    """What a button press does: a short toast, maybe a new text for the pressed message,
    and messages to send."""

    toast: str = ""
    edit: Reply | None = None
    replies: tuple[Reply, ...] = ()


class UploadDesk:
    def __init__(
        self, intake: Intake, access: Access, messages: Messages, scheduling: Scheduling | None
    ) -> None:
        self.intake = intake
        self.access = access
        self.m = messages
        self.scheduling = scheduling
        self.store = intake.store
        self._checked: OrderedDict[str, dict[str, ParsedSheet]] = OrderedDict()
        self._trying: set[str] = set()  # uploads whose sample is running, so a double tap runs one

    async def receive(
        self, actor: Actor, where: ChatRef, data: bytes, filename: str,
        caption: str | None, message_id: str | None,
    ) -> list[Reply]:
        """A new file. The caption may carry ``run``/``schedule``; otherwise check it."""
        upload = await self._remember(actor, where, data, filename, message_id)
        command = self._caption_command(caption)
        if isinstance(command, c.Run) and command.workflow:
            return await self.start(upload, command.workflow, *command.also)
        if isinstance(command, c.Schedule):
            return await self.schedule(upload, command.workflow, command.when_text)
        return await self.summary(upload)

    async def latest(self, actor: Actor, where: ChatRef) -> PendingUpload | None:
        """That person's latest upload in that conversation (Slack's ``run <workflow>``)."""
        return await self._usable(await self.store.find_upload(where.chat_id, owner=actor.user))

    async def by_message(self, message_id: str, where: ChatRef) -> PendingUpload | None:
        """The upload a message is (Telegram: a reply to the file)."""
        return await self._usable(await self.store.find_upload(where.chat_id, message_id=message_id))

    async def summary(self, upload: PendingUpload, selected: str | None = None) -> list[Reply]:
        workflows = self.access.workflows_for(upload.actor.user, upload.actor.chat)
        if not workflows:
            return [Reply(self.m.out(self.m.stranger))]
        workflow = selected or workflows[0]
        parsed = await self._check(upload, workflow)
        estimate = None
        if parsed.ok and parsed.rows:
            est = await self.intake.service.estimate(workflow, len(parsed.rows))
            estimate = self.m.estimate_text(est, workflow)
        names = [selected] if selected else workflows
        text = self.m.check_summary(upload.filename, names, parsed, estimate=estimate)
        if not parsed.ok:
            return [Reply(text, file=await self._annotated(upload, parsed))]
        if not parsed.rows:
            return [Reply(text)]  # a Run button would only lead to "no data rows"
        keyboard = check_buttons(
            upload.id, workflows, selected=selected, messages=self.m, can_try=len(parsed.rows) > SAMPLE_ROWS
        )
        return [Reply(text, keyboard=tuple(tuple(row) for row in keyboard))]

    async def start(self, upload: PendingUpload, workflow: str, *others: str) -> list[Reply]:
        """Run the upload on ``workflow``; with ``others`` too, as one comparison (``/run A B``)."""
        if others:
            return await self._compare(upload, [workflow, *others])
        self.access.check_use(workflow, upload.actor.user, upload.actor.chat, messages=self.m)
        parsed = await self._check(upload, workflow)
        if not parsed.ok:
            text = self.m.check_summary(upload.filename, [workflow], parsed)
            return [Reply(text, file=await self._annotated(upload, parsed))]
        await self.intake.submit(
            workflow, upload.actor.user, await self.intake.load(upload.path), upload.filename,
            parsed=parsed, chat=chat_for(upload.where, upload.actor, upload.message_id),
            locale=self.m.locale,
        )
        await self._forget(upload)
        return []  # the progress message, posted by the reporter, is the answer

    async def _compare(self, upload: PendingUpload, workflows: list[str]) -> list[Reply]:
        """One batch per workflow from the same rows; only the first is bound to the chat, so
        one progress message and one combined workbook answer (`bot.chat.comparing`)."""
        if twice := sorted({w for w in workflows if workflows.count(w) > 1}):
            raise CommandError(self.m.compare_twice.format(names=", ".join(twice)))
        sheets: dict[str, ParsedSheet] = {}
        for workflow in workflows:
            self.access.check_use(workflow, upload.actor.user, upload.actor.chat, messages=self.m)
            sheets[workflow] = parsed = await self._check(upload, workflow)
            if not parsed.ok:
                text = self.m.check_summary(upload.filename, [workflow], parsed)
                return [Reply(text, file=await self._annotated(upload, parsed))]
        data = await self.intake.load(upload.path)
        chat = chat_for(upload.where, upload.actor, upload.message_id)

        async def submit(workflow: str, parsed: ParsedSheet, comparison_id: str) -> Batch:
            return await self.intake.submit(
                workflow, upload.actor.user, data, upload.filename, parsed=parsed, locale=self.m.locale,
                chat=chat if workflow == workflows[0] else None, comparison_id=comparison_id,
            )

        await start_comparison(sheets, submit, self.store)
        await self._forget(upload)
        return []

    async def sample(self, upload: PendingUpload, workflow: str) -> ButtonOutcome:
        """Run the first rows as a sample batch, wait for it, and show their outputs with
        [Run all] [Discard] for the same upload. The upload stays for the full run."""
        self.access.check_use(workflow, upload.actor.user, upload.actor.chat, messages=self.m)
        parsed = await self._check(upload, workflow)
        if not parsed.ok or upload.id in self._trying:
            return ButtonOutcome()  # its summary never offered Try, or a double tap
        self._trying.add(upload.id)
        try:
            service = self.intake.service
            batch = await self.intake.submit(
                workflow, upload.actor.user, upload.path.read_bytes(), upload.filename,
                parsed=parsed, sample=SAMPLE_ROWS,
            )
            settings = service.lanes[workflow].settings
            try:  # each row may take its timeout per attempt; the press must end some time
                async with asyncio.timeout(settings.timeout_s * settings.max_attempts + 30):
                    await service.wait(batch.id)
            except TimeoutError:
                slow = self.m.sample_slow.format(id=batch.id, status=self.m.cmd("status"))
                return ButtonOutcome(replies=(Reply(self.m.out(slow)),))
            rows = await service.rows(batch.id)
        finally:
            self._trying.discard(upload.id)
        text = self.m.sample_text(upload.filename, workflow, rows, len(parsed.rows))
        keyboard = after_sample_buttons(upload.id, workflow, messages=self.m)
        tried = self.m.trying.format(n=len(rows), filename=upload.filename, workflow=workflow, id=batch.id)
        return ButtonOutcome(
            edit=Reply(self.m.out(tried)), replies=(Reply(text, keyboard=tuple(tuple(r) for r in keyboard)),)
        )

    async def schedule(self, upload: PendingUpload, workflow: str, when_text: str) -> list[Reply]:
        if self.scheduling is None:
            raise CommandError(self.m.no_scheduler)
        self.access.check_use(workflow, upload.actor.user, upload.actor.chat, messages=self.m)
        parsed = await self._check(upload, workflow)
        if not parsed.ok:
            text = self.m.check_summary(upload.filename, [workflow], parsed)
            return [Reply(text, file=await self._annotated(upload, parsed))]
        schedule, next_fire = await self.scheduling.add(
            upload.actor.user, workflow, when_text, upload.filename, str(upload.path),
            chat_for(upload.where, upload.actor, upload.message_id), self.m.locale,
        )
        return [Reply(self.m.scheduled_text(schedule, next_fire))]

    async def press(self, actor: Actor, callback: Callback) -> ButtonOutcome:
        """A button under a check summary. Only the uploader may press it."""
        upload = await self._usable(await self.store.get_upload(callback.target_id))
        if upload is None:
            return ButtonOutcome(toast=self.m.out(self.m.upload_gone))
        if upload.actor.user != actor.user and not self.access.is_admin(actor.user):
            return ButtonOutcome(toast=self.m.out(self.m.not_your_upload))
        names = self.access.workflows_for(upload.actor.user, upload.actor.chat)
        workflow = resolve_workflow(callback.workflow, names) if callback.workflow else None
        match callback.action:
            case Action.DISCARD:
                await self._forget(upload)
                return ButtonOutcome(edit=Reply(self.m.discarded_text(upload.filename)))
            case Action.PICK if workflow:
                replies = await self.summary(upload, selected=workflow)
                return ButtonOutcome(edit=replies[0])
            case Action.RUN if workflow:
                return ButtonOutcome(edit=Reply(self.m.starting_text(upload.filename, workflow)),
                                     replies=tuple(await self.start(upload, workflow)))
            case Action.TRY if workflow:
                return await self.sample(upload, workflow)
            case Action.SCHEDULE if workflow:
                keyboard = schedule_choice_buttons(upload.id, workflow, messages=self.m)
                return ButtonOutcome(edit=Reply(self.m.schedule_prompt_text(workflow),
                                                keyboard=tuple(tuple(r) for r in keyboard)))
            case Action.SCHEDULE_AT if workflow and when_for(callback.choice):
                replies = await self.schedule(upload, workflow, when_for(callback.choice) or "")
                return ButtonOutcome(edit=replies[0])
        return ButtonOutcome(toast=self.m.out(self.m.bad_button.format(help=self.m.cmd("help"))))

    # -- internals ------------------------------------------------------------------------

    async def _remember(
        self, actor: Actor, where: ChatRef, data: bytes, filename: str, message_id: str | None
    ) -> PendingUpload:
        now = datetime.now(UTC)
        record = ChatUpload(
            id=secrets.token_hex(4), owner=actor.user, owner_chat=actor.chat,
            where=dataclasses.replace(where, owner_display=actor.display), filename=filename,
            path=str(await self.intake.keep(data, filename)), message_id=message_id, created_at=now,
        )
        await self.store.forget_uploads(before=now - KEEP_UPLOADS)
        await self.store.add_upload(record)
        return self._with_checks(record)

    async def _usable(self, record: ChatUpload | None) -> PendingUpload | None:
        """The upload if its buttons still work: not expired, and its sheet still kept (on
        this machine or in the database, so any replica can use it)."""
        if record is None or record.created_at < datetime.now(UTC) - KEEP_UPLOADS:
            return None
        if not await self.intake.has(record.path):
            return None
        return self._with_checks(record)

    def _with_checks(self, record: ChatUpload) -> PendingUpload:
        checked = self._checked.pop(record.id, {})
        self._checked[record.id] = checked  # most recently used last
        while len(self._checked) > MAX_CHECKS_CACHED:
            self._checked.popitem(last=False)
        return PendingUpload(record, checked)

    async def _forget(self, upload: PendingUpload) -> None:
        self._checked.pop(upload.id, None)
        await self.store.forget_uploads(upload_id=upload.id)

    def _caption_command(self, caption: str | None) -> c.Command | None:
        """``run``/``schedule`` in a caption; any other words are just a note on the file."""
        words = (caption or "").split()
        while words and words[0].startswith("<@"):  # a Slack mention of the bot
            words.pop(0)
        if not words or not (words[0].startswith("/") or words[0].lower() in _CAPTION_WORDS):
            return None
        command = c.parse_command(caption or "", messages=self.m)  # a bad command is an error reply
        return command if isinstance(command, c.Run | c.Schedule) else None

    async def _check(self, upload: PendingUpload, workflow: str) -> ParsedSheet:
        if workflow not in upload.checked:
            data = await self.intake.load(upload.path)
            upload.checked[workflow] = await self.intake.check(workflow, data, upload.filename)
        return upload.checked[workflow]

    async def _annotated(self, upload: PendingUpload, parsed: ParsedSheet) -> OutFile:
        stem = upload.filename.rsplit(".", 1)[0]
        data = annotated_copy(
            await self.intake.load(upload.path), upload.filename, parsed,
            labels=self.m.template_labels, describe=self.m.problem_message,
        )
        return OutFile(f"{stem}-problems.xlsx", data)


__all__ = ["ButtonOutcome", "PendingUpload", "SheetError", "UploadDesk"]
