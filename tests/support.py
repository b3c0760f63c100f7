"""Helpers shared by the end-to-end tests: a daemon `Config` pointed at the fakes, sheets
made in memory, and an in-process daemon that can be stopped and started again."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from openpyxl import Workbook

from bot.config import (
    AccessConfig,
    Config,
    DaemonConfig,
    LimitsConfig,
    Secret,
    SlackConfig,
    TelegramConfig,
    WorkflowConfig,
)
from bot.daemon import Daemon
from engine.settings import WorkflowSettings


def make_config(
    tmp_path: Path,
    *,
    dify: Any,
    workflow: str = "summarize",
    telegram: Any | None = None,
    slack: Any | None = None,
    slack_mode: str = "socket",
    admins: Sequence[str] = (),
    allow: Sequence[str] = ("telegram:*", "slack:*"),
    progress_interval_s: float = 0.2,
    shutdown_grace_s: float = 2.0,
    **settings: Any,
) -> Config:
    """A config whose one workflow is ``dify`` (a FakeDify) and whose chats are the fakes."""
    defaults: dict[str, Any] = {
        "concurrency": 4, "timeout_s": 10.0, "backoff_base_s": 0.01, "backoff_max_s": 0.05,
        "overload_pause_s": 0.05,
    }
    wf = WorkflowConfig(
        settings=WorkflowSettings(name=workflow, **{**defaults, **settings}),
        base_url=dify.base_url,
        api_key=Secret(dify.api_key),
        allow=tuple(allow),
    )
    tg = TelegramConfig()
    if telegram is not None:
        tg = TelegramConfig(enabled=True, token=Secret(telegram.token), api_base=telegram.base_url)
    sl = SlackConfig()
    if slack is not None:
        sl = SlackConfig(
            enabled=True, mode=slack_mode, bot_token=Secret(slack.bot_token),
            app_token=Secret(slack.app_token), signing_secret=Secret(slack.signing_secret),
            api_base=slack.api_base,
        )
    return Config(
        daemon=DaemonConfig(
            database_url=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
            data_dir=tmp_path / "data",
            http_port=0,
            shutdown_grace_s=shutdown_grace_s,
        ),
        limits=LimitsConfig(progress_interval_s=progress_interval_s),
        access=AccessConfig(admins=tuple(admins)),
        telegram=tg,
        slack=sl,
        workflows={workflow: wf},
    )


def sheet_bytes(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    """An .xlsx file with one sheet: the header row, then the rows."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@asynccontextmanager
async def running_daemon(config: Config, **kwargs: Any) -> AsyncIterator[Daemon]:
    """Start the real daemon in this event loop; stop it gracefully on exit."""
    daemon = Daemon(config, **kwargs)
    stop = asyncio.Event()
    task = asyncio.create_task(daemon.run(stop))
    ready = asyncio.create_task(daemon.ready.wait())
    done, _ = await asyncio.wait({task, ready}, timeout=20, return_when=asyncio.FIRST_COMPLETED)
    if task in done:
        ready.cancel()
        task.result()  # raises what stopped the start
    if ready not in done:
        ready.cancel()
        raise TimeoutError("daemon did not become ready")
    try:
        yield daemon
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=30)
