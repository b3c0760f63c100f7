"""`dify-batch serve` as an operator meets it: a bad Telegram token is exit 2 with one clear
line, logs are JSON or text with batch fields and no secret, and the noisy libraries are
quiet at INFO."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import sys
from collections.abc import AsyncIterator

import pytest

from tests.bot.cli.conftest import Cli, write_config
from tests.bot.telegram import TOKEN, texts
from tests.fakes.dify_script import Plan, server_error
from tests.fakes.telegram import FakeTelegram

TOKEN_ENV = "DIFY_BATCH_TEST_TG_TOKEN"


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram.running(TOKEN) as fake:
        yield fake


def serve_config(cli: Cli, tg: FakeTelegram, *daemon: str) -> None:
    write_config(cli.config, cli.dify, extra=[
        'allow = ["telegram:*"]',
        "[telegram]", "enabled = true", f'token_env = "{TOKEN_ENV}"', f'api_base = "{tg.base_url}"',
    ])
    text = cli.config.read_text(encoding="utf-8")
    lines = ["http_port = 0", "schedule_sync_s = 0.3", "shutdown_grace_s = 2", *daemon]
    cli.config.write_text(text.replace("[daemon]", "[daemon]\n" + "\n".join(lines)), encoding="utf-8")


async def serve(cli: Cli, token: str) -> asyncio.subprocess.Process:
    env = {**cli.env(), TOKEN_ENV: token, "SLACK_BOT_TOKEN": "xoxb-unused"}
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "serve", "--config", str(cli.config), cwd=cli.workdir, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("not-a-token-value", "telegram: the bot token (telegram.token_env) is malformed"),
        ("7012345678:AAHrejectedrejectedrejectedrejected1", "Telegram rejected the bot token at getMe (401"),
    ],
)
async def test_a_bad_telegram_token_is_exit_2_with_one_clear_line(
    cli: Cli, tg: FakeTelegram, token: str, expected: str
) -> None:
    serve_config(cli, tg)
    proc = await serve(cli, token)
    _, err = await asyncio.wait_for(proc.communicate(), 30)
    log = err.decode()
    assert proc.returncode == 2, log
    assert expected in log
    assert "Traceback" not in log
    assert token not in log


async def run_a_batch(cli: Cli, tg: FakeTelegram, *daemon: str) -> tuple[str, str]:
    """Serve, run a 4-row sheet from Telegram (one row fails once), stop; the log and the batch id."""
    cli.dify.script = {"row 2": [Plan(fault=server_error(500))]}  # Dify itself: costs an attempt
    sheet = cli.workdir / "s.csv"
    sheet.write_text("Text\nscheduled\n", encoding="utf-8")
    # a schedule for the daemon to sync (APScheduler's "Added job" line, each time)
    when = "every day 09:00"
    code, _, err = await cli.run("schedule", str(sheet), "--workflow", "summarize", "--when", when)
    assert code == 0, err
    serve_config(cli, tg, *daemon)
    proc = await serve(cli, TOKEN)
    assert proc.stderr is not None and proc.stdout is not None
    # drained as it comes: at DEBUG the log outgrows a pipe's buffer, and a daemon blocked
    # on a full pipe would never finish the batch
    err_task = asyncio.ensure_future(proc.stderr.read())
    out_task = asyncio.ensure_future(proc.stdout.read())
    try:
        alice = tg.user("Alice")
        tg.upload_document(alice, texts(4), "items.xlsx", caption="/run summarize")
        results = await tg.wait_for_message(alice.id, "results of", document=True, timeout=30)
        assert results is not None
        await asyncio.sleep(1.0)  # a few schedule syncs ("Added job" each time if not quiet)
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.wait(), 30)
        err_bytes = await asyncio.wait_for(err_task, 10)
        await out_task
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0
    log = err_bytes.decode()
    found = re.search(r"batch ([0-9a-f]{6})", results.caption or "")
    assert found, results.caption
    return log, found.group(1)


def assert_no_secret(cli: Cli, log: str) -> None:
    for secret in (TOKEN, TOKEN.split(":", 1)[1], cli.dify.api_key):
        assert secret not in log, secret


async def test_json_logs_are_one_object_a_line_with_batch_fields_and_no_secret(
    cli: Cli, tg: FakeTelegram
) -> None:
    # DEBUG lets every library speak (aiohttp, aiogram, httpx): the secrets must still not show
    log, batch_id = await run_a_batch(cli, tg, 'log_format = "json"', 'log_level = "DEBUG"')
    lines = [json.loads(line) for line in log.splitlines() if line.strip()]
    assert lines and all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    retried = [line for line in lines if "attempt 1 failed" in line["message"]]
    assert retried, "the 500 on row 2 is logged"
    assert retried[0]["batch_id"] == batch_id and retried[0]["workflow"] == "summarize"
    assert retried[0]["row"] == 1
    assert_no_secret(cli, log)


async def test_text_logs_at_info_carry_batch_fields_and_no_library_noise(cli: Cli, tg: FakeTelegram) -> None:
    log, batch_id = await run_a_batch(cli, tg, 'log_format = "text"')
    retried = [line for line in log.splitlines() if "attempt 1 failed" in line]
    assert retried and retried[0].endswith(f"[batch_id={batch_id} workflow=summarize row=1]")
    assert "HTTP Request:" not in log  # httpx, once a request
    assert "Added job" not in log and "Running job" not in log  # APScheduler, once a sync
    assert "daemon ready on" in log
    assert_no_secret(cli, log)
