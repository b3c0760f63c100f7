"""Leases from the settings, and the heartbeat that keeps them (single process, in memory)."""

from __future__ import annotations

import asyncio

import pytest

from engine.service import BatchService
from engine.upkeep import LEASE_FLOOR_S
from tests.fakes.memory_store import InMemoryStore
from tests.fakes.scripted_workflow import (
    EngineHarness,
    RecordingNotifier,
    ScriptedWorkflow,
    Step,
    fast_settings,
)


def test_a_lease_shorter_than_a_row_timeout_is_refused() -> None:
    settings = fast_settings(timeout_s=5.0)
    with pytest.raises(ValueError, match="longest row timeout"):
        BatchService(InMemoryStore(), {"wf": settings}, {"wf": ScriptedWorkflow()}, RecordingNotifier(),
                     lease_s=5.0)


def test_the_default_lease_outlives_the_longest_timeout() -> None:
    store = InMemoryStore()
    slow, quick = fast_settings("slow", timeout_s=600.0), fast_settings("quick", timeout_s=1.0)
    clients = {"slow": ScriptedWorkflow(), "quick": ScriptedWorkflow()}
    BatchService(store, {"slow": slow, "quick": quick}, clients, RecordingNotifier())
    assert store.lease_s == 1200.0
    BatchService(store, {"quick": quick}, {"quick": ScriptedWorkflow()}, RecordingNotifier())
    assert store.lease_s == LEASE_FLOOR_S


async def test_the_heartbeat_renews_leases_while_rows_run() -> None:
    h = EngineHarness(workflow=ScriptedWorkflow(default=Step(latency_s=0.15)), lease_s=10.0, heartbeat_s=0.02)
    await h.service.start()
    try:
        batch, _ = await h.run(2)
        assert h.store.renewals >= 3
        assert batch.status.value == "completed"
    finally:
        await h.service.shutdown(0)
    renewed = h.store.renewals
    await asyncio.sleep(0.06)
    assert h.store.renewals == renewed  # shutdown stopped the heartbeat
