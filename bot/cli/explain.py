"""How the CLI tells a person what went wrong: one clear message per failure, each
problem of a list printed once, never a traceback unless ``-v`` asked for it. What the
libraries raise becomes one sentence that says what to change: an unreachable database,
a folder that cannot be written, Dify down, a wrong key, a base URL without ``/v1``. A
connection refused is never called a timeout."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, TextIO, TypeAlias

from engine.errors import AppError, ConfigError, SheetError

if TYPE_CHECKING:
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
    """The root cause in a few words."""
    import socket

    chain = list(causes(exc))
    for c in chain:
        if isinstance(c, ConnectionRefusedError) or "connection refused" in str(c).lower():
            return "connection refused"
    for c in chain:
        if isinstance(c, socket.gaierror) or "name or service not known" in str(c).lower():
            return "host name not found"
    for c in chain:
        if isinstance(c, PermissionError):
            return "permission denied"
    for c in chain:
        if isinstance(c, TimeoutError):
            return "timed out"
    for c in chain:
        if "password authentication failed" in str(c) or type(c).__name__ == "InvalidPasswordError":
            return "the user name or password was refused"
        if "does not exist" in str(c) and type(c).__name__ == "InvalidCatalogNameError":
            return "that database does not exist"
    text = (str(chain[-1]).strip().splitlines() or [""])[0]
    return text or type(chain[-1]).__name__


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
            return CliProblem(
                f"cannot create the data folder {data_dir} ({reason(exc)}); "
                "check daemon.data_dir in the config"
            )
    url = config.daemon.database_url
    if url.startswith("sqlite"):
        where = url.split(":///", 1)[-1].split("?", 1)[0]
        return CliProblem(
            f"cannot open the SQLite database {where} ({reason(exc)}); check daemon.database_url "
            "and that its folder exists and can be written"
        )
    return CliProblem(
        f"cannot reach the database {redact_url(url)} ({reason(exc)}); is it running? "
        "Check daemon.database_url"
    )


def dify_problem(workflow: WorkflowConfig, exc: WorkflowError) -> CliProblem:
    """Asking the app for its form failed: say what to fix in the config."""
    name, base = workflow.name, workflow.base_url
    if exc.status in (401, 403):
        env = workflow.api_key_env or "its api_key_env variable"
        return CliProblem(
            f"Dify refused the API key of workflow {name!r} ({exc}); the key comes from the "
            f"environment variable {env}: set it to this app's key (app-…)"
        )
    if exc.status == 404:
        hint = (
            f"base_url must end at /v1, e.g. {base.rstrip('/')}/v1"
            if not base.rstrip("/").endswith("/v1")
            else "check that base_url is the app's API base"
        )
        return CliProblem(f"{base} answered 404 for workflow {name!r}: {hint} (workflows.{name}.base_url)")
    if exc.status is None:
        why = reason(exc)
        if why == "timed out" or "did not answer" in str(exc):
            return CliProblem(
                f"Dify at {base} did not answer in time (workflow {name!r}); is it overloaded "
                f"or behind a slow proxy? Check workflows.{name}.base_url"
            )
        return CliProblem(
            f"cannot reach Dify at {base} ({why}) for workflow {name!r}; is it running? "
            f"Check workflows.{name}.base_url"
        )
    return CliProblem(f"Dify at {base} answered workflow {name!r} with an error: {exc}")


def explain(exc: BaseException) -> str | None:
    """A sentence for a failure a person can cause, or None for a real bug."""
    import socket

    chain = list(causes(exc))
    for c in chain:
        if isinstance(c, PermissionError | IsADirectoryError | NotADirectoryError | FileExistsError
                      | FileNotFoundError):
            where = f"{c.filename}: " if c.filename else ""
            return f"{where}{c.strerror or type(c).__name__}; check the path and its folder"
    names = {type(c).__module__.split(".")[0] for c in chain}
    if names & {"sqlalchemy", "asyncpg", "aiosqlite", "sqlite3"}:
        return f"the database failed ({reason(exc)}); check daemon.database_url and that the database is up"
    if any(isinstance(c, ConnectionError | socket.gaierror) for c in chain):
        return f"a connection failed ({reason(exc)})"
    return None

EXIT_USAGE = 2
EXIT_FAILED = 1
SHOWN_PROBLEMS = 20

Subcommands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
"""What each command module's ``register(sub, common)`` adds its subcommands to."""


def report_error(exc: BaseException, args: argparse.Namespace, stream: TextIO) -> int:
    """Print ``exc`` for a person and return the exit code."""
    if isinstance(exc, ConfigError):
        where = f" ({args.config})" if getattr(args, "config", None) else ""
        print(f"dify-batch: the configuration{where} has {_count(exc.problems, 'problem')}:", file=stream)
        _list(exc.problems, stream)
        return EXIT_USAGE
    if isinstance(exc, SheetError):
        _sheet_error(exc, args, stream)
        return EXIT_USAGE
    if isinstance(exc, AppError):
        print(f"dify-batch: {_cli_wording(str(exc), args)}", file=stream)
        _list(getattr(exc, "problems", ()), stream)
        return EXIT_USAGE
    known = explain(exc)
    if known is not None:
        print(f"dify-batch: {known}", file=stream)
        return EXIT_USAGE
    first = (str(exc).strip().splitlines() or [""])[0]
    detail = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
    hint = "" if getattr(args, "verbose", False) else " (run again with -v for the details)"
    print(f"dify-batch: unexpected error: {detail}{hint}", file=stream)
    return EXIT_FAILED


def _sheet_error(exc: SheetError, args: argparse.Namespace, stream: TextIO) -> None:
    """A broken sheet explained in the terminal's language (LC_ALL, LC_MESSAGES, LANG)."""
    from bot.cli.output.terminal import cli_wording
    from engine.text.phrases import say

    words = cli_wording()
    print(words.cli_error.format(message=_cli_wording(say(exc.phrase, words.sheet), args)), file=stream)
    for problem in exc.problem_phrases[:SHOWN_PROBLEMS]:
        print(words.cli_problem.format(problem=_cli_wording(say(problem, words.sheet), args)), file=stream)
    hidden = len(exc.problem_phrases) - SHOWN_PROBLEMS
    if hidden > 0:
        more = words.cli_more_problem if hidden == 1 else words.cli_more_problems.format(n=hidden)
        print(more, file=stream)
    for note in getattr(exc, "__notes__", ()):
        print(note, file=stream)


def _list(problems: tuple[str, ...] | list[str], stream: TextIO) -> None:
    for problem in problems[:SHOWN_PROBLEMS]:
        print(f"  - {problem}", file=stream)
    if len(problems) > SHOWN_PROBLEMS:
        print(f"  … and {_count(problems[SHOWN_PROBLEMS:], 'more problem')}", file=stream)


def _count(items: tuple[str, ...] | list[str], noun: str) -> str:
    return f"{len(items)} {noun}{'' if len(items) == 1 else 's'}"


def _cli_wording(message: str, args: argparse.Namespace) -> str:
    """The engine's wording is for chat; on the command line the template is a command."""
    workflow = getattr(args, "workflow", None) or "<workflow>"
    command = f"`dify-batch template {workflow}`"
    message = message.replace(
        "Download the template to see the expected headers.",
        f"{command} writes a sheet with the expected headers.",
    )
    return message.replace("Download the template", command)
