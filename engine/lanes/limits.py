"""Lane limits: a gate that learns the app's capacity, a token bucket, a lane pause, back-off.

Pure asyncio with an injected clock and sleep, so every rule is testable without waiting.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

Clock = Callable[[], float]
"""Seconds on any steady scale (tests pass a fake)."""
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Ticket:
    """What a granted slot remembers: the gate's generation then, and the level it ran at."""

    generation: int
    level: int
    """Calls in flight through the gate when this one was granted, itself included."""


class AimdGate:
    """A concurrency limit that learns the app's capacity from Dify's refusals.

    Dify refuses a call ("Too many requests", 429) when the app's ``max_active_requests``
    is reached, so a refusal at level *k* (our calls in flight, the refused one included)
    says the app holds about *k - 1*: the limit settles there, not at half. A refusal at a
    level Dify has already run calls at (``proven``) contradicts that reading: it is a
    one-off and costs no capacity, though the evidence is trusted a little less from then on,
    so a capacity that really dropped is learnt at the next refusal. After a decrease the
    limit grows back by one per success up to the proven level, then by one per window of
    successes (probing above it) up to ``cap``; each refusal at the same level again doubles
    the windows before the next probe, so a settled limit costs few refusals, while a
    capacity that grew is found again by the next probe that succeeds.

    Only a call granted after the latest decrease may shrink the limit again, so one burst
    of refusals from calls that were all in flight together lowers it once (TCP's "one
    reduction per round trip").
    """

    def __init__(self, cap: int) -> None:
        self.cap = max(1, cap)
        self.limit = self.cap
        self.in_flight = 0
        self.generation = 0
        self.proven = 0
        """The highest level at which a call succeeded: Dify ran that many at once."""
        self._successes = 0
        self._ceiling = 0
        """The level of the latest refusal taken as the app's capacity."""
        self._probe_windows = 1
        self._waiters: deque[asyncio.Future[Ticket]] = deque()

    @property
    def waiting(self) -> int:
        return sum(1 for f in self._waiters if not f.done())

    async def acquire(self) -> Ticket:
        if self.in_flight < self.limit and not self._waiters:
            self.in_flight += 1
            return Ticket(self.generation, self.in_flight)
        fut: asyncio.Future[Ticket] = asyncio.get_running_loop().create_future()
        self._waiters.append(fut)
        try:
            return await fut
        except asyncio.CancelledError:
            if fut.done() and not fut.cancelled():
                self.release()  # granted just as we were cancelled: hand the slot on
            elif fut in self._waiters:  # _wake may already have dropped it
                self._waiters.remove(fut)
            raise

    def release(self) -> None:
        self.in_flight -= 1
        self._wake()

    def on_success(self, ticket: Ticket | None = None) -> None:
        if ticket is not None:
            self.proven = max(self.proven, min(ticket.level, self.cap))
            if self._ceiling and self.proven >= self._ceiling:  # the app holds more now
                self._ceiling, self._probe_windows = 0, 1
        if self.limit >= self.cap:
            return
        if self.limit < self.proven:  # Dify has run this many at once: come straight back
            self.limit += 1
            self._successes = 0
            self._wake()
            return
        self._successes += 1
        if self._successes >= self.limit * self._probe_windows:
            self.limit += 1
            self._successes = 0
            self._wake()

    def on_overload(self, ticket: Ticket) -> bool:
        """Settle just under the refused call's level; False for a one-off or a call that
        predates the latest decrease."""
        if ticket.generation != self.generation:
            return False
        if ticket.level <= self.proven:
            self.proven = ticket.level - 1
            return False
        self.limit = max(1, min(self.limit, ticket.level - 1))
        self._probe_windows = min(self._probe_windows * 2, 64) if ticket.level == self._ceiling else 1
        self._ceiling = ticket.level
        self.proven = min(self.proven, self.limit)
        self.generation += 1
        self._successes = 0
        return True

    def _wake(self) -> None:
        while self._waiters and self.in_flight < self.limit:
            fut = self._waiters.popleft()
            if fut.done():
                continue
            self.in_flight += 1
            fut.set_result(Ticket(self.generation, self.in_flight))


class TokenBucket:
    """``rate_per_s`` tokens a second, bursts up to ``capacity``; one token per request."""

    def __init__(self, rate_per_s: float, capacity: float, *, clock: Clock, sleep: Sleep) -> None:
        if rate_per_s <= 0:
            raise ValueError("rate_per_s must be positive")
        self.rate = rate_per_s
        self.capacity = max(1.0, capacity)
        self.tokens = self.capacity
        self._clock = clock
        self._sleep = sleep
        self._last = clock()

    @classmethod
    def per_minute(cls, rpm: int, *, clock: Clock, sleep: Sleep) -> TokenBucket | None:
        """None for ``rpm <= 0``; bursts are capped at one second's worth so a minute's
        budget cannot land on the upstream all at once."""
        if rpm <= 0:
            return None
        return cls(rpm / 60.0, rpm / 60.0, clock=clock, sleep=sleep)

    def _refill(self) -> None:
        now = self._clock()
        self.tokens = min(self.capacity, self.tokens + (now - self._last) * self.rate)
        self._last = now

    def try_take(self) -> float:
        """Take a token and return 0, or return how long until one is due."""
        self._refill()
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / self.rate

    async def acquire(self) -> None:
        while (wait := self.try_take()) > 0:
            await self._sleep(wait)

    def refund(self) -> None:
        self.tokens = min(self.capacity, self.tokens + 1.0)


class LanePause:
    """One shared "not before" for the whole lane, so N callers don't each retry at once."""

    def __init__(self, *, clock: Clock, sleep: Sleep) -> None:
        self._clock = clock
        self._sleep = sleep
        self.until = float("-inf")

    def pause_for(self, seconds: float) -> None:
        self.until = max(self.until, self._clock() + max(0.0, seconds))

    def remaining(self) -> float:
        return max(0.0, self.until - self._clock())

    async def wait(self) -> None:
        while (left := self.remaining()) > 0:
            await self._sleep(left)


def backoff(attempt: int, *, base_s: float, max_s: float, rand: Callable[[], float]) -> float:
    """Capped exponential back-off with full jitter: uniform in [0, min(max, base·2^(n-1)))."""
    exponent = min(max(attempt - 1, 0), 62)
    return rand() * min(max_s, base_s * 2.0**exponent)
