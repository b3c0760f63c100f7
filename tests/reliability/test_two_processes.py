"""A second `dify-batch` process on a database where a `run` is working (issue 10 §1): it
never takes over rows the live process runs, and both together stay within the workflow's
concurrency at Dify. Real processes, counted at FakeDify (see `processes`)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.fakes.dify import FakeDify
from tests.reliability.processes import Processes, pg_database, second_process_on_a_running_batch
from tests.storage.conftest import pg_available  # noqa: F401 - fixture

ROWS = 240
LIMIT = 4
PACE = {"join_after": 0.02, "waiting_latency_s": 1.0, "latency_s": 0.05}
"""The second process starts after 5 rows; until it is up a row takes 1 s at Dify, so the
first one is mid-batch for a minute whatever a start costs on a busy machine."""


@pytest.fixture
async def dify() -> AsyncIterator[FakeDify]:
    # the latency is set per phase by `second_process_on_a_running_batch`
    async with FakeDify.running() as fake:
        yield fake


def _assert_shared_safely(figures: dict[str, object]) -> None:
    shown = json.dumps(figures, indent=1)
    assert figures["first_exit"] == 0, shown
    assert figures["second_exit"] == 0, shown
    assert figures["rows_left_when_second_up"], shown  # else the two never overlapped
    assert figures["rows_never_run"] == 0, shown
    assert figures["rows_run_twice"] == 0, shown
    assert isinstance(figures["peak_in_flight"], int)
    assert 0 < figures["peak_in_flight"] <= LIMIT, shown


@pytest.mark.timeout(180)
async def test_a_second_resume_on_sqlite_shares_the_batch_safely(tmp_path: Path, dify: FakeDify) -> None:
    procs = Processes(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}", dify, concurrency=LIMIT)
    figures = await second_process_on_a_running_batch(procs, rows=ROWS, second="resume", **PACE)
    _assert_shared_safely(figures)


@pytest.mark.timeout(180)
async def test_a_second_resume_on_postgres_shares_the_batch_safely(
    tmp_path: Path, dify: FakeDify, pg_available: str | None  # noqa: F811
) -> None:
    if pg_available is None:
        pytest.skip("PostgreSQL not reachable (set DIFY_BATCH_TEST_PG)")
    async with pg_database(pg_available) as url:
        procs = Processes(tmp_path, url, dify, concurrency=LIMIT)
        figures = await second_process_on_a_running_batch(procs, rows=ROWS, second="resume", **PACE)
    _assert_shared_safely(figures)


@pytest.mark.timeout(180)
async def test_a_daemon_started_beside_a_run_on_postgres_takes_none_of_its_rows(
    tmp_path: Path, dify: FakeDify, pg_available: str | None  # noqa: F811
) -> None:
    if pg_available is None:
        pytest.skip("PostgreSQL not reachable (set DIFY_BATCH_TEST_PG)")
    async with pg_database(pg_available) as url:
        procs = Processes(tmp_path, url, dify, concurrency=LIMIT)
        figures = await second_process_on_a_running_batch(procs, rows=ROWS, second="serve", **PACE)
    _assert_shared_safely(figures)
