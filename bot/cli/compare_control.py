"""``pause``, ``cancel`` and ``retry`` given a comparison id (``c7f3a2c``): each acts on every
batch of the comparison it applies to (a workflow already finished is left as it is), as
`bot.cli.control` and `bot.cli.batches` do for one batch."""

from __future__ import annotations

import argparse
import sys

from bot.cli.compare import (
    _output_for,
    _words,
    _xlsx,
    comparison_batches,
    drive_comparison,
    open_comparison,
)
from bot.cli.drive import cli_config, open_cli_runtime


async def cmd_pause_comparison(args: argparse.Namespace) -> int:
    from engine.compare.runs import on_every_batch

    runtime = await open_cli_runtime(cli_config(args.config))
    try:
        batches = await comparison_batches(runtime, args.batch_id)
        paused = await on_every_batch(batches, runtime.service.pause)
    finally:
        await runtime.aclose()
    listed = ", ".join(f"{b.workflow} {b.id}" for b in paused)
    print(_words().compare_paused_all.format(id=args.batch_id, batches=listed))
    return 0


async def cmd_cancel_comparison(args: argparse.Namespace) -> int:
    from engine.compare.runs import on_every_batch

    words = _words()
    runtime = await open_cli_runtime(cli_config(args.config))
    try:
        batches = await comparison_batches(runtime, args.batch_id)
        await on_every_batch(batches, runtime.service.cancel)
        lines = [words.compare_cancelled_all.format(id=args.batch_id)]
        for batch in batches:
            p = await runtime.service.progress(batch.id)
            lines.append(words.compare_cancelled_line.format(
                workflow=batch.workflow, batch=batch.id, ok=p.succeeded, failed=p.failed,
                cancelled=p.cancelled, total=p.total))
    finally:
        await runtime.aclose()
    print("\n".join(lines))
    return 0


async def cmd_retry_comparison(args: argparse.Namespace) -> int:
    """``retry <comparison id>``: the failed rows of each batch run again, then the combined
    workbook is written again where the comparison wrote it (or ``--output``)."""
    from engine.compare.runs import on_every_batch

    comparison_id = args.batch_id
    given = _xlsx(args.output) if args.output else None
    progress, runtime, batches = await open_comparison(args)
    try:
        output = await _output_for(runtime, batches, given)
        failed = sum([(await runtime.service.progress(b.id)).failed for b in batches])
        await on_every_batch(batches, runtime.service.retry_failed)
        progress.expect(batches)
        await runtime.service.start()
        workflows = ", ".join(b.workflow for b in batches)
        print(_words().compare_retrying.format(n=failed, id=comparison_id, workflows=workflows),
              file=sys.stderr)
        return await drive_comparison(runtime, progress, comparison_id, output)
    finally:
        await runtime.aclose()
