"""The progress message: edited in place while a batch runs, then its final outcome."""

from __future__ import annotations

from datetime import datetime

from bot.chat.text.basics import MessageBasics, scrub
from bot.chat.text.engine_said import engine_error, outage_reason
from engine.models import Batch, BatchStatus, Progress

BAR_CELLS = 10


class ProgressMessages(MessageBasics):
    """Filled in from a batch and its row counts at a given moment."""

    def progress_text(self, batch: Batch, progress: Progress, *, now: datetime) -> str:
        """The in-place progress message: head, bar, counts, then rate/ETA or the status."""
        done, total = progress.done, progress.total
        # floor, so 100 % (and a full bar) only ever means every row is done
        pct = 100 if total <= 0 else done * 100 // total
        filled = BAR_CELLS if total <= 0 else done * BAR_CELLS // total
        lines = [
            self.progress_head.format(workflow=batch.workflow, id=batch.id),
            f"{'▓' * filled}{'░' * (BAR_CELLS - filled)} {pct}%",
            self._counts(progress),
        ]
        if batch.status is BatchStatus.RUNNING and progress.unreachable_since is not None:
            lines.append(self._unreachable_line(progress, now))
        elif batch.status is BatchStatus.RUNNING:
            lines.append(self._rate_line(batch, progress, now))
        elif batch.status is BatchStatus.PAUSED and batch.error:
            lines.append(self.paused_because.format(
                error=self._error(batch.error), id=batch.id, resume=self.cmd("resume")))
        else:
            lines.append(
                self.status_lines[batch.status].format(
                    id=batch.id, resume=self.cmd("resume"), error=self._error(batch.error)
                )
            )
        return self.out("\n".join(lines))

    def _error(self, error: str | None) -> str:
        """A stored error in this language when the engine wrote it, else as Dify said it."""
        return scrub(engine_error(error or "", self))

    def _counts(self, progress: Progress) -> str:
        text = self.counts.format(
            done=progress.done, total=progress.total, ok=progress.succeeded, failed=progress.failed
        )
        if progress.cancelled:
            text += self.counts_cancelled.format(cancelled=progress.cancelled)
        return text

    def _unreachable_line(self, progress: Progress, now: datetime) -> str:
        since = progress.unreachable_since or now
        next_try = progress.next_try_at or now
        return self.unreachable.format(
            since=since.strftime("%H:%M:%S"),
            duration=self.duration((now - since).total_seconds()),
            next=self.duration(max(0.0, (next_try - now).total_seconds())),
            reason=scrub(outage_reason(progress.trouble or "", self)),
        )

    def _rate_line(self, batch: Batch, progress: Progress, now: datetime) -> str:
        if batch.started_at is None or progress.done == 0:
            return self.rate_unknown
        elapsed_s = (now - batch.started_at).total_seconds()
        if elapsed_s <= 0:
            return self.rate_unknown
        per_minute = progress.done * 60 / elapsed_s
        remaining = max(progress.total - progress.done, 0)
        eta = self.duration(remaining * 60 / per_minute)
        return self.rate.format(rate=f"{per_minute:.1f}", eta=eta)

    def final_text(self, batch: Batch, progress: Progress, *, now: datetime) -> str:
        """The last edit of the progress message: outcome, counts, cost and what next."""
        if batch.status is BatchStatus.FAILED:
            outcome = "failed"
        elif batch.status is BatchStatus.CANCELLED:
            outcome = "cancelled"
        else:
            outcome = "partial" if progress.failed else "ok"
        head = self.final_head[outcome].format(
            workflow=batch.workflow, id=batch.id, failed=progress.failed,
            error=self._error(batch.error),
        )
        not_run = progress.cancelled + progress.pending + progress.running
        lines = [
            head,
            self.final_counts.format(
                total=progress.total, ok=progress.succeeded, failed=progress.failed,
                cancelled=not_run,
            ),
        ]
        if batch.started_at is not None:
            end = batch.finished_at or now
            took = self.duration((end - batch.started_at).total_seconds())
            lines.append(self.final_usage.format(tokens=f"{progress.tokens:,}", duration=took))
        if progress.failed:
            lines.append(self.final_retry.format(retry=self.cmd("retry"), id=batch.id))
        lines.append(self.final_result.format(result=self.cmd("result"), id=batch.id))
        return self.out("\n".join(lines))

    def results_caption(self, batch: Batch, progress: Progress, owner_mention: str) -> str:
        """The caption of the results file; the mention is platform markup, so not escaped."""
        text = self.results_caption_t.format(
            workflow=batch.workflow, id=batch.id, ok=progress.succeeded, failed=progress.failed
        )
        return f"{owner_mention} {self.out(text)}" if owner_mention else self.out(text)
