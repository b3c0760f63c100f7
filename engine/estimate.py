"""What a batch will cost before it runs: calls, time and tokens, from the workflow's past rows.

Medians, not means: one row stuck until its timeout should not double the estimate. Pure
computation; the words are the front ends' (the CLI's line, the chat catalogues).
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields

from engine.models import PastRow
from engine.ports import Store

HISTORY_BATCHES = 5
HISTORY_ROWS = 500
"""How far back an estimate looks: the last few batches, at most this many of their rows."""
ESTIMATE_EVENT = "estimate"
"""A batch's estimate as made when it was created (detail: `Estimate` as JSON), for the
Summary sheet's "estimated vs actual" and for `run` to print."""


@dataclass(frozen=True, slots=True)
class Estimate:
    """A batch's expected size. Without history only ``rows`` and ``in_flight`` are known."""

    rows: int
    in_flight: int
    batches: int = 0
    """Earlier batches the figures come from; 0 means there is no history."""
    calls: int = 0
    duration_s: float | None = None
    tokens: int | None = None
    failure_rate: float | None = None

    @property
    def known(self) -> bool:
        return self.batches > 0


def estimate_from(
    rows: int,
    history: Sequence[PastRow],
    *,
    concurrency: int,
    requests_per_minute: int = 0,
) -> Estimate:
    """Expected calls (retries included), duration at ``concurrency`` and tokens for ``rows`` rows."""
    in_flight = max(1, min(concurrency, rows))
    if not history or rows <= 0:
        return Estimate(rows=rows, in_flight=in_flight, calls=rows)
    attempts = statistics.fmean(max(1, p.attempts) for p in history)
    calls = round(rows * attempts)
    times = [p.elapsed_s for p in history if p.elapsed_s is not None]
    duration = None
    if times:
        # rows go out in waves of `in_flight`; a row's retries are more calls of the same length
        duration = math.ceil(calls / in_flight) * statistics.median(times)
        if requests_per_minute > 0:
            duration = max(duration, calls / requests_per_minute * 60.0)
    failure_rate = sum(not p.succeeded for p in history) / len(history)
    used = [p.tokens for p in history if p.succeeded]
    tokens = round(rows * (1.0 - failure_rate) * statistics.median(used)) if used else 0
    return Estimate(
        rows=rows,
        in_flight=in_flight,
        batches=len({p.batch_id for p in history}),
        calls=calls,
        duration_s=duration,
        tokens=tokens,
        failure_rate=failure_rate,
    )


def estimate_json(est: Estimate) -> str:
    return json.dumps(asdict(est))


def estimate_of_json(text: str) -> Estimate | None:
    """The estimate `estimate_json` wrote; None for text that is not one."""
    try:
        found = json.loads(text)
        known = {f.name for f in fields(Estimate)}
        return Estimate(**{k: v for k, v in found.items() if k in known})
    except (ValueError, TypeError, AttributeError):
        return None


async def recorded_estimate(store: Store, batch_id: str) -> Estimate | None:
    """The estimate stored when the batch was created; None for a batch from before estimates."""
    for event in reversed(await store.events(batch_id)):
        if event.kind == ESTIMATE_EVENT:
            return estimate_of_json(event.detail)
    return None


def rough_count(n: int) -> str:
    """380k, 1.2k, 4.5M: a figure that is an estimate should not look exact."""
    if n < 1_000:
        return str(n)
    if n < 10_000:
        return f"{n / 1_000:.1f}k".replace(".0k", "k")
    if n < 1_000_000:
        return f"{n / 1_000:.0f}k"
    return f"{n / 1_000_000:.1f}M".replace(".0M", "M")


def rough_duration(seconds: float) -> tuple[float, str]:
    """A duration as (amount, unit) with unit ``s``, ``min`` or ``h``, rounded for reading."""
    if seconds < 60:
        return float(max(1, round(seconds))), "s"
    if seconds < 90 * 60:
        return float(round(seconds / 60)), "min"
    return round(seconds / 3600, 1), "h"
