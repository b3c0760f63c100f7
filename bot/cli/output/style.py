"""Colour on the terminal only when it helps and is wanted: a TTY, no ``NO_COLOR``
(https://no-color.org), no ``TERM=dumb``. Pipes and files get plain text."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TextIO

_STATUS_COLOURS = {
    "completed": "32", "succeeded": "32",
    "failed": "31",
    "running": "33", "paused": "33", "pending": "33", "scheduled": "36",
    "cancelled": "2",
}


def wants_colour(stream: TextIO, environ: Mapping[str, str] | None = None) -> bool:
    env = os.environ if environ is None else environ
    if env.get("NO_COLOR") or env.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


@dataclass(frozen=True)
class Style:
    colour: bool

    @classmethod
    def for_stream(cls, stream: TextIO) -> Style:
        return cls(wants_colour(stream))

    def _paint(self, code: str, text: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.colour and code else text

    def bold(self, text: str) -> str:
        return self._paint("1", text)

    def status(self, status: str, text: str) -> str:
        """``text`` (the status, maybe padded) in the status's colour."""
        return self._paint(_STATUS_COLOURS.get(status, ""), text)
