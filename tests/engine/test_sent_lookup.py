"""Rows a crash left sent without a run id are found in Dify's own records, not run twice.

FakeDify keeps a run log and chat conversations as Dify 1.14.1 does (a run is logged when
it ends); the rows are left in the store as a killed process leaves them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from engine.dify.client import DifyClient
from engine.lanes.lookup import same_inputs
from engine.models import AppType, Batch, BatchStatus, FoundRun, ResponseMode, Row, RowStatus
from engine.service import BatchService
from engine.settings import WorkflowSettings
from storage import SqlStore
from tests.fakes.dify import FakeDify
from tests.fakes.dify_script import Plan, cloudflare_rate_limited, rate_limited
from tests.fakes.scripted_workflow import RecordingNotifier

USER = "telegram:1"
BATCH = "5e7d01"


def _row(index: int, text: str, *, sent: bool, query: str | None = None) -> Row:
    now = datetime.now(UTC)
    return Row(BATCH, index, index + 2, (text,), {"text": text}, query=query, status=RowStatus.RUNNING,
               started_at=now, sent_at=now - timedelta(seconds=1) if sent else None,
               sent_user=USER if sent else None)


async def _send_as_crashed_process(fake: FakeDify, text: str, *, mode: str = "workflow") -> None:
    """What the killed process had sent: the request reached Dify, the answer never came back."""
    async with httpx.AsyncClient(base_url=fake.base_url + "/",
                                 headers={"Authorization": f"Bearer {fake.api_key}"}) as http:
        body = {"inputs": {"text": text}, "user": USER, "response_mode": "blocking"}
        path = "workflows/run" if mode == "workflow" else "chat-messages"
        if mode != "workflow":
            body["query"] = text
        answer = await http.post(path, json=body)
        assert answer.status_code == 200


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqlStore]:
    opened = await SqlStore.open(f"sqlite+aiosqlite:///{tmp_path / 'crash.db'}")
    yield opened
    await opened.close()


async def _recover(fake: FakeDify, store: SqlStore, rows: list[Row], app_type: AppType,
                   *, timeout_s: float = 2.0) -> list[Row]:
    now = datetime.now(UTC)
    await store.create_batch(Batch(BATCH, "wf", USER, BatchStatus.RUNNING, len(rows), now, ("Text",),
                                   started_at=now), rows)
    settings = WorkflowSettings(name="wf", app_type=app_type, response_mode=ResponseMode.BLOCKING,
                                concurrency=4, timeout_s=timeout_s, backoff_base_s=0.01, backoff_max_s=0.05)
    client = DifyClient(fake.base_url, fake.api_key, app_type=app_type,
                        response_mode=ResponseMode.BLOCKING, timeout_s=5)
    service = BatchService(store, {"wf": settings}, {"wf": client}, RecordingNotifier(),
                           idle_poll_s=0.05, run_poll_s=0.05)
    try:
        await service.recover()
        await service.start()
        await asyncio.wait_for(service.wait(BATCH), 15)
        return await store.rows(BATCH)
    finally:
        await service.shutdown(0.5)
        await client.aclose()


async def test_sent_rows_adopt_the_runs_dify_finished_and_only_unfound_ones_run(store: SqlStore) -> None:
    async with FakeDify.running(latency_s=0.02) as fake:
        for text in ("done a", "done b", "twin"):
            await _send_as_crashed_process(fake, text)
        # still running when the process restarts: logged only once it ends, found then
        fake.script = {"slow": Plan(latency_s=0.6)}
        slow = asyncio.create_task(_send_as_crashed_process(fake, "slow"))
        await asyncio.sleep(0.1)
        fake.script = None
        rows = [
            _row(0, "done a", sent=True),
            _row(1, "done b", sent=True),
            _row(2, "slow", sent=True),
            _row(3, "lost on the way", sent=True),  # marked sent, killed before the request left
            _row(4, "claimed only", sent=False),
            _row(5, "twin", sent=True),  # two rows with the same inputs, one run at Dify:
            _row(6, "twin", sent=True),  # one adopts it, the other runs
        ]
        done = await _recover(fake, store, rows, AppType.WORKFLOW)
        await slow
    assert [r.status for r in done] == [RowStatus.SUCCEEDED] * 7
    runs = fake.counters.runs_by_key
    assert runs == {"done a": 1, "done b": 1, "slow": 1, "twin": 2, "lost on the way": 1, "claimed only": 1}
    assert done[0].outputs == {"result": "done a ✓", "length": 6}
    assert done[2].outputs == {"result": "slow ✓", "length": 4}
    assert len({r.run_id for r in done}) == 7
    assert all(r.sent_at is None and r.sent_user is None for r in done)
    assert done[0].attempts == 1


async def test_a_sent_chat_row_takes_its_answer_from_the_conversation(store: SqlStore) -> None:
    async with FakeDify.running(latency_s=0.02, app_mode="advanced-chat") as fake:
        await _send_as_crashed_process(fake, "hello", mode="chat")
        rows = [_row(0, "hello", sent=True, query="hello"), _row(1, "again", sent=True, query="again")]
        done = await _recover(fake, store, rows, AppType.CHAT)
    assert fake.counters.runs_by_key == {"hello": 1, "again": 1}
    assert [r.status for r in done] == [RowStatus.SUCCEEDED] * 2
    assert done[0].outputs == {"answer": "hello ✓"}


@pytest.mark.parametrize("mode", ["workflow", "advanced-chat"])
async def test_a_rate_limited_record_search_is_asked_again_not_taken_for_no_run(
    store: SqlStore, mode: str
) -> None:
    # the log answering 429 says nothing about the run: re-sending on it would run the row twice
    async with FakeDify.running(latency_s=0.02, app_mode=mode) as fake:
        await _send_as_crashed_process(fake, "done", mode="workflow" if mode == "workflow" else "chat")
        fake.records_faults = [rate_limited("0"), cloudflare_rate_limited()]
        query = None if mode == "workflow" else "done"
        done = await _recover(fake, store, [_row(0, "done", sent=True, query=query)],
                              AppType.WORKFLOW if mode == "workflow" else AppType.CHAT, timeout_s=60.0)
        assert fake.records_faults == []
    assert fake.counters.runs_by_key == {"done": 1}
    assert done[0].status is RowStatus.SUCCEEDED
    assert done[0].attempts == 1


async def test_the_run_log_pages_filters_and_shapes_like_dify() -> None:
    async with FakeDify.running(latency_s=0.0) as fake:
        for i in range(5):
            await _send_as_crashed_process(fake, f"row {i}")
        base = {"created_by_end_user_session_id": USER}
        async with httpx.AsyncClient(base_url=fake.base_url + "/",
                                     headers={"Authorization": f"Bearer {fake.api_key}"}) as http:
            first = (await http.get("workflows/logs", params={**base, "limit": 2})).json()
            third = (await http.get("workflows/logs", params={**base, "limit": 2, "page": 3})).json()
            nobody = (await http.get("workflows/logs",
                                     params={"created_by_end_user_session_id": "nobody-here"})).json()
            future = (datetime.now(UTC) + timedelta(minutes=1)).isoformat(timespec="seconds")
            later = (await http.get("workflows/logs", params={**base, "created_at__after": future})).json()
            bad = await http.get("workflows/logs", params={"limit": 101})
        async with DifyClient(fake.base_url, fake.api_key, timeout_s=5) as client:
            found = await client.find_runs(USER, after=datetime.now(UTC) - timedelta(minutes=1))
    assert (first["page"], first["limit"], first["total"], first["has_more"]) == (1, 2, 5, True)
    assert (third["total"], third["has_more"], len(third["data"])) == (5, False, 1)
    item = first["data"][0]
    assert set(item) == {"id", "workflow_run", "details", "created_from", "created_by_role",
                         "created_by_account", "created_by_end_user", "created_at"}
    assert item["created_by_end_user"]["type"] == "service-api"
    assert item["created_by_end_user"]["session_id"] == USER
    assert "inputs" not in item["workflow_run"]
    assert nobody == {"page": 1, "limit": 20, "total": 0, "has_more": False, "data": []}
    assert later["total"] == 0
    assert bad.status_code == 400
    assert found is not None
    assert [r.inputs["text"] for r in found] == [f"row {i}" for i in range(5)], "oldest first"
    assert all(r.result is not None and r.result.status == "succeeded" for r in found)


def test_inputs_match_on_what_was_sent_as_dify_records_it() -> None:
    row = Row(BATCH, 0, 2, (), {"text": "a\x00b", "count": 3, "urgent": True, "doc": {"url": "x"}})
    assert same_inputs(row, FoundRun("r", {"text": "ab", "count": "3", "urgent": "true", "tone": "formal"}))
    assert not same_inputs(row, FoundRun("r", {"text": "ab", "count": 4, "urgent": True}))
    assert not same_inputs(Row(BATCH, 0, 2, (), {"doc": {"url": "x"}}), FoundRun("r", {"doc": {"url": "x"}}))
