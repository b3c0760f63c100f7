"""`dify-batch run`, `template`, `status` and `check-config` as a person uses them."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from openpyxl import load_workbook

from tests.bot.cli.conftest import Cli, write_config
from tests.fakes.dify_script import Plan, failed_run
from tests.support import sheet_bytes


def results(path: Path) -> list[dict[str, object]]:
    book = load_workbook(path, read_only=True)
    sheet = book.worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    book.close()
    header = [str(h) for h in rows[0]]
    return [dict(zip(header, row, strict=False)) for row in rows[1:]]


async def test_run_writes_results_beside_the_sheet_and_exits_0(cli: Cli) -> None:
    """Every row succeeds: results beside the input, path on stdout, summary on stderr."""
    sheet = cli.workdir / "products.xlsx"
    sheet.write_bytes(sheet_bytes(["Text"], [[f"item {i}"] for i in range(12)] + [["保温杯"]]))
    code, out, err = await cli.run("run", str(sheet), "--workflow", "summarize")
    assert code == 0, err
    output = cli.workdir / "products-results.xlsx"
    assert out.strip() == str(output)
    assert "13 ok, 0 failed of 13 rows" in err
    got = results(output)
    assert [r["Text"] for r in got] == [f"item {i}" for i in range(12)] + ["保温杯"]
    assert {r["result"] for r in got} == {f"{r['Text']} ✓" for r in got}
    assert {r["status"] for r in got} == {"succeeded"}
    assert cli.dify.counters.users == {f"cli:{_login()}": 13}


async def test_a_failed_row_exits_1_with_difys_message(cli: Cli) -> None:
    cli.dify.script = {"bad row": Plan(fault=failed_run("Node LLM failed: context too long"))}
    sheet = cli.workdir / "in.csv"
    sheet.write_text("Text\ngood row\nbad row\n", encoding="utf-8")
    code, _, err = await cli.run("run", str(sheet), "--workflow", "summarize", "--output", "out.xlsx")
    assert code == 1, err
    assert "1 ok, 1 failed of 2 rows" in err
    by_text = {r["Text"]: r for r in results(cli.workdir / "out.xlsx")}
    assert by_text["bad row"]["status"] == "failed"
    assert by_text["bad row"]["error"] == "Node LLM failed: context too long"


async def test_a_sheet_with_bad_rows_exits_2_and_writes_nothing(cli: Cli) -> None:
    sheet = cli.workdir / "in.csv"
    sheet.write_text("Text\nfine\n\n" + "x" * 300 + "\n", encoding="utf-8")
    code, out, err = await cli.run("run", str(sheet), "--workflow", "summarize")
    assert code == 2
    assert out == ""
    assert "Traceback" not in err
    assert "row 4" in err and "256" in err
    assert not (cli.workdir / "in-results.xlsx").exists()
    assert cli.dify.counters.runs_by_key == {}


async def test_not_a_workbook_and_a_missing_file_exit_2(cli: Cli) -> None:
    fake = cli.workdir / "notes.xlsx"
    fake.write_bytes(b"%PDF-1.7 not a sheet")
    code, _, err = await cli.run("run", str(fake), "--workflow", "summarize")
    assert code == 2 and "Traceback" not in err and "PDF" in err
    code, _, err = await cli.run("run", "nope.xlsx", "--workflow", "summarize")
    assert code == 2 and "no such file" in err


async def test_an_unknown_workflow_and_a_broken_config_exit_2_without_secrets(cli: Cli) -> None:
    sheet = cli.workdir / "in.csv"
    sheet.write_text("Text\na\n", encoding="utf-8")
    code, _, err = await cli.run("run", str(sheet), "--workflow", "nope")
    assert code == 2 and "no workflow named 'nope'" in err and "summarize" in err
    write_config(cli.config, cli.dify, concurrency=0, extra=['bogus_key = 1'])
    code, _, err = await cli.run("check-config", str(cli.config))
    assert code == 2
    assert "concurrency must be above 0" in err and "unknown key 'bogus_key'" in err
    assert cli.dify.api_key not in err


async def test_check_config_says_ok_and_never_prints_the_key(cli: Cli) -> None:
    code, out, err = await cli.run("check-config", str(cli.config))
    assert code == 0, err
    assert "OK" in out and "summarize" in out
    assert cli.dify.api_key not in out + err


async def test_template_then_status(cli: Cli) -> None:
    code, out, err = await cli.run("template", "summarize")
    assert code == 0, err
    template = cli.workdir / "summarize-template.xlsx"
    assert out.strip() == str(template.relative_to(cli.workdir))
    assert load_workbook(template).worksheets[0].cell(1, 1).value == "Text"
    sheet = cli.workdir / "in.csv"
    sheet.write_text("Text\na\nb\n", encoding="utf-8")
    code, _, err = await cli.run("run", str(sheet), "--workflow", "summarize")
    assert code == 0, err
    code, out, _ = await cli.run("status")
    assert code == 0
    assert "completed" in out and "2/2" in out and "in.csv" in out


async def test_concurrency_flag_caps_rows_in_flight(cli: Cli) -> None:
    cli.dify.latency_s = 0.1
    sheet = cli.workdir / "in.csv"
    sheet.write_text("Text\n" + "\n".join(f"r{i}" for i in range(20)) + "\n", encoding="utf-8")
    code, _, err = await cli.run("run", str(sheet), "--workflow", "summarize", "--concurrency", "3")
    assert code == 0, err
    assert cli.dify.counters.peak_in_flight <= 3


def _login() -> str:
    import getpass

    return getpass.getuser()


async def test_check_config_online_proves_the_key_and_names_the_inputs(cli: Cli) -> None:
    code, out, err = await cli.run("check-config", str(cli.config), "--online")
    assert code == 0, err
    assert "summarize: OK, workflow app; inputs: Text" in out
    text = cli.config.read_text(encoding="utf-8").replace(
        'api_key_env = "DIFY_TEST_KEY"', 'api_key_env = "WRONG_KEY"'
    )
    cli.config.write_text(text, encoding="utf-8")
    cli_env = cli.env()
    cli_env["WRONG_KEY"] = "app-not-the-right-key-000000"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "check-config", str(cli.config), "--online",
        cwd=cli.workdir, env=cli_env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out_b, err_b = await proc.communicate()
    assert proc.returncode == 2
    assert "Access token is invalid" in err_b.decode()
    assert "app-not-the-right-key" not in out_b.decode() + err_b.decode()
