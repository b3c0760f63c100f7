"""Inbound Telegram: messages, files and button presses become calls on the neutral chat layer."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import traceback
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import aiohttp
from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.types import CallbackQuery, Document, Message, Update, User

from bot.chat import commands as c
from bot.chat.buttons import Action, decode
from bot.chat.surface import Actor, FileTooLarge, Reply
from bot.chat.text.renderer import scrub
from bot.telegram.surface import TelegramSurface
from engine.compare.runs import is_comparison_id
from engine.errors import AppError
from engine.models import ChatRef

if TYPE_CHECKING:
    from bot.chat.desk import ChatDesk, Speaking

log = logging.getLogger(__name__)

CLOUD_DOWNLOAD_BYTES = 20 * 1024 * 1024
"""Telegram's cloud Bot API serves files up to 20 MB to bots; getFile fails above that."""
ANSWER_WITHIN_S = 1.5
"""How long a press may work before its spinner is stopped without a toast."""
_FILE_TOO_BIG = "file is too big"
_PROGRESS_COMMANDS: dict[Action, Callable[[str], c.BatchCommand]] = {
    Action.PAUSE: c.Pause, Action.RESUME: c.Resume, Action.CANCEL: c.Cancel, Action.RESULT: c.Result,
}


@dataclass(frozen=True, slots=True)
class Pressed:
    """What a button press comes to: a toast, a new text for the pressed message, replies."""

    toast: str = ""
    alert: bool = False
    edit: Reply | None = None
    replies: Sequence[Reply] = ()


def actor_of(user: User, chat_id: int) -> Actor:
    # "@name" is a mention in plain text; people without a username are named
    display = f"@{user.username}" if user.username else user.first_name
    return Actor(user=f"telegram:{user.id}", chat=f"telegram:{chat_id}", display=display)


def where_of(message: Message) -> ChatRef:
    # message_thread_id also marks reply chains in plain groups; only forum topics take it back
    topic = message.message_thread_id if message.is_topic_message else None
    thread = str(topic) if topic else None
    return ChatRef("telegram", str(message.chat.id), thread_id=thread,
                   reply_to_message_id=str(message.message_id))


class Inbound:
    """Handles one update at a time (the caller runs each in its own task)."""

    def __init__(
        self, bot: Bot, surface: TelegramSurface, desk: ChatDesk, *, cloud: bool, token: str
    ) -> None:
        self.bot = bot
        self.surface = surface
        self.desk = desk
        self.cloud = cloud
        self.token = token
        self.username = ""

    def redact(self, text: str) -> str:
        """Text fit for a log line: no bot token, even inside a file URL."""
        return scrub(text.replace(self.token, "***") if self.token else text)

    async def handle(self, update: Update) -> None:
        if update.message is not None:
            await self.on_message(update.message)
        elif update.callback_query is not None:
            await self.on_callback(update.callback_query)

    # -- messages -------------------------------------------------------------------------

    async def on_message(self, message: Message) -> None:
        user = message.from_user
        if user is None or user.is_bot:
            return
        actor, where = actor_of(user, message.chat.id), where_of(message)
        # each person in their language: Telegram reports the one their app is set to
        d = self.desk.speaking(user.language_code)
        document = message.document
        if document is not None:
            await self._guarded(d, where, lambda: self._document(d, message, document, actor, where))
        elif message.text and self._for_us(message):
            await self._guarded(d, where, lambda: self._text(d, message, message.text or "", actor, where))

    def _for_us(self, message: Message) -> bool:
        """Private chats: everything. Groups: only our commands (``/cmd`` or ``/cmd@ourbot``)."""
        text = message.text or ""
        if message.chat.type == "private":
            return True
        head = text.split(None, 1)[0] if text.strip() else ""
        if not head.startswith("/"):
            return False
        _, at, name = head.partition("@")
        return not at or name.lower() == self.username.lower()

    async def _text(
        self, d: Speaking, message: Message, text: str, actor: Actor, where: ChatRef
    ) -> list[Reply]:
        replied = message.reply_to_message
        if replied is not None and replied.document is not None:
            command = c.parse_command(text, messages=d.messages)
            if isinstance(command, c.Run | c.Schedule):
                return await self._run_replied(d, replied, replied.document, text, command, actor, where)
        return await d.commands.handle_text(text, actor, where)

    async def _run_replied(
        self, d: Speaking, replied: Message, document: Document, text: str,
        command: c.Run | c.Schedule, actor: Actor, where: ChatRef,
    ) -> list[Reply]:
        """``/run <wf>`` or ``/schedule <when> <wf>`` sent as a reply to a file."""
        uploads = d.uploads
        upload = await uploads.by_message(str(replied.message_id), where)
        sender = replied.from_user.id if replied.from_user else 0
        owner = upload.actor.user if upload else f"telegram:{sender}"
        if owner != actor.user and not self.desk.access.is_admin(actor.user):
            return [Reply(d.messages.out(d.messages.not_your_upload))]
        if upload is None:
            # not seen by this process (sent before a restart, or its check was discarded)
            file_where = dataclasses.replace(where, reply_to_message_id=str(replied.message_id))
            return await self._document(d, replied, document, actor, file_where, caption=text)
        if isinstance(command, c.Schedule):
            return await uploads.schedule(upload, command.workflow, command.when_text)
        if command.workflow is None:
            return await uploads.summary(upload)
        return await uploads.start(upload, command.workflow, *command.also)

    async def _document(
        self, d: Speaking, message: Message, document: Document, actor: Actor, where: ChatRef,
        caption: str | None = None,
    ) -> list[Reply]:
        filename = document.file_name or "upload"
        limit = self.desk.max_file_bytes
        if self.cloud:
            limit = min(limit, CLOUD_DOWNLOAD_BYTES)
        if document.file_size is not None and document.file_size > limit:
            return [self._too_big(d, filename, document.file_size, limit)]
        try:
            buffer = await self.bot.download(document)
        except TelegramBadRequest as exc:
            if _FILE_TOO_BIG in exc.message:
                return [self._too_big(d, filename, document.file_size or limit + 1, limit)]
            log.warning("download of an upload failed: %s", self.redact(exc.message))
            return [Reply(d.messages.out(d.messages.download_failed.format(filename=filename)))]
        except (TimeoutError, TelegramAPIError, OSError, aiohttp.ClientError) as exc:
            # aiohttp's errors quote the file URL, which holds the token: the type is enough
            log.warning("download of an upload failed: %s", type(exc).__name__)
            return [Reply(d.messages.out(d.messages.download_failed.format(filename=filename)))]
        data = buffer.read() if buffer is not None else b""
        text = caption if caption is not None else message.caption
        return await d.uploads.receive(actor, where, data, filename, text, str(message.message_id))

    def _too_big(self, d: Speaking, filename: str, size: int, limit: int) -> Reply:
        m = d.messages
        text = m.file_too_big.format(filename=filename, size_mb=size / 2**20, limit_mb=limit / 2**20)
        return Reply(m.out(text))

    # -- buttons --------------------------------------------------------------------------

    async def on_callback(self, query: CallbackQuery) -> None:
        message = query.message
        chat_id = message.chat.id if message is not None else query.from_user.id
        actor = actor_of(query.from_user, chat_id)
        d = self.desk.speaking(query.from_user.language_code)
        where = ChatRef("telegram", str(chat_id))
        if isinstance(message, Message):
            where = dataclasses.replace(where_of(message), reply_to_message_id=None)
        work = asyncio.create_task(self._press(d, actor, where, query.data or ""))
        try:
            # the spinner must stop quickly; a slow press (a big sheet) answers without a toast
            done, _ = await asyncio.wait({work}, timeout=ANSWER_WITHIN_S)
            if work in done:
                pressed = work.result()
                await self.surface.answer(query.id, pressed.toast, alert=pressed.alert)
            else:
                await self.surface.answer(query.id)
                pressed = await work
                if pressed.toast:
                    pressed = dataclasses.replace(pressed, replies=[Reply(pressed.toast), *pressed.replies])
        finally:
            work.cancel()
        edit = pressed.edit
        if edit is not None and message is not None:
            await self._guarded(d, where, lambda: self._edit(where, str(message.message_id), edit))
        await self._send(d, where, pressed.replies)

    async def _press(self, d: Speaking, actor: Actor, where: ChatRef, data: str) -> Pressed:
        m = d.messages
        target = None
        try:
            callback = decode(data, messages=m)
            target = callback.target_id
            command = _PROGRESS_COMMANDS.get(callback.action)
            if command is None:
                outcome = await d.uploads.press(actor, callback)
                return Pressed(outcome.toast, False, outcome.edit, outcome.replies)
            # the same path as typed commands, so the same permission checks apply
            replies = await d.commands.handle(command(callback.target_id), actor, where)
            done = m.compare_button_done if is_comparison_id(callback.target_id) else m.button_done
            toast = m.out(done[callback.action.value].format(id=callback.target_id))
            return Pressed(toast, False, None, replies if callback.action is Action.RESULT else ())
        except AppError as exc:
            return Pressed(m.error_text(exc, batch_id=target), True)
        except Exception as exc:
            self.log_failure(exc)
            return Pressed(m.out(m.internal_error.format(kind=type(exc).__name__)), True)

    async def _edit(self, where: ChatRef, message_id: str, reply: Reply) -> list[Reply]:
        await self.surface.edit(where, message_id, reply.text, reply.keyboard)
        if reply.file is not None:
            await self.surface.send_file(where, reply.file.data, reply.file.filename, "")
        return []

    # -- answering ------------------------------------------------------------------------

    async def _guarded(
        self, d: Speaking, where: ChatRef, work: Callable[[], Awaitable[list[Reply]]]
    ) -> None:
        """Run one piece of handling; every failure still gets the person an answer."""
        m = d.messages
        try:
            replies = await work()
        except AppError as exc:
            replies = [Reply(m.error_text(exc))]
        except Exception as exc:
            self.log_failure(exc)
            replies = [Reply(m.out(m.internal_error.format(kind=type(exc).__name__)))]
        await self._send(d, where, replies)

    async def _send(self, d: Speaking, where: ChatRef, replies: Sequence[Reply]) -> None:
        try:
            for reply in replies:
                if reply.file is None:
                    await self.surface.post(where, reply.text, reply.keyboard)
                    continue
                try:
                    await self.surface.send_file(where, reply.file.data, reply.file.filename, reply.text)
                except FileTooLarge as exc:
                    refused = d.messages.refused_as_too_large_text(exc.filename, exc.size)
                    await self.surface.post(where, f"{reply.text}\n{refused}".strip())
        except Exception as exc:
            self.log_failure(exc)

    def log_failure(self, exc: BaseException) -> None:
        # formatted here so the token can be cut out of any URL a library put in the message
        log.error("telegram update failed:\n%s", self.redact("".join(traceback.format_exception(exc))))
