"""FakeTelegram driven by the real aiogram Bot and Dispatcher over loopback HTTP."""

from __future__ import annotations

import asyncio
import io
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiogram import Bot, Dispatcher, F
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.filters import Command
from aiogram.types import (
    BotCommand,
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    ReplyParameters,
)
from aiohttp import web

from tests.fakes.telegram import SECRET_HEADER, FakeTelegram
from tests.fakes.telegram_model import FILE_TOO_BIG, NOT_MODIFIED, QUERY_TOO_OLD


def kb(*labels: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[
        InlineKeyboardButton(text=label, callback_data=f"job:1:{label.lower()}") for label in labels
    ]])


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram.running() as fake:
        yield fake


@pytest.fixture
async def bot(tg: FakeTelegram) -> AsyncIterator[Bot]:
    async with tg.make_bot() as real_bot:
        yield real_bot


async def test_bot_methods_round_trip(tg: FakeTelegram, bot: Bot) -> None:
    alice = tg.user("Alice")
    me = await bot.get_me()
    assert (me.id, me.is_bot, me.username) == (42, True, "batch_test_bot")

    commands = [BotCommand(command="run", description="Run a workflow")]
    assert await bot.set_my_commands(commands)
    assert [c.command for c in await bot.get_my_commands()] == ["run"]
    assert await bot.delete_my_commands()
    assert await bot.get_my_commands() == []

    assert await bot.set_webhook("https://example.invalid/hook", secret_token="s3cret")
    assert (await bot.get_webhook_info()).url == "https://example.invalid/hook"
    assert tg.calls("setWebhook")[0].params["secret_token"] == "s3cret"
    assert await bot.delete_webhook(drop_pending_updates=True)
    assert tg.webhook is None
    assert await bot.send_chat_action(alice.id, "upload_document")
    assert tg.chat_actions == [(alice.id, "upload_document")]

    asked = tg.send_text(alice, "hello")
    sent = await bot.send_message(alice.id, "Progress 0/3", reply_markup=kb("Pause", "Cancel"),
                                  reply_parameters=ReplyParameters(message_id=asked.message_id))
    assert sent.reply_to_message is not None
    assert sent.reply_to_message.message_id == asked.message_id
    assert sent.reply_markup is not None
    assert [b.text for b in sent.reply_markup.inline_keyboard[0]] == ["Pause", "Cancel"]
    edited = await bot.edit_message_text("Progress 1/3", chat_id=alice.id, message_id=sent.message_id,
                                         reply_markup=kb("Resume"))
    assert isinstance(edited, Message)
    assert edited.edit_date is not None
    await bot.edit_message_reply_markup(chat_id=alice.id, message_id=sent.message_id,
                                        reply_markup=kb("Pause"))
    current = tg.message(sent.message_id)
    assert (current.text, current.callback_data) == ("Progress 1/3", ["job:1:pause"])
    assert tg.edit_count(sent.message_id) == 2
    assert await bot.delete_message(alice.id, sent.message_id)
    assert [m.message_id for m in tg.messages(alice.id)] == [asked.message_id]
    assert [str(e) for e in tg.transcript(alice.id)][:2] == [
        "alice: hello", "bot: Progress 0/3 [Pause | Cancel]"]


async def test_wrong_token_and_unknown_method(tg: FakeTelegram) -> None:
    async with FakeTelegram.running(token="43:OTHER") as other, Bot(
        "42:TEST", session=other.make_bot().session
    ) as stranger:
        with pytest.raises(TelegramUnauthorizedError):
            await stranger.get_me()
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{tg.base_url}/bot1:WRONG/getMe") as resp:
            assert (resp.status, await resp.json()) == (
                401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
        async with http.post(f"{tg.base_url}/bot42:TEST/launchRockets") as resp:
            assert (resp.status, (await resp.json())["description"]) == (404, "Not Found")


async def test_json_and_urlencoded_bodies(tg: FakeTelegram) -> None:
    bob = tg.user("Bob")
    markup = {"inline_keyboard": [[{"text": "Go", "callback_data": "go"}]]}
    async with aiohttp.ClientSession() as http:
        url = f"{tg.base_url}/bot42:TEST/sendMessage"
        async with http.post(url, json={"chat_id": bob.id, "text": "json", "reply_markup": markup}) as resp:
            assert (await resp.json())["result"]["reply_markup"] == markup
        async with http.post(url, data={"chat_id": str(bob.id), "text": "<b>form</b>",
                                        "parse_mode": "HTML"}) as resp:
            result = (await resp.json())["result"]
    assert result["text"] == "form"
    assert result["entities"] == [{"type": "bold", "offset": 0, "length": 4}]
    assert [m.text for m in tg.bot_messages(bob.id)] == ["json", "form"]


async def test_edit_rules(tg: FakeTelegram, bot: Bot) -> None:
    alice = tg.user()
    sent = await bot.send_message(alice.id, "Progress", reply_markup=kb("Pause"))
    with pytest.raises(TelegramBadRequest) as not_modified:
        await bot.edit_message_text("Progress", chat_id=alice.id, message_id=sent.message_id,
                                    reply_markup=kb("Pause"))
    assert not_modified.value.message == NOT_MODIFIED
    # Same text without reply_markup is a change: the keyboard goes away.
    await bot.edit_message_text("Progress", chat_id=alice.id, message_id=sent.message_id)
    assert tg.message(sent.message_id).keyboard == []
    assert tg.edit_count(sent.message_id) == 1
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("x", chat_id=alice.id, message_id=9999)
    mine = tg.send_text(alice, "mine")
    with pytest.raises(TelegramBadRequest, match="message can't be edited"):
        await bot.edit_message_text("x", chat_id=alice.id, message_id=mine.message_id)


async def test_validation_errors(tg: FakeTelegram, bot: Bot) -> None:
    alice = tg.user()
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(123456, "hi")
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(alice.id, "x" * 4097)
    long_data = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="x", callback_data="d" * 65)]])
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(alice.id, "hi", reply_markup=long_data)
    with pytest.raises(TelegramBadRequest, match="is reserved and must be escaped"):
        await bot.send_message(alice.id, "1. done", parse_mode="MarkdownV2")
    with pytest.raises(TelegramBadRequest, match="message to be replied not found"):
        await bot.send_message(alice.id, "hi", reply_to_message_id=777)
    tg.block_bot(alice)
    with pytest.raises(TelegramForbiddenError, match="blocked"):
        await bot.send_message(alice.id, "hi")
    assert tg.bot_messages(alice.id) == []


async def test_callback_answers(tg: FakeTelegram, bot: Bot) -> None:
    alice = tg.user()
    sent = await bot.send_message(alice.id, "Progress", reply_markup=kb("Pause", "Cancel"))
    query_id = tg.press_button(alice, tg.message(sent.message_id), text="Cancel")
    assert tg.updates[-1]["callback_query"]["data"] == "job:1:cancel"
    assert await bot.answer_callback_query(query_id, text="Cancelling")
    assert [(c.id, c.text) for c in tg.answered_callbacks] == [(query_id, "Cancelling")]
    with pytest.raises(TelegramBadRequest) as twice:
        await bot.answer_callback_query(query_id)
    assert twice.value.message == QUERY_TOO_OLD
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query("12345")
    with pytest.raises(AssertionError, match="no button"):
        tg.press_button(alice, tg.message(sent.message_id), "job:1:resume")


async def test_late_callback_answer_is_refused() -> None:
    async with FakeTelegram.running(callback_window_s=0.05) as tg, tg.make_bot() as bot:
        alice = tg.user()
        sent = await bot.send_message(alice.id, "x", reply_markup=kb("Pause"))
        query_id = tg.press_button(alice, tg.message(sent.message_id), "job:1:pause")
        await asyncio.sleep(0.1)
        with pytest.raises(TelegramBadRequest, match="query is too old"):
            await bot.answer_callback_query(query_id)
        assert not tg.callback(query_id).answered


async def test_faults(tg: FakeTelegram, bot: Bot) -> None:
    alice = tg.user()
    tg.rate_limit("sendMessage", retry_after=7)
    with pytest.raises(TelegramRetryAfter) as limited:
        await bot.send_message(alice.id, "hi")
    assert limited.value.retry_after == 7
    assert limited.value.message.endswith("Original description: Too Many Requests: retry after 7")
    tg.fail("editMessageText", 400, "Bad Request: message can't be edited")
    sent = await bot.send_message(alice.id, "hi")
    with pytest.raises(TelegramBadRequest, match="can't be edited"):
        await bot.edit_message_text("yo", chat_id=alice.id, message_id=sent.message_id)
    tg.server_error("getMe", 502, "Bad Gateway")
    with pytest.raises(TelegramServerError):
        await bot.get_me()
    tg.server_error("getMe", 502, raw_body="<html>502 Bad Gateway</html>")
    with pytest.raises(ClientDecodeError):
        await bot.get_me()
    tg.slow("getMe", 0.3)
    started = time.monotonic()
    await bot.get_me()
    assert time.monotonic() - started >= 0.3
    assert [c.status for c in tg.calls("sendMessage")] == [429, 200]
    assert tg.calls("editMessageText")[0].params["text"] == "yo"


async def test_flood_mode(tg: FakeTelegram, bot: Bot) -> None:
    alice = tg.user()
    tg.flood("sendMessage", retry_after=3, calls=2)
    for _ in range(2):
        with pytest.raises(TelegramRetryAfter):
            await bot.send_message(alice.id, "hi")
    await bot.send_message(alice.id, "hi")
    tg.flood("sendMessage", seconds=0.3)
    with pytest.raises(TelegramRetryAfter) as limited:
        await bot.send_message(alice.id, "hi")
    assert limited.value.retry_after == 1
    await asyncio.sleep(0.35)
    await bot.send_message(alice.id, "hi")
    assert [c.status for c in tg.calls("sendMessage")] == [429, 429, 200, 429, 200]


async def test_documents_attach_download_and_size_limit(tg: FakeTelegram, bot: Bot) -> None:
    alice = tg.user()
    payload = b"PK\x03\x04" + bytes(range(256)) * 40
    sent = await bot.send_document(alice.id, BufferedInputFile(payload, "result.xlsx"), caption="Done")
    call = tg.calls("sendDocument")[0]
    assert call.params["document"].startswith("attach://")
    assert call.files[call.params["document"].removeprefix("attach://")] == payload
    [stored] = tg.sent_documents(alice.id)
    assert (stored.document and stored.document.data, stored.caption) == (payload, "Done")
    assert sent.document is not None
    assert sent.document.file_name == "result.xlsx"
    again = await bot.send_document(alice.id, sent.document.file_id)
    assert again.document is not None
    assert again.document.file_id == sent.document.file_id
    downloaded = await bot.download(sent.document)
    assert isinstance(downloaded, io.BytesIO)
    assert downloaded.getvalue() == payload

    huge = tg.upload_document(alice, b"", "huge.xlsx", file_size=25 * 1024 * 1024)
    with pytest.raises(TelegramBadRequest) as too_big:
        await bot.get_file(tg.file_of(huge).file_id)
    assert too_big.value.message == FILE_TOO_BIG
    with pytest.raises(TelegramBadRequest, match="wrong file identifier"):
        await bot.send_document(alice.id, "no-such-file")


async def test_long_poll_offset_and_allowed_updates(tg: FakeTelegram, bot: Bot) -> None:
    alice = tg.user()
    started = time.monotonic()
    assert await bot.get_updates(timeout=0) == []
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await tg.wait_for(lambda: tg.polls_waiting)
    assert not poll.done()
    tg.send_text(alice, "/start now")
    [update] = await poll
    assert time.monotonic() - started < 2
    assert update.message is not None
    assert update.message.text == "/start now"
    assert update.message.entities is not None
    assert update.message.entities[0].type == "bot_command"
    assert len(await bot.get_updates(timeout=0)) == 1  # not confirmed yet
    assert await bot.get_updates(offset=update.update_id + 1, timeout=0) == []
    assert tg.updates == []

    await bot.get_updates(timeout=0, allowed_updates=["message"])
    sent = await bot.send_message(alice.id, "x", reply_markup=kb("Pause"))
    tg.press_button(alice, tg.message(sent.message_id), "job:1:pause")
    assert tg.updates == []
    assert len(tg.dropped_updates) == 1
    started = time.monotonic()
    assert await bot.get_updates(timeout=1) == []
    assert time.monotonic() - started >= 0.9


async def test_second_poller_terminates_the_first(tg: FakeTelegram, bot: Bot) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await tg.wait_for(lambda: tg.polls_waiting)
    second = asyncio.create_task(bot.get_updates(timeout=0))
    with pytest.raises(TelegramConflictError, match="terminated by other getUpdates"):
        await first
    assert await second == []


async def test_dispatcher_polling_end_to_end(tg: FakeTelegram, bot: Bot) -> None:
    dp = Dispatcher()
    got: dict[str, Any] = {}

    @dp.message(Command("start"))
    async def start(message: Message) -> None:
        await message.answer("Welcome", reply_markup=kb("Pause"))

    @dp.message(F.document)
    async def document(message: Message, bot: Bot) -> None:
        assert message.document is not None
        data = await bot.download(message.document)
        assert isinstance(data, io.BytesIO)
        got["file"] = data.getvalue()
        await message.reply(f"got {message.document.file_name} ({message.caption})")

    @dp.callback_query()
    async def pressed(query: CallbackQuery) -> None:
        await query.answer("Paused")
        assert isinstance(query.message, Message)
        await query.message.edit_text("Paused")

    polling = asyncio.create_task(dp.start_polling(bot, handle_signals=False, polling_timeout=1,
                                                   close_bot_session=False))
    alice = tg.user()
    tg.send_text(alice, "/start")
    welcome = await tg.wait_for_message(alice.id, "Welcome")
    upload = tg.upload_document(alice, b"PK\x03\x04sheet", "rows.xlsx", caption="/run summarize")
    reply = await tg.wait_for_message(alice.id, "got rows.xlsx", timeout=5)
    assert reply.reply_to is upload
    assert got["file"] == b"PK\x03\x04sheet"
    query_id = tg.press_button(alice, welcome, "job:1:pause")
    await tg.wait_for(lambda: tg.callback(query_id).answered and tg.edit_count(welcome.message_id))
    assert tg.callback(query_id).text == "Paused"
    assert welcome.text == "Paused"
    assert welcome.keyboard == []
    await dp.stop_polling()
    await polling
    # aiogram derives allowed_updates from the handlers registered.
    allowed = json.loads(tg.calls("getUpdates")[0].params["allowed_updates"])
    assert set(allowed) == {"message", "callback_query"}


async def test_group_privacy_and_replies(tg: FakeTelegram) -> None:
    alice = tg.user("Alice")
    team = tg.group("Team")
    chatter = tg.send_text(alice, "just chatting", team)
    command = tg.send_text(alice, "/status", team)
    other_bot = tg.send_text(alice, "/status@other_bot", team)
    upload = tg.upload_document(alice, b"PK", "a.xlsx", chat=team)
    reply = tg.reply_to(upload, "/schedule tonight 02:00 summarize")
    assert [chatter.delivered, command.delivered, other_bot.delivered, upload.delivered] == [
        False, True, False, False]
    delivered = [u["message"]["message_id"] for u in tg.updates]
    assert delivered == [command.message_id, reply.message_id]
    assert tg.updates[-1]["message"]["reply_to_message"]["document"]["file_name"] == "a.xlsx"
    assert team.id < 0
    assert tg.updates[0]["message"]["chat"] == {"id": team.id, "type": "group",
                                                               "title": "Team"}


async def test_wait_for_reports_transcript_on_timeout(tg: FakeTelegram) -> None:
    alice = tg.user()
    tg.send_text(alice, "/help")
    with pytest.raises(AssertionError, match="alice: /help"):
        await tg.wait_for(lambda: tg.bot_messages(alice.id), timeout=0.1)


async def test_webhook_delivery_with_secret(tg: FakeTelegram, bot: Bot) -> None:
    received: list[tuple[str | None, dict[str, Any]]] = []

    async def hook(request: web.Request) -> web.Response:
        received.append((request.headers.get(SECRET_HEADER), await request.json()))
        return web.json_response({})

    app = web.Application()
    app.router.add_post("/telegram/webhook", hook)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        host, port = runner.addresses[0][:2]
        await bot.set_webhook(f"http://{host}:{port}/telegram/webhook", secret_token="abc")
        with pytest.raises(TelegramConflictError, match="webhook is active"):
            await bot.get_updates()
        alice = tg.user()
        tg.send_text(alice, "/start")
        await tg.wait_for(lambda: received and not tg.updates)
        assert received[0][0] == "abc"
        assert received[0][1]["message"]["text"] == "/start"
        await bot.delete_webhook()
    finally:
        await runner.cleanup()


async def test_parse_modes_store_plain_text_and_entities(tg: FakeTelegram, bot: Bot) -> None:
    alice = tg.user()
    html = await bot.send_message(alice.id, "<b>Done</b> 3/3 &amp; <a href='https://x.test'>log</a>",
                                  parse_mode="HTML")
    assert html.text == "Done 3/3 & log"
    spans = [(e.type, e.offset, e.length) for e in html.entities or []]
    assert spans == [("bold", 0, 4), ("text_link", 11, 3)]
    md = await bot.send_message(alice.id, r"*Batch* 7f3a2c: 1\.5 rows/s", parse_mode="MarkdownV2")
    assert md.text == "Batch 7f3a2c: 1.5 rows/s"
    with pytest.raises(TelegramBadRequest, match='Unsupported start tag "br"'):
        await bot.send_message(alice.id, "a<br>b", parse_mode="HTML")
    # Entity offsets count UTF-16 units: the emoji takes two.
    emoji = await bot.send_message(alice.id, "😀 <i>x</i>", parse_mode="HTML")
    assert [(e.offset, e.length) for e in emoji.entities or []] == [(3, 1)]


async def test_wildcard_fault_and_edit_times(tg: FakeTelegram, bot: Bot) -> None:
    alice = tg.user()
    sent = await bot.send_message(alice.id, "0/2", reply_markup=kb("Pause"))
    tg.fail("*", 403, "Forbidden: bot was kicked from the group chat")
    with pytest.raises(TelegramForbiddenError):
        await bot.edit_message_text("1/2", chat_id=alice.id, message_id=sent.message_id)
    before = time.monotonic()
    for text in ("1/2", "2/2"):
        await bot.edit_message_text(text, chat_id=alice.id, message_id=sent.message_id,
                                    reply_markup=kb("Pause"))
    times = tg.edit_times(sent.message_id)
    assert len(times) == 2
    assert before <= times[0] <= times[1]
    assert tg.transcript_text(alice.id).splitlines() == [
        "bot: 0/2 [Pause]", "bot [edit]: 1/2 [Pause]", "bot [edit]: 2/2 [Pause]"]
    assert [c.status for c in tg.calls("editMessageText")] == [403, 200, 200]
