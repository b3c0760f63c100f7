"""The CLI's commands, one coroutine each; they share `drive`, which waits for a batch,
pauses it cleanly on Ctrl-C and writes the results workbook."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import signal
import sys
from collections.abc import Iterator
from datetime import UTC
from pathlib import Path

from bot.app import Runtime, dify_client, open_runtime, with_concurrency
from bot.cli.terminal import TerminalProgress, format_duration
from bot.config import Config, WorkflowConfig
from bot.config_loader import default_config_path, load_config
from engine.errors import ConfigError, InputError, WorkflowError
from engine.models import Batch, BatchStatus
from engine.sheets.results import write_results
from engine.sheets.template import template_workbook

EXIT_USAGE = 2

OUTPUT_EVENT = "cli_output"
"""The batch event that remembers where a CLI run writes its results (for `resume`)."""


def cli_config(path: Path | None) -> Config:
    return load_config(path or default_config_path())


def cli_owner() -> str:
    return f"cli:{getpass.getuser()}"


def read_input(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror})") from None


def need_workflow(config: Config, name: str) -> None:
    if name not in config.workflows:
        known = ", ".join(sorted(config.workflows)) or "none configured"
        raise ConfigError([f"no workflow named {name!r} (known: {known})"])


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


async def submit_and_drive(
    runtime: Runtime,
    progress: TerminalProgress,
    workflow: str,
    data: bytes,
    sheet: Path,
    output: Path,
) -> int:
    """Check the sheet, start the batch, and see it through to the results file."""
    batch = await runtime.intake.submit(workflow, cli_owner(), data, sheet.name)
    await runtime.store.add_event(batch.id, OUTPUT_EVENT, str(output.resolve()))
    print(f"Batch {batch.id}: {batch.total} rows on {workflow}", file=sys.stderr)
    await runtime.service.start()
    return await drive(runtime, progress, batch, output)


async def drive(runtime: Runtime, progress: TerminalProgress, batch: Batch, output: Path) -> int:
    """Wait for the batch; Ctrl-C pauses it. Write the results and print the summary."""
    service = runtime.service
    with _pause_on_interrupt(runtime, batch.id):
        final = await service.wait(batch.id)
    progress.finish()
    if final.status is BatchStatus.PAUSED:
        print(
            f"Paused batch {batch.id}; rows in flight were kept. "
            f"Continue with: dify-batch resume {batch.id}",
            file=sys.stderr,
        )
        return 130
    rows = await service.rows(batch.id)
    output.parent.mkdir(parents=True, exist_ok=True)
    write_results(output, final, rows)
    counts = await service.progress(batch.id)
    took = ""
    if final.started_at and final.finished_at:
        took = f" in {format_duration((final.finished_at - final.started_at).total_seconds())}"
    print(str(output))
    print(
        f"{final.status.value}: {counts.succeeded} ok, {counts.failed} failed"
        + (f", {counts.cancelled} cancelled" if counts.cancelled else "")
        + f" of {counts.total} rows{took}, {counts.tokens} tokens",
        file=sys.stderr,
    )
    return 0 if counts.succeeded == counts.total else 1


@contextlib.contextmanager
def _pause_on_interrupt(runtime: Runtime, batch_id: str) -> Iterator[None]:
    loop = asyncio.get_running_loop()
    pausing: list[asyncio.Task[object]] = []

    def pause() -> None:
        if pausing:
            return
        print("\nPausing: letting rows in flight finish…", file=sys.stderr)
        pausing.append(loop.create_task(runtime.service.pause(batch_id)))

    loop.add_signal_handler(signal.SIGINT, pause)
    try:
        yield
    finally:
        loop.remove_signal_handler(signal.SIGINT)


async def cmd_resume(args: argparse.Namespace) -> int:
    config = cli_config(args.config)
    progress = TerminalProgress()
    runtime = await open_runtime(config, progress)
    try:
        batch = await runtime.service.get(args.batch_id)
        if batch.status.is_final:
            raise InputError(f"batch {batch.id} is already {batch.status.value}")
        output = args.output or await _recorded_output(runtime, batch)
        await runtime.service.recover()
        batch = await runtime.service.get(batch.id)
        if batch.status is BatchStatus.PAUSED:
            batch = await runtime.service.resume(batch.id)
        await runtime.service.start()
        print(f"Resuming batch {batch.id} ({batch.workflow})", file=sys.stderr)
        return await drive(runtime, progress, batch, output)
    finally:
        await runtime.aclose()


async def _recorded_output(runtime: Runtime, batch: Batch) -> Path:
    for event in reversed(await runtime.store.events(batch.id)):
        if event.kind == OUTPUT_EVENT:
            return Path(event.detail)
    return Path(f"{Path(batch.source_name).stem or batch.id}-results.xlsx")


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
        write_results(output, batch, await runtime.service.rows(batch.id))
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

