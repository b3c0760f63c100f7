"""The ``dify-batch`` command line: parses arguments and hands each command to its
coroutine in `bot.cli.commands`. Exit codes: 0 every row succeeded, 1 some rows failed,
2 a usage, config or sheet problem (message on stderr, no traceback, nothing written)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.cli import commands as cli_commands
from bot.cli import db as cli_db
from bot.cli import schedule as cli_schedule
from bot.cli.drive import EXIT_USAGE
from engine.errors import AppError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dify-batch",
        description="Run a Dify app over every row of a spreadsheet.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log what happens")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def config_arg(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--config",
            type=Path,
            help="config file (default: $DIFY_BATCH_CONFIG, then ./config.toml)",
        )

    run = sub.add_parser("run", help="run a workflow over a sheet and write the results")
    run.add_argument("sheet", type=Path, help=".xlsx, .xls, .ods or .csv file")
    run.add_argument("--workflow", required=True, help="workflow name from the config")
    run.add_argument("--output", type=Path, help="results file (default: <sheet>-results.xlsx)")
    run.add_argument("--concurrency", type=int, help="rows in flight at once for this run")
    config_arg(run)

    template = sub.add_parser("template", help="write an empty input sheet for a workflow")
    template.add_argument("workflow")
    template.add_argument("--output", type=Path, help="default: <workflow>-template.xlsx")
    config_arg(template)

    status = sub.add_parser("status", help="show recent batches, or one batch")
    status.add_argument("batch_id", nargs="?")
    config_arg(status)

    resume = sub.add_parser("resume", help="continue a batch that was interrupted or paused")
    resume.add_argument("batch_id")
    resume.add_argument("--output", type=Path, help="results file (default: as the run chose)")
    config_arg(resume)

    demo = sub.add_parser("demo", help="try it: a sample sheet through a simulated app")
    demo.add_argument("--dir", type=Path, default=Path("dify-batch-demo"), help="where to write")
    demo.add_argument("--rows", type=int, default=40, help="how many sample rows")

    check = sub.add_parser("check-config", help="check a config file, listing every problem")
    check.add_argument("file", nargs="?", type=Path)
    check.add_argument(
        "--online", action="store_true", help="also ask each Dify app for its input form"
    )

    serve = sub.add_parser("serve", help="run the chat daemon (Telegram, Slack, scheduler)")
    config_arg(serve)

    schedule = sub.add_parser("schedule", help="run a sheet later or on a recurring time")
    schedule.add_argument("sheet", type=Path)
    schedule.add_argument("--workflow", required=True)
    schedule.add_argument("--when", required=True, help='e.g. "tomorrow 09:00", "every day 08:00"')
    config_arg(schedule)

    result = sub.add_parser("result", help="write the results workbook of any batch")
    result.add_argument("batch_id")
    result.add_argument("--output", type=Path, help="default: <sheet>-results-<id>.xlsx")
    config_arg(result)

    schedules = sub.add_parser("schedules", help="list schedules with their next fire time")
    config_arg(schedules)

    unschedule = sub.add_parser("unschedule", help="stop a schedule")
    unschedule.add_argument("schedule_id")
    config_arg(unschedule)

    # `dify-batch db upgrade|current|prune` (bot/cli/db.py)
    cli_db.add_parser(sub, config_arg)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # retries and overload are the engine's daily work and the progress bar shows their
    # outcome; without -v only errors may interrupt the bar
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.ERROR,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    name = "cmd_" + args.command.replace("-", "_")
    handler = getattr(cli_commands, name, None) or getattr(cli_db, name, None) or getattr(cli_schedule, name)
    try:
        code: int = asyncio.run(handler(args))
    except AppError as exc:
        print(f"dify-batch: {exc}", file=sys.stderr)
        for problem in getattr(exc, "problems", ())[:20]:
            print(f"  - {problem}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    return code
