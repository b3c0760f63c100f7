"""Commands that run a batch in this process and write its results file: ``run``,
``resume`` and ``retry``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bot.cli.drive import (
    check_output,
    cli_config,
    cli_owner,
    drive,
    fetch_form,
    need_concurrency,
    need_workflow,
    open_cli_runtime,
    print_summary,
    read_input,
)
from bot.cli.explain import Subcommands
from bot.cli.output.usage import cli_wording, says
from engine.errors import InputError, SheetError

if TYPE_CHECKING:
    from bot.app import Runtime
    from bot.cli.output.terminal import TerminalProgress
    from bot.config import Config
    from engine.models import Batch, ParsedSheet


_OUTPUT_HELP = "results file (default: the one the run was given)"


def register(sub: Subcommands, common: argparse.ArgumentParser) -> None:
    run = sub.add_parser("run", parents=[common], help="run a workflow over a sheet, write the results")
    run.add_argument("sheet", type=Path, help="the input sheet: .xlsx, .xls, .ods or .csv")
    run.add_argument(
        "--workflow", required=True, action="append",
        help="workflow name from the config; name two or more to compare them on the same rows",
    )
    run.add_argument(
        "--output", type=Path, metavar="FILE",
        help=".xlsx or .csv (default: <sheet>-results.xlsx; a comparison: <sheet>-compare.xlsx)",
    )
    run.add_argument("--concurrency", type=int, metavar="N", help="rows in flight at once for this run")
    run.add_argument(
        "--sample", type=int, metavar="N", help="run only the first N rows as a sample; show their outputs"
    )
    run.set_defaults(handler=cmd_run)

    resume = sub.add_parser("resume", parents=[common], help="continue an interrupted or paused batch")
    resume.add_argument(
        "batch_id", metavar="ID", help="the batch or comparison to continue (see dify-batch status)"
    )
    resume.add_argument("--output", type=Path, metavar="FILE", help=_OUTPUT_HELP)
    resume.add_argument(
        "--concurrency", type=int, metavar="N", help="rows in flight (default: what the batch started with)"
    )
    resume.set_defaults(handler=cmd_resume)

    retry = sub.add_parser("retry", parents=[common], help="run a finished batch's failed rows again")
    retry.add_argument("batch_id", metavar="ID", help="the batch (or comparison) to retry")
    retry.add_argument("--output", type=Path, metavar="FILE", help=_OUTPUT_HELP)
    retry.add_argument("--concurrency", type=int, metavar="N", help="rows in flight at once")
    retry.set_defaults(handler=cmd_retry)


async def cmd_run(args: argparse.Namespace) -> int:
    from bot.app import with_concurrency
    from bot.cli.output.terminal import TerminalProgress
    from bot.results_files import CONCURRENCY_EVENT, OUTPUT_EVENT

    if len(args.workflow) > 1:
        from bot.cli.compare import cmd_compare

        return await cmd_compare(args, args.workflow, checked_sheet)
    args.workflow = args.workflow[0]
    config = cli_config(args.config)
    need_workflow(config, args.workflow)
    need_concurrency(args.concurrency)
    if args.concurrency is not None:
        config = with_concurrency(config, args.workflow, args.concurrency)
    if args.sample is not None and args.sample < 1:
        raise InputError(says("sample_min"))
    suffix = "results" if args.sample is None else "sample-results"
    output = check_output(args.output or args.sheet.with_name(f"{args.sheet.stem}-{suffix}.xlsx"))
    data = read_input(args.sheet)
    progress = TerminalProgress()
    runtime = await open_cli_runtime(config, progress)
    try:
        await fetch_form(runtime, args.workflow)
        parsed = await checked_sheet(runtime, args.workflow, data, args.sheet)
        batch = await runtime.intake.submit(
            args.workflow, cli_owner(), data, args.sheet.name, parsed=parsed, sample=args.sample,
            locale=progress.words.locale,
        )
        await runtime.store.add_event(batch.id, OUTPUT_EVENT, str(output))
        concurrency = config.workflows[args.workflow].settings.concurrency
        await runtime.store.add_event(batch.id, CONCURRENCY_EVENT, str(concurrency))
        from bot.cli.output.costs import batch_estimate_line

        line = "sample_batch_line" if batch.sample else "batch_line"
        print(says(line, id=batch.id, total=batch.total, workflow=args.workflow), file=sys.stderr)
        print(await batch_estimate_line(runtime, batch), file=sys.stderr)
        await runtime.service.start()
        return await drive(runtime, progress, batch, output)
    finally:
        await runtime.aclose()


async def checked_sheet(runtime: Runtime, workflow: str, data: bytes, sheet: Path) -> ParsedSheet:
    """The checked sheet; with bad rows, a marked-up copy beside it and every problem listed."""
    from engine.sheets.sentences import problem_line, sheet_phrase
    from engine.sheets.template import annotated_copy
    from engine.text.phrases import say

    parsed = await runtime.intake.check(workflow, data, sheet.name)
    if parsed.ok:
        if not parsed.rows:
            raise SheetError(sheet_phrase("no_rows", filename=sheet.name))
        return parsed
    words = cli_wording()
    marked = sheet.with_name(f"{sheet.stem}-problems.xlsx")
    try:
        marked.write_bytes(annotated_copy(
            data, sheet.name, parsed, labels=words.template_labels,
            describe=lambda problem: say(problem.phrase or problem.message, words.sheet),
        ))
        where = words.cli_marked.format(path=marked)
    except OSError as exc:
        where = words.cli_marked_failed.format(path=marked, reason=exc.strerror)
    refused = SheetError(
        sheet_phrase("rows_bad", n=len(parsed.problems), filename=sheet.name),
        [problem_line(p) for p in parsed.problems],
    )
    refused.add_note(where)
    raise refused


async def cmd_resume(args: argparse.Namespace) -> int:
    from engine.compare.runs import is_comparison_id

    if is_comparison_id(args.batch_id):
        from bot.cli.compare import cmd_resume_comparison

        return await cmd_resume_comparison(args)
    need_concurrency(args.concurrency)
    config = cli_config(args.config)
    output = check_output(args.output) if args.output else None
    runtime, progress, batch = await _open_for(config, args.batch_id, args.concurrency)
    try:
        if batch.status.is_final:
            return await _finished(runtime, batch)
        output = await _output_for(runtime, batch, output)
        service = runtime.service
        await runtime.intake.finish_storing()  # a big sheet whose storing a crash cut short
        await service.recover(only=[batch.id])
        batch = await service.get(batch.id)
        from engine.models import BatchStatus

        if batch.status in (BatchStatus.PAUSED, BatchStatus.PENDING):
            batch = await service.resume(batch.id)
        await service.start()
        print(says("resuming", id=batch.id, workflow=batch.workflow), file=sys.stderr)
        return await drive(runtime, progress, batch, output)
    finally:
        await runtime.aclose()


async def cmd_retry(args: argparse.Namespace) -> int:
    from engine.compare.runs import is_comparison_id

    if is_comparison_id(args.batch_id):
        from bot.cli.compare_control import cmd_retry_comparison

        return await cmd_retry_comparison(args)
    need_concurrency(args.concurrency)
    config = cli_config(args.config)
    output = check_output(args.output) if args.output else None
    runtime, progress, batch = await _open_for(config, args.batch_id, args.concurrency)
    try:
        output = await _output_for(runtime, batch, output)
        batch = await runtime.service.retry_failed(batch.id)
        await runtime.service.start()
        failed = (await runtime.service.progress(batch.id)).pending
        print(says("retrying", n=failed, id=batch.id, workflow=batch.workflow), file=sys.stderr)
        return await drive(runtime, progress, batch, output)
    finally:
        await runtime.aclose()


async def _open_for(
    config: Config, batch_id: str, concurrency: int | None
) -> tuple[Runtime, TerminalProgress, Batch]:
    """Open the database on the batch's own concurrency: the one given now, else the one it
    was started with (which needs a look at the batch first, so the runtime opens twice)."""
    from bot.app import with_concurrency
    from bot.cli.output.terminal import TerminalProgress
    from bot.results_files import CONCURRENCY_EVENT, recorded_concurrency

    progress = TerminalProgress()
    runtime = await open_cli_runtime(config, progress)
    try:
        batch = await runtime.service.get(batch_id)
        if concurrency is not None:
            await runtime.store.add_event(batch.id, CONCURRENCY_EVENT, str(concurrency))
        else:
            concurrency = await recorded_concurrency(runtime.store, batch.id)
    except BaseException:
        await runtime.aclose()
        raise
    workflow = config.workflows.get(batch.workflow)
    if concurrency is None or workflow is None or workflow.settings.concurrency == concurrency:
        return runtime, progress, batch
    await runtime.aclose()
    runtime = await open_cli_runtime(with_concurrency(config, batch.workflow, concurrency), progress)
    return runtime, progress, batch


async def _output_for(runtime: Runtime, batch: Batch, given: Path | None) -> Path:
    from bot.results_files import OUTPUT_EVENT, recorded_output

    if given is not None:
        await runtime.store.add_event(batch.id, OUTPUT_EVENT, str(given))
        return given
    recorded = await recorded_output(runtime.store, batch.id)
    return recorded or Path(f"{Path(batch.source_name).stem or batch.id}-results.xlsx").resolve()


async def _finished(runtime: Runtime, batch: Batch) -> int:
    """`resume` on a finished batch: fine when its results file is in place, else say how."""
    from bot.results_files import WRITTEN_EVENT, owed, write_for

    due = (await owed(runtime.store)).get(batch.id)
    if due is not None:  # its folder was missing when the database was opened
        await write_for(runtime.store, batch.id, due)
    events = await runtime.store.events(batch.id)
    written = [e.detail for e in events if e.kind == WRITTEN_EVENT]
    if written and Path(written[-1]).exists():
        print(written[-1])
        print(says("already_finished", id=batch.id), file=sys.stderr)
        return await print_summary(runtime, batch)
    words = cli_wording()
    status = words.cli_status_words.get(batch.status.value, batch.status.value)
    raise InputError(says("finished_refused", words, id=batch.id, status=status))
