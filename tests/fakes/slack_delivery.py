"""FakeSlack delivery to the app: Socket Mode envelopes or signed HTTP POSTs, with acks and retries."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlencode

import aiohttp
from aiohttp import WSMsgType, web

Kind = Literal["events_api", "slash_commands", "interactive"]
Signature = Literal["good", "bad", "stale"]


@dataclass
class Attempt:
    """One try at delivering: an envelope on the socket, or one HTTP POST."""

    retry_num: int
    sent_at: float  # time.monotonic()
    envelope_id: str | None = None
    acked_at: float | None = None
    response: Any = None  # socket: the ack's payload; HTTP: the parsed response body
    status: int | None = None  # HTTP status, None on socket mode or a transport failure
    timed_out: bool = False
    late: bool = False  # acked after Slack had given up on this attempt
    done: asyncio.Event = field(default_factory=asyncio.Event, repr=False)

    @property
    def ack_seconds(self) -> float | None:
        return None if self.acked_at is None else self.acked_at - self.sent_at


@dataclass
class Delivery:
    """Something Slack sent to the app, with every attempt and its outcome."""

    kind: Kind
    payload: dict[str, Any]
    attempts: list[Attempt] = field(default_factory=list)
    settled: asyncio.Event = field(default_factory=asyncio.Event)
    ack_timeout: float = 3.0

    @property
    def acked(self) -> bool:
        return any(a.acked_at is not None and not a.late for a in self.attempts)

    @property
    def ack(self) -> Attempt | None:
        """The attempt Slack accepted (acked in time), if any."""
        return next((a for a in self.attempts if a.acked_at is not None and not a.late), None)

    @property
    def ack_seconds(self) -> float | None:
        ack = self.ack
        return None if ack is None else ack.ack_seconds

    @property
    def response(self) -> Any:
        ack = self.ack
        return None if ack is None else ack.response

    @property
    def envelope_ids(self) -> list[str]:
        return [a.envelope_id for a in self.attempts if a.envelope_id]

    async def wait(self, timeout: float = 30.0) -> Delivery:
        await asyncio.wait_for(self.settled.wait(), timeout)
        return self


def sign(secret: str, body: bytes, timestamp: int) -> str:
    base = f"v0:{timestamp}:".encode() + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


class Deliverer:
    """Sends deliveries over the live Socket Mode connection or to the HTTP events URL."""

    def __init__(self, *, app_id: str, signing_secret: str, on_change: Callable[[], None]) -> None:
        self.app_id = app_id
        self.signing_secret = signing_secret
        self.mode: Literal["socket", "http"] = "socket"
        self.events_url: str | None = None
        self.signature: Signature = "good"
        self.ack_timeout = 3.0
        self.retry_delays: tuple[float, ...] = (0.0, 0.0, 0.0)  # Slack: ~0 s, 1 min, 5 min
        self.deliveries: list[Delivery] = []
        self.acks: list[Attempt] = []
        self.tickets: set[str] = set()
        self.connections: list[web.WebSocketResponse] = []
        self.connection_count = 0
        self.pings = 0
        self.base_url = ""
        self._on_change = on_change
        self._connected = asyncio.Event()
        self._waiting: dict[str, Attempt] = {}  # envelope_id -> attempt awaiting its ack
        self._all_attempts: dict[str, Attempt] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._session: aiohttp.ClientSession | None = None

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/link", self.websocket)
        app.router.add_get("/link/", self.websocket)

    def new_ws_url(self) -> str:
        ticket = uuid.uuid4().hex
        self.tickets.add(ticket)
        return f"{self.base_url.replace('http://', 'ws://')}/link/?ticket={ticket}&app_id={self.app_id}"

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for ws in list(self.connections):
            await ws.close(code=aiohttp.WSCloseCode.GOING_AWAY, message=b"server shutdown")
        if self._session is not None:
            await self._session.close()

    # websocket ----------------------------------------------------------------------------------
    async def websocket(self, request: web.Request) -> web.StreamResponse:
        if request.query.get("ticket") not in self.tickets:
            return web.Response(status=401, text="invalid ticket")
        ws = web.WebSocketResponse(autoping=True, timeout=1.0)
        await ws.prepare(request)
        self.connections.append(ws)
        self.connection_count += 1
        await ws.send_json({
            "type": "hello", "num_connections": len(self.connections),
            "debug_info": {"host": "applink-fake", "build_number": 1, "approximate_connection_time": 18060},
            "connection_info": {"app_id": self.app_id},
        })
        self._connected.set()
        self._on_change()
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    self._on_text(msg.data)
        finally:
            self.connections.remove(ws)
            if not self.connections:
                self._connected.clear()
            self._on_change()
        return ws

    def _on_text(self, data: str) -> None:
        try:
            frame = json.loads(data)
        except ValueError:
            return
        env_id = frame.get("envelope_id") if isinstance(frame, dict) else None
        attempt = self._all_attempts.get(str(env_id))
        if attempt is None or attempt.acked_at is not None:
            return
        attempt.acked_at = time.monotonic()
        attempt.response = frame.get("payload")
        attempt.late = self._waiting.pop(str(env_id), None) is None
        attempt.done.set()
        self.acks.append(attempt)
        self._on_change()

    async def send_disconnect(self, reason: str = "refresh_requested",
                              close_after: float | None = None) -> int:
        """Ask every live connection to go away; slack_sdk then opens a new one.

        With `close_after`, the fake closes those sockets itself after that many seconds, as Slack
        does after its warning, whether or not the client moved.
        """
        targets = list(self.connections)
        for ws in targets:
            await ws.send_json({"type": "disconnect", "reason": reason,
                                "debug_info": {"host": "applink-fake"}})
        if close_after is not None:
            task = asyncio.ensure_future(self._close_later(targets, close_after))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return len(targets)

    async def _close_later(self, targets: list[web.WebSocketResponse], delay: float) -> None:
        await asyncio.sleep(delay)
        for ws in targets:
            if not ws.closed:
                await ws.close(code=aiohttp.WSCloseCode.GOING_AWAY)

    async def drop_connections(self) -> None:
        """Close every socket without a disconnect message, like a network cut."""
        for ws in list(self.connections):
            await ws.close(code=aiohttp.WSCloseCode.GOING_AWAY)

    # delivering -------------------------------------------------------------------------------
    def deliver(self, kind: Kind, payload: dict[str, Any]) -> Delivery:
        if self.mode == "http" and not self.events_url:
            raise RuntimeError("HTTP delivery needs events_url (FakeSlack.use_http(url))")
        d = Delivery(kind, payload, ack_timeout=self.ack_timeout)
        self.deliveries.append(d)
        drive = self._drive_socket if self.mode == "socket" else self._drive_http
        task = asyncio.ensure_future(drive(d))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return d

    def _retries_left(self, d: Delivery) -> bool:
        # Slack retries only Events API deliveries; a late slash-command ack is just an error to the user
        return d.kind == "events_api" and len(d.attempts) <= len(self.retry_delays)

    async def _drive_socket(self, d: Delivery) -> None:
        try:
            while True:
                await self._connected.wait()
                attempt = Attempt(retry_num=len(d.attempts), sent_at=0.0, envelope_id=str(uuid.uuid4()))
                envelope: dict[str, Any] = {
                    "envelope_id": attempt.envelope_id, "type": d.kind, "payload": d.payload,
                    "accepts_response_payload": d.kind == "slash_commands",
                }
                if d.kind == "events_api":
                    envelope["retry_attempt"] = attempt.retry_num
                    envelope["retry_reason"] = "timeout" if attempt.retry_num else ""
                assert attempt.envelope_id is not None
                self._waiting[attempt.envelope_id] = attempt
                self._all_attempts[attempt.envelope_id] = attempt
                d.attempts.append(attempt)
                attempt.sent_at = time.monotonic()
                # a socket that just went away loses the envelope; the missing ack triggers the retry
                with contextlib.suppress(ConnectionError, IndexError, RuntimeError):
                    await self.connections[-1].send_json(envelope)
                if await self._ack_within(attempt):
                    return
                if not self._retries_left(d):
                    return
                await asyncio.sleep(self.retry_delays[attempt.retry_num])
        finally:
            d.settled.set()
            self._on_change()

    async def _ack_within(self, attempt: Attempt) -> bool:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(attempt.done.wait(), self.ack_timeout)
        if attempt.acked_at is None:
            attempt.timed_out = True
            if attempt.envelope_id:
                self._waiting.pop(attempt.envelope_id, None)
            self._on_change()
            return False
        return True

    def encode(self, kind: Kind, payload: dict[str, Any]) -> tuple[bytes, str]:
        if kind == "events_api":
            return json.dumps(payload).encode(), "application/json"
        if kind == "slash_commands":
            return urlencode({k: str(v) for k, v in payload.items()}).encode(), \
                "application/x-www-form-urlencoded"
        return urlencode({"payload": json.dumps(payload)}).encode(), "application/x-www-form-urlencoded"

    def signed_headers(self, body: bytes, signature: Signature | None = None) -> dict[str, str]:
        mode = signature or self.signature
        ts = int(time.time()) - (600 if mode == "stale" else 0)
        secret = self.signing_secret if mode != "bad" else self.signing_secret + "-wrong"
        return {"X-Slack-Request-Timestamp": str(ts), "X-Slack-Signature": sign(secret, body, ts)}

    async def post(self, body: bytes, content_type: str, headers: dict[str, str],
                   attempt: Attempt) -> str | None:
        """POST once to the events URL; returns a retry reason, or None when the app answered 2xx."""
        if self._session is None:
            self._session = aiohttp.ClientSession()
        assert self.events_url is not None, "HTTP mode needs events_url"
        attempt.sent_at = time.monotonic()
        try:
            async with self._session.post(self.events_url, data=body,
                                          headers={**headers, "Content-Type": content_type},
                                          timeout=aiohttp.ClientTimeout(total=self.ack_timeout)) as resp:
                attempt.status = resp.status
                text = await resp.text()
                no_retries = resp.headers.get("X-Slack-No-Retries") == "1"
        except TimeoutError:
            attempt.timed_out = True
            return "http_timeout"
        except aiohttp.ClientError:
            return "connection_failed"
        if 200 <= resp.status < 300:
            attempt.acked_at = time.monotonic()
            # plain text counts as {"text": ...}, as Slack (and bolt's socket-mode glue) treat it
            try:
                attempt.response = json.loads(text) if text else None
            except ValueError:
                attempt.response = {"text": text}
            self.acks.append(attempt)
            return None
        return "no_retries" if no_retries else "http_error"

    async def _drive_http(self, d: Delivery) -> None:
        try:
            reason = ""
            while True:
                attempt = Attempt(retry_num=len(d.attempts), sent_at=time.monotonic())
                d.attempts.append(attempt)
                body, ctype = self.encode(d.kind, d.payload)
                headers = self.signed_headers(body)
                if attempt.retry_num:
                    headers |= {"X-Slack-Retry-Num": str(attempt.retry_num), "X-Slack-Retry-Reason": reason}
                reason = await self.post(body, ctype, headers, attempt) or ""
                self._on_change()
                if not reason or reason == "no_retries" or not self._retries_left(d):
                    return
                await asyncio.sleep(self.retry_delays[attempt.retry_num])
        finally:
            d.settled.set()
            self._on_change()
