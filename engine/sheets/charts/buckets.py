"""A histogram of run times with bounds a person reads at a glance (0.5–1 s, not 0.4873–0.9746 s).

The buckets cover the rows up to the 95th percentile; the slowest few (a row stuck until its
timeout) go into one tail bucket ("≥ 30 s") instead of stretching every bucket so wide that
the typical rows all land in the first one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

MOST_BUCKETS = 10
TAIL_FROM = 0.95
"""The share of rows the regular buckets cover; the rest past their bound form the tail."""
_NICE = tuple(m * 10.0**k for k in range(-3, 7) for m in (1, 2, 5))
_EPS = 1e-9  # 1.4 / 0.1 is 13.999999999999998 in floats: still the bucket from 1.4


@dataclass(frozen=True, slots=True)
class Bucket:
    """Rows whose run time is ``low`` ≤ t < ``high``; ``high`` None is the tail (t ≥ low)."""

    low: float
    high: float | None
    rows: int


def run_time_buckets(
    seconds: Sequence[float], *, most: int = MOST_BUCKETS, tail_from: float = TAIL_FROM
) -> list[Bucket]:
    """At most ``most`` buckets of one nice width (1, 2 or 5 × 10ⁿ seconds), starting at a
    multiple of it, plus a tail bucket when some rows run past the last one."""
    if not seconds:
        return []
    ordered = sorted(max(0.0, s) for s in seconds)
    low = ordered[0]
    cut = ordered[max(0, math.ceil(len(ordered) * tail_from) - 1)]
    width = _width(low, cut, most)
    first = math.floor(low / width + _EPS)
    count = math.floor(cut / width + _EPS) - first + 1
    rows = [0] * count
    tail = 0
    for s in ordered:
        i = math.floor(s / width + _EPS) - first
        if i < count:
            rows[i] += 1
        else:
            tail += 1
    buckets = [Bucket(_edge(first + i, width), _edge(first + i + 1, width), n) for i, n in enumerate(rows)]
    if tail:
        buckets.append(Bucket(_edge(first + count, width), None, tail))
    return buckets


def _width(low: float, cut: float, most: int) -> float:
    # not finer than a hundredth of the times' size: equal times make one bucket, not a sliver
    floor = max(cut, 0.01) / 100
    for width in _NICE:
        if width < floor:
            continue
        if math.floor(cut / width + _EPS) - math.floor(low / width + _EPS) + 1 <= most:
            return width
    return max(cut, 1.0) / (most - 1)  # beyond a year per row: no nice width is wide enough


def _edge(multiple: int, width: float) -> float:
    return round(multiple * width, 9)


def bound_text(value: float) -> str:
    """A bucket bound as the axis shows it: ``0.5``, ``2``, ``1500``."""
    return f"{value:g}" if value < 1e6 else f"{value:.0f}"
