"""Every user-facing string of the chat front ends, in one place so a translation is one file."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.wording import EnglishWording
from engine.errors import (
    AppError,
    ConfigError,
    InputError,
    InvalidTransition,
    NotFound,
    SheetError,
    WorkflowError,
)
from engine.models import Batch, BatchStatus, ParsedSheet, Progress, Schedule

BAR_CELLS = 10
MAX_TEXT_CHARS = 3500
"""Below Telegram's 4096 and Slack's 3000-per-section after the adapter adds its framing."""

# Tokens that must never reach a chat even if some library put them into an error text:
# Telegram bot tokens (also inside file URLs), Slack tokens, Dify app keys, bearer headers.
_SECRETS = re.compile(
    r"(?<!\d)\d{6,}:[A-Za-z0-9_-]{30,}|\bxox[a-z]-[A-Za-z0-9-]+|\bxapp-[A-Za-z0-9-]+"
    r"|\bapp-[A-Za-z0-9]{16,}|(?i:bearer\s+)\S+"
)


def scrub(text: str) -> str:
    """Hide anything shaped like a credential in text that came from elsewhere."""
    return _SECRETS.sub("***", text)


def slack_escape(text: str) -> str:
    """Slack reads ``&``, ``<`` and ``>`` as markup even in plain text (``<!channel>``)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _plain(text: str) -> str:
    return text


class Messages(EnglishWording):
    """English wording; a locale subclasses this and overrides the templates it translates.

    ``escape`` is applied to every finished text (the Slack adapter passes `slack_escape`);
    ``prefix`` is how a command is spelled on the platform: "/" or "/difybatch ".
    """

    def __init__(self, *, prefix: str = "/", escape: Callable[[str], str] = _plain) -> None:
        self.prefix = prefix
        self._escape = escape

    def cmd(self, name: str) -> str:
        """How a person types command ``name`` here: ``/status`` or ``/difybatch status``."""
        return f"{self.prefix}{name}"

    def out(self, text: str) -> str:
        if len(text) > MAX_TEXT_CHARS:
            text = text[: MAX_TEXT_CHARS - 1] + "…"
        return self._escape(text)

    def label(self, key: str) -> str:
        return self.button_labels[key]

    def command_description(self, name: str) -> str:
        """One line for a command menu: its help line, else its blurb, else its name."""
        for usage, what in self.help_lines:
            if usage.split()[0] == name:
                return what
        return self.command_blurbs.get(name, name)

    # -- small pieces -------------------------------------------------------------------

    def duration(self, seconds: float) -> str:
        total = max(0, round(seconds))
        h, rest = divmod(total, 3600)
        m, s = divmod(rest, 60)
        if h:
            return self.duration_h.format(h=h, m=m)
        if m:
            return self.duration_m.format(m=m, s=s)
        return self.duration_s.format(s=s)

    def when(self, moment: datetime | None, timezone: str) -> str:
        if moment is None:
            return self.never
        try:
            zone = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            zone = None
        local = moment.astimezone(zone) if zone is not None and moment.tzinfo else moment
        return f"{local:%Y-%m-%d %H:%M} ({timezone})"

    def listing(self, lines: Sequence[str], limit: int) -> list[str]:
        shown = list(lines[:limit])
        if len(lines) > limit:
            shown.append(self.more.format(n=len(lines) - limit))
        return shown

    # -- error texts --------------------------------------------------------------------

    def error_text(
        self, exc: AppError, *, batch_id: str | None = None, schedule_id: str | None = None
    ) -> str:
        """One reply for any error we raise on purpose; ids give NotFound its exact wording."""
        if isinstance(exc, NotFound) and batch_id is not None:
            text = self.no_batch.format(id=batch_id)
        elif isinstance(exc, NotFound) and schedule_id is not None:
            text = self.no_schedule.format(id=schedule_id)
        elif isinstance(exc, SheetError):
            return self.sheet_error_text(exc)
        elif isinstance(exc, InputError | NotFound):
            text = scrub(str(exc))
        elif isinstance(exc, InvalidTransition):
            text = self.cannot_now.format(why=scrub(str(exc)).rstrip("."))
        elif isinstance(exc, WorkflowError):
            text = self.dify_error.format(why=scrub(str(exc)))
        elif isinstance(exc, ConfigError):
            text = self.config_error
        else:
            text = self.internal_error.format(kind=type(exc).__name__)
        return self.out(text)

    def sheet_error_text(self, exc: SheetError, *, max_listed: int = 10) -> str:
        lines = [scrub(str(exc)), *self.listing([scrub(p) for p in exc.problems], max_listed)]
        return self.out("\n".join(lines))

    # -- discovery ----------------------------------------------------------------------

    def help_text(self) -> str:
        lines = [self.help_head, ""]
        lines += [f"{self.cmd(usage)} — {what}" for usage, what in self.help_lines]
        return self.out("\n".join([*lines, "", self.help_when]))

    def workflows_text(self, names: Sequence[str]) -> str:
        if not names:
            return self.out(self.workflows_none)
        return self.out("\n".join([self.workflows_head, *(f"• {n}" for n in names)]))

    # -- progress and outcome -----------------------------------------------------------

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
        if batch.status is BatchStatus.RUNNING:
            lines.append(self._rate_line(batch, progress, now))
        else:
            lines.append(
                self.status_lines[batch.status].format(
                    id=batch.id, resume=self.cmd("resume"), error=scrub(batch.error or "")
                )
            )
        return self.out("\n".join(lines))

    def _counts(self, progress: Progress) -> str:
        text = self.counts.format(
            done=progress.done, total=progress.total, ok=progress.succeeded, failed=progress.failed
        )
        if progress.cancelled:
            text += self.counts_cancelled.format(cancelled=progress.cancelled)
        return text

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
            error=scrub(batch.error or ""),
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

    # -- uploads ------------------------------------------------------------------------

    def check_summary(
        self, filename: str, workflow_names: Sequence[str], parsed: ParsedSheet, *, max_listed: int = 10
    ) -> str:
        """What an upload without a command gets: ready rows, or the first problems."""
        lines = [self.check_file.format(filename=filename, sheet=parsed.sheet_name)]
        if not parsed.ok:
            problems = [self.problem_text(p.row, p.column, p.message) for p in parsed.problems]
            lines.append(self.check_bad.format(n=len(problems)))
            lines += self.listing(problems, max_listed)
            lines.append(self.check_bad_tail)
        elif not parsed.rows:
            lines.append(self.check_empty)
        elif len(workflow_names) == 1:
            lines.append(self.check_ok_one.format(rows=len(parsed.rows), workflow=workflow_names[0]))
        else:
            names = ", ".join(workflow_names)
            lines.append(self.check_ok_many.format(rows=len(parsed.rows), workflows=names))
        if parsed.blank_rows:
            lines.append(self.check_blank.format(n=parsed.blank_rows))
        if parsed.extra_columns:
            shown = self.listing(list(parsed.extra_columns), max_listed)
            lines.append(self.check_extra.format(columns=", ".join(shown)))
        return self.out("\n".join(lines))

    def problem_text(self, row: int, column: str, message: str) -> str:
        """A row of 0 or an empty column means the problem is not tied to one cell."""
        if row > 0 and column:
            return self.problem_at.format(row=row, column=column, message=message)
        if row > 0:
            return self.problem_row.format(row=row, message=message)
        return self.problem_col.format(column=column, message=message) if column else message

    def batch_started_text(self, batch: Batch) -> str:
        return self.out(
            self.started.format(
                workflow=batch.workflow, rows=batch.total, filename=batch.source_name,
                id=batch.id, status=self.cmd("status"),
            )
        )

    def starting_text(self, filename: str, workflow: str) -> str:
        return self.out(self.starting.format(filename=filename, workflow=workflow))

    def discarded_text(self, filename: str) -> str:
        return self.out(self.discarded.format(filename=filename))

    def status_list_text(self, items: Sequence[tuple[Batch, Progress]]) -> str:
        if not items:
            return self.out(self.no_batches)
        lines = []
        for batch, progress in items:
            line = self.status_row.format(
                id=batch.id, workflow=batch.workflow, status=self.status_names[batch.status],
                done=progress.done, total=progress.total,
            )
            if progress.failed:
                line += self.status_row_failed.format(failed=progress.failed)
            lines.append(line)
        return self.out("\n".join(lines))

    # -- schedules ----------------------------------------------------------------------

    def schedules_text(self, items: Sequence[tuple[Schedule, datetime | None]]) -> str:
        if not items:
            return self.out(self.schedules_none.format(schedule=self.cmd("schedule")))
        lines = []
        for s, next_fire in items:
            template = self.schedule_row if s.active else self.schedule_inactive
            lines.append(
                template.format(
                    id=s.id, workflow=s.workflow, when=s.when_text, filename=s.source_name,
                    next=self.when(next_fire, s.timezone),
                )
            )
        return self.out("\n".join(lines))

    def scheduled_text(self, schedule: Schedule, next_fire: datetime | None) -> str:
        return self.out(
            self.scheduled.format(
                workflow=schedule.workflow, filename=schedule.source_name, when=schedule.when_text,
                next=self.when(next_fire, schedule.timezone), id=schedule.id,
                unschedule=self.cmd("unschedule"),
            )
        )

    def schedule_prompt_text(self, workflow: str) -> str:
        return self.out(self.schedule_prompt.format(workflow=workflow, schedule=self.cmd("schedule")))

    def unscheduled_text(self, schedule_id: str) -> str:
        return self.out(self.unscheduled.format(id=schedule_id))

    def missed_firing_text(
        self, schedule: Schedule, fire_time: datetime, next_fire: datetime | None = None
    ) -> str:
        text = self.missed.format(
            workflow=schedule.workflow, filename=schedule.source_name,
            due=self.when(fire_time, schedule.timezone),
        )
        if next_fire is not None:
            text += self.missed_next.format(next=self.when(next_fire, schedule.timezone))
        return self.out(text)

    # -- refusals (raised as CommandError by bot.commands / bot.access) -----------------

    def may_not_use_text(self, workflow: str) -> str:
        return self.may_not_use.format(workflow=workflow)

    def unknown_workflow_text(self, workflow: str) -> str:
        return self.unknown_workflow.format(workflow=workflow, list=self.cmd("workflows"))

    def not_yours_text(self, batch_id: str) -> str:
        return self.not_yours.format(id=batch_id)


LOCALES: dict[str, type[Messages]] = {"en": Messages}
"""A translation subclasses `Messages`, overrides its templates and registers here."""


def messages_for(
    locale: str = "en", *, prefix: str = "/", escape: Callable[[str], str] = _plain
) -> Messages:
    """The wording for ``[daemon] locale`` (English when unknown) on one platform."""
    cls = LOCALES.get(locale.lower(), LOCALES.get(locale.split("-")[0].lower(), Messages))
    return cls(prefix=prefix, escape=escape)


EN = Messages()
"""English with Telegram-style commands; the default wherever no wording is passed."""
