"""The person side of FakeTelegram: people and chats that write, upload and press buttons."""

from __future__ import annotations

import itertools
import secrets
import time
from typing import Any

from tests.fakes.telegram_format import command_entities
from tests.fakes.telegram_methods import BotMethods
from tests.fakes.telegram_model import CallbackRecord, FakeChat, FakeMessage, FakeUser, StoredFile

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class PersonSide(BotMethods):
    """Actions are synchronous: each one queues an update at once and wakes a waiting long poll."""

    users: dict[int, FakeUser]
    privacy_mode: bool
    dropped_updates: list[dict[str, Any]]
    _ids: itertools.count[int]
    _next_update_id: int

    # -- people and chats ---------------------------------------------------------------

    def user(self, first_name: str = "Alice", *, username: str | None = None, id: int | None = None,
             language_code: str | None = "en") -> FakeUser:
        """A person with a private chat with the bot (chat id = user id)."""
        user_id = id if id is not None else next(self._ids)
        person = FakeUser(user_id, first_name, username if username is not None else first_name.lower(),
                          language_code=language_code)
        self.users[user_id] = person
        self.chats[user_id] = FakeChat(user_id, "private", user=person)
        return person

    def group(self, title: str = "Team", *, supergroup: bool = False, id: int | None = None) -> FakeChat:
        n = next(self._ids)
        chat_id = id if id is not None else (-1001000000000 - n if supergroup else -n)
        chat = FakeChat(chat_id, "supergroup" if supergroup else "group", title=title)
        self.chats[chat_id] = chat
        return chat

    def private_chat(self, user: FakeUser) -> FakeChat:
        return self.chats[user.id]

    def block_bot(self, user: FakeUser, blocked: bool = True) -> None:
        """From now on the bot gets 403 "Forbidden: bot was blocked by the user" in this chat."""
        user.blocked_bot = blocked

    # -- acting ---------------------------------------------------------------------------

    def send_text(self, user: FakeUser, text: str, chat: FakeChat | None = None, *,
                  reply_to: FakeMessage | None = None) -> FakeMessage:
        """The person sends a text; "/words" carry bot_command entities as real clients set them."""
        target = chat or self.private_chat(user)
        msg = self._new_message(target, user, text=text, entities=command_entities(text), reply_to=reply_to)
        self._log(target.id, msg.message_id, user.name, "message", text)
        self._deliver_message(msg)
        return msg

    def upload_document(self, user: FakeUser, data: bytes, filename: str, caption: str | None = None,
                        mime_type: str | None = None, chat: FakeChat | None = None, *,
                        file_size: int | None = None, reply_to: FakeMessage | None = None) -> FakeMessage:
        """The person sends a file; `file_size` may declare a size larger than `data` (e.g. 25 MB)."""
        target = chat or self.private_chat(user)
        stored = self.store_file(data, filename, mime_type or (XLSX_MIME if filename.endswith(".xlsx")
                                                              else None), file_size)
        msg = self._new_message(target, user, document=stored, caption=caption,
                                caption_entities=command_entities(caption or ""), reply_to=reply_to)
        shown = f"[document {filename}, {stored.file_size} bytes]" + (f" {caption}" if caption else "")
        self._log(target.id, msg.message_id, user.name, "document", shown)
        self._deliver_message(msg)
        return msg

    def reply_to(self, message: FakeMessage, text: str, user: FakeUser | None = None) -> FakeMessage:
        """A text reply to an earlier message, by `user` or else the message's author / chat owner."""
        author = user or (message.chat.user if message.from_bot else message.sender)
        if author is None:
            raise ValueError("say which user replies to a bot message in a group")
        return self.send_text(author, text, message.chat, reply_to=message)

    def press_button(self, user: FakeUser, message: FakeMessage, callback_data: str | None = None, *,
                     text: str | None = None, strict: bool = True) -> str:
        """Press an inline button (by callback_data or label); returns the callback query id."""
        if text is not None:
            matches = [b.callback_data for b in message.buttons if b.text == text and b.callback_data]
            if not matches:
                raise AssertionError(f"no button {text!r} on #{message.message_id}: {message.buttons}")
            callback_data = matches[0]
        if callback_data is None:
            raise ValueError("give callback_data or text")
        if strict and callback_data not in message.callback_data:
            raise AssertionError(f"#{message.message_id} has no button {callback_data!r} now; "
                                 f"it has {message.callback_data}")
        query_id = str(secrets.randbits(62))
        record = CallbackRecord(query_id, user, message, callback_data, time.monotonic())
        self.callbacks[query_id] = record
        label = next((b.text for b in message.buttons if b.callback_data == callback_data), callback_data)
        self._log(message.chat.id, message.message_id, user.name, "press", f"[{label}] ({callback_data})")
        self.push_update("callback_query", {
            "id": query_id, "from": user.wire(), "message": message.wire(), "data": callback_data,
            "chat_instance": str(abs(message.chat.id) * 7919),
        })
        return query_id

    def push_update(self, kind: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        """Queue a raw update of a type ("message", "callback_query", ...); None if filtered out."""
        self._next_update_id += 1
        update = {"update_id": self._next_update_id, kind: payload}
        # allowed_updates filters when an update is created, as the real service does.
        if kind not in self.allowed_updates:
            self.dropped_updates.append(update)
            return None
        self.updates.append(update)
        self._notify()
        return update

    def _deliver_message(self, msg: FakeMessage) -> None:
        if not self._bot_sees(msg):
            msg.delivered = False
            self._log(msg.chat.id, msg.message_id, msg.sender.name, "hidden",
                      f"#{msg.message_id} not delivered to the bot (group privacy mode)")
            self._notify()
            return
        self.push_update("message", msg.wire())

    def _bot_sees(self, msg: FakeMessage) -> bool:
        """Group privacy mode: only commands, replies to the bot and mentions reach it."""
        if msg.chat.type == "private" or not self.privacy_mode:
            return True
        text = msg.text or msg.caption or ""
        mention = f"@{self.bot_user.username}"
        if text.startswith("/"):
            command = text.split()[0]
            return "@" not in command or command.endswith(mention)
        return (msg.reply_to is not None and msg.reply_to.from_bot) or mention in text

    def file_of(self, message: FakeMessage) -> StoredFile:
        if message.document is None:
            raise ValueError(f"#{message.message_id} carries no document")
        return message.document
