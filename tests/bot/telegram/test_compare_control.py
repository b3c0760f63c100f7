"""Steering a comparison from Telegram: the buttons on its one progress message and the
comparison id with /pause, /resume, /cancel and /retry act on every workflow of it."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.bot.compare_support import SECOND, second_version, with_second, workbook
from tests.bot.telegram import World, texts, world
from tests.fakes.dify import FakeDify
from tests.fakes.dify_script import Plan, failed_run
from tests.fakes.telegram_model import FakeMessage, FakeUser


def buttons(message: FakeMessage) -> list[str]:
    return [b.text for b in message.buttons]


def comparison_id_of(progress: FakeMessage) -> str:
    """The id from the head line (``⚖️ items.xlsx: A, B · comparison c7f3a2c``, or once
    finished ``⚖️ Comparison c7f3a2c finished``)."""
    return (progress.text or "").split("omparison ", 1)[1].split()[0]


async def comparison_progress(w: World, user: FakeUser) -> FakeMessage:
    return await w.tg.wait_for(
        lambda: next((m for m in w.tg.bot_messages(user.id)
                      if m.document is None and "omparison c" in (m.text or "")), None), 10)


async def runs_stay_at(*fakes: FakeDify, seconds: float = 0.3) -> None:
    """No new row starts on any of the apps for a while (rows in flight may finish)."""
    before = [sum(f.counters.requests_by_key.values()) for f in fakes]
    await asyncio.sleep(seconds)
    assert [sum(f.counters.requests_by_key.values()) for f in fakes] == before


async def test_buttons_and_the_comparison_id_pause_resume_and_cancel_every_workflow(tmp_path: Path) -> None:
    async with FakeDify.running(latency_s=0.05, output_fn=second_version) as second, \
            world(tmp_path, dify={"latency_s": 0.05}, concurrency=1, adjust=with_second(second)) as w:
        tg = w.tg
        alice = tg.user("Alice", username="alice")
        tg.upload_document(alice, texts(40), "items.xlsx", caption=f"/run summarize {SECOND}")
        progress = await comparison_progress(w, alice)
        comparison = comparison_id_of(progress)
        await tg.wait_for(lambda: buttons(progress) == ["⏸ Pause", "⏹ Cancel"])
        await tg.wait_for(lambda: (len(w.dify.counters.succeeded_by_key) >= 2
                                   and len(second.counters.succeeded_by_key) >= 2) or None, 10)

        pause = tg.press_button(alice, progress, text="⏸ Pause")
        await tg.wait_for(lambda: buttons(progress) == ["▶️ Resume", "⏹ Cancel"])
        await tg.wait_for(lambda: tg.callback(pause).answered)
        assert tg.callback(pause).text == f"Pausing comparison {comparison}."
        await tg.wait_for(lambda: (progress.text or "").count("Paused") >= 2 or None)
        await runs_stay_at(w.dify, second)

        tg.send_text(alice, f"/resume {comparison}")
        await tg.wait_for(lambda: buttons(progress) == ["⏸ Pause", "⏹ Cancel"])
        apps = (w.dify, second)
        moving = [sum(f.counters.requests_by_key.values()) for f in apps]
        await tg.wait_for(lambda: all(
            sum(f.counters.requests_by_key.values()) > n for f, n in zip(apps, moving, strict=True)
        ) or None, 10)

        cancel = tg.press_button(alice, progress, text="⏹ Cancel")
        reply = await tg.wait_for_message(alice.id, "comparison", document=True, timeout=20)
        await tg.wait_for(lambda: tg.callback(cancel).answered)
        await tg.wait_for(lambda: (progress.text or "").startswith("⚖️ Comparison") and not progress.buttons)
        assert reply.document is not None
        rows, _ = workbook(reply.document.data)
        for workflow in ("summarize", SECOND):
            assert "cancelled" in {r[f"status [{workflow}]"] for r in rows}, workflow


async def test_retry_of_a_comparison_runs_the_failed_rows_and_sends_the_workbook_again(
    tmp_path: Path,
) -> None:
    script = {"row 2": [Plan(fault=failed_run("model exploded"))]}  # fails once on v2, then works
    async with FakeDify.running(output_fn=second_version, script=script) as second, \
            world(tmp_path, adjust=with_second(second)) as w:
        tg = w.tg
        bob = tg.user("Bob", username="bob")
        tg.upload_document(bob, texts(4), "items.xlsx", caption=f"/run summarize {SECOND}")
        first = await tg.wait_for_message(bob.id, "comparison", document=True, timeout=20)
        progress = await comparison_progress(w, bob)
        assert first.document is not None
        rows, _ = workbook(first.document.data)
        assert rows[1][f"status [{SECOND}]"] == "failed"

        # only v2 has a failed row: the first workflow, whose batch carries the chat, is done
        tg.send_text(bob, f"/retry {comparison_id_of(progress)}")
        again = await tg.wait_for(lambda: next(
            (d for d in tg.sent_documents(bob.id) if d is not first), None), timeout=20)
        assert again.document is not None
        rows, compare = workbook(again.document.data)
        assert {r[f"status [{SECOND}]"] for r in rows} == {"succeeded"}
        assert compare["succeeded"] == [4, 4]
        assert second.counters.requests_by_key == {"row 1": 1, "row 2": 2, "row 3": 1, "row 4": 1}
        assert w.dify.counters.requests_by_key == {f"row {i}": 1 for i in range(1, 5)}
        await tg.wait_for(lambda: f"{SECOND}: 4 ok, 0 failed" in (progress.text or "") or None)
        assert len(tg.sent_documents(bob.id)) == 2
