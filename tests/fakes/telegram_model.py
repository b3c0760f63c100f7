"""Records kept by FakeTelegram: people, chats, messages, files, callbacks, calls, faults."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

# The exact strings the real Bot API answers with; adapters match on some of them.
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"
FILE_TOO_BIG = "Bad Request: file is too big"
CHAT_NOT_FOUND = "Bad Request: chat not found"
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024


class TelegramError(Exception):
    """An error answer of the Bot API: HTTP status, description, optional retry_after."""

    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error_code": self.status, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def bad_request(text: str) -> TelegramError:
    return TelegramError(400, f"Bad Request: {text}")


@dataclasses.dataclass(eq=False)
class FakeUser:
    id: int
    first_name: str
    username: str | None = None
    is_bot: bool = False
    language_code: str | None = None
    blocked_bot: bool = False

    @property
    def name(self) -> str:
        return self.username or self.first_name

    def wire(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        if self.username:
            out["username"] = self.username
        if self.language_code:
            out["language_code"] = self.language_code
        return out


@dataclasses.dataclass(eq=False)
class FakeChat:
    id: int
    type: str  # private | group | supergroup
    title: str | None = None
    user: FakeUser | None = None  # the other side of a private chat

    def wire(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "type": self.type}
        if self.type == "private" and self.user is not None:
            out["first_name"] = self.user.first_name
            if self.user.username:
                out["username"] = self.user.username
        else:
            out["title"] = self.title or f"chat {self.id}"
        return out


@dataclasses.dataclass(eq=False)
class StoredFile:
    """A file the fake holds: uploaded by a person or sent by the bot."""

    file_id: str
    file_unique_id: str
    data: bytes
    file_size: int
    filename: str | None
    mime_type: str | None
    file_path: str

    def wire_document(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.file_size,
        }
        if self.filename is not None:
            out["file_name"] = self.filename
        if self.mime_type is not None:
            out["mime_type"] = self.mime_type
        return out


@dataclasses.dataclass(frozen=True)
class Button:
    text: str
    callback_data: str | None = None
    url: str | None = None


@dataclasses.dataclass(frozen=True)
class EditRecord:
    at: float  # time.monotonic(), for interval checks
    date: int  # unix time, reported as edit_date
    kind: str  # "text" | "markup"
    text: str | None
    reply_markup: dict[str, Any] | None


@dataclasses.dataclass(eq=False)
class FakeMessage:
    """One message as the fake stores it; `reply_markup` and `text` are always current."""

    message_id: int
    chat: FakeChat
    sender: FakeUser
    date: int
    text: str | None = None
    entities: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    caption: str | None = None
    caption_entities: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    document: StoredFile | None = None
    reply_markup: dict[str, Any] | None = None
    reply_to: FakeMessage | None = None
    edits: list[EditRecord] = dataclasses.field(default_factory=list)
    deleted: bool = False
    delivered: bool = True  # False when group privacy mode kept it from the bot

    @property
    def chat_id(self) -> int:
        return self.chat.id

    @property
    def from_bot(self) -> bool:
        return self.sender.is_bot

    @property
    def keyboard(self) -> list[list[Button]]:
        """The current inline keyboard as rows of buttons ([] when there is none)."""
        rows = (self.reply_markup or {}).get("inline_keyboard") or []
        return [
            [Button(b.get("text", ""), b.get("callback_data"), b.get("url")) for b in row] for row in rows
        ]

    @property
    def buttons(self) -> list[Button]:
        return [b for row in self.keyboard for b in row]

    @property
    def callback_data(self) -> list[str]:
        return [b.callback_data for b in self.buttons if b.callback_data is not None]

    @property
    def edit_times(self) -> list[float]:
        return [e.at for e in self.edits]

    def wire(self, *, with_reply: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "message_id": self.message_id,
            "from": self.sender.wire(),
            "chat": self.chat.wire(),
            "date": self.date,
        }
        if self.text is not None:
            out["text"] = self.text
            if self.entities:
                out["entities"] = self.entities
        if self.document is not None:
            out["document"] = self.document.wire_document()
        if self.caption is not None:
            out["caption"] = self.caption
            if self.caption_entities:
                out["caption_entities"] = self.caption_entities
        if self.reply_markup and "inline_keyboard" in self.reply_markup:
            out["reply_markup"] = self.reply_markup
        if self.edits:
            out["edit_date"] = self.edits[-1].date
        if with_reply and self.reply_to is not None:
            # The real API nests the replied-to message one level deep only.
            out["reply_to_message"] = self.reply_to.wire(with_reply=False)
        return out


@dataclasses.dataclass(eq=False)
class CallbackRecord:
    """A button press and how (or whether) the bot answered it."""

    id: str
    user: FakeUser
    message: FakeMessage
    data: str
    pressed_at: float
    answered: bool = False
    answered_at: float | None = None
    text: str | None = None
    show_alert: bool = False
    url: str | None = None
    cache_time: int | None = None


@dataclasses.dataclass(frozen=True)
class Call:
    """One request the bot made, as received, with the status it was answered with."""

    method: str
    params: dict[str, Any]
    files: dict[str, bytes]
    at: float
    status: int
    description: str | None


@dataclasses.dataclass(frozen=True)
class TranscriptEntry:
    at: float
    chat_id: int
    message_id: int | None
    actor: str  # "bot" or the person's name
    kind: str  # message | document | edit | markup | press | answer | delete
    text: str

    def __str__(self) -> str:
        return f"{self.actor}: {self.text}" if self.kind in {"message", "document"} else (
            f"{self.actor} [{self.kind}]: {self.text}"
        )


@dataclasses.dataclass
class Fault:
    """One queued answer that replaces (error) or delays (slowness) a method call."""

    status: int | None = None
    description: str = ""
    retry_after: int | None = None
    delay: float = 0.0
    raw_body: str | None = None  # e.g. an HTML 502 page instead of JSON


@dataclasses.dataclass
class Flood:
    """429 for every call to a method until `calls` run out or `until` passes."""

    retry_after: int
    calls: int | None
    until: float | None

    def active(self, now: float) -> bool:
        if self.until is not None and now >= self.until:
            return False
        return not (self.calls is not None and self.calls <= 0)

    def retry_after_at(self, now: float) -> int:
        if self.until is not None:
            return max(1, int(self.until - now + 0.999))
        return self.retry_after


def keyboard_summary(markup: dict[str, Any] | None) -> str:
    rows = (markup or {}).get("inline_keyboard") or []
    labels = [str(b.get("text", "")) for row in rows for b in row]
    return f" [{' | '.join(labels)}]" if labels else ""


@dataclasses.dataclass(frozen=True)
class Upload:
    """A multipart file part as received."""

    data: bytes
    filename: str | None
    content_type: str | None


class Params:
    """Request parameters from any encoding; form values arrive as strings, JSON as native values."""

    def __init__(self, values: dict[str, Any], uploads: dict[str, Upload]) -> None:
        self.values = values
        self.uploads = uploads

    def raw(self, name: str) -> Any:
        value = self.values.get(name)
        return None if value == "" else value

    def text(self, name: str, *, required: bool = False) -> str | None:
        value = self.raw(name)
        if value is None:
            if required:
                raise bad_request(f"{name} is empty")
            return None
        return value if isinstance(value, str) else json.dumps(value)

    def integer(self, name: str, *, required: bool = False) -> int | None:
        value = self.raw(name)
        if value is None:
            if required:
                raise bad_request(f"{name} is empty")
            return None
        try:
            return int(value)
        except (TypeError, ValueError):
            raise bad_request(f"invalid {name} specified") from None

    def flag(self, name: str) -> bool:
        value = self.raw(name)
        return value is True or (isinstance(value, str) and value.lower() in {"true", "1"})

    def obj(self, name: str) -> Any:
        value = self.raw(name)
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                raise bad_request(f"can't parse {name} JSON object") from None
        return value

    def file(self, name: str) -> Upload | str | None:
        """A file part (directly or via attach://) or a file_id / URL string."""
        if name in self.uploads:
            return self.uploads[name]
        value = self.text(name)
        if value is not None and value.startswith("attach://"):
            upload = self.uploads.get(value.removeprefix("attach://"))
            if upload is None:
                raise bad_request(f"can't find attached file \"{value.removeprefix('attach://')}\"")
            return upload
        return value
