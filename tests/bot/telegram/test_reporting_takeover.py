"""A replica takes over a finished batch's chat when the one holding it died before the file.

The reporter runs for real (aiogram against FakeTelegram) over the in-memory store; the dead
replica is only its hold in the store, as a killed process leaves it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from bot.chat.progress import ProgressReporter
from bot.chat.text.renderer import MessageBook
from bot.telegram.surface import TelegramSurface
from engine.models import Batch, BatchStatus, ChatRef, Row, RowStatus, RowUpdate
from tests.bot.telegram import TOKEN
from tests.fakes.memory_store import InMemoryStore
from tests.fakes.telegram import FakeTelegram

HOLD_S = 0.6


async def test_the_file_is_sent_by_another_replica_once_the_dead_ones_hold_lapses() -> None:
    async with FakeTelegram.running(TOKEN) as tg:
        alice = tg.user("Alice", username="alice")
        store = InMemoryStore()
        now = datetime.now(UTC)
        batch = Batch("b0a7e1", "summarize", "telegram:1", BatchStatus.COMPLETED, 2, now,
                      columns=("Text",), source_name="items.xlsx", started_at=now, finished_at=now)
        await store.create_batch(batch, [Row(batch.id, i, i + 2, (f"row {i}",), {"text": f"row {i}"})
                                         for i in range(2)])
        await store.update_rows([RowUpdate(batch.id, i, RowStatus.SUCCEEDED, attempts=1,
                                           outputs={"result": "ok"}) for i in range(2)])
        await store.bind_chat(batch.id, ChatRef("telegram", str(alice.id), owner_display="@alice"))
        # replica "a" held the batch and was killed before it sent anything
        assert await store.hold_reporting(batch.id, "a", now=now, hold_s=HOLD_S)

        bot = Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(tg.base_url)))
        survivor = ProgressReporter(store, {"telegram": TelegramSurface(bot)}, {"telegram": MessageBook()},
                                    interval_s=0.05, reporter_id="b", hold_s=HOLD_S)
        try:
            await survivor.batch_changed(batch, await store.progress(batch.id))
            await asyncio.sleep(HOLD_S / 3)
            assert tg.bot_messages(alice.id) == [], "nothing while the other replica's hold lasts"

            results = await tg.wait_for_message(alice.id, "results of", document=True, timeout=5)
        finally:
            await survivor.aclose()
            await bot.session.close()
        assert results.caption is not None and results.caption.startswith("@alice results of summarize")
        final = next(m for m in tg.bot_messages(alice.id) if m.document is None)
        assert "2 rows: 2 ok" in (final.text or "")
        assert len(tg.sent_documents(alice.id)) == 1
