"""The engine's English that reaches a person stored rather than raised — a batch's or a
row's error, a pause for an outage, a sheet that is gone — said in the reader's language.

Stored errors are plain text (the database keeps no phrase codes), so they are read back by
shape: each English template of ``engine_errors`` (and the outage pause of ``cli_says``)
becomes a pattern, and a match is said again with the same values in the reader's catalogue.
Anything else — Dify's own error text, the network's words — passes through as it came.
The CLI and the chat both use this, so a terminal and a chat say the same thing.
"""

from __future__ import annotations

import re
from functools import cache
from typing import TypeAlias

from bot.chat.text.catalogues.en import EnglishWording

EngineWords: TypeAlias = "type[EnglishWording] | EnglishWording"
"""A catalogue (the CLI's) or a `Messages` built on one (the chat's)."""


# the shapes of `engine.dify.client`'s reasons Dify could not be reached (its English)
_REASONS = (
    ("refused_by", re.compile(r"connection refused by (?P<where>\S+)$")),
    ("cannot_resolve", re.compile(r"cannot resolve the host name (?P<host>\S+)$")),
    ("cannot_connect", re.compile(r"cannot connect to (?P<where>\S+) \((?P<why>.*)\)$")),
)

_NESTED = frozenset({"message", "error"})
"""Values that are themselves a stored error (said again, recursively)."""
_REASON = frozenset({"why", "reason"})
"""Values that are why Dify could not be reached."""


def outage_reason(trouble: str, words: EngineWords = EnglishWording) -> str:
    """Why Dify cannot be reached, in the reader's language when the engine's English has a
    known shape; anything else is the network's own words, shown as they came."""
    reason = trouble.removeprefix("Dify is unreachable: ")
    for code, shape in _REASONS:
        found = shape.match(reason)
        if found:
            return words.outage_reasons[code].format(**found.groupdict())
    if "connection refused" in reason.lower():
        return words.outage_reasons["connection_refused"]
    return reason


@cache
def _pattern(english: str) -> re.Pattern[str]:
    """``"{message} (after {n} attempts)"`` → a pattern with a group per placeholder."""
    parts = re.split(r"\{(\w+)\}", english)
    text = "".join(
        re.escape(part) if i % 2 == 0 else f"(?P<{part}>.+?)" for i, part in enumerate(parts)
    )
    return re.compile(f"{text}$", re.DOTALL)


def _shapes(words: EngineWords) -> list[tuple[str, str]]:
    """(English template, the reader's template) pairs, most specific first."""
    english = EnglishWording
    pairs = [(english.cli_says["paused_outage"], words.cli_says["paused_outage"])]
    pairs += [(english.engine_errors[code], words.engine_errors[code]) for code in english.engine_errors]
    return pairs


def engine_error(error: str, words: EngineWords = EnglishWording) -> str:
    """A stored or raised engine error in the reader's language when it has a known shape;
    anything else (Dify's own words above all) unchanged."""
    for english, template in _shapes(words):
        found = _pattern(english).match(error)
        if found is None:
            continue
        values = {k: _value(k, v, words) for k, v in found.groupdict().items()}
        return template.format(**values)
    return error


def _value(key: str, value: str, words: EngineWords) -> str:
    if key in _NESTED:
        return engine_error(value, words)
    if key in _REASON:
        return outage_reason(value, words)
    if key == "status":  # a run's status as Dify names it ("failed", "stopped")
        return words.cli_status_words.get(value, value)
    return value
