"""Each person in their own language on one daemon (``locale = "auto"``, the default): a
person whose Telegram speaks Chinese reads Chinese, from help and refusals to the progress
message, the end message and the results' Summary sheet, while an English speaker next to
them reads English. A batch keeps its starter's language, also when scheduled and fired
after a restart."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from tests.bot.telegram import TOKEN, result_rows, texts, world
from tests.fakes.dify import FakeDify
from tests.fakes.dify_script import Plan, RunCall, failed_run
from tests.fakes.telegram import FakeTelegram
from tests.fakes.telegram_model import FakeMessage
from tests.support import make_config, running_daemon, sheet_bytes


def _summary(document: FakeMessage, sheet: str) -> dict[Any, Any]:
    assert document.document is not None
    book = load_workbook(io.BytesIO(document.document.data), read_only=True)
    summary = {r[0]: r[1] for r in book[sheet].iter_rows(values_only=True) if r}
    book.close()
    return summary


async def test_chinese_and_english_speakers_each_read_their_own_language(tmp_path: Path) -> None:
    async with world(tmp_path, dify={"latency_s": 0.1}, concurrency=2) as w:
        tg = w.tg
        li = tg.user("李雷", username="lilei", language_code="zh-hans")
        alice = tg.user("Alice", username="alice", language_code="en")

        tg.send_text(li, "/help")
        tg.send_text(alice, "/help")
        help_zh = await tg.wait_for_message(li.id, "我可以用 Dify 应用逐行处理表格")
        help_en = await tg.wait_for_message(alice.id, "I run a Dify app over every row")
        assert "/status [ID] — 查看任务进度" in (help_zh.text or "")
        assert "/status [id] — progress of your batches" in (help_en.text or "")

        # refusals
        tg.send_text(li, "/frobnicate")
        await tg.wait_for_message(li.id, "未知命令 /frobnicate。发送 /help 查看全部命令。")
        tg.send_text(li, "/template nosuch")
        await tg.wait_for_message(li.id, "没有名为 nosuch 的工作流。发送 /workflows 查看你可以使用的工作流。")
        tg.send_text(li, "/status")
        await tg.wait_for_message(li.id, "你还没有任务。发送一个表格即可开始。")
        tg.send_text(alice, "/frobnicate")
        await tg.wait_for_message(alice.id, "Unknown command /frobnicate. Send /help for the list.")

        # a run each, at the same time
        tg.upload_document(li, texts(6), "商品.xlsx", caption="/run summarize")
        tg.upload_document(alice, texts(6), "items.xlsx", caption="/run summarize")
        results_zh = await tg.wait_for_message(li.id, "运行结果", document=True, timeout=30)
        results_en = await w.results_of(alice, timeout=30)

        progress_zh = next(m for m in tg.bot_messages(li.id) if " · 任务 " in (m.text or ""))
        assert any("⏸ 暂停" in str(e.reply_markup) for e in progress_zh.edits[:-1]), tg.transcript_text(li.id)
        final = progress_zh.text or ""
        assert final.startswith("✅ summarize · 任务 ") and final.splitlines()[0].endswith(" 已完成")
        assert "共 6 行：成功 6，失败 0，未运行 0" in final
        assert " · 耗时 " in final and "秒" in final
        assert "可再次获取结果表格。" in final
        assert (results_zh.caption or "").startswith("@lilei summarize 运行结果（任务 ")
        assert [r["status"] for r in result_rows(results_zh)] == ["成功"] * 6
        summary = _summary(results_zh, "汇总")
        assert summary["工作流"] == "summarize" and summary["任务状态"] == "已完成"
        assert summary["成功行数"] == 6

        # refusals that come from the engine's state machine, in the person's words
        tg.send_text(li, "/pause")
        await tg.wait_for_message(li.id, "现在无法执行此操作：任务当前为“已完成”，无法变为“已暂停”。")
        tg.send_text(alice, "/pause")
        await tg.wait_for_message(alice.id, "That cannot be done now: batch is completed; it cannot become")

        progress_en = await w.progress_of(alice)
        assert "completed" in (progress_en.text or "") and "6 rows: 6 ok" in (progress_en.text or "")
        assert (results_en.caption or "").startswith("@alice results of summarize")
        assert [r["status"] for r in result_rows(results_en)] == ["succeeded"] * 6
        assert _summary(results_en, "Summary")["batch status"] == "completed"

        # Chinese menu for Chinese apps, English for everyone else
        menus = {key: {c["command"]: c["description"] for c in cmds} for key, cmds in tg.commands.items()}
        zh_menu = next(m for k, m in menus.items() if '"zh"' in k)
        default = next(m for k, m in menus.items() if k.endswith('""]'))
        assert zh_menu["status"] == "查看任务进度" and default["status"] == "progress of your batches"


async def test_a_bad_sheet_and_its_buttons_in_chinese(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        tg = w.tg
        li = tg.user("李雷", language_code="zh")
        bad = sheet_bytes(["Text", "备注"], [["好的", "a"], [None, "b"], ["x" * 300, "c"]])
        tg.upload_document(li, bad, "坏表.xlsx")
        check = await tg.wait_for_message(li.id, "发现 2 个问题", document=True)
        text = check.caption or check.text or ""
        assert "第 3 行“Text”列：必填，但单元格为空" in text
        assert "第 4 行“Text”列：超长：共 300 个字符，上限为 256" in text
        assert "附件副本已标出所有有问题的单元格。" in text
        assert "多出的列会原样保留：备注" in text
        assert check.document is not None
        book = load_workbook(io.BytesIO(check.document.data), read_only=True)
        problems = list(book["问题"].iter_rows(values_only=True))
        book.close()
        assert problems[0] == ("工作表", "行", "列", "问题")
        assert problems[1][1:] == (3, "Text", "必填，但单元格为空")

        tg.send_text(li, "/template summarize")
        template = await tg.wait_for_message(li.id, "填好后发回，并附上说明 /run summarize", document=True)
        assert template.document is not None
        book = load_workbook(io.BytesIO(template.document.data), read_only=True)
        about = [r for r in book["说明"].iter_rows(values_only=True) if any(r)]
        inputs_header = next(book["Inputs"].iter_rows(values_only=True))
        book.close()
        assert about[0][0] == "工作流“summarize”的输入模板"
        assert about[1][0].startswith("在 Inputs 工作表中每行填写一次运行的输入。")
        assert about[2][:4] == ("列名", "变量名", "类型", "是否必填")
        assert about[3][:4] == ("Text", "text", "文本", "是")
        assert inputs_header == ("Text",), "the form's labels stay as the app names them"

        tg.upload_document(li, texts(2), "好表.xlsx")
        ready = await tg.wait_for_message(li.id, "2 行已就绪，可以运行 summarize。")
        assert [b.text for b in ready.buttons] == ["▶️ 运行", "🕒 定时…", "🗑 丢弃"]
        tg.press_button(li, ready, text="🗑 丢弃")
        await tg.wait_for(lambda: ready.text == "已丢弃 好表.xlsx。")

        tg.upload_document(li, texts(2), "月底.xlsx", caption="/schedule 2026-02-30 09:00 summarize")
        await tg.wait_for_message(li.id, "“2026-02-30 09:00”：2026 年 2 月只有 28 天。")
        tg.upload_document(li, texts(2), "某时.xlsx", caption="/schedule whenever summarize")
        told = await tg.wait_for_message(li.id, "无法识别时间“whenever”。可用写法：2026-12-01 09:00、in 2h")
        assert "Use one of" not in (told.text or "")
        assert not w.dify.counters.requests_by_key


async def test_a_schedule_fired_after_a_restart_speaks_its_makers_language(tmp_path: Path) -> None:
    async with FakeDify.running(latency_s=0.02) as dify, FakeTelegram.running(TOKEN) as tg:
        config = make_config(tmp_path, dify=dify, telegram=tg)
        config = dataclasses.replace(config, daemon=dataclasses.replace(config.daemon, misfire_grace_s=60))
        li = tg.user("李雷", language_code="zh-CN")
        at = (datetime.now(UTC) + timedelta(seconds=2)).replace(microsecond=0)
        async with running_daemon(config):
            when = at.strftime("%Y-%m-%d %H:%M:%S")
            tg.upload_document(li, texts(2), "每日.xlsx", caption=f"/schedule {when} summarize")
            told = await tg.wait_for_message(li.id, "已设置定时：用 summarize 处理 每日.xlsx")
            assert "发送 /unschedule " in (told.text or "")
        await asyncio.sleep(max(0.0, (at - datetime.now(UTC)).total_seconds()) + 1)
        assert not dify.counters.requests_by_key, "the daemon was down at the fire time"
        async with running_daemon(config):
            results = await tg.wait_for_message(li.id, "运行结果", document=True, timeout=20)
        progress = [m for m in tg.bot_messages(li.id) if " · 任务 " in (m.text or "")]
        assert len(progress) == 1 and "已完成" in (progress[0].text or "")
        assert _summary(results, "汇总")["总行数"] == 2


def _progress_zh(tg: FakeTelegram, chat_id: int) -> FakeMessage | None:
    return next(
        (m for m in tg.bot_messages(chat_id) if m.document is None and " · 任务 " in (m.text or "")), None
    )


async def test_a_batch_that_paused_itself_for_an_outage_says_why_in_chinese(tmp_path: Path) -> None:
    async with world(tmp_path, dify={"latency_s": 0.1}, concurrency=1, progress_interval_s=0.1,
                     outage_pause_after_s=1) as w:
        tg = w.tg
        li = tg.user("李雷", language_code="zh")
        tg.upload_document(li, texts(40), "商品.xlsx", caption="/run summarize")
        progress = await tg.wait_for(lambda: _progress_zh(tg, li.id))
        await w.dify.close()  # Dify goes away mid-run
        await tg.wait_for(lambda: "后重试" in (progress.text or ""), timeout=10)
        assert "拒绝连接" in (progress.text or ""), progress.text
        await tg.wait_for(lambda: "已暂停：" in (progress.text or ""), timeout=15)
        paused = progress.text or ""
        assert "已暂停：自 " in paused and "起一直无法连接 Dify（" in paused, paused
        assert "拒绝连接）" in paused, paused
        assert "已等待 1 秒" in paused, paused
        for english in ("unreachable", "refused", "paused by itself"):
            assert english not in paused, paused

        tg.send_text(li, "/status")
        status = await tg.wait_for(lambda: next(
            (m for m in tg.bot_messages(li.id) if m is not progress and "已暂停：" in (m.text or "")), None))
        assert "起一直无法连接 Dify（" in (status.text or "") and "unreachable" not in (status.text or "")


def _fails(call: RunCall) -> Plan | None:
    if call.key == "row 1":
        return Plan(fault=failed_run("model exploded"))  # Dify's own words
    if call.key == "row 2":
        return Plan(fault=failed_run(""))  # no words: the engine says how the run ended
    return None


async def test_stored_row_and_batch_errors_in_chinese_with_difys_words_kept(tmp_path: Path) -> None:
    async with world(tmp_path, dify={"script": _fails}, retry_failed_runs=True, max_attempts=2,
                     backoff_base_s=0.01, backoff_max_s=0.02) as w:
        tg = w.tg
        li = tg.user("李雷", language_code="zh")
        tg.upload_document(li, texts(4), "商品.xlsx")
        check = await tg.wait_for_message(li.id, "4 行已就绪")
        tg.press_button(li, check, text="🧪 先试 3 行")
        sample = await tg.wait_for_message(li.id, "的前 3 行在 summarize 上的结果", timeout=15)
        lines = (sample.text or "").splitlines()
        assert lines[1] == "第 2 行 ✗ 失败：model exploded（已尝试 2 次）", lines
        assert lines[2] == "第 3 行 ✗ 失败：运行结束，状态为“失败”（已尝试 2 次）", lines
        assert "attempts" not in (sample.text or "")

        tg.upload_document(li, texts(2), "都失败.xlsx", caption="/run summarize")
        progress = await tg.wait_for(lambda: _progress_zh(tg, li.id))
        await tg.wait_for(lambda: (progress.text or "").startswith("❌"), timeout=15)
        assert (progress.text or "").splitlines()[0].endswith("失败：所有行都失败了"), progress.text


async def test_a_batch_whose_stored_sheet_is_gone_after_a_restart_says_so_in_chinese(tmp_path: Path) -> None:
    async with FakeDify.running(latency_s=0.05) as dify, FakeTelegram.running(TOKEN) as tg:
        config = make_config(tmp_path, dify=dify, telegram=tg, concurrency=1, shutdown_grace_s=1.0)
        li = tg.user("李雷", language_code="zh-CN")
        async with running_daemon(config):
            tg.upload_document(li, texts(30), "商品.xlsx", caption="/run summarize")
            progress = await tg.wait_for(lambda: _progress_zh(tg, li.id))
            await tg.wait_for(lambda: len(dify.counters.succeeded_by_key) >= 2, timeout=10)
        # a crash while its rows were being stored, and the kept sheet pruned meanwhile
        with sqlite3.connect(tmp_path / "bot.db") as db:
            db.execute("DELETE FROM row WHERE idx >= 20")
            (name,) = db.execute("SELECT name FROM sheet_file").fetchone()
            db.execute("DELETE FROM sheet_file")
        for kept in (tmp_path / "data").rglob(name):
            kept.unlink()
        batch_id = (progress.text or "").split("任务 ", 1)[1].split()[0]
        async with running_daemon(config):
            tg.send_text(li, f"/status {batch_id}")
            told = await tg.wait_for_message(li.id, "已不存在", timeout=10)
        text = told.text or ""
        assert f"重启前只保存了 30 行中的 20 行，其余的无法补上：保存的表格 {name} 已不存在" in text, text
        assert "is gone" not in text and "restart" not in text
