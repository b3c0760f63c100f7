"""The Slack adapter: a slack-bolt AsyncApp fed by Socket Mode or by the daemon's /slack/events."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import TYPE_CHECKING, Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.chat.surface import ChatSurface
from bot.chat.text.catalogues import AUTO
from bot.config import SlackConfig
from bot.ops.health import UNWATCHED, PartHealth
from bot.slack.languages import PersonLanguages
from bot.slack.listeners import Inbound
from bot.slack.surface import SlackSurface
from engine.errors import ConfigError

if TYPE_CHECKING:
    from bot.chat.desk import ChatDesk

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
SEEN_EVENTS = 5000
"""Event ids remembered against redelivery; Slack retries within minutes, not thousands of events."""
ONEOFF_RATE_LIMIT_RETRIES = 5
CLOSE_GRACE_S = 2.0
SOCKET_WATCH_S = 5.0
REJECTED = frozenset({"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired",
                      "not_allowed_token_type"})
"""Slack's answers that mean a token will never work: a configuration error, not an outage."""
BOLT_LOGGER = "bot.slack.bolt"


class SlackAdapter:
    """`bot.desk.ChatAdapter` for Slack."""

    platform = "slack"
    health: PartHealth = UNWATCHED

    def __init__(self, config: SlackConfig, desk: ChatDesk) -> None:
        self.config = config
        self.http_mode = config.mode == "http"
        base = config.api_base or AsyncWebClient.BASE_URL
        # bolt's client (and so its per-request copies) and our edits: 429 reaches the caller
        self.client = AsyncWebClient(token=str(config.bot_token), base_url=base)
        oneoff = AsyncWebClient(token=str(config.bot_token), base_url=base)
        oneoff.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=ONEOFF_RATE_LIMIT_RETRIES))
        self.slack_surface = SlackSurface(self.client, oneoff)
        self.surface: ChatSurface = self.slack_surface
        self.app = AsyncApp(
            client=self.client,
            signing_secret=str(config.signing_secret) if self.http_mode else "",
            # Socket Mode envelopes are not signed; HTTP deliveries must be
            request_verification_enabled=self.http_mode,
            url_verification_enabled=self.http_mode,
            ssl_check_enabled=self.http_mode,
            logger=quiet_bolt_logger(),
        )
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._tasks: set[asyncio.Task[None]] = set()
        self._socket: AsyncSocketModeHandler | None = None
        self.app.middleware(self._once)
        # under locale = "auto" each person's language is asked of Slack (users:read scope)
        languages = PersonLanguages(oneoff) if desk.book.setting.casefold() == AUTO else None
        self.inbound = Inbound(desk, self.slack_surface, str(config.bot_token), self._spawn, languages)
        self.inbound.register(self.app, config.command)

    def routes(self) -> Sequence[web.RouteDef]:
        return [web.post(EVENTS_PATH, self._events)] if self.http_mode else []

    async def check(self) -> None:
        calls: list[tuple[str, str, Callable[[], Awaitable[Any]]]] = [
            ("slack.bot_token_env", "auth.test", self.client.auth_test),
        ]
        if not self.http_mode:
            app_token = str(self.config.app_token)
            calls.append(("slack.app_token_env", "apps.connections.open",
                          lambda: self.client.apps_connections_open(app_token=app_token)))
        for key, method, call in calls:
            try:
                await call()
            except SlackApiError as exc:
                error = exc.response.get("error") if exc.response is not None else None
                if error in REJECTED:
                    raise ConfigError([f"slack: Slack rejected the token named by {key} ({error})"]) from None
                log.warning("slack: %s failed at start (%s); carrying on", method, error)
            except Exception as exc:
                log.warning("slack: %s failed at start (%s); carrying on", method, type(exc).__name__)

    async def run(self) -> None:
        if not self.http_mode:
            self._socket = AsyncSocketModeHandler(self.app, str(self.config.app_token))
            await self._socket.connect_async()  # type: ignore[no-untyped-call]
            log.info("slack: connected over Socket Mode")
        try:
            if self._socket is not None:
                await self._watch_socket(self._socket)
            await asyncio.Event().wait()
        finally:
            # stop taking requests at once; replies already under way still finish in aclose
            await self._close_socket()

    async def aclose(self) -> None:
        await self._close_socket()
        if self._tasks:
            _, pending = await asyncio.wait(list(self._tasks), timeout=CLOSE_GRACE_S)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    # internals ----------------------------------------------------------------------------

    async def _watch_socket(self, socket: AsyncSocketModeHandler) -> None:
        """Tell the health check while Socket Mode is down (slack_sdk reconnects by itself)."""
        while True:
            if await socket.client.is_connected():
                self.health.up()
            else:
                self.health.down("Socket Mode disconnected")
            await asyncio.sleep(SOCKET_WATCH_S)

    async def _events(self, request: web.Request) -> web.Response:
        response = await self.app.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(response)

    async def _close_socket(self) -> None:
        socket, self._socket = self._socket, None
        if socket is not None:
            with contextlib.suppress(Exception):
                await socket.close_async()  # type: ignore[no-untyped-call]

    async def _once(self, body: dict[str, Any], next: Callable[[], Awaitable[None]]) -> BoltResponse | None:
        """Slack delivers at least once (a late ack, a refreshed socket): act on each event once."""
        event_id = body.get("event_id") if isinstance(body, dict) else None
        if isinstance(event_id, str) and event_id:
            if event_id in self._seen:
                log.info("slack: event %s delivered again; already handled", event_id)
                return BoltResponse(status=200, body="")
            self._seen[event_id] = None
            while len(self._seen) > SEEN_EVENTS:
                self._seen.popitem(last=False)
        await next()
        return None

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(self._guard(work))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _guard(work: Coroutine[Any, Any, None]) -> None:
        try:
            await work
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("slack: handling a request failed")


class _OneLine(logging.Filter):
    """slack_bolt's and slack_sdk's noise, made one clear line each.

    bolt warns that the token is unused whenever ``SLACK_BOT_TOKEN`` is set, though our
    client carries that very token; slack_sdk logs a traceback for every failed Socket Mode
    connection attempt, every few seconds while Slack is unreachable."""

    _token_skipped = warning_client_prioritized_and_token_skipped()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if message == self._token_skipped:
            record.msg, record.args = "slack: using the bot token named by slack.bot_token_env", None
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
            return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)
        if "socket_mode" in record.pathname and message.startswith("Failed to"):
            error = record.exc_info[1] if record.exc_info else None
            reason = type(error).__name__ if error is not None else message[len("Failed to "):]
            record.msg = "slack: Socket Mode connection failed (%s); slack_sdk retries by itself"
            record.args = (reason.split(":")[0].split(" (")[0],)
            record.exc_info = None
            record.exc_text = None
        return True


def quiet_bolt_logger() -> logging.Logger:
    logger = logging.getLogger(BOLT_LOGGER)
    if not any(isinstance(f, _OneLine) for f in logger.filters):
        logger.addFilter(_OneLine())
    return logger
