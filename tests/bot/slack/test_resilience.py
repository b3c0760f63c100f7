"""Slack pushing back (429 storms), the daemon restarting mid-batch, and uploads kept across a restart."""

from __future__ import annotations

from pathlib import Path

from tests.bot.slack import (
    batch_id,
    bot_replies,
    button_ids,
    daemon_on,
    done_of,
    fakes,
    files_named,
    find,
    progress_of,
    results_rows,
    sheet,
    slack_desk,
)
from tests.support import make_config


async def test_a_429_storm_on_edits_is_waited_out_and_the_final_state_shown(tmp_path: Path) -> None:
    async with slack_desk(tmp_path, latency_s=0.05, concurrency=2) as d:
        slack = d.slack
        chan = slack.channel("team", members=("alice",))
        slack.rate_limit("chat.postMessage", retry_after=0)  # even the first post is pushed back once
        slack.flood("chat.update", seconds=1.5, retry_after=1)
        up = await slack.upload_file("alice", chan, sheet(20), "storm.xlsx", text="run summarize")
        progress = await progress_of(slack, chan, up.ts)
        [results] = await slack.wait_for(lambda: files_named(slack, chan, "storm-results-"), timeout=15)
        await slack.wait_for(lambda: "20 rows: 20 ok" in slack.message(progress.ts).text, timeout=5)
        assert slack.message(progress.ts).buttons() == []
        assert len(results_rows(results)) == 20

        refused = [c for c in slack.calls("chat.update") if c.status == 429]
        assert refused, "the storm never hit an edit"
        # the reporter waits Retry-After (1 s) after each refusal instead of hammering
        assert len(refused) <= 3, [round(c.at, 2) for c in refused]
        assert [c.status for c in slack.calls("chat.postMessage")][:2] == [429, 200]


async def test_a_restart_mid_batch_keeps_editing_the_same_message(tmp_path: Path) -> None:
    async with fakes(latency_s=0.05) as (slack, dify):
        config = make_config(tmp_path, dify=dify, slack=slack, concurrency=1)
        chan = slack.channel("team", members=("alice",))
        async with daemon_on(slack, dify, tmp_path, config=config):
            up = await slack.upload_file("alice", chan, sheet(30), "long.xlsx", text="run summarize")
            progress = await progress_of(slack, chan, up.ts)
            await slack.wait_for(lambda: done_of(slack.message(progress.ts)) >= 3)
        stopped_at = done_of(slack.message(progress.ts))
        edits_before = slack.update_count(progress.ts)
        assert 3 <= stopped_at < 30

        async with daemon_on(slack, dify, tmp_path, config=config):
            bid = batch_id(progress)
            await slack.wait_for(lambda: files_named(slack, chan, f"long-results-{bid}"), timeout=15)
            await slack.wait_for(lambda: "30 rows: 30 ok" in slack.message(progress.ts).text)
        assert slack.update_count(progress.ts) > edits_before
        assert [m.ts for m in bot_replies(slack, chan, up.ts)] == [progress.ts]  # no second progress post
        assert max(dify.counters.runs_by_key.values()) == 1  # no finished row ran again
        assert len(dify.counters.runs_by_key) == 30


async def test_uploads_checked_before_a_restart_still_run_after_it(tmp_path: Path) -> None:
    async with fakes(latency_s=0.01) as (slack, dify):
        config = make_config(tmp_path, dify=dify, slack=slack)
        chan = slack.channel("team", members=("alice",))
        async with daemon_on(slack, dify, tmp_path, config=config):
            by_button = await slack.upload_file("alice", chan, sheet(2, prefix="button"), "button.xlsx")
            check = await slack.wait_for(lambda: find(slack, chan, "2 rows ready", by_button.ts))
            by_command = await slack.upload_file("alice", chan, sheet(3, prefix="command"), "command.xlsx")
            await slack.wait_for(lambda: find(slack, chan, "3 rows ready", by_command.ts))
        assert "difybatch.run" in button_ids(check)

        async with daemon_on(slack, dify, tmp_path, config=config):
            await slack.slash_command("alice", chan, "run summarize")  # the latest upload: command.xlsx
            await slack.wait_for(lambda: files_named(slack, chan, "command-results-"), timeout=15)
            await slack.click_button("alice", chan, check.ts, "difybatch.run")
            [results] = await slack.wait_for(lambda: files_named(slack, chan, "button-results-"), timeout=15)
        assert results.thread_ts == by_button.ts
        assert [r["result"] for r in results_rows(results)] == ["button 1 ✓", "button 2 ✓"]
        ran = sorted(dify.counters.runs_by_key)
        assert ran == ["button 1", "button 2", "command 1", "command 2", "command 3"]


async def test_socket_mode_reconnects_mid_batch_and_commands_keep_working(tmp_path: Path) -> None:
    # 60 rows of 0.1 s one at a time: 6 s of work, ample for two reconnects and a pause
    async with slack_desk(tmp_path, latency_s=0.1, concurrency=1) as d:
        slack = d.slack
        chan = slack.channel("team", members=("alice",))
        up = await slack.upload_file("alice", chan, sheet(60), "long.xlsx", text="run summarize")
        progress = await progress_of(slack, chan, up.ts)
        await slack.wait_for(lambda: done_of(slack.message(progress.ts)) >= 2)

        # Slack's routine refresh, then a network cut with no warning
        assert await slack.request_reconnect(close_after=0.5) == 1
        await slack.wait_connected(count=2)
        await slack.drop_connections()
        await slack.wait_connected(count=3, timeout=15)

        await slack.click_button("alice", chan, progress.ts, "difybatch.pause")
        await slack.wait_for(lambda: button_ids(slack.message(progress.ts))[0] == "difybatch.resume")
        await slack.slash_command("alice", chan, f"resume {batch_id(progress)}")
        bid = batch_id(progress)
        [results] = await slack.wait_for(lambda: files_named(slack, chan, f"long-results-{bid}"), timeout=20)
        assert len(results_rows(results)) == 60
        assert "60 rows: 60 ok" in slack.message(progress.ts).text
        assert max(d.dify.counters.runs_by_key.values()) == 1
