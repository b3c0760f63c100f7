"""``/difybatch run A B`` after an upload in Slack: one progress message in the upload's
thread showing both workflows, then one combined workbook in that thread; its buttons and
the comparison id with pause and cancel steer both workflows."""

from __future__ import annotations

from pathlib import Path

from tests.bot.compare_support import SECOND, second_version, with_second, workbook
from tests.bot.slack import button_ids, daemon_on, fakes, files_named, find, say, sheet
from tests.fakes.dify import FakeDify
from tests.support import make_config


async def test_run_with_two_workflows_after_an_upload_compares_them_in_its_thread(tmp_path: Path) -> None:
    async with fakes(latency_s=0.1) as (slack, dify), \
            FakeDify.running(latency_s=0.1, output_fn=second_version) as second:
        config = with_second(second)(make_config(tmp_path, dify=dify, slack=slack, concurrency=2))
        async with daemon_on(slack, dify, tmp_path, config=config):
            chan = slack.channel("team", members=("alice",))
            up = await slack.upload_file("alice", chan, sheet(8), "leads.xlsx")
            await slack.wait_for(lambda: find(slack, chan, "8 rows ready", up.ts))

            await slack.slash_command("alice", chan, f"run summarize {SECOND}")
            progress = await slack.wait_for(lambda: find(slack, chan, f"{SECOND} · batch", up.ts))
            assert "summarize · batch" in progress.text and "comparison c" in progress.text

            [sent] = await slack.wait_for(lambda: files_named(slack, chan, "leads-compare-c"), timeout=15)
            assert sent.thread_ts == up.ts
            comment = sent.initial_comment or ""
            assert "result differs in 4 of 8 rows" in comment
            final = slack.message(progress.ts)
            assert "Comparison c" in final.text and "finished: leads.xlsx" in final.text
            assert f"{SECOND}: 8 ok, 0 failed" in final.text
            # one message for both: nothing else of ours in the thread but the check and the file
            assert len([m for m in slack.messages(chan, thread_ts=up.ts) if "· batch" in m.text
                        or "Comparison" in m.text]) == 1

            assert sent.data is not None
            rows, compare = workbook(sent.data)
            assert rows[3]["result [summarize]"] == "text 4 ✓"
            assert rows[3][f"result [{SECOND}]"] == "text 4 (v2)"
            assert compare["result"] == [4, 8] and compare["success rate (%)"] == [100, 100]
            assert second.counters.runs_by_key == {f"text {i}": 1 for i in range(1, 9)}


async def test_the_comparison_buttons_and_id_pause_and_cancel_both_workflows(tmp_path: Path) -> None:
    async with fakes(latency_s=0.05) as (slack, dify), \
            FakeDify.running(latency_s=0.05, output_fn=second_version) as second:
        config = with_second(second)(make_config(tmp_path, dify=dify, slack=slack, concurrency=1))
        async with daemon_on(slack, dify, tmp_path, config=config):
            chan = slack.channel("team", members=("alice",))
            caption = f"run summarize {SECOND}"
            up = await slack.upload_file("alice", chan, sheet(40), "leads.xlsx", text=caption)
            progress = await slack.wait_for(lambda: find(slack, chan, f"{SECOND} · batch", up.ts))
            comparison = progress.text.split("comparison ", 1)[1].split()[0]
            await slack.wait_for(lambda: len(second.counters.succeeded_by_key) >= 2 or None, 10)

            await slack.click_button("alice", chan, progress.ts, "difybatch.pause")
            await slack.wait_for(lambda: button_ids(slack.message(progress.ts))
                                 == ["difybatch.resume", "difybatch.cancel"])
            assert slack.message(progress.ts).text.count("Paused") >= 2

            await say(slack, "alice", chan, f"cancel {comparison}", f"Comparison {comparison} finished")
            [sent] = await slack.wait_for(lambda: files_named(slack, chan, "leads-compare-c"), timeout=15)
            assert sent.data is not None
            rows, _ = workbook(sent.data)
            for workflow in ("summarize", SECOND):
                assert "cancelled" in {r[f"status [{workflow}]"] for r in rows}, workflow
            await slack.wait_for(lambda: not button_ids(slack.message(progress.ts)) or None)
