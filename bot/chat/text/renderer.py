"""Every user-facing string of the chat front ends, in one place so a translation is one file.

`Messages` is assembled from the progress texts (`bot.chat.text.progress`), the replies
(`bot.chat.text.replies`) and one language's catalogue (`bot.chat.text.catalogues`);
`MessageBook` holds one platform's messages in every language and picks one per person.
Adapters also take `scrub` and `slack_escape` from here.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import cast

from bot.chat.text.basics import no_escape, scrub, slack_escape
from bot.chat.text.catalogues import AUTO, DEFAULT_LOCALE, catalogues, locale_for, match_locale
from bot.chat.text.progress import ProgressMessages
from bot.chat.text.replies import ReplyMessages

__all__ = ["EN", "MessageBook", "Messages", "messages_for", "scrub", "slack_escape"]


class Messages(ProgressMessages, ReplyMessages):
    """English wording; `messages_for` mixes another language's catalogue in front of it.

    ``escape`` is applied to every finished text (the Slack adapter passes `slack_escape`);
    ``prefix`` is how a command is spelled on the platform: "/" or "/difybatch ".
    """


@cache
def _messages_class(locale: str) -> type[Messages]:
    wording = catalogues()[locale]
    if issubclass(Messages, wording):
        return Messages
    # the catalogue's templates come before the English ones, the methods stay Messages'
    return cast(type[Messages], type(f"Messages_{wording.__name__}", (Messages, wording), {}))


def messages_for(
    locale: str | None = DEFAULT_LOCALE, *, prefix: str = "/", escape: Callable[[str], str] = no_escape
) -> Messages:
    """The wording of ``locale`` (English when unknown) on one platform."""
    return _messages_class(match_locale(locale) or DEFAULT_LOCALE)(prefix=prefix, escape=escape)


class MessageBook:
    """One platform's messages in every language, and ``[daemon] locale``'s rule for a person.

    ``setting`` is "auto" (each person in the language their platform reports, else
    English) or a locale that every person gets."""

    def __init__(
        self, setting: str = AUTO, *, prefix: str = "/", escape: Callable[[str], str] = no_escape
    ) -> None:
        self.setting = setting
        self._by_locale = {
            locale: messages_for(locale, prefix=prefix, escape=escape) for locale in catalogues()
        }

    def for_person(self, said: str | None) -> Messages:
        """What to answer a person whose platform reports language ``said`` (may be None)."""
        return self._by_locale[locale_for(self.setting, said)]

    def for_locale(self, locale: str | None) -> Messages:
        """The messages of a stored locale (a batch's, a schedule's); English when unknown."""
        return self._by_locale[match_locale(locale) or DEFAULT_LOCALE]

    @property
    def default(self) -> Messages:
        """For a person whose language is not known."""
        return self.for_person(None)


EN = Messages()
"""English with Telegram-style commands; the default wherever no wording is passed."""
