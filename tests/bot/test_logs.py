"""Both log formats, fed known secrets from every place they come from (config tokens, API
keys, the database password read through ``database_url_env``), show none of them."""

from __future__ import annotations

import contextvars
import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.config_loader import parse_config
from bot.ops.logs import config_secrets, configure_logging
from engine.logcontext import about, bind_row

SECRETS = {
    "TG": "7012345678:AAHsecretsecretsecretsecretsecret12",
    "SLACK_BOT": "xoxb-1111-2222-secretbottoken",
    "SLACK_APP": "xapp-1-A0SECRET-1-secretapptoken",
    "DIFY_KEY": "app-secretdifykey0123456789",
    "DB_URL": "postgresql+asyncpg://batch:Pa55-w0rd-db@db.internal:5432/difybatch",
}
RAW = {
    "daemon": {"database_url_env": "DB_URL"},
    "telegram": {"enabled": True, "token_env": "TG"},
    "slack": {"enabled": True, "bot_token_env": "SLACK_BOT", "app_token_env": "SLACK_APP"},
    "workflows": {"summarize": {"base_url": "https://dify.example/v1", "api_key_env": "DIFY_KEY"}},
}
SHOWN = [SECRETS["TG"], SECRETS["TG"].split(":")[1], SECRETS["SLACK_BOT"], SECRETS["SLACK_APP"],
         SECRETS["DIFY_KEY"], "Pa55-w0rd-db"]


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)


def emit_everything() -> None:
    token = SECRETS["TG"]
    logging.getLogger("aiogram.event").warning("POST https://api.telegram.org/bot%s/getUpdates failed", token)
    logging.getLogger("httpx").warning("Authorization: Bearer %s", SECRETS["DIFY_KEY"])
    logging.getLogger("slack_sdk").error(f"token={SECRETS['SLACK_BOT']} app={SECRETS['SLACK_APP']}")
    logging.getLogger("sqlalchemy").error("cannot connect to %s", SECRETS["DB_URL"])
    logging.getLogger("engine.service").info("batch 9a8b7c completed", extra=about("9a8b7c", "summarize"))
    bind_row("7f3a2c", "summarize", 4)
    try:
        raise RuntimeError(f"bot{token} answered 401")
    except RuntimeError:
        logging.getLogger("engine.lanes.runner").exception("row failed")


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_no_secret_reaches_a_log_line(log_format: str, restore_logging: None) -> None:
    config = parse_config(RAW, SECRETS, source=Path("config.toml"))
    assert config.daemon.database_url == SECRETS["DB_URL"]
    out = io.StringIO()
    configure_logging(log_format, "INFO", secrets=config_secrets(config), stream=out)
    contextvars.Context().run(emit_everything)  # a fresh context, as each asyncio task has
    text = out.getvalue()
    assert text.count("***") >= 6
    for secret in SHOWN:
        assert secret not in text, secret
    lines = text.splitlines()
    if log_format == "json":
        records = [json.loads(line) for line in lines]
        assert len(records) == 6
        assert (records[4]["batch_id"], records[4]["workflow"]) == ("9a8b7c", "summarize")
        assert "row" not in records[4] and "batch_id" not in records[0]
        last = records[-1]
        assert (last["batch_id"], last["workflow"], last["row"]) == ("7f3a2c", "summarize", 4)
        assert last["level"] == "ERROR" and last["logger"] == "engine.lanes.runner"
        assert "RuntimeError: bot*** answered 401" in last["exception"]
    else:
        assert "row failed [batch_id=7f3a2c workflow=summarize row=4]" in text
        assert "batch 9a8b7c completed [batch_id=9a8b7c workflow=summarize]" in text


def test_database_url_env_keeps_the_password_out_of_the_file() -> None:
    config = parse_config(RAW, SECRETS)
    assert config.daemon.database_url == SECRETS["DB_URL"]
    assert "Pa55" not in repr(config.daemon)
    both = {**RAW, "daemon": {"database_url_env": "DB_URL", "database_url": "sqlite+aiosqlite:///x.db"}}
    with pytest.raises(Exception, match="set database_url or database_url_env, not both"):
        parse_config(both, SECRETS)
    with pytest.raises(Exception, match="environment variable NOPE is not set"):
        parse_config({**RAW, "daemon": {"database_url_env": "NOPE"}}, SECRETS)
