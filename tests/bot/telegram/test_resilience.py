"""Telegram pushing back: 429 storms, 5xx answers, the edit budget per batch, secrets in logs."""

from __future__ import annotations

import itertools
import logging
from pathlib import Path
from typing import Any

import pytest

from tests.bot.telegram import TOKEN, World, result_rows, texts, world
from tests.fakes.dify import FakeDify
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


async def test_progress_edits_stay_within_one_per_interval_at_a_high_row_rate(tmp_path: Path) -> None:
    interval = 0.2
    async with world(tmp_path, dify={"latency_s": 0.002}, concurrency=8, progress_interval_s=interval) as w:
        tg = w.tg
        alice = tg.user("Alice")
        tg.upload_document(alice, texts(400), "items.xlsx", caption=RUN)
        await w.results_of(alice, timeout=30)
        progress = await w.progress_of(alice)
        times = [progress_posted_at(tg, progress), *tg.edit_times(progress.message_id)]
        gaps = [b - a for a, b in itertools.pairwise(times)]
        assert len(gaps) >= 3, tg.transcript_text()
        # measured where the fake receives them, so allow a little network jitter
        assert min(gaps) >= interval * 0.8, gaps


def progress_posted_at(tg: FakeTelegram, progress: FakeMessage) -> float:
    return next(e.at for e in tg.transcript(progress.chat_id)
                if e.message_id == progress.message_id and e.kind == "message")


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
