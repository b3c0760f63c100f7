"""Reading a config file: TOML (tomllib) into `bot.config` objects, every problem listed at once."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import fields, replace
from pathlib import Path
from typing import Any, TypeVar

from bot.config import (
    NO_SECRET,
    AccessConfig,
    Config,
    DaemonConfig,
    LimitsConfig,
    SlackConfig,
    TelegramConfig,
    WorkflowConfig,
)
from bot.config_pins import PIN_KEYS, context_map, pinned_version
from bot.config_reader import ConfigReader
from bot.config_sentences import config_phrase
from engine.errors import ConfigError
from engine.models import AppType, ResponseMode
from engine.settings import WorkflowSettings

T = TypeVar("T")


def default_config_path(environ: Mapping[str, str] | None = None) -> Path:
    """``$DIFY_BATCH_CONFIG``, then ``./config.toml``."""
    env = os.environ if environ is None else environ
    return Path(env.get("DIFY_BATCH_CONFIG") or "config.toml")


def load_config(path: Path, environ: Mapping[str, str] | None = None) -> Config:
    """Read and check a config file; raise one `ConfigError` listing every problem."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError([config_phrase("no_file", path=path)]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([config_phrase("unreadable", path=path, kind=exc.__class__.__name__)]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([config_phrase("not_toml", path=path, detail=exc)]) from None
    return parse_config(raw, os.environ if environ is None else environ, source=path)


def _resolve_paths(daemon: DaemonConfig, base: Path) -> DaemonConfig:
    """``data_dir`` and a SQLite file given relative to the config file's folder, not the
    current one: `dify-batch status --config /srv/x/config.toml` from anywhere finds /srv/x's data."""
    data_dir = daemon.data_dir if daemon.data_dir.is_absolute() else base / daemon.data_dir
    return replace(daemon, data_dir=data_dir, database_url=_resolved_sqlite(daemon.database_url, base))


def _resolved_sqlite(url: str, base: Path) -> str:
    prefix = "sqlite+aiosqlite:///"
    if not url.startswith(prefix):
        return url
    path, sep, query = url[len(prefix):].partition("?")
    if not path or path == ":memory:" or path.startswith("/") or Path(path).is_absolute():
        return url
    return f"{prefix}{base / path}{sep}{query}"


_DATABASE_SCHEMES = ("sqlite+aiosqlite://", "postgresql+asyncpg://")


def _check_database_url(r: ConfigReader, url: str) -> None:
    if url.startswith(_DATABASE_SCHEMES):
        return
    scheme = url.partition("://")[0] or url
    if scheme in ("postgresql", "postgres", "postgresql+psycopg2", "postgresql+psycopg"):
        # the URL may come from database_url_env with a password in it: never echo that
        hint = "postgresql+asyncpg://" + re.sub(r":[^:@/]*@", ":***@", url.partition("://")[2], count=1)
        r.problems.append(config_phrase("asyncpg", hint=hint))
    elif scheme.startswith("sqlite"):
        r.problems.append(config_phrase("sqlite_url"))
    else:
        r.problems.append(config_phrase("unsupported_database", scheme=scheme))


def parse_config(
    raw: Mapping[str, Any], environ: Mapping[str, str], *, source: Path | None = None
) -> Config:
    reader = ConfigReader(environ)
    known = {"daemon", "limits", "access", "telegram", "slack", "workflows"}
    for key in raw:
        if key not in known:
            reader.problems.append(config_phrase("unknown_section", name=key))
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
    if source is not None:
        config = replace(config, daemon=_resolve_paths(config.daemon, source.resolve().parent))
    return config


def _checked(
    reader: ConfigReader, table: Mapping[str, Any], where: str, build: Callable[[], T], cls: type
) -> T:
    reader.unknown_keys(table, where, {f.name for f in fields(cls)} | _EXTRA_KEYS.get(where, set()))
    return build()


_EXTRA_KEYS: dict[str, set[str]] = {
    "daemon": {"database_url_env"},
    "telegram": {"token_env", "webhook_secret_env"},
    "slack": {"bot_token_env", "app_token_env", "signing_secret_env"},
}


def _daemon(r: ConfigReader, t: Mapping[str, Any]) -> DaemonConfig:
    d = DaemonConfig()

    def build() -> DaemonConfig:
        timezone = r.value(t, "daemon", "timezone", str, d.timezone)
        _check_timezone(r, timezone)
        database_url = _database_url(r, t, d.database_url)
        if database_url:  # empty only when database_url_env names a missing variable (reported)
            _check_database_url(r, database_url)
        return DaemonConfig(
            database_url=database_url,
            data_dir=Path(r.value(t, "daemon", "data_dir", str, str(d.data_dir))),
            timezone=timezone,
            http_host=r.value(t, "daemon", "http_host", str, d.http_host),
            http_port=r.value(t, "daemon", "http_port", int, d.http_port),
            locale=_locale(r, r.value(t, "daemon", "locale", str, d.locale)),
            shutdown_grace_s=r.positive(t, "daemon", "shutdown_grace_s", float, d.shutdown_grace_s),
            misfire_grace_s=r.positive(t, "daemon", "misfire_grace_s", float, d.misfire_grace_s),
            schedule_sync_s=r.positive(t, "daemon", "schedule_sync_s", float, d.schedule_sync_s),
            log_format=r.choice(t, "daemon", "log_format", ("text", "json")),
            log_level=r.choice(t, "daemon", "log_level", LOG_LEVELS),
            keep_days=r.positive(t, "daemon", "keep_days", int, d.keep_days),
        )

    return _checked(r, t, "daemon", build, DaemonConfig)


def _locale(r: ConfigReader, setting: str) -> str:
    """"auto", or a language there is a catalogue for (as its catalogue spells it)."""
    if setting.casefold() in ("auto", "en"):
        return setting.casefold()  # the common settings, without loading every catalogue at start
    from bot.chat.text.catalogues import AUTO, known_locales, match_locale

    found = match_locale(setting)
    if found is None:
        known = ", ".join([AUTO, *known_locales()])
        r.problems.append(config_phrase("unknown_locale", setting=setting, known=known))
        return AUTO
    return found


LOG_LEVELS = ("INFO", "DEBUG", "WARNING", "ERROR")


def _database_url(r: ConfigReader, t: Mapping[str, Any], default: str) -> str:
    """``database_url_env`` names a variable holding the whole URL, so a password stays
    out of the file; it wins over ``database_url``."""
    if "database_url_env" in t:
        if "database_url" in t:
            r.problems.append(config_phrase("url_twice"))
        return r.secret(t, "daemon", "database_url_env", "")
    return r.value(t, "daemon", "database_url", str, default)


def _check_timezone(r: ConfigReader, name: str) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        r.problems.append(config_phrase("unknown_timezone", name=name))


def _limits(r: ConfigReader, t: Mapping[str, Any]) -> LimitsConfig:
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


def _telegram(r: ConfigReader, t: Mapping[str, Any]) -> TelegramConfig:
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
                else NO_SECRET
            ),
            api_base=r.value(t, "telegram", "api_base", str, ""),
            token_env=str(t.get("token_env", "TELEGRAM_BOT_TOKEN")),
        )

    config = _checked(r, t, "telegram", build, TelegramConfig)
    if config.mode == "webhook" and not config.webhook_url:
        r.problems.append(config_phrase("webhook_url"))
    return config


def _slack(r: ConfigReader, t: Mapping[str, Any]) -> SlackConfig:
    if not r.value(t, "slack", "enabled", bool, False):
        return SlackConfig()

    def build() -> SlackConfig:
        mode = r.choice(t, "slack", "mode", ("socket", "http"))
        socket = mode == "socket"
        command = r.value(t, "slack", "command", str, "/difybatch")
        if not command.startswith("/"):
            r.problems.append(config_phrase("slash_command", command=command))
        return SlackConfig(
            enabled=True,
            mode=mode,
            bot_token=r.secret(t, "slack", "bot_token_env", "SLACK_BOT_TOKEN"),
            app_token=(
                r.secret(t, "slack", "app_token_env", "SLACK_APP_TOKEN") if socket else NO_SECRET
            ),
            signing_secret=(
                NO_SECRET
                if socket
                else r.secret(t, "slack", "signing_secret_env", "SLACK_SIGNING_SECRET")
            ),
            command=command,
            api_base=r.value(t, "slack", "api_base", str, ""),
            bot_token_env=str(t.get("bot_token_env", "SLACK_BOT_TOKEN")),
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
    "outage_pause_after_s",
    "retry_failed_runs",
    "allow",
    *PIN_KEYS,
}


def _workflows(r: ConfigReader, table: Mapping[str, Any]) -> dict[str, WorkflowConfig]:
    workflows: dict[str, WorkflowConfig] = {}
    for name, t in table.items():
        where = f"workflows.{name}"
        if not isinstance(t, Mapping):
            r.problems.append(config_phrase("not_a_table", where=where))
            continue
        r.unknown_keys(t, where, _WORKFLOW_KEYS)
        workflows[name] = _workflow(r, name, where, t)
    return workflows


def _not_negative(r: ConfigReader, t: Mapping[str, Any], where: str, key: str, default: float) -> float:
    value = float(r.value(t, where, key, float, default))
    if value < 0:
        r.problems.append(config_phrase("zero_or_more_never", where=where, key=key))
    return max(value, 0.0)


def _workflow(r: ConfigReader, name: str, where: str, t: Mapping[str, Any]) -> WorkflowConfig:
    d = WorkflowSettings(name=name)
    base_url = r.value(t, where, "base_url", str, "")
    if not base_url.startswith(("http://", "https://")):
        r.problems.append(config_phrase("base_url", where=where))
    if "api_key_env" not in t:
        r.problems.append(config_phrase("api_key_env", where=where))
    rpm = r.value(t, where, "requests_per_minute", int, 0)
    if rpm < 0:
        r.problems.append(config_phrase("zero_or_more_no_cap", where=where, key="requests_per_minute"))
    app_type = AppType(r.choice(t, where, "app_type", tuple(a.value for a in AppType)))
    settings = WorkflowSettings(
        name=name,
        app_type=app_type,
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
        outage_pause_after_s=_not_negative(r, t, where, "outage_pause_after_s", d.outage_pause_after_s),
        retry_failed_runs=r.value(t, where, "retry_failed_runs", bool, d.retry_failed_runs),
        workflow_id=pinned_version(r, t, where, app_type),
        context=context_map(r, t, where),
    )
    api_key = r.secret(t, where, "api_key_env", "") if "api_key_env" in t else NO_SECRET
    return WorkflowConfig(
        settings=settings,
        base_url=base_url.rstrip("/"),
        api_key=api_key,
        allow=r.strings(t, where, "allow"),
        api_key_env=str(t.get("api_key_env", "")),
    )
