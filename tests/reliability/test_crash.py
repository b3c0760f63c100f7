"""The SIGKILL campaign in small: 300 rows, 5 kills, streaming and blocking. Counted at
FakeDify: no row lost, no row whose run had finished at Dify run again."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reliability.crash import crash_campaign
from tests.storage.conftest import pg_available  # noqa: F401 - fixture


@pytest.mark.timeout(300)
@pytest.mark.parametrize("mode", ["streaming", "blocking"])
async def test_five_sigkills_lose_nothing_and_rerun_no_finished_run(tmp_path: Path, mode: str) -> None:
    figures = await crash_campaign(tmp_path, rows=300, kills=5, mode=mode, concurrency=16, latency_s=0.2)
    assert figures["kills"] == 5, figures
    assert figures["exit_code"] == 0, figures
    assert figures["rows_lost"] == 0, figures
    assert figures["rows_in_results"] == 300, figures
    assert figures["finished_runs_rerun"] == 0, figures
    assert figures["peak_in_flight_at_dify"] <= 16, figures


@pytest.mark.timeout(300)
async def test_on_postgresql_too(tmp_path: Path, pg_available: str | None) -> None:  # noqa: F811
    if pg_available is None:
        pytest.skip("PostgreSQL not reachable (set DIFY_BATCH_TEST_PG)")
    figures = await crash_campaign(tmp_path, rows=300, kills=5, mode="blocking", pg_server=pg_available)
    assert (figures["kills"], figures["exit_code"], figures["rows_lost"]) == (5, 0, 0), figures
    assert figures["finished_runs_rerun"] == 0, figures
