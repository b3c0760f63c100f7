"""Everything the real `dify-batch` prints comes from the catalogue: under LANG=zh_CN.UTF-8 the
help, argparse's own errors, config problems, the status table and the outage line read
Chinese; under LC_ALL=C the same commands read English."""

from __future__ import annotations

import asyncio
import json
import re

from bot.cli.output.usage import display_width
from tests.bot.cli.conftest import Cli, write_config
from tests.support import sheet_bytes

CJK = re.compile(r"[\u4e00-\u9fff]")


def _english(cli: Cli) -> dict[str, str]:
    env = cli.env()
    env["LC_ALL"] = "C"
    return env


async def test_help_and_argparse_errors_in_chinese_and_in_english(cli: Cli) -> None:
    cli.language = "zh_CN.UTF-8"
    code, out, _ = await cli.run("--help", config=False)
    assert code == 0
    assert out.startswith("用法：dify-batch")
    assert "对表格的每一行运行一次 Dify 应用。" in out
    assert "显示此帮助并退出" in out
    assert "用工作流处理表格并写出结果" in out  # a command's line in the list
    code, out, _ = await cli.run("run", "--help", config=False)
    assert "配置中的工作流名称" in out and "workflow name from the config" not in out
    code, _, err = await cli.run("run", config=False)
    assert code == 2
    assert err.strip().endswith("dify-batch run：错误：缺少必需的参数：sheet, --workflow")

    code, out, _ = await cli.run_env(_english(cli), "--help")
    assert code == 0
    assert out.startswith("usage: dify-batch")
    assert "Run a Dify app over every row of a spreadsheet." in out
    assert not CJK.search(out)


async def test_config_problems_in_chinese_name_the_known_locales(cli: Cli) -> None:
    text = cli.config.read_text(encoding="utf-8")
    broken = text.replace("[daemon]\n", '[daemon]\nlocale = "fr"\n').replace(
        "concurrency = 4", 'concurrency = "many"'
    )
    cli.config.write_text(broken, encoding="utf-8")
    cli.language = "zh_CN.UTF-8"
    code, out, err = await cli.run("check-config", str(cli.config))
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert lines[0] == f"dify-batch：配置（{cli.config}）有 2 个问题："
    assert "  - daemon.locale：未知的语言 'fr'；可选：auto, en, zh-CN" in lines
    assert "  - workflows.summarize.concurrency 必须是整数，而不是 'many'" in lines

    code, _, err = await cli.run_env(_english(cli), "check-config", str(cli.config))
    assert code == 2
    assert f"dify-batch: the configuration ({cli.config}) has 2 problems:" in err
    assert "  - daemon.locale: unknown locale 'fr'; known: auto, en, zh-CN" in err
    assert not CJK.search(err)


async def test_check_config_that_passes_in_chinese(cli: Cli) -> None:
    cli.language = "zh_CN.UTF-8"
    code, out, err = await cli.run("check-config", str(cli.config))
    assert code == 0, err
    assert f"{cli.config}：没有问题。1 个工作流：summarize；聊天：未启用；数据库：sqlite" in out


async def test_status_table_and_detail_in_chinese_lined_up_by_display_width(cli: Cli) -> None:
    cli.language = "zh_CN.UTF-8"
    sheet = cli.workdir / "产品清单.xlsx"  # a Chinese file name is two columns a character
    sheet.write_bytes(sheet_bytes(["Text"], [["a"], ["b"], ["c"]]))
    code, _, err = await cli.run("run", str(sheet), "--workflow", "summarize")
    assert code == 0, err
    batch_id = re.search(r"任务 ([0-9a-f]{6})：共 3 行，工作流 summarize", err)
    assert batch_id is not None, err
    code, out, _ = await cli.run("status")
    assert code == 0
    header, row = out.splitlines()[:2]
    columns = ["ID", "状态", "进度", "成功", "失败", "工作流", "表格", "发起人", "创建时间（UTC）"]
    assert header.split() == columns
    assert row.split()[:6] == [batch_id[1], "已完成", "3/3", "3", "0", "summarize"]
    for column in ("工作流", "表格", "发起人"):  # each starts at the same terminal column as its header
        value = {"工作流": "summarize", "表格": "产品清单.xlsx", "发起人": "cli:"}[column]
        assert display_width(header[: header.index(column)]) == display_width(row[: row.index(value)])

    code, out, _ = await cli.run("status", batch_id[1])
    fields = dict(line.split(None, 1) for line in out.splitlines())
    assert fields["任务"] == batch_id[1]
    assert fields["状态"] == "已完成"
    assert fields["行数"].startswith("已完成 3/3：成功 3，失败 0")

    code, out, _ = await cli.run("status", "--json")
    (line,) = json.loads(out)
    assert line["status"] == "completed" and line["succeeded"] == 3  # scripts read English keys
    code, out, _ = await cli.run_env(_english(cli), "status", "--config", str(cli.config))
    assert out.split()[:3] == ["ID", "STATUS", "DONE"] and "completed" in out


async def test_the_outage_line_and_the_pause_read_chinese(cli: Cli) -> None:
    write_config(cli.config, cli.dify, concurrency=1, extra=["outage_pause_after_s = 1"])
    cli.dify.latency_s = 0.3
    cli.language = "zh_CN.UTF-8"
    sheet = cli.workdir / "in.xlsx"
    sheet.write_bytes(sheet_bytes(["Text"], [[f"row {i}"] for i in range(40)]))
    proc = await cli.start("run", str(sheet), "--workflow", "summarize")
    assert proc.stderr is not None
    said: list[str] = []

    async def until(words: str) -> None:
        while not any(words in line for line in said):
            line = (await proc.stderr.readline()).decode()  # type: ignore[union-attr]
            assert line, "".join(said)
            said.append(line)

    async with asyncio.timeout(60):
        await until("：共 40 行，工作流 summarize")
        await cli.dify.close()  # Dify goes away mid-run
        await until("无法连接 Dify")
        rest = await proc.stderr.read()
        await proc.wait()
    said.append(rest.decode())
    text = "".join(said)
    outage = next(line for line in said if "无法连接 Dify" in line)
    assert "拒绝连接" in outage and "后重试" in outage, outage
    assert "unreachable" not in outage and "refused" not in outage
    assert proc.returncode == 130, text
    assert "已自动暂停：自 " in text and "起一直无法连接 Dify（" in text, text
    assert "秒" in text and "继续运行：dify-batch resume" in text
    assert "unreachable" not in text and "paused by itself" not in text


def test_every_help_text_of_the_parser_has_its_catalogue_entry() -> None:
    from bot.chat.text.catalogues.en import EnglishWording
    from bot.chat.text.catalogues.zh_cn import ChineseWording
    from bot.cli.main import build_parser
    from bot.cli.output.usage import help_texts

    written = help_texts(build_parser())  # this process speaks English (tests/conftest.py)
    assert written
    assert sorted(written - set(EnglishWording.cli_help)) == []
    assert sorted(set(EnglishWording.cli_help) - written) == []  # nothing stale either
    untranslated = [t for t in written if ChineseWording.cli_help[t] == t]
    assert untranslated == []


def test_one_duration_wording_for_chat_and_terminal() -> None:
    from bot.chat.text.catalogues import say_duration
    from bot.chat.text.catalogues.en import EnglishWording
    from bot.chat.text.catalogues.zh_cn import ChineseWording

    assert say_duration(750, ChineseWording) == "12 分 30 秒"
    assert say_duration(190, EnglishWording) == "3m 10s"
    assert say_duration(3900, ChineseWording) == "1 小时 5 分"
    assert say_duration(9, EnglishWording) == "9s"
    assert display_width("产品 ab") == 7
