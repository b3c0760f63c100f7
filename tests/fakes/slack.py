"""FakeSlack: a loopback Slack (Web API, Socket Mode, signed HTTP events) with a person side for tests."""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from aiohttp import web

from tests.fakes.slack_delivery import Attempt, Deliverer, Delivery, Signature
from tests.fakes.slack_state import ApiCall, Fault, FileObj, Flood, Message, User, World
from tests.fakes.slack_webapi import WebApi

__all__ = ["ApiCall", "Attempt", "Delivery", "FakeSlack", "FileObj", "Message", "Posted"]

T = TypeVar("T")
_MENTION = re.compile(r"@bot\b")


@dataclass
class Posted:
    """What a person's post created: the message (ts, channel) and the events Slack sent for it."""

    message: Message
    deliveries: list[Delivery] = field(default_factory=list)
    file_id: str | None = None

    @property
    def ts(self) -> str:
        return self.message.ts

    @property
    def channel(self) -> str:
        return self.message.channel


class FakeSlack:
    """One aiohttp app on 127.0.0.1:0 that slack_sdk and slack-bolt talk to for real.

    async with FakeSlack.running() as slack:
        app = AsyncApp(client=AsyncWebClient(token=slack.bot_token, base_url=slack.api_base))
        handler = AsyncSocketModeHandler(app, slack.app_token)
        await handler.connect_async()
        d = await slack.slash_command("alice", "general", "run summarize")   # waits for the ack
        await slack.wait_for(lambda: slack.messages("general"))
        await handler.close_async()
    """

    def __init__(self, *, mode: Literal["socket", "http"] = "socket", events_url: str | None = None,
                 ack_timeout: float = 3.0, retry_delays: tuple[float, ...] = (0.0, 0.0, 0.0),
                 echo_bot_messages: bool = True, file_shared_events: bool = True, share_delay: float = 0.0,
                 bot_token: str = "xoxb-1111-2222-fakebottoken", app_token: str = "xapp-1-A0FAKEAPP-1-fake",
                 signing_secret: str = "fake-signing-secret", team_id: str = "T0FAKETEAM",
                 bot_user_id: str = "U0FAKEBOT", bot_id: str = "B0FAKEBOT", bot_name: str = "difybatch",
                 app_id: str = "A0FAKEAPP") -> None:
        self.bot_token, self.app_token, self.signing_secret = bot_token, app_token, signing_secret
        self.team_id, self.bot_user_id, self.bot_id, self.app_id = team_id, bot_user_id, bot_id, app_id
        self.verification_token = "fake-verification-token"
        self.echo_bot_messages = echo_bot_messages
        self.file_shared_events = file_shared_events
        self.world = World(team_id=team_id, bot_user_id=bot_user_id, bot_id=bot_id, bot_name=bot_name)
        self.world.users["USLACKBOT"] = User("USLACKBOT", "slackbot", is_bot=True)
        self.delivery = Deliverer(app_id=app_id, signing_secret=signing_secret, on_change=self.world.touch)
        self.delivery.mode, self.delivery.events_url = mode, events_url
        self.delivery.ack_timeout, self.delivery.retry_delays = ack_timeout, retry_delays
        self.api = WebApi(self.world, bot_token=bot_token, app_token=app_token, app_id=app_id,
                          new_ws_url=self.delivery.new_ws_url, on_bot_message=self._echo,
                          on_file_shared=self._file_shared, share_delay=share_delay)
        self.base_url = ""
        self._runner: web.AppRunner | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    # lifecycle ------------------------------------------------------------------------------
    @classmethod
    @contextlib.asynccontextmanager
    async def running(cls, **kwargs: Any) -> AsyncIterator[FakeSlack]:
        slack = cls(**kwargs)
        await slack.start()
        try:
            yield slack
        finally:
            await slack.stop()

    async def start(self) -> None:
        app = web.Application()
        self.api.add_routes(app)
        self.delivery.add_routes(app)
        self._runner = web.AppRunner(app, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}"
        self.api.base_url = self.delivery.base_url = self.base_url

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.api.close()
        await self.delivery.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def api_base(self) -> str:
        """Pass as AsyncWebClient(base_url=...)."""
        return f"{self.base_url}/api/"

    # configuration ----------------------------------------------------------------------------
    def use_socket_mode(self) -> None:
        self.delivery.mode = "socket"

    def use_http(self, events_url: str) -> None:
        self.delivery.mode, self.delivery.events_url = "http", events_url

    @property
    def ack_timeout(self) -> float:
        return self.delivery.ack_timeout

    @ack_timeout.setter
    def ack_timeout(self, seconds: float) -> None:
        self.delivery.ack_timeout = seconds

    @property
    def signature(self) -> Signature:
        """How HTTP deliveries are signed: "good", "bad" (wrong secret) or "stale" (10 minutes old)."""
        return self.delivery.signature

    @signature.setter
    def signature(self, value: Signature) -> None:
        self.delivery.signature = value

    def user(self, name: str, *, locale: str | None = None) -> str:
        """The id of the person called `name` (created on first use); ids pass through.
        ``locale`` sets the language their Slack is in (``zh-CN``; default ``en-US``)."""
        return self.world.user(name, locale=locale).id

    def channel(self, name: str, *, private: bool = False, bot_member: bool = True,
                members: tuple[str, ...] = ()) -> str:
        chan = self.world.channel(name, private=private, bot_member=bot_member)
        chan.members.update(self.user(m) for m in members)
        return chan.id

    def dm(self, user: str) -> str:
        """The id of the bot's direct-message conversation with `user`."""
        return self.world.dm(self.user(user)).id

    # faults -----------------------------------------------------------------------------------
    def fail(self, method: str, error: str, *, times: int = 1, status: int = 200, delay: float = 0.0) -> None:
        """The next `times` calls of `method` ("*" = any) answer `{"ok": false, "error": error}`."""
        self._queue(method, Fault(error=error, status=status, delay=delay), times)

    def rate_limit(self, method: str, *, retry_after: int = 1, times: int = 1) -> None:
        self._queue(method, Fault(error="ratelimited", status=429, retry_after=retry_after), times)

    def slow(self, method: str, seconds: float, *, times: int = 1) -> None:
        """Delay the next `times` calls, which then succeed."""
        self._queue(method, Fault(delay=seconds), times)

    def flood(self, method: str = "*", *, calls: int | None = None, seconds: float | None = None,
              retry_after: int = 1) -> None:
        """Answer 429 to every call of `method` for `calls` calls or for `seconds`."""
        until = time.monotonic() + seconds if seconds is not None else None
        self.world.floods.append(Flood(method, retry_after, calls=calls, until=until))

    def clear_faults(self) -> None:
        self.world.faults.clear()
        self.world.floods.clear()

    def _queue(self, method: str, fault: Fault, times: int) -> None:
        self.world.faults.setdefault(method, deque()).extend([fault] * times)

    # socket control ---------------------------------------------------------------------------
    async def request_reconnect(self, reason: str = "refresh_requested",
                                close_after: float | None = None) -> int:
        """Send {"type": "disconnect"} to each connection (closed after `close_after` s); returns how many."""
        return await self.delivery.send_disconnect(reason, close_after)

    async def drop_connections(self) -> None:
        await self.delivery.drop_connections()

    @property
    def connection_count(self) -> int:
        """How many Socket Mode connections were ever opened."""
        return self.delivery.connection_count

    @property
    def open_connections(self) -> int:
        return len(self.delivery.connections)

    async def wait_connected(self, count: int = 1, timeout: float = 5.0) -> None:
        """Wait until `count` connections have been opened in total and one is live."""
        await self.wait_for(lambda: self.connection_count >= count and self.open_connections > 0, timeout)

    # person side ------------------------------------------------------------------------------
    async def slash_command(self, user: str, channel: str, text: str, command: str = "/difybatch",
                            *, wait: bool = True) -> Delivery:
        """Run a slash command; the Delivery shows ack time and the ack's response payload."""
        u, chan = self.world.user(user), self.world.channel(channel)
        w = self.world
        w.add_message(Message(chan.id, w.new_ts(), u.id, f"{command} {text}".rstrip(), ephemeral_to=u.id,
                              source="slash"))
        payload = {
            "token": self.verification_token, "team_id": self.team_id, "team_domain": "fake-workspace",
            "channel_id": chan.id, "channel_name": "directmessage" if chan.kind == "im" else chan.name,
            "user_id": u.id, "user_name": u.name, "command": command, "text": text,
            "api_app_id": self.app_id, "is_enterprise_install": "false",
            "response_url": self._response_url(chan.id, u.id, None), "trigger_id": self._trigger_id(),
        }
        d = self.delivery.deliver("slash_commands", payload)
        self._spawn(self._after_slash_ack(d, chan.id, u.id, command))
        return await self._maybe_wait(d, wait)

    async def post_message(self, user: str, channel: str, text: str, thread_ts: str | None = None,
                           *, wait: bool = True) -> Posted:
        """A person posts `text`; "@bot" becomes a mention of the bot (and an app_mention event)."""
        u, chan = self.world.user(user), self.world.channel(channel)
        chan.members.add(u.id)
        text = _MENTION.sub(f"<@{self.bot_user_id}>", text)
        msg = self.world.add_message(Message(chan.id, self.world.new_ts(), u.id, text, thread_ts=thread_ts,
                                             source="person"))
        posted = Posted(msg, self._message_events(msg, {}))
        if wait:
            await asyncio.gather(*(self._maybe_wait(d, True) for d in posted.deliveries))
        return posted

    async def upload_file(self, user: str, channel: str, data: bytes, filename: str, text: str = "",
                          filetype: str | None = None, thread_ts: str | None = None,
                          *, wait: bool = True) -> Posted:
        """A person shares a file: a `message` event with subtype file_share (and a file_shared event)."""
        u, chan = self.world.user(user), self.world.channel(channel)
        chan.members.add(u.id)
        w = self.world
        ftype = filetype or (filename.rsplit(".", 1)[-1].lower() if "." in filename else "binary")
        f = FileObj(w.new_id("F"), filename, filename, ftype, u.id, data=data, channels=[chan.id],
                    thread_ts=thread_ts, initial_comment=text or None, completed=True)
        w.files[f.id] = f
        msg = w.add_message(Message(chan.id, w.new_ts(), u.id, _MENTION.sub(f"<@{self.bot_user_id}>", text),
                                    thread_ts=thread_ts, files=[f.id], source="person"))
        extra = {"subtype": "file_share", "upload": True, "display_as_bot": False,
                 "files": [w.file_object(f, self.base_url)]}
        posted = Posted(msg, self._message_events(msg, extra), file_id=f.id)
        if self.file_shared_events:
            posted.deliveries.append(self._event({
                "type": "file_shared", "channel_id": chan.id, "file_id": f.id, "user_id": u.id,
                "file": {"id": f.id}, "event_ts": msg.ts}))
        if wait:
            await asyncio.gather(*(self._maybe_wait(d, True) for d in posted.deliveries))
        return posted

    async def click_button(self, user: str, channel: str, message_ts: str, action_id: str,
                           value: str | None = None, *, wait: bool = True) -> Delivery:
        """Press a button that is on the bot's message (AssertionError if the message has no such button)."""
        u, chan = self.world.user(user), self.world.channel(channel)
        msg = self.world.by_ts.get(message_ts)
        assert msg is not None, f"no message {message_ts}"
        assert msg.channel == chan.id, f"message {message_ts} is in {msg.channel}, not {chan.id}"
        assert not msg.deleted, f"message {message_ts} was deleted"
        button = next((b for b in msg.buttons() if b.get("action_id") == action_id), None)
        assert button is not None, f"message {message_ts} has no button {action_id!r}: {msg.buttons()}"
        container: dict[str, Any] = {"type": "message", "message_ts": msg.ts, "channel_id": chan.id,
                                     "is_ephemeral": msg.ephemeral_to is not None}
        if msg.thread_ts:
            container["thread_ts"] = msg.thread_ts
        payload: dict[str, Any] = {
            "type": "block_actions", "api_app_id": self.app_id, "token": self.verification_token,
            "user": {"id": u.id, "username": u.name, "name": u.name, "team_id": self.team_id},
            "container": container, "trigger_id": self._trigger_id(),
            "team": {"id": self.team_id, "domain": "fake-workspace"}, "enterprise": None,
            "is_enterprise_install": False, "channel": {"id": chan.id, "name": chan.name},
            "state": {"values": {}}, "response_url": self._response_url(chan.id, u.id, msg.ts),
            "actions": [{"action_id": action_id, "block_id": button["block_id"], "text": button.get("text"),
                         "value": button.get("value") if value is None else value, "type": "button",
                         "action_ts": f"{time.time():.6f}"}],
        }
        if msg.ephemeral_to is None:
            payload["message"] = msg.to_api(self.bot_id, self.team_id)
        return await self._maybe_wait(self.delivery.deliver("interactive", payload), wait)

    async def url_verification(self) -> bool:
        """HTTP mode: send Slack's url_verification; True when the app echoed the challenge."""
        challenge = uuid.uuid4().hex
        body, ctype = self.delivery.encode("events_api", {
            "token": self.verification_token, "challenge": challenge, "type": "url_verification"})
        attempt = Attempt(retry_num=0, sent_at=time.monotonic())
        await self.delivery.post(body, ctype, self.delivery.signed_headers(body), attempt)
        resp = attempt.response
        return isinstance(resp, dict) and challenge in (resp.get("challenge"), resp.get("text"))

    async def send_event(self, event: dict[str, Any], *, wait: bool = True) -> Delivery:
        """Deliver any Events API `event` (wrapped in an event_callback)."""
        return await self._maybe_wait(self._event(event), wait)

    # reading ----------------------------------------------------------------------------------
    def transcript(self, channel: str) -> list[str]:
        return self.world.transcript(self.world.channel(channel).id)

    def messages(self, channel: str, *, thread_ts: str | None = None) -> list[Message]:
        """The bot's live, non-ephemeral messages in `channel` (optionally one thread), oldest first."""
        cid = self.world.channel(channel).id
        return [m for m in self.world.messages
                if m.channel == cid and m.is_bot and not m.ephemeral_to and not m.deleted
                and (thread_ts is None or m.thread_ts == thread_ts)]

    def ephemerals(self, channel: str, user: str | None = None) -> list[Message]:
        cid = self.world.channel(channel).id
        uid = self.user(user) if user else None
        return [m for m in self.world.messages if m.channel == cid and m.is_bot and m.ephemeral_to
                and (uid is None or m.ephemeral_to == uid)]

    def message(self, ts: str) -> Message:
        return self.world.by_ts[ts]

    def update_count(self, ts: str) -> int:
        return self.world.by_ts[ts].update_count

    def update_times(self, ts: str) -> list[float]:
        """time.monotonic() of each chat.update of the message."""
        return list(self.world.by_ts[ts].update_times)

    def uploaded_files(self, channel: str | None = None) -> list[FileObj]:
        """Files the bot uploaded (bytes in `.data`), shared in `channel` or anywhere."""
        cid = self.world.channel(channel).id if channel else None
        return [f for f in self.world.files.values()
                if f.user == self.bot_user_id and f.completed and (cid is None or cid in f.channels)]

    def calls(self, method: str | None = None) -> list[ApiCall]:
        return [c for c in self.world.calls_log if method is None or c.method == method]

    @property
    def acks(self) -> list[Attempt]:
        return list(self.delivery.acks)

    @property
    def deliveries(self) -> list[Delivery]:
        return list(self.delivery.deliveries)

    async def wait_for(self, predicate: Callable[[], T], timeout: float = 5.0) -> T:
        """Wait until predicate() is truthy and return its value; TimeoutError shows the transcripts."""
        return await self.world.wait_for(predicate, timeout, self.world.describe)

    # internals --------------------------------------------------------------------------------
    def _spawn(self, coro: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _maybe_wait(self, d: Delivery, wait: bool) -> Delivery:
        if wait:
            retries = len(self.delivery.retry_delays) + 1
            await d.wait(timeout=retries * (self.ack_timeout + 5) + sum(self.delivery.retry_delays))
        return d

    def _trigger_id(self) -> str:
        return f"{int(time.time())}.{uuid.uuid4().int % 10**12}.{uuid.uuid4().hex[:16]}"

    def _response_url(self, channel: str, user: str, message_ts: str | None) -> str:
        rid = uuid.uuid4().hex
        self.api.responses[rid] = {"channel": channel, "user": user, "message_ts": message_ts,
                                   "uses": 0, "posts": []}
        return f"{self.base_url}/response/{rid}"

    async def _after_slash_ack(self, d: Delivery, channel: str, user: str, command: str) -> None:
        await d.settled.wait()
        if isinstance(d.response, dict):
            self.api.apply_response({"channel": channel, "user": user}, d.response, source="ack")
        elif not d.acked:
            w = self.world
            w.add_message(Message(channel, w.new_ts(), "USLACKBOT",
                                  f'{command} failed with the error "operation_timeout"', ephemeral_to=user,
                                  source="slash"))

    def _event(self, event: dict[str, Any]) -> Delivery:
        return self.delivery.deliver("events_api", {
            "token": self.verification_token, "team_id": self.team_id, "api_app_id": self.app_id,
            "event": event, "type": "event_callback", "event_id": f"Ev{uuid.uuid4().hex[:10].upper()}",
            "event_time": int(time.time()), "event_context": f"4-{uuid.uuid4().hex}",
            "authorizations": [{"enterprise_id": None, "team_id": self.team_id, "user_id": self.bot_user_id,
                                "is_bot": True, "is_enterprise_install": False}],
            "is_ext_shared_channel": False,
        })

    def _message_events(self, msg: Message, extra: dict[str, Any]) -> list[Delivery]:
        chan = self.world.channels[msg.channel]
        if self.bot_user_id not in chan.members:
            return []  # Slack only sends events from conversations the bot is in
        event: dict[str, Any] = {"type": "message", "text": msg.text, "user": msg.user, "ts": msg.ts,
                                 "team": self.team_id, "channel": chan.id, "event_ts": msg.ts,
                                 "channel_type": chan.kind, **extra}
        if not msg.is_bot:
            event["client_msg_id"] = str(uuid.uuid4())
        if msg.blocks is not None:
            event["blocks"] = msg.blocks
        if msg.thread_ts:
            event["thread_ts"] = msg.thread_ts
            parent = self.world.by_ts.get(msg.thread_ts)
            if parent is not None:
                event["parent_user_id"] = parent.user
        if msg.is_bot:
            event |= {"bot_id": self.bot_id, "app_id": self.app_id}
        out = [self._event(event)]
        if not msg.is_bot and chan.kind != "im" and f"<@{self.bot_user_id}>" in msg.text:
            mention = {k: v for k, v in event.items() if k not in ("channel_type", "subtype", "upload")}
            out.append(self._event({**mention, "type": "app_mention"}))
        return out

    def _echo(self, msg: Message) -> None:
        if self.echo_bot_messages:
            self._message_events(msg, {})

    def _file_shared(self, f: FileObj, msg: Message) -> None:
        if self.echo_bot_messages:
            self._message_events(msg, {"subtype": "file_share", "upload": False,
                                       "files": [self.world.file_object(f, self.base_url)]})
        if self.file_shared_events:
            self._event({"type": "file_shared", "channel_id": msg.channel, "file_id": f.id,
                         "user_id": f.user, "file": {"id": f.id}, "event_ts": msg.ts})
