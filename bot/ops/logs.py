"""The daemon's logs: ``text`` for people, ``json`` (one object a line) for collectors.

The standard library's logging with our own JSON formatter, not structlog: every library
here (aiogram, slack_sdk, httpx, APScheduler, alembic) and the engine already log through
it, so one formatter on the root handler shapes all of their lines the same way, with no
second logging system to bridge and no new dependency. The batch/workflow/row fields come
from `engine.logcontext` (contextvars bound where a row's task starts).

Every line passes `Redactor`: the configured secrets (tokens, API keys, the database
password) are replaced before anything is written, whatever a library put in a message.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TextIO

from sqlalchemy.engine import make_url

from bot.config import Config
from engine.logcontext import current

FIELDS = ("batch_id", "workflow", "row")


def _fields(record: logging.LogRecord) -> dict[str, str | int]:
    """The task's bound fields, overridden by a line's own ``extra=about(...)``."""
    fields = current()
    for key in FIELDS:
        value = getattr(record, key, None)
        if value is not None:
            fields[key] = value
    return fields

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
QUIET_AT_INFO = (
    "httpx",  # one INFO line per request: thousands per batch
    "httpcore",
    "apscheduler.scheduler",  # "Added job ..." at every schedule sync
    "apscheduler.executors.default",  # "Running job ..." / "... executed successfully"
    "alembic.runtime.migration",  # "Context impl ...", "Will assume transactional DDL."
    "aiogram.event",  # "Update id=... is handled" per update
)
MIN_SECRET_CHARS = 6
"""Shorter values would blank out ordinary words; no real token is this short."""


class Redactor:
    def __init__(self, secrets: Iterable[str]) -> None:
        # longest first, so a secret containing another is replaced whole
        self._secrets = sorted({s for s in secrets if len(s) >= MIN_SECRET_CHARS}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, "***")
        return text


def config_secrets(config: Config) -> list[str]:
    """Every secret the config holds, including the password inside the database URL."""
    t, s = config.telegram, config.slack
    found: list[str] = [t.token, t.webhook_secret, s.bot_token, s.app_token, s.signing_secret]
    found += [wf.api_key for wf in config.workflows.values()]
    try:
        password = make_url(config.daemon.database_url).password
    except Exception:  # a URL SQLAlchemy cannot read fails later, with its own message
        password = None
    if password:
        found.append(str(password))
    return [str(x) for x in found if x]


class JsonFormatter(logging.Formatter):
    def __init__(self, redact: Redactor) -> None:
        super().__init__()
        self._redact = redact

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update(_fields(record))
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return self._redact(json.dumps(line, ensure_ascii=False, default=str))


class TextFormatter(logging.Formatter):
    def __init__(self, redact: Redactor) -> None:
        super().__init__(TEXT_FORMAT)
        self._redact = redact

    def formatMessage(self, record: logging.LogRecord) -> str:
        # on the message line itself, before any traceback
        text = super().formatMessage(record)
        fields = _fields(record)
        if fields:
            text += " [" + " ".join(f"{k}={v}" for k, v in fields.items()) + "]"
        return text

    def format(self, record: logging.LogRecord) -> str:
        return self._redact(super().format(record))


def configure_logging(
    log_format: str, level: str, *, secrets: Iterable[str] = (), stream: TextIO | None = None
) -> None:
    """Replace the root logger's handlers with one on stderr in ``log_format``."""
    redact = Redactor(secrets)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter(redact) if log_format == "json" else TextFormatter(redact))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    quiet = max(logging.WARNING, logging.getLevelName(level))
    for name in QUIET_AT_INFO:
        # at DEBUG the operator asked for everything
        logging.getLogger(name).setLevel(logging.NOTSET if level == "DEBUG" else quiet)
