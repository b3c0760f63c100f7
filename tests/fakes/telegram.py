"""FakeTelegram: a loopback Bot API server for the real aiogram, with a person side for tests."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
import json
import time
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any, TypeVar

import aiohttp
from aiohttp import web

from tests.fakes.telegram_methods import DEFAULT_UPDATES
from tests.fakes.telegram_model import (
    Call,
    CallbackRecord,
    FakeChat,
    FakeMessage,
    FakeUser,
    Fault,
    Flood,
    Params,
    TelegramError,
    TranscriptEntry,
    Upload,
    keyboard_summary,
)
from tests.fakes.telegram_person import PersonSide

if TYPE_CHECKING:
    from aiogram import Bot

T = TypeVar("T")
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class FakeTelegram(PersonSide):
    """Speaks the Bot API wire format on 127.0.0.1; see PersonSide for the test-facing actions."""

    def __init__(
        self,
        token: str = "42:TEST",
        *,
        bot_username: str = "batch_test_bot",
        bot_name: str = "Batch Bot",
        privacy_mode: bool = True,
        callback_window_s: float | None = 15.0,
        max_upload_bytes: int = 50 * 1024 * 1024,
    ) -> None:
        self.token = token
        self.max_upload_bytes = max_upload_bytes  # what the Bot API accepts from bots (50 MB in the cloud)
        self.bot_user = FakeUser(int(token.split(":", 1)[0]), bot_name, bot_username, is_bot=True)
        self.privacy_mode = privacy_mode
        self.callback_window_s = callback_window_s
        self.users: dict[int, FakeUser] = {}
        self.chats: dict[int, FakeChat] = {}
        self.all_messages: dict[int, FakeMessage] = {}
        self.files = {}
        self.callbacks: dict[str, CallbackRecord] = {}
        self.updates: list[dict[str, Any]] = []
        self.dropped_updates: list[dict[str, Any]] = []
        self.allowed_updates = list(DEFAULT_UPDATES)
        self.commands: dict[str, list[dict[str, Any]]] = {}
        self.webhook: dict[str, Any] | None = None
        self.chat_actions: list[tuple[int, str]] = []
        self.entries: list[TranscriptEntry] = []
        self._calls: list[Call] = []
        self._faults: dict[str, collections.deque[Fault]] = collections.defaultdict(collections.deque)
        self._floods: dict[str, Flood] = {}
        self._poll_generation = 0
        self.polls_waiting = 0  # long polls being held right now; tests wait on it instead of sleeping
        self._closing = False
        self._next_message_id = 100
        self._next_file = 0
        self._next_update_id = 500_000
        self._ids = itertools.count(1001)
        self._event = asyncio.Event()
        self._handlers = self.handlers()
        self._runner: web.AppRunner | None = None
        self._client: aiohttp.ClientSession | None = None
        self._webhook_task: asyncio.Task[None] | None = None
        self.base_url = ""

    # -- lifecycle ------------------------------------------------------------------------

    @classmethod
    @contextlib.asynccontextmanager
    async def running(cls, token: str = "42:TEST", **kwargs: Any) -> AsyncIterator[FakeTelegram]:
        fake = cls(token, **kwargs)
        await fake.start()
        try:
            yield fake
        finally:
            await fake.stop()

    async def start(self) -> None:
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_method)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        # handler_cancellation: a client that gives up on a long poll frees its handler at once.
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}"

    async def stop(self) -> None:
        self._closing = True
        self._notify()
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._webhook_task
        if self._client is not None:
            await self._client.close()
        if self._runner is not None:
            await self._runner.cleanup()

    def make_bot(self, **kwargs: Any) -> Bot:
        """A real aiogram Bot pointed at this fake; use `async with tg.make_bot() as bot:`."""
        from aiogram import Bot
        from aiogram.client.session.aiohttp import AiohttpSession
        from aiogram.client.telegram import TelegramAPIServer

        session = AiohttpSession(api=TelegramAPIServer.from_base(self.base_url))
        return Bot(self.token, session=session, **kwargs)

    # -- change notification ------------------------------------------------------------

    def _notify(self) -> None:
        # One Event per generation: waiters hold the one current when they checked their condition.
        old, self._event = self._event, asyncio.Event()
        old.set()

    async def _wait_changed(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._event.wait(), seconds)

    # A deadline argument, not asyncio.timeout: on expiry it fails with the transcript attached.
    async def wait_for(self, predicate: Callable[[], T | None], timeout: float = 5.0) -> T:
        """Wait until predicate() is truthy (re-checked on every change); return its value."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"condition not met within {timeout} s; transcript:\n"
                                     f"{self.transcript_text()}")
            await self._wait_changed(remaining)

    async def wait_for_message(
        self,
        chat_id: int,
        contains: str = "",
        *,
        document: bool = False,
        timeout: float = 5.0,
    ) -> FakeMessage:
        """The first bot message in the chat whose current text/caption contains `contains`."""

        def find() -> FakeMessage | None:
            for msg in self.bot_messages(chat_id):
                if document and msg.document is None:
                    continue
                if contains in (msg.text or msg.caption or ""):
                    return msg
            return None

        return await self.wait_for(find, timeout)

    # -- fault injection ------------------------------------------------------------------

    def fail(self, method: str, status: int = 400, description: str = "Bad Request: injected failure",
             *, times: int = 1, retry_after: int | None = None, delay: float = 0.0,
             raw_body: str | None = None) -> None:
        """Answer the next `times` calls of `method` ("*" = any method) with this error."""
        for _ in range(times):
            self._faults[method.lower()].append(Fault(status, description, retry_after, delay, raw_body))

    def rate_limit(self, method: str, retry_after: int = 1, *, times: int = 1) -> None:
        self.fail(method, 429, f"Too Many Requests: retry after {retry_after}", times=times,
                  retry_after=retry_after)

    def server_error(self, method: str, status: int = 500, description: str = "Internal Server Error",
                     *, times: int = 1, raw_body: str | None = None) -> None:
        self.fail(method, status, description, times=times, raw_body=raw_body)

    def slow(self, method: str, seconds: float, *, times: int = 1) -> None:
        """Delay the next `times` calls of `method` before answering them normally."""
        for _ in range(times):
            self._faults[method.lower()].append(Fault(delay=seconds))

    def flood(self, method: str, *, retry_after: int = 1, calls: int | None = None,
              seconds: float | None = None) -> None:
        """429 every call of `method` for `calls` calls and/or for a `seconds` window."""
        until = time.monotonic() + seconds if seconds is not None else None
        self._floods[method.lower()] = Flood(retry_after, calls, until)

    def clear_faults(self) -> None:
        self._faults.clear()
        self._floods.clear()

    def _take_fault(self, method: str) -> Fault | None:
        now = time.monotonic()
        for key in (method, "*"):
            flood = self._floods.get(key)
            if flood is not None and flood.active(now):
                if flood.calls is not None:
                    flood.calls -= 1
                after = flood.retry_after_at(now)
                return Fault(429, f"Too Many Requests: retry after {after}", after)
        for key in (method, "*"):
            if self._faults.get(key):
                return self._faults[key].popleft()
        return None

    # -- HTTP -------------------------------------------------------------------------------

    async def _handle_method(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"},
                                     status=401)
        name = request.match_info["method"]
        handler = self._handlers.get(name.lower())
        if handler is None:
            return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"},
                                     status=404)
        params = await self._read_params(request)
        canonical = getattr(handler, "__name__", name).removeprefix("m_")
        fault = self._take_fault(canonical.lower())
        if fault is not None and fault.delay:
            await asyncio.sleep(fault.delay)
        try:
            if fault is not None and fault.status is not None:
                raise TelegramError(fault.status, fault.description, fault.retry_after)
            result = await handler(params)
        except TelegramError as error:
            self._record(canonical, params, error.status, error.description)
            if fault is not None and fault.raw_body is not None:
                return web.Response(text=fault.raw_body, status=error.status, content_type="text/html")
            return web.json_response(error.body(), status=error.status)
        self._record(canonical, params, 200, None)
        return web.json_response({"ok": True, "result": result})

    def _record(self, method: str, params: Params, status: int, description: str | None) -> None:
        files = {name: up.data for name, up in params.uploads.items()}
        self._calls.append(Call(method, dict(params.values), files, time.monotonic(), status, description))
        self._notify()

    @staticmethod
    async def _read_params(request: web.Request) -> Params:
        values: dict[str, Any] = dict(request.query)
        uploads: dict[str, Upload] = {}
        ctype = request.content_type
        if ctype == "application/json":
            body = await request.json()
            if isinstance(body, dict):
                values.update(body)
        elif ctype == "multipart/form-data":
            reader = await request.multipart()
            async for part in reader:
                if not isinstance(part, aiohttp.BodyPartReader) or part.name is None:
                    continue
                if part.filename is not None:
                    data = bytes(await part.read())
                    uploads[part.name] = Upload(data, part.filename, part.headers.get("Content-Type"))
                else:
                    values[part.name] = await part.text()
        elif request.can_read_body:
            form = await request.post()
            values.update({k: v for k, v in form.items() if isinstance(v, str)})
        return Params(values, uploads)

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"},
                                     status=401)
        path = request.match_info["path"]
        for stored in self.files.values():
            if stored.file_path == path:
                return web.Response(body=stored.data, content_type="application/octet-stream")
        return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"}, status=404)

    # -- webhook delivery -----------------------------------------------------------------

    def _webhook_changed(self) -> None:
        if self.webhook is not None and (self._webhook_task is None or self._webhook_task.done()):
            self._webhook_task = asyncio.get_running_loop().create_task(self._webhook_loop())

    async def _webhook_loop(self) -> None:
        while self.webhook is not None and not self._closing:
            if not self.updates:
                await self._wait_changed(1.0)
                continue
            update = self.updates[0]
            try:
                status = await self.post_update(self.webhook["url"], update, self.webhook["secret_token"])
            except aiohttp.ClientError:
                status = 0
            if 200 <= status < 300 and self.updates and self.updates[0] is update:
                self.updates.pop(0)
                self._notify()
            elif not 200 <= status < 300:
                await asyncio.sleep(0.1)  # the real service backs off; tests want it quick

    async def post_update(self, url: str, update: dict[str, Any], secret_token: str | None = None) -> int:
        """POST one update to a webhook URL as Telegram does; return the HTTP status."""
        if self._client is None:
            self._client = aiohttp.ClientSession()
        headers = {SECRET_HEADER: secret_token} if secret_token else {}
        async with self._client.post(url, data=json.dumps(update), headers={
            **headers, "Content-Type": "application/json"}) as resp:
            await resp.read()
            return resp.status

    # -- reading --------------------------------------------------------------------------

    def calls(self, method: str | None = None) -> list[Call]:
        """Every request received (errors and injected faults included), optionally of one method."""
        if method is None:
            return list(self._calls)
        return [c for c in self._calls if c.method.lower() == method.lower()]

    def transcript(self, chat_id: int | None = None) -> list[TranscriptEntry]:
        return [e for e in self.entries if chat_id is None or e.chat_id == chat_id]

    def transcript_text(self, chat_id: int | None = None) -> str:
        return "\n".join(str(e) for e in self.transcript(chat_id))

    def messages(self, chat_id: int) -> list[FakeMessage]:
        """All live messages of a chat in order, people's and the bot's, with current content."""
        return [m for m in self.all_messages.values() if m.chat.id == chat_id and not m.deleted]

    def bot_messages(self, chat_id: int) -> list[FakeMessage]:
        return [m for m in self.messages(chat_id) if m.from_bot]

    def message(self, message_id: int) -> FakeMessage:
        return self.all_messages[message_id]

    def edit_count(self, message_id: int) -> int:
        return len(self.all_messages[message_id].edits)

    def edit_times(self, message_id: int) -> list[float]:
        """time.monotonic() of each successful edit (text or keyboard) of the message."""
        return self.all_messages[message_id].edit_times

    def sent_documents(self, chat_id: int | None = None) -> list[FakeMessage]:
        """Bot messages carrying a document; `.document.data` holds the bytes, `.caption` the caption."""
        return [m for m in self.all_messages.values()
                if m.from_bot and m.document is not None and (chat_id is None or m.chat.id == chat_id)]

    @property
    def answered_callbacks(self) -> list[CallbackRecord]:
        return [c for c in self.callbacks.values() if c.answered]

    def callback(self, query_id: str) -> CallbackRecord:
        return self.callbacks[query_id]

    def keyboard_text(self, message_id: int) -> str:
        return keyboard_summary(self.all_messages[message_id].reply_markup).strip()
