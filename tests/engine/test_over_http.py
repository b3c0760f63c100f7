"""The whole engine over real HTTP: BatchService + DifyClient + SqlStore against FakeDify.

Each fault the issue names ends as DESIGN §3 says (retried and succeeded, or failed with
Dify's message), limits hold, and control (cancel, pause, retry) reaches Dify."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from engine.dify.client import DifyClient
from engine.models import Batch, BatchStatus, ResponseMode, Row, RowStatus, SheetLimits
from engine.service import BatchService
from engine.settings import WorkflowSettings
from engine.sheets.reading import read_sheet
from engine.sheets.results import write_results
from storage import SqlStore
from tests.fakes.dify import FakeDify
from tests.fakes.dify_script import (
    Fault,
    Plan,
    control,
    cut_after_start,
    cut_before_start,
    error_event,
    failed_run,
    rate_limited,
    server_error,
    silent,
    too_many_requests,
)
from tests.fakes.scripted_workflow import RecordingNotifier
from tests.support import sheet_bytes


@dataclass
class Engine:
    fake: FakeDify
    service: BatchService
    store: SqlStore

    async def run(self, texts: Sequence[str]) -> tuple[Batch, dict[str, Row]]:
        batch = await self.submit(texts)
        done = await asyncio.wait_for(self.service.wait(batch.id), 30)
        return done, {r.inputs["text"]: r for r in await self.service.rows(batch.id)}

    async def submit(self, texts: Sequence[str]) -> Batch:
        form = await self.service_client.form()
        data = sheet_bytes(["Text"], [[t] for t in texts])
        sheet = read_sheet(data, "in.xlsx", form, SheetLimits())
        return await self.service.submit(
            workflow="wf", owner="telegram:42", sheet=sheet, source_name="in.xlsx"
        )

    @property
    def service_client(self) -> DifyClient:
        client = self.service.lanes["wf"].client
        assert isinstance(client, DifyClient)
        return client


@pytest.fixture(params=[ResponseMode.STREAMING, ResponseMode.BLOCKING], ids=["streaming", "blocking"])
def mode(request: pytest.FixtureRequest) -> ResponseMode:
    return ResponseMode(request.param)


@pytest.fixture
async def engine(tmp_path: Path, mode: ResponseMode) -> AsyncIterator[Engine]:
    async with FakeDify.running(latency_s=0.02) as fake:
        store = await SqlStore.open(f"sqlite+aiosqlite:///{tmp_path / 'e.db'}")
        settings = WorkflowSettings(
            name="wf", response_mode=mode, concurrency=3, timeout_s=1.5, max_attempts=3,
            backoff_base_s=0.01, backoff_max_s=0.05, overload_pause_s=0.05, overload_give_up_s=5,
        )
        client = DifyClient(fake.base_url, fake.api_key, response_mode=mode, timeout_s=1.5,
                            max_connections=3)
        service = BatchService(store, {"wf": settings}, {"wf": client}, RecordingNotifier(),
                               idle_poll_s=0.05, run_poll_s=0.05, cancel_grace_s=0.5)
        await service.start()
        try:
            yield Engine(fake, service, store)
        finally:
            await service.shutdown(0.5)
            await client.aclose()
            await store.close()


RETRIED: dict[str, Fault] = {
    "429 with Retry-After": rate_limited("0"),
    "400 Too many requests": too_many_requests(2),
    "500": server_error(500),
    "502": server_error(502),
    "503": server_error(503),
    "cut before the run id": cut_before_start(),
    "stream error event 500": error_event(500),
}


@pytest.mark.parametrize("name", list(RETRIED))
async def test_transient_faults_are_retried_and_succeed(engine: Engine, name: str) -> None:
    engine.fake.script = {"flaky": [Plan(fault=RETRIED[name])]}
    batch, rows = await engine.run(["fine", "flaky"])
    assert batch.status is BatchStatus.COMPLETED
    assert rows["flaky"].status is RowStatus.SUCCEEDED
    assert rows["flaky"].outputs == {"result": "flaky ✓", "length": 5}
    assert engine.fake.counters.requests_by_key["flaky"] == 2


# only a stream names the run (and its task) before the run ends
@pytest.mark.parametrize("mode", [ResponseMode.STREAMING])
async def test_a_cut_after_start_is_reconciled_not_rerun(engine: Engine) -> None:
    engine.fake.script = {"cut": [Plan(fault=cut_after_start())]}
    _, rows = await engine.run(["cut"])
    assert rows["cut"].status is RowStatus.SUCCEEDED
    assert rows["cut"].outputs == {"result": "cut ✓", "length": 3}
    assert engine.fake.counters.runs_by_key["cut"] == 1, "Dify had finished it; it must not run twice"


async def test_a_failed_run_fails_the_row_with_difys_message(engine: Engine) -> None:
    engine.fake.script = {"bad": Plan(fault=failed_run("Node HTTP Request failed: 500"))}
    batch, rows = await engine.run(["good", "bad"])
    assert batch.status is BatchStatus.COMPLETED
    assert rows["bad"].status is RowStatus.FAILED
    assert rows["bad"].error == "Node HTTP Request failed: 500"
    assert engine.fake.counters.requests_by_key["bad"] == 1


async def test_a_permanent_error_fails_at_once(engine: Engine) -> None:
    engine.fake.script = {"bad": Plan(fault=Fault(
        kind=RETRIED["500"].kind, status=400, code="provider_quota_exceeded",
        message="Your quota for Dify Hosted Model Provider has been exhausted."))}
    _, rows = await engine.run(["bad"])
    assert rows["bad"].status is RowStatus.FAILED
    assert "quota" in (rows["bad"].error or "")
    assert engine.fake.counters.requests_by_key["bad"] == 1


async def test_a_slow_or_silent_row_times_out_and_is_given_up(engine: Engine, mode: ResponseMode) -> None:
    """A row past its timeout; in streaming, also Dify's silent stream for rejected inputs."""
    engine.fake.stream_idle_timeout_s = 30
    slow = Plan(fault=silent()) if mode is ResponseMode.STREAMING else Plan(latency_s=30)
    engine.fake.script = {"slow": slow}
    _, rows = await engine.run(["slow"])
    assert rows["slow"].status is RowStatus.FAILED
    assert rows["slow"].attempts == 3
    assert engine.fake.counters.requests_by_key["slow"] == 3


async def test_peak_concurrency_never_passes_the_limit(engine: Engine) -> None:
    engine.fake.latency_s = 0.05
    await engine.run([f"row {i}" for i in range(20)])
    assert engine.fake.counters.peak_in_flight == 3


async def test_retry_after_pauses_the_lane(engine: Engine) -> None:
    engine.fake.script = {"r0": [Plan(fault=rate_limited("1"))]}
    started = time.monotonic()
    _, rows = await engine.run(["r0"])
    assert rows["r0"].status is RowStatus.SUCCEEDED
    assert time.monotonic() - started >= 0.05  # capped at max(backoff_max_s, overload_pause_s)
    assert rows["r0"].attempts == 1, "overload answers do not use up attempts"


@pytest.mark.parametrize("mode", [ResponseMode.STREAMING])
async def test_cancel_sends_stop_for_rows_in_flight(engine: Engine) -> None:
    engine.fake.latency_s = 1.0
    batch = await engine.submit([f"row {i}" for i in range(10)])

    async def three_running() -> None:
        while engine.fake.counters.in_flight < 3:
            await asyncio.sleep(0.01)

    await asyncio.wait_for(three_running(), 5)
    await asyncio.sleep(0.1)  # let the run ids arrive
    await engine.service.cancel(batch.id)
    done = await asyncio.wait_for(engine.service.wait(batch.id), 10)
    assert done.status is BatchStatus.CANCELLED
    assert len(engine.fake.counters.stops) == 3
    rows = await engine.service.rows(batch.id)
    assert {r.status for r in rows} == {RowStatus.CANCELLED}
    assert {run.status for run in engine.fake.runs.values()} == {"stopped"}
    buffer = Path(engine.store.engine.url.database or "").with_name("partial.xlsx")
    write_results(buffer, done, rows)
    assert buffer.stat().st_size > 0


async def test_pause_then_resume_runs_each_row_once(engine: Engine) -> None:
    engine.fake.latency_s = 0.05
    batch = await engine.submit([f"row {i}" for i in range(12)])
    await asyncio.sleep(0.08)
    paused = await engine.service.pause(batch.id)
    assert paused.status is BatchStatus.PAUSED
    settled = await asyncio.wait_for(engine.service.wait(batch.id), 5)
    progress = await engine.service.progress(batch.id)
    assert settled.status is BatchStatus.PAUSED
    assert 0 < progress.done < 12
    await asyncio.sleep(0.15)
    assert (await engine.service.progress(batch.id)).done == progress.done, "a paused batch runs nothing"
    await engine.service.resume(batch.id)
    done = await asyncio.wait_for(engine.service.wait(batch.id), 10)
    assert done.status is BatchStatus.COMPLETED
    assert set(engine.fake.counters.runs_by_key.values()) == {1}


async def test_retry_runs_only_the_failed_rows(engine: Engine) -> None:
    engine.fake.script = {"bad": [Plan(fault=failed_run("boom"))]}
    batch, rows = await engine.run(["good", "bad"])
    assert rows["bad"].status is RowStatus.FAILED
    await engine.service.retry_failed(batch.id)
    done = await asyncio.wait_for(engine.service.wait(batch.id), 10)
    rows2 = {r.inputs["text"]: r for r in await engine.service.rows(batch.id)}
    assert done.status is BatchStatus.COMPLETED
    assert rows2["bad"].status is RowStatus.SUCCEEDED
    assert engine.fake.counters.requests_by_key == {"good": 1, "bad": 2}


async def test_chinese_labels_and_values_end_to_end(tmp_path: Path) -> None:
    form = (control("text-input", "product", "产品名称", required=True),
            control("select", "tone", "语气", options=["正式", "活泼"]))
    async with FakeDify.running(form=form, latency_s=0.01, key_variable="product",
                                output_fn=lambda inputs, _: {"result": f"{inputs['product']} ✓"}) as fake:
        store = await SqlStore.open(f"sqlite+aiosqlite:///{tmp_path / 'zh.db'}")
        client = DifyClient(fake.base_url, fake.api_key, max_connections=2)
        service = BatchService(store, {"wf": WorkflowSettings(name="wf", concurrency=2)},
                               {"wf": client}, RecordingNotifier())
        await service.start()
        try:
            data = sheet_bytes(["语气", "产品名称"], [["活泼", "保温杯"], ["正式", "机械键盘"]])
            sheet = read_sheet(data, "产品.xlsx", await client.form(), SheetLimits())
            assert sheet.ok, sheet.problems
            batch = await service.submit(
                workflow="wf", owner="slack:U1", sheet=sheet, source_name="产品.xlsx"
            )
            done = await asyncio.wait_for(service.wait(batch.id), 10)
            rows = await service.rows(batch.id)
            out = tmp_path / "结果.xlsx"
            write_results(out, done, rows)
        finally:
            await service.shutdown(0.5)
            await client.aclose()
            await store.close()
    assert {r.outputs["result"] for r in rows if r.outputs} == {"保温杯 ✓", "机械键盘 ✓"}
    from openpyxl import load_workbook

    values = list(load_workbook(out).worksheets[0].iter_rows(values_only=True))
    assert values[0][:3] == ("语气", "产品名称", "result")
    assert values[1][:3] == ("活泼", "保温杯", "保温杯 ✓")

