"""``dify-batch check SHEET --workflow W``: everything ``run`` would check, and what it would
cost, without sending a single run to Dify. Exit 0 when the sheet can run, 2 when not."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from bot.cli.drive import cli_config, fetch_form, need_workflow, open_cli_runtime, read_input
from bot.cli.explain import Subcommands

if TYPE_CHECKING:
    from engine.models import ParsedSheet


def register(sub: Subcommands, common: argparse.ArgumentParser) -> None:
    check = sub.add_parser(
        "check", parents=[common], help="check a sheet against a workflow and estimate the run"
    )
    check.add_argument("sheet", type=Path, help="the input sheet: .xlsx, .xls, .ods or .csv")
    check.add_argument("--workflow", required=True, help="workflow name from the config")
    check.set_defaults(handler=cmd_check)


async def cmd_check(args: argparse.Namespace) -> int:
    # the same checks, words and marked-up copy as `run`, from the same function
    from bot.cli.batches import checked_sheet
    from bot.cli.output.costs import estimate_line

    config = cli_config(args.config)
    need_workflow(config, args.workflow)
    data = read_input(args.sheet)
    runtime = await open_cli_runtime(config)
    try:
        await fetch_form(runtime, args.workflow)
        parsed = await checked_sheet(runtime, args.workflow, data, args.sheet)
        line = await estimate_line(runtime, args.workflow, len(parsed.rows))
    finally:
        await runtime.aclose()
    print(_ready_line(args.sheet.name, args.workflow, parsed))
    print(line)
    return 0


def _ready_line(filename: str, workflow: str, parsed: ParsedSheet) -> str:
    from bot.cli.output.usage import cli_wording

    words = cli_wording()
    said = words.cli_says
    text = said["ready"].format(filename=filename, rows=f"{len(parsed.rows):,}", workflow=workflow)
    if parsed.blank_rows:
        text += said["ready_blank"].format(n=parsed.blank_rows)
    if parsed.extra_columns:
        text += said["ready_extra"].format(columns=words.list_sep.join(parsed.extra_columns))
    return text + said["ready_end"]
