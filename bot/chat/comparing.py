"""Comparisons in chat: ``/run A B`` on an uploaded sheet runs its rows on each workflow
(`UploadDesk.start`); one progress message shows every workflow, and one combined workbook
is the reply (`ProgressReporter`). This module words them and writes the workbook.

The first batch of a comparison is the one bound to the chat: its progress message is the
comparison's, and its events record that the workbook went out."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Sequence
from datetime import datetime

from bot.chat.text.basics import scrub
from bot.chat.text.catalogues import wording_for
from bot.chat.text.renderer import Messages
from engine.compare.figures import ComparisonFigures
from engine.models import Batch, Progress
from engine.ports import Store
from engine.sheets.compare_sheet import write_comparison


def comparison_text(
    m: Messages, comparison_id: str, batches: Sequence[Batch], progress: Sequence[Progress], *, now: datetime
) -> str:
    """The comparison's progress message: a head, then each workflow's bar and counts; once
    every batch is final, a line per workflow and how to get the workbook again."""
    lead = batches[0]
    workflows = ", ".join(b.workflow for b in batches)
    filename = scrub(lead.source_name)
    if all(b.status.is_final for b in batches):
        lines = [m.compare_final_head.format(id=comparison_id, filename=filename)]
        lines += [
            m.compare_final_line.format(workflow=b.workflow, ok=p.succeeded, failed=p.failed, tokens=p.tokens)
            for b, p in zip(batches, progress, strict=True)
        ]
        lines.append(m.compare_final_result.format(result=m.cmd("result"), id=comparison_id))
        return m.out("\n".join(lines))
    head = m.out(m.compare_progress_head.format(filename=filename, workflows=workflows, id=comparison_id))
    parts = [m.progress_text(b, p, now=now) for b, p in zip(batches, progress, strict=True)]
    return "\n\n".join([head, *parts])


def comparison_caption(m: Messages, comparison_id: str, batches: Sequence[Batch], figures: ComparisonFigures,
                       owner_mention: str) -> str:
    """The workbook's caption: which outputs differ in how many rows."""
    differ = [
        m.compare_caption_differs.format(column=c.key, n=c.differing, total=c.compared)
        for c in figures.columns if c.differing
    ]
    text = m.compare_caption.format(
        id=comparison_id, workflows=", ".join(b.workflow for b in batches),
        differs="; ".join(differ) or m.compare_caption_same,
    )
    return f"{owner_mention} {m.out(text)}" if owner_mention else m.out(text)


async def comparison_bytes(
    comparison_id: str, batches: Sequence[Batch], store: Store
) -> tuple[bytes, ComparisonFigures]:
    """The combined workbook, in the language of whoever started it; written off the event
    loop a page at a time, so every other chat keeps its answers."""
    wording = wording_for(batches[0].locale)
    buffer = io.BytesIO()
    figures = await write_comparison(
        buffer, batches, store, comparison_id=comparison_id, offload=asyncio.to_thread,
        labels=wording.summary_labels, words=wording.compare_labels,
    )
    return buffer.getvalue(), figures


def comparison_filename(comparison_id: str, batches: Sequence[Batch]) -> str:
    stem = batches[0].source_name.rsplit(".", 1)[0] or batches[0].workflow
    return f"{stem}-compare-{comparison_id}.xlsx"
