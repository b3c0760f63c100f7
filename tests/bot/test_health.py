"""/healthz tells the truth: 503 with a reason while the database cannot be reached or a chat
adapter cannot work; /readyz says when the start is over; a rejected token stops the start."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.config import Secret
from bot.daemon import Daemon
from bot.ops.health import Health
from engine.errors import ConfigError
from tests.bot.slack import fakes
from tests.bot.telegram import TOKEN, world
from tests.fakes.dify import FakeDify
from tests.fakes.telegram import FakeTelegram
from tests.support import make_config, running_daemon


async def get(port: int, path: str) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}{path}") as answer:
        return answer.status, await answer.json()


async def until(port: int, path: str, status: int, timeout: float = 10.0) -> Any:
    async def poll() -> Any:
        while True:
            got, body = await get(port, path)
            if got == status:
                return body
            await asyncio.sleep(0.05)

    return await asyncio.wait_for(poll(), timeout)


@contextlib.asynccontextmanager
async def own_role(admin_url: str) -> AsyncIterator[tuple[str, Callable[[str], Awaitable[None]]]]:
    """A PostgreSQL role with a schema of its name (so its search_path finds it): the daemon's
    database URL, and a way to run admin SQL such as taking its LOGIN away."""
    role = f"ops_{uuid.uuid4().hex[:10]}"
    admin = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")

    async def sql(statement: str) -> None:
        async with admin.connect() as conn:
            await conn.execute(text(statement))

    await sql(f"CREATE ROLE {role} LOGIN")
    await sql(f"CREATE SCHEMA {role} AUTHORIZATION {role}")
    try:
        yield admin_url.replace("//postgres@", f"//{role}@").replace("//root@", f"//{role}@"), sql
    finally:
        await sql(f"ALTER ROLE {role} LOGIN")
        await sql(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{role}'")
        await sql(f"DROP SCHEMA {role} CASCADE")
        await sql(f"DROP ROLE {role}")
        await admin.dispose()


async def test_healthz_is_503_while_the_database_cannot_be_reached(
    tmp_path: Path, pg_available: str | None
) -> None:
    if pg_available is None:
        pytest.skip("PostgreSQL not reachable (set DIFY_BATCH_TEST_PG)")
    async with own_role(pg_available) as (url, sql):
        on_pg = lambda c: dataclasses.replace(c, daemon=dataclasses.replace(c.daemon, database_url=url))  # noqa: E731
        async with world(tmp_path, adjust=on_pg) as w:
            port = w.daemon.http_port
            assert await get(port, "/healthz") == (200, {"ok": True})
            assert await get(port, "/readyz") == (200, {"ready": True})
            # the server throws the daemon out and lets it back in no more
            role = url.split("//", 1)[1].split("@", 1)[0]
            await sql(f"ALTER ROLE {role} NOLOGIN")
            await sql(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{role}'")
            body = await until(port, "/healthz", 503)
            assert body["ok"] is False
            [problem] = body["problems"]
            assert problem.startswith("database: unreachable (") and role not in problem
            async with aiohttp.ClientSession() as http, \
                    http.get(f"http://127.0.0.1:{port}/metrics") as answer:
                assert answer.status == 200  # still scraped, without the database's gauge update
                assert "difybatch_rows_total" in await answer.text()
            await sql(f"ALTER ROLE {role} LOGIN")
            assert await until(port, "/healthz", 200) == {"ok": True}


async def test_healthz_is_503_at_once_when_telegram_starts_rejecting_the_token(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        port = w.daemon.http_port
        assert await get(port, "/healthz") == (200, {"ok": True})
        w.tg.token = "7012345678:AAHrevokedrevokedrevokedrevoked12345"  # revoked in @BotFather
        w.tg.send_text(w.tg.user("Ann"), "/help")  # ends the long poll under way
        body = await until(port, "/healthz", 503)
        assert body["problems"][0].startswith("telegram: Telegram rejects the bot token (401)")
        assert TOKEN not in str(body)
        w.tg.token = TOKEN
        w.tg.send_text(w.tg.user("Ann"), "/help")  # a poll that gets through says so at once
        await until(port, "/healthz", 200, timeout=20)


def test_a_part_counts_as_down_only_after_its_grace() -> None:
    now = [100.0]
    health = Health(clock=lambda: now[0])
    health.down("slack", "Socket Mode disconnected")
    now[0] += 59
    health.down("slack", "Socket Mode disconnected")  # still down: keeps the first time
    assert health.problems() == []
    now[0] += 1
    assert health.problems() == ["slack: Socket Mode disconnected (for 60 s)"]
    health.up("slack")
    assert health.problems() == []
    health.down("telegram", "token rejected", grace_s=0)
    assert health.problems() == ["telegram: token rejected (for 0 s)"]


async def test_readyz_is_503_until_the_start_is_over(tmp_path: Path) -> None:
    # Telegram answers getMe with 502s for a while: the HTTP server is up, the start is not over
    async with FakeDify.running(latency_s=0.02) as dify, FakeTelegram.running(TOKEN) as tg:
        tg.server_error("getMe", 502, times=3)
        daemon = Daemon(make_config(tmp_path, dify=dify, telegram=tg))
        stop = asyncio.Event()
        task = asyncio.create_task(daemon.run(stop))
        try:
            while daemon.http_port == 0:
                await asyncio.sleep(0.01)
            assert await until(daemon.http_port, "/readyz", 503) == {"ready": False, "reason": "starting"}
            await until(daemon.http_port, "/readyz", 200, timeout=20)
            assert daemon.ready.is_set()
        finally:
            stop.set()
            await asyncio.wait_for(task, 30)


@pytest.mark.parametrize(
    ("token", "message"),
    [
        ("not-a-token", "telegram: the bot token (telegram.token_env) is malformed"),
        ("7012345678:AAHwrongwrongwrongwrongwrongwrong1234",
         "telegram: Telegram rejected the bot token at getMe (401 Unauthorized)"),
    ],
)
async def test_a_bad_telegram_token_ends_the_start_with_a_config_error(
    tmp_path: Path, token: str, message: str
) -> None:
    async with FakeDify.running() as dify, FakeTelegram.running(TOKEN) as tg:
        config = make_config(tmp_path, dify=dify, telegram=tg)
        bad = dataclasses.replace(config.telegram, token=Secret(token))
        config = dataclasses.replace(config, telegram=bad)
        with pytest.raises(ConfigError) as raised:
            async with running_daemon(config):
                pass
        assert raised.value.problems[0].startswith(message)


async def test_healthz_is_503_when_slack_socket_mode_stays_down_past_a_minute(tmp_path: Path) -> None:
    now = [1000.0]
    health = Health(clock=lambda: now[0])
    async with fakes() as (slack, dify):
        config = make_config(tmp_path, dify=dify, slack=slack)
        async with running_daemon(config, health=health) as daemon:
            await slack.wait_connected(1)
            port = daemon.http_port
            assert await get(port, "/healthz") == (200, {"ok": True})
            slack.fail("apps.connections.open", "internal_error", times=1000)  # Slack keeps refusing
            await slack.drop_connections()
            # the adapter notices within its watch interval; the outage is not an alarm yet
            await slack.wait_for(lambda: health.down_since("slack") is not None, timeout=15)
            assert await get(port, "/healthz") == (200, {"ok": True})
            now[0] += 61
            body = await until(port, "/healthz", 503)
            assert body["problems"] == ["slack: Socket Mode disconnected (for 61 s)"]


@pytest.mark.parametrize("which", ["bot_token", "app_token"])
async def test_a_slack_token_slack_rejects_ends_the_start_with_a_config_error(
    tmp_path: Path, which: str
) -> None:
    async with fakes() as (slack, dify):
        config = make_config(tmp_path, dify=dify, slack=slack)
        wrong = "xoxb-9-9-wrongtoken" if which == "bot_token" else "xapp-1-A0WRONG-1-wrong"
        bad = dataclasses.replace(config.slack, **{which: Secret(wrong)})
        config = dataclasses.replace(config, slack=bad)
        with pytest.raises(ConfigError) as raised:
            async with running_daemon(config):
                pass
        key = "slack.bot_token_env" if which == "bot_token" else "slack.app_token_env"
        assert raised.value.problems == (f"slack: Slack rejected the token named by {key} (invalid_auth)",)
