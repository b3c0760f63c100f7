"""Controlling a running batch from Telegram: status, pause, resume, cancel, retry, by command
and by button, and only one's own batches."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.bot.telegram import World, batch_id_of, result_rows, texts, world
from tests.fakes.dify_script import Plan, failed_run
from tests.fakes.telegram_model import FakeMessage, FakeUser

SLOW = {"latency_s": 0.05}


async def answer_to(w: World, user: FakeUser, asked: FakeMessage) -> FakeMessage:
    """The bot's reply to one message of the person."""
    return await w.tg.wait_for(
        lambda: next((m for m in w.tg.bot_messages(user.id) if m.reply_to is asked), None))


def buttons(message: FakeMessage) -> list[str]:
    return [b.text for b in message.buttons]


async def started(w: World, user: FakeUser, rows: int = 40) -> FakeMessage:
    w.tg.upload_document(user, texts(rows), "items.xlsx", caption="/run summarize")
    progress = await w.progress_of(user)
    await w.tg.wait_for(lambda: len(w.dify.counters.succeeded_by_key) >= 2, timeout=10)
    return progress


async def runs_stay_at(w: World, seconds: float = 0.3) -> int:
    """Row runs started stay the same for a while (only in-flight rows may finish)."""
    before = sum(w.dify.counters.requests_by_key.values())
    await asyncio.sleep(seconds)
    assert sum(w.dify.counters.requests_by_key.values()) == before
    return before


async def test_pause_resume_cancel_by_command(tmp_path: Path) -> None:
    async with world(tmp_path, dify=SLOW, concurrency=1) as w:
        tg = w.tg
        alice = tg.user("Alice")
        progress = await started(w, alice)

        paused = await answer_to(w, alice, tg.send_text(alice, "/pause"))
        assert "Paused: nothing new starts." in (paused.text or "")
        await tg.wait_for(lambda: buttons(progress) == ["▶️ Resume", "⏹ Cancel"])
        await runs_stay_at(w)

        status = await answer_to(w, alice, tg.send_text(alice, "/status"))
        assert "Paused" in (status.text or "") and "/40 rows" in (status.text or "")

        await answer_to(w, alice, tg.send_text(alice, f"/resume {batch_id_of(progress)}"))
        await tg.wait_for(lambda: buttons(progress) == ["⏸ Pause", "⏹ Cancel"])

        cancelled = await answer_to(w, alice, tg.send_text(alice, "/cancel"))
        assert "cancelled" in (cancelled.text or "")
        await cancelled_with_partial_results(w, alice, progress)


async def cancelled_with_partial_results(w: World, user: FakeUser, progress: FakeMessage) -> None:
    results = await w.results_of(user)
    await w.tg.wait_for(lambda: "cancelled" in (progress.text or "") and not progress.buttons)
    rows = result_rows(results)
    assert [r["Text"] for r in rows] == [f"row {i}" for i in range(1, 41)], "every row is listed"
    statuses = {r["status"] for r in rows}
    assert "succeeded" in statuses and "cancelled" in statuses
    assert statuses == {"succeeded", "cancelled"}, "rows in flight at the cancel are settled first"
    assert sum(r["status"] == "succeeded" for r in rows) < 40


async def test_pause_resume_cancel_by_button(tmp_path: Path) -> None:
    async with world(tmp_path, dify=SLOW, concurrency=1) as w:
        tg = w.tg
        alice = tg.user("Alice")
        progress = await started(w, alice)
        batch_id = batch_id_of(progress)

        pause = tg.press_button(alice, progress, text="⏸ Pause")
        await tg.wait_for(lambda: buttons(progress) == ["▶️ Resume", "⏹ Cancel"])
        await tg.wait_for(lambda: tg.callback(pause).answered)
        assert tg.callback(pause).text == f"Pausing batch {batch_id}."
        assert "Paused" in (progress.text or "")
        await runs_stay_at(w)

        resume = tg.press_button(alice, progress, text="▶️ Resume")
        await tg.wait_for(lambda: buttons(progress) == ["⏸ Pause", "⏹ Cancel"])
        await tg.wait_for(lambda: tg.callback(resume).answered)

        cancel = tg.press_button(alice, progress, text="⏹ Cancel")
        await cancelled_with_partial_results(w, alice, progress)
        await tg.wait_for(lambda: tg.callback(cancel).answered)
        assert tg.callback(cancel).text == f"Cancelling batch {batch_id}."
        # button presses answer with a toast, not with chat messages
        assert [m for m in tg.bot_messages(alice.id) if m is not progress and m.document is None] == []


async def test_someone_elses_batch_is_refused(tmp_path: Path) -> None:
    async with world(tmp_path, dify=SLOW, concurrency=1) as w:
        tg = w.tg
        alice, mallory = tg.user("Alice"), tg.user("Mallory")
        progress = await started(w, alice, rows=20)
        batch_id = batch_id_of(progress)

        refusal = await answer_to(w, mallory, tg.send_text(mallory, f"/cancel {batch_id}"))
        assert refusal.text == f"Batch {batch_id} belongs to someone else."
        press = tg.press_button(mallory, progress, text="⏹ Cancel")
        await tg.wait_for(lambda: tg.callback(press).answered)
        assert tg.callback(press).text == f"Batch {batch_id} belongs to someone else."
        assert tg.callback(press).show_alert

        results = await w.results_of(alice)
        assert {r["status"] for r in result_rows(results)} == {"succeeded"}


async def test_retry_runs_only_the_failed_rows(tmp_path: Path) -> None:
    script = {"row 2": [Plan(fault=failed_run("model exploded"))]}  # fails once, then works
    async with world(tmp_path, dify={"script": script}) as w:
        tg = w.tg
        alice = tg.user("Alice")
        tg.upload_document(alice, texts(4), "items.xlsx", caption="/run summarize")
        first = await w.results_of(alice)
        progress = await w.progress_of(alice)
        assert "completed; rows failed: 1" in (progress.text or "")
        assert [r["status"] for r in result_rows(first)] == ["succeeded", "failed", "succeeded", "succeeded"]
        assert "model exploded" in str(result_rows(first)[1]["error"])

        tg.send_text(alice, "/retry")
        second = await tg.wait_for(lambda: next(
            (d for d in tg.sent_documents(alice.id) if d is not first), None), timeout=10)
        assert [r["status"] for r in result_rows(second)] == ["succeeded"] * 4
        assert w.dify.counters.requests_by_key == {"row 1": 1, "row 2": 2, "row 3": 1, "row 4": 1}
        await tg.wait_for(lambda: (progress.text or "").startswith("✅ summarize"))


async def test_status_lists_ones_batches_while_several_are_unfinished(tmp_path: Path) -> None:
    async with world(tmp_path, dify=SLOW, concurrency=1) as w:
        tg = w.tg
        alice = tg.user("Alice")
        first = await started(w, alice)
        tg.upload_document(alice, texts(30, prefix="second"), "more.xlsx", caption="/run summarize")
        second = await tg.wait_for(lambda: next(
            (m for m in tg.bot_messages(alice.id) if m is not first and " · batch " in (m.text or "")), None))
        await answer_to(w, alice, tg.send_text(alice, f"/pause {batch_id_of(first)}"))

        listed = await answer_to(w, alice, tg.send_text(alice, "/status"))
        lines = (listed.text or "").splitlines()
        assert len(lines) == 2, listed.text
        assert lines[0].startswith(f"{batch_id_of(second)} · summarize · running · ")
        assert lines[1].startswith(f"{batch_id_of(first)} · summarize · paused · ")
        assert lines[1].endswith("/40")

        await answer_to(w, alice, tg.send_text(alice, f"/cancel {batch_id_of(first)}"))
        alone = await answer_to(w, alice, tg.send_text(alice, "/status"))
        assert f"batch {batch_id_of(second)}" in (alone.text or ""), "one unfinished: shown in full"
