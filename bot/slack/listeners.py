"""Inbound Slack: slash commands, DMs and mentions, shared files and button presses.

Every listener acks first and hands the work to a task, so Slack never waits past its 3 s."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any

from slack_sdk.errors import SlackApiError

from bot.chat import commands as c
from bot.chat.buttons import Action, decode
from bot.chat.surface import Actor, Reply
from bot.slack.blocks import ACTION_PREFIX
from bot.slack.files import DownloadError, SharedFile, download
from bot.slack.surface import SlackSurface
from engine.errors import AppError
from engine.models import ChatRef

if TYPE_CHECKING:
    from bot.chat.desk import ChatDesk, Speaking
    from bot.slack.languages import PersonLanguages

log = logging.getLogger(__name__)

Spawn = Callable[[Coroutine[Any, Any, None]], None]
Ack = Callable[..., Awaitable[Any]]

SHEET_NAME = re.compile(r"\.(xlsx|xlsm|xls|ods|csv)$", re.IGNORECASE)
# the words that make a file's message a command; other text is just a comment on the file
_FILE_COMMANDS = frozenset({"run", "schedule"})
_PROGRESS_ACTIONS = frozenset({Action.PAUSE, Action.RESUME, Action.CANCEL, Action.RESULT})
_MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")
_POST_ELSEWHERE = frozenset({"not_in_channel", "channel_not_found", "is_archived"})


def actor_for(user: str, channel: str) -> Actor:
    return Actor(user=f"slack:{user}", chat=f"slack:{channel}", display=f"<@{user}>")


class Inbound:
    """The bolt listeners; they translate Slack payloads for the neutral chat layer."""

    def __init__(
        self, desk: ChatDesk, surface: SlackSurface, bot_token: str, spawn: Spawn,
        languages: PersonLanguages | None = None,
    ) -> None:
        self.desk = desk
        self.m = desk.messages  # only for what is the same in every language (the command)
        self.languages = languages
        self.surface = surface
        self._token = bot_token
        self._spawn = spawn

    def register(self, app: Any, command: str) -> None:
        app.command(command)(self.on_command)
        app.event("message")(self.on_message)
        app.event("app_mention")(self.on_mention)
        # the message event carries everything; without a listener bolt leaves file_shared unacked
        app.event("file_shared")(self.on_ignored)
        app.event("file_created")(self.on_ignored)
        app.action(re.compile(rf"^{re.escape(ACTION_PREFIX)}"))(self.on_action)

    async def speaking(self, user: str) -> Speaking:
        """The handlers and wording for this person's language (asked of Slack under "auto")."""
        said = await self.languages.of(user) if self.languages is not None else None
        return self.desk.speaking(said)

    # listeners ----------------------------------------------------------------------------

    async def on_ignored(self, ack: Ack) -> None:
        await ack()

    async def on_command(self, ack: Ack, command: dict[str, Any], respond: Ack) -> None:
        await ack()
        user, channel = str(command["user_id"]), str(command["channel_id"])
        self._spawn(self._slash(str(command.get("text") or ""), user, channel, respond))

    async def on_message(self, ack: Ack, event: dict[str, Any]) -> None:
        await ack()
        subtype, user = event.get("subtype"), event.get("user")
        if event.get("bot_id") or not user or subtype not in (None, "file_share", "thread_broadcast"):
            return  # edits, joins and bots (our own posts included) are not requests
        if event.get("files"):
            self._spawn(self._files(event))
        elif event.get("channel_type") == "im":
            self._spawn(self._text(event))  # in channels only mentions count, via app_mention

    async def on_mention(self, ack: Ack, event: dict[str, Any]) -> None:
        await ack()
        # a file posted with a mention arrives as a message event too, which handles it
        if not event.get("files") and not event.get("bot_id") and event.get("user"):
            self._spawn(self._text(event))

    async def on_action(self, ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        self._spawn(self._press(body, action))

    # commands -----------------------------------------------------------------------------

    async def _slash(self, text: str, user: str, channel: str, respond: Ack) -> None:
        d = await self.speaking(user)
        replies = await self.text_command(d, text, actor_for(user, channel), ChatRef("slack", channel))
        for reply in replies:
            try:
                await self.surface.reply(channel, None, reply)
            except SlackApiError as exc:
                if exc.response.get("error") not in _POST_ELSEWHERE:
                    raise
                # not a member here: the command's own response_url still reaches the person,
                # but carries text only, so say where the file can be had instead
                text = reply.text
                if reply.file is not None:
                    text += "\n" + d.messages.file_needs_membership.format(filename=reply.file.filename)
                await respond(text=text, response_type="ephemeral")

    async def _text(self, event: dict[str, Any]) -> None:
        user, channel, ts = str(event["user"]), str(event["channel"]), str(event.get("ts") or "")
        thread = event.get("thread_ts") or (None if event.get("channel_type") == "im" else ts)
        where = ChatRef("slack", channel, thread_id=thread, reply_to_message_id=ts)
        text = command_text(str(event.get("text") or ""), self.m.cmd("").strip())
        d = await self.speaking(user)
        for reply in await self.text_command(d, text, actor_for(user, channel), where):
            await self.surface.reply(channel, thread, reply)

    async def text_command(self, d: Speaking, text: str, actor: Actor, where: ChatRef) -> list[Reply]:
        """Like `CommandHandlers.handle_text`, but ``run``/``schedule`` use the latest upload."""
        m = d.messages
        try:
            command = c.parse_command(text, messages=m)
        except AppError:
            command = None  # handle_text words the parse error
        if not isinstance(command, c.Run | c.Schedule):
            return await d.commands.handle_text(text, actor, where)
        uploads = d.uploads
        upload = await uploads.latest(actor, where)
        if upload is None:
            return [Reply(m.out(m.no_upload.format(cmd=m.cmd("run"))))]
        try:
            if isinstance(command, c.Schedule):
                return await uploads.schedule(upload, command.workflow, command.when_text)
            if command.workflow:
                return await uploads.start(upload, command.workflow, *command.also)
            return await uploads.summary(upload)
        except AppError as exc:
            return [Reply(m.error_text(exc))]

    # files --------------------------------------------------------------------------------

    async def _files(self, event: dict[str, Any]) -> None:
        user, channel, ts = str(event["user"]), str(event["channel"]), str(event["ts"])
        thread = str(event.get("thread_ts") or ts)
        where = ChatRef("slack", channel, thread_id=thread, reply_to_message_id=ts)
        actor = actor_for(user, channel)
        caption = _file_command(str(event.get("text") or ""), self.m.cmd("").strip())
        d = await self.speaking(user)
        for obj in event.get("files") or []:
            shared = SharedFile.from_event(obj)
            if caption is None and event.get("channel_type") != "im" and not SHEET_NAME.search(shared.name):
                continue  # a photo in a busy channel is not for us; in a DM every file is
            for reply in await self._one_file(d, shared, actor, where, caption, ts):
                await self.surface.reply(channel, thread, reply)

    async def _one_file(
        self, d: Speaking, shared: SharedFile, actor: Actor, where: ChatRef, caption: str | None,
        ts: str,
    ) -> list[Reply]:
        m, limit = d.messages, self.desk.max_file_bytes
        try:
            if not shared.complete:
                info = await self.surface.oneoff.files_info(file=shared.id)
                shared = SharedFile.from_event(info["file"])
            if shared.size is not None and shared.size > limit:
                raise DownloadError("too_big")
            data = await download(shared.url, self._token, limit)
            return await d.uploads.receive(actor, where, data, shared.name, caption, ts)
        except DownloadError as exc:
            return [Reply(self._download_text(d, exc.kind, shared))]
        except SlackApiError:
            return [Reply(m.out(m.download_failed.format(filename=shared.name)))]
        except AppError as exc:
            return [Reply(m.error_text(exc))]

    def _download_text(self, d: Speaking, kind: str, shared: SharedFile) -> str:
        m, limit = d.messages, self.desk.max_file_bytes
        if kind == "too_big":
            size = shared.size if shared.size is not None and shared.size > limit else limit + 1
            text = m.file_too_big.format(
                filename=shared.name, size_mb=size / 2**20, limit_mb=round(limit / 2**20, 3)
            )
        elif kind == "html":
            text = m.download_html.format(filename=shared.name)
        else:
            text = m.download_failed.format(filename=shared.name)
        return m.out(text)

    # buttons ------------------------------------------------------------------------------

    async def _press(self, body: dict[str, Any], action: dict[str, Any]) -> None:
        container = body.get("container") or {}
        user = str(body["user"]["id"])
        channel = str((body.get("channel") or {}).get("id") or container.get("channel_id"))
        message_ts = str(container.get("message_ts") or "")
        thread = str(container.get("thread_ts") or message_ts)
        actor = actor_for(user, channel)
        d = await self.speaking(user)
        try:
            callback = decode(str(action.get("value") or ""), messages=d.messages)
        except AppError as exc:
            await self.surface.ephemeral(channel, user, d.messages.error_text(exc), thread)
            return
        if callback.action in _PROGRESS_ACTIONS:
            # the same path as typing the command, so the same permission checks apply
            where = ChatRef("slack", channel, thread_id=thread, reply_to_message_id=message_ts)
            text = f"{callback.action.value} {callback.target_id}"
            for reply in await d.commands.handle_text(text, actor, where):
                if reply.file is not None:
                    await self.surface.reply(channel, thread, reply)
                else:
                    await self.surface.ephemeral(channel, user, reply.text, thread)
            return
        try:
            outcome = await d.uploads.press(actor, callback)
        except AppError as exc:
            await self.surface.ephemeral(channel, user, d.messages.error_text(exc), thread)
            return
        if outcome.toast:
            await self.surface.ephemeral(channel, user, outcome.toast, thread)
        if outcome.edit is not None:
            await self.surface.update(channel, message_ts, outcome.edit.text, outcome.edit.keyboard)
            if outcome.edit.file is not None:
                await self.surface.reply(channel, thread, Reply("", file=outcome.edit.file))
        for reply in outcome.replies:
            await self.surface.reply(channel, thread, reply)


def command_text(text: str, slash: str) -> str:
    """What a person typed, without mentions of the bot or a leading ``/difybatch``."""
    words = _MENTION.sub(" ", text).split(None, 1)
    if words and words[0].lower() == slash.lower():
        words = words[1:]
    return " ".join(words).strip()


def _file_command(text: str, slash: str) -> str | None:
    """The file's text when it is ``run …`` or ``schedule …``, else None (just a comment)."""
    words = command_text(text, slash).split()
    if words and words[0].lstrip("/").lower() in _FILE_COMMANDS:
        return " ".join(words)
    return None
