"""Dify unreachable: the lane's problem, not the row's.

A call that finds no Dify at all (connection refused, DNS, a proxy's 502/503/504) costs
its row no attempt; the lane waits with a growing back-off and then sends one row as a
probe, others waiting until the probe has an answer. Any answer from Dify ends the outage.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta

from engine.lanes.limits import backoff


class OutageWatch:
    def __init__(self, *, base_s: float, max_s: float, rand: Callable[[], float]) -> None:
        self._base_s = base_s
        self._max_s = max_s
        self._rand = rand
        self.since: datetime | None = None
        """When the first call of this outage failed; None while Dify answers."""
        self.next_try: datetime | None = None
        self.reason = ""
        self.failures = 0
        self._last_failure: datetime | None = None
        self._probing = False
        self._answered = asyncio.Event()

    @property
    def active(self) -> bool:
        return self.since is not None

    async def turn(self) -> None:
        """Wait while another call probes a Dify that was unreachable; then go (as the probe)."""
        while self.active and self._probing:
            self._answered.clear()
            await self._answered.wait()
        if self.active:
            self._probing = True

    def idle(self) -> None:
        """The call that held the probe ended some other way (or never went): free the turn."""
        self._probing = False
        self._answered.set()

    def failed(self, now: datetime, began: datetime, reason: str) -> float:
        """A call found no Dify: how long the lane waits before its next probe. Calls sent
        before the latest counted failure were all refused together: they count once."""
        self._probing = False
        self._answered.set()
        self.reason = reason
        if self.since is None:
            self.since = now
        if self._last_failure is None or began >= self._last_failure:
            self.failures += 1
            self._last_failure = now
            # half fixed, half jittered: probes never come faster than half the back-off
            full = backoff(self.failures, base_s=self._base_s, max_s=self._max_s, rand=lambda: 1.0)
            wait = full / 2 + full * self._rand() / 2
            self.next_try = now + timedelta(seconds=wait)
        return max(0.0, ((self.next_try or now) - now).total_seconds())

    def answered(self) -> bool:
        """Dify answered a call; True when that ended an outage."""
        self._probing = False
        self._answered.set()
        if self.since is None:
            return False
        self.reset()
        return True

    def reset(self) -> None:
        self.since = self.next_try = self._last_failure = None
        self.failures = 0
        self.reason = ""
        self._probing = False
        self._answered.set()

    def lasted(self, now: datetime) -> float:
        return 0.0 if self.since is None else (now - self.since).total_seconds()
