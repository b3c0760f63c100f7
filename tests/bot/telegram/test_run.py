"""A file with ``/run`` runs: progress edited in place, then the results workbook as a reply."""

from __future__ import annotations

from pathlib import Path

from tests.bot.telegram import result_rows, result_rows_header, texts, world


async def test_caption_run_edits_progress_and_replies_with_results(tmp_path: Path) -> None:
    # 8 rows at 0.25 s, two at a time, cannot finish in under 1 s on any machine: several
    # progress intervals (0.2 s) pass, so a live edit before the final one is guaranteed
    async with world(tmp_path, dify={"latency_s": 0.25}, concurrency=2) as w:
        tg = w.tg
        alice = tg.user("Alice", username="alice")
        upload = tg.upload_document(alice, texts(8), "items.xlsx", caption="/run summarize")

        results = await w.results_of(alice)
        progress = await w.progress_of(alice)

        assert results.reply_to is upload
        assert progress.reply_to is upload
        assert results.caption is not None and results.caption.startswith("@alice results of summarize")
        assert progress.text is not None and "completed" in progress.text and "8 rows: 8 ok" in progress.text
        assert progress.reply_markup is None, "the final edit carries no buttons"
        assert tg.edit_count(progress.message_id) >= 2, tg.transcript_text()
        # while running, every edit kept Pause and Cancel
        live = list(progress.edits[:-1])
        assert live and all("⏸ Pause" in str(e.reply_markup) for e in live)
        rows = result_rows(results)
        assert [(r["Text"], r["result"], r["status"]) for r in rows] == [
            (f"row {i}", f"row {i} ✓", "succeeded") for i in range(1, 9)
        ]
        assert len(tg.sent_documents(alice.id)) == 1


async def test_upload_without_caption_gets_a_check_then_runs_on_the_button(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        tg = w.tg
        bob = tg.user("Bob", username="")
        upload = tg.upload_document(bob, texts(3), "items.xlsx")

        check = await tg.wait_for_message(bob.id, "3 rows ready for summarize")
        assert check.reply_to is upload
        assert [b.text for b in check.buttons] == ["▶️ Run", "🕒 Schedule…", "🗑 Discard"]
        assert not w.dify.counters.requests_by_key, "nothing runs before the button"
        query = tg.press_button(bob, check, text="▶️ Run")

        results = await w.results_of(bob)
        assert tg.callback(query).answered
        assert check.text == "Starting summarize on items.xlsx…" and check.reply_markup is None
        progress = await w.progress_of(bob)
        assert progress.reply_to is upload and results.reply_to is upload
        assert results.caption is not None and results.caption.startswith("Bob results of summarize")
        assert [r["result"] for r in result_rows(results)] == ["row 1 ✓", "row 2 ✓", "row 3 ✓"]


async def test_discard_button_forgets_the_upload(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        tg = w.tg
        bob = tg.user("Bob")
        tg.upload_document(bob, texts(2), "items.xlsx")
        check = await tg.wait_for_message(bob.id, "2 rows ready")
        tg.press_button(bob, check, text="🗑 Discard")
        await tg.wait_for(lambda: check.text == "Discarded items.xlsx.")
        assert check.reply_markup is None
        assert not w.dify.counters.requests_by_key


async def test_template_command_sends_a_workbook_to_fill_in(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        tg = w.tg
        alice = tg.user("Alice")
        ask = tg.send_text(alice, "/template summarize")
        template = await tg.wait_for_message(alice.id, "/run summarize", document=True)
        assert template.reply_to is ask
        assert template.document is not None and template.document.filename == "summarize-template.xlsx"
        assert "Text" in result_rows_header(template)


async def test_result_command_sends_the_workbook_again(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        tg = w.tg
        alice = tg.user("Alice")
        tg.upload_document(alice, texts(2), "items.xlsx", caption="/run summarize")
        first = await w.results_of(alice)
        progress = await w.progress_of(alice)
        batch_id = (progress.text or "").split("batch ")[1].split()[0]

        ask = tg.send_text(alice, f"/result {batch_id}")
        again = await tg.wait_for(lambda: next(
            (d for d in tg.sent_documents(alice.id) if d is not first), None))
        assert again.reply_to is ask
        assert result_rows(again) == result_rows(first)
        tg.send_text(alice, "/result")  # "my latest"
        await tg.wait_for(lambda: len(tg.sent_documents(alice.id)) == 3)
