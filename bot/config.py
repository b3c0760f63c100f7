"""Configuration as frozen, typed objects; `bot.config_loader` builds them from TOML.

Secrets never live in the file: each is named by an environment variable, read by
`bot.config_reader` and nowhere else, and never printed (`Secret.__repr__` hides it).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from engine.models import SheetLimits
from engine.settings import WorkflowSettings

_MB = 1024 * 1024


class Secret(str):
    """A string that never shows itself in reprs, logs or tracebacks."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "Secret('***')"


NO_SECRET: Secret = Secret("")
"""What a secret is when its platform or mode does not use it."""


@dataclass(frozen=True, slots=True)
class DaemonConfig:
    database_url: str = "sqlite+aiosqlite:///./data/dify-batch.db"
    data_dir: Path = Path("./data")
    timezone: str = "UTC"
    http_host: str = "127.0.0.1"
    http_port: int = 8080
    locale: str = "auto"
    """"auto": each person in their platform's language, else English; or one locale for all."""
    shutdown_grace_s: float = 30.0
    misfire_grace_s: float = 3600.0
    schedule_sync_s: float = 30.0
    # operations (README "Running it in production")
    log_format: str = "text"
    log_level: str = "INFO"
    keep_days: int = 30


@dataclass(frozen=True, slots=True)
class LimitsConfig:
    max_rows: int = 10_000
    max_file_mb: float = 20.0
    max_unzipped_mb: float = 200.0
    progress_interval_s: float = 2.0


@dataclass(frozen=True, slots=True)
class AccessConfig:
    admins: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TelegramConfig:
    enabled: bool = False
    token: Secret = NO_SECRET
    mode: str = "polling"
    webhook_url: str = ""
    webhook_secret: Secret = NO_SECRET
    api_base: str = ""
    token_env: str = "TELEGRAM_BOT_TOKEN"


@dataclass(frozen=True, slots=True)
class SlackConfig:
    enabled: bool = False
    mode: str = "socket"
    bot_token: Secret = NO_SECRET
    app_token: Secret = NO_SECRET
    signing_secret: Secret = NO_SECRET
    command: str = "/difybatch"
    api_base: str = ""
    bot_token_env: str = "SLACK_BOT_TOKEN"


@dataclass(frozen=True, slots=True)
class WorkflowConfig:
    """One Dify app: where it is, its key, who may use it, and how to run it."""

    settings: WorkflowSettings
    base_url: str
    api_key: Secret
    allow: tuple[str, ...] = ()
    api_key_env: str = ""
    """The environment variable the key came from, named in "wrong key" messages."""

    @property
    def name(self) -> str:
        return self.settings.name


@dataclass(frozen=True, slots=True)
class Config:
    daemon: DaemonConfig = field(default_factory=DaemonConfig)
    limits: LimitsConfig = field(default_factory=LimitsConfig)
    access: AccessConfig = field(default_factory=AccessConfig)
    telegram: TelegramConfig = field(default_factory=TelegramConfig)
    slack: SlackConfig = field(default_factory=SlackConfig)
    workflows: Mapping[str, WorkflowConfig] = field(default_factory=dict)
    source: Path | None = None


# Here rather than in bot.app: `dify-batch run` needs them before anything heavy is imported
# (the sheet starts parsing first, bot.cli.batches).


def sheet_limits(config: Config) -> SheetLimits:
    return SheetLimits(
        max_rows=config.limits.max_rows,
        max_file_bytes=int(config.limits.max_file_mb * _MB),
        max_unzipped_bytes=int(config.limits.max_unzipped_mb * _MB),
    )


def with_concurrency(config: Config, workflow: str, concurrency: int) -> Config:
    """The config with one workflow's concurrency replaced (the CLI's --concurrency)."""
    wf = config.workflows[workflow]
    new_wf = dataclasses.replace(
        wf, settings=dataclasses.replace(wf.settings, concurrency=concurrency)
    )
    return dataclasses.replace(config, workflows={**config.workflows, workflow: new_wf})
