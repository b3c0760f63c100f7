"""What the CLI's commands share: reading the config and the sheet, and `drive`, which
waits for a batch, pauses it cleanly on Ctrl-C and writes the results workbook."""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

from bot.app import Runtime
from bot.cli.terminal import TerminalProgress, format_duration
from bot.config import Config
from bot.config_loader import default_config_path, load_config
from engine.errors import ConfigError, InputError
from engine.models import Batch, BatchStatus
from engine.sheets.results import write_batch_results

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
    output.parent.mkdir(parents=True, exist_ok=True)
    await write_batch_results(output, final, runtime.store)
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


async def recorded_output(runtime: Runtime, batch: Batch) -> Path:
    for event in reversed(await runtime.store.events(batch.id)):
        if event.kind == OUTPUT_EVENT:
            return Path(event.detail)
    return Path(f"{Path(batch.source_name).stem or batch.id}-results.xlsx")
