"""Configuration: TOML (tomllib) into frozen, typed objects, every problem listed at once.

Secrets never live in the file: each is named by an environment variable, read here and
nowhere else, and never printed (`Secret.__repr__` hides it).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, TypeVar

from engine.errors import ConfigError
from engine.models import AppType, ResponseMode
from engine.settings import WorkflowSettings

T = TypeVar("T")


class Secret(str):
    """A string that never shows itself in reprs, logs or tracebacks."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "Secret('***')"


_EMPTY: Secret = Secret("")


@dataclass(frozen=True, slots=True)
class DaemonConfig:
    database_url: str = "sqlite+aiosqlite:///./data/dify-batch.db"
    data_dir: Path = Path("./data")
    timezone: str = "UTC"
    http_host: str = "127.0.0.1"
    http_port: int = 8080
    locale: str = "en"
    shutdown_grace_s: float = 30.0
    misfire_grace_s: float = 3600.0
    schedule_sync_s: float = 30.0


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
    token: Secret = _EMPTY
    mode: str = "polling"
    webhook_url: str = ""
    webhook_secret: Secret = _EMPTY
    api_base: str = ""


@dataclass(frozen=True, slots=True)
class SlackConfig:
    enabled: bool = False
    mode: str = "socket"
    bot_token: Secret = _EMPTY
    app_token: Secret = _EMPTY
    signing_secret: Secret = _EMPTY
    command: str = "/difybatch"
    api_base: str = ""


@dataclass(frozen=True, slots=True)
class WorkflowConfig:
    """One Dify app: where it is, its key, who may use it, and how to run it."""

    settings: WorkflowSettings
    base_url: str
    api_key: Secret
    allow: tuple[str, ...] = ()

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


def default_config_path(environ: Mapping[str, str] | None = None) -> Path:
    """``$DIFY_BATCH_CONFIG``, then ``./config.toml``."""
    env = os.environ if environ is None else environ
    return Path(env.get("DIFY_BATCH_CONFIG") or "config.toml")


def load_config(path: Path, environ: Mapping[str, str] | None = None) -> Config:
    """Read and check a config file; raise one `ConfigError` listing every problem."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError([f"{path}: no such file (copy config.example.toml)"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{path}: cannot be read ({exc.__class__.__name__})"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{path}: not valid TOML: {exc}"]) from None
    return parse_config(raw, os.environ if environ is None else environ, source=path)


def parse_config(
    raw: Mapping[str, Any], environ: Mapping[str, str], *, source: Path | None = None
) -> Config:
    reader = _Reader(environ)
    known = {"daemon", "limits", "access", "telegram", "slack", "workflows"}
    for key in raw:
        if key not in known:
            reader.problems.append(f"unknown section [{key}]")
    config = Config(
        daemon=_daemon(reader, reader.section(raw, "daemon")),
        limits=_limits(reader, reader.section(raw, "limits")),
        access=AccessConfig(admins=reader.strings(raw.get("access", {}), "access", "admins")),
        telegram=_telegram(reader, reader.section(raw, "telegram")),
        slack=_slack(reader, reader.section(raw, "slack")),
        workflows=_workflows(reader, reader.section(raw, "workflows")),
        source=source,
    )
    if reader.problems:
        raise ConfigError(reader.problems)
    return config


class _Reader:
    """Typed look-ups that record a problem instead of raising, so all are reported."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self.environ = environ
        self.problems: list[str] = []

    def section(self, raw: Mapping[str, Any], name: str) -> Mapping[str, Any]:
        value = raw.get(name, {})
        if not isinstance(value, Mapping):
            self.problems.append(f"[{name}] must be a table")
            return {}
        return value

    def value(
        self, table: Mapping[str, Any], where: str, key: str, kind: type[T], default: T
    ) -> T:
        value = table.get(key, default)
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            self.problems.append(f"{where}.{key} must be {kind.__name__}, not {value!r}")
            return default
        return value

    def positive(
        self, table: Mapping[str, Any], where: str, key: str, kind: type[T], default: T
    ) -> T:
        value = self.value(table, where, key, kind, default)
        if isinstance(value, int | float) and value <= 0:
            self.problems.append(f"{where}.{key} must be above 0")
            return default
        return value

    def choice(
        self, table: Mapping[str, Any], where: str, key: str, options: tuple[str, ...]
    ) -> str:
        value = self.value(table, where, key, str, options[0])
        if value not in options:
            self.problems.append(f"{where}.{key} must be one of {', '.join(options)}, not {value!r}")
            return options[0]
        return value

    def strings(self, table: Any, where: str, key: str) -> tuple[str, ...]:
        value = table.get(key, []) if isinstance(table, Mapping) else []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.problems.append(f"{where}.{key} must be a list of strings")
            return ()
        return tuple(value)

    def secret(self, table: Mapping[str, Any], where: str, key: str, default_env: str) -> Secret:
        env_name = self.value(table, where, key, str, default_env)
        value = self.environ.get(env_name, "")
        if not value:
            self.problems.append(f"{where}.{key}: environment variable {env_name} is not set")
        return Secret(value)

    def unknown_keys(self, table: Mapping[str, Any], where: str, known: set[str]) -> None:
        for key in table:
            if key not in known:
                self.problems.append(f"{where}: unknown key {key!r}")


def _checked(
    reader: _Reader, table: Mapping[str, Any], where: str, build: Callable[[], T], cls: type
) -> T:
    reader.unknown_keys(table, where, {f.name for f in fields(cls)} | _EXTRA_KEYS.get(where, set()))
    return build()


_EXTRA_KEYS: dict[str, set[str]] = {
    "telegram": {"token_env", "webhook_secret_env"},
    "slack": {"bot_token_env", "app_token_env", "signing_secret_env"},
}


def _daemon(r: _Reader, t: Mapping[str, Any]) -> DaemonConfig:
    d = DaemonConfig()

    def build() -> DaemonConfig:
        timezone = r.value(t, "daemon", "timezone", str, d.timezone)
        _check_timezone(r, timezone)
        return DaemonConfig(
            database_url=r.value(t, "daemon", "database_url", str, d.database_url),
            data_dir=Path(r.value(t, "daemon", "data_dir", str, str(d.data_dir))),
            timezone=timezone,
            http_host=r.value(t, "daemon", "http_host", str, d.http_host),
            http_port=r.value(t, "daemon", "http_port", int, d.http_port),
            locale=r.value(t, "daemon", "locale", str, d.locale),
            shutdown_grace_s=r.positive(t, "daemon", "shutdown_grace_s", float, d.shutdown_grace_s),
            misfire_grace_s=r.positive(t, "daemon", "misfire_grace_s", float, d.misfire_grace_s),
            schedule_sync_s=r.positive(t, "daemon", "schedule_sync_s", float, d.schedule_sync_s),
        )

    return _checked(r, t, "daemon", build, DaemonConfig)


def _check_timezone(r: _Reader, name: str) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        r.problems.append(f"daemon.timezone: unknown time zone {name!r}")


def _limits(r: _Reader, t: Mapping[str, Any]) -> LimitsConfig:
    d = LimitsConfig()
    return _checked(
        r,
        t,
        "limits",
        lambda: LimitsConfig(
            max_rows=r.positive(t, "limits", "max_rows", int, d.max_rows),
            max_file_mb=r.positive(t, "limits", "max_file_mb", float, d.max_file_mb),
            max_unzipped_mb=r.positive(t, "limits", "max_unzipped_mb", float, d.max_unzipped_mb),
            progress_interval_s=r.positive(
                t, "limits", "progress_interval_s", float, d.progress_interval_s
            ),
        ),
        LimitsConfig,
    )


def _telegram(r: _Reader, t: Mapping[str, Any]) -> TelegramConfig:
    if not r.value(t, "telegram", "enabled", bool, False):
        return TelegramConfig()

    def build() -> TelegramConfig:
        mode = r.choice(t, "telegram", "mode", ("polling", "webhook"))
        webhook = mode == "webhook"
        return TelegramConfig(
            enabled=True,
            token=r.secret(t, "telegram", "token_env", "TELEGRAM_BOT_TOKEN"),
            mode=mode,
            webhook_url=r.value(t, "telegram", "webhook_url", str, ""),
            webhook_secret=(
                r.secret(t, "telegram", "webhook_secret_env", "TELEGRAM_WEBHOOK_SECRET")
                if webhook
                else _EMPTY
            ),
            api_base=r.value(t, "telegram", "api_base", str, ""),
        )

    config = _checked(r, t, "telegram", build, TelegramConfig)
    if config.mode == "webhook" and not config.webhook_url:
        r.problems.append("telegram.webhook_url is required when mode = \"webhook\"")
    return config


def _slack(r: _Reader, t: Mapping[str, Any]) -> SlackConfig:
    if not r.value(t, "slack", "enabled", bool, False):
        return SlackConfig()

    def build() -> SlackConfig:
        mode = r.choice(t, "slack", "mode", ("socket", "http"))
        socket = mode == "socket"
        command = r.value(t, "slack", "command", str, "/difybatch")
        if not command.startswith("/"):
            r.problems.append(f"slack.command must start with '/', not {command!r}")
        return SlackConfig(
            enabled=True,
            mode=mode,
            bot_token=r.secret(t, "slack", "bot_token_env", "SLACK_BOT_TOKEN"),
            app_token=(
                r.secret(t, "slack", "app_token_env", "SLACK_APP_TOKEN") if socket else _EMPTY
            ),
            signing_secret=(
                _EMPTY
                if socket
                else r.secret(t, "slack", "signing_secret_env", "SLACK_SIGNING_SECRET")
            ),
            command=command,
            api_base=r.value(t, "slack", "api_base", str, ""),
        )

    return _checked(r, t, "slack", build, SlackConfig)


_WORKFLOW_KEYS = {
    "base_url",
    "api_key_env",
    "app_type",
    "response_mode",
    "concurrency",
    "requests_per_minute",
    "timeout_s",
    "max_attempts",
    "backoff_base_s",
    "backoff_max_s",
    "overload_pause_s",
    "overload_give_up_s",
    "retry_failed_runs",
    "allow",
}


def _workflows(r: _Reader, table: Mapping[str, Any]) -> dict[str, WorkflowConfig]:
    workflows: dict[str, WorkflowConfig] = {}
    for name, t in table.items():
        where = f"workflows.{name}"
        if not isinstance(t, Mapping):
            r.problems.append(f"[{where}] must be a table")
            continue
        r.unknown_keys(t, where, _WORKFLOW_KEYS)
        workflows[name] = _workflow(r, name, where, t)
    return workflows


def _workflow(r: _Reader, name: str, where: str, t: Mapping[str, Any]) -> WorkflowConfig:
    d = WorkflowSettings(name=name)
    base_url = r.value(t, where, "base_url", str, "")
    if not base_url.startswith(("http://", "https://")):
        r.problems.append(f"{where}.base_url must be an http(s) URL ending at /v1")
    if "api_key_env" not in t:
        r.problems.append(f"{where}.api_key_env is required (the name of an environment variable)")
    rpm = r.value(t, where, "requests_per_minute", int, 0)
    if rpm < 0:
        r.problems.append(f"{where}.requests_per_minute must be 0 (no cap) or more")
    settings = WorkflowSettings(
        name=name,
        app_type=AppType(r.choice(t, where, "app_type", tuple(a.value for a in AppType))),
        response_mode=ResponseMode(
            r.choice(t, where, "response_mode", tuple(m.value for m in ResponseMode))
        ),
        concurrency=r.positive(t, where, "concurrency", int, d.concurrency),
        requests_per_minute=max(rpm, 0),
        timeout_s=r.positive(t, where, "timeout_s", float, d.timeout_s),
        max_attempts=r.positive(t, where, "max_attempts", int, d.max_attempts),
        backoff_base_s=r.positive(t, where, "backoff_base_s", float, d.backoff_base_s),
        backoff_max_s=r.positive(t, where, "backoff_max_s", float, d.backoff_max_s),
        overload_pause_s=r.positive(t, where, "overload_pause_s", float, d.overload_pause_s),
        overload_give_up_s=r.positive(t, where, "overload_give_up_s", float, d.overload_give_up_s),
        retry_failed_runs=r.value(t, where, "retry_failed_runs", bool, d.retry_failed_runs),
    )
    api_key = r.secret(t, where, "api_key_env", "") if "api_key_env" in t else _EMPTY
    return WorkflowConfig(
        settings=settings,
        base_url=base_url.rstrip("/"),
        api_key=api_key,
        allow=r.strings(t, where, "allow"),
    )
