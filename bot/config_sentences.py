"""The English of every problem a config file can have, by code.

`bot.config_loader` and `bot.config_reader` raise a `ConfigError` whose problems are
`Phrase`s made from these templates, so ``str()`` stays English (logs, the daemon) while the
CLI says them in the terminal's language: each catalogue translates this mapping key by key
(``config_sentences``). A problem about the app's form (`engine.context`, its English in
`engine.text.sentences`) nests inside ``in_workflow``."""

from __future__ import annotations

from typing import Any

from engine.text.phrases import Phrase, phrase
from engine.text.sentences import CONTEXT_SENTENCES

CONFIG_SENTENCES: dict[str, str] = {
    # the file
    "no_file": "{path}: no such file (copy config.example.toml)",
    "unreadable": "{path}: cannot be read ({kind})",
    "not_toml": "{path}: not valid TOML: {detail}",
    "empty": "{path} is empty: copy config.example.toml and fill it in",
    "no_workflows": "no workflows configured: add a [workflows.<name>] table per Dify app",
    "no_such_workflow": "no workflow named {name!r} (known: {known})",
    "none_configured": "none configured",
    # tables and keys
    "unknown_section": "unknown section [{name}]",
    "not_a_table": "[{where}] must be a table",
    "unknown_key": "{where}: unknown key {key!r}",
    "must_be_int": "{where}.{key} must be a whole number, not {value!r}",
    "must_be_float": "{where}.{key} must be a number, not {value!r}",
    "must_be_str": "{where}.{key} must be a string, not {value!r}",
    "must_be_bool": "{where}.{key} must be true or false, not {value!r}",
    "must_be_positive": "{where}.{key} must be above 0",
    "must_be_choice": "{where}.{key} must be one of {options}, not {value!r}",
    "must_be_strings": "{where}.{key} must be a list of strings",
    "env_missing": "{where}.{key}: environment variable {env} is not set",
    "zero_or_more_never": "{where}.{key} must be 0 (never) or more",
    "zero_or_more_no_cap": "{where}.{key} must be 0 (no cap) or more",
    # [daemon]
    "asyncpg": "daemon.database_url: this program talks to PostgreSQL through asyncpg; write {hint!r}",
    "sqlite_url": "daemon.database_url: write SQLite URLs as 'sqlite+aiosqlite:///path/to/file.db'",
    "unsupported_database": (
        "daemon.database_url: unsupported database {scheme!r}; use 'sqlite+aiosqlite:///…' "
        "or 'postgresql+asyncpg://…'"
    ),
    "unknown_locale": "daemon.locale: unknown locale {setting!r}; known: {known}",
    "url_twice": "daemon: set database_url or database_url_env, not both",
    "unknown_timezone": "daemon.timezone: unknown time zone {name!r}",
    # chats
    "webhook_url": 'telegram.webhook_url is required when mode = "webhook"',
    "slash_command": "slack.command must start with '/', not {command!r}",
    # workflows
    "base_url": "{where}.base_url must be an http(s) URL ending at /v1",
    "api_key_env": "{where}.api_key_env is required (the name of an environment variable)",
    "pin_not_workflow": "{where}.workflow_id pins a workflow app's version; this app is a {app_type} app",
    "pin_not_uuid": (
        "{where}.workflow_id must be a published version's id (a UUID, as Dify's run "
        "detail shows it as workflow_id), not {value!r}"
    ),
    "context_table": "[{where}.context] must be a table of variable = source",
    "context_source": "{where}.context.{variable} must be one of {sources}, not {source!r}",
    "in_workflow": "workflows.{workflow}: {problem}",
    **CONTEXT_SENTENCES,
}


def config_phrase(code: str, **params: Any) -> Phrase:
    """A config problem kept with its code, English when printed as it is."""
    return phrase(CONFIG_SENTENCES, code, **params)
