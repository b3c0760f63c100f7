"""Running rows: limits, retries, overload, timeouts, stream cuts, fairness (service + fakes)."""

from __future__ import annotations

import asyncio
import time

from engine.errors import PermanentWorkflowError, TransientWorkflowError
from engine.models import BatchStatus, RowStatus, RunResult
from tests.engine.conftest import Make
from tests.fakes.scripted_workflow import ScriptedWorkflow, Step, fast_settings


def overload(retry_after: float | None = None) -> TransientWorkflowError:
    return TransientWorkflowError("Too many requests", status=429, overload=True, retry_after_s=retry_after)


async def test_peak_concurrency_never_exceeds_the_limit(make: Make) -> None:
    h = await make(fast_settings(concurrency=4), workflow=ScriptedWorkflow(default=Step(latency_s=0.003)))
    batch, rows = await h.run(60)
    assert h.wf.peak_in_flight == 4
    assert batch.status is BatchStatus.COMPLETED
    assert all(r.status is RowStatus.SUCCEEDED for r in rows)
    assert rows[7].outputs == {"echo": "r7"}
    assert rows[7].run_id
    assert rows[7].tokens == 3


async def test_calls_carry_owner_and_trace_id(make: Make) -> None:
    h = await make()
    h.wf.script("r1", Step(outcome=TransientWorkflowError("502 Bad Gateway", status=502)))
    batch, _ = await h.run(2, owner="slack:U1")
    assert {c.user for c in h.wf.calls} == {"slack:U1"}
    assert sorted(c.trace_id for c in h.wf.calls) == [f"{batch.id}-0-1", f"{batch.id}-1-1", f"{batch.id}-1-2"]


async def test_transient_errors_are_retried_then_succeed(make: Make) -> None:
    h = await make()
    h.wf.script(
        "r0", Step(outcome=TransientWorkflowError("503")), Step(outcome=TransientWorkflowError("503"))
    )
    _batch, rows = await h.run(3)
    assert rows[0].status is RowStatus.SUCCEEDED
    assert rows[0].attempts == 3
    assert h.wf.calls_by_key["r0"] == 3
    assert h.wf.calls_by_key["r1"] == 1


async def test_transient_errors_use_up_attempts(make: Make) -> None:
    h = await make(fast_settings(max_attempts=2))
    h.wf.script("r0", *[Step(outcome=TransientWorkflowError("connection reset"))] * 5)
    _, rows = await h.run(1)
    assert rows[0].status is RowStatus.FAILED
    assert rows[0].attempts == 2
    assert rows[0].error is not None
    assert "connection reset" in rows[0].error
    assert h.wf.calls_by_key["r0"] == 2


async def test_permanent_error_fails_at_once_with_difys_message(make: Make) -> None:
    h = await make()
    h.wf.script("r0", Step(outcome=PermanentWorkflowError("name is required in input form", status=400)))
    batch, rows = await h.run(2)
    assert rows[0].status is RowStatus.FAILED
    assert rows[0].error == "name is required in input form"
    assert h.wf.calls_by_key["r0"] == 1
    assert batch.status is BatchStatus.COMPLETED  # one row still succeeded


async def test_failed_run_fails_the_row(make: Make) -> None:
    h = await make()
    h.wf.script("r0", Step(outcome=RunResult("failed", error="LLM node: quota exceeded")))
    _, rows = await h.run(1)
    assert rows[0].status is RowStatus.FAILED
    assert rows[0].error == "LLM node: quota exceeded"
    assert rows[0].run_id == "run-1"
    assert h.wf.calls_by_key["r0"] == 1


async def test_failed_run_is_retried_when_configured(make: Make) -> None:
    h = await make(fast_settings(retry_failed_runs=True))
    h.wf.script("r0", Step(outcome=RunResult("failed", error="flaky")))
    _, rows = await h.run(1)
    assert rows[0].status is RowStatus.SUCCEEDED
    assert rows[0].attempts == 2


async def test_row_timeout_stops_the_run_and_retries(make: Make) -> None:
    h = await make(fast_settings(timeout_s=0.05))
    h.wf.script("r0", Step(hang=True, stoppable=False))
    _, rows = await h.run(1)
    assert h.wf.stops == ["task-1"]
    assert rows[0].status is RowStatus.SUCCEEDED
    assert rows[0].attempts == 2


async def test_run_id_is_saved_while_the_row_runs(make: Make) -> None:
    h = await make()
    h.wf.script("r0", Step(hang=True))
    batch = await h.submit(1)
    for _ in range(200):
        row = await h.row(batch.id, "r0")
        if row.run_id:
            break
        await asyncio.sleep(0.005)
    assert (row.status, row.run_id, row.task_id, row.attempts) == (RowStatus.RUNNING, "run-1", "task-1", 1)


async def test_overload_shrinks_the_lane_and_spends_no_attempts(make: Make) -> None:
    h = await make(fast_settings(concurrency=8, max_attempts=1))
    h.wf.script("r0", *[Step(outcome=overload())] * 4)
    _batch, rows = await h.run(1)
    assert rows[0].status is RowStatus.SUCCEEDED
    assert rows[0].attempts == 1
    assert h.wf.calls_by_key["r0"] == 5
    assert h.lane.gate.limit < 8


async def test_overload_gives_up_after_overload_give_up_s(make: Make) -> None:
    # a retry is claimable once its write commits: group writes quickly so 50 ms holds several
    h = await make(
        fast_settings(overload_give_up_s=0.05), workflow=ScriptedWorkflow(default=Step(outcome=overload())),
        flush_delay_s=0.005,
    )
    started = time.monotonic()
    batch, rows = await h.run(1)
    assert time.monotonic() - started >= 0.05
    assert rows[0].status is RowStatus.FAILED
    assert rows[0].attempts == 0
    assert rows[0].error is not None
    assert "Too many requests" in rows[0].error
    assert batch.status is BatchStatus.FAILED
    assert h.wf.calls_by_key["r0"] > 2


async def test_retry_after_pauses_the_whole_lane(make: Make) -> None:
    settings = fast_settings(concurrency=2, backoff_max_s=0.5)
    h = await make(settings, workflow=ScriptedWorkflow(default=Step(latency_s=0.02)))
    h.wf.script("r0", Step(outcome=overload(retry_after=0.2)))
    await h.run(6)
    first = h.wf.calls[0]
    assert first.key == "r0"
    later = [c for c in h.wf.calls[1:] if c.key != "r1" or h.wf.calls.index(c) > 1]
    assert len(later) == 5
    assert min(c.at for c in later) - first.at >= 0.19


async def test_retry_after_is_honoured_exactly_even_past_the_back_off_cap(make: Make) -> None:
    settings = fast_settings(concurrency=2, backoff_max_s=0.01, overload_pause_s=0.01)
    h = await make(settings, workflow=ScriptedWorkflow(default=Step(latency_s=0.01)))
    h.wf.script("r0", Step(outcome=overload(retry_after=0.3)))
    await h.run(4)
    r0 = [c.at for c in h.wf.calls if c.key == "r0"]
    assert r0[1] - r0[0] >= 0.29
    assert min(c.at for c in h.wf.calls if c.key in ("r2", "r3")) - r0[0] >= 0.29


async def test_an_overload_without_retry_after_delays_only_its_row(make: Make) -> None:
    settings = fast_settings(concurrency=2, overload_pause_s=0.4)
    h = await make(settings, workflow=ScriptedWorkflow(default=Step(latency_s=0.01)), rand=lambda: 0.0)
    h.wf.script("r0", Step(outcome=overload()))
    await h.run(6)
    r0 = [c.at for c in h.wf.calls if c.key == "r0"]
    others = [c.at for c in h.wf.calls if c.key != "r0"]
    assert r0[1] - r0[0] >= 0.19, "the refused row waits about overload_pause_s (half of it at least)"
    assert max(others) - r0[0] < 0.19, "the other rows went on meanwhile"


async def test_waiting_retry_holds_no_slot(make: Make) -> None:
    settings = fast_settings(concurrency=1, backoff_base_s=0.2, backoff_max_s=0.2)
    h = await make(settings, rand=lambda: 1.0)
    h.wf.script("r0", Step(outcome=TransientWorkflowError("502")))
    await h.run(21)
    r0_calls = [c.at for c in h.wf.calls if c.key == "r0"]
    others = [c.at for c in h.wf.calls if c.key != "r0"]
    assert len(others) == 20
    assert max(others) < r0_calls[1]
    assert r0_calls[1] - r0_calls[0] >= 0.19


async def test_stream_cut_after_start_keeps_the_remote_result(make: Make) -> None:
    h = await make()
    h.wf.script("r0", Step(cut=True))
    _, rows = await h.run(1)
    assert rows[0].status is RowStatus.SUCCEEDED
    assert rows[0].outputs == {"echo": "r0"}
    assert h.wf.calls_by_key["r0"] == 1
    assert h.wf.fetches == ["run-1"]


async def test_stream_cut_of_a_failed_run_is_run_again(make: Make) -> None:
    h = await make()
    h.wf.script("r0", Step(cut=True, remote=RunResult("failed", error="boom")))
    _, rows = await h.run(1)
    assert rows[0].status is RowStatus.SUCCEEDED
    assert rows[0].attempts == 2
    assert h.wf.calls_by_key["r0"] == 2


async def test_stream_cut_of_a_run_that_never_ends_is_stopped_then_retried(make: Make) -> None:
    h = await make(fast_settings(timeout_s=0.1))
    h.wf.script("r0", Step(cut=True, remote=RunResult("running")))
    _, rows = await h.run(1)
    assert h.wf.stops == ["task-1"]
    assert len(h.wf.fetches) > 2
    assert rows[0].status is RowStatus.SUCCEEDED
    assert h.wf.calls_by_key["r0"] == 2


async def test_small_batch_is_not_starved_by_a_big_one(make: Make) -> None:
    h = await make(fast_settings(concurrency=4), workflow=ScriptedWorkflow(default=Step(latency_s=0.001)))
    big = await h.submit(2000, prefix="big")
    await asyncio.sleep(0.02)
    small = await h.submit(20, prefix="small", owner="telegram:2")
    await asyncio.wait_for(h.service.wait(small.id), 20)
    big_done = (await h.service.progress(big.id)).done
    assert big_done < 200, big_done
    assert (await h.service.progress(small.id)).succeeded == 20


async def test_requests_per_minute_cap_is_honoured(make: Make) -> None:
    # 6,000/min = 100/s with a one-second burst of 100: 150 calls need at least 0.5 s
    h = await make(fast_settings(concurrency=16, requests_per_minute=6000))
    started = time.monotonic()
    _, rows = await h.run(150)
    elapsed = time.monotonic() - started
    assert all(r.status is RowStatus.SUCCEEDED for r in rows)
    assert elapsed >= 0.48
    starts = sorted(c.at for c in h.wf.calls)
    assert sum(1 for t in starts if t - starts[0] < 0.25) <= 100 + 26


async def test_many_batches_on_one_lane_take_turns(make: Make) -> None:
    # one slot, ten batches started together: a lane that served batches in order would
    # finish the first before the last one ran at all; round-robin keeps them level
    h = await make(fast_settings(concurrency=1), workflow=ScriptedWorkflow(default=Step(latency_s=0.0)))
    batches = [await h.submit(30, prefix=f"b{n}-", owner=f"telegram:{n}") for n in range(10)]
    for batch in batches:
        await asyncio.wait_for(h.service.wait(batch.id), 30)
    keys = [call.key.split("-")[0] for call in h.wf.calls]
    # from the moment the last batch got its first turn until the first batch finished,
    # every batch had one turn per round (a start-up skew before that does not matter)
    all_in = max(keys.index(f"b{n}") for n in range(10))
    first_done = min(max(i for i, k in enumerate(keys) if k == f"b{n}") for n in range(10))
    turns = {f"b{n}": keys[all_in:first_done + 1].count(f"b{n}") for n in range(10)}
    assert first_done - all_in >= 100, (all_in, first_done)
    assert max(turns.values()) - min(turns.values()) <= 2, turns
