"""The CLI in the terminal's language: under LANG=zh_CN.UTF-8 a broken sheet is explained in
Chinese, the progress line and the results' Summary sheet read Chinese; LC_ALL wins over LANG."""

from __future__ import annotations

from openpyxl import load_workbook

from tests.bot.cli.conftest import Cli
from tests.support import sheet_bytes


async def test_a_sheet_with_bad_rows_is_explained_in_chinese(cli: Cli) -> None:
    cli.language = "zh_CN.UTF-8"
    sheet = cli.workdir / "in.csv"
    sheet.write_text("Text\nfine\n\n" + "x" * 300 + "\n", encoding="utf-8")
    code, out, err = await cli.run("run", str(sheet), "--workflow", "summarize")
    assert code == 2, err
    assert out == ""
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert lines[0] == "dify-batch：in.csv 中有 1 个问题，未开始运行。"
    assert lines[1] == "  - 第 4 行“Text”列：超长：共 300 个字符，上限为 256"
    said = err.replace(str(cli.workdir / "in-problems.xlsx"), "")  # a path, not wording
    assert "row" not in said and "problem" not in said
    assert not (cli.workdir / "in-results.xlsx").exists()
    assert cli.dify.counters.runs_by_key == {}


async def test_a_missing_column_and_a_file_that_is_no_sheet_in_chinese(cli: Cli) -> None:
    cli.language = "zh_CN.UTF-8"
    sheet = cli.workdir / "wrong.xlsx"
    sheet.write_bytes(sheet_bytes(["Title"], [["a"]]))
    code, _, err = await cli.run("run", str(sheet), "--workflow", "summarize")
    assert code == 2
    assert (  # the chat's "download the template" becomes the command that writes it
        "wrong.xlsx：缺少必填列 'Text' (text)。现有表头：Title。"
        "`dify-batch template summarize` 可生成带有应有表头的表格。"
    ) in err
    assert "  - 缺少列 Text（text）" in err
    fake = cli.workdir / "notes.xlsx"
    fake.write_bytes(b"%PDF-1.7 not a sheet")
    code, _, err = await cli.run("run", str(fake), "--workflow", "summarize")
    assert code == 2
    assert err.strip() == (
        "dify-batch：notes.xlsx 是 PDF 文档，不是表格。请发送 .xlsx、.xls、.ods 或 .csv 文件。"
    )


async def test_lc_all_overrides_lang(cli: Cli) -> None:
    cli.language = "zh_CN.UTF-8"
    sheet = cli.workdir / "wrong.xlsx"
    sheet.write_bytes(sheet_bytes(["Title"], [["a"]]))
    proc_env = cli.env()
    proc_env["LC_ALL"] = "en_US.UTF-8"
    cli.env = lambda: proc_env  # type: ignore[method-assign]
    code, _, err = await cli.run("run", str(sheet), "--workflow", "summarize")
    assert code == 2
    assert "required column(s) missing" in err


async def test_a_chinese_run_reports_progress_and_writes_a_chinese_summary(cli: Cli) -> None:
    cli.language = "zh_CN.UTF-8"
    sheet = cli.workdir / "products.xlsx"
    sheet.write_bytes(sheet_bytes(["Text"], [[f"item {i}"] for i in range(5)]))
    code, out, err = await cli.run("run", str(sheet), "--workflow", "summarize")
    assert code == 0, err
    assert "5/5 成功 5 失败 0" in err  # the progress line, drawn once more at the end
    assert "已完成：成功 5，失败 0，共 5 行" in err  # the closing summary
    book = load_workbook(out.strip(), read_only=True)
    results = list(book.worksheets[0].iter_rows(values_only=True))
    summary = {r[0]: r[1] for r in book["汇总"].iter_rows(values_only=True) if r}
    book.close()
    header = list(results[0])
    assert header[:2] == ["Text", "result"]  # as the sheet and the app name them
    assert {r[header.index("status")] for r in results[1:]} == {"成功"}
    assert summary["工作流"] == "summarize"
    assert summary["任务状态"] == "已完成"
    assert summary["总行数"] == 5
    assert summary["成功行数"] == 5


async def test_check_config_refuses_an_unknown_locale_and_names_the_known_ones(cli: Cli) -> None:
    text = cli.config.read_text(encoding="utf-8")
    cli.config.write_text(text.replace("[daemon]\n", '[daemon]\nlocale = "fr"\n'), encoding="utf-8")
    code, _, err = await cli.run("check-config", str(cli.config))
    assert code == 2
    assert "daemon.locale: unknown locale 'fr'; known: auto, en, zh-CN" in err
    cli.config.write_text(text.replace("[daemon]\n", '[daemon]\nlocale = "zh"\n'), encoding="utf-8")
    code, out, err = await cli.run("check-config", str(cli.config))
    assert code == 0, err
    assert "OK" in out
