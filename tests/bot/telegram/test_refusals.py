"""Bad input from Telegram gets a clear, specific answer and starts nothing."""

from __future__ import annotations

from pathlib import Path

from tests.bot.telegram import World, result_rows, texts, world
from tests.fakes.telegram_model import FakeMessage, FakeUser
from tests.support import sheet_bytes

RUN = "/run summarize"


async def answer_to(w: World, user: FakeUser, asked: FakeMessage) -> FakeMessage:
    return await w.tg.wait_for(
        lambda: next((m for m in w.tg.bot_messages(user.id) if m.reply_to is asked), None))


async def test_a_stranger_is_refused(tmp_path: Path) -> None:
    async with world(tmp_path, allow=("telegram:555",)) as w:
        tg = w.tg
        eve = tg.user("Eve", id=666)
        summary = await answer_to(w, eve, tg.upload_document(eve, texts(2), "items.xlsx"))
        assert summary.text == "You may not use this bot; ask an admin to add you."
        run = await answer_to(w, eve, tg.upload_document(eve, texts(2), "items.xlsx", caption=RUN))
        assert run.text == "You may not use workflow summarize."
        template = await answer_to(w, eve, tg.send_text(eve, "/template summarize"))
        assert template.text == "You may not use workflow summarize."
        assert not w.dify.counters.requests_by_key and not tg.sent_documents(eve.id)

        alice = tg.user("Alice", id=555)  # the one person allowed
        tg.upload_document(alice, texts(1), "items.xlsx", caption=RUN)
        await w.results_of(alice)


async def test_a_file_that_is_not_a_workbook(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        tg = w.tg
        alice = tg.user("Alice")
        asked = tg.upload_document(alice, b"%PDF-1.7 this is a report", "report.xlsx", caption=RUN)
        answer = await answer_to(w, alice, asked)
        assert "report.xlsx" in (answer.text or "") and "PDF" in (answer.text or ""), answer.text
        assert not w.dify.counters.requests_by_key


async def test_bad_rows_are_listed_and_marked_in_an_annotated_copy(tmp_path: Path) -> None:
    sheet = sheet_bytes(["Text", "Note"], [["fine", ""], [None, "no text"], ["x" * 300, ""]])
    async with world(tmp_path) as w:
        tg = w.tg
        alice = tg.user("Alice")
        asked = tg.upload_document(alice, sheet, "items.xlsx", caption=RUN)
        answer = await answer_to(w, alice, asked)
        text = answer.text or answer.caption or ""
        assert "✗ 2 problems" in text, tg.transcript_text()
        assert "row 3, column 'Text'" in text and "row 4, column 'Text'" in text
        copy = await tg.wait_for(lambda: next(iter(tg.sent_documents(alice.id)), None))
        assert copy.document is not None and copy.document.filename == "items-problems.xlsx"
        assert copy.reply_to is asked
        assert len(result_rows(copy)) >= 3
        assert not w.dify.counters.requests_by_key


async def test_a_file_too_big_is_refused_before_download(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        tg = w.tg
        alice = tg.user("Alice")
        asked = tg.upload_document(alice, texts(2), "huge.xlsx", caption=RUN,
                                   file_size=25 * 1024 * 1024)
        answer = await answer_to(w, alice, asked)
        assert answer.text == "huge.xlsx is 25.0 MB; the limit is 20 MB. Split it and send the parts."
        assert tg.calls("getFile") == [], "no download was tried"


async def test_empty_files_start_nothing(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        tg = w.tg
        alice = tg.user("Alice")
        headers_only = await answer_to(w, alice, tg.upload_document(alice, texts(0), "empty.xlsx"))
        assert "The sheet has no data rows; nothing can run." in (headers_only.text or "")
        assert not headers_only.buttons, "nothing to run, so no Run button"
        run_empty = await answer_to(
            w, alice, tg.upload_document(alice, texts(0), "empty.xlsx", caption=RUN))
        assert "no data rows" in (run_empty.text or "")
        zero = await answer_to(w, alice, tg.upload_document(alice, b"", "zero.xlsx", caption=RUN))
        assert "zero.xlsx" in (zero.text or ""), zero.text
        assert not w.dify.counters.requests_by_key


async def test_unknown_commands_and_workflows_are_named(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        tg = w.tg
        alice = tg.user("Alice")
        unknown = await answer_to(w, alice, tg.send_text(alice, "/frobnicate"))
        assert unknown.text == "Unknown command /frobnicate. Send /help for the list."
        workflow = await answer_to(w, alice, tg.send_text(alice, "/template nosuch"))
        assert workflow.text == "There is no workflow nosuch. Send /workflows for the ones you may use."
        no_file = await answer_to(w, alice, tg.send_text(alice, "/run summarize"))
        assert "Send the spreadsheet with the caption /run <workflow>" in (no_file.text or "")
