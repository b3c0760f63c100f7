"""The CLI's words in the terminal's language (LC_ALL, then LC_MESSAGES, then LANG): the
sentences it prints and raises, the help of every command and option, and argparse's own
words (``usage:``, ``options``, ``the following arguments are required``).

Light on purpose: ``dify-batch --help`` reads it, and English never loads another catalogue.
"""

from __future__ import annotations

import argparse
import os
import unicodedata
from typing import TYPE_CHECKING, Any, TypeAlias

from bot.chat.text.catalogues import DEFAULT_LOCALE, locale_from_environment

if TYPE_CHECKING:  # imported where used: English `--help` needs no catalogue at all
    from bot.chat.text.catalogues.en import EnglishWording

Wording: TypeAlias = "type[EnglishWording]"

_ARGPARSE_GETTEXT = getattr(argparse, "_")  # noqa: B009 (private, absent from the stubs)


def cli_wording() -> Wording:
    """The catalogue of the terminal's language."""
    from bot.chat.text.catalogues import wording_for

    return wording_for(locale_from_environment(os.environ))


def speaks_english() -> bool:
    """Whether the terminal's language is English (or says none), known without a catalogue."""
    return locale_from_environment(os.environ) == DEFAULT_LOCALE


def says(code: str, words: Wording | None = None, **params: Any) -> str:
    """The CLI's sentence ``code`` (`cli_en.CLI_SAYS`), filled in, in the terminal's language."""
    return (words or cli_wording()).cli_says[code].format(**params)


def display_width(text: str) -> int:
    """Columns ``text`` takes in a terminal: CJK (wide and full-width) characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in ("W", "F") else 1 for c in text)


def speak_argparse(words: Wording) -> None:
    """Have argparse say its own words from the catalogue. argparse looks each up through
    its module's gettext ``_`` when it builds a parser or prints, so this comes first."""
    if words.locale == DEFAULT_LOCALE:
        setattr(argparse, "_", _ARGPARSE_GETTEXT)  # noqa: B010 (a parser built earlier spoke another)
        return
    table = words.cli_argparse

    def translated(message: str) -> str:
        return table.get(message, message)

    setattr(argparse, "_", translated)  # noqa: B010 (argparse's module-level gettext alias)


def translate_help(parser: argparse.ArgumentParser, words: Wording) -> None:
    """Swap each ``help=`` and description the command modules wrote in English for the
    catalogue's wording; a text the catalogue lacks stays English."""
    if words.locale == DEFAULT_LOCALE:
        return
    table = words.cli_help
    seen: set[int] = set()

    def walk(p: argparse.ArgumentParser) -> None:
        if id(p) in seen:
            return
        seen.add(id(p))
        if p.description:
            p.description = table.get(p.description, p.description)
        for action in p._actions:
            if action.help and action.help is not argparse.SUPPRESS:
                action.help = table.get(action.help, action.help)
            if isinstance(action, argparse._SubParsersAction):
                for choice in action._choices_actions:
                    if choice.help:
                        choice.help = table.get(choice.help, choice.help)
                for sub in action.choices.values():
                    walk(sub)

    walk(parser)


def help_texts(parser: argparse.ArgumentParser) -> set[str]:
    """Every help and description a parser holds (the tests check each has a translation)."""
    found: set[str] = set()
    todo = [parser]
    while todo:
        p = todo.pop()
        if p.description:
            found.add(p.description)
        for action in p._actions:
            if action.help and action.help is not argparse.SUPPRESS and not isinstance(
                action, argparse._HelpAction
            ):  # -h's help is argparse's own, in `cli_argparse`
                found.add(action.help)
            if isinstance(action, argparse._SubParsersAction):
                found |= {c.help for c in action._choices_actions if c.help}
                todo += list(action.choices.values())
    return found
