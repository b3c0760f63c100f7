"""A sentence kept as its code and values, so each front end can say it in the reader's language.

The engine speaks English (``text``) to logs and to anyone who does not translate; the chat
layer and the CLI look ``code`` up in their catalogue and fill it with ``params``. A param
may itself be a `Phrase` (a cell problem inside a row line), rendered first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Phrase:
    code: str
    params: Mapping[str, Any] = field(default_factory=dict)
    text: str = ""
    """The English sentence, filled in."""

    def __str__(self) -> str:
        return self.text


def phrase(templates: Mapping[str, str], code: str, **params: Any) -> Phrase:
    """``templates[code]`` filled with ``params`` (nested phrases in English), kept with its code."""
    english = {k: v.text if isinstance(v, Phrase) else v for k, v in params.items()}
    return Phrase(code, params, templates[code].format(**english))


def say(phrase_or_text: Phrase | str, templates: Mapping[str, str]) -> str:
    """A phrase in the language of ``templates`` (its English text when the code is unknown)."""
    if not isinstance(phrase_or_text, Phrase):
        return phrase_or_text
    template = templates.get(phrase_or_text.code)
    if template is None:
        return phrase_or_text.text
    values = {k: say(v, templates) if isinstance(v, Phrase) else v for k, v in phrase_or_text.params.items()}
    return template.format(**values)
