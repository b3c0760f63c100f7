"""Every /difybatch command, in channels, DMs and mentions, and the progress buttons."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from tests.bot.slack import (
    batch_id,
    button_ids,
    daemon_on,
    done_of,
    ephemeral,
    fakes,
    files_named,
    find,
    header_of,
    progress_of,
    results_rows,
    say,
    sheet,
    slack_desk,
)
from tests.fakes.dify_script import Plan, RunCall, http_error


async def test_a_command_in_a_channel_without_the_bot_is_answered_through_its_response_url(
    tmp_path: Path,
) -> None:
    async with slack_desk(tmp_path) as d:
        slack = d.slack
        chan = slack.channel("private-team", members=("alice",), bot_member=False)

        await slack.slash_command("alice", chan, "workflows")
        listed = await slack.wait_for(lambda: ephemeral(slack, chan, "alice", "Workflows you may use"))
        assert "• summarize" in listed.text

        await slack.slash_command("alice", chan, "template summarize")
        told = await slack.wait_for(lambda: ephemeral(slack, chan, "alice", "summarize-template.xlsx"))
        assert "Invite me with /invite" in told.text
        assert slack.messages(chan) == [] and slack.uploaded_files(chan) == []


async def test_help_workflows_template_and_unknown_words(tmp_path: Path) -> None:
    async with slack_desk(tmp_path) as d:
        slack = d.slack
        chan = slack.channel("general", members=("alice",))
        helped = await say(slack, "alice", chan, "help", "/difybatch template &lt;workflow&gt; —")
        assert "/difybatch run &lt;workflow&gt;" in helped.text  # escaped: Slack reads < > as markup
        listed = await say(slack, "alice", chan, "workflows", "•")
        assert "Workflows you may use:\n• summarize" in listed.text
        await say(slack, "alice", chan, "frobnicate", "Unknown command /difybatch frobnicate")

        await slack.slash_command("alice", chan, "template summarize")
        [template] = await slack.wait_for(lambda: files_named(slack, chan, "summarize-template.xlsx"))
        assert template.initial_comment is not None
        assert "/difybatch run summarize" in template.initial_comment
        assert header_of(template)[0].startswith("Text")

        # the same words work in a DM and after a mention; a mention is answered in its thread
        dm = slack.dm("alice")
        await slack.post_message("alice", dm, "workflows")
        await slack.wait_for(lambda: find(slack, dm, "Workflows you may use"))
        asked = await slack.post_message("alice", chan, "@bot status")
        answer = await slack.wait_for(lambda: find(slack, chan, "You have no batches yet", asked.ts))
        assert answer.thread_ts == asked.ts
        # plain chatter in a channel is not a command
        await slack.post_message("alice", chan, "status meeting at 3?")
        await asyncio.sleep(0.3)
        assert len([m for m in slack.messages(chan) if "no batches" in m.text]) == 1


async def test_pause_resume_by_command_and_button_then_cancel_by_button_sends_partial_results(
    tmp_path: Path,
) -> None:
    async with slack_desk(tmp_path, latency_s=0.1, concurrency=1) as d:
        slack = d.slack
        chan = slack.channel("ops", members=("alice",))
        up = await slack.upload_file("alice", chan, sheet(30), "big.xlsx", text="run summarize")
        progress = await progress_of(slack, chan, up.ts)
        bid = batch_id(progress)
        await slack.wait_for(lambda: done_of(slack.message(progress.ts)) >= 2)

        await say(slack, "alice", chan, f"pause {bid}", "Paused")
        await slack.wait_for(lambda: "difybatch.resume" in button_ids(slack.message(progress.ts)))
        paused = slack.message(progress.ts)
        assert "Paused: nothing new starts. /difybatch resume" in paused.text
        assert button_ids(paused) == ["difybatch.resume", "difybatch.cancel"]
        status = await say(slack, "alice", chan, "status", f"batch {bid}")
        assert "Paused" in status.text

        await slack.click_button("alice", chan, progress.ts, "difybatch.resume")
        await slack.wait_for(lambda: "difybatch.pause" in button_ids(slack.message(progress.ts)))
        await slack.wait_for(lambda: ephemeral(slack, chan, "alice", f"batch {bid}"))

        await slack.click_button("alice", chan, progress.ts, "difybatch.cancel")
        [partial] = await slack.wait_for(lambda: files_named(slack, chan, f"big-results-{bid}"), timeout=10)
        final = slack.message(progress.ts)
        assert f"⏹ summarize · batch {bid} cancelled" in final.text
        assert final.buttons() == []
        rows = results_rows(partial)
        assert len(rows) == 30  # every row is listed, the ones never run as cancelled
        statuses = [r["status"] for r in rows]
        assert "succeeded" in statuses and "cancelled" in statuses
        assert partial.thread_ts == up.ts


async def test_cancel_by_command_retry_and_result(tmp_path: Path) -> None:
    failed_once: set[str] = set()

    def script(call: RunCall) -> Plan | None:
        # row "text 2" fails the first time only, so a retry can succeed
        if call.key == "text 2" and call.key not in failed_once:
            failed_once.add(call.key)
            return Plan(fault=http_error(400, "invalid_param", "text is not valid"))
        return None

    async with slack_desk(tmp_path, latency_s=0.02, script=script) as d:
        slack = d.slack
        chan = slack.channel("ops", members=("alice",))
        up = await slack.upload_file("alice", chan, sheet(4), "few.xlsx", text="run summarize")
        progress = await progress_of(slack, chan, up.ts)
        bid = batch_id(progress)
        await slack.wait_for(lambda: "completed; rows failed: 1" in slack.message(progress.ts).text, 10)
        assert f"/difybatch retry {bid} runs only the failed rows again." in slack.message(progress.ts).text
        await slack.wait_for(lambda: files_named(slack, chan, f"few-results-{bid}"))

        await say(slack, "alice", chan, f"retry {bid}", f"batch {bid}")
        await slack.wait_for(lambda: "4 rows: 4 ok, 0 failed" in slack.message(progress.ts).text, 10)
        await say(slack, "alice", chan, f"result {bid}", "")  # wait for the ack only
        again = await slack.wait_for(lambda: [f for f in files_named(slack, chan, f"few-results-{bid}")
                                              if f.thread_ts is None])
        assert {r["status"] for r in results_rows(again[0])} == {"succeeded"}

        # a second upload is cancelled by command: the final edit shows it, no buttons remain
        d.dify.latency_s = 0.2
        up2 = await slack.upload_file("alice", chan, sheet(20), "slow.xlsx", text="run summarize")
        p2 = await progress_of(slack, chan, up2.ts)
        await say(slack, "alice", chan, "cancel", "cancelled")
        await slack.wait_for(lambda: "cancelled" in slack.message(p2.ts).text)
        await slack.wait_for(lambda: not slack.message(p2.ts).buttons())
        await slack.wait_for(lambda: files_named(slack, chan, f"slow-results-{batch_id(p2)}"))


async def test_strangers_and_other_peoples_batches_are_refused(tmp_path: Path) -> None:
    async with fakes(latency_s=0.1) as (slack, dify):
        alice = slack.user("alice")
        async with daemon_on(slack, dify, tmp_path, allow=(f"slack:{alice}",), concurrency=1) as d:
            chan = slack.channel("ops", members=("alice", "mallory"))
            await say(slack, "mallory", chan, "workflows", "There is no workflow you may use")
            refused = await slack.upload_file("mallory", chan, sheet(3), "x.xlsx", text="run summarize")
            await slack.wait_for(lambda: find(slack, chan, "You may not use workflow summarize", refused.ts))
            plain = await slack.upload_file("mallory", chan, sheet(3), "y.xlsx")
            await slack.wait_for(lambda: find(slack, chan, "You may not use this bot", plain.ts))
            assert d.dify.counters.runs_by_key == {}  # nothing ran for mallory

            up = await slack.upload_file("alice", chan, sheet(20), "mine.xlsx", text="run summarize")
            progress = await progress_of(slack, chan, up.ts)
            bid = batch_id(progress)
            await say(slack, "mallory", chan, f"pause {bid}", f"Batch {bid} belongs to someone else.")
            await slack.click_button("mallory", chan, progress.ts, "difybatch.cancel")
            await slack.wait_for(lambda: ephemeral(slack, chan, "mallory", "belongs to someone else"))
            assert "difybatch.pause" in button_ids(slack.message(progress.ts))  # still running
            await say(slack, "alice", chan, f"cancel {bid}", "cancelled")


async def test_schedule_after_an_upload_or_as_its_text_then_list_and_remove(tmp_path: Path) -> None:
    async with slack_desk(tmp_path) as d:
        slack = d.slack
        chan = slack.channel("team", members=("alice",))
        await slack.upload_file("alice", chan, sheet(2), "plan.xlsx")
        await slack.wait_for(lambda: find(slack, chan, "2 rows ready"))
        done = await say(slack, "alice", chan, "schedule tomorrow 09:00 summarize", "Scheduled summarize")
        found = re.search(r"Schedule (\S+); /difybatch unschedule", done.text)
        assert found, done.text
        schedule_id = found.group(1)

        up = await slack.upload_file("alice", chan, sheet(2), "later.xlsx", text="schedule in 2h summarize")
        await slack.wait_for(lambda: find(slack, chan, "Scheduled summarize on later.xlsx: in 2h", up.ts))
        listed = await say(slack, "alice", chan, "schedules", schedule_id)
        assert "plan.xlsx" in listed.text and "later.xlsx" in listed.text
        await say(slack, "alice", chan, f"unschedule {schedule_id}", f"Schedule {schedule_id} removed.")
        await say(slack, "alice", chan, "schedule yesterday summarize", '"yesterday" is not a time')
        assert d.dify.counters.runs_by_key == {}
