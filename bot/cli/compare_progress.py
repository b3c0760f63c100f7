"""The terminal progress of a comparison: one line with a bar per workflow, redrawn in
place on a TTY (a line every few seconds otherwise), and the figures printed at the end."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, TextIO

from bot.cli.output.terminal import TerminalProgress
from bot.cli.output.usage import Wording

if TYPE_CHECKING:
    from engine.compare.figures import ComparisonFigures
    from engine.models import Batch, Progress

BAR_WIDTH = 12


class CompareProgress(TerminalProgress):
    """The CLI's `Notifier` for a comparison: every workflow's progress on one line."""

    def __init__(self, stream: TextIO | None = None, *, interval_s: float = 0.1) -> None:
        super().__init__(stream, interval_s=interval_s)
        self._latest: dict[str, tuple[Batch, Progress]] = {}
        self._order: list[str] = []

    def expect(self, batches: Sequence[Batch]) -> None:
        """The batches to show, in the order their workflows were named."""
        self._order = [b.id for b in batches]

    async def batch_changed(self, batch: Batch, progress: Progress) -> None:
        self._latest[batch.id] = (batch, progress)
        now = time.monotonic()
        settled = all(
            b in self._latest and (self._latest[b][0].status.is_final or self._latest[b][1].done
                                   == self._latest[b][1].total)
            for b in self._order
        )
        quiet = all(p.done == 0 and p.unreachable_since is None for _, p in self._latest.values())
        if not settled and (quiet or now - self._last_draw < self.interval_s):
            return
        self._draw(self.line(), now)

    def line(self) -> str:
        """``A [######......] 20/40 ok 20 failed 0 | B [###.........] 10/40 ok 9 failed 1``."""
        parts = []
        for batch_id in self._order:
            if batch_id not in self._latest:
                continue
            batch, progress = self._latest[batch_id]
            total = max(progress.total, 1)
            filled = round(BAR_WIDTH * progress.done / total)
            parts.append(self.words.compare_bar.format(
                workflow=batch.workflow, bar="#" * filled + "." * (BAR_WIDTH - filled),
                done=progress.done, total=progress.total, ok=progress.succeeded, failed=progress.failed,
            ))
        return " | ".join(parts)


def figures_lines(figures: ComparisonFigures, words: Wording) -> list[str]:
    """What a person reads first after a comparison: how each workflow did, what differs."""
    from bot.chat.text.catalogues import say_duration

    def seconds(value: float | None) -> str:
        if value is None:
            return str(words.compare_no_time)
        return f"{value:.2f}s" if value < 60 else say_duration(value, words)

    lines = [
        words.compare_figures.format(
            workflow=f.workflow, ok=f.succeeded, failed=f.failed, total=f.rows,
            rate="-" if f.success_rate is None else f"{f.success_rate:.0%}",
            median=seconds(f.median_s), p95=seconds(f.p95_s), tokens=f.tokens,
        )
        for f in figures.workflows
    ]
    lines += [words.compare_differs.format(column=c.key, n=c.differing, total=c.compared)
              for c in figures.columns]
    return lines
