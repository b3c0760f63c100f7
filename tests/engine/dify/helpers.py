"""A FakeDify and a DifyClient wired to it, for the Dify client tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from engine.dify.client import DifyClient
from engine.models import AppType, ResponseMode
from tests.fakes.dify import FakeDify

APP_TYPES = {
    "workflow": AppType.WORKFLOW,
    "completion": AppType.COMPLETION,
    "chat": AppType.CHAT,
    "advanced-chat": AppType.CHAT,
}


@asynccontextmanager
async def dify(
    mode: str = "workflow",
    response_mode: ResponseMode = ResponseMode.STREAMING,
    *,
    timeout_s: float = 5.0,
    **fake_options: Any,
) -> AsyncIterator[tuple[FakeDify, DifyClient]]:
    async with (
        FakeDify.running(app_mode=mode, **fake_options) as fake,
        DifyClient(
            fake.base_url,
            fake.api_key,
            app_type=APP_TYPES[mode],
            response_mode=response_mode,
            timeout_s=timeout_s,
            max_connections=8,
        ) as client,
    ):
        yield fake, client
