"""The CLI's scheduling commands: ``schedule``, ``schedules``, ``unschedule``. They act on
the daemon's database; the daemon's periodic sync arms what they add."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.app import open_runtime
from bot.cli.drive import cli_config, cli_owner, need_workflow, read_input
from bot.cli.terminal import TerminalProgress
from bot.config import Config
from bot.scheduling import schedule_service
from engine.errors import SheetError


async def cmd_schedule(args: argparse.Namespace) -> int:
    config = cli_config(args.config)
    need_workflow(config, args.workflow)
    data = read_input(args.sheet)
    runtime = await open_runtime(config, TerminalProgress())
    try:
        parsed = await runtime.intake.check(args.workflow, data, args.sheet.name)
        if not parsed.ok:
            problems = [f"row {p.row}, column {p.column!r}: {p.message}" for p in parsed.problems]
            raise SheetError(f"{len(problems)} problem(s) in {args.sheet.name}; nothing scheduled.", problems)
        path = await runtime.intake.keep(data, args.sheet.name)
        _, bridge = schedule_service(runtime)
        schedule, next_fire = await bridge.add(
            cli_owner(), args.workflow, args.when, args.sheet.name, str(path), None
        )
    finally:
        await runtime.aclose()
    print(f"Schedule {schedule.id}: {schedule.workflow} on {schedule.source_name}, {args.when}; "
          f"next run {_when(next_fire, config)}.")
    print("The daemon (dify-batch serve) on this database runs it; "
          "dify-batch result <batch id> writes its results.", file=sys.stderr)
    return 0


async def cmd_schedules(args: argparse.Namespace) -> int:
    config = cli_config(args.config)
    runtime = await open_runtime(config, TerminalProgress())
    try:
        _, bridge = schedule_service(runtime)
        listing = await bridge.list(None)
    finally:
        await runtime.aclose()
    if not listing:
        print("No schedules.")
    for schedule, next_fire in listing:
        print(f"{schedule.id}  {schedule.workflow}  {schedule.when_text!r}  {schedule.source_name}  "
              f"{schedule.owner}  next: {_when(next_fire, config)}")
    return 0


async def cmd_unschedule(args: argparse.Namespace) -> int:
    config = cli_config(args.config)
    runtime = await open_runtime(config, TerminalProgress())
    try:
        _, bridge = schedule_service(runtime)
        # the command line is the operator's own tool, so it may remove anyone's schedule
        await bridge.remove(args.schedule_id, by=cli_owner(), is_admin=True)
    finally:
        await runtime.aclose()
    print(f"Schedule {args.schedule_id} removed.")
    return 0


def _when(moment: datetime | None, config: Config) -> str:
    if moment is None:
        return "none"
    return moment.astimezone(ZoneInfo(config.daemon.timezone)).strftime("%Y-%m-%d %H:%M %Z")
