"""The CLI's scheduling commands: ``schedule``, ``schedules``, ``unschedule``. They act on
the daemon's database; the daemon's periodic sync arms what they add."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from bot.cli.drive import cli_config, cli_owner, fetch_form, need_workflow, open_cli_runtime, read_input
from bot.cli.explain import Subcommands
from bot.cli.output.usage import cli_wording, says
from engine.errors import SheetError

if TYPE_CHECKING:
    from bot.config import Config


def register(sub: Subcommands, common: argparse.ArgumentParser) -> None:
    schedule = sub.add_parser("schedule", parents=[common], help="run a sheet later or on a recurring time")
    schedule.add_argument("sheet", type=Path, help="the input sheet: .xlsx, .xls, .ods or .csv")
    schedule.add_argument("--workflow", required=True, help="workflow name from the config")
    schedule.add_argument("--when", required=True, help='e.g. "tomorrow 09:00", "every day 08:00"')
    schedule.set_defaults(handler=cmd_schedule)

    schedules = sub.add_parser("schedules", parents=[common], help="list schedules with their next fire time")
    schedules.set_defaults(handler=cmd_schedules)

    unschedule = sub.add_parser("unschedule", parents=[common], help="stop a schedule")
    unschedule.add_argument("schedule_id", metavar="ID", help="the schedule to stop")
    unschedule.set_defaults(handler=cmd_unschedule)


async def cmd_schedule(args: argparse.Namespace) -> int:
    config = cli_config(args.config)
    need_workflow(config, args.workflow)
    data = read_input(args.sheet)
    runtime = await open_cli_runtime(config)
    try:
        await fetch_form(runtime, args.workflow)
        parsed = await runtime.intake.check(args.workflow, data, args.sheet.name)
        if not parsed.ok:
            from engine.sheets.sentences import problem_line, sheet_phrase

            problems = [problem_line(p) for p in parsed.problems]
            said = sheet_phrase("rows_not_scheduled", n=len(problems), filename=args.sheet.name)
            raise SheetError(said, problems)
        path = await runtime.intake.keep(data, args.sheet.name)
        from bot.scheduling import schedule_service

        _, bridge = schedule_service(runtime)
        schedule, next_fire = await bridge.add(
            cli_owner(), args.workflow, args.when, args.sheet.name, str(path), None,
            cli_wording().locale,
        )
    finally:
        await runtime.aclose()
    print(says(
        "scheduled", id=schedule.id, workflow=schedule.workflow, filename=schedule.source_name,
        when=args.when, next=_when(next_fire, config),
    ))
    print(says("scheduled_tail"), file=sys.stderr)
    return 0


async def cmd_schedules(args: argparse.Namespace) -> int:
    config = cli_config(args.config)
    runtime = await open_cli_runtime(config)
    try:
        from bot.scheduling import schedule_service

        _, bridge = schedule_service(runtime)
        listing = await bridge.list(None)
    finally:
        await runtime.aclose()
    words = cli_wording()
    if not listing:
        print(says("no_schedules", words))
    for schedule, next_fire in listing:
        print(says(
            "schedule_row", words, id=schedule.id, workflow=schedule.workflow, when=schedule.when_text,
            filename=schedule.source_name, owner=schedule.owner, next=_when(next_fire, config),
        ))
    return 0


async def cmd_unschedule(args: argparse.Namespace) -> int:
    config = cli_config(args.config)
    runtime = await open_cli_runtime(config)
    try:
        from bot.scheduling import schedule_service

        _, bridge = schedule_service(runtime)
        # the command line is the operator's own tool, so it may remove anyone's schedule
        await bridge.remove(args.schedule_id, by=cli_owner(), is_admin=True)
    finally:
        await runtime.aclose()
    print(says("unscheduled", id=args.schedule_id))
    return 0


def _when(moment: datetime | None, config: Config) -> str:
    from zoneinfo import ZoneInfo

    if moment is None:
        return says("never")
    return moment.astimezone(ZoneInfo(config.daemon.timezone)).strftime("%Y-%m-%d %H:%M %Z")
