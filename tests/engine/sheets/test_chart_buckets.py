"""Run-time histogram buckets: nice bounds, every row counted once, a tail for the slow few."""

from __future__ import annotations

import itertools
import math
import random

from engine.sheets.charts.buckets import MOST_BUCKETS, Bucket, bound_text, run_time_buckets


def _nice(width: float) -> bool:
    """1, 2 or 5 times a power of ten."""
    exponent = math.floor(math.log10(width) + 1e-9)
    return round(width / 10**exponent, 6) in (1.0, 2.0, 5.0)


def test_no_run_times_make_no_buckets() -> None:
    assert run_time_buckets([]) == []


def test_a_spread_gets_nice_equal_buckets_from_the_fastest_row() -> None:
    # the benchmark's times: 0.5 s to 1.4 s in tenths
    times = [0.5 + (i % 10) / 10 for i in range(1000)]
    buckets = run_time_buckets(times)
    edges = [round(0.5 + i / 10, 9) for i in range(11)]
    assert [(b.low, b.high) for b in buckets] == list(itertools.pairwise(edges))
    assert all(b.rows == 100 for b in buckets)  # 1.4 (1.3999… in floats) lands in 1.4–1.5, not 1.3–1.4


def test_the_slow_few_go_to_one_tail_bucket_instead_of_stretching_the_rest() -> None:
    times = [1.0 + i / 100 for i in range(97)] + [120.0, 250.0, 300.0]
    buckets = run_time_buckets(times)
    *regular, tail = buckets
    assert tail.high is None and tail.rows == 3 and tail.low <= 120.0
    widths = {round(b.high - b.low, 9) for b in regular if b.high is not None}
    assert len(widths) == 1 and _nice(widths.pop())
    assert regular[-1].high == tail.low
    assert regular[0].low <= 1.0 < regular[0].high
    assert sum(b.rows for b in regular) == 97 and len(regular) <= MOST_BUCKETS


def test_equal_times_make_one_bucket_not_a_sliver() -> None:
    assert run_time_buckets([12.3] * 5) == [Bucket(12.2, 12.4, 5)]
    assert run_time_buckets([0.0, 0.0]) == [Bucket(0.0, 0.001, 2)]


def test_every_row_is_counted_once_and_bounds_are_nice() -> None:
    rnd = random.Random(15)
    for _ in range(200):
        mu, sigma = rnd.uniform(-3, 5), rnd.uniform(0.1, 2)
        times = [rnd.lognormvariate(mu, sigma) for _ in range(rnd.randint(1, 300))]
        buckets = run_time_buckets(times)
        assert sum(b.rows for b in buckets) == len(times)
        regular = [b for b in buckets if b.high is not None]
        assert 1 <= len(regular) <= MOST_BUCKETS
        assert all(b.high is not None for b in buckets[:-1])  # only the last may be the tail
        for b in regular:
            assert b.high is not None and _nice(round(b.high - b.low, 9))
            assert sum(b.low <= t < b.high for t in times) == b.rows, (b, sorted(times))
        if buckets[-1].high is None:
            assert buckets[-1].rows == sum(t >= buckets[-1].low for t in times)
            assert buckets[-1].rows <= math.ceil(len(times) * 0.05)


def test_bounds_read_as_people_write_them() -> None:
    shown = [bound_text(v) for v in (0.5, 2.0, 1500.0, 0.001, 2_000_000.0)]
    assert shown == ["0.5", "2", "1500", "0.001", "2000000"]
