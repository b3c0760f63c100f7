"""BatchService: submit, pause/resume, cancel, retry, queries, notifications, shutdown."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from engine.errors import AlreadyExists, InvalidTransition, NotFound, PermanentWorkflowError, SheetError
from engine.models import Batch, BatchStatus, ChatRef, ParsedSheet, Progress, RowStatus, SheetProblem
from tests.engine.conftest import Make
from tests.fakes.memory_store import InMemoryStore
from tests.fakes.scripted_workflow import EngineHarness, ScriptedWorkflow, Step, fast_settings, sheet_of


async def until(predicate: Callable[[], Awaitable[bool]]) -> None:
    async with asyncio.timeout(5):
        while not await predicate():  # polling a fake's counter is the point
            await asyncio.sleep(0.002)


async def test_submit_stores_batch_and_rows_and_notifies(make: Make) -> None:
    h = await make()
    batch = await h.submit(["a", "b"], owner="cli:ann")
    assert re.fullmatch(r"[0-9a-f]{6}", batch.id)
    expected = ("cli:ann", 2, ("key",), BatchStatus.RUNNING)
    assert (batch.owner, batch.total, batch.columns, batch.status) == expected
    rows = await h.service.rows(batch.id)
    assert [(r.index, r.sheet_row, r.inputs) for r in rows] == [(0, 2, {"key": "a"}), (1, 3, {"key": "b"})]
    done = await h.service.wait(batch.id)
    assert done.status is BatchStatus.COMPLETED
    final, progress = h.notifier.last(batch.id)
    assert final.status is BatchStatus.COMPLETED
    assert (progress.succeeded, progress.done, progress.total, progress.tokens) == (2, 2, 2, 6)


async def test_submit_retries_a_taken_id() -> None:
    ids = iter(["aaaaaa", "aaaaaa", "bbbbbb"])
    h = EngineHarness(new_id=lambda: next(ids))
    first = await h.submit(1, start=False)
    second = await h.submit(1, start=False)
    assert (first.id, second.id) == ("aaaaaa", "bbbbbb")


async def test_submit_refuses_duplicate_firing_unknown_workflow_and_bad_sheet() -> None:
    h = EngineHarness()
    fire = datetime(2026, 1, 5, 9, tzinfo=UTC)
    kw: dict[str, Any] = {"workflow": "wf", "owner": "telegram:1", "source_name": "s.xlsx"}
    await h.service.submit(sheet=sheet_of(1), schedule_id="s1", fire_time=fire, start=False, **kw)
    with pytest.raises(AlreadyExists):
        await h.service.submit(sheet=sheet_of(1), schedule_id="s1", fire_time=fire, start=False, **kw)
    with pytest.raises(NotFound, match="no workflow named 'nope'"):
        await h.service.submit(**{**kw, "workflow": "nope"}, sheet=sheet_of(1))
    bad = ParsedSheet("S", ("key",), (), problems=(SheetProblem("S", 4, "key", "required"),))
    with pytest.raises(SheetError):
        await h.service.submit(sheet=bad, **kw)


async def test_unknown_ids_and_invalid_moves_are_refused(make: Make) -> None:
    h = await make()
    with pytest.raises(NotFound):
        await h.service.get("ffffff")
    with pytest.raises(NotFound):
        await h.service.pause("ffffff")
    batch, _ = await h.run(2)
    with pytest.raises(InvalidTransition, match="completed; it cannot become paused"):
        await h.service.pause(batch.id)
    with pytest.raises(InvalidTransition, match="retry"):
        await h.service.resume(batch.id)
    with pytest.raises(InvalidTransition, match="no failed rows"):
        await h.service.retry_failed(batch.id)


async def test_pause_keeps_in_flight_rows_and_resume_finishes_each_row_once(make: Make) -> None:
    h = await make(fast_settings(concurrency=2), workflow=ScriptedWorkflow(default=Step(latency_s=0.01)))
    batch = await h.submit(40)
    await until(lambda: _done_at_least(h, batch.id, 4))
    paused = await h.service.pause(batch.id)
    assert paused.status is BatchStatus.PAUSED
    settled = await asyncio.wait_for(h.service.wait(batch.id), 5)
    assert settled.status is BatchStatus.PAUSED
    progress = await h.service.progress(batch.id)
    assert progress.running == 0
    assert 0 < progress.succeeded < 40
    calls = len(h.wf.calls)
    await asyncio.sleep(0.05)
    assert len(h.wf.calls) == calls  # nothing dispatched while paused
    await h.service.resume(batch.id)
    done = await asyncio.wait_for(h.service.wait(batch.id), 10)
    assert done.status is BatchStatus.COMPLETED
    assert set(h.wf.calls_by_key.values()) == {1}
    assert len(h.wf.calls_by_key) == 40


async def test_cancel_stops_in_flight_rows_and_cancels_the_rest(make: Make) -> None:
    h = await make(fast_settings(concurrency=3), workflow=ScriptedWorkflow(default=Step(hang=True)))
    batch = await h.submit(10)
    await until(lambda: _in_flight(h, 3))
    cancelled = await h.service.cancel(batch.id)
    assert cancelled.status is BatchStatus.CANCELLED
    done = await asyncio.wait_for(h.service.wait(batch.id), 5)
    assert done.status is BatchStatus.CANCELLED
    assert sorted(h.wf.stops) == ["task-1", "task-2", "task-3"]
    rows = await h.service.rows(batch.id)
    assert {r.status for r in rows} == {RowStatus.CANCELLED}
    assert len(h.wf.calls) == 3
    _, progress = h.notifier.last(batch.id)
    assert (progress.cancelled, progress.running) == (10, 0)


async def test_cancel_lets_a_row_that_finishes_first_keep_its_result(make: Make) -> None:
    wf = ScriptedWorkflow(default=Step(hang=True, stoppable=False))
    h = await make(fast_settings(concurrency=2), workflow=wf, cancel_grace_s=0.05)
    wf.script("r0", Step(latency_s=0.03, stoppable=False))  # finishes before the stop lands
    batch = await h.submit(4)
    await until(lambda: _in_flight(h, 2))
    await h.service.cancel(batch.id)
    await asyncio.wait_for(h.service.wait(batch.id), 5)
    statuses = [r.status for r in await h.service.rows(batch.id)]
    assert statuses == [RowStatus.SUCCEEDED] + [RowStatus.CANCELLED] * 3


async def test_cancel_reports_the_batch_final_only_once_every_row_is_settled(make: Make) -> None:
    wf = ScriptedWorkflow(default=Step(hang=True, stoppable=False))  # stops do not end them
    h = await make(fast_settings(concurrency=3), workflow=wf, cancel_grace_s=0.2)
    wf.script("r1", Step(latency_s=0.1, stoppable=False))  # finishes while the cancel waits
    batch = await h.submit(8)
    await until(lambda: _in_flight(h, 3))
    await h.service.cancel(batch.id)
    await asyncio.wait_for(h.service.wait(batch.id), 5)
    finals = [p for b, p in h.notifier.calls if b.id == batch.id and b.status.is_final]
    assert finals, "the cancel was reported"
    # a final report sends the partial results: none may list a row as still running
    assert all((p.running, p.pending) == (0, 0) for p in finals), finals
    assert (finals[0].succeeded, finals[0].cancelled) == (1, 7)
    statuses = [r.status for r in await h.service.rows(batch.id)]
    assert statuses == [RowStatus.CANCELLED, RowStatus.SUCCEEDED] + [RowStatus.CANCELLED] * 6


async def test_retry_failed_reruns_only_failed_rows(make: Make) -> None:
    h = await make()
    for key in ("r0", "r2"):
        h.wf.script(key, Step(outcome=PermanentWorkflowError("bad input")))
    batch, _ = await h.run(4)
    assert batch.status is BatchStatus.COMPLETED
    assert (await h.service.progress(batch.id)).failed == 2
    again = await h.service.retry_failed(batch.id)
    assert again.status is BatchStatus.RUNNING
    done = await asyncio.wait_for(h.service.wait(batch.id), 5)
    assert done.status is BatchStatus.COMPLETED
    assert dict(h.wf.calls_by_key) == {"r0": 2, "r1": 1, "r2": 2, "r3": 1}
    assert (await h.service.progress(batch.id)).succeeded == 4


async def test_batch_where_every_row_failed_is_failed(make: Make) -> None:
    h = await make(workflow=ScriptedWorkflow(default=Step(outcome=PermanentWorkflowError("401 bad key"))))
    batch, rows = await h.run(3)
    assert batch.status is BatchStatus.FAILED
    assert {r.error for r in rows} == {"401 bad key"}


async def test_empty_batch_completes(make: Make) -> None:
    h = await make()
    batch, rows = await h.run([])
    assert batch.status is BatchStatus.COMPLETED
    assert rows == []


async def test_notifications_are_coalesced_per_commit(make: Make) -> None:
    h = await make(fast_settings(concurrency=16), workflow=ScriptedWorkflow(default=Step(latency_s=0.001)))
    batch, _ = await h.run(300)
    calls = [c for c in h.notifier.calls if c[0].id == batch.id]
    assert len(calls) < 150  # far fewer than one per row
    assert calls[-1][0].status is BatchStatus.COMPLETED
    assert calls[-1][1].succeeded == 300
    done_counts = [p.done for _, p in calls]
    assert done_counts == sorted(done_counts)


async def test_submit_with_a_chat_binds_it_before_the_first_report_and_starts(make: Make) -> None:
    h = await make()
    chat = ChatRef("telegram", "42", progress_message_id="7")
    seen: list[tuple[BatchStatus, ChatRef | None]] = []
    record = h.notifier.batch_changed

    async def first_sees_the_chat(batch: Batch, progress: Progress) -> None:
        seen.append((batch.status, await h.store.chat_for(batch.id)))
        await record(batch, progress)

    h.notifier.batch_changed = first_sees_the_chat  # type: ignore[method-assign]
    batch = await h.service.submit(workflow="wf", owner="telegram:1", sheet=sheet_of(2), source_name="t.xlsx",
                                   chat=chat)
    assert seen[0] == (BatchStatus.RUNNING, chat)  # never a "queued" report, never unbound
    assert (await h.service.wait(batch.id)).status is BatchStatus.COMPLETED


async def test_latest_and_list(make: Make) -> None:
    h = await make()
    a = await h.submit(1, owner="telegram:1", start=False)
    b = await h.submit(1, owner="telegram:2", start=False)
    c = await h.submit(1, owner="telegram:1", start=False)
    latest = await h.service.latest("telegram:1")
    assert latest is not None
    assert latest.id in {a.id, c.id}
    assert {x.id for x in await h.service.list("telegram:1")} == {a.id, c.id}
    assert len(await h.service.list(limit=2)) == 2
    assert await h.service.latest("slack:nobody") is None
    started = await h.service.resume(b.id)  # a batch submitted with start=False
    assert started.status is BatchStatus.RUNNING
    assert (await asyncio.wait_for(h.service.wait(b.id), 5)).status is BatchStatus.COMPLETED


async def test_shutdown_leaves_rows_running_for_recovery_which_keeps_their_results() -> None:
    store = InMemoryStore()
    wf = ScriptedWorkflow(default=Step(hang=True, stoppable=False))
    first = EngineHarness(fast_settings(concurrency=2), workflow=wf, store=store)
    await first.service.start()
    batch = await first.submit(3)
    await until(lambda: _in_flight(first, 2))
    await asyncio.sleep(0.03)  # let the run ids commit
    await first.service.shutdown(0.01)
    assert (await store.get_batch(batch.id)).status is BatchStatus.RUNNING  # type: ignore[union-attr]
    rows = await store.rows(batch.id)
    assert [r.status for r in rows] == [RowStatus.RUNNING, RowStatus.RUNNING, RowStatus.PENDING]
    assert [r.run_id for r in rows[:2]] == ["run-1", "run-2"]
    # Dify finished both runs while we were down
    for run_id in ("run-1", "run-2"):
        wf.remote[run_id] = wf.remote[run_id].__class__("succeeded", {"echo": run_id}, run_id=run_id)
    wf.default = Step()
    second = EngineHarness(fast_settings(concurrency=2), workflow=wf, store=store)
    resumed = await second.service.recover()
    await second.service.start()
    assert [b.id for b in resumed] == [batch.id]
    done = await asyncio.wait_for(second.service.wait(batch.id), 5)
    await second.service.shutdown(0)
    assert done.status is BatchStatus.COMPLETED
    rows = await store.rows(batch.id)
    assert [r.outputs for r in rows] == [{"echo": "run-1"}, {"echo": "run-2"}, {"echo": "r2"}]
    assert dict(wf.calls_by_key) == {"r0": 1, "r1": 1, "r2": 1}  # nothing finished ran twice


async def _done_at_least(h: EngineHarness, batch_id: str, n: int) -> bool:
    return (await h.service.progress(batch_id)).done >= n


async def _in_flight(h: EngineHarness, n: int) -> bool:
    return h.wf.in_flight >= n
