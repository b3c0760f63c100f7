"""The Telegram front end: an aiogram `Bot` that long-polls (or takes webhooks) and answers."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Coroutine, Sequence
from typing import TYPE_CHECKING, Any

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import PRODUCTION, TelegramAPIServer
from aiogram.exceptions import TelegramAPIError, TelegramRetryAfter, TelegramUnauthorizedError
from aiogram.types import BotCommand, Update
from aiogram.utils.token import TokenValidationError
from aiohttp import web
from pydantic import ValidationError

from bot.chat.commands import COMMAND_NAMES
from bot.chat.surface import ChatSurface
from bot.chat.text.catalogues import AUTO, DEFAULT_LOCALE, known_locales
from bot.chat.text.renderer import Messages
from bot.config import TelegramConfig
from bot.ops.health import UNWATCHED, PartHealth
from bot.telegram.routing import Inbound
from bot.telegram.surface import TelegramSurface
from engine.errors import ConfigError

if TYPE_CHECKING:
    from bot.chat.desk import ChatDesk

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ALLOWED_UPDATES = ["message", "callback_query"]
POLL_TIMEOUT_S = 10
HANDLER_GRACE_S = 5.0
"""At shutdown, updates being handled get this long to finish (e.g. a batch being submitted)."""
_BACKOFF_MIN_S, _BACKOFF_MAX_S = 0.5, 30.0


class TelegramAdapter:
    """`bot.desk.ChatAdapter` for Telegram."""

    platform = "telegram"
    health: PartHealth = UNWATCHED

    def __init__(self, config: TelegramConfig, desk: ChatDesk) -> None:
        self.config = config
        api = TelegramAPIServer.from_base(config.api_base) if config.api_base else PRODUCTION
        try:
            self.bot = Bot(str(config.token), session=AiohttpSession(api=api))
        except TokenValidationError:
            raise ConfigError([
                "telegram: the bot token (telegram.token_env) is malformed; a token from @BotFather "
                "looks like 123456789:AA... (digits, a colon, then letters, digits, - and _)"
            ]) from None
        surface = TelegramSurface(self.bot)
        self.surface: ChatSurface = surface
        self.desk = desk
        token = str(config.token)
        self.inbound = Inbound(self.bot, surface, desk, cloud=not config.api_base, token=token)
        self._tasks: set[asyncio.Task[None]] = set()
        self._accepting = False
        self._checked = False

    def routes(self) -> Sequence[web.RouteDef]:
        if self.config.mode != "webhook":
            return []
        return [web.post(WEBHOOK_PATH, self._webhook)]

    async def run(self) -> None:
        try:
            await self._prepare()
            self._accepting = True
            if self.config.mode == "webhook":
                await self._retrying("setWebhook", lambda: self.bot.set_webhook(
                    self.config.webhook_url, secret_token=str(self.config.webhook_secret) or None,
                    allowed_updates=ALLOWED_UPDATES,
                ))
                await asyncio.Event().wait()
            else:
                await self._poll()
        finally:
            self._accepting = False
            await self._drain()

    async def aclose(self) -> None:
        await self.bot.session.close()

    # -- start ----------------------------------------------------------------------------

    async def check(self) -> None:
        me = await self._retrying("getMe", self.bot.get_me)
        self.inbound.username = me.username or ""
        self._checked = True

    async def _prepare(self) -> None:
        if not self._checked:
            await self.check()
        try:
            await self.bot.set_my_commands(_menu(self.desk.messages))
            if self.desk.book.setting.casefold() == AUTO:
                # Telegram shows each person the menu of their app's language, by ISO 639-1 code
                for locale in known_locales():
                    language = locale.split("-")[0].lower()
                    if language != DEFAULT_LOCALE:
                        menu = _menu(self.desk.book.for_locale(locale))
                        await self.bot.set_my_commands(menu, language_code=language)
        except TelegramAPIError as exc:
            # the menu is a convenience; the bot works without it
            log.warning("setMyCommands failed: %s", self.inbound.redact(exc.message))
        if self.config.mode != "webhook":
            # getUpdates answers 409 while a webhook from an earlier setup is still set
            await self._retrying("deleteWebhook", self.bot.delete_webhook)

    async def _retrying(self, what: str, call: Any) -> Any:
        """Keep trying a start-up call: a network hiccup must not take the daemon down."""
        delay = _BACKOFF_MIN_S
        while True:
            try:
                return await call()
            except TelegramRetryAfter as exc:
                await asyncio.sleep(exc.retry_after)
            except TelegramUnauthorizedError:
                # retrying cannot help: the token is wrong or was revoked
                raise ConfigError([
                    f"telegram: Telegram rejected the bot token at {what} (401 Unauthorized); "
                    "check telegram.token_env, or ask @BotFather for the bot's current token"
                ]) from None
            except TelegramAPIError as exc:
                log.warning("telegram %s failed (%s); retrying in %.1f s", what,
                            self.inbound.redact(exc.message), delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, _BACKOFF_MAX_S)

    # -- receiving ------------------------------------------------------------------------

    async def _poll(self) -> None:
        offset: int | None = None
        delay = _BACKOFF_MIN_S
        while True:
            try:
                updates = await self.bot.get_updates(
                    offset=offset, timeout=POLL_TIMEOUT_S, allowed_updates=ALLOWED_UPDATES,
                    request_timeout=POLL_TIMEOUT_S + 30,
                )
            except TelegramRetryAfter as exc:
                await asyncio.sleep(exc.retry_after)
                continue
            except TelegramAPIError as exc:
                if isinstance(exc, TelegramUnauthorizedError):
                    self.health.down("Telegram rejects the bot token (401)", grace_s=0)
                else:
                    self.health.down(f"getUpdates failing: {self.inbound.redact(exc.message)}")
                log.warning("getUpdates failed (%s); retrying in %.1f s",
                            self.inbound.redact(exc.message), delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, _BACKOFF_MAX_S)
                continue
            delay = _BACKOFF_MIN_S
            self.health.up()
            for update in updates:
                # confirmed by the next getUpdates; each update is handled in its own task
                offset = update.update_id + 1
                self._spawn(self._handle(update))

    async def _webhook(self, request: web.Request) -> web.StreamResponse:
        expected = str(self.config.webhook_secret).encode()
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not expected or not secrets.compare_digest(given, expected):
            return web.json_response({"ok": False}, status=401)
        if not self._accepting:
            # Telegram delivers again later, to whichever process is up then
            return web.json_response({"ok": False}, status=503)
        try:
            update = Update.model_validate(await request.json(), context={"bot": self.bot})
        except (ValueError, ValidationError):
            return web.json_response({"ok": False}, status=400)
        self._spawn(self._handle(update))
        return web.json_response({})

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _handle(self, update: Update) -> None:
        try:
            await self.inbound.handle(update)
        except Exception as exc:
            self.inbound.log_failure(exc)

    async def _drain(self) -> None:
        if not self._tasks:
            return
        _, pending = await asyncio.wait(set(self._tasks), timeout=HANDLER_GRACE_S)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)


def _menu(m: Messages) -> list[BotCommand]:
    return [BotCommand(command=n, description=m.command_description(n)) for n in COMMAND_NAMES]
