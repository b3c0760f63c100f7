"""Replicas on separate machines share the database and nothing else (issue 10 §12): each
has its own data folder, yet one runs an upload the other received, and a results file owed
when both start at once goes out once. Two real daemons (in this process, on their own
data folders), FakeSlack and FakeDify on loopback, PostgreSQL as on a real deployment."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import delete

from bot.chat.progress import RESULTS_SENT
from bot.config import Config
from storage import SqlStore
from storage.tables import EVENT, REPORTER
from tests.bot.slack import batch_id, fakes, files_named, find, progress_of, sheet
from tests.fakes.dify import FakeDify
from tests.fakes.slack import FakeSlack
from tests.reliability.processes import pg_database
from tests.storage.conftest import pg_available  # noqa: F401 - fixture
from tests.support import make_config, running_daemon


def replica(tmp_path: Path, name: str, database_url: str, dify: FakeDify, slack: FakeSlack) -> Config:
    config = make_config(tmp_path / name, dify=dify, slack=slack, concurrency=2)
    daemon = dataclasses.replace(config.daemon, database_url=database_url, data_dir=tmp_path / name / "data")
    return dataclasses.replace(config, daemon=daemon)


@pytest.fixture
async def database(pg_available: str | None) -> AsyncIterator[str]:  # noqa: F811
    if pg_available is None:
        pytest.skip("PostgreSQL not reachable (set DIFY_BATCH_TEST_PG)")
    async with pg_database(pg_available) as url:
        yield url


@contextlib.asynccontextmanager
async def on_slack(slack: FakeSlack, *configs: Config) -> AsyncIterator[None]:
    """Start the daemons together and wait until each is connected to Slack."""
    connections = slack.connection_count
    async with contextlib.AsyncExitStack() as stack:
        await asyncio.gather(*(stack.enter_async_context(running_daemon(c)) for c in configs))
        await slack.wait_connected(connections + len(configs))
        yield


@pytest.mark.timeout(90)
async def test_a_replica_runs_an_upload_the_other_received(tmp_path: Path, database: str) -> None:
    async with fakes(latency_s=0.02) as (slack, dify):
        first = replica(tmp_path, "first", database, dify, slack)
        second = replica(tmp_path, "second", database, dify, slack)
        dm = slack.channel("team", members=("alice",))
        async with on_slack(slack, first):
            up = await slack.upload_file("alice", dm, sheet(3), "list.xlsx")
            summary = await slack.wait_for(lambda: find(slack, dm, "3 rows ready for summarize", up.ts))
        shutil.rmtree(first.daemon.data_dir)  # the first machine, and its disk, are gone

        async with on_slack(slack, second):
            await slack.click_button("alice", dm, summary.ts, "difybatch.run")
            progress = await progress_of(slack, dm, up.ts)
            await slack.wait_for(lambda: files_named(slack, dm, f"list-results-{batch_id(progress)}"), 15)
        assert sorted(dify.counters.runs_by_key) == ["text 1", "text 2", "text 3"]


@pytest.mark.timeout(120)
async def test_an_owed_results_file_goes_out_once_when_two_replicas_start_together(
    tmp_path: Path, database: str
) -> None:
    async with fakes(latency_s=0.02) as (slack, dify):
        first = replica(tmp_path, "first", database, dify, slack)
        second = replica(tmp_path, "second", database, dify, slack)
        chan = slack.channel("team", members=("alice",))
        async with on_slack(slack, first):
            up = await slack.upload_file("alice", chan, sheet(20), "owed.xlsx", text="run summarize")
            bid = batch_id(await progress_of(slack, chan, up.ts))
            await slack.wait_for(lambda: files_named(slack, chan, f"owed-results-{bid}"), 15)
        # as if the daemon had died between the last row and the file
        store = await SqlStore.open(database)
        try:
            async with store.engine.begin() as conn:
                await conn.execute(delete(EVENT).where(EVENT.c.batch_id == bid, EVENT.c.kind == RESULTS_SENT))
                await conn.execute(delete(REPORTER).where(REPORTER.c.batch_id == bid))
        finally:
            await store.close()
        shutil.rmtree(first.daemon.data_dir)

        async with on_slack(slack, first, second):
            await slack.wait_for(lambda: len(files_named(slack, chan, f"owed-results-{bid}")) >= 2, 15)
            await asyncio.sleep(1.0)  # room for a third, were one on its way
        assert len(files_named(slack, chan, f"owed-results-{bid}")) == 2  # the first, and one owed
        assert set(dify.counters.runs_by_key.values()) == {1}
