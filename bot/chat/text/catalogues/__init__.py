"""The message catalogues, one module per language, and how a person's language is picked.

Every module in this package that defines ``WORDING`` (a subclass of `EnglishWording`
overriding every template) is a language; adding one needs no other change. Platforms and
environments spell languages loosely (Telegram ``zh-hans``, Slack ``zh-CN``, ``LANG=zh_CN.UTF-8``),
so a tag is matched by its full form first, then by its language alone: every Chinese tag,
Traditional ones too, reads the Simplified catalogue, the closest there is.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported where used: `dify-batch --help` in English loads no catalogue
    from bot.chat.text.catalogues.en import EnglishWording

DEFAULT_LOCALE = "en"
AUTO = "auto"
"""``[daemon] locale`` that answers each person in the language their platform reports."""


@cache
def catalogues() -> dict[str, type[EnglishWording]]:
    """Every catalogue by its locale tag (``en``, ``zh-CN``, …)."""
    import importlib
    import pkgutil

    from bot.chat.text.catalogues.en import EnglishWording

    found: dict[str, type[EnglishWording]] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        wording = getattr(importlib.import_module(f"{__name__}.{info.name}"), "WORDING", None)
        if isinstance(wording, type) and issubclass(wording, EnglishWording):
            found[wording.locale] = wording
    return found


def known_locales() -> list[str]:
    return sorted(catalogues())


def wording_for(locale: str | None) -> type[EnglishWording]:
    """The catalogue of a stored or configured locale; English for anything unknown."""
    found = match_locale(locale)
    if found in (None, DEFAULT_LOCALE):
        from bot.chat.text.catalogues.en import EnglishWording

        return EnglishWording  # without importing the other catalogues
    return catalogues()[found]


def match_locale(tag: str | None) -> str | None:
    """The catalogue a language tag means, or None when none fits (or the tag says nothing)."""
    if not tag:
        return None
    clean = tag.split(".", 1)[0].split("@", 1)[0].replace("_", "-").strip().casefold()
    if clean in ("", "c", "posix"):
        return None
    if clean.split("-", 1)[0] == DEFAULT_LOCALE:
        return DEFAULT_LOCALE  # without importing every catalogue: English needs none of them
    by_tag = {locale.casefold(): locale for locale in catalogues()}
    if clean in by_tag:
        return by_tag[clean]
    language = clean.split("-", 1)[0]
    for folded, locale in sorted(by_tag.items()):
        if folded.split("-", 1)[0] == language:
            return locale
    return None


def locale_for(setting: str, said: str | None) -> str:
    """The language to answer in: a forced ``setting``, or under ``auto`` what the person's
    platform ``said``, else English."""
    if setting.casefold() != AUTO:
        return match_locale(setting) or DEFAULT_LOCALE
    return match_locale(said) or DEFAULT_LOCALE


def locale_from_environment(environ: Mapping[str, str]) -> str:
    """The CLI's language, by POSIX precedence: LC_ALL, then LC_MESSAGES, then LANG."""
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(name, "")
        if value:
            return match_locale(value) or DEFAULT_LOCALE
    return DEFAULT_LOCALE


def say_duration(seconds: float, words: type[EnglishWording] | EnglishWording) -> str:
    """A duration as a person reads it, everywhere (chat, progress line, ETA, summary):
    ``3m 10s``, ``1h 05m``, ``12 分 30 秒``."""
    total = max(0, round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return words.duration_h.format(h=hours, m=minutes)
    if minutes:
        return words.duration_m.format(m=minutes, s=secs)
    return words.duration_s.format(s=secs)
