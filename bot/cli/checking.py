"""``dify-batch check-config``: every problem of a config file at once, and with
``--online`` proof that each part answers: each Dify app gives its form, the database
connects (and says which schema it holds), each enabled chat token is accepted (Telegram
``getMe``, Slack ``auth.test``). ``OK`` is printed only when every check passed."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.cli.drive import cli_config
from bot.cli.explain import EXIT_USAGE, Subcommands
from bot.cli.output.usage import cli_wording, says
from engine.errors import ConfigError

if TYPE_CHECKING:
    from bot.config import Config, WorkflowConfig

_TIMEOUT_S = 15.0


def register(sub: Subcommands, common: argparse.ArgumentParser) -> None:
    check = sub.add_parser(
        "check-config", parents=[common], help="check a config file, listing every problem"
    )
    check.add_argument(
        "file", nargs="?", type=Path,
        help="the config file (same as --config; default: $DIFY_BATCH_CONFIG, then ./config.toml)",
    )
    check.add_argument(
        "--online", action="store_true",
        help="also ask each Dify app for its form, connect to the database and try each chat token",
    )
    check.set_defaults(handler=cmd_check_config)


async def cmd_check_config(args: argparse.Namespace) -> int:
    from bot.cli.explain import redact_url

    config = cli_config(args.file or args.config)
    _refuse_empty(config)
    fronts = [n for n, on in (("telegram", config.telegram.enabled), ("slack", config.slack.enabled)) if on]
    words = cli_wording()
    print(says(
        "config_ok", words, source=config.source, n=len(config.workflows),
        names=words.list_sep.join(sorted(config.workflows)),
        chats=words.list_sep.join(fronts) or says("chats_none", words),
        database=redact_url(config.daemon.database_url),
    ))
    if args.online:
        checks = [_check_app(name, wf) for name, wf in sorted(config.workflows.items())]
        checks.append(_check_database(config))
        if config.telegram.enabled:
            checks.append(_check_telegram(config))
        if config.slack.enabled:
            checks.append(_check_slack(config))
        failures = 0
        for check in checks:
            failures += not await check
        if failures:
            print(words.cli_error.format(message=says("online_failed", words, n=failures)), file=sys.stderr)
            return EXIT_USAGE
    print(says("all_ok", words))
    return 0


def _refuse_empty(config: Config) -> None:
    import tomllib

    from bot.config_sentences import config_phrase

    if config.source is not None and not tomllib.loads(config.source.read_text(encoding="utf-8")):
        raise ConfigError([config_phrase("empty", path=config.source)])
    if not config.workflows:
        raise ConfigError([config_phrase("no_workflows")])


async def _check_app(name: str, workflow: WorkflowConfig) -> bool:
    """Fetch one app's form: proves the URL, the key and the app type (never prints the key)."""
    from bot.app import dify_client
    from bot.cli.explain import dify_problem
    from engine.errors import WorkflowError

    client = dify_client(workflow)
    try:
        form = await client.form()
    except WorkflowError as exc:
        print(says("app_problem", name=name, problem=dify_problem(workflow, exc)), file=sys.stderr)
        return False
    finally:
        await client.aclose()
    from engine.context import unknown_variables
    from engine.text.phrases import say

    words = cli_wording()
    problems = unknown_variables(workflow.settings.context, form)
    for problem in problems:
        said = say(problem, words.config_sentences)
        print(says("app_problem", words, name=name, problem=said), file=sys.stderr)
    if problems:
        return False
    labels = words.list_sep.join(f.label for f in form.fields) or says("no_inputs", words)
    print(says("app_ok", words, name=name, app_type=form.app_type.value, labels=labels))
    return True


async def _check_database(config: Config) -> bool:
    """Connect and read which tables (and schema revision) are there; never create anything."""
    from bot.cli.explain import database_problem
    from bot.cli.output.glance import sqlite_file

    path = sqlite_file(config.daemon.database_url)
    if path is not None and not path.exists():
        folder = path.parent
        while not folder.exists():
            folder = folder.parent
        if not folder.is_dir():
            print(says("db_cannot_create", path=path, folder=folder), file=sys.stderr)
            return False
        print(says("db_created_later", path=path))
        return True
    try:
        tables, revision = await _read_schema(config.daemon.database_url)
    except Exception as exc:
        print(says("db_problem", problem=database_problem(config, exc)), file=sys.stderr)
        return False
    from storage.tables import TABLES

    missing = sorted({t.name for t in TABLES} - tables)
    if revision:
        schema = says("schema_revision", revision=revision)
    elif not tables & {t.name for t in TABLES}:
        schema = says("schema_empty")
    elif missing:
        schema = says("schema_missing", tables=", ".join(missing))
    else:
        schema = says("schema_full")
    print(says("db_ok", schema=schema))
    return True


async def _read_schema(url: str) -> tuple[set[str], str | None]:
    from sqlalchemy import inspect, text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            names: list[str] = await conn.run_sync(lambda c: inspect(c).get_table_names())
            revision = None
            if "alembic_version" in names:
                revision = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar()
            return set(names), revision
    finally:
        await engine.dispose()


async def _check_telegram(config: Config) -> bool:
    tg = config.telegram
    base = (tg.api_base or "https://api.telegram.org").rstrip("/")
    body = await _ask("telegram", "GET", f"{base}/bot{tg.token}/getMe", {}, secret=tg.token)
    if body is None:
        return False
    if not body.get("ok"):
        reason = body.get("description") or "refused"  # Telegram's own words
        print(says("telegram_refused", reason=reason, env=tg.token_env), file=sys.stderr)
        return False
    print(says("telegram_ok", name=body.get("result", {}).get("username", "?")))
    return True


async def _check_slack(config: Config) -> bool:
    sl = config.slack
    base = sl.api_base or "https://slack.com/api/"
    headers = {"Authorization": f"Bearer {sl.bot_token}"}
    body = await _ask("slack", "POST", f"{base.rstrip('/')}/auth.test", headers, secret=sl.bot_token)
    if body is None:
        return False
    if not body.get("ok"):
        reason = body.get("error", "refused")  # Slack's own code
        print(says("slack_refused", reason=reason, env=sl.bot_token_env), file=sys.stderr)
        return False
    print(says("slack_ok", user=body.get("user", "?"), team=body.get("team", "?")))
    return True


async def _ask(
    what: str, method: str, url: str, headers: dict[str, str], *, secret: str
) -> dict[str, Any] | None:
    """One JSON call; None (and a line on stderr) when it could not be made. The URL holds
    Telegram's token, so nothing of it is printed."""
    import httpx

    from bot.cli.explain import reason

    try:
        async with httpx.AsyncClient(timeout=_TIMEOUT_S) as client:
            response = await client.request(method, url, headers=headers)
        body = response.json()
    except (httpx.HTTPError, ValueError, OSError) as exc:
        why = reason(exc).replace(secret, "***") if secret else reason(exc)
        print(says("api_unreachable", what=what, why=why), file=sys.stderr)
        return None
    return body if isinstance(body, dict) else {}
