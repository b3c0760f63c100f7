"""When the results workbook cannot be sent: too large for the chat, or refused outright."""

from __future__ import annotations

from pathlib import Path

from tests.bot.telegram import TOKEN, batch_id_of, texts
from tests.fakes.dify import FakeDify
from tests.fakes.telegram import FakeTelegram
from tests.support import make_config, running_daemon


async def test_a_workbook_over_the_chats_limit_is_replaced_by_where_to_get_it(tmp_path: Path) -> None:
    # a 3 kB limit stands in for the cloud Bot API's 50 MB; the workbook of 3 rows is ~6 kB
    async with FakeDify.running(latency_s=0.01) as dify, \
            FakeTelegram.running(TOKEN, max_upload_bytes=3_000) as tg:
        async with running_daemon(make_config(tmp_path, dify=dify, telegram=tg)):
            alice = tg.user("Alice", username="alice")
            tg.upload_document(alice, texts(3), "items.xlsx", caption="/run summarize")
            told = await tg.wait_for_message(alice.id, "more than this chat accepts from a bot")
            progress = await tg.wait_for_message(alice.id, " · batch ")
            bid = batch_id_of(progress)
            assert told.text is not None
            assert told.text.startswith("@alice results of summarize")
            assert f"items-results-{bid}.xlsx is 0.0" in told.text
            assert f"dify-batch result {bid}" in told.text
            assert [c.status for c in tg.calls("sendDocument")] == [413]

            asked = tg.send_text(alice, f"/result {bid}")
            again = await tg.wait_for(lambda: next(
                (m for m in tg.bot_messages(alice.id) if m.reply_to is asked), None))
            assert again.text is not None and "more than this chat accepts from a bot" in again.text
        assert tg.sent_documents(alice.id) == []


async def test_a_refused_workbook_is_reported_and_sent_on_the_next_start(tmp_path: Path) -> None:
    async with FakeDify.running(latency_s=0.01) as dify, FakeTelegram.running(TOKEN) as tg:
        config = make_config(tmp_path, dify=dify, telegram=tg)
        alice = tg.user("Alice", username="alice")
        tg.fail("sendDocument", 400, "Bad Request: chat not found")
        async with running_daemon(config):
            tg.upload_document(alice, texts(2), "items.xlsx", caption="/run summarize")
            failed = await tg.wait_for_message(alice.id, "I could not send the results workbook")
            assert failed.text is not None and "/result " in failed.text
            assert tg.sent_documents(alice.id) == []
        async with running_daemon(config):
            results = await tg.wait_for_message(alice.id, "results of", document=True, timeout=20)
        assert results.document is not None and results.document.filename.startswith("items-results-")
        assert len(tg.sent_documents(alice.id)) == 1
