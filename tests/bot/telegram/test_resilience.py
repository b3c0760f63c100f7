"""Telegram pushing back: 429 storms, 5xx answers, the edit budget per batch, secrets in logs."""

from __future__ import annotations

import asyncio
import itertools
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from bot.chat.progress import ProgressReporter
from bot.chat.surface import Keyboard
from bot.chat.text.renderer import MessageBook
from bot.telegram.surface import TelegramSurface
from engine.models import Batch, BatchStatus, ChatRef, Progress, Row
from tests.bot.telegram import TOKEN, World, result_rows, texts, world
from tests.fakes.dify import FakeDify
from tests.fakes.memory_store import InMemoryStore
from tests.fakes.telegram import FakeTelegram
from tests.fakes.telegram_model import FakeMessage, FakeUser, Params
from tests.support import make_config, running_daemon

RUN = "/run summarize"


async def answer_to(w: World, user: FakeUser, asked: FakeMessage) -> FakeMessage:
    return await w.tg.wait_for(
        lambda: next((m for m in w.tg.bot_messages(user.id) if m.reply_to is asked), None))


async def test_a_429_storm_on_edits_is_survived_and_the_final_state_shown(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with world(tmp_path, dify={"latency_s": 0.03}, concurrency=2) as w:
        tg = w.tg
        alice = tg.user("Alice")
        tg.upload_document(alice, texts(30), "items.xlsx", caption=RUN)
        progress = await w.progress_of(alice)
        tg.flood("editMessageText", seconds=1.5)  # every edit refused, retry_after counting down

        results = await w.results_of(alice, timeout=20)
        await tg.wait_for(lambda: (progress.text or "").startswith("✅ summarize"), timeout=10)
        refused = [c for c in tg.calls("editMessageText") if c.status == 429]
        assert refused, "the storm hit"
        assert len(refused) <= 4, "each refusal is waited out, not hammered"
        assert progress.reply_markup is None and "30 rows: 30 ok" in (progress.text or "")
        assert len(result_rows(results)) == 30
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text


async def test_one_off_replies_wait_out_a_flood_and_retry_server_errors(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        tg = w.tg
        alice = tg.user("Alice")
        tg.rate_limit("sendMessage", retry_after=1)
        help_text = await answer_to(w, alice, tg.send_text(alice, "/help"))
        assert "/template <workflow>" in (help_text.text or "")

        tg.server_error("sendDocument", 502, times=2)
        tg.server_error("editMessageText", 500, times=2)
        tg.upload_document(alice, texts(3), "items.xlsx", caption=RUN)
        results = await w.results_of(alice)
        progress = await w.progress_of(alice)
        assert (progress.text or "").startswith("✅ summarize")
        assert len(result_rows(results)) == 3
        assert [c.status for c in tg.calls("sendDocument")] == [502, 502, 200]


class VirtualTime:
    """A clock that moves only when the test says so; sleepers wake when it passes their time."""

    def __init__(self) -> None:
        self.now = 0.0
        self._sleepers: list[tuple[float, asyncio.Future[None]]] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        fut = asyncio.get_running_loop().create_future()
        self._sleepers.append((self.now + max(0.0, seconds), fut))
        await fut

    async def advance(self, seconds: float) -> None:
        self.now += seconds
        due = [(t, f) for t, f in self._sleepers if t <= self.now]
        self._sleepers = [(t, f) for t, f in self._sleepers if t > self.now]
        for _, fut in due:
            if not fut.done():
                fut.set_result(None)
        for _ in range(20):  # let the woken pumps run to their next await on the network
            await asyncio.sleep(0)


class TimedSurface:
    """The real Telegram surface, noting the virtual time of every post and edit."""

    def __init__(self, inner: TelegramSurface, time: VirtualTime) -> None:
        self.inner, self.time = inner, time
        self.at: list[float] = []

    async def post(self, chat: ChatRef, text: str, keyboard: Keyboard = ()) -> str:
        self.at.append(self.time.clock())
        return await self.inner.post(chat, text, keyboard)

    async def edit(self, chat: ChatRef, message_id: str, text: str, keyboard: Keyboard = ()) -> None:
        self.at.append(self.time.clock())
        await self.inner.edit(chat, message_id, text, keyboard)

    async def send_file(self, chat: ChatRef, data: bytes, filename: str, caption: str) -> None:
        await self.inner.send_file(chat, data, filename, caption)


async def test_progress_edits_stay_within_one_per_interval_at_a_high_row_rate() -> None:
    """A row finishing every millisecond of (virtual) time: never two edits within an interval."""
    interval, rows = 0.2, 2000
    time = VirtualTime()
    async with FakeTelegram.running(TOKEN) as tg:
        alice = tg.user("Alice")
        store = InMemoryStore()
        now = datetime.now(UTC)
        batch = Batch("b1a2c3", "summarize", f"telegram:{alice.id}", BatchStatus.RUNNING, rows, now,
                      columns=("Text",), source_name="items.xlsx", started_at=now)
        await store.create_batch(batch, [Row(batch.id, i, i + 2, (f"row {i}",), {"text": f"row {i}"})
                                         for i in range(rows)])
        await store.bind_chat(batch.id, ChatRef("telegram", str(alice.id)))
        bot = Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(tg.base_url)))
        surface = TimedSurface(TelegramSurface(bot), time)
        reporter = ProgressReporter(store, {"telegram": surface}, {"telegram": MessageBook()},
                                    interval_s=interval, reporter_id="r", clock=time.clock, sleep=time.sleep)
        try:
            for i in range(rows):
                progress = Progress(total=rows, succeeded=i + 1, pending=rows - i - 1)
                await reporter.batch_changed(batch, progress)
                await time.advance(0.001)
            await time.advance(interval)
            await reporter.flush(timeout_s=10)
        finally:
            await reporter.aclose()
            await bot.session.close()
    gaps = [b - a for a, b in itertools.pairwise(surface.at)]
    assert len(surface.at) >= rows * 0.001 / interval, "progress was shown throughout"
    assert min(gaps) >= interval - 1e-9, gaps


class LosingFiles(FakeTelegram):
    """Hands out file paths its file server then answers 404 for (an expired link)."""

    async def m_getFile(self, params: Params) -> Any:
        found = await super().m_getFile(params)
        return {**found, "file_path": "documents/expired.xlsx"}


async def test_the_bot_token_never_reaches_logs_or_chat(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with FakeDify.running(latency_s=0.01) as dify, LosingFiles.running(TOKEN) as tg:
        alice = tg.user("Alice")
        async with running_daemon(make_config(tmp_path, dify=dify, telegram=tg)):
            asked = tg.upload_document(alice, texts(2), "items.xlsx", caption=RUN)
            failed = await tg.wait_for(
                lambda: next((m for m in tg.bot_messages(alice.id) if m.reply_to is asked), None))
            assert failed.text == "I could not download items.xlsx; please send it again."
            tg.send_text(alice, "/status")
            await tg.wait_for(lambda: len(tg.bot_messages(alice.id)) == 2)
    secret_part = TOKEN.split(":", 1)[1]
    assert "download of an upload failed" in caplog.text, "the failure was logged"
    assert secret_part not in caplog.text
    assert secret_part not in tg.transcript_text()


async def test_the_progress_message_says_when_dify_is_unreachable_and_the_batch_goes_on(
    tmp_path: Path,
) -> None:
    async with world(tmp_path, dify={"latency_s": 0.05}, concurrency=2, progress_interval_s=0.1) as w:
        tg = w.tg
        alice = tg.user("Alice")
        tg.upload_document(alice, texts(30), "items.xlsx", caption=RUN)
        progress = await w.progress_of(alice)
        await tg.wait_for(lambda: "ok" in (progress.text or "") and "· 0 ok" not in (progress.text or ""))
        port = int(w.dify.base_url.rsplit(":", 1)[1].split("/")[0])
        await w.dify.close(keep_runs=True)  # the runs it took go on; new calls are refused
        await tg.wait_for(lambda: "Dify unreachable since" in (progress.text or ""), timeout=10)
        assert "connection refused" in (progress.text or "")
        await w.dify.start(port=port)
        results = await w.results_of(alice, timeout=30)
        assert {r["status"] for r in result_rows(results)} == {"succeeded"}
        assert "unreachable" not in (progress.text or "")
