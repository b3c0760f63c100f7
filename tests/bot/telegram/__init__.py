"""End-to-end tests of the Telegram front end: the real daemon, FakeTelegram and FakeDify.

Helpers live here so every test file reads as a chat transcript."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from bot.config import Config
from bot.daemon import Daemon
from tests.fakes.dify import FakeDify
from tests.fakes.telegram import FakeTelegram
from tests.fakes.telegram_model import FakeMessage, FakeUser
from tests.support import make_config, running_daemon, sheet_bytes

# shaped like a real token, so a leak is also caught by the generic credential scrubber's pattern
TOKEN = "7012345678:AAHfakeTokenForTestsOnly_abcdefghijk"


@dataclass
class World:
    tg: FakeTelegram
    dify: FakeDify
    config: Config
    daemon: Daemon

    async def results_of(self, user: FakeUser, timeout: float = 20.0) -> FakeMessage:
        return await self.results_of_in(user.id, timeout)

    async def results_of_in(self, chat_id: int, timeout: float = 20.0) -> FakeMessage:
        """The results workbook the bot sent into a chat (a person's private chat or a group)."""
        return await self.tg.wait_for_message(chat_id, "results of", document=True, timeout=timeout)

    async def progress_of(self, user: FakeUser, timeout: float = 10.0) -> FakeMessage:
        """The batch's one progress message (it carries the batch head line)."""
        return await self.tg.wait_for(
            lambda: next((m for m in self.tg.bot_messages(user.id)
                          if m.document is None and " · batch " in (m.text or "")), None),
            timeout,
        )


@asynccontextmanager
async def world(
    tmp_path: Path, *, dify: dict[str, Any] | None = None,
    adjust: Callable[[Config], Config] = lambda c: c, **config: Any,
) -> AsyncIterator[World]:
    """FakeTelegram + FakeDify + the real daemon, wired by config as in production."""
    async with FakeDify.running(**{"latency_s": 0.02, **(dify or {})}) as fake_dify, \
            FakeTelegram.running(TOKEN) as fake_tg:
        cfg = adjust(make_config(tmp_path, dify=fake_dify, telegram=fake_tg, **config))
        async with running_daemon(cfg) as daemon:
            yield World(fake_tg, fake_dify, cfg, daemon)


def batch_id_of(progress: FakeMessage) -> str:
    """The batch id from a progress message ("summarize · batch 7f3a2c")."""
    return (progress.text or "").split("batch ", 1)[1].split()[0]


def texts(n: int, prefix: str = "row") -> bytes:
    """A sheet for the default FakeDify form (one required "Text" column)."""
    return sheet_bytes(["Text"], [[f"{prefix} {i}"] for i in range(1, n + 1)])


def _sheet_rows(document: FakeMessage) -> list[tuple[Any, ...]]:
    assert document.document is not None
    book = load_workbook(io.BytesIO(document.document.data), read_only=True)
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    book.close()
    return rows


def result_rows_header(document: FakeMessage) -> list[str]:
    return [str(h) for h in _sheet_rows(document)[0]]


def result_rows(document: FakeMessage) -> list[dict[str, Any]]:
    """The data rows of a workbook sent by the bot, as header → value."""
    rows = _sheet_rows(document)
    header = [str(h) for h in rows[0]]
    return [dict(zip(header, row, strict=False)) for row in rows[1:]]
