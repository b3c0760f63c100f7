"""The command line follows the usual conventions, the config file's paths follow the
config file, and check-config is strict (issue 11.5, 11.6, 11.7)."""

from __future__ import annotations

import asyncio
import json
import os
import pty
import re
import sys
from pathlib import Path

from tests.bot.cli.conftest import API_KEY_ENV, Cli, write_config
from tests.fakes.slack import FakeSlack
from tests.fakes.telegram import FakeTelegram

ESCAPE = re.compile(r"\x1b\[")


async def _done_batch(cli: Cli) -> None:
    sheet = cli.workdir / "in.csv"
    sheet.write_text("Text\na\nb\n", encoding="utf-8")
    code, _, err = await cli.run("run", str(sheet), "--workflow", "summarize")
    assert code == 0, err


async def test_version_and_options_before_or_after_the_subcommand(cli: Cli) -> None:
    code, out, _ = await cli.run("--version", config=False)
    assert code == 0 and re.fullmatch(r"dify-batch \d+\.\d+\.\d+\S*", out.strip())
    await _done_batch(cli)
    for argv in (
        ("--config", str(cli.config), "-v", "status"),
        ("status", "-v", "--config", str(cli.config)),
        ("-v", "status", "--config", str(cli.config)),
    ):
        code, out, err = await cli.run(*argv, config=False)
        assert code == 0, err
        assert "completed" in out
    code, out, err = await cli.run("check-config", "--config", str(cli.config), config=False)
    assert code == 0 and out.strip().endswith("OK"), err


async def test_every_positional_argument_has_help(cli: Cli) -> None:
    commands = ("run", "resume", "retry", "status", "pause", "cancel", "result", "template",
                "schedule", "unschedule", "check-config")
    for command in commands:
        code, out, _ = await cli.run(command, "--help", config=False)
        assert code == 0
        section = out.split("positional arguments:", 1)
        if len(section) == 1:
            continue
        lines = section[1].split("\n\n", 1)[0].strip().splitlines()
        for line in lines:
            parts = line.split(None, 1)
            assert len(parts) == 2 and parts[1].strip(), f"{command}: {line!r} has no help"


async def test_status_is_an_aligned_table_and_json_for_scripts(cli: Cli) -> None:
    await _done_batch(cli)
    await _done_batch(cli)
    code, out, _ = await cli.run("status")
    assert code == 0
    header, *rows = out.rstrip("\n").splitlines()
    assert header.split()[:3] == ["ID", "STATUS", "DONE"]
    assert len(rows) == 2
    status_col = header.index("STATUS")
    workflow_col = header.index("WORKFLOW")
    for row in rows:
        assert row[status_col:].startswith("completed")
        assert row[workflow_col:].startswith("summarize")
    assert not ESCAPE.search(out), "no colour when stdout is not a terminal"
    code, out, _ = await cli.run("status", "--json")
    batches = json.loads(out)
    assert [b["status"] for b in batches] == ["completed", "completed"]
    assert batches[0]["succeeded"] == 2 and batches[0]["results"].endswith("in-results.xlsx")


async def _on_a_terminal(cli: Cli, env: dict[str, str], *args: str) -> str:
    controller, terminal = pty.openpty()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, "--config", str(cli.config), cwd=cli.workdir, env=env,
        stdout=terminal, stderr=terminal,
    )
    os.close(terminal)
    chunks = []
    loop = asyncio.get_running_loop()
    while True:
        try:
            chunk = await loop.run_in_executor(None, os.read, controller, 4096)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    await proc.wait()
    os.close(controller)
    return b"".join(chunks).decode()


async def test_colour_on_a_terminal_unless_no_color(cli: Cli) -> None:
    await _done_batch(cli)
    env = cli.env()
    env["TERM"] = "xterm"
    assert ESCAPE.search(await _on_a_terminal(cli, env, "status"))
    env["NO_COLOR"] = "1"
    plain = await _on_a_terminal(cli, env, "status")
    assert "completed" in plain and not ESCAPE.search(plain)


async def test_relative_paths_follow_the_config_file_not_the_current_folder(cli: Cli) -> None:
    site = cli.workdir / "site"
    site.mkdir()
    config = site / "config.toml"
    config.write_text(
        cli.config.read_text(encoding="utf-8")
        .replace(f'sqlite+aiosqlite:///{cli.workdir / "cli.db"}', "sqlite+aiosqlite:///./db/site.db")
        .replace(f'data_dir = "{cli.workdir / "data"}"', 'data_dir = "uploads"'),
        encoding="utf-8",
    )
    sheet = cli.workdir / "in.csv"
    sheet.write_text("Text\na\n", encoding="utf-8")
    elsewhere = cli.workdir / "elsewhere"
    elsewhere.mkdir()
    code, _, err = await cli.run("run", str(sheet), "--workflow", "summarize", "--config", str(config),
                                 config=False, cwd=elsewhere)
    assert code == 0, err
    assert (site / "db" / "site.db").exists() and (site / "uploads").is_dir()
    assert list(elsewhere.iterdir()) == []
    code, out, _ = await cli.run("status", "--config", str(config), config=False, cwd=cli.workdir)
    assert "completed" in out
    example = Path(__file__).parents[3] / "config.example.toml"
    assert "relative to this file's folder" in example.read_text(encoding="utf-8")


async def test_check_config_refuses_empty_no_workflows_and_unknown_locale(cli: Cli) -> None:
    cli.config.write_text("# nothing yet\n", encoding="utf-8")
    code, out, err = await cli.run("check-config", str(cli.config))
    assert code == 2 and "is empty" in err and "OK" not in out
    cli.config.write_text("[daemon]\ntimezone = \"UTC\"\n", encoding="utf-8")
    code, out, err = await cli.run("check-config", str(cli.config))
    assert code == 2 and "no workflows" in err and "OK" not in out
    write_config(cli.config, cli.dify)
    text = cli.config.read_text(encoding="utf-8").replace("[daemon]\n", '[daemon]\nlocale = "xx-klingon"\n')
    cli.config.write_text(text, encoding="utf-8")
    code, out, err = await cli.run("check-config", str(cli.config))
    assert code == 2 and "unknown locale 'xx-klingon'; known: auto, en, zh-CN" in err


async def test_check_config_online_checks_the_database_and_each_chat_token(cli: Cli) -> None:
    async with FakeTelegram.running() as telegram, FakeSlack.running() as slack:
        write_config(cli.config, cli.dify, extra=[
            "[telegram]", "enabled = true", f'api_base = "{telegram.base_url}"',
            "[slack]", "enabled = true", f'api_base = "{slack.api_base}"',
        ])
        env = cli.env()
        env.update({"TELEGRAM_BOT_TOKEN": telegram.token, "SLACK_BOT_TOKEN": slack.bot_token,
                    "SLACK_APP_TOKEN": slack.app_token})
        code, out, err = await cli.run_env(env, "check-config", str(cli.config), "--online")
        assert code == 0, err
        assert "summarize: OK" in out and "database: OK" in out
        assert "telegram: OK" in out and "slack: OK" in out
        assert out.strip().endswith("OK")

        env["TELEGRAM_BOT_TOKEN"] = "42:WRONG"
        env["SLACK_BOT_TOKEN"] = "xoxb-wrong"
        code, out, err = await cli.run_env(env, "check-config", str(cli.config), "--online")
        assert code == 2
        assert "TELEGRAM_BOT_TOKEN" in err and "SLACK_BOT_TOKEN" in err
        assert "42:WRONG" not in out + err and "xoxb-wrong" not in out + err
        assert not out.strip().endswith("OK")
        assert env[API_KEY_ENV] not in out + err
