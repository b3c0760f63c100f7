"""Upload → progress in the upload's thread → final state → results file, over Socket Mode."""

from __future__ import annotations

from pathlib import Path

from tests.bot.slack import (
    bot_replies,
    button_ids,
    files_named,
    find,
    results_rows,
    sheet,
    slack_desk,
)


async def test_upload_with_run_text_reports_progress_in_its_thread_and_sends_results(tmp_path: Path) -> None:
    async with slack_desk(tmp_path, latency_s=0.03, concurrency=2) as d:
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
