"""Slack libraries' noise as one clear line each: bolt's "token will be unused" warning (set
off by SLACK_BOT_TOKEN in the environment) and slack_sdk's traceback per failed reconnect."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tests.bot.slack import slack_desk


async def test_token_warning_and_failed_socket_connections_are_one_line_each(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-as-deployed-the-env-holds-it")
    caplog.set_level(logging.DEBUG, logger="bot.slack.bolt")
    async with slack_desk(tmp_path) as d:
        slack = d.slack
        slack.fail("apps.connections.open", "internal_error", times=1)
        await slack.drop_connections()
        await slack.wait_for(
            lambda: any("Socket Mode connection failed" in r.getMessage() for r in caplog.records), timeout=15
        )
    bolt = [r for r in caplog.records if r.name == "bot.slack.bolt"]
    assert not [r for r in bolt if "`token` will be unused" in r.getMessage()]
    assert [r.levelname for r in bolt if "using the bot token named by" in r.getMessage()] == ["DEBUG"]
    socket = [r for r in bolt if "socket_mode" in r.pathname and r.levelno >= logging.WARNING]
    assert socket
    for record in socket:
        message = record.getMessage()
        assert message.startswith("slack: Socket Mode connection failed ("), message
        assert record.exc_info is None and "\n" not in message and "http" not in message


class _RefusedTickets(set[str]):
    """Socket Mode URLs whose websocket handshake the fake refuses (401), as after a revoked app."""

    def add(self, ticket: str) -> None:
        pass


async def test_a_failed_socket_handshake_is_one_line_without_a_traceback(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.slack.bolt")
    async with slack_desk(tmp_path) as d:
        d.slack.delivery.tickets = _RefusedTickets()
        await d.slack.drop_connections()

        def failed() -> list[logging.LogRecord]:
            return [r for r in caplog.records if "Socket Mode connection failed" in r.getMessage()]

        await d.slack.wait_for(lambda: failed(), timeout=15)
    [first, *_] = failed()
    assert first.getMessage() == (
        "slack: Socket Mode connection failed (WSServerHandshakeError); slack_sdk retries by itself"
    )
    assert first.exc_info is None and first.exc_text is None
    assert not [r for r in caplog.records if r.name == "bot.slack.bolt" and r.exc_info]
