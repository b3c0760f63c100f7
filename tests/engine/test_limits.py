"""The lane limits with a fake clock: AIMD gate, token bucket, lane pause, back-off."""

from __future__ import annotations

import asyncio

import pytest

from engine.lanes.limits import AimdGate, LanePause, TokenBucket, backoff


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


async def test_gate_starts_at_cap_and_queues_beyond_it() -> None:
    gate = AimdGate(2)
    await gate.acquire()
    await gate.acquire()
    third = asyncio.create_task(gate.acquire())
    await asyncio.sleep(0)
    assert not third.done()
    assert gate.waiting == 1
    gate.release()
    await asyncio.wait_for(third, 1)
    assert gate.in_flight == 2


async def test_gate_settles_just_under_the_level_dify_refused_at_once_per_burst() -> None:
    gate = AimdGate(8)
    tickets = [await gate.acquire() for _ in range(8)]
    assert [t.level for t in tickets] == list(range(1, 9))
    assert gate.on_overload(tickets[5]) is True  # refused with 6 in flight: the app holds 5
    # the other calls of the same burst predate the decrease: no further change
    assert [gate.on_overload(t) for t in tickets[6:]] == [False, False]
    assert gate.limit == 5
    for _ in range(8):
        gate.release()
    first = await gate.acquire()
    assert gate.on_overload(first) is True and gate.limit == 1  # floors at one
    gate.release()
    assert gate.on_overload(await gate.acquire()) is True and gate.limit == 1


async def test_a_one_off_refusal_at_a_level_dify_ran_before_costs_no_capacity() -> None:
    gate = AimdGate(8)
    tickets = [await gate.acquire() for _ in range(8)]
    for t in tickets[:7]:
        gate.on_success(t)
        gate.release()
    assert gate.proven == 7
    assert gate.on_overload(tickets[6]) is False  # seven ran at once before: a one-off
    assert gate.limit == 8
    # the evidence counts for less now: a refusal at that level again is the app's capacity
    assert gate.on_overload(tickets[7]) is True
    assert gate.limit == 7


async def test_gate_grows_back_fast_to_the_proven_level_then_probes_by_windows() -> None:
    gate = AimdGate(8)
    tickets = [await gate.acquire() for _ in range(8)]
    assert gate.on_overload(tickets[2]) is True and gate.limit == 2
    for t in tickets[3:6]:  # calls Dify had taken before the refusal finish fine at levels 4..6
        gate.on_success(t)
    assert gate.limit == 5  # one per success while below what Dify has proven to hold
    gate.on_success()
    assert gate.limit == 6
    for _ in range(5):
        gate.on_success()
    assert gate.limit == 6  # above the proven level: one per window of the current limit
    gate.on_success()
    assert gate.limit == 7
    for _ in range(40):
        gate.on_success()
    assert gate.limit == 8  # never beyond the configured cap


async def test_gate_cancelled_waiter_leaves_no_trace() -> None:
    gate = AimdGate(1)
    await gate.acquire()
    waiter = asyncio.create_task(gate.acquire())
    await asyncio.sleep(0)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    gate.release()
    assert gate.in_flight == 0
    await asyncio.wait_for(gate.acquire(), 1)


async def test_gate_slot_granted_to_a_cancelled_waiter_is_handed_back() -> None:
    gate = AimdGate(1)
    await gate.acquire()
    waiter = asyncio.create_task(gate.acquire())
    await asyncio.sleep(0)
    gate.release()  # grants the waiter's future...
    waiter.cancel()  # ...but it is cancelled before it runs
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert gate.in_flight == 0


async def test_bucket_allows_a_burst_then_the_rate() -> None:
    t = FakeTime()
    bucket = TokenBucket.per_minute(120, clock=t.clock, sleep=t.sleep)  # 2/s, burst 2
    assert bucket is not None
    start = t.now
    for _ in range(6):
        await bucket.acquire()
    assert t.now - start == pytest.approx(2.0)  # 2 free, then 4 at 0.5 s each
    assert TokenBucket.per_minute(0, clock=t.clock, sleep=t.sleep) is None


async def test_bucket_refund_returns_a_token() -> None:
    t = FakeTime()
    bucket = TokenBucket(1.0, 1.0, clock=t.clock, sleep=t.sleep)
    assert bucket.try_take() == 0.0
    assert bucket.try_take() == pytest.approx(1.0)
    bucket.refund()
    assert bucket.try_take() == 0.0


async def test_pause_holds_until_the_latest_deadline() -> None:
    t = FakeTime()
    pause = LanePause(clock=t.clock, sleep=t.sleep)
    await pause.wait()
    assert t.slept == []
    pause.pause_for(5)
    pause.pause_for(2)  # a shorter pause never cuts a longer one short
    assert pause.remaining() == pytest.approx(5)
    await pause.wait()
    assert t.now == pytest.approx(1005)


def test_backoff_is_capped_exponential_with_full_jitter() -> None:
    top = lambda: 0.999999  # noqa: E731
    assert backoff(1, base_s=1, max_s=60, rand=top) == pytest.approx(1, rel=1e-3)
    assert backoff(4, base_s=1, max_s=60, rand=top) == pytest.approx(8, rel=1e-3)
    assert backoff(10, base_s=1, max_s=60, rand=top) == pytest.approx(60, rel=1e-3)
    assert backoff(10_000, base_s=1, max_s=60, rand=lambda: 0.5) == 30
    assert backoff(3, base_s=1, max_s=60, rand=lambda: 0.0) == 0


async def test_gate_waiter_cancelled_just_before_a_release() -> None:
    gate = AimdGate(1)
    await gate.acquire()
    waiter = asyncio.create_task(gate.acquire())
    await asyncio.sleep(0)
    waiter.cancel()  # its future is cancelled now...
    gate.release()  # ...and dropped here, before the waiter runs its handler
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert gate.in_flight == 0
    assert gate.waiting == 0
