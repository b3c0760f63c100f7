"""Upload → progress in the upload's thread → final state → results file, over Socket Mode."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from tests.bot.slack import (
    batch_id,
    bot_replies,
    button_ids,
    ephemeral,
    files_named,
    find,
    progress_of,
    results_rows,
    say,
    sheet,
    slack_desk,
)


async def test_upload_with_run_text_reports_progress_in_its_thread_and_sends_results(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    # 12 rows at 0.15 s, two at a time, take at least 0.9 s: several 0.2 s progress intervals
    async with slack_desk(tmp_path, latency_s=0.15, concurrency=2) as d:
        slack = d.slack
        chan = slack.channel("reports", members=("alice",))
        up = await slack.upload_file("alice", chan, sheet(12), "leads.xlsx", text="run summarize")

        # the progress message is posted in the upload's thread, with Pause and Cancel
        progress = await slack.wait_for(lambda: find(slack, chan, "summarize · batch", up.ts))
        assert progress.thread_ts == up.ts
        assert button_ids(progress) == ["difybatch.pause", "difybatch.cancel"]

        [results] = await slack.wait_for(lambda: files_named(slack, chan, "leads-results-"), timeout=15)
        final = slack.message(progress.ts)
        assert "✅ summarize · batch" in final.text and "completed" in final.text
        assert "12 rows: 12 ok, 0 failed" in final.text
        assert final.buttons() == []
        assert slack.update_count(progress.ts) >= 2  # at least one in-flight edit, then the final one

        # the results file went into the same thread, mentioning its owner
        assert results.thread_ts == up.ts
        assert results.initial_comment is not None
        assert results.initial_comment.startswith(f"<@{slack.user('alice')}> results of summarize")
        rows = results_rows(results)
        assert [r["Text"] for r in rows] == [f"text {i}" for i in range(1, 13)]
        assert [r["result"] for r in rows] == [f"text {i} ✓" for i in range(1, 13)]
        assert {r["status"] for r in rows} == {"succeeded"}
        # one progress message, nothing else said in the thread
        assert [m.ts for m in bot_replies(slack, chan, up.ts)] == [progress.ts]
    # not even debug logs or chat show a credential
    said = "\n".join(slack.transcript(chan))
    for secret in (slack.bot_token, slack.app_token, slack.signing_secret, d.dify.api_key):
        assert secret not in caplog.text
        assert secret not in said
    assert "sdk-ping" in caplog.text or "Sending a request" in caplog.text  # debug logs were on


async def test_upload_without_text_gets_a_summary_whose_run_button_starts_it(tmp_path: Path) -> None:
    async with slack_desk(tmp_path) as d:
        slack = d.slack
        dm = slack.channel("team", members=("alice", "bob"))
        up = await slack.upload_file("alice", dm, sheet(3), "list.xlsx")
        summary = await slack.wait_for(lambda: find(slack, dm, "3 rows ready for summarize", up.ts))
        assert button_ids(summary) == ["difybatch.run", "difybatch.schedule", "difybatch.discard"]
        assert d.dify.counters.runs_by_key == {}  # nothing runs before the button

        # someone else cannot press it; its owner can
        await slack.click_button("bob", dm, summary.ts, "difybatch.run")
        await slack.wait_for(lambda: ephemeral(slack, dm, "bob", "Only the person who sent the file"))
        await slack.click_button("alice", dm, summary.ts, "difybatch.run")
        await slack.wait_for(lambda: "Starting summarize on list.xlsx" in slack.message(summary.ts).text)
        assert slack.message(summary.ts).buttons() == []
        progress = await progress_of(slack, dm, up.ts)
        await slack.wait_for(lambda: files_named(slack, dm, f"list-results-{batch_id(progress)}"), timeout=10)
        assert sorted(d.dify.counters.runs_by_key) == ["text 1", "text 2", "text 3"]


async def test_run_command_after_an_upload_uses_that_persons_latest_file(tmp_path: Path) -> None:
    async with slack_desk(tmp_path) as d:
        slack = d.slack
        chan = slack.channel("team", members=("alice", "bob"))
        await say(slack, "alice", chan, "run summarize", "Send a spreadsheet first")
        older = await slack.upload_file("alice", chan, sheet(2, prefix="old"), "old.xlsx", text="fyi")
        await slack.wait_for(lambda: find(slack, chan, "2 rows ready", older.ts))
        newer = await slack.upload_file("alice", chan, sheet(3, prefix="new"), "new.xlsx")
        await slack.wait_for(lambda: find(slack, chan, "3 rows ready", newer.ts))
        await slack.upload_file("bob", chan, sheet(5, prefix="bob"), "bob.xlsx")

        await slack.slash_command("alice", chan, "run summarize")
        progress = await progress_of(slack, chan, newer.ts)  # reported in the upload's thread
        await slack.wait_for(lambda: files_named(slack, chan, f"new-results-{batch_id(progress)}"), 10)
        assert sorted(d.dify.counters.runs_by_key) == ["new 1", "new 2", "new 3"]
        # that upload is used up; the next run takes alice's older one, never bob's
        await slack.slash_command("alice", chan, "run summarize")
        second = await progress_of(slack, chan, older.ts)
        await slack.wait_for(lambda: files_named(slack, chan, f"old-results-{batch_id(second)}"), 10)
        assert not any(k.startswith("bob") for k in d.dify.counters.runs_by_key)


async def test_a_redelivered_upload_event_starts_one_batch(tmp_path: Path) -> None:
    async with slack_desk(tmp_path) as d:
        slack = d.slack
        chan = slack.channel("team", members=("alice",))
        # Slack gives up on an ack it did not see in time and sends the same event again
        slack.ack_timeout = 0.001
        up = await slack.upload_file("alice", chan, sheet(2), "twice.xlsx", text="run summarize")
        slack.ack_timeout = 3.0
        [message_event] = [x for x in up.deliveries if x.payload["event"]["type"] == "message"]
        assert len(message_event.attempts) >= 2
        progress = await progress_of(slack, chan, up.ts)
        await slack.wait_for(lambda: files_named(slack, chan, f"twice-results-{batch_id(progress)}"), 10)
        await asyncio.sleep(0.3)
        assert len(bot_replies(slack, chan, up.ts)) == 1
        assert d.dify.counters.runs_by_key == {"text 1": 1, "text 2": 1}


async def test_progress_edits_stay_within_one_per_interval(tmp_path: Path) -> None:
    # 150 rows of 50 ms at 8 in flight last 0.95 s at the very least, however fast the machine
    # (several intervals, so several edits); the pacing itself is checked on a fake clock in
    # tests/bot/telegram/test_resilience.py
    async with slack_desk(tmp_path, latency_s=0.05, concurrency=8, progress_interval_s=0.2) as d:
        slack = d.slack
        chan = slack.channel("team", members=("alice",))
        up = await slack.upload_file("alice", chan, sheet(150), "many.xlsx", text="run summarize")
        progress = await progress_of(slack, chan, up.ts)
        await slack.wait_for(lambda: files_named(slack, chan, "many-results-"), timeout=15)
        times = slack.update_times(progress.ts)
        assert len(times) >= 2
        # arrival times at the fake jitter on a loaded machine, so one close pair proves
        # nothing; paced sending means no more edits than intervals in the span they cover
        span = times[-1] - times[0]
        assert len(times) <= span / 0.2 + 2, (len(times), span)
