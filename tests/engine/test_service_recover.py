"""BatchService.recover(): every way a row can be left behind by a crash."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from engine.models import Batch, BatchStatus, Row, RowStatus, RunResult
from tests.fakes.memory_store import InMemoryStore
from tests.fakes.scripted_workflow import EngineHarness, ScriptedWorkflow, fast_settings

LONG_AGO = datetime.now(UTC) - timedelta(hours=1)


def _row(index: int, status: RowStatus, **kw: object) -> Row:
    return Row("abc123", index, index + 2, (f"r{index}",), {"key": f"r{index}"}, status=status,
               attempts=1 if status is not RowStatus.PENDING else 0, **kw)  # type: ignore[arg-type]


async def _store_with(rows: list[Row], status: BatchStatus = BatchStatus.RUNNING) -> InMemoryStore:
    store = InMemoryStore()
    batch = Batch("abc123", "wf", "telegram:1", status, len(rows), LONG_AGO, ("key",), started_at=LONG_AGO)
    await store.create_batch(batch, rows)
    return store


async def _recover(store: InMemoryStore, wf: ScriptedWorkflow, **settings: float) -> EngineHarness:
    h = EngineHarness(fast_settings(timeout_s=settings.get("timeout_s", 0.3)), workflow=wf, store=store)
    await h.service.recover()
    await h.service.start()
    return h


async def _finish(h: EngineHarness) -> list[Row]:
    try:
        await asyncio.wait_for(h.service.wait("abc123"), 5)
        return await h.store.rows("abc123")
    finally:
        await h.service.shutdown(0)


async def test_each_reconcile_case_ends_right_and_never_reruns_a_finished_row() -> None:
    wf = ScriptedWorkflow()
    wf.remote["run-ok"] = RunResult("succeeded", {"answer": 42}, run_id="run-ok", tokens=7)
    wf.remote["run-failed"] = RunResult("failed", error="boom", run_id="run-failed")
    wf.remote["run-stopped"] = RunResult("stopped", run_id="run-stopped")
    wf.remote["run-stale"] = RunResult("running", run_id="run-stale")  # stopped on 1.14.1: running forever
    rows = [
        _row(0, RowStatus.RUNNING, run_id="run-ok", task_id="t0", started_at=LONG_AGO),
        _row(1, RowStatus.RUNNING, run_id="run-failed", task_id="t1", started_at=LONG_AGO),
        _row(2, RowStatus.RUNNING, run_id="run-stopped", task_id="t2", started_at=LONG_AGO),
        _row(3, RowStatus.RUNNING, run_id="run-404", task_id="t3", started_at=LONG_AGO),
        _row(4, RowStatus.RUNNING, run_id="run-stale", task_id="t4", started_at=LONG_AGO),
        _row(5, RowStatus.RUNNING),  # claimed, never named by Dify
        _row(6, RowStatus.PENDING),
        _row(7, RowStatus.SUCCEEDED, outputs={"answer": 1}),
    ]
    h = await _recover(await _store_with(rows), wf)
    done = await _finish(h)
    assert (await h.store.get_batch("abc123")).status is BatchStatus.COMPLETED  # type: ignore[union-attr]
    assert all(r.status is RowStatus.SUCCEEDED for r in done)
    assert done[0].outputs == {"answer": 42}
    assert done[0].tokens == 7
    assert done[7].outputs == {"answer": 1}
    assert dict(wf.calls_by_key) == {"r1": 1, "r2": 1, "r3": 1, "r4": 1, "r5": 1, "r6": 1}
    assert wf.stops == ["t4"]  # the run past its timeout is stopped before the re-run


async def test_a_run_still_going_is_polled_until_it_finishes() -> None:
    wf = ScriptedWorkflow()
    wf.remote["run-live"] = RunResult("running", run_id="run-live")
    live = _row(0, RowStatus.RUNNING, run_id="run-live", task_id="t0", started_at=datetime.now(UTC))
    store = await _store_with([live])
    h = await _recover(store, wf, timeout_s=5.0)
    await asyncio.sleep(0.05)
    assert (await store.rows("abc123"))[0].status is RowStatus.RUNNING
    wf.remote["run-live"] = RunResult("succeeded", {"late": True}, run_id="run-live")
    done = await _finish(h)
    assert done[0].outputs == {"late": True}
    assert wf.calls == []
    assert len(wf.fetches) > 2


async def test_a_run_still_going_past_its_timeout_is_stopped_and_rerun() -> None:
    wf = ScriptedWorkflow()
    wf.remote["run-live"] = RunResult("running", run_id="run-live")
    live = _row(0, RowStatus.RUNNING, run_id="run-live", task_id="t0", started_at=datetime.now(UTC))
    store = await _store_with([live])
    h = await _recover(store, wf, timeout_s=0.1)
    done = await _finish(h)
    assert wf.stops == ["t0"]
    assert done[0].status is RowStatus.SUCCEEDED
    assert wf.calls_by_key["r0"] == 1


async def test_a_paused_batch_is_reconciled_but_not_resumed() -> None:
    wf = ScriptedWorkflow()
    wf.remote["run-ok"] = RunResult("succeeded", {"a": 1}, run_id="run-ok")
    rows = [_row(0, RowStatus.RUNNING, run_id="run-ok", started_at=LONG_AGO), _row(1, RowStatus.PENDING)]
    store = await _store_with(rows, BatchStatus.PAUSED)
    h = EngineHarness(fast_settings(), workflow=wf, store=store)
    assert await h.service.recover() == []
    await h.service.start()
    done = await _finish(h)
    assert [r.status for r in done] == [RowStatus.SUCCEEDED, RowStatus.PENDING]
    assert (await store.get_batch("abc123")).status is BatchStatus.PAUSED  # type: ignore[union-attr]
    assert wf.calls == []
