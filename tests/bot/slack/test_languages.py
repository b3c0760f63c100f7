"""Slack people in their own language (``locale = "auto"``): the bot asks ``users.info`` with
``include_locale`` once per person; a person whose Slack is in Chinese reads Chinese, from
help and refusals to progress, the end message and the results' Summary sheet, while an
English speaker in the same channel reads English."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.languages import KEEP_S, PersonLanguages
from tests.bot.slack import daemon_on, ephemeral, fakes, files_named, find, results_rows, say, sheet
from tests.fakes.slack import FakeSlack
from tests.fakes.slack_state import FileObj
from tests.support import make_config


def _summary(f: FileObj, name: str) -> dict[Any, Any]:
    assert f.data is not None
    book = load_workbook(io.BytesIO(f.data), read_only=True)
    summary = {r[0]: r[1] for r in book[name].iter_rows(values_only=True) if r}
    book.close()
    return summary


async def test_a_chinese_and_an_english_slack_user_each_read_their_own_language(tmp_path: Path) -> None:
    async with fakes(latency_s=0.05) as (slack, dify), daemon_on(slack, dify, tmp_path, concurrency=2):
        li = slack.user("lilei", locale="zh-CN")
        slack.user("alice", locale="en-US")
        chan = slack.channel("general", members=("lilei", "alice"))

        helped = await say(slack, "lilei", chan, "help", "我可以用 Dify 应用逐行处理表格")
        assert "/difybatch status [ID] — 查看任务进度" in helped.text
        await say(slack, "alice", chan, "help", "I run a Dify app over every row")
        await say(slack, "lilei", chan, "frobnicate", "未知命令 /difybatch frobnicate。")
        await say(slack, "lilei", chan, "status", "你还没有任务。")
        await say(slack, "alice", chan, "status", "You have no batches yet.")

        up_zh = await slack.upload_file("lilei", chan, sheet(5), "商品.xlsx", text="run summarize")
        up_en = await slack.upload_file("alice", chan, sheet(5), "items.xlsx", text="run summarize")
        [zh] = await slack.wait_for(lambda: files_named(slack, chan, "商品-results-"), timeout=20)
        [en] = await slack.wait_for(lambda: files_named(slack, chan, "items-results-"), timeout=20)

        progress_zh = await slack.wait_for(lambda: find(slack, chan, "summarize · 任务 ", up_zh.ts))
        final = slack.message(progress_zh.ts).text
        assert "✅ summarize · 任务 " in final and "已完成" in final
        assert "共 5 行：成功 5，失败 0，未运行 0" in final
        assert zh.initial_comment is not None and zh.initial_comment.startswith(f"<@{li}> summarize 运行结果")
        assert [r["status"] for r in results_rows(zh)] == ["成功"] * 5
        assert _summary(zh, "汇总")["任务状态"] == "已完成"

        progress_en = await slack.wait_for(lambda: find(slack, chan, "summarize · batch ", up_en.ts))
        assert "5 rows: 5 ok, 0 failed" in slack.message(progress_en.ts).text
        assert [r["status"] for r in results_rows(en)] == ["succeeded"] * 5
        assert _summary(en, "Summary")["batch status"] == "completed"

        # the language is asked once per person, not on every message
        assert slack.world.locale_lookups == 2
        include = [c for c in slack.calls("users.info") if c.args.get("include_locale")]
        assert len(include) == 2


async def test_a_forced_locale_needs_no_lookup_and_buttons_answer_in_it(tmp_path: Path) -> None:
    async with fakes() as (slack, dify):
        config = make_config(tmp_path, dify=dify, slack=slack)
        config = dataclasses.replace(config, daemon=dataclasses.replace(config.daemon, locale="zh-CN"))
        async with daemon_on(slack, dify, tmp_path, config=config):
            slack.user("alice", locale="en-US")
            chan = slack.channel("team", members=("alice", "bob"))
            up = await slack.upload_file("alice", chan, sheet(3), "list.xlsx")
            ready = "3 行已就绪，可以运行 summarize。"
            summary = await slack.wait_for(lambda: find(slack, chan, ready, up.ts))
            await slack.click_button("bob", chan, summary.ts, "difybatch.run")
            await slack.wait_for(lambda: ephemeral(slack, chan, "bob", "只有发送文件的人才能使用这些按钮。"))
        assert slack.world.locale_lookups == 0


async def test_without_the_users_read_scope_people_get_english(tmp_path: Path) -> None:
    async with fakes() as (slack, dify), daemon_on(slack, dify, tmp_path):
        slack.user("lilei", locale="zh-CN")
        chan = slack.channel("general", members=("lilei",))
        slack.fail("users.info", "missing_scope", times=5)
        await say(slack, "lilei", chan, "status", "You have no batches yet.")
        await say(slack, "lilei", chan, "help", "I run a Dify app")
        assert len(slack.calls("users.info")) == 1, "a failed look-up is not repeated at once"


async def test_a_persons_language_is_remembered_then_asked_again_once_it_expires() -> None:
    async with FakeSlack.running() as slack:
        li = slack.user("lilei", locale="zh-CN")
        client = AsyncWebClient(token=slack.bot_token, base_url=slack.api_base)
        now = [0.0]
        languages = PersonLanguages(client, clock=lambda: now[0])
        assert await languages.of(li) == "zh-CN"
        slack.user("lilei", locale="en-GB")  # they switch their Slack to English
        now[0] += KEEP_S - 1
        assert await languages.of(li) == "zh-CN"
        now[0] += 2
        assert await languages.of(li) == "en-GB"
        assert slack.world.locale_lookups == 2
