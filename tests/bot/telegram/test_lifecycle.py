"""The Telegram adapter across its life: the command menu, a restart mid-batch, webhook mode,
and ``/run`` sent as a reply to a file (also to one sent before a restart)."""

from __future__ import annotations

import dataclasses
import socket
from pathlib import Path

from bot.chat.commands import COMMAND_NAMES
from bot.config import Config, Secret
from tests.bot.telegram import TOKEN, result_rows, texts, world
from tests.fakes.dify import FakeDify
from tests.fakes.telegram import FakeTelegram
from tests.support import make_config, running_daemon


async def test_the_command_menu_lists_every_command(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        menu = await w.tg.wait_for(lambda: next(iter(w.tg.commands.values()), None))
        assert [c["command"] for c in menu] == list(COMMAND_NAMES)
        assert {c["command"]: c["description"] for c in menu}["pause"] == "stop starting new rows"


async def test_a_restart_mid_batch_keeps_editing_the_same_progress_message(tmp_path: Path) -> None:
    async with FakeDify.running(latency_s=0.05) as dify, FakeTelegram.running(TOKEN) as tg:
        config = make_config(tmp_path, dify=dify, telegram=tg, concurrency=1, shutdown_grace_s=1.0)
        alice = tg.user("Alice")
        async with running_daemon(config):
            tg.upload_document(alice, texts(30), "items.xlsx", caption="/run summarize")
            progress = await tg.wait_for_message(alice.id, "summarize · batch")
            await tg.wait_for(lambda: len(dify.counters.succeeded_by_key) >= 4, timeout=10)
        stopped_at = len(dify.counters.succeeded_by_key)
        edits_before = tg.edit_count(progress.message_id)
        assert 0 < stopped_at < 30 and progress.buttons, "stopped while rows remain"

        async with running_daemon(config):
            results = await tg.wait_for_message(alice.id, "results of", document=True, timeout=20)
        assert tg.edit_count(progress.message_id) > edits_before
        assert (progress.text or "").startswith("✅ summarize") and "30 rows: 30 ok" in (progress.text or "")
        assert [m for m in tg.bot_messages(alice.id) if m.document is None] == [progress], "one message"
        assert results.reply_to is progress.reply_to
        assert set(dify.counters.succeeded_by_key.values()) == {1}, "no finished row ran again"
        assert len(result_rows(results)) == 30


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_webhook_mode_takes_updates_with_the_secret_only(tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram/webhook"

    def webhook(config: Config) -> Config:
        telegram = dataclasses.replace(config.telegram, mode="webhook", webhook_url=url,
                                       webhook_secret=Secret("hook-secret_1"))
        daemon = dataclasses.replace(config.daemon, http_port=port)
        return dataclasses.replace(config, telegram=telegram, daemon=daemon)

    async with world(tmp_path, adjust=webhook) as w:
        tg = w.tg
        await tg.wait_for(lambda: tg.webhook)
        assert tg.webhook == {"url": url, "secret_token": "hook-secret_1", "max_connections": 40}
        alice = tg.user("Alice")
        forged = {"update_id": 1, "message": tg.send_text(alice, "/help").wire()}
        assert await tg.post_update(url, forged, "wrong-secret") == 401
        assert await tg.post_update(url, forged) == 401

        tg.upload_document(alice, texts(3), "items.xlsx", caption="/run summarize")
        results = await w.results_of(alice)
        assert len(result_rows(results)) == 3
        assert not tg.calls("getUpdates")


async def test_run_as_a_reply_to_a_file(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        tg = w.tg
        alice, bob = tg.user("Alice"), tg.user("Bob")
        upload = tg.upload_document(alice, texts(3), "items.xlsx")
        await tg.wait_for_message(alice.id, "3 rows ready")

        refused = tg.reply_to(upload, "/run summarize", user=bob)
        answer = await tg.wait_for(lambda: next(
            (m for m in tg.bot_messages(alice.id) if m.reply_to is refused), None))
        assert answer.text == "Only the person who sent the file can use these buttons."

        tg.reply_to(upload, "/run summarize")
        results = await w.results_of(alice)
        assert results.reply_to is upload
        assert [r["result"] for r in result_rows(results)] == ["row 1 ✓", "row 2 ✓", "row 3 ✓"]


async def test_run_as_a_reply_to_a_file_sent_before_a_restart(tmp_path: Path) -> None:
    async with FakeDify.running(latency_s=0.01) as dify, FakeTelegram.running(TOKEN) as tg:
        config = make_config(tmp_path, dify=dify, telegram=tg)
        alice = tg.user("Alice")
        async with running_daemon(config):
            upload = tg.upload_document(alice, texts(2), "items.xlsx")
            await tg.wait_for_message(alice.id, "2 rows ready")
        async with running_daemon(config):
            tg.reply_to(upload, "/run summarize")
            results = await tg.wait_for_message(alice.id, "results of", document=True, timeout=20)
        assert results.reply_to is upload
        assert len(tg.calls("getFile")) == 1, "the stored upload was used, not fetched again"


async def test_the_run_button_of_a_check_made_before_a_restart_still_runs(tmp_path: Path) -> None:
    async with FakeDify.running(latency_s=0.01) as dify, FakeTelegram.running(TOKEN) as tg:
        config = make_config(tmp_path, dify=dify, telegram=tg)
        alice = tg.user("Alice")
        async with running_daemon(config):
            upload = tg.upload_document(alice, texts(3), "items.xlsx")
            check = await tg.wait_for_message(alice.id, "3 rows ready")
        async with running_daemon(config):
            query = tg.press_button(alice, check, text="▶️ Run")
            results = await tg.wait_for_message(alice.id, "results of", document=True, timeout=20)
            assert tg.callback(query).answered
        assert results.reply_to is upload
        assert [r["result"] for r in result_rows(results)] == ["row 1 ✓", "row 2 ✓", "row 3 ✓"]
        assert check.text == "Starting summarize on items.xlsx…"


async def test_run_as_a_reply_to_a_discarded_file_fetches_it_again(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        tg = w.tg
        alice = tg.user("Alice")
        upload = tg.upload_document(alice, texts(2), "items.xlsx")
        check = await tg.wait_for_message(alice.id, "2 rows ready")
        tg.press_button(alice, check, text="🗑 Discard")
        await tg.wait_for(lambda: check.reply_markup is None)

        tg.reply_to(upload, "/run summarize")
        results = await w.results_of(alice)
        assert results.reply_to is upload
        assert len(tg.calls("getFile")) == 2, "the discarded upload was forgotten, so fetched again"
