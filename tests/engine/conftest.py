"""Fixtures shared by the engine's tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from engine.settings import WorkflowSettings
from tests.fakes.scripted_workflow import EngineHarness

Make = Callable[..., Awaitable[EngineHarness]]


@pytest.fixture
async def make() -> AsyncIterator[Make]:
    """Build started engine harnesses; every one is shut down after the test."""
    made: list[EngineHarness] = []

    async def build(settings: WorkflowSettings | None = None, **kw: Any) -> EngineHarness:
        h = EngineHarness(settings, **kw)
        await h.service.start()
        made.append(h)
        return h

    yield build
    for h in made:
        await h.service.shutdown(0)
