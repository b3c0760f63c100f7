"""Dify unreachable is the lane's problem: rows keep their attempts, people are told, the
lane goes on when Dify is back, and after `outage_pause_after_s` the batch pauses itself."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from engine.dify.client import DifyClient
from engine.models import BatchStatus, Progress, ResponseMode, RowStatus
from engine.service import BatchService
from engine.settings import WorkflowSettings
from storage import SqlStore
from tests.fakes.dify import FakeDify
from tests.fakes.dify_script import Plan, RunCall, server_error
from tests.fakes.scripted_workflow import RecordingNotifier, sheet_of


@dataclass
class World:
    dify: FakeDify
    service: BatchService
    notifier: RecordingNotifier
    port: int

    def saw_unreachable(self) -> list[Progress]:
        return [p for _, p in self.notifier.calls if p.unreachable_since is not None]


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    dify = FakeDify(latency_s=0.02, key_variable="key", form=[
        {"text-input": {"variable": "key", "label": "key", "required": True}}])
    await dify.start()
    port = int(dify.base_url.rsplit(":", 1)[1].split("/")[0])
    store = await SqlStore.open(f"sqlite+aiosqlite:///{tmp_path / 'o.db'}")
    settings = WorkflowSettings(
        name="wf", response_mode=ResponseMode.STREAMING, concurrency=4, timeout_s=5, max_attempts=1,
        backoff_base_s=0.05, backoff_max_s=0.2, outage_pause_after_s=30,
    )
    client = DifyClient(dify.base_url, dify.api_key, timeout_s=5, connect_timeout_s=1)
    notifier = RecordingNotifier()
    service = BatchService(store, {"wf": settings}, {"wf": client}, notifier,
                           idle_poll_s=0.05, run_poll_s=0.05, notify_interval_s=0.02)
    await service.start()
    try:
        yield World(dify, service, notifier, port)
    finally:
        await service.shutdown(0.5)
        await client.aclose()
        await store.close()
        await dify.close()


async def _until(predicate: object, timeout: float = 10) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():  # type: ignore[operator]
            await asyncio.sleep(0.01)


async def test_a_dify_that_refuses_connections_costs_no_attempt_and_is_reported(world: World) -> None:
    batch = await world.service.submit(workflow="wf", owner="telegram:1", sheet=sheet_of(30),
                                       source_name="s.xlsx")
    await _until(lambda: sum(world.dify.counters.succeeded_by_key.values()) >= 5)
    await world.dify.close(keep_runs=True)  # connection refused from now on; runs go on
    await _until(lambda: bool(world.saw_unreachable()))
    await asyncio.sleep(0.5)  # several probes fail meanwhile
    await world.dify.start(port=world.port)
    done = await asyncio.wait_for(world.service.wait(batch.id), 20)
    rows = await world.service.rows(batch.id)
    assert done.status is BatchStatus.COMPLETED
    assert {r.status for r in rows} == {RowStatus.SUCCEEDED}, [r.error for r in rows]
    assert {r.attempts for r in rows} == {1}, "the outage spent no row's attempt"
    told = world.saw_unreachable()[0]
    # a call in flight when the server went may first see its connection reset; the probes
    # that follow are refused, and the reports say so
    assert any("connection refused" in (p.trouble or "") for p in world.saw_unreachable())
    assert told.next_try_at is not None
    assert told.next_try_at > told.unreachable_since  # type: ignore[operator]
    final = world.notifier.last(batch.id)[1]
    assert final.unreachable_since is None, "the last report no longer says Dify is gone"


async def test_a_proxy_answering_503_for_every_row_is_an_outage_too(world: World) -> None:
    down = True

    def script(call: RunCall) -> Plan | None:
        return Plan(fault=server_error(503)) if down else None

    world.dify.script = script
    batch = await world.service.submit(workflow="wf", owner="telegram:1", sheet=sheet_of(12),
                                       source_name="s.xlsx")
    await _until(lambda: bool(world.saw_unreachable()))
    await asyncio.sleep(0.4)
    refused = sum(world.dify.counters.requests_by_key.values())
    assert refused < 12, "one probe at a time while Dify is gone, not every row"
    down = False
    done = await asyncio.wait_for(world.service.wait(batch.id), 20)
    rows = await world.service.rows(batch.id)
    assert done.status is BatchStatus.COMPLETED
    assert {(r.status, r.attempts) for r in rows} == {(RowStatus.SUCCEEDED, 1)}


async def test_the_batch_pauses_itself_when_dify_stays_away(world: World) -> None:
    lane = world.service.lanes["wf"]
    object.__setattr__(lane.settings, "outage_pause_after_s", 0.5)  # this test's limit (frozen)
    await world.dify.close()
    batch = await world.service.submit(workflow="wf", owner="telegram:1", sheet=sheet_of(6),
                                       source_name="s.xlsx")
    paused = await asyncio.wait_for(world.service.wait(batch.id), 20)
    assert paused.status is BatchStatus.PAUSED
    assert paused.error is not None and "unreachable" in paused.error and "paused by itself" in paused.error
    rows = await world.service.rows(batch.id)
    assert {(r.status, r.attempts) for r in rows} == {(RowStatus.PENDING, 0)}
    told = world.notifier.last(batch.id)[0]
    assert told.status is BatchStatus.PAUSED and told.error == paused.error
    await world.dify.start(port=world.port)
    await world.service.resume(batch.id)
    done = await asyncio.wait_for(world.service.wait(batch.id), 20)
    assert done.status is BatchStatus.COMPLETED and done.error is None
