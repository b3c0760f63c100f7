"""Every user-facing string of the chat front ends, in one place so a translation is one file.

`Messages` is assembled from the progress texts (`bot.chat.text.progress`) and the replies
(`bot.chat.text.replies`); adapters also take `scrub` and `slack_escape` from here.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.chat.text.basics import no_escape, scrub, slack_escape
from bot.chat.text.progress import ProgressMessages
from bot.chat.text.replies import ReplyMessages

__all__ = ["EN", "LOCALES", "Messages", "messages_for", "scrub", "slack_escape"]


class Messages(ProgressMessages, ReplyMessages):
    """English wording; a locale subclasses this and overrides the templates it translates.

    ``escape`` is applied to every finished text (the Slack adapter passes `slack_escape`);
    ``prefix`` is how a command is spelled on the platform: "/" or "/difybatch ".
    """


LOCALES: dict[str, type[Messages]] = {"en": Messages}
"""A translation subclasses `Messages`, overrides its templates and registers here."""


def messages_for(
    locale: str = "en", *, prefix: str = "/", escape: Callable[[str], str] = no_escape
) -> Messages:
    """The wording for ``[daemon] locale`` (English when unknown) on one platform."""
    cls = LOCALES.get(locale.lower(), LOCALES.get(locale.split("-")[0].lower(), Messages))
    return cls(prefix=prefix, escape=escape)


EN = Messages()
"""English with Telegram-style commands; the default wherever no wording is passed."""
