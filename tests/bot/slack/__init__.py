"""End-to-end tests of the Slack front end: the real daemon, slack-bolt and slack_sdk against
FakeSlack and FakeDify on loopback. Shared helpers live here."""

from __future__ import annotations

import io
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
async def fakes(latency_s: float = 0.02, **slack_options: Any) -> AsyncIterator[tuple[FakeSlack, FakeDify]]:
    async with FakeDify.running(latency_s=latency_s) as dify, FakeSlack.running(**slack_options) as slack:
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
async def slack_desk(tmp_path: Path, *, latency_s: float = 0.02, **config: Any) -> AsyncIterator[Desk]:
    async with fakes(latency_s) as (slack, dify), daemon_on(slack, dify, tmp_path, **config) as desk:
        yield desk


def bot_replies(slack: FakeSlack, channel: str, thread_ts: str | None = None) -> list[Message]:
    """The bot's text messages (no file shares) in a channel or one thread."""
    return [m for m in slack.messages(channel, thread_ts=thread_ts) if not m.files]


def find(slack: FakeSlack, channel: str, needle: str, thread_ts: str | None = None) -> Message | None:
    return next((m for m in bot_replies(slack, channel, thread_ts) if needle in m.text), None)


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


def files_named(slack: FakeSlack, channel: str, part: str) -> Sequence[FileObj]:
    return [f for f in slack.uploaded_files(channel) if part in f.name]
