"""Outbound Slack: posts and uploads into the batch's thread, progress edits that re-send blocks."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.chat.surface import Keyboard, Reply, RetryLater
from bot.slack.blocks import fallback_text, message_blocks
from engine.models import ChatRef

log = logging.getLogger(__name__)

DEFAULT_RETRY_AFTER_S = 1.0


def thread_of(chat: ChatRef) -> str | None:
    """Replies go into the chat's thread, else start one under the upload."""
    return chat.thread_id or chat.reply_to_message_id


class SlackSurface:
    """`bot.chat.ChatSurface` for Slack.

    ``edits`` has no rate-limit retry handler, so a 429 on chat.update reaches the progress
    reporter as `RetryLater` and only that batch waits; ``oneoff`` retries 429s itself, since a
    lost reply or results file cannot be made up later.
    """

    def __init__(self, edits: AsyncWebClient, oneoff: AsyncWebClient) -> None:
        self.edits = edits
        self.oneoff = oneoff

    async def post(self, chat: ChatRef, text: str, keyboard: Keyboard = ()) -> str:
        return await self.post_in(chat.chat_id, thread_of(chat), text, keyboard)

    async def post_in(
        self, channel: str, thread_ts: str | None, text: str, keyboard: Keyboard = ()
    ) -> str:
        resp = await self.oneoff.chat_postMessage(
            channel=channel, thread_ts=thread_ts, text=fallback_text(text),
            blocks=message_blocks(text, keyboard), unfurl_links=False, unfurl_media=False,
        )
        return str(resp["ts"])

    async def edit(self, chat: ChatRef, message_id: str, text: str, keyboard: Keyboard = ()) -> None:
        await self.update(chat.chat_id, message_id, text, keyboard)

    async def update(self, channel: str, ts: str, text: str, keyboard: Keyboard = ()) -> None:
        try:
            await self.edits.chat_update(
                channel=channel, ts=ts, text=fallback_text(text), blocks=message_blocks(text, keyboard)
            )
        except SlackApiError as exc:
            if exc.response.status_code == 429:
                raise RetryLater(_retry_after(exc.response.headers)) from None
            raise

    async def send_file(self, chat: ChatRef, data: bytes, filename: str, caption: str) -> None:
        await self.upload_in(chat.chat_id, thread_of(chat), data, filename, caption)

    async def upload_in(
        self, channel: str, thread_ts: str | None, data: bytes, filename: str, caption: str
    ) -> None:
        await self.oneoff.files_upload_v2(
            channel=channel, thread_ts=thread_ts, content=data, filename=filename, title=filename,
            initial_comment=caption or None,
        )

    async def ephemeral(self, channel: str, user: str, text: str, thread_ts: str | None = None) -> None:
        """A note only ``user`` sees (a button's toast); never fatal, it is only feedback."""
        try:
            await self.oneoff.chat_postEphemeral(
                channel=channel, user=user, text=fallback_text(text), thread_ts=thread_ts
            )
        except SlackApiError as exc:
            log.warning("ephemeral note in %s failed: %s", channel, exc.response.get("error"))

    async def reply(self, channel: str, thread_ts: str | None, reply: Reply) -> None:
        """One `Reply`: a file with the text as its comment, else a message with its buttons."""
        if reply.file is not None:
            await self.upload_in(channel, thread_ts, reply.file.data, reply.file.filename, reply.text)
        else:
            await self.post_in(channel, thread_ts, reply.text, reply.keyboard)


def _retry_after(headers: Mapping[str, Any]) -> float:
    for key, value in headers.items():
        if key.lower() == "retry-after":
            try:
                return max(float(value if isinstance(value, str | int | float) else value[0]), 0.0)
            except (TypeError, ValueError, IndexError):
                break
    return DEFAULT_RETRY_AFTER_S
