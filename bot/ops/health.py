"""What /healthz and /readyz answer: each part of the daemon reports here, the HTTP
server reads it. A part that is down only counts once it has been down for its grace
(a Socket Mode reconnect or one failed long poll is not an outage); a rejected token
counts at once."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

DOWN_GRACE_S = 60.0


@dataclass(slots=True)
class _Down:
    reason: str
    since: float
    grace_s: float


class Health:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._down: dict[str, _Down] = {}
        self.ready = False

    def down(self, part: str, reason: str, *, grace_s: float = DOWN_GRACE_S) -> None:
        """``part`` is not working; keeps the first time it was seen down."""
        was = self._down.get(part)
        since = was.since if was is not None else self._clock()
        self._down[part] = _Down(reason, since, grace_s)

    def up(self, part: str) -> None:
        self._down.pop(part, None)

    def down_since(self, part: str) -> float | None:
        """When ``part`` was first seen down (on the health clock); None while it works."""
        down = self._down.get(part)
        return down.since if down is not None else None

    def problems(self) -> list[str]:
        """One line for each part down for longer than its grace."""
        now = self._clock()
        return [
            f"{part}: {d.reason} (for {now - d.since:.0f} s)"
            for part, d in sorted(self._down.items())
            if now - d.since >= d.grace_s
        ]


class PartHealth:
    """One part's handle on `Health`, so an adapter reports without knowing the others."""

    def __init__(self, health: Health, part: str) -> None:
        self._health = health
        self.part = part

    def down(self, reason: str, *, grace_s: float = DOWN_GRACE_S) -> None:
        self._health.down(self.part, reason, grace_s=grace_s)

    def up(self) -> None:
        self._health.up(self.part)


UNWATCHED = PartHealth(Health(), "unwatched")
"""What an adapter reports to before the daemon gives it its own handle (tests, the CLI)."""
