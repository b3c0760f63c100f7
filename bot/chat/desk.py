"""What the daemon hands each chat adapter, and what an adapter must be. Adapters import
this module, never the daemon, so they stay free of the composition root's wiring."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from aiohttp import web

from bot.chat.access import Access
from bot.chat.handlers import CommandHandlers
from bot.chat.surface import ChatSurface
from bot.chat.text.renderer import MessageBook, Messages
from bot.chat.uploads import UploadDesk
from bot.ops.health import PartHealth


@dataclass(frozen=True)
class Speaking:
    """What answers one person: the handlers and the wording of their language."""

    commands: CommandHandlers
    uploads: UploadDesk
    messages: Messages


@dataclass(frozen=True)
class ChatDesk:
    """Everything an adapter needs to answer people, in the platform's own wording and in
    each person's language (``[daemon] locale``, see `MessageBook`)."""

    book: MessageBook
    by_locale: Mapping[str, Speaking]
    access: Access
    max_file_bytes: int

    def speaking(self, said: str | None) -> Speaking:
        """For a person whose platform reports language ``said`` (None: not known)."""
        return self.by_locale[self.book.for_person(said).locale]

    @property
    def messages(self) -> Messages:
        """For words not meant for one person (a command menu's default)."""
        return self.book.default


class ChatAdapter(Protocol):
    """A chat front end: receives until cancelled, sends through its surface."""

    platform: str
    surface: ChatSurface
    health: PartHealth
    """Where the adapter says it cannot work (token rejected, connection down); the daemon sets it."""

    def routes(self) -> Sequence[web.RouteDef]:
        """HTTP routes to mount on the daemon's server (webhooks); may be empty."""
        ...

    async def check(self) -> None:
        """At start: raise `ConfigError` when the platform rejects the credentials.

        Network trouble is retried here, not raised: the platform may be back soon."""
        ...

    async def run(self) -> None:
        """Receive messages until cancelled."""
        ...

    async def aclose(self) -> None: ...
