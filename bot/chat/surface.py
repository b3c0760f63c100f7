"""What the platform-neutral chat layer needs from a chat platform, and the plain types
it speaks: who acts, where, what to say back. Adapters implement `ChatSurface`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TypeAlias

from bot.chat.buttons import Button
from engine.models import ChatRef, Schedule

Keyboard: TypeAlias = Sequence[Sequence[Button]]
"""Rows of buttons."""


class RetryLater(Exception):
    """The platform asked us to slow down (Telegram retry_after, Slack 429 Retry-After)."""

    def __init__(self, retry_after_s: float) -> None:
        super().__init__(f"retry after {retry_after_s:g} s")
        self.retry_after_s = retry_after_s


class FileTooLarge(Exception):
    """The platform refused a file we sent for its size (Telegram bots may send 50 MB)."""

    def __init__(self, filename: str, size: int) -> None:
        super().__init__(f"{filename} ({size} bytes) is too large to send")
        self.filename = filename
        self.size = size


class ChatSurface(Protocol):
    """Outbound messages on one platform. Message ids are strings on every platform."""

    async def post(self, chat: ChatRef, text: str, keyboard: Keyboard = ()) -> str:
        """Send a new message (in the chat's thread, replying to its upload) and return its id."""
        ...

    async def edit(
        self, chat: ChatRef, message_id: str, text: str, keyboard: Keyboard = ()
    ) -> None:
        """Replace a message's text and buttons (no buttons removes them).

        "Not modified" answers count as success; rate limits raise `RetryLater`.
        """
        ...

    async def send_file(self, chat: ChatRef, data: bytes, filename: str, caption: str) -> None:
        """Send a file into the chat (its thread), as a reply to the upload where possible.

        Raises `FileTooLarge` when the platform refuses the file's size."""
        ...


@dataclass(frozen=True, slots=True)
class Actor:
    """A person acting in a chat: ``user`` and ``chat`` are ``<platform>:<id>`` identities."""

    user: str
    chat: str
    display: str = ""

    @property
    def platform(self) -> str:
        return self.user.partition(":")[0]


@dataclass(frozen=True, slots=True)
class OutFile:
    filename: str
    data: bytes


@dataclass(frozen=True, slots=True)
class Reply:
    """One message to send back: text, optional buttons, optional attached file."""

    text: str
    keyboard: tuple[tuple[Button, ...], ...] = ()
    file: OutFile | None = None


class Scheduling(Protocol):
    """What chat commands need of the scheduler (the composition root adapts it)."""

    async def add(
        self, owner: str, workflow: str, when_text: str, source_name: str, source_path: str,
        chat: ChatRef | None, locale: str = "en",
    ) -> tuple[Schedule, datetime | None]:
        """Parse ``when_text`` (raising `WhenError`) and keep the schedule; returns next fire.

        ``locale`` is its maker's language, which the batches it starts keep."""
        ...

    async def list(self, owner: str | None) -> list[tuple[Schedule, datetime | None]]: ...

    async def remove(self, schedule_id: str, *, by: str, is_admin: bool) -> None: ...
