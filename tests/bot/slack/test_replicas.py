"""Two daemons on one database, both connected to Slack: the work is shared, the chat is not
doubled (one progress message, one results file)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from pathlib import Path

from bot.config import Config
from tests.bot.slack import (
    batch_id,
    bot_replies,
    daemon_on,
    done_of,
    fakes,
    files_named,
    progress_of,
    sheet,
)
from tests.fakes.dify import FakeDify
from tests.fakes.slack import FakeSlack
from tests.support import make_config


def two_daemons(tmp_path: Path, dify: FakeDify, slack: FakeSlack) -> tuple[Config, Config]:
    """Configs of two daemons on one database file, a data directory each, as two hosts have."""
    first = make_config(tmp_path, dify=dify, slack=slack, concurrency=2)
    second = dataclasses.replace(
        first, daemon=dataclasses.replace(first.daemon, data_dir=tmp_path / "second-data")
    )
    return first, second


async def test_two_daemons_share_a_batch_and_report_it_once(tmp_path: Path) -> None:
    # 300 rows of 0.05 s, two at a time, outlast the other daemon's discovery (every 5 s)
    async with fakes(latency_s=0.05) as (slack, dify):
        first, second = two_daemons(tmp_path, dify, slack)
        chan = slack.channel("team", members=("alice",))
        async with daemon_on(slack, dify, tmp_path, config=first) as a, \
                daemon_on(slack, dify, tmp_path, config=second) as b:
            up = await slack.upload_file("alice", chan, sheet(300), "shared.xlsx", text="run summarize")
            progress = await progress_of(slack, chan, up.ts)
            bid = batch_id(progress)
            await slack.wait_for(lambda: files_named(slack, chan, f"shared-results-{bid}"), timeout=20)
            for desk in (a, b):
                assert desk.daemon.reporter is not None
                await desk.daemon.reporter.flush()
            await asyncio.sleep(0.5)  # room for a second file, were one on its way

            assert len(files_named(slack, chan, "shared-results-")) == 1
            assert [m.ts for m in bot_replies(slack, chan, up.ts)] == [progress.ts]
            assert "300 rows: 300 ok" in slack.message(progress.ts).text
            assert set(dify.counters.runs_by_key.values()) == {1}
            # the workflow's limit (2) holds across both daemons (issue 10 §1)
            peak = dify.counters.peak_in_flight
            assert 0 < peak <= 2, f"{peak} in flight against a limit of 2"


async def test_when_the_reporting_daemon_stops_the_other_takes_over_the_chat(tmp_path: Path) -> None:
    async with fakes(latency_s=0.05) as (slack, dify):
        first, second = two_daemons(tmp_path, dify, slack)
        chan = slack.channel("team", members=("alice",))
        async with daemon_on(slack, dify, tmp_path, config=first):
            async with contextlib.AsyncExitStack() as reporter_side:
                # the newest Socket Mode connection gets the events, so this one takes the upload
                await reporter_side.enter_async_context(daemon_on(slack, dify, tmp_path, config=second))
                up = await slack.upload_file("alice", chan, sheet(300), "handover.xlsx", text="run summarize")
                progress = await progress_of(slack, chan, up.ts)
                await slack.wait_for(lambda: done_of(slack.message(progress.ts)) >= 10)
            # the reporting daemon is gone; the first one finishes the rows and the chat
            edits_at_stop = slack.update_count(progress.ts)
            bid = batch_id(progress)
            await slack.wait_for(lambda: files_named(slack, chan, f"handover-results-{bid}"), timeout=30)
            assert slack.update_count(progress.ts) > edits_at_stop
            assert "300 rows: 300 ok" in slack.message(progress.ts).text
            assert [m.ts for m in bot_replies(slack, chan, up.ts)] == [progress.ts]
