"""Bot API method handlers of FakeTelegram, with the real validation rules and error strings."""

from __future__ import annotations

import json
import mimetypes
import time
from collections.abc import Awaitable, Callable
from typing import Any

from tests.fakes.telegram_format import render, utf16_len
from tests.fakes.telegram_model import (
    CHAT_NOT_FOUND,
    FILE_TOO_BIG,
    MAX_DOWNLOAD_BYTES,
    NOT_MODIFIED,
    QUERY_TOO_OLD,
    CallbackRecord,
    EditRecord,
    FakeChat,
    FakeMessage,
    FakeUser,
    Params,
    StoredFile,
    TelegramError,
    TranscriptEntry,
    Upload,
    bad_request,
    keyboard_summary,
)

DEFAULT_UPDATES = ["message", "edited_message", "channel_post", "edited_channel_post", "callback_query",
                   "inline_query", "chosen_inline_result", "shipping_query", "pre_checkout_query",
                   "poll", "poll_answer", "my_chat_member", "chat_join_request"]
CHAT_ACTIONS = {"typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
                "upload_document", "choose_sticker", "find_location", "record_video_note",
                "upload_video_note"}


Handler = Callable[[Params], Awaitable[Any]]


class BotMethods:
    """The state the Bot API acts on, and one handler per method (looked up case-insensitively)."""

    bot_user: FakeUser
    chats: dict[int, FakeChat]
    all_messages: dict[int, FakeMessage]
    files: dict[str, StoredFile]
    callbacks: dict[str, CallbackRecord]
    updates: list[dict[str, Any]]
    allowed_updates: list[str]
    commands: dict[str, list[dict[str, Any]]]
    webhook: dict[str, Any] | None
    chat_actions: list[tuple[int, str]]
    entries: list[TranscriptEntry]
    callback_window_s: float | None
    max_upload_bytes: int
    _poll_generation: int
    polls_waiting: int
    _closing: bool
    _next_message_id: int
    _next_file: int

    def _notify(self) -> None:
        raise NotImplementedError

    async def _wait_changed(self, seconds: float) -> None:
        raise NotImplementedError

    def _webhook_changed(self) -> None:
        raise NotImplementedError

    def handlers(self) -> dict[str, Handler]:
        names = ["getMe", "getUpdates", "sendMessage", "editMessageText", "editMessageReplyMarkup",
                 "answerCallbackQuery", "sendDocument", "getFile", "setMyCommands", "deleteMyCommands",
                 "getMyCommands", "setWebhook", "deleteWebhook", "getWebhookInfo", "sendChatAction",
                 "deleteMessage"]
        return {name.lower(): getattr(self, "m_" + name) for name in names}

    # -- shared helpers -----------------------------------------------------------------

    def _log(self, chat_id: int, message_id: int | None, actor: str, kind: str, text: str) -> None:
        self.entries.append(TranscriptEntry(time.monotonic(), chat_id, message_id, actor, kind, text))

    def _chat(self, params: Params) -> FakeChat:
        raw = params.raw("chat_id")
        if raw is None:
            raise bad_request("chat_id is empty")
        if isinstance(raw, str) and raw.startswith("@"):
            found = [c for c in self.chats.values() if c.user and c.user.username == raw[1:]]
            if not found:
                raise TelegramError(400, CHAT_NOT_FOUND)
            chat = found[0]
        else:
            chat_id = params.integer("chat_id")
            if chat_id not in self.chats:
                raise TelegramError(400, CHAT_NOT_FOUND)
            chat = self.chats[chat_id]
        if chat.user is not None and chat.user.blocked_bot:
            raise TelegramError(403, "Forbidden: bot was blocked by the user")
        return chat

    def _message(self, chat: FakeChat, message_id: int | None, missing: str) -> FakeMessage:
        msg = self.all_messages.get(message_id or 0)
        if msg is None or msg.chat is not chat or msg.deleted:
            raise bad_request(missing)
        return msg

    def _markup(self, params: Params) -> dict[str, Any] | None:
        markup = params.obj("reply_markup")
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise bad_request("can't parse reply keyboard markup JSON object")
        for row in markup.get("inline_keyboard") or []:
            for button in row:
                data = button.get("callback_data")
                if data is not None and not 1 <= len(str(data).encode()) <= 64:
                    raise bad_request("BUTTON_DATA_INVALID")
                if not any(k != "text" for k in button):
                    raise bad_request("text buttons are unallowed in the inline keyboard")
        return markup

    def _reply_target(self, params: Params, chat: FakeChat) -> FakeMessage | None:
        reply = params.obj("reply_parameters") or {}
        message_id = reply.get("message_id") if isinstance(reply, dict) else None
        if message_id is None:
            message_id = params.integer("reply_to_message_id")
        if message_id is None:
            return None
        target = self.all_messages.get(int(message_id))
        if target is None or target.chat is not chat or target.deleted:
            if reply.get("allow_sending_without_reply") or params.flag("allow_sending_without_reply"):
                return None
            raise bad_request("message to be replied not found")
        return target

    def _new_message(self, chat: FakeChat, sender: FakeUser, **fields: Any) -> FakeMessage:
        self._next_message_id += 1
        msg = FakeMessage(self._next_message_id, chat, sender, int(time.time()), **fields)
        self.all_messages[msg.message_id] = msg
        return msg

    def store_file(self, data: bytes, filename: str | None, mime_type: str | None,
                   file_size: int | None = None) -> StoredFile:
        self._next_file += 1
        n = self._next_file
        suffix = "." + filename.rsplit(".", 1)[-1] if filename and "." in filename else ""
        if mime_type is None and filename:
            mime_type = mimetypes.guess_type(filename)[0]
        stored = StoredFile(
            file_id=f"BQACAgIAAxkBAAI{n:06d}fake", file_unique_id=f"AgAD{n:06d}",
            data=data, file_size=len(data) if file_size is None else file_size,
            filename=filename, mime_type=mime_type, file_path=f"documents/file_{n}{suffix}",
        )
        self.files[stored.file_id] = stored
        return stored

    def _text(self, params: Params, field: str, limit: int) -> tuple[str, list[dict[str, Any]]]:
        raw = params.text(field) or ""
        entities_field = "caption_entities" if field == "caption" else "entities"
        text, entities = render(raw, params.text("parse_mode"), params.obj(entities_field))
        if field == "text" and not text.strip():
            raise bad_request("message text is empty")
        if utf16_len(text) > limit:
            raise bad_request("message is too long" if field == "text" else "message caption is too long")
        return text, entities

    # -- methods --------------------------------------------------------------------------

    async def m_getMe(self, params: Params) -> Any:
        return {**self.bot_user.wire(), "can_join_groups": True, "can_read_all_group_messages": False,
                "supports_inline_queries": False}

    async def m_getUpdates(self, params: Params) -> Any:
        if self.webhook is not None:
            raise TelegramError(409, "Conflict: can't use getUpdates method while webhook is active; "
                                     "use deleteWebhook to delete the webhook first")
        self._poll_generation += 1
        generation = self._poll_generation
        self._notify()  # an earlier long poll still waiting is terminated with 409
        offset = params.integer("offset")
        limit = min(max(params.integer("limit") or 100, 1), 100)
        timeout = max(params.integer("timeout") or 0, 0)
        allowed = params.obj("allowed_updates")
        if isinstance(allowed, list):
            self.allowed_updates = [str(a) for a in allowed] or list(DEFAULT_UPDATES)
        if offset is not None:
            if offset < 0:
                self.updates = self.updates[offset:]
            else:
                self.updates = [u for u in self.updates if u["update_id"] >= offset]
        deadline = time.monotonic() + timeout
        self.polls_waiting += 1
        self._notify()
        try:
            while not self.updates and not self._closing:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                await self._wait_changed(remaining)
                if generation != self._poll_generation:
                    raise TelegramError(409, "Conflict: terminated by other getUpdates request; make "
                                             "sure that only one bot instance is running")
        finally:
            self.polls_waiting -= 1
        return self.updates[:limit]

    async def m_sendMessage(self, params: Params) -> Any:
        chat = self._chat(params)
        text, entities = self._text(params, "text", 4096)
        markup = self._markup(params)
        reply_to = self._reply_target(params, chat)
        msg = self._new_message(chat, self.bot_user, text=text, entities=entities, reply_markup=markup,
                                reply_to=reply_to)
        self._log(chat.id, msg.message_id, "bot", "message", text + keyboard_summary(markup))
        return msg.wire()

    def _edit_target(self, params: Params) -> FakeMessage:
        if params.raw("inline_message_id") is not None:
            raise bad_request("MESSAGE_ID_INVALID")
        chat = self._chat(params)
        if params.raw("message_id") is None:
            raise bad_request("message identifier is not specified")
        msg = self._message(chat, params.integer("message_id"), "message to edit not found")
        if not msg.from_bot:
            raise bad_request("message can't be edited")
        return msg

    def _record_edit(self, msg: FakeMessage, kind: str) -> None:
        msg.edits.append(EditRecord(time.monotonic(), int(time.time()), kind, msg.text, msg.reply_markup))
        shown = msg.text if kind == "text" else f"#{msg.message_id} keyboard"
        self._log(msg.chat.id, msg.message_id, "bot", "edit" if kind == "text" else "markup",
                  f"{shown}{keyboard_summary(msg.reply_markup) or ' (no keyboard)'}")

    async def m_editMessageText(self, params: Params) -> Any:
        msg = self._edit_target(params)
        if msg.text is None:
            raise bad_request("there is no text in the message to edit")
        text, entities = self._text(params, "text", 4096)
        # No reply_markup in the request removes the keyboard, as the real API does.
        markup = self._markup(params)
        if (text, entities, markup) == (msg.text, msg.entities, msg.reply_markup):
            raise TelegramError(400, NOT_MODIFIED)
        msg.text, msg.entities, msg.reply_markup = text, entities, markup
        self._record_edit(msg, "text")
        return msg.wire()

    async def m_editMessageReplyMarkup(self, params: Params) -> Any:
        msg = self._edit_target(params)
        markup = self._markup(params)
        if markup == msg.reply_markup:
            raise TelegramError(400, NOT_MODIFIED)
        msg.reply_markup = markup
        self._record_edit(msg, "markup")
        return msg.wire()

    async def m_deleteMessage(self, params: Params) -> Any:
        chat = self._chat(params)
        msg = self._message(chat, params.integer("message_id", required=True), "message to delete not found")
        msg.deleted = True
        self._log(chat.id, msg.message_id, "bot", "delete", f"deleted #{msg.message_id}")
        return True

    async def m_answerCallbackQuery(self, params: Params) -> Any:
        query_id = params.text("callback_query_id", required=True)
        record = self.callbacks.get(query_id or "")
        now = time.monotonic()
        too_late = (self.callback_window_s is not None and record is not None
                    and now - record.pressed_at > self.callback_window_s)
        if record is None or record.answered or too_late:
            raise TelegramError(400, QUERY_TOO_OLD)
        record.answered, record.answered_at = True, now
        record.text, record.show_alert = params.text("text"), params.flag("show_alert")
        record.url, record.cache_time = params.text("url"), params.integer("cache_time")
        shown = repr(record.text) if record.text else "(no text)"
        self._log(record.message.chat.id, record.message.message_id, "bot", "answer",
                  f"{shown}{' alert' if record.show_alert else ''} to {record.data!r}")
        return True

    async def m_sendDocument(self, params: Params) -> Any:
        chat = self._chat(params)
        source = params.file("document")
        if source is None:
            raise bad_request("there is no document in the request")
        if isinstance(source, Upload):
            if len(source.data) > self.max_upload_bytes:
                raise TelegramError(413, "Request Entity Too Large")
            stored = self.store_file(source.data, source.filename, None)
        elif source in self.files:
            stored = self.files[source]
        else:
            raise bad_request("wrong file identifier/HTTP URL specified")
        caption, caption_entities = self._text(params, "caption", 1024)
        msg = self._new_message(
            chat, self.bot_user, document=stored, caption=caption or None,
            caption_entities=caption_entities, reply_markup=self._markup(params),
            reply_to=self._reply_target(params, chat),
        )
        shown = f"[document {stored.filename}, {stored.file_size} bytes]" + (f" {caption}" if caption else "")
        self._log(chat.id, msg.message_id, "bot", "document", shown)
        return msg.wire()

    async def m_getFile(self, params: Params) -> Any:
        file_id = params.text("file_id", required=True)
        stored = self.files.get(file_id or "")
        if stored is None:
            raise bad_request("invalid file_id")
        if stored.file_size > MAX_DOWNLOAD_BYTES:
            raise TelegramError(400, FILE_TOO_BIG)
        return {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id,
                "file_size": stored.file_size, "file_path": stored.file_path}

    @staticmethod
    def _commands_key(params: Params) -> str:
        scope = params.obj("scope") or {"type": "default"}
        return json.dumps([scope, params.text("language_code") or ""], sort_keys=True)

    async def m_setMyCommands(self, params: Params) -> Any:
        commands = params.obj("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise bad_request("commands must be a list of at most 100 commands")
        for cmd in commands:
            name = str(cmd.get("command", ""))
            if not (1 <= len(name) <= 32 and name == name.lower() and name.replace("_", "").isalnum()):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(cmd.get("description", ""))) <= 256:
                raise bad_request("command description is empty")
        self.commands[self._commands_key(params)] = commands
        return True

    async def m_deleteMyCommands(self, params: Params) -> Any:
        self.commands.pop(self._commands_key(params), None)
        return True

    async def m_getMyCommands(self, params: Params) -> Any:
        return self.commands.get(self._commands_key(params), [])

    async def m_setWebhook(self, params: Params) -> Any:
        url = params.text("url") or ""
        if params.flag("drop_pending_updates"):
            self.updates.clear()
        if not url:
            self.webhook = None
        else:
            if not url.startswith(("https://", "http://")):
                raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
            allowed = params.obj("allowed_updates")
            if isinstance(allowed, list):
                self.allowed_updates = [str(a) for a in allowed] or list(DEFAULT_UPDATES)
            self.webhook = {"url": url, "secret_token": params.text("secret_token"),
                            "max_connections": params.integer("max_connections") or 40}
        self._webhook_changed()
        return True

    async def m_deleteWebhook(self, params: Params) -> Any:
        if params.flag("drop_pending_updates"):
            self.updates.clear()
        self.webhook = None
        self._webhook_changed()
        return True

    async def m_getWebhookInfo(self, params: Params) -> Any:
        return {"url": (self.webhook or {}).get("url", ""), "has_custom_certificate": False,
                "pending_update_count": len(self.updates)}

    async def m_sendChatAction(self, params: Params) -> Any:
        chat = self._chat(params)
        action = params.text("action", required=True) or ""
        if action not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        self.chat_actions.append((chat.id, action))
        return True
