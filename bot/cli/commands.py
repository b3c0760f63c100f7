"""The CLI's other commands: ``template``, ``demo`` and ``serve``."""

from __future__ import annotations

import argparse
from pathlib import Path

from bot.cli.drive import check_output, cli_config, fetch_form, need_workflow, open_cli_runtime
from bot.cli.explain import Subcommands
from engine.errors import InputError


def register(sub: Subcommands, common: argparse.ArgumentParser) -> None:
    template = sub.add_parser("template", parents=[common], help="write an empty input sheet for a workflow")
    template.add_argument("workflow", help="workflow name from the config")
    template.add_argument("--output", type=Path, metavar="FILE", help="default: <workflow>-template.xlsx")
    template.set_defaults(handler=cmd_template)

    demo = sub.add_parser("demo", parents=[common], help="try it: a sample sheet through a simulated app")
    demo.add_argument("--dir", type=Path, default=Path("dify-batch-demo"), help="where to write")
    demo.add_argument("--rows", type=int, default=40, help="how many sample rows")
    demo.set_defaults(handler=cmd_demo)

    serve = sub.add_parser("serve", parents=[common], help="run the chat daemon (Telegram, Slack, scheduler)")
    serve.set_defaults(handler=cmd_serve)


async def cmd_template(args: argparse.Namespace) -> int:
    from bot.cli.output.usage import cli_wording
    from engine.sheets.template import template_workbook

    config = cli_config(args.config)
    need_workflow(config, args.workflow)
    if args.output is not None:
        if args.output.suffix.lower() != ".xlsx":
            from bot.cli.output.usage import says

            raise InputError(says("template_xlsx", path=args.output))
        check_output(args.output)
    runtime = await open_cli_runtime(config)
    try:
        form = await fetch_form(runtime, args.workflow)
    finally:
        await runtime.aclose()
    output = args.output or Path(f"{args.workflow}-template.xlsx")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(template_workbook(args.workflow, form, labels=cli_wording().template_labels))
    print(str(output))
    return 0


async def cmd_demo(args: argparse.Namespace) -> int:
    from bot.cli.demo.run import run_demo

    return await run_demo(args.dir, args.rows)


async def cmd_serve(args: argparse.Namespace) -> int:
    from bot.daemon import serve

    return await serve(cli_config(args.config))
