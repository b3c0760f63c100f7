"""Outbound Telegram: the `ChatSurface` the daemon's reporter and the inbound router send through."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramEntityTooLarge,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup, ReplyParameters

from bot.chat.surface import FileTooLarge, Keyboard, RetryLater
from engine.models import ChatRef

log = logging.getLogger(__name__)

T = TypeVar("T")

MAX_CAPTION_CHARS = 1024
SERVER_RETRIES = 3
"""Attempts after a 5xx or a network error, with a short doubling back-off."""
FLOOD_RETRIES = 3
MAX_FLOOD_WAIT_S = 60.0
"""A one-off reply waits out a flood this long at most; longer ones go to the caller."""
_BACKOFF_S = 0.25
_NOT_MODIFIED = "message is not modified"


def markup(keyboard: Keyboard) -> InlineKeyboardMarkup | None:
    """Inline buttons; None when there are none, which also removes them on an edit."""
    rows = [
        [InlineKeyboardButton(text=b.label, callback_data=b.data) for b in row] for row in keyboard if row
    ]
    return InlineKeyboardMarkup(inline_keyboard=rows) if rows else None


def _reply_to(chat: ChatRef) -> ReplyParameters | None:
    if chat.reply_to_message_id is None:
        return None
    # the upload may have been deleted since; the answer still belongs in the chat
    return ReplyParameters(message_id=int(chat.reply_to_message_id), allow_sending_without_reply=True)


def _thread(chat: ChatRef) -> int | None:
    return int(chat.thread_id) if chat.thread_id else None


class TelegramSurface:
    """Messages out through one aiogram `Bot`. Ids travel as strings, as `ChatSurface` says."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def post(self, chat: ChatRef, text: str, keyboard: Keyboard = ()) -> str:
        message = await self._patient(lambda: self.bot.send_message(
            chat_id=int(chat.chat_id), text=text, message_thread_id=_thread(chat),
            reply_parameters=_reply_to(chat), reply_markup=markup(keyboard),
        ))
        return str(message.message_id)

    async def edit(self, chat: ChatRef, message_id: str, text: str, keyboard: Keyboard = ()) -> None:
        # reply_markup goes with every edit: Telegram drops the keyboard of an edit without one
        try:
            await _server_retries(lambda: self.bot.edit_message_text(
                chat_id=int(chat.chat_id), message_id=int(message_id), text=text,
                reply_markup=markup(keyboard),
            ))
        except TelegramRetryAfter as exc:
            # the reporter keeps the newest state and waits for this batch only
            raise RetryLater(float(exc.retry_after)) from None
        except TelegramBadRequest as exc:
            if _NOT_MODIFIED not in exc.message:
                raise

    async def send_file(self, chat: ChatRef, data: bytes, filename: str, caption: str) -> None:
        if len(caption) > MAX_CAPTION_CHARS:
            await self.post(chat, caption)
            caption = ""
        try:
            await self._patient(lambda: self.bot.send_document(
                chat_id=int(chat.chat_id), document=BufferedInputFile(data, filename=filename),
                caption=caption or None, message_thread_id=_thread(chat), reply_parameters=_reply_to(chat),
            ))
        except TelegramEntityTooLarge:
            raise FileTooLarge(filename, len(data)) from None

    async def answer(self, query_id: str, text: str = "", *, alert: bool = False) -> None:
        """Stop the button's spinner; a late or repeated answer is only worth a log line."""
        try:
            await self.bot.answer_callback_query(query_id, text=text[:200] or None, show_alert=alert)
        except (TelegramBadRequest, TelegramRetryAfter, TelegramNetworkError, TelegramServerError) as exc:
            log.warning("answerCallbackQuery failed: %s", type(exc).__name__)

    async def _patient(self, call: Callable[[], Awaitable[T]]) -> T:
        """A one-off send waits out short floods itself; a long one becomes `RetryLater`."""
        for attempt in range(FLOOD_RETRIES + 1):
            try:
                return await _server_retries(call)
            except TelegramRetryAfter as exc:
                if attempt == FLOOD_RETRIES or exc.retry_after > MAX_FLOOD_WAIT_S:
                    raise RetryLater(float(exc.retry_after)) from None
                log.info("telegram flood control: waiting %d s", exc.retry_after)
                await asyncio.sleep(exc.retry_after)
        raise AssertionError("unreachable")


async def _server_retries(call: Callable[[], Awaitable[T]]) -> T:
    delay = _BACKOFF_S
    for attempt in range(SERVER_RETRIES + 1):
        try:
            return await call()
        except TelegramEntityTooLarge:
            raise
        except (TelegramServerError, TelegramNetworkError) as exc:
            if attempt == SERVER_RETRIES:
                raise
            log.warning("telegram %s; retrying in %.2f s", type(exc).__name__, delay)
            await asyncio.sleep(delay)
            delay *= 2
    raise AssertionError("unreachable")
