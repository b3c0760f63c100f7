"""``dify-batch check SHEET --workflow W``: everything ``run`` would check, and what it would
cost, without sending a single run to Dify. Exit 0 when the sheet can run, 2 when not."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.app import open_runtime
from bot.cli.costs import estimate_line
from bot.cli.drive import cli_config, need_workflow, read_input
from bot.cli.terminal import TerminalProgress
from bot.intake import refusal
from engine.models import ParsedSheet
from engine.sheets.template import annotated_copy


def add_check_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    check = sub.add_parser("check", help="check a sheet against a workflow and estimate the run")
    check.add_argument("sheet", type=Path, help=".xlsx, .xls, .ods or .csv file")
    check.add_argument("--workflow", required=True, help="workflow name from the config")
    check.add_argument(
        "--config", type=Path, help="config file (default: $DIFY_BATCH_CONFIG, then ./config.toml)"
    )


async def cmd_check(args: argparse.Namespace) -> int:
    config = cli_config(args.config)
    need_workflow(config, args.workflow)
    data = read_input(args.sheet)
    runtime = await open_runtime(config, TerminalProgress())
    try:
        parsed = await runtime.intake.check(args.workflow, data, args.sheet.name)
        refused = refusal(parsed, args.sheet.name)
        if refused is not None:
            if not parsed.ok:
                marked = write_problems(args.sheet, data, parsed)
                print(f"Bad cells are marked in {marked}", file=sys.stderr)
            raise refused
        line = await estimate_line(runtime, args.workflow, len(parsed.rows))
    finally:
        await runtime.aclose()
    print(_ready_line(args.sheet.name, args.workflow, parsed))
    print(line)
    return 0


def _ready_line(filename: str, workflow: str, parsed: ParsedSheet) -> str:
    text = f"{filename}: {len(parsed.rows):,} rows ready for {workflow}"
    if parsed.blank_rows:
        text += f"; {parsed.blank_rows} blank rows skipped"
    if parsed.extra_columns:
        text += f"; extra columns carried through: {', '.join(parsed.extra_columns)}"
    return text + "."


def write_problems(sheet: Path, data: bytes, parsed: ParsedSheet) -> Path:
    """``<sheet>-problems.xlsx`` beside the sheet: every bad cell filled and commented."""
    target = sheet.with_name(f"{sheet.stem}-problems.xlsx")
    target.write_bytes(annotated_copy(data, sheet.name, parsed))
    return target
