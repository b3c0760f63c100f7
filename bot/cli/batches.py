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
    from concurrent.futures import Future

    from bot.app import Runtime
    from bot.cli.output.terminal import TerminalProgress
    from bot.config import Config
    from engine.models import Batch, ParsedSheet
    from engine.sheets.reading import Table


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
    from bot.config import sheet_limits, with_concurrency
    from engine.sheets.reading import open_table_soon

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
    # The sheet's checks and parse first, in a thread: calamine parses without the GIL, so
    # the imports, the database, keeping the upload and Dify's form below cost no time of
    # their own (a 100,000-row sheet parses in about a second; the rest before the first
    # call is about as long). Nothing heavy may be imported above this line.
    opened = open_table_soon(data, args.sheet.name, sheet_limits(config), path=args.sheet)
    from bot.cli.output.terminal import TerminalProgress
    from bot.results_files import CONCURRENCY_EVENT, OUTPUT_EVENT

    progress = TerminalProgress()
    runtime = await open_cli_runtime(config, progress)
    try:
        # kept before it is checked (a refused upload is pruned with the other unused ones),
        # so that its bytes are gone by the time the parsed sheet is in memory
        kept = await runtime.intake.keep(data, args.sheet.name)
        del data
        await fetch_form(runtime, args.workflow)
        batch = await runtime.intake.submit(
            args.workflow, cli_owner(), kept, args.sheet.name, sample=args.sample,
            parsed=await checked_sheet(runtime, args.workflow, kept, args.sheet, opened),
            locale=progress.words.locale,
        )  # the checked rows are not held here: the service lets them go once they are stored
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


async def checked_sheet(
    runtime: Runtime, workflow: str, data: bytes | Path, sheet: Path, opened: Future[Table] | None = None
) -> ParsedSheet:
    """The checked sheet; with bad rows, a marked-up copy beside it and every problem listed.

    ``data``: the sheet's bytes, or where `Intake.keep` kept them; ``opened``: the sheet
    already checked and being parsed (`open_table_soon`)."""
    from engine.sheets.sentences import problem_line, sheet_phrase

    if opened is not None:
        parsed = await runtime.intake.check(workflow, opened, sheet.name)
    else:
        upload = data if isinstance(data, bytes) else await runtime.intake.load(data)
        parsed = await runtime.intake.check(workflow, upload, sheet.name)
    if parsed.ok:
        if not parsed.rows:
            raise SheetError(sheet_phrase("no_rows", filename=sheet.name))
        return parsed
    from bot.cli.output.usage import cli_wording
    from engine.sheets.template import annotated_copy  # openpyxl: only a sheet with problems needs it
    from engine.text.phrases import say

    words = cli_wording()
    marked = sheet.with_name(f"{sheet.stem}-problems.xlsx")
    if isinstance(data, Path):
        data = await runtime.intake.load(data)
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
    from bot.cli.output.terminal import TerminalProgress
    from bot.config import with_concurrency
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
