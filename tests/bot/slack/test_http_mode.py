"""HTTP mode: Slack posts signed events, commands and clicks to the daemon's /slack/events."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from tests.bot.slack import (
    Desk,
    batch_id,
    button_ids,
    daemon_on,
    fakes,
    files_named,
    find,
    progress_of,
    results_rows,
    say,
    sheet,
)


@asynccontextmanager
async def http_desk(tmp_path: Path, **config: object) -> AsyncIterator[Desk]:
    async with fakes(0.05) as (slack, dify), \
            daemon_on(slack, dify, tmp_path, slack_mode="http", **config) as d:
        slack.use_http(f"http://127.0.0.1:{d.daemon.http_port}/slack/events")
        yield d


async def test_signed_deliveries_run_the_whole_flow(tmp_path: Path) -> None:
    async with http_desk(tmp_path, concurrency=1) as d:
        slack = d.slack
        assert await slack.url_verification()
        chan = slack.channel("team", members=("alice",))
        up = await slack.upload_file("alice", chan, sheet(8), "web.xlsx", text="run summarize")
        assert all(x.attempts[0].status == 200 for x in up.deliveries)
        progress = await progress_of(slack, chan, up.ts)
        # a form-encoded slash command and a button click take the same route
        await say(slack, "alice", chan, "status", f"batch {batch_id(progress)}")
        await slack.click_button("alice", chan, progress.ts, "difybatch.pause")
        await slack.wait_for(lambda: "difybatch.resume" in button_ids(slack.message(progress.ts)))
        await slack.click_button("alice", chan, progress.ts, "difybatch.resume")
        [results] = await slack.wait_for(lambda: files_named(slack, chan, "web-results-"), timeout=15)
        assert [r["result"] for r in results_rows(results)] == [f"text {i} ✓" for i in range(1, 9)]
        assert "8 rows: 8 ok" in slack.message(progress.ts).text


async def test_bad_or_stale_signatures_are_refused_and_change_nothing(tmp_path: Path) -> None:
    async with http_desk(tmp_path) as d:
        slack = d.slack
        chan = slack.channel("team", members=("alice",))
        for signature in ("bad", "stale"):
            slack.signature = signature
            up = await slack.upload_file("alice", chan, sheet(2), f"{signature}.xlsx", text="run summarize")
            assert {a.status for x in up.deliveries for a in x.attempts} == {401}
            command = await slack.slash_command("alice", chan, "workflows")
            assert [a.status for a in command.attempts] == [401]
        await asyncio.sleep(0.3)
        assert slack.messages(chan) == []
        assert d.dify.counters.runs_by_key == {}
        reporter = d.daemon.reporter
        assert reporter is not None
        assert await reporter.store.list_batches() == []  # no batch was created

        # the same request signed properly goes through
        slack.signature = "good"
        up = await slack.upload_file("alice", chan, sheet(2), "good.xlsx", text="run summarize")
        await slack.wait_for(lambda: find(slack, chan, "· batch", up.ts))
