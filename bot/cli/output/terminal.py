"""A terminal progress bar for CLI batches: one line redrawn in place on a TTY, a line
every few seconds otherwise (so CI logs and pipes stay readable)."""

from __future__ import annotations

import os
import sys
import time
from datetime import UTC, datetime
from typing import TextIO

from bot.chat.text.catalogues import say_duration
from bot.chat.text.catalogues.en import EnglishWording
from bot.chat.text.engine_said import outage_reason
from bot.cli.output.usage import Wording, cli_wording
from engine.models import Batch, Progress


def progress_line(
    batch: Batch, progress: Progress, now: datetime, width: int = 24, words: Wording = EnglishWording
) -> str:
    """``[#########.......] 120/300 ok 118 failed 2 | 41.2 rows/min | ETA 4m 22s``."""
    total = max(progress.total, 1)
    filled = round(width * progress.done / total)
    bar = "#" * filled + "." * (width - filled)
    line = words.cli_progress.format(
        bar=bar, done=progress.done, total=progress.total, ok=progress.succeeded, failed=progress.failed
    )
    if progress.cancelled:
        line += words.cli_cancelled.format(cancelled=progress.cancelled)
    if progress.unreachable_since is not None:
        return line + " | " + unreachable_text(progress, now, words)
    started = batch.started_at
    if started is not None and progress.done:
        elapsed = max((now - started).total_seconds(), 1e-6)
        rate = progress.done / elapsed
        remaining = progress.total - progress.done
        line += words.cli_rate.format(rate=f"{rate * 60:.1f}")
        if remaining and rate > 0:
            line += words.cli_eta.format(eta=say_duration(remaining / rate, words))
    return line


def unreachable_text(progress: Progress, now: datetime, words: Wording = EnglishWording) -> str:
    """``Dify unreachable since 14:02:05 (3m 10s): <why> | next try in 20s`` (local time)."""
    since = progress.unreachable_since or now
    text = words.cli_unreachable.format(
        since=since.astimezone().strftime("%H:%M:%S"),
        duration=say_duration((now - since).total_seconds(), words),
    )
    if progress.trouble:
        text += words.cli_unreachable_why.format(reason=outage_reason(progress.trouble, words))
    if progress.next_try_at is not None:
        wait = say_duration((progress.next_try_at - now).total_seconds(), words)
        text += words.cli_next_try.format(wait=wait)
    return text


class TerminalProgress:
    """The CLI's `Notifier`: draws the progress of the batches it is told about."""

    def __init__(
        self, stream: TextIO | None = None, *, interval_s: float = 0.1, words: Wording | None = None
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.words = words if words is not None else cli_wording()
        # a dumb terminal cannot erase a line, so it gets the line-per-update form
        self.tty = self.stream.isatty() and os.environ.get("TERM") != "dumb"
        # off a TTY every redraw is a new line, so draw far less often
        self.interval_s = interval_s if self.tty else 5.0
        self._last_draw = 0.0
        self._drawn = False
        self._last_line = ""
        self._finished: set[str] = set()
        self._troubled = False

    async def batch_changed(self, batch: Batch, progress: Progress) -> None:
        now = time.monotonic()
        final = batch.status.is_final or progress.done == progress.total
        if final and batch.id in self._finished:
            return
        troubled = progress.unreachable_since is not None
        turned = troubled != self._troubled  # Dify lost or back: say so at once, even off a TTY
        self._troubled = troubled
        quiet = progress.done == 0 and not troubled
        if not final and not turned and (quiet or now - self._last_draw < self.interval_s):
            return
        if final:
            self._finished.add(batch.id)
        self._draw(progress_line(batch, progress, datetime.now(UTC), words=self.words), now)

    def _draw(self, line: str, now: float) -> None:
        """Redraw ``line`` in place on a TTY, else print it; the same line is not drawn twice."""
        if not line or line == self._last_line:
            return
        self._last_draw, self._last_line = now, line
        if self.tty:
            self.stream.write("\r\x1b[2K" + line)
            self._drawn = True
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def finish(self) -> None:
        """End the redrawn line so what follows starts on its own."""
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False
