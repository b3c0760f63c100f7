"""Scheduling from Telegram: a caption, a reply to a file, the Schedule… buttons; groups."""

from __future__ import annotations

from pathlib import Path

from tests.bot.telegram import World, texts, world
from tests.fakes.telegram_model import FakeMessage, FakeUser


async def answer_to(w: World, user: FakeUser, asked: FakeMessage, chat_id: int | None = None) -> FakeMessage:
    return await w.tg.wait_for(lambda: next(
        (m for m in w.tg.bot_messages(chat_id or user.id) if m.reply_to is asked), None))


async def test_schedule_by_caption_by_reply_and_by_button(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        tg = w.tg
        alice = tg.user("Alice")
        by_caption = await answer_to(w, alice, tg.upload_document(
            alice, texts(2), "items.xlsx", caption="/schedule every weekday 09:00 summarize"))
        assert (by_caption.text or "").startswith("Scheduled summarize on items.xlsx: every weekday 09:00.")

        upload = tg.upload_document(alice, texts(2), "later.xlsx")
        check = await tg.wait_for_message(alice.id, "2 rows ready")
        by_reply = await answer_to(w, alice, tg.reply_to(upload, "/schedule tomorrow 09:00 summarize"))
        assert (by_reply.text or "").startswith("Scheduled summarize on later.xlsx: tomorrow 09:00.")

        tg.press_button(alice, check, text="🕒 Schedule…")
        await tg.wait_for(lambda: (check.text or "").startswith("When should summarize run?"))
        tg.press_button(alice, check, text="Tonight 02:00")
        await tg.wait_for(lambda: (check.text or "").startswith("Scheduled summarize on later.xlsx: tonight"))

        listing = await answer_to(w, alice, tg.send_text(alice, "/schedules"))
        assert (listing.text or "").count("summarize") == 3
        bad = await answer_to(w, alice, tg.upload_document(
            alice, texts(2), "x.xlsx", caption="/schedule 2001-01-01 09:00 summarize"))
        assert "Scheduled" not in (bad.text or "") and "past" in (bad.text or ""), bad.text
        assert not w.dify.counters.requests_by_key


async def test_in_a_group_only_commands_for_this_bot_are_answered(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        tg = w.tg
        alice = tg.user("Alice")
        team = tg.group("Team", supergroup=True)
        other = tg.send_text(alice, "/status@some_other_bot", team)
        ours = tg.send_text(alice, "/workflows@batch_test_bot", team)
        answer = await answer_to(w, alice, ours, team.id)
        assert answer.text == "Workflows you may use:\n• summarize"

        upload = tg.upload_document(alice, texts(2), "items.xlsx", caption="/run summarize", chat=team)
        results = await w.results_of_in(team.id)
        assert results.reply_to is upload and (results.caption or "").startswith("@alice results")
        assert not [m for m in tg.bot_messages(team.id) if m.reply_to is other]
