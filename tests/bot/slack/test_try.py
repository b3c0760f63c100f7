"""🧪 Try 3 rows in Slack: the sample's outputs in the upload's thread, then Run all."""

from __future__ import annotations

from pathlib import Path

from tests.bot.slack import button_ids, files_named, find, results_rows, sheet, slack_desk


async def test_try_then_run_all_in_slack(tmp_path: Path) -> None:
    async with slack_desk(tmp_path) as d:
        slack = d.slack
        chan = slack.channel("team", members=("alice",))
        up = await slack.upload_file("alice", chan, sheet(5), "list.xlsx")
        summary = await slack.wait_for(lambda: find(slack, chan, "5 rows ready for summarize", up.ts))
        assert "≈ 5 rows" in summary.text
        assert button_ids(summary) == [
            "difybatch.run", "difybatch.try", "difybatch.schedule", "difybatch.discard"
        ]
        await slack.click_button("alice", chan, summary.ts, "difybatch.try")
        sample = await slack.wait_for(
            lambda: find(slack, chan, "The first 3 rows of list.xlsx", up.ts), timeout=15
        )
        assert "row 2 ✓ result: text 1 ✓ · length: 6" in sample.text
        assert "Run all 5 rows, or discard the file?" in sample.text
        assert button_ids(sample) == ["difybatch.run", "difybatch.discard"]
        assert sorted(d.dify.counters.runs_by_key) == ["text 1", "text 2", "text 3"]

        await slack.click_button("alice", chan, sample.ts, "difybatch.run")
        [results] = await slack.wait_for(lambda: files_named(slack, chan, "list-results-"), timeout=15)
        assert [r["result"] for r in results_rows(results)] == [f"text {i} ✓" for i in range(1, 6)]
