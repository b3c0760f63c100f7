"""🧪 Try 3 rows: a sample of the upload's first rows, outputs inline, then Run all or Discard."""

from __future__ import annotations

from pathlib import Path

from tests.bot.telegram import result_rows, texts, world


async def test_try_runs_three_rows_shows_their_outputs_then_run_all_runs_the_sheet(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        tg = w.tg
        ann = tg.user("Ann", username="ann")
        upload = tg.upload_document(ann, texts(6), "items.xlsx")
        check = await tg.wait_for_message(ann.id, "6 rows ready for summarize")
        assert "no earlier batches of summarize" in (check.text or "")
        assert [b.text for b in check.buttons] == ["▶️ Run", "🧪 Try 3 rows", "🕒 Schedule…", "🗑 Discard"]

        tg.press_button(ann, check, text="🧪 Try 3 rows")
        sample = await tg.wait_for_message(ann.id, "The first 3 rows of items.xlsx", timeout=15)
        assert sorted(w.dify.counters.runs_by_key) == ["row 1", "row 2", "row 3"]
        lines = (sample.text or "").splitlines()
        assert lines[1:] == [
            "row 2 ✓ result: row 1 ✓ · length: 5",
            "row 3 ✓ result: row 2 ✓ · length: 5",
            "row 4 ✓ result: row 3 ✓ · length: 5",
            "Run all 6 rows, or discard the file?",
        ]
        assert [b.text for b in sample.buttons] == ["▶️ Run all", "🗑 Discard"]
        await tg.wait_for(lambda: (check.text or "").startswith("🧪 Tried the first 3 rows of items.xlsx"))
        assert check.reply_markup is None
        assert not tg.sent_documents(ann.id), "a sample sends no results file and no progress message"

        tg.press_button(ann, sample, text="▶️ Run all")
        results = await w.results_of(ann)
        assert results.reply_to is upload
        assert [r["result"] for r in result_rows(results)] == [f"row {i} ✓" for i in range(1, 7)]
        # the estimate learnt from the sample: the next check says where its figures come from
        tg.upload_document(ann, texts(5), "more.xlsx")
        again = await tg.wait_for_message(ann.id, "5 rows ready for summarize")
        assert "tokens (from 2 earlier batches)" in (again.text or "")


async def test_a_sheet_no_longer_than_a_sample_offers_no_try(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        tg = w.tg
        ann = tg.user("Ann")
        tg.upload_document(ann, texts(3), "items.xlsx")
        check = await tg.wait_for_message(ann.id, "3 rows ready")
        assert "🧪 Try 3 rows" not in [b.text for b in check.buttons]
