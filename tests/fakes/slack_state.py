"""FakeSlack's workspace state: people, conversations, messages, files, calls and faults."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")

MIMETYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "xls": "application/vnd.ms-excel",
    "csv": "text/csv",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "txt": "text/plain",
    "pdf": "application/pdf",
    "png": "image/png",
    "json": "application/json",
}

SIGN_IN_PAGE = (
    "<!DOCTYPE html><html><head><title>Slack</title></head><body>"
    "<h1>Sign in to Fake Workspace</h1><form action='/signin'>"
    "<input name='email'></form></body></html>"
)


@dataclass
class User:
    id: str
    name: str
    is_bot: bool = False
    locale: str = "en-US"
    """The language the person set in Slack; users.info tells it only with include_locale."""


@dataclass
class Channel:
    id: str
    name: str
    kind: str  # "channel" (C…), "group" (private G…) or "im" (D…)
    members: set[str] = field(default_factory=set)

    @property
    def channel_type(self) -> str:
        return self.kind


@dataclass
class FileObj:
    id: str
    name: str
    title: str
    filetype: str
    user: str
    data: bytes | None = None  # None until the upload step delivered the bytes
    declared_length: int | None = None
    channels: list[str] = field(default_factory=list)
    thread_ts: str | None = None
    initial_comment: str | None = None
    completed: bool = False  # files.completeUploadExternal (or a person's share) finished it
    created: int = field(default_factory=lambda: int(time.time()))

    @property
    def mimetype(self) -> str:
        return MIMETYPES.get(self.filetype, "application/octet-stream")


@dataclass
class Message:
    channel: str
    ts: str
    user: str
    text: str
    blocks: list[dict[str, Any]] | None = None
    thread_ts: str | None = None
    is_bot: bool = False
    files: list[str] = field(default_factory=list)
    ephemeral_to: str | None = None
    source: str = "chat.postMessage"  # or "person", "slash", "ack", "response_url", "upload"
    update_times: list[float] = field(default_factory=list)  # time.monotonic() of each chat.update
    deleted: bool = False

    @property
    def update_count(self) -> int:
        return len(self.update_times)

    def buttons(self) -> list[dict[str, Any]]:
        """Every button element in the message's blocks, with its block_id attached."""
        found: list[dict[str, Any]] = []
        for block in self.blocks or []:
            elements = block.get("elements", []) if block.get("type") == "actions" else []
            accessory = block.get("accessory")
            if isinstance(accessory, dict):
                elements = [*elements, accessory]
            for el in elements:
                if isinstance(el, dict) and el.get("type") == "button":
                    found.append({**el, "block_id": block.get("block_id", "")})
        return found

    def to_api(self, bot_id: str, team_id: str) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "message", "user": self.user, "text": self.text, "ts": self.ts,
                               "team": team_id}
        if self.blocks is not None:
            out["blocks"] = self.blocks
        if self.thread_ts:
            out["thread_ts"] = self.thread_ts
        if self.is_bot:
            out["bot_id"] = bot_id
            out["app_id"] = "A0FAKEAPP"
        return out


@dataclass
class ApiCall:
    method: str
    args: dict[str, Any]
    token: str | None
    at: float  # time.monotonic()
    status: int = 200
    error: str | None = None


@dataclass
class Fault:
    """One scripted misbehaviour of a Web API method (or of "upload")."""

    error: str | None = None
    status: int = 200
    retry_after: int | None = None
    delay: float = 0.0


@dataclass
class Flood:
    """Answer 429 to every matching call for `calls` calls or until `until` (monotonic)."""

    method: str
    retry_after: int
    calls: int | None = None
    until: float | None = None

    def active(self, now: float) -> bool:
        if self.calls is not None and self.calls <= 0:
            return False
        return not (self.until is not None and now >= self.until)


class World:
    """Everything the fake Slack knows; the Web API, delivery and person side share it."""

    def __init__(self, *, team_id: str, bot_user_id: str, bot_id: str, bot_name: str) -> None:
        self.team_id = team_id
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.users: dict[str, User] = {bot_user_id: User(bot_user_id, bot_name, is_bot=True)}
        self.locale_lookups = 0
        """users.info calls, to show a person's language is looked up once, not per message."""
        self.channels: dict[str, Channel] = {}
        self.messages: list[Message] = []
        self.by_ts: dict[str, Message] = {}
        self.files: dict[str, FileObj] = {}
        self.calls_log: list[ApiCall] = []
        self.faults: dict[str, deque[Fault]] = {}
        self.floods: list[Flood] = []
        self.commands: list[tuple[str, str, str]] = []  # (channel, user, "/cmd text")
        self._counters: dict[str, int] = {}
        self._last_ts = 0.0
        self._changed = asyncio.Event()

    # ids and time ---------------------------------------------------------------------------
    def new_id(self, prefix: str) -> str:
        n = self._counters.get(prefix, 0) + 1
        self._counters[prefix] = n
        return f"{prefix}{n:08d}"

    def new_ts(self) -> str:
        # Slack ts are unique, strictly increasing per channel and sort as strings
        now = max(time.time(), self._last_ts + 0.000001)
        self._last_ts = now
        return f"{now:.6f}"

    # change notification --------------------------------------------------------------------
    def touch(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_for(
        self, predicate: Callable[[], T], timeout: float, describe: Callable[[], str]
    ) -> T:
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"condition not met within {timeout}s\n{describe()}")
            # wake on any state change, and poll anyway for time-based predicates
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), min(left, 0.05))

    # people and conversations -----------------------------------------------------------------
    def user(self, name_or_id: str, *, locale: str | None = None) -> User:
        found = self.users.get(name_or_id)
        name = name_or_id.lstrip("@")
        found = found or next((u for u in self.users.values() if u.name == name), None)
        if found is None:
            found = User(self.new_id("U"), name)
            self.users[found.id] = found
        if locale is not None:
            found.locale = locale
        return found

    def channel(self, name_or_id: str, *, private: bool = False, bot_member: bool = True) -> Channel:
        if name_or_id in self.channels:
            return self.channels[name_or_id]
        name = name_or_id.lstrip("#")
        for c in self.channels.values():
            if c.name == name and c.kind != "im":
                return c
        kind = "group" if private else "channel"
        c = Channel(self.new_id("G" if private else "C"), name, kind)
        if bot_member:
            c.members.add(self.bot_user_id)
        self.channels[c.id] = c
        self.touch()
        return c

    def dm(self, user_id: str) -> Channel:
        for c in self.channels.values():
            if c.kind == "im" and c.members == {user_id, self.bot_user_id}:
                return c
        c = Channel(self.new_id("D"), f"dm-{self.users[user_id].name}", "im", {user_id, self.bot_user_id})
        self.channels[c.id] = c
        self.touch()
        return c

    def find_channel(self, ref: str) -> Channel | None:
        """Resolve what a Web API caller passed as `channel` (id, #name, or a user id for a DM)."""
        if ref in self.channels:
            return self.channels[ref]
        if ref in self.users and not self.users[ref].is_bot:
            return self.dm(ref)
        name = ref.lstrip("#")
        return next((c for c in self.channels.values() if c.name == name and c.kind != "im"), None)

    # messages and files ---------------------------------------------------------------------
    def add_message(self, msg: Message) -> Message:
        self.messages.append(msg)
        self.by_ts[msg.ts] = msg
        self.touch()
        return msg

    def file_object(self, f: FileObj, base_url: str) -> dict[str, Any]:
        private = f"{base_url}/files-pri/{self.team_id}-{f.id}/{f.name}"
        return {
            "id": f.id,
            "created": f.created,
            "timestamp": f.created,
            "name": f.name,
            "title": f.title,
            "mimetype": f.mimetype,
            "filetype": f.filetype,
            "pretty_type": f.filetype.upper(),
            "user": f.user,
            "user_team": self.team_id,
            "mode": "hosted",
            "editable": False,
            "is_external": False,
            "is_public": any(self.channels[c].kind == "channel" for c in f.channels if c in self.channels),
            "size": len(f.data) if f.data is not None else 0,
            "url_private": private,
            "url_private_download": f"{base_url}/files-pri/{self.team_id}-{f.id}/download/{f.name}",
            "permalink": f"{base_url}/files/{f.user}/{f.id}/{f.name}",
            "channels": [c for c in f.channels if c.startswith("C")],
            "groups": [c for c in f.channels if c.startswith("G")],
            "ims": [c for c in f.channels if c.startswith("D")],
            "file_access": "visible",
        }

    def describe(self, channel: str | None = None) -> str:
        chans = [channel] if channel else list(self.channels)
        lines: list[str] = []
        for cid in chans:
            lines.append(f"--- {cid} ---")
            lines.extend(self.transcript(cid)[-30:])
        return "\n".join(lines)

    def transcript(self, channel: str) -> list[str]:
        out: list[str] = []
        for m in self.messages:
            if m.channel != channel:
                continue
            who = self.users[m.user].name if m.user in self.users else m.user
            parts = [m.ts]
            if m.thread_ts and m.thread_ts != m.ts:
                parts.append(f"[thread {m.thread_ts}]")
            if m.ephemeral_to:
                parts.append(f"(only {self.users[m.ephemeral_to].name})")
            line = f"{' '.join(parts)} {who}: {m.text}"
            for fid in m.files:
                line += f" [file {self.files[fid].name}]"
            labels = [_plain(b.get("text")) for b in m.buttons()]
            if labels:
                line += " [buttons: " + ", ".join(labels) + "]"
            if m.update_count:
                line += f" (edited x{m.update_count})"
            if m.deleted:
                line += " (deleted)"
            out.append(line)
        return out


def _plain(text: Any) -> str:
    if isinstance(text, dict):
        return str(text.get("text", ""))
    return str(text or "")
