"""The kind the metrics give each failure of a real DifyClient call (`dify_error_kind`)."""

from __future__ import annotations

import socket

import pytest

from engine.dify.client import DifyClient
from engine.errors import DIFY_ERROR_KINDS, WorkflowError, dify_error_kind
from engine.models import ResponseMode
from tests.engine.dify.helpers import dify
from tests.fakes.dify_script import (
    Fault,
    FaultKind,
    Plan,
    cut_after_start,
    cut_before_start,
    http_error,
    rate_limited,
    server_error,
    too_many_requests,
)


async def kind_of(fault: Fault, response_mode: ResponseMode = ResponseMode.STREAMING) -> str:
    script = lambda _call: Plan(fault=fault)  # noqa: E731
    async with dify(response_mode=response_mode, timeout_s=2, script=script) as (_, c):
        with pytest.raises(WorkflowError) as raised:
            await c.run({"text": "x"}, user="cli:t", trace_id="t-0-1")
    kind = dify_error_kind(raised.value)
    assert kind in DIFY_ERROR_KINDS
    return kind


@pytest.mark.parametrize(
    ("fault", "kind"),
    [
        (rate_limited("1"), "rate_limited"),
        (too_many_requests(), "busy"),
        (server_error(502), "server_error"),
        (server_error(500), "server_error"),
        (cut_before_start(), "cut_stream"),
        (cut_after_start(), "cut_stream"),
        (http_error(400, "invalid_param", "text is required"), "rejected"),
    ],
)
async def test_each_dify_failure_has_its_kind(fault: Fault, kind: str) -> None:
    assert await kind_of(fault) == kind


async def test_a_silent_stream_is_a_timeout_and_a_closed_port_unreachable() -> None:
    assert await kind_of(Fault(FaultKind.SILENT), ResponseMode.STREAMING) == "timeout"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    async with DifyClient(f"http://127.0.0.1:{port}/v1", "app-key", timeout_s=2) as client:
        with pytest.raises(WorkflowError) as raised:
            await client.run({"text": "x"}, user="cli:t", trace_id="t-0-1")
    assert dify_error_kind(raised.value) == "unreachable"
