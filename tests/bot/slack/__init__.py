"""End-to-end tests of the Slack front end: the real daemon, slack-bolt and slack_sdk against
FakeSlack and FakeDify on loopback. Shared helpers live here."""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from bot.config import Config
from bot.daemon import Daemon
from tests.fakes.dify import FakeDify
from tests.fakes.slack import FakeSlack, FileObj, Message
from tests.support import make_config, running_daemon, sheet_bytes


@dataclass
class Desk:
    """One test's world: the fakes, the config, the running daemon."""

    slack: FakeSlack
    dify: FakeDify
    config: Config
    daemon: Daemon


def sheet(n: int, *, prefix: str = "text") -> bytes:
    return sheet_bytes(["Text"], [[f"{prefix} {i}"] for i in range(1, n + 1)])


@asynccontextmanager
async def fakes(latency_s: float = 0.02, script: Any = None, **slack_options: Any
                ) -> AsyncIterator[tuple[FakeSlack, FakeDify]]:
    async with FakeDify.running(latency_s=latency_s, script=script) as dify, \
            FakeSlack.running(**slack_options) as slack:
        yield slack, dify


@asynccontextmanager
async def daemon_on(slack: FakeSlack, dify: FakeDify, tmp_path: Path, **config: Any) -> AsyncIterator[Desk]:
    cfg = config.pop("config", None) or make_config(tmp_path, dify=dify, slack=slack, **config)
    connections = slack.connection_count
    async with running_daemon(cfg) as daemon:
        if cfg.slack.mode == "socket":
            await slack.wait_connected(connections + 1)
        yield Desk(slack, dify, cfg, daemon)


@asynccontextmanager
async def slack_desk(tmp_path: Path, *, latency_s: float = 0.02, script: Any = None, **config: Any
                     ) -> AsyncIterator[Desk]:
    async with fakes(latency_s, script) as (slack, dify), daemon_on(slack, dify, tmp_path, **config) as desk:
        yield desk


def batch_id(message: Message) -> str:
    found = re.search(r"batch ([0-9a-f]{6})", message.text)
    assert found, message.text
    return found.group(1)


def done_of(message: Message) -> int:
    """Rows done according to a progress text ("12/30 rows")."""
    found = re.search(r"(\d+)/\d+ rows", message.text)
    return int(found.group(1)) if found else -1


async def progress_of(slack: FakeSlack, channel: str, thread_ts: str) -> Message:
    """The batch's progress message in the upload's thread, once it is there."""
    return await slack.wait_for(lambda: find(slack, channel, "· batch", thread_ts))


async def say(slack: FakeSlack, user: str, channel: str, text: str, needle: str, *,
              timeout: float = 5.0) -> Message:
    """Run ``/difybatch <text>`` and wait for the bot's answer containing ``needle``."""
    before = {m.ts for m in slack.messages(channel)}
    d = await slack.slash_command(user, channel, text)
    assert d.acked and d.ack_seconds is not None and d.ack_seconds < 3.0
    return await slack.wait_for(lambda: next(
        (m for m in slack.messages(channel) if m.ts not in before and needle in m.text), None), timeout)


def bot_replies(slack: FakeSlack, channel: str, thread_ts: str | None = None) -> list[Message]:
    """The bot's text messages (no file shares) in a channel or one thread."""
    return [m for m in slack.messages(channel, thread_ts=thread_ts) if not m.files]


def find(slack: FakeSlack, channel: str, needle: str, thread_ts: str | None = None) -> Message | None:
    """The bot's first message (or file comment) containing ``needle``."""
    return next((m for m in slack.messages(channel, thread_ts=thread_ts) if needle in m.text), None)


def ephemeral(slack: FakeSlack, channel: str, user: str, needle: str) -> Message | None:
    return next((m for m in slack.ephemerals(channel, user) if needle in m.text), None)


def button_ids(message: Message) -> list[str]:
    return [str(b["action_id"]) for b in message.buttons()]


def results_rows(f: FileObj) -> list[dict[str, Any]]:
    """The first sheet of an uploaded results workbook as dicts by header."""
    assert f.data is not None
    book = load_workbook(io.BytesIO(f.data), read_only=True)
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    book.close()
    header = [str(h) for h in rows[0]]
    return [dict(zip(header, r, strict=False)) for r in rows[1:]]


def header_of(f: FileObj) -> list[str]:
    assert f.data is not None
    book = load_workbook(io.BytesIO(f.data), read_only=True)
    first = next(book.worksheets[0].iter_rows(values_only=True))
    book.close()
    return [str(h) for h in first]


def files_named(slack: FakeSlack, channel: str, part: str) -> Sequence[FileObj]:
    return [f for f in slack.uploaded_files(channel) if part in f.name]
