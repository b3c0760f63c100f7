"""``/run A B`` on a file in Telegram: one progress message showing both workflows, then one
combined workbook as the reply, whose rows differ where the two apps answered differently."""

from __future__ import annotations

from pathlib import Path

from tests.bot.compare_support import SECOND, second_version, with_second, workbook
from tests.bot.telegram import texts, world
from tests.fakes.dify import FakeDify


async def test_run_with_two_workflows_compares_them_in_one_message_and_one_workbook(tmp_path: Path) -> None:
    async with FakeDify.running(latency_s=0.1, output_fn=second_version) as second, \
            world(tmp_path, dify={"latency_s": 0.1}, concurrency=2, adjust=with_second(second)) as w:
        tg = w.tg
        alice = tg.user("Alice", username="alice")
        upload = tg.upload_document(alice, texts(6), "items.xlsx", caption=f"/run summarize {SECOND}")

        reply = await tg.wait_for_message(alice.id, "comparison", document=True, timeout=20)
        assert reply.reply_to is upload
        assert reply.document is not None and reply.document.filename.startswith("items-compare-c")
        assert reply.caption is not None and reply.caption.startswith("@alice comparison c")
        assert "result differs in 3 of 6 rows" in (reply.caption or "")

        # one progress message, naming both workflows while it ran, then the outcome of each
        progress = [m for m in tg.bot_messages(alice.id) if m.document is None]
        assert len(progress) == 1, tg.transcript_text()
        message = progress[0]
        assert message.reply_to is upload
        live = [e.text or "" for e in message.edits[:-1]] or [message.edits[0].text or ""]
        assert any("summarize · batch" in t and f"{SECOND} · batch" in t for t in live), tg.transcript_text()
        final = message.text or ""
        assert final.startswith("⚖️ Comparison c") and "finished: items.xlsx" in final
        assert "summarize: 6 ok, 0 failed" in final and f"{SECOND}: 6 ok, 0 failed" in final
        assert len(tg.sent_documents(alice.id)) == 1

        rows, compare = workbook(reply.document.data)
        assert [r["Text"] for r in rows] == [f"row {i}" for i in range(1, 7)]
        assert rows[1]["result [summarize]"] == "row 2 ✓" and rows[1][f"result [{SECOND}]"] == "row 2 (v2)"
        assert rows[1]["differs"] == "result" and rows[0]["differs"] is None
        assert rows[0][f"status [{SECOND}]"] == "succeeded"
        assert compare["workflow"] == ["summarize", SECOND]
        assert compare["result"] == [3, 6] and compare["length"] == [0, 6]
        assert w.dify.counters.runs_by_key == {f"row {i}": 1 for i in range(1, 7)}
        assert second.counters.runs_by_key == {f"row {i}": 1 for i in range(1, 7)}

        # the comparison id works with /status and /result
        comparison = final.split("Comparison ", 1)[1].split()[0]
        tg.send_text(alice, f"/status {comparison}")
        await tg.wait_for_message(alice.id, f"⚖️ Comparison {comparison} finished", timeout=10)
        tg.send_text(alice, f"/result {comparison}")
        await tg.wait_for(lambda: len(tg.sent_documents(alice.id)) == 2 or None, 10)


async def test_run_with_two_workflows_as_a_reply_to_a_file_compares_that_file(tmp_path: Path) -> None:
    async with FakeDify.running(output_fn=second_version) as second, \
            world(tmp_path, adjust=with_second(second)) as w:
        tg = w.tg
        bob = tg.user("Bob", username="bob")
        upload = tg.upload_document(bob, texts(2), "two.xlsx")
        await tg.wait_for_message(bob.id, "2 rows ready")
        tg.reply_to(upload, f"/run summarize {SECOND}", bob)

        reply = await tg.wait_for_message(bob.id, "comparison", document=True, timeout=20)
        assert reply.reply_to is upload
        assert "result differs in 1 of 2 rows" in (reply.caption or "")
        assert second.counters.runs_by_key == {"row 1": 1, "row 2": 1}
        assert w.dify.counters.runs_by_key == {"row 1": 1, "row 2": 1}
