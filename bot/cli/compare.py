"""``dify-batch run SHEET --workflow A --workflow B``: the sheet's rows on each workflow (each
on its own lane and limits) as one comparison, one combined workbook at the end. The
comparison id (``c7f3a2c``) is taken by ``resume``, ``status`` and ``result`` like a batch id.

Heavy libraries are imported inside the functions that need them (see `bot.cli.main`)."""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

from bot.cli.drive import (
    EXIT_INTERRUPTED,
    check_output,
    cli_config,
    cli_owner,
    fetch_form,
    need_concurrency,
    need_workflow,
    open_cli_runtime,
    read_input,
    wait_or_pause,
)
from bot.cli.explain import CliProblem
from engine.errors import InputError, NotFound, StateError

if TYPE_CHECKING:
    from bot.app import Runtime
    from bot.cli.compare_progress import CompareProgress
    from bot.cli.output.usage import Wording
    from engine.compare.figures import ComparisonFigures
    from engine.models import Batch, ParsedSheet

CheckSheet = Callable[["Runtime", str, bytes, Path], Awaitable["ParsedSheet"]]

COMPARE_OUTPUT_EVENT = "compare_output"
"""Where a comparison's workbook goes (detail: absolute path), on each of its batches."""


def _words() -> Wording:
    from bot.cli.output.usage import cli_wording

    return cli_wording()


def _xlsx(path: Path) -> Path:
    if path.suffix.lower() != ".xlsx":
        raise InputError(_words().compare_xlsx_only.format(path=path))
    return check_output(path)


async def cmd_compare(args: argparse.Namespace, workflows: list[str], checked_sheet: CheckSheet) -> int:
    """``run`` with two or more ``--workflow``: start one batch per workflow, wait for all.
    ``checked_sheet`` is `run`'s own check (same messages, same marked-up problems workbook)."""
    from bot.cli.compare_progress import CompareProgress
    from bot.config import with_concurrency
    from bot.results_files import CONCURRENCY_EVENT
    from engine.compare.runs import start_comparison

    words = _words()
    twice = sorted({w for w in workflows if workflows.count(w) > 1})
    if twice:
        raise InputError(words.compare_twice.format(names=", ".join(twice)))
    need_concurrency(args.concurrency)
    config = cli_config(args.config)
    for workflow in workflows:
        need_workflow(config, workflow)
        if args.concurrency is not None:
            config = with_concurrency(config, workflow, args.concurrency)
    if args.sample is not None and args.sample < 1:
        raise InputError("--sample must be 1 or more")
    output = _xlsx(args.output or args.sheet.with_name(f"{args.sheet.stem}-compare.xlsx"))
    data = read_input(args.sheet)
    progress = CompareProgress()
    runtime = await open_cli_runtime(config, progress)
    try:
        sheets: dict[str, ParsedSheet] = {}
        for workflow in workflows:  # every form is asked for and checked before any row runs
            await fetch_form(runtime, workflow)
            sheets[workflow] = await checked_sheet(runtime, workflow, data, args.sheet)

        async def submit(workflow: str, parsed: ParsedSheet, comparison_id: str) -> Batch:
            batch = await runtime.intake.submit(
                workflow, cli_owner(), data, args.sheet.name, parsed=parsed, sample=args.sample,
                locale=progress.words.locale, comparison_id=comparison_id,
            )
            await runtime.store.add_event(batch.id, COMPARE_OUTPUT_EVENT, str(output))
            concurrency = config.workflows[workflow].settings.concurrency
            await runtime.store.add_event(batch.id, CONCURRENCY_EVENT, str(concurrency))
            return batch

        comparison_id, batches = await start_comparison(sheets, submit, runtime.store)
        print(words.compare_started.format(
            id=comparison_id, total=batches[0].total, workflows=", ".join(workflows)), file=sys.stderr)
        for batch in batches:
            print(words.compare_batch.format(workflow=batch.workflow, batch=batch.id), file=sys.stderr)
        progress.expect(batches)
        await runtime.service.start()
        return await drive_comparison(runtime, progress, comparison_id, output)
    finally:
        await runtime.aclose()


async def comparison_batches(runtime: Runtime, comparison_id: str) -> list[Batch]:
    found = await runtime.store.comparison_batches(comparison_id)
    if not found:
        raise NotFound(f"there is no comparison {comparison_id}")
    return found


async def cmd_resume_comparison(args: argparse.Namespace) -> int:
    """``resume <comparison id>``: every batch of it continues; then the workbook is written."""
    from engine.models import BatchStatus

    comparison_id = args.batch_id
    output = _xlsx(args.output) if args.output else None
    progress, runtime, batches = await open_comparison(args)
    try:
        await _whole(runtime, comparison_id, batches)
        output = await _output_for(runtime, batches, output)
        progress.expect(batches)
        service = runtime.service
        unfinished = [b.id for b in batches if not b.status.is_final]
        if unfinished:
            await runtime.intake.finish_storing()  # a big sheet whose storing a crash cut short
            await service.recover(only=unfinished)
            for batch_id in unfinished:
                if (await service.get(batch_id)).status in (BatchStatus.PAUSED, BatchStatus.PENDING):
                    await service.resume(batch_id)
            await service.start()
            workflows = ", ".join(b.workflow for b in batches)
            print(_words().compare_resuming.format(id=comparison_id, workflows=workflows), file=sys.stderr)
        return await drive_comparison(runtime, progress, comparison_id, output)
    finally:
        await runtime.aclose()


async def _whole(runtime: Runtime, comparison_id: str, batches: list[Batch]) -> None:
    """Refuse, saying what to do, a comparison a crash cut short between creating its batches."""
    from engine.compare.runs import missing_workflows

    missing = await missing_workflows(runtime.store, batches)
    if missing == []:
        return
    words = _words()
    named = [b.workflow for b in batches] + (missing or ["…"])
    raise StateError(words.compare_incomplete.format(
        id=comparison_id, missing=", ".join(missing or [words.compare_missing_other]),
        workflows=" ".join(f"--workflow {w}" for w in named), batches=", ".join(b.id for b in batches)))


async def open_comparison(args: argparse.Namespace) -> tuple[CompareProgress, Runtime, list[Batch]]:
    """The progress, the runtime and the batches of comparison ``args.batch_id``, each batch
    on its own concurrency: ``--concurrency`` if given, else the one it started with."""
    from bot.cli.compare_progress import CompareProgress
    from bot.config import with_concurrency
    from bot.results_files import CONCURRENCY_EVENT, recorded_concurrency

    need_concurrency(args.concurrency)
    concurrency: int | None = args.concurrency
    config = cli_config(args.config)
    progress = CompareProgress()
    runtime = await open_cli_runtime(config, progress)
    wanted = config
    try:
        batches = await comparison_batches(runtime, args.batch_id)
        for batch in batches:
            if concurrency is not None:
                await runtime.store.add_event(batch.id, CONCURRENCY_EVENT, str(concurrency))
            rows = concurrency or await recorded_concurrency(runtime.store, batch.id)
            workflow = wanted.workflows.get(batch.workflow)
            if rows is not None and workflow is not None and workflow.settings.concurrency != rows:
                wanted = with_concurrency(wanted, batch.workflow, rows)
    except BaseException:
        await runtime.aclose()
        raise
    if wanted is not config:  # the lanes take their limits when the runtime opens
        await runtime.aclose()
        runtime = await open_cli_runtime(wanted, progress)
    return progress, runtime, batches


async def _output_for(runtime: Runtime, batches: list[Batch], given: Path | None) -> Path:
    if given is not None:
        for batch in batches:
            await runtime.store.add_event(batch.id, COMPARE_OUTPUT_EVENT, str(given))
        return given
    recorded = await recorded_workbook(runtime, batches[0].id)
    stem = Path(batches[0].source_name).stem or batches[0].id
    return recorded or Path(f"{stem}-compare.xlsx").resolve()


async def recorded_workbook(runtime: Runtime, batch_id: str) -> Path | None:
    for event in reversed(await runtime.store.events(batch_id)):
        if event.kind == COMPARE_OUTPUT_EVENT:
            return Path(event.detail)
    return None


async def drive_comparison(
    runtime: Runtime, progress: CompareProgress, comparison_id: str, output: Path
) -> int:
    """Wait for every batch of the comparison; Ctrl-C or SIGTERM pauses them all. Then write
    the combined workbook and print how each workflow did."""
    from engine.models import BatchStatus

    words = progress.words
    batches = await comparison_batches(runtime, comparison_id)
    grace = runtime.config.daemon.shutdown_grace_s
    got, timed_out = await wait_or_pause(runtime, [b.id for b in batches], grace, words.cli_pausing)
    progress.finish()
    if timed_out:
        await runtime.service.shutdown(0)
        print(words.compare_paused.format(id=comparison_id), file=sys.stderr)
        return EXIT_INTERRUPTED.get(got or signal.SIGINT.value, 130)
    finals = [await runtime.service.get(b.id) for b in batches]
    if any(b.status is BatchStatus.PAUSED for b in finals):
        for batch in finals:
            if batch.status is BatchStatus.PAUSED and batch.error:  # paused itself (Dify unreachable)
                print(words.cli_paused_itself.format(id=batch.id, error=batch.error), file=sys.stderr)
        print(words.compare_paused.format(id=comparison_id), file=sys.stderr)
        return EXIT_INTERRUPTED.get(got or signal.SIGINT.value, 130)
    figures = await _write(runtime, comparison_id, finals, output)
    from bot.cli.compare_progress import figures_lines

    print("\n".join(figures_lines(figures, words)), file=sys.stderr)
    print(str(output))
    return 0 if all(f.succeeded == f.rows for f in figures.workflows) else 1


async def _write(
    runtime: Runtime, comparison_id: str, batches: list[Batch], output: Path
) -> ComparisonFigures:
    try:
        return await write_comparison_file(runtime, comparison_id, batches, output)
    except OSError as exc:
        raise CliProblem(_words().compare_not_written.format(
            id=comparison_id, path=output, reason=exc.strerror or exc)) from exc


async def write_comparison_file(
    runtime: Runtime, comparison_id: str, batches: list[Batch], target: Path
) -> ComparisonFigures:
    """The combined workbook, via a temporary file renamed into place (never half a workbook)."""
    import os
    import secrets

    from bot.chat.text.catalogues import wording_for
    from bot.results_files import remove_leftovers
    from engine.sheets.compare_sheet import write_comparison

    wording = wording_for(batches[0].locale)
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_leftovers(target)
    temp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.part")
    try:
        with open(temp, "wb") as handle:  # noqa: ASYNC230 - the one process that waits for it
            figures = await write_comparison(
                handle, batches, runtime.store, comparison_id=comparison_id,
                labels=wording.summary_labels, words=wording.compare_labels,
            )
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return figures


async def cmd_result_comparison(args: argparse.Namespace) -> int:
    """``result <comparison id>``: write its workbook (as far as its rows have run)."""
    given = _xlsx(args.output) if args.output else None
    runtime = await open_cli_runtime(cli_config(args.config))
    try:
        batches = await comparison_batches(runtime, args.batch_id)
        stem = Path(batches[0].source_name).stem or args.batch_id
        output = given or await recorded_workbook(runtime, batches[0].id) or Path(
            f"{stem}-compare-{args.batch_id}.xlsx")
        await write_comparison_file(runtime, args.batch_id, batches, output)
    finally:
        await runtime.aclose()
    print(str(output))
    return 0
