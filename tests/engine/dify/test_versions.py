"""A pinned app version (``POST /workflows/{workflow_id}/run``) and the version each run reports."""

from __future__ import annotations

import pytest

from engine.dify.client import DifyClient
from engine.errors import PermanentWorkflowError
from engine.models import AppType, ResponseMode
from tests.fakes.dify import FakeDify

OLD = "a6fada68-0ae8-4f8a-8c8c-eccaa51b5d96"
NEW = "41fbc420-8ecd-4801-9ed0-0641be785535"
BOTH = [ResponseMode.STREAMING, ResponseMode.BLOCKING]


def client_for(fake: FakeDify, mode: ResponseMode, workflow_id: str | None) -> DifyClient:
    return DifyClient(
        fake.base_url, fake.api_key, app_type=AppType.WORKFLOW, response_mode=mode,
        timeout_s=5, workflow_id=workflow_id,
    )


@pytest.mark.parametrize("mode", BOTH)
async def test_a_pinned_version_runs_on_its_own_route_and_is_reported(mode: ResponseMode) -> None:
    async with FakeDify.running(versions=(OLD, NEW)) as fake, client_for(fake, mode, OLD) as client:
        result = await client.run({"text": "hi"}, user="cli:ann", trace_id="b-0-1")
        detail = await client.fetch_run(result.run_id or "")
    assert result.succeeded and result.workflow_id == OLD
    assert [r["endpoint"] for r in fake.requests] == [f"workflows/{OLD}/run"]
    assert fake.counters.calls.get("POST /v1/workflows/run", 0) == 0
    assert detail is not None and detail.workflow_id == OLD


@pytest.mark.parametrize("mode", BOTH)
async def test_without_a_pin_the_run_reports_the_latest_version(mode: ResponseMode) -> None:
    async with FakeDify.running(versions=(OLD, NEW)) as fake, client_for(fake, mode, None) as client:
        result = await client.run({"text": "hi"}, user="cli:ann", trace_id="b-0-1")
    assert result.workflow_id == NEW
    assert [r["endpoint"] for r in fake.requests] == ["workflows/run"]


@pytest.mark.parametrize("mode", BOTH)
async def test_an_unknown_version_is_a_permanent_error_with_difys_message(mode: ResponseMode) -> None:
    unknown = "00000000-0000-0000-0000-000000000000"
    async with FakeDify.running() as fake, client_for(fake, mode, unknown) as client:
        with pytest.raises(PermanentWorkflowError) as caught:
            await client.run({"text": "hi"}, user="cli:ann", trace_id="b-0-1")
    assert caught.value.status == 404
    assert f"Workflow not found with id: {unknown}" in str(caught.value)
    assert fake.runs == {}


async def test_a_malformed_version_is_refused_as_dify_does() -> None:
    async with FakeDify.running() as fake, client_for(fake, ResponseMode.BLOCKING, "not-a-uuid") as client:
        with pytest.raises(PermanentWorkflowError) as caught:
            await client.run({"text": "hi"}, user="cli:ann", trace_id="b-0-1")
    assert caught.value.status == 400
    assert "Invalid workflow_id format: 'not-a-uuid'" in str(caught.value)
