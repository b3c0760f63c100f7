"""Telegram and Slack in one daemon, on one engine: a batch from each platform on the same
workflow share its concurrency limit round-robin, so both progress at once."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.fakes.dify import FakeDify
from tests.fakes.slack import FakeSlack
from tests.fakes.telegram import FakeTelegram
from tests.support import make_config, running_daemon, sheet_bytes

TOKEN = "7012345678:AAHfakeTokenForTestsOnly_abcdefghijk"


async def test_a_telegram_and_a_slack_batch_share_one_workflow_fairly(tmp_path: Path) -> None:
    async with FakeDify.running(latency_s=0.1) as dify, FakeTelegram.running(TOKEN) as tg, \
            FakeSlack.running() as slack:
        config = make_config(tmp_path, dify=dify, telegram=tg, slack=slack, concurrency=2)
        connections = slack.connection_count
        async with running_daemon(config):
            await slack.wait_connected(connections + 1)
            alice = tg.user("Alice")
            big = sheet_bytes(["Text"], [[f"tg {i}"] for i in range(30)])
            tg.upload_document(alice, big, "big.xlsx", caption="/run summarize")

            async def telegram_started() -> None:
                while not any(k.startswith("tg ") for k in dify.counters.runs_by_key):
                    await asyncio.sleep(0.01)

            await asyncio.wait_for(telegram_started(), 10)
            small = sheet_bytes(["Text"], [[f"slack {i}"] for i in range(6)])
            await slack.upload_file("bob", "general", small, "small.xlsx", text="run summarize")

            slack_done = await slack.wait_for(
                lambda: next((f for f in slack.uploaded_files("general") if "results" in f.name), None),
                timeout=20,
            )
            telegram_done_then = sum(1 for k in dify.counters.succeeded_by_key if k.startswith("tg "))
            await tg.wait_for_message(alice.id, "results of", document=True, timeout=30)

    assert slack_done.data
    assert dify.counters.peak_in_flight <= 2, "one limit for both platforms"
    # round-robin: the 6-row batch finished long before the 30-row one that started first
    assert telegram_done_then < 24
    users = {r["body"]["user"] for r in dify.requests}
    assert any(u.startswith("telegram:") for u in users)
    assert any(u.startswith("slack:") for u in users)
    assert set(dify.counters.runs_by_key.values()) == {1}
