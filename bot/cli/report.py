"""How the CLI tells a person what went wrong: one clear message per failure, each
problem of a list printed once, never a traceback unless ``-v`` asked for it."""

from __future__ import annotations

import argparse
from typing import TextIO, TypeAlias

from engine.errors import AppError, ConfigError

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
    if isinstance(exc, AppError):
        print(f"dify-batch: {_cli_wording(str(exc), args)}", file=stream)
        _list(getattr(exc, "problems", ()), stream)
        return EXIT_USAGE
    from bot.cli.explain import explain

    known = explain(exc)
    if known is not None:
        print(f"dify-batch: {known}", file=stream)
        return EXIT_USAGE
    first = (str(exc).strip().splitlines() or [""])[0]
    detail = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
    hint = "" if getattr(args, "verbose", False) else " (run again with -v for the details)"
    print(f"dify-batch: unexpected error: {detail}{hint}", file=stream)
    return EXIT_FAILED


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
