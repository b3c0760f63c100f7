"""What every chat message is built from: command spelling, the length cap and escaping,
durations, times and lists, and the scrubbing of text that came from elsewhere."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.chat.text.catalogues import say_duration
from bot.chat.text.catalogues.en import EnglishWording

MAX_TEXT_CHARS = 3500
"""Below Telegram's 4096 and Slack's 3000-per-section after the adapter adds its framing."""

# Tokens that must never reach a chat even if some library put them into an error text:
# Telegram bot tokens (also inside file URLs), Slack tokens, Dify app keys, bearer headers.
_SECRETS = re.compile(
    r"(?<!\d)\d{6,}:[A-Za-z0-9_-]{30,}|\bxox[a-z]-[A-Za-z0-9-]+|\bxapp-[A-Za-z0-9-]+"
    r"|\bapp-[A-Za-z0-9]{16,}|(?i:bearer\s+)\S+"
)


def scrub(text: str) -> str:
    """Hide anything shaped like a credential in text that came from elsewhere."""
    return _SECRETS.sub("***", text)


def slack_escape(text: str) -> str:
    """Slack reads ``&``, ``<`` and ``>`` as markup even in plain text (``<!channel>``)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def no_escape(text: str) -> str:
    return text


class MessageBasics(EnglishWording):
    """The helpers every part of `bot.render.Messages` fills its templates with."""

    def __init__(self, *, prefix: str = "/", escape: Callable[[str], str] = no_escape) -> None:
        self.prefix = prefix
        self._escape = escape

    def cmd(self, name: str) -> str:
        """How a person types command ``name`` here: ``/status`` or ``/difybatch status``."""
        return f"{self.prefix}{name}"

    def out(self, text: str) -> str:
        if len(text) > MAX_TEXT_CHARS:
            text = text[: MAX_TEXT_CHARS - 1] + "…"
        return self._escape(text)

    def label(self, key: str) -> str:
        return self.button_labels[key]

    def command_description(self, name: str) -> str:
        """One line for a command menu: its help line, else its blurb, else its name."""
        for usage, what in self.help_lines:
            if usage.split()[0] == name:
                return what
        return self.command_blurbs.get(name, name)

    # -- small pieces -------------------------------------------------------------------

    def duration(self, seconds: float) -> str:
        return say_duration(seconds, self)

    def when(self, moment: datetime | None, timezone: str) -> str:
        if moment is None:
            return self.never
        try:
            zone = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            zone = None
        local = moment.astimezone(zone) if zone is not None and moment.tzinfo else moment
        return self.moment.format(time=f"{local:%Y-%m-%d %H:%M}", zone=timezone)

    def listing(self, lines: Sequence[str], limit: int) -> list[str]:
        shown = list(lines[:limit])
        if len(lines) > limit:
            shown.append(self.more.format(n=len(lines) - limit))
        return shown
