"""Every fault FakeDify can stage, mapped by DifyClient to transient or permanent errors."""

from __future__ import annotations

import asyncio
import socket
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from engine.dify.client import DifyClient
from engine.errors import PermanentWorkflowError, TransientWorkflowError, WorkflowError
from engine.models import ResponseMode
from tests.engine.dify.helpers import dify
from tests.fakes.dify_script import (
    OK,
    Fault,
    Plan,
    RunCall,
    cloudflare_rate_limited,
    cut_after_start,
    cut_before_start,
    error_event,
    failed_run,
    http_error,
    rate_limited,
    server_error,
    too_many_requests,
)

BOTH = [ResponseMode.STREAMING, ResponseMode.BLOCKING]
PERMANENT, TRANSIENT = PermanentWorkflowError, TransientWorkflowError
SECRET_KEY = "app-Sup3rSecretKeyValue0123"

# fault, error class, overload, Retry-After seconds, HTTP status
HTTP_FAULTS: list[tuple[Fault, type[WorkflowError], bool, float | None, int]] = [
    (rate_limited("3"), TransientWorkflowError, True, 3.0, 429),
    (rate_limited(None), TransientWorkflowError, True, None, 429),
    (cloudflare_rate_limited("7"), TransientWorkflowError, True, 7.0, 429),
    (too_many_requests(2), TransientWorkflowError, True, None, 400),
    (server_error(500), TransientWorkflowError, False, None, 500),
    (server_error(502), TransientWorkflowError, False, None, 502),
    (server_error(503), TransientWorkflowError, False, None, 503),
    (server_error(504), TransientWorkflowError, False, None, 504),
    (http_error(400, "invalid_param", "Workflow not published"), PermanentWorkflowError, False, None, 400),
    (http_error(400, "provider_quota_exceeded", "quota used up"), PermanentWorkflowError, False, None, 400),
    (http_error(403, "forbidden", "The app's API service has been disabled."), PERMANENT, False, None, 403),
    (http_error(404, "not_found", "The requested URL was not found."), PERMANENT, False, None, 404),
]  # fmt: skip


@pytest.mark.parametrize("response_mode", BOTH)
@pytest.mark.parametrize(("fault", "kind", "overload", "retry_after", "status"), HTTP_FAULTS)
async def test_http_faults_map_to_transient_or_permanent(
    fault: Fault,
    kind: type[WorkflowError],
    overload: bool,
    retry_after: float | None,
    status: int,
    response_mode: ResponseMode,
) -> None:
    async with dify("workflow", response_mode, script={"row": Plan(fault=fault)}) as (fake, client):
        with pytest.raises(WorkflowError) as caught:
            await client.run({"text": "row"}, user="u", trace_id="t")

    error = caught.value
    assert type(error) is kind
    assert error.status == status
    assert str(error)
    if fault.message:
        assert str(error) == fault.message  # Dify's own words reach the row
    if isinstance(error, TransientWorkflowError):
        assert error.overload is overload
        assert error.retry_after_s == retry_after
        assert error.run_id is None
        # a proxy's 502/503/504 says Dify is not there: the lane's problem, not the row's
        assert error.outage is (status in (502, 503, 504))
    assert fake.runs == {}


async def test_non_json_bodies_still_say_what_happened() -> None:
    script = {"cf": Plan(fault=cloudflare_rate_limited()), "gw": Plan(fault=server_error(502))}
    async with dify("workflow", script=script) as (_, client):
        with pytest.raises(TransientWorkflowError) as cloudflare:
            await client.run({"text": "cf"}, user="u", trace_id="t")
        with pytest.raises(TransientWorkflowError) as gateway:
            await client.run({"text": "gw"}, user="u", trace_id="t")
    assert str(cloudflare.value) == "HTTP 429: error code: 1015"
    assert str(gateway.value) == "HTTP 502 Bad Gateway from the server in front of Dify"


async def test_retry_after_as_an_http_date() -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    async with dify("workflow", script={"r": Plan(fault=rate_limited(when))}) as (_, client):
        with pytest.raises(TransientWorkflowError) as caught:
            await client.run({"text": "r"}, user="u", trace_id="t")
    assert caught.value.retry_after_s is not None
    assert 25 <= caught.value.retry_after_s <= 30


@pytest.mark.parametrize(
    ("fault", "kind", "code"),
    [
        (error_event(500), TransientWorkflowError, "internal_server_error"),
        (error_event(400, "provider_quota_exceeded", "quota used up"), PERMANENT, "provider_quota_exceeded"),
    ],
)  # fmt: skip
@pytest.mark.parametrize("response_mode", BOTH)
async def test_error_events_map_by_their_status(
    fault: Fault, kind: type[WorkflowError], code: str, response_mode: ResponseMode
) -> None:
    async with dify("workflow", response_mode, script={"e": Plan(fault=fault)}) as (_, client):
        with pytest.raises(WorkflowError) as caught:
            await client.run({"text": "e"}, user="u", trace_id="t")
    assert type(caught.value) is kind
    assert caught.value.code == code


@pytest.mark.parametrize("response_mode", BOTH)
async def test_a_cut_before_the_run_id_is_retried_directly(response_mode: ResponseMode) -> None:
    async with dify("workflow", response_mode, script={"c": Plan(fault=cut_before_start())}) as (
        fake,
        client,
    ):
        with pytest.raises(TransientWorkflowError) as caught:
            await client.run({"text": "c"}, user="u", trace_id="t")
    assert (caught.value.run_id, caught.value.task_id, caught.value.overload) == (None, None, False)
    assert fake.counters.runs_by_key == {}


async def test_a_cut_after_the_run_started_names_the_run_which_goes_on() -> None:
    script = {"c": Plan(latency_s=0.05, fault=cut_after_start())}
    async with dify("workflow", script=script) as (fake, client):
        with pytest.raises(TransientWorkflowError) as caught:
            await client.run({"text": "c"}, user="u", trace_id="t")
        (run,) = fake.runs.values()
        assert (caught.value.run_id, caught.value.task_id) == (run.run_id, run.task_id)
        await asyncio.wait_for(run.done.wait(), 2)
        reconciled = await client.fetch_run(run.run_id)
    assert reconciled is not None
    assert (reconciled.status, reconciled.outputs) == ("succeeded", {"result": "c ✓", "length": 1})


@pytest.mark.parametrize("response_mode", BOTH)
async def test_a_row_slower_than_the_timeout_is_transient(response_mode: ResponseMode) -> None:
    script = {"slow": Plan(latency_s=3.0)}
    async with dify("workflow", response_mode, timeout_s=0.2, script=script) as (fake, client):
        with pytest.raises(TransientWorkflowError, match=r"no result within 0\.2 s") as caught:
            await client.run({"text": "slow"}, user="u", trace_id="t")
        (run,) = fake.runs.values()
    # only a stream has told us the run id by then
    expected = run.run_id if response_mode is ResponseMode.STREAMING else None
    assert caught.value.run_id == expected


async def test_scripted_attempts_fail_then_succeed_and_are_counted() -> None:
    script = {"flaky": [Plan(fault=server_error(503)), Plan(fault=rate_limited("1")), OK]}
    async with dify("workflow", script=script) as (fake, client):
        for _ in range(2):
            with pytest.raises(TransientWorkflowError):
                await client.run({"text": "flaky"}, user="u", trace_id="b-0-1")
        result = await client.run({"text": "flaky"}, user="u", trace_id="b-0-3")
    assert result.succeeded
    assert fake.counters.requests_by_key == {"flaky": 3}
    assert fake.counters.runs_by_key == {"flaky": 1}
    assert fake.counters.requests_by_trace == {"b-0-1": 2, "b-0-3": 1}
    assert fake.counters.runs_by_trace == {"b-0-3": 1}


async def test_the_app_concurrency_limit_answers_400_too_many_requests() -> None:
    async with dify("workflow", latency_s=0.2, max_active_requests=2) as (fake, client):
        outcomes = await asyncio.gather(
            *(client.run({"text": str(i)}, user="u", trace_id=f"t{i}") for i in range(5)),
            return_exceptions=True,
        )
    rejected = [o for o in outcomes if isinstance(o, TransientWorkflowError)]
    assert len(rejected) == 3
    assert all(e.overload and e.status == 400 and str(e).startswith("Too many requests") for e in rejected)
    assert fake.counters.rejected_busy == 3
    assert fake.counters.peak_in_flight == 2


async def test_the_api_key_never_shows_in_errors_results_or_reprs() -> None:
    script = {
        "echo": Plan(fault=http_error(400, "invalid_param", f"bad key {SECRET_KEY} given")),
        "fail": Plan(fault=failed_run(f"upstream said Bearer {SECRET_KEY}")),
    }
    async with dify("workflow", api_key=SECRET_KEY, script=script) as (fake, client):
        with pytest.raises(PermanentWorkflowError) as echoed:
            await client.run({"text": "echo"}, user="u", trace_id="t")
        failed = await client.run({"text": "fail"}, user="u", trace_id="t")
        async with DifyClient(fake.base_url, SECRET_KEY[::-1], timeout_s=2) as wrong:
            with pytest.raises(PermanentWorkflowError) as unauthorized:
                await wrong.form()
            wrong_repr = repr(wrong)
    for text in (str(echoed.value), repr(echoed.value), failed.error or "", repr(client), wrong_repr):
        assert SECRET_KEY not in text
        assert SECRET_KEY[::-1] not in text
    assert "bad key *** given" in str(echoed.value)
    assert (unauthorized.value.status, str(unauthorized.value)) == (401, "Access token is invalid")


async def test_a_refused_connection_is_transient() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with DifyClient(f"http://127.0.0.1:{port}/v1", SECRET_KEY, timeout_s=2) as client:
        with pytest.raises(TransientWorkflowError) as caught:
            await client.run({"text": "x"}, user="u", trace_id="t")
        with pytest.raises(TransientWorkflowError) as fetched:
            await client.fetch_run("r")
    assert SECRET_KEY not in str(caught.value)
    assert caught.value.outage and fetched.value.outage
    assert str(caught.value) == f"Dify is unreachable: connection refused by 127.0.0.1:{port}"


async def test_a_script_function_sees_each_attempt() -> None:
    seen: list[RunCall] = []

    def first_attempt_fails(call: RunCall) -> Plan | None:
        seen.append(call)
        return Plan(fault=server_error(502)) if call.attempt == 1 else None

    async with dify("workflow", script=first_attempt_fails) as (_, client):
        with pytest.raises(TransientWorkflowError):
            await client.run({"text": "k"}, user="u", trace_id="b-0-1")
        result = await client.run({"text": "k"}, user="u", trace_id="b-0-2")
    assert result.succeeded
    assert [(c.key, c.attempt, c.trace_id, c.user) for c in seen] == [
        ("k", 1, "b-0-1", "u"),
        ("k", 2, "b-0-2", "u"),
    ]
