"""Two BatchServices on one PostgreSQL schema share a batch, then one dies mid-run.

Both stand for daemons on separate hosts: each has its own SqlStore (its own worker id
and leases) and its own client, in front of one shared `ScriptedWorkflow` (one Dify), so
``calls_by_key`` counts every run of a row whichever replica made it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from engine.models import BatchStatus, JsonDict, RowStatus, RunResult
from engine.ports import RunStarted
from engine.service import BatchService
from storage import SqlStore
from tests.fakes.scripted_workflow import RecordingNotifier, ScriptedWorkflow, Step, fast_settings, sheet_of
from tests.storage.conftest import PgSchema, pg, pg_available  # noqa: F401 - fixtures

LEASE_S = 0.8
TIMEOUT_S = 0.6  # the lease must outlive it


class Replica:
    """One replica's client: forwards to the shared Dify, counts its own calls, and lets
    a run go on remotely when the replica dies (a killed daemon does not stop Dify)."""

    def __init__(self, dify: ScriptedWorkflow) -> None:
        self.dify = dify
        self.calls: Counter[str] = Counter()
        self.fetches = 0

    async def form(self) -> Any:
        return await self.dify.form()

    async def run(self, inputs: JsonDict, *, user: str, trace_id: str, query: str | None = None,
                  on_started: RunStarted | None = None) -> RunResult:
        self.calls[str(inputs["key"])] += 1
        remote = asyncio.ensure_future(
            self.dify.run(inputs, user=user, trace_id=trace_id, query=query, on_started=on_started)
        )
        return await asyncio.shield(remote)

    async def stop(self, task_id: str, *, user: str) -> None:
        await self.dify.stop(task_id, user=user)

    async def fetch_run(self, run_id: str) -> RunResult | None:
        self.fetches += 1
        return await self.dify.fetch_run(run_id)

    async def aclose(self) -> None:
        return None


Open = Callable[[Replica], Awaitable[tuple[BatchService, SqlStore]]]


@pytest.fixture
async def replicas(pg: PgSchema) -> AsyncIterator[Open]:  # noqa: F811 - the imported fixture
    async with contextlib.AsyncExitStack() as stack:

        async def open_one(client: Replica) -> tuple[BatchService, SqlStore]:
            store = await pg.open()
            stack.push_async_callback(store.close)
            settings = fast_settings(concurrency=4, timeout_s=TIMEOUT_S)
            service = BatchService(
                store, {"wf": settings}, {"wf": client}, RecordingNotifier(), idle_poll_s=0.02,
                run_poll_s=0.01, lease_s=LEASE_S, heartbeat_s=0.05, discover_s=0.05,
            )
            await service.start()
            stack.push_async_callback(service.shutdown, 0)
            return service, store

        yield open_one


async def kill(service: BatchService) -> None:
    """Die like a SIGKILL: no more dispatch, heartbeat or writes; nothing handed back."""
    lane = service.lanes["wf"]
    assert lane._task is not None
    lane._task.cancel()  # first stop sending, so every row sent has its run id stored
    await asyncio.sleep(0)
    await service._writer.flush()
    tasks = [*lane._tasks, service._writer._task, service._notices._task, service._upkeep._task]
    for task in tasks:
        if task is not None:
            task.cancel()
    await asyncio.gather(lane._task, *[t for t in tasks if t is not None], return_exceptions=True)
    lane._task = None
    service._writer._task = service._notices._task = service._upkeep._task = None
    lane.cursors.clear()
    lane._tasks.clear()


async def test_two_replicas_share_a_batch_and_the_survivor_takes_over_the_dead_ones_rows(
    replicas: Open,
) -> None:
    dify = ScriptedWorkflow(default=Step(latency_s=0.03))
    a_client, b_client = Replica(dify), Replica(dify)
    a, a_store = await replicas(a_client)
    b, _ = await replicas(b_client)

    # big enough that B gets slots (a fair share) before A has claimed every row in chunks
    shared = await a.submit(workflow="wf", owner="cli:t", sheet=sheet_of(200), source_name="s")
    done = await asyncio.wait_for(a.wait(shared.id), 20)
    assert done.status is BatchStatus.COMPLETED
    rows = await a.rows(shared.id)
    assert all(r.status is RowStatus.SUCCEEDED for r in rows)
    assert a_client.calls and b_client.calls  # B found the batch and took part
    assert set(dify.calls_by_key.values()) == {1}  # no row ran twice
    assert len(dify.calls_by_key) == 200

    dify.default = Step(latency_s=0.15)
    second = await b.submit(workflow="wf", owner="cli:t", sheet=sheet_of(40, "s"), source_name="s")

    async def a_has_rows_in_flight() -> None:
        while not (dify.in_flight and a_client.calls.keys() & {f"s{i}" for i in range(40)}):
            await asyncio.sleep(0.005)

    await asyncio.wait_for(a_has_rows_in_flight(), 5)
    await kill(a)
    orphans = [r for r in await a_store.rows(second.id, statuses=[RowStatus.RUNNING])
               if r.run_id and a_client.calls[str(r.inputs["key"])]]
    assert orphans  # A died with runs going on at Dify, their ids saved
    fetches_before = b_client.fetches

    finished = await asyncio.wait_for(b.wait(second.id), 20)
    assert finished.status is BatchStatus.COMPLETED
    rows = await b.rows(second.id)
    assert [r.status for r in rows] == [RowStatus.SUCCEEDED] * 40
    assert all(r.outputs == {"echo": r.inputs["key"]} for r in rows)
    # the orphans (run id saved) were reconciled, not re-run. A row A had just sent when it
    # died, before Dify named the run, has no run id to reconcile by: that one may run
    # again, the at-least-once residue of a kill.
    twice = {k for k, n in dify.calls_by_key.items() if n > 1}
    assert not twice & {str(o.inputs["key"]) for o in orphans}
    assert len(twice) <= 4, twice  # at most one per slot A had open
    assert b_client.fetches > fetches_before
    for orphan in orphans:
        assert b_client.calls[str(orphan.inputs["key"])] == 0


async def _calls_settle(dify: ScriptedWorkflow, quiet_s: float = 0.4, timeout_s: float = 5.0) -> int:
    """Wait until no new run starts for ``quiet_s``; returns the runs made so far."""
    async def settled() -> int:
        while True:
            before = sum(dify.calls_by_key.values())
            await asyncio.sleep(quiet_s)
            if sum(dify.calls_by_key.values()) == before and not dify.in_flight:
                return before

    return await asyncio.wait_for(settled(), timeout_s)


async def test_a_pause_and_a_cancel_on_one_replica_stop_the_other_too(replicas: Open) -> None:
    dify = ScriptedWorkflow(default=Step(latency_s=0.05))
    a_client, b_client = Replica(dify), Replica(dify)
    a, _ = await replicas(a_client)
    b, _ = await replicas(b_client)
    batch = await a.submit(workflow="wf", owner="cli:t", sheet=sheet_of(400), source_name="s")

    async def both_at_work() -> None:
        while not (a_client.calls and b_client.calls):
            await asyncio.sleep(0.005)

    await asyncio.wait_for(both_at_work(), 5)
    await a.pause(batch.id)
    stopped_at = await _calls_settle(dify)
    assert stopped_at < 300, "B went on running the batch A paused"
    progress = await b.progress(batch.id)
    assert progress.running == 0 and progress.pending == 400 - progress.done

    await a.resume(batch.id)
    b_before = sum(b_client.calls.values())
    async def b_serves_again() -> None:
        while sum(b_client.calls.values()) == b_before:
            await asyncio.sleep(0.005)

    await asyncio.wait_for(b_serves_again(), 5)
    await a.cancel(batch.id)
    await _calls_settle(dify)
    done = await b.get(batch.id)
    assert done.status is BatchStatus.CANCELLED
    rows = await b.rows(batch.id)
    assert {r.status for r in rows} <= {RowStatus.SUCCEEDED, RowStatus.CANCELLED}
    assert any(r.status is RowStatus.CANCELLED for r in rows)
    assert set(dify.calls_by_key.values()) == {1}  # nothing ran twice across the pause
