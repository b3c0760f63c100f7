"""Commands that look at or steer a batch without running it here: ``status``, ``pause``,
``cancel`` and ``result``. A batch the daemon (or another CLI process) runs follows a
pause or cancel made here within a few seconds."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bot.cli.drive import cli_config, open_cli_runtime
from bot.cli.explain import Subcommands
from bot.cli.output.style import Style
from bot.cli.output.usage import Wording, cli_wording, display_width, says

if TYPE_CHECKING:
    from bot.cli.output.glance import BatchLine
    from bot.config import Config
    from engine.models import Batch


def register(sub: Subcommands, common: argparse.ArgumentParser) -> None:
    status = sub.add_parser("status", parents=[common], help="show recent batches, or one batch")
    status.add_argument(
        "batch_id", nargs="?", metavar="ID", help="one batch (or comparison) to show in detail"
    )
    status.add_argument("--json", action="store_true", help="print JSON for scripts")
    status.set_defaults(handler=cmd_status)

    pause = sub.add_parser("pause", parents=[common], help="pause a running batch (rows in flight finish)")
    pause.add_argument("batch_id", metavar="ID", help="the batch (or comparison) to pause")
    pause.set_defaults(handler=cmd_pause)

    cancel = sub.add_parser("cancel", parents=[common], help="cancel a batch: stop its runs, skip the rest")
    cancel.add_argument("batch_id", metavar="ID", help="the batch (or comparison) to cancel")
    cancel.set_defaults(handler=cmd_cancel)

    result = sub.add_parser("result", parents=[common], help="write the results file of any batch")
    result.add_argument("batch_id", metavar="ID", help="the batch (or comparison) whose results to write")
    result.add_argument(
        "--output", type=Path, metavar="FILE",
        help="results file, .xlsx or .csv (default: the path its run was given, "
        "else <sheet>-results-<ID>.xlsx here)",
    )
    result.set_defaults(handler=cmd_result)


def cmd_status(args: argparse.Namespace) -> int:
    """Plain (not async): on SQLite it needs no event loop, which keeps it quick to start."""
    from bot.cli.output.glance import read_sqlite, schema_is_current, sqlite_file
    from engine.compare.runs import is_comparison_id

    config = cli_config(args.config)
    path = sqlite_file(config.daemon.database_url)
    comparison = bool(args.batch_id) and is_comparison_id(args.batch_id)
    if path is not None and schema_is_current(path) and not comparison:
        lines = read_sqlite(path, args.batch_id)
    else:  # PostgreSQL, or a database to upgrade (or to refuse) as every other command does
        import asyncio

        lines = asyncio.run(_from_store(config, args.batch_id))
    if args.batch_id and not lines:
        from engine.errors import NotFound

        raise NotFound(says("no_batch", id=args.batch_id))
    if args.json:
        import json

        print(json.dumps([_as_json(line) for line in lines], ensure_ascii=False, indent=2))
        return 0
    style = Style.for_stream(sys.stdout)
    words = cli_wording()
    if comparison:  # its batches, one after another
        print(_comparison_head(args.batch_id) + "\n"
              + "\n\n".join(_detail(line, style, words) for line in lines))
    elif args.batch_id:
        print(_detail(lines[0], style, words))
    elif not lines:
        print(says("no_batches", words))
    else:
        print(_table(lines, style, words))
    for line in lines:
        if line.results_owed:
            print(says("results_owed", words, id=line.id, path=line.results), file=sys.stderr)
    return 0


async def _from_store(config: Config, batch_id: str | None) -> list[BatchLine]:
    from bot.cli.output.glance import BatchLine
    from bot.results_files import OUTPUT_EVENT, OWED_EVENT, WRITTEN_EVENT
    from engine.compare.runs import is_comparison_id

    runtime = await open_cli_runtime(config)
    try:
        if batch_id and is_comparison_id(batch_id):
            batches = await runtime.store.comparison_batches(batch_id)
        elif batch_id:
            batches = [await runtime.service.get(batch_id)]
        else:
            batches = await runtime.service.list(None, 20)
        lines = []
        for b in batches:
            p = await runtime.service.progress(b.id)
            line = BatchLine(
                id=b.id, status=b.status.value, workflow=b.workflow, owner=b.owner,
                source_name=b.source_name, created_at=b.created_at, total=b.total, pending=p.pending,
                running=p.running, succeeded=p.succeeded, failed=p.failed, cancelled=p.cancelled,
                tokens=p.tokens, started_at=b.started_at, finished_at=b.finished_at, error=b.error,
                sample=b.sample, comparison_id=b.comparison_id,
            )
            for e in await runtime.store.events(b.id):
                if e.kind in (OUTPUT_EVENT, OWED_EVENT, WRITTEN_EVENT):
                    line.results, line.results_owed = e.detail, e.kind == OWED_EVENT
            lines.append(line)
        return lines
    finally:
        await runtime.aclose()


_COLUMNS = ("id", "status", "done", "ok", "failed", "workflow", "sheet", "owner", "created")
_RIGHT = {2, 3, 4}


def _table(lines: list[BatchLine], style: Style, words: Wording) -> str:
    """One row per batch, columns lined up by terminal width (a CJK character takes two).
    While a listed batch is one workflow of a comparison, a last column names the comparison."""
    compared = any(b.comparison_id for b in lines)
    header = tuple(words.cli_status_columns[c] for c in _COLUMNS)
    header += (words.compare_status_column,) if compared else ()
    sample = words.cli_says["sample_mark"]
    rows = [
        (
            b.id, _status_word(b.status, words), f"{b.done}/{b.total}", str(b.succeeded), str(b.failed),
            b.workflow, b.source_name, b.owner,
            b.created_at.strftime("%Y-%m-%d %H:%M") + (sample if b.sample else ""),
            *((b.comparison_id or "",) if compared else ()),
        )
        for b in lines
    ]
    widths = [max(display_width(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def cell(i: int, text: str) -> str:
        gap = " " * (widths[i] - display_width(text))
        return gap + text if i in _RIGHT else text + gap

    out = [style.bold("  ".join(cell(i, h) for i, h in enumerate(header)).rstrip())]
    for b, r in zip(lines, rows, strict=True):
        cells = [cell(i, t) for i, t in enumerate(r)]
        cells[1] = style.status(b.status, cells[1])
        out.append("  ".join(cells).rstrip())
    return "\n".join(out)


def _detail(b: BatchLine, style: Style, words: Wording) -> str:
    says_ = words.cli_says
    rows = says_["detail_rows"].format(
        done=b.done, total=b.total, ok=b.succeeded, failed=b.failed, cancelled=b.cancelled,
        running=b.running, pending=b.pending,
    )
    fields = [
        ("batch", b.id),
        ("status", style.status(b.status, _status_word(b.status, words))),
        ("workflow", b.workflow),
        ("sheet", b.source_name),
        ("owner", b.owner),
        ("rows", rows),
        ("tokens", str(b.tokens)),
        ("created", _utc(b.created_at)),
        ("started", _utc(b.started_at)),
        ("finished", _utc(b.finished_at)),
    ]
    if b.error:
        from bot.chat.text.engine_said import engine_error

        fields.append(("error", engine_error(b.error, words)))
    if b.results:
        owed = says_["detail_owed"].format(id=b.id) if b.results_owed else ""
        fields.append(("results", b.results + owed))
    named = [(words.cli_status_fields[k], v) for k, v in fields]
    if b.comparison_id:  # right below the batch id: the comparison it is one workflow of
        named.insert(1, (words.compare_status_field, b.comparison_id))
    width = max(display_width(k) for k, _ in named)
    return "\n".join(f"{k}{' ' * (width - display_width(k))}  {v}" for k, v in named)


def _status_word(status: str, words: Wording) -> str:
    return words.cli_status_words.get(status, status)


def _utc(moment: object) -> str:
    return "-" if moment is None else moment.strftime("%Y-%m-%d %H:%M:%S UTC")  # type: ignore[attr-defined]


def _as_json(b: BatchLine) -> dict[str, object]:
    def iso(moment: object) -> str | None:
        return None if moment is None else moment.isoformat()  # type: ignore[attr-defined]

    return {
        "id": b.id, "status": b.status, "workflow": b.workflow, "owner": b.owner, "sheet": b.source_name,
        "total": b.total, "done": b.done, "succeeded": b.succeeded, "failed": b.failed,
        "cancelled": b.cancelled, "running": b.running, "pending": b.pending, "tokens": b.tokens,
        "created_at": iso(b.created_at), "started_at": iso(b.started_at), "finished_at": iso(b.finished_at),
        "error": b.error, "results": b.results, "results_owed": b.results_owed,
        "comparison_id": b.comparison_id,
    }


async def cmd_pause(args: argparse.Namespace) -> int:
    from engine.compare.runs import is_comparison_id

    if is_comparison_id(args.batch_id):
        from bot.cli.compare_control import cmd_pause_comparison

        return await cmd_pause_comparison(args)
    runtime = await open_cli_runtime(cli_config(args.config))
    try:
        batch = await runtime.service.pause(args.batch_id)
    finally:
        await runtime.aclose()
    print(says("paused", id=batch.id))
    return 0


async def cmd_cancel(args: argparse.Namespace) -> int:
    from engine.compare.runs import is_comparison_id

    if is_comparison_id(args.batch_id):
        from bot.cli.compare_control import cmd_cancel_comparison

        return await cmd_cancel_comparison(args)
    runtime = await open_cli_runtime(cli_config(args.config))
    try:
        batch = await runtime.service.cancel(args.batch_id)
        counts = await runtime.service.progress(batch.id)
    finally:
        await runtime.aclose()
    print(says(
        "cancelled", id=batch.id, ok=counts.succeeded, failed=counts.failed,
        cancelled=counts.cancelled, total=counts.total,
    ))
    return 0


def _comparison_head(comparison_id: str) -> str:
    from bot.cli.output.usage import cli_wording

    return cli_wording().compare_head.format(id=comparison_id)


async def cmd_result(args: argparse.Namespace) -> int:
    from bot.cli.drive import check_output
    from engine.compare.runs import is_comparison_id

    if is_comparison_id(args.batch_id):
        from bot.cli.compare import cmd_result_comparison

        return await cmd_result_comparison(args)
    from bot.results_files import recorded_output, write_file

    given = check_output(args.output) if args.output else None
    runtime = await open_cli_runtime(cli_config(args.config))
    try:
        batch = await runtime.service.get(args.batch_id)
        output = given or await recorded_output(runtime.store, batch.id) or _default(batch)
        await write_file(output, batch, runtime.store)
    finally:
        await runtime.aclose()
    print(str(output))
    return 0


def _default(batch: Batch) -> Path:
    return Path(f"{Path(batch.source_name).stem or batch.id}-results-{batch.id}.xlsx")



