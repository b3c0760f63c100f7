"""The estimate's arithmetic: medians, waves at the concurrency, retries, the rate cap."""

from __future__ import annotations

from engine.estimate import estimate_from, rough_count, rough_duration
from engine.models import PastRow


def past(batch: str, elapsed: float | None, tokens: int, *, ok: bool = True, attempts: int = 1) -> PastRow:
    return PastRow(batch, ok, attempts, elapsed, tokens)


def test_without_history_only_the_rows_are_known() -> None:
    est = estimate_from(1240, [], concurrency=8)
    assert (est.known, est.rows, est.in_flight, est.calls, est.duration_s, est.tokens) == (
        False, 1240, 8, 1240, None, None
    )
    assert estimate_from(3, [], concurrency=8).in_flight == 3


def test_medians_waves_and_tokens() -> None:
    # one row that hung for 300 s must not move the estimate: medians, not means
    history = [past("a", 5.0, 300), past("a", 6.0, 310), past("b", 300.0, 320), past("b", 5.5, 290)]
    est = estimate_from(1240, history, concurrency=8)
    assert est.batches == 2 and est.failure_rate == 0.0 and est.calls == 1240
    assert est.duration_s == 155 * 5.75  # 1240 rows in waves of 8, median 5.75 s
    assert est.tokens == 1240 * 305


def test_failures_cut_tokens_and_retries_add_calls_and_time() -> None:
    history = [past("a", 2.0, 100, attempts=2), past("a", 2.0, 100), past("a", 2.0, 0, ok=False),
               past("a", 2.0, 100, attempts=3)]
    est = estimate_from(100, history, concurrency=10)
    assert est.failure_rate == 0.25
    assert est.calls == 175  # 1.75 attempts a row
    assert est.duration_s == 18 * 2.0
    assert est.tokens == 75 * 100  # median of the succeeded rows' tokens, for the rows expected to succeed


def test_a_rate_cap_can_be_what_sets_the_pace() -> None:
    history = [past("a", 1.0, 10)]
    assert estimate_from(600, history, concurrency=50, requests_per_minute=60).duration_s == 600.0
    assert estimate_from(600, history, concurrency=50).duration_s == 12.0


def test_rough_figures() -> None:
    assert [rough_count(n) for n in (0, 999, 1000, 1234, 14880, 380_400, 1_000_000, 4_560_000)] == [
        "0", "999", "1k", "1.2k", "15k", "380k", "1M", "4.6M"
    ]
    assert [rough_duration(s) for s in (0.2, 42.4, 61, 14 * 60 + 10, 2.5 * 3600)] == [
        (1.0, "s"), (42.0, "s"), (1.0, "min"), (14.0, "min"), (2.5, "h")
    ]
