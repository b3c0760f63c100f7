"""How the CLI tells a person what went wrong: one clear message per failure, each
problem of a list printed once, never a traceback unless ``-v`` asked for it. What the
libraries raise becomes one sentence that says what to change: an unreachable database,
a folder that cannot be written, Dify down, a wrong key, a base URL without ``/v1``. A
connection refused is never called a timeout."""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, TextIO, TypeAlias

from bot.cli.output.usage import says
from engine.errors import AppError, ConfigError, SheetError
from engine.text.phrases import Phrase, say

if TYPE_CHECKING:
    from bot.cli.output.usage import Wording
    from bot.config import Config, WorkflowConfig
    from engine.errors import WorkflowError


class CliProblem(AppError):
    """A failure the person can fix, already worded as the sentence that says how."""


def causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and everything behind it (``__cause__``, ``__context__``, SQLAlchemy's ``orig``)."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        current = todo.pop(0)
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        orig = getattr(current, "orig", None)
        todo += [current.__cause__, current.__context__, orig if isinstance(orig, BaseException) else None]


def reason(exc: BaseException) -> str:
    """The root cause in a few words, in the terminal's language (a cause none of the
    known ones names is the library's own words)."""
    from bot.cli.output.usage import cli_wording

    code = reason_code(exc)
    if code is not None:
        return cli_wording().outage_reasons[code]
    chain = list(causes(exc))
    text = (str(chain[-1]).strip().splitlines() or [""])[0]
    return text or type(chain[-1]).__name__


def reason_code(exc: BaseException) -> str | None:
    """Which of the catalogue's ``outage_reasons`` the root cause is, if any."""
    import socket

    chain = list(causes(exc))
    for c in chain:
        if isinstance(c, ConnectionRefusedError) or "connection refused" in str(c).lower():
            return "connection_refused"
    for c in chain:
        if isinstance(c, socket.gaierror) or "name or service not known" in str(c).lower():
            return "host_not_found"
    for c in chain:
        if isinstance(c, PermissionError):
            return "permission_denied"
    for c in chain:
        if isinstance(c, TimeoutError):
            return "timed_out"
    for c in chain:
        if "password authentication failed" in str(c) or type(c).__name__ == "InvalidPasswordError":
            return "password_refused"
        if "does not exist" in str(c) and type(c).__name__ == "InvalidCatalogNameError":
            return "no_database"
    return None


def redact_url(url: str) -> str:
    """A database URL without its password."""
    scheme, sep, rest = url.partition("://")
    if "@" in rest and sep:
        creds, _, host = rest.rpartition("@")
        user = creds.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}" if ":" in creds else url
    return url


def database_problem(config: Config, exc: BaseException) -> CliProblem:
    """Opening the data folder or the database failed."""
    data_dir = config.daemon.data_dir
    for c in causes(exc):
        if isinstance(c, OSError) and c.filename and Path(c.filename) == data_dir:
            return CliProblem(says("data_dir", path=data_dir, why=reason(exc)))
    url = config.daemon.database_url
    if url.startswith("sqlite"):
        where = url.split(":///", 1)[-1].split("?", 1)[0]
        return CliProblem(says("sqlite_open", path=where, why=reason(exc)))
    return CliProblem(says("db_unreachable", url=redact_url(url), why=reason(exc)))


def dify_problem(workflow: WorkflowConfig, exc: WorkflowError) -> CliProblem:
    """Asking the app for its form failed: say what to fix in the config."""
    name, base = workflow.name, workflow.base_url
    if exc.status in (401, 403):
        env = workflow.api_key_env or says("key_env_unknown")
        return CliProblem(says("key_refused", name=name, error=exc, env=env))
    if exc.status == 404:
        if not base.rstrip("/").endswith("/v1"):
            return CliProblem(says("not_found_v1", base=base, name=name, fixed=f"{base.rstrip('/')}/v1"))
        return CliProblem(says("not_found_api", base=base, name=name))
    if exc.status is None:
        if reason_code(exc) == "timed_out" or "did not answer" in str(exc):
            return CliProblem(says("dify_slow", base=base, name=name))
        return CliProblem(says("dify_unreachable", base=base, why=reason(exc), name=name))
    return CliProblem(says("dify_error", base=base, name=name, error=exc))


def explain(exc: BaseException) -> str | None:
    """A sentence for a failure a person can cause, or None for a real bug."""
    import socket

    chain = list(causes(exc))
    for c in chain:
        if isinstance(c, PermissionError | IsADirectoryError | NotADirectoryError | FileExistsError
                      | FileNotFoundError):
            where = f"{c.filename}: " if c.filename else ""
            return says("path_problem", path=where, why=c.strerror or type(c).__name__)
    names = {type(c).__module__.split(".")[0] for c in chain}
    if names & {"sqlalchemy", "asyncpg", "aiosqlite", "sqlite3"}:
        return says("database_failed", why=reason(exc))
    if any(isinstance(c, ConnectionError | socket.gaierror) for c in chain):
        return says("connection_failed", why=reason(exc))
    return None

EXIT_USAGE = 2
EXIT_FAILED = 1
SHOWN_PROBLEMS = 20

Subcommands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
"""What each command module's ``register(sub, common)`` adds its subcommands to."""


def report_error(exc: BaseException, args: argparse.Namespace, stream: TextIO) -> int:
    """Print ``exc`` for a person, in the terminal's language, and return the exit code."""
    from bot.cli.output.usage import cli_wording

    words = cli_wording()

    def error(message: str) -> None:
        print(words.cli_error.format(message=message), file=stream)

    if isinstance(exc, ConfigError):
        path = getattr(args, "config", None) or getattr(args, "file", None)
        where = words.cli_says["config_where"].format(path=path) if path else ""
        n = len(exc.problem_phrases)
        head = "config_head_one" if n == 1 else "config_head_many"
        error(words.cli_says[head].format(where=where, n=n))
        _list([say(p, words.config_sentences) for p in exc.problem_phrases], words, stream)
        return EXIT_USAGE
    if isinstance(exc, SheetError):
        _sheet_error(exc, args, words, stream)
        return EXIT_USAGE
    if isinstance(exc, AppError):
        error(_cli_wording(_app_error(exc, words), args, words))
        _list(list(getattr(exc, "problems", ())), words, stream)
        return EXIT_USAGE
    known = explain(exc)
    if known is not None:
        error(known)
        return EXIT_USAGE
    first = (str(exc).strip().splitlines() or [""])[0]
    detail = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
    hint = "" if getattr(args, "verbose", False) else words.cli_says["unexpected_hint"]
    error(words.cli_says["unexpected"].format(detail=detail, hint=hint))
    return EXIT_FAILED


_ENGINE_SAYS = (
    ("no_batch", re.compile(r"there is no batch (?P<id>\S+)$")),
    ("no_workflow", re.compile(r"there is no workflow named '(?P<name>[^']*)'$")),
    ("no_schedule", re.compile(r"no schedule (?P<id>\S+)$")),
    ("no_active_schedule", re.compile(r"no active schedule (?P<id>\S+)$")),
)
"""The engine's English `NotFound`s the CLI meets, by shape, to be said in its language."""


def _app_error(exc: AppError, words: Wording) -> str:
    """An error the engine or scheduler raised, said from its code when it has one."""
    said = getattr(exc, "phrase", None)
    if isinstance(said, Phrase):
        return say(said, {**words.state_sentences, **words.when_sentences})
    for code, shape in _ENGINE_SAYS:
        found = shape.match(str(exc))
        if found:
            return words.cli_says[code].format(**found.groupdict())
    return str(exc)


def _sheet_error(exc: SheetError, args: argparse.Namespace, words: Wording, stream: TextIO) -> None:
    """A broken sheet explained in the terminal's language (LC_ALL, LC_MESSAGES, LANG)."""
    message = _cli_wording(say(exc.phrase, words.sheet), args, words)
    print(words.cli_error.format(message=message), file=stream)
    _list([_cli_wording(say(p, words.sheet), args, words) for p in exc.problem_phrases], words, stream)
    for note in getattr(exc, "__notes__", ()):
        print(note, file=stream)


def _list(problems: list[str], words: Wording, stream: TextIO) -> None:
    for problem in problems[:SHOWN_PROBLEMS]:
        print(words.cli_problem.format(problem=problem), file=stream)
    hidden = len(problems) - SHOWN_PROBLEMS
    if hidden > 0:
        more = words.cli_more_problem if hidden == 1 else words.cli_more_problems.format(n=hidden)
        print(more, file=stream)


def _cli_wording(message: str, args: argparse.Namespace, words: Wording) -> str:
    """The engine's wording is for chat; on the command line the template is a command."""
    workflow = getattr(args, "workflow", None) or "<workflow>"
    hint = words.cli_says["template_hint"].format(workflow=workflow)
    return message.replace(words.cli_says["chat_template_hint"], hint)
