"""Scheduled runs as a Telegram user sees them: a firing posts its own progress message
and results in the chat it was scheduled from; a firing missed while the daemon was
down runs once within the grace period, and beyond it the owner is told it was skipped."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.config import Config
from tests.bot.telegram import TOKEN, result_rows, texts, world
from tests.fakes.dify import FakeDify
from tests.fakes.telegram import FakeTelegram
from tests.support import make_config, running_daemon


def _soon(seconds: float) -> tuple[datetime, str]:
    at = (datetime.now(UTC) + timedelta(seconds=seconds)).replace(microsecond=0)
    return at, at.strftime("%Y-%m-%d %H:%M:%S")


def _with_grace(config: Config, seconds: float) -> Config:
    return dataclasses.replace(config, daemon=dataclasses.replace(config.daemon, misfire_grace_s=seconds))


async def test_a_one_shot_schedule_fires_and_reports_in_its_chat(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        alice = w.tg.user("Alice")
        _, when = _soon(2)
        w.tg.upload_document(alice, texts(3), "nightly.xlsx", caption=f"/schedule {when} summarize")
        await w.tg.wait_for_message(alice.id, "Scheduled summarize on nightly.xlsx")
        assert not w.dify.counters.requests_by_key, "nothing runs before its time"

        results = await w.results_of(alice, timeout=20)
        progress = [m for m in w.tg.bot_messages(alice.id) if " · batch " in (m.text or "")]
        assert len(progress) == 1
        assert "completed" in (progress[0].text or "")
        assert [r["result"] for r in result_rows(results)] == ["row 1 ✓", "row 2 ✓", "row 3 ✓"]
        assert "@" in (results.caption or "") or "Alice" in (results.caption or "")
        assert set(w.dify.counters.runs_by_key.values()) == {1}


async def _schedule_then_stop(tmp_path: Path, tg: FakeTelegram, dify: FakeDify, grace_s: float,
                              ) -> tuple[Config, int, datetime]:
    config = _with_grace(make_config(tmp_path, dify=dify, telegram=tg), grace_s)
    alice = tg.user("Alice")
    at, when = _soon(2)
    async with running_daemon(config):
        tg.upload_document(alice, texts(2), "daily.xlsx", caption=f"/schedule {when} summarize")
        await tg.wait_for_message(alice.id, "Scheduled summarize on daily.xlsx")
    return config, alice.id, at


async def test_a_firing_missed_within_grace_runs_once_at_start(tmp_path: Path) -> None:
    async with FakeDify.running(latency_s=0.02) as dify, FakeTelegram.running(TOKEN) as tg:
        config, chat, at = await _schedule_then_stop(tmp_path, tg, dify, grace_s=60)
        await asyncio.sleep(max(0.0, (at - datetime.now(UTC)).total_seconds()) + 1)
        assert not dify.counters.requests_by_key, "the daemon was down at the fire time"
        async with running_daemon(config):
            await tg.wait_for_message(chat, "results of", document=True, timeout=20)
            await asyncio.sleep(0.5)
        assert dify.counters.runs_by_key == {"row 1": 1, "row 2": 1}


async def test_a_firing_missed_beyond_grace_is_skipped_and_the_owner_told(tmp_path: Path) -> None:
    async with FakeDify.running(latency_s=0.02) as dify, FakeTelegram.running(TOKEN) as tg:
        config, chat, at = await _schedule_then_stop(tmp_path, tg, dify, grace_s=1)
        await asyncio.sleep(max(0.0, (at - datetime.now(UTC)).total_seconds()) + 2)
        async with running_daemon(config):
            told = await tg.wait_for_message(chat, "was skipped", timeout=10)
            await asyncio.sleep(0.5)
        assert "daily.xlsx" in (told.text or "")
        assert not dify.counters.requests_by_key
