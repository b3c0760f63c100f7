"""The ``dify-batch`` command line: builds the parser from one ``register`` function per
command module and hands each command to its coroutine. Exit codes: 0 every row
succeeded, 1 some rows failed, 2 a usage, config, database or sheet problem (one clear
message on stderr, no traceback without ``-v``, nothing written), 130/143 paused by
Ctrl-C / SIGTERM.

Start-up stays light (``dify-batch --help`` and ``status`` well under a second): this
module and the command modules import only the standard library and `engine.errors` at
the top; SQLAlchemy, openpyxl, httpx and the chat libraries are imported inside the
commands that use them.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from bot.cli import batches, check, checking, commands, control, db
from bot.cli import schedule as scheduling
from bot.cli.explain import Subcommands, report_error
from engine.errors import AppError

Register = Callable[[Subcommands, argparse.ArgumentParser], None]

REGISTRATIONS: tuple[Register, ...] = (
    batches.register,
    control.register,
    commands.register,
    scheduling.register,
    checking.register,
    check.register,
    db.register,
)
"""One function per command module, each adding its subcommands; a new module adds its own."""


class _Version(argparse.Action):
    """``--version``, reading the installed version only when asked (importlib.metadata is slow)."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS, **_: object) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help="print the version")

    def __call__(self, parser: argparse.ArgumentParser, *args: object, **kwargs: object) -> None:
        from importlib.metadata import PackageNotFoundError, version

        try:
            found = version("dify-batch-bot")
        except PackageNotFoundError:
            from bot.cli.output.usage import says

            found = says("version_unknown")
        print(f"dify-batch {found}")
        parser.exit()


def common_options() -> argparse.ArgumentParser:
    """``-v`` and ``--config``, accepted before and after the subcommand alike.

    ``SUPPRESS`` defaults keep a subcommand's parser from overwriting a value given
    before the subcommand with its own default.
    """
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
        help="log what happens, and show the full traceback of an unexpected error",
    )
    common.add_argument(
        "--config", type=Path, metavar="FILE", default=argparse.SUPPRESS,
        help="config file (default: $DIFY_BATCH_CONFIG, then ./config.toml)",
    )
    return common


def build_parser() -> argparse.ArgumentParser:
    """The whole command line, its help in the terminal's language."""
    from bot.cli.output.usage import cli_wording, speak_argparse, speaks_english, translate_help

    words = None if speaks_english() else cli_wording()  # English: the help as the modules wrote it
    if words is not None:
        speak_argparse(words)  # before any parser exists: argparse words its groups as it builds
    common = common_options()
    parser = argparse.ArgumentParser(
        prog="dify-batch",
        description="Run a Dify app over every row of a spreadsheet.",
        parents=[common],
    )
    parser.add_argument("--version", action=_Version)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for register in REGISTRATIONS:
        register(sub, common)
    if words is not None:
        translate_help(parser, words)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    verbose = bool(getattr(args, "verbose", False))
    args.verbose = verbose
    args.config = getattr(args, "config", None)
    import logging

    # retries and overload are the engine's daily work and the progress bar shows their
    # outcome; without -v only errors may interrupt the bar
    logging.basicConfig(
        level=logging.INFO if verbose else logging.ERROR,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        outcome = args.handler(args)
        if isinstance(outcome, int):  # a command that needs no event loop (status on SQLite)
            return outcome
        import asyncio

        code: int = asyncio.run(outcome)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        if verbose and not isinstance(exc, AppError):
            import traceback

            traceback.print_exc()
        return report_error(exc, args, sys.stderr)
    return code
