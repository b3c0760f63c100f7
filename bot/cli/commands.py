"""The CLI's commands, one coroutine each; what they share is in `bot.cli.drive`."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC
from pathlib import Path

from bot.app import Runtime, dify_client, open_runtime, with_concurrency
from bot.cli.drive import (
    EXIT_USAGE,
    cli_config,
    drive,
    need_workflow,
    read_input,
    recorded_output,
    submit_and_drive,
)
from bot.cli.terminal import TerminalProgress
from bot.config import WorkflowConfig
from engine.errors import InputError, WorkflowError
from engine.models import Batch, BatchStatus
from engine.sheets.results import write_batch_results
from engine.sheets.template import template_workbook


async def cmd_run(args: argparse.Namespace) -> int:
    config = cli_config(args.config)
    need_workflow(config, args.workflow)
    if args.concurrency is not None:
        if args.concurrency < 1:
            raise InputError("--concurrency must be 1 or more")
        config = with_concurrency(config, args.workflow, args.concurrency)
    data = read_input(args.sheet)
    output = args.output or args.sheet.with_name(f"{args.sheet.stem}-results.xlsx")
    progress = TerminalProgress()
    runtime = await open_runtime(config, progress)
    try:
        return await submit_and_drive(runtime, progress, args.workflow, data, args.sheet, output)
    finally:
        await runtime.aclose()


async def cmd_resume(args: argparse.Namespace) -> int:
    config = cli_config(args.config)
    progress = TerminalProgress()
    runtime = await open_runtime(config, progress)
    try:
        batch = await runtime.service.get(args.batch_id)
        if batch.status.is_final:
            raise InputError(f"batch {batch.id} is already {batch.status.value}")
        output = args.output or await recorded_output(runtime, batch)
        await runtime.intake.finish_storing()  # a big sheet cut short by a crash
        await runtime.service.recover()
        batch = await runtime.service.get(batch.id)
        if batch.status is BatchStatus.PAUSED:
            batch = await runtime.service.resume(batch.id)
        await runtime.service.start()
        print(f"Resuming batch {batch.id} ({batch.workflow})", file=sys.stderr)
        return await drive(runtime, progress, batch, output)
    finally:
        await runtime.aclose()


async def cmd_status(args: argparse.Namespace) -> int:
    runtime = await open_runtime(cli_config(args.config), TerminalProgress())
    try:
        if args.batch_id:
            await _print_batch(runtime, await runtime.service.get(args.batch_id))
            return 0
        batches = await runtime.service.list(None, limit=20)
        if not batches:
            print("No batches yet.")
        for batch in batches:
            await _print_batch(runtime, batch)
        return 0
    finally:
        await runtime.aclose()


async def _print_batch(runtime: Runtime, batch: Batch) -> None:
    counts = await runtime.service.progress(batch.id)
    when = batch.created_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M")
    print(
        f"{batch.id}  {batch.status.value:<9}  {counts.done}/{counts.total}  "
        f"ok {counts.succeeded}  failed {counts.failed}  {batch.workflow}  "
        f"{batch.source_name}  {batch.owner}  {when} UTC"
    )


async def cmd_template(args: argparse.Namespace) -> int:
    config = cli_config(args.config)
    need_workflow(config, args.workflow)
    runtime = await open_runtime(config, TerminalProgress())
    try:
        form = await runtime.intake.form(args.workflow)
    finally:
        await runtime.aclose()
    output = args.output or Path(f"{args.workflow}-template.xlsx")
    output.write_bytes(template_workbook(args.workflow, form))
    print(str(output))
    return 0


async def cmd_check_config(args: argparse.Namespace) -> int:
    config = cli_config(args.file)
    fronts = [n for n, on in (("telegram", config.telegram.enabled), ("slack", config.slack.enabled)) if on]
    print(
        f"{config.source}: OK. {len(config.workflows)} workflow(s): "
        f"{', '.join(sorted(config.workflows)) or 'none'}; "
        f"chat: {', '.join(fronts) or 'none enabled'}; database: {_redact(config.daemon.database_url)}"
    )
    if not args.online:
        return 0
    failures = 0
    for name, workflow in sorted(config.workflows.items()):
        failures += not await _check_app(name, workflow)
    return EXIT_USAGE if failures else 0


async def _check_app(name: str, workflow: WorkflowConfig) -> bool:
    """Fetch one app's form: proves the URL, the key and the app type (never prints the key)."""
    client = dify_client(workflow)
    try:
        form = await client.form()
    except WorkflowError as exc:
        print(f"  {name}: {workflow.base_url}: {exc}", file=sys.stderr)
        return False
    finally:
        await client.aclose()
    labels = ", ".join(f.label for f in form.fields) or "no inputs"
    print(f"  {name}: OK, {form.app_type.value} app; inputs: {labels}")
    return True


def _redact(url: str) -> str:
    """A database URL without its password."""
    scheme, sep, rest = url.partition("://")
    if "@" in rest and sep:
        creds, _, host = rest.rpartition("@")
        user = creds.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}" if ":" in creds else url
    return url


async def cmd_result(args: argparse.Namespace) -> int:
    runtime = await open_runtime(cli_config(args.config), TerminalProgress())
    try:
        batch = await runtime.service.get(args.batch_id)
        output = args.output or Path(f"{Path(batch.source_name).stem or batch.id}-results-{batch.id}.xlsx")
        await write_batch_results(output, batch, runtime.store)
    finally:
        await runtime.aclose()
    print(str(output))
    return 0


async def cmd_demo(args: argparse.Namespace) -> int:
    from bot.cli.demo import run_demo

    return await run_demo(args.dir, args.rows)


async def cmd_serve(args: argparse.Namespace) -> int:
    from bot.daemon import serve

    return await serve(cli_config(args.config))

