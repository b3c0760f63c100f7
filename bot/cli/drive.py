"""What the CLI's commands share: reading the config and the sheet, checking ``--output``,
opening the database, and `drive`, which waits for a batch, pauses it cleanly on Ctrl-C or
SIGTERM and writes the results file.

Heavy libraries are imported inside the functions that need them (see `bot.cli.main`).
"""

from __future__ import annotations

import contextlib
import getpass
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bot.cli.explain import EXIT_USAGE, CliProblem
from bot.cli.output.usage import cli_wording, says
from engine.errors import ConfigError, InputError, InvalidTransition, WorkflowError

if TYPE_CHECKING:
    from bot.app import Runtime
    from bot.cli.output.terminal import TerminalProgress
    from bot.config import Config
    from engine.models import Batch, InputForm

__all__ = ["EXIT_USAGE"]

EXIT_INTERRUPTED: dict[int, int] = {signal.SIGINT: 130, signal.SIGTERM: 143}


def cli_config(path: Path | None) -> Config:
    from bot.config_loader import default_config_path, load_config

    return load_config(path or default_config_path())


def cli_owner() -> str:
    return f"cli:{getpass.getuser()}"


def read_input(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise InputError(says("no_such_file", path=path)) from None
    except IsADirectoryError:
        raise InputError(says("is_a_folder", path=path)) from None
    except OSError as exc:
        raise InputError(says("unreadable", path=path, why=exc.strerror)) from None


def need_workflow(config: Config, name: str) -> None:
    if name not in config.workflows:
        from bot.config_sentences import config_phrase

        known = ", ".join(sorted(config.workflows)) or cli_wording().config_sentences["none_configured"]
        raise ConfigError([config_phrase("no_such_workflow", name=name, known=known)])


def need_concurrency(value: int | None) -> None:
    if value is not None and value < 1:
        raise InputError(says("concurrency_min"))


def check_output(path: Path) -> Path:
    """Refuse an ``--output`` that could not be written, before any row is sent."""
    from bot.results_files import OUTPUT_SUFFIXES

    if path.is_dir():
        raise InputError(says("output_folder", path=path))
    if path.suffix.lower() not in OUTPUT_SUFFIXES:
        raise InputError(says("output_suffix", path=path))
    folder = path.parent
    existing = folder
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise InputError(says("output_parent_file", path=path, existing=existing))
    if existing == folder:
        _probe(folder, path)
    elif not os.access(existing, os.W_OK | os.X_OK):
        raise InputError(says("output_read_only", path=path, folder=folder, existing=existing))
    if path.exists() and not os.access(path, os.W_OK):
        raise InputError(says("output_locked", path=path))
    return path.resolve()


def _probe(folder: Path, path: Path) -> None:
    """Write and remove a small file: the only sure test that the folder takes files."""
    probe = folder / f".{path.name}.probe.part"
    try:
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise InputError(says("output_unwritable", path=path, folder=folder, why=exc.strerror)) from None


async def open_cli_runtime(config: Config, progress: TerminalProgress | None = None) -> Runtime:
    """Open the database for a CLI command (this process runs only its own batches), with a
    clear message when that fails; then write any results file a crash left owed."""
    from bot.app import open_runtime
    from bot.cli.explain import database_problem
    from bot.cli.output.terminal import TerminalProgress
    from bot.results_files import deliver_owed

    try:
        runtime = await open_runtime(config, progress or TerminalProgress(), serve_others=False)
    except Exception as exc:
        raise database_problem(config, exc) from exc
    try:
        for batch_id, path in await deliver_owed(runtime.store):
            print(says("owed_written", id=batch_id, path=path), file=sys.stderr)
    except BaseException:
        await runtime.aclose()
        raise
    return runtime


async def fetch_form(runtime: Runtime, workflow: str) -> InputForm:
    """The app's input form, or one sentence on what to fix when Dify cannot give it."""
    from bot.cli.explain import dify_problem

    try:
        return await runtime.intake.form(workflow)
    except WorkflowError as exc:
        raise dify_problem(runtime.config.workflows[workflow], exc) from exc


async def drive(runtime: Runtime, progress: TerminalProgress, batch: Batch, output: Path) -> int:
    """Wait for the batch; Ctrl-C or SIGTERM pauses it. Write the results and print the summary."""
    from bot.results_files import write_for
    from engine.models import BatchStatus

    words = progress.words
    grace = runtime.config.daemon.shutdown_grace_s
    got, timed_out = await wait_or_pause(runtime, [batch.id], grace, words.cli_pausing)
    progress.finish()
    if timed_out:
        await runtime.service.shutdown(0)
        print(words.cli_paused_grace.format(id=batch.id, grace=f"{grace:g}"), file=sys.stderr)
        return EXIT_INTERRUPTED.get(got or signal.SIGINT.value, 130)
    final = await runtime.service.get(batch.id)
    if final.status is BatchStatus.PAUSED:
        if final.error:  # it paused itself (e.g. Dify unreachable for outage_pause_after_s)
            from bot.chat.text.engine_said import engine_error

            error = engine_error(final.error, words)
            print(words.cli_paused_itself.format(id=batch.id, error=error), file=sys.stderr)
        by = "" if got or final.error else words.cli_paused_elsewhere
        print(words.cli_paused.format(id=batch.id, by=by), file=sys.stderr)
        return EXIT_INTERRUPTED.get(got or signal.SIGINT.value, 130)
    try:
        await write_for(runtime.store, batch.id, output)
    except OSError as exc:
        raise CliProblem(
            says("results_unwritten", words, id=batch.id, path=output, why=exc.strerror or exc)
        ) from exc
    if final.sample:  # what a person tries a sample for: the outputs, right here
        from bot.cli.output.sample import sample_lines

        print("\n".join(sample_lines(await runtime.service.rows(batch.id))))
    print(str(output))
    return await print_summary(runtime, final)


async def print_summary(runtime: Runtime, final: Batch) -> int:
    """``completed: 40 ok, 0 failed of 40 rows in 6s, 4273 tokens``, in the terminal's language."""
    from bot.chat.text.catalogues import say_duration

    words = cli_wording()
    counts = await runtime.service.progress(final.id)
    took = ""
    if final.started_at and final.finished_at:
        duration = say_duration((final.finished_at - final.started_at).total_seconds(), words)
        took = words.cli_summary_took.format(duration=duration)
    cancelled = words.cli_summary_cancelled.format(n=counts.cancelled) if counts.cancelled else ""
    print(
        words.cli_summary.format(
            status=words.summary_labels[f"status_{final.status.value}"], ok=counts.succeeded,
            failed=counts.failed, cancelled=cancelled, total=counts.total, took=took, tokens=counts.tokens,
        ),
        file=sys.stderr,
    )
    return 0 if counts.succeeded == counts.total else 1


async def wait_or_pause(
    runtime: Runtime, batch_ids: Sequence[str], grace_s: float, pausing_text: str
) -> tuple[int | None, bool]:
    """Wait until every batch settles (one, or the batches of a comparison). The first
    Ctrl-C or SIGTERM pauses them all and lets rows in flight finish for up to ``grace_s``;
    a second one stops waiting at once. Returns the signal that arrived (if any) and
    whether the wait was cut short."""
    import asyncio

    loop = asyncio.get_running_loop()

    async def all_settled() -> None:
        for batch_id in batch_ids:
            await runtime.service.wait(batch_id)

    # one task, not gather: a cancelled gather ends with an exception, not as cancelled
    waiting = asyncio.ensure_future(all_settled())
    received: list[int] = []
    pausing: list[asyncio.Task[object]] = []

    def on_signal(signum: int) -> None:
        received.append(signum)
        if len(received) > 1:
            waiting.cancel()
            return
        print("\n" + pausing_text.format(grace=f"{grace_s:g}"), file=sys.stderr)
        pausing.extend(loop.create_task(runtime.service.pause(b)) for b in batch_ids)
        loop.call_later(grace_s, waiting.cancel)

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, on_signal, signum)
    timed_out = False
    try:
        await waiting
    except asyncio.CancelledError:
        if not received or not waiting.cancelled():
            raise
        timed_out = True
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
    for task in pausing:
        # InvalidTransition: it finished before the pause landed, so the results are written as usual
        with contextlib.suppress(InvalidTransition):
            await task
    return (received[0] if received else None), timed_out
