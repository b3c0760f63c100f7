"""Every user-facing string of the chat front ends, in one place so a translation is one file."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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


class Messages:
    """English wording; a locale subclasses this and overrides the templates it translates.

    ``escape`` is applied to every finished text (the Slack adapter passes `slack_escape`);
    ``prefix`` is how a command is spelled on the platform: "/" or "/difybatch ".
    """

    locale = "en"

    # commands
    unknown_command = "Unknown command {cmd}. Send {help} for the list."
    needs_workflow = "{cmd} needs a workflow name: {cmd} <workflow>"
    one_workflow = "{cmd} takes one workflow name, not {got!r}: {cmd} <workflow>"
    one_batch_id = "{cmd} takes at most one batch id: {cmd} [id]"
    bad_batch_id = (
        "{got!r} is not a batch id. A batch id is 6 characters 0-9 and a-f, like 7f3a2c."
    )
    schedule_usage = (
        "{cmd} needs a time and then a workflow name: {cmd} <when> <workflow>, "
        "e.g. {cmd} tomorrow 09:00 summarize"
    )
    schedule_no_workflow = (
        "{cmd} needs the workflow name last; {got!r} looks like part of the time: "
        "{cmd} <when> <workflow>"
    )
    needs_schedule_id = "{cmd} needs a schedule id: {cmd} <id> (see {list})"
    bad_schedule_id = "{got!r} is not a schedule id (see {list})."
    bad_button = "That button is no longer valid. Send {help} to start again."
    # access
    may_not_use = "You may not use workflow {workflow}."
    unknown_workflow = "There is no workflow {workflow}. Send {list} for the ones you may use."
    not_yours = "Batch {id} belongs to someone else."
    # errors
    no_batch = "No batch {id}."
    no_schedule = "No schedule {id}."
    no_batches = "You have no batches yet. Send a spreadsheet to start one."
    cannot_now = "That cannot be done now: {why}."
    dify_error = "The Dify app answered with an error: {why}"
    config_error = "The bot is not configured correctly; please tell an admin."
    internal_error = "Something went wrong on our side ({kind}); please try again."
    # help
    help_lines: ClassVar[tuple[tuple[str, str], ...]] = (
        ("workflows", "the workflows you may use"),
        ("template <workflow>", "a spreadsheet to fill in"),
        ("run <workflow>", "run the file you sent (or send it with this caption)"),
        ("status [id]", "progress of your batches"),
        ("pause [id]", "stop starting new rows"),
        ("resume [id]", "carry on"),
        ("cancel [id]", "stop and send what is done"),
        ("result [id]", "send the results workbook again"),
        ("retry [id]", "run the failed rows again"),
        ("schedule <when> <workflow>", "run the file you sent later or on a schedule"),
        ("schedules", "your schedules"),
        ("unschedule <id>", "remove a schedule"),
    )
    help_head = (
        "I run a Dify app over every row of a spreadsheet. Send an .xlsx or .csv file."
    )
    help_when = (
        "<when>: 2026-12-01 09:00, in 2h, tonight 02:00, tomorrow 09:00, every day 09:00, "
        'every weekday 09:00, every monday 08:30, cron "0 9 * * 1-5".\n'
        "Without an id a command means your latest batch."
    )
    workflows_head = "Workflows you may use:"
    workflows_none = "There is no workflow you may use; ask an admin."
    # progress
    status_names: ClassVar[dict[BatchStatus, str]] = {
        BatchStatus.SCHEDULED: "scheduled",
        BatchStatus.PENDING: "queued",
        BatchStatus.RUNNING: "running",
        BatchStatus.PAUSED: "paused",
        BatchStatus.COMPLETED: "completed",
        BatchStatus.FAILED: "failed",
        BatchStatus.CANCELLED: "cancelled",
    }
    progress_head = "{workflow} · batch {id}"
    counts = "{done}/{total} rows · {ok} ok · {failed} failed"
    counts_cancelled = " · {cancelled} cancelled"
    rate = "{rate} rows/min · ETA {eta}"
    rate_unknown = "Starting…"
    status_lines: ClassVar[dict[BatchStatus, str]] = {
        BatchStatus.SCHEDULED: "Waiting for its scheduled time.",
        BatchStatus.PENDING: "Queued; it starts when a slot is free.",
        BatchStatus.PAUSED: "Paused: nothing new starts. {resume} {id} continues.",
        BatchStatus.COMPLETED: "Completed.",
        BatchStatus.FAILED: "Failed: {error}",
        BatchStatus.CANCELLED: "Cancelled.",
    }
    # final
    final_head: ClassVar[dict[str, str]] = {
        "ok": "✅ {workflow} · batch {id} completed",
        "partial": "⚠️ {workflow} · batch {id} completed with {failed} failed rows",
        "cancelled": "⏹ {workflow} · batch {id} cancelled",
        "failed": "❌ {workflow} · batch {id} failed: {error}",
    }
    final_counts = "{total} rows: {ok} ok, {failed} failed, {cancelled} not run"
    final_usage = "Tokens: {tokens} · took {duration}"
    final_retry = "{retry} {id} runs only the failed rows again."
    final_result = "{result} {id} sends the results workbook again."
    results_caption_t = "results of {workflow} (batch {id}): {ok} ok, {failed} failed"
    # sheets
    check_file = "📄 {filename} (sheet {sheet!r})"
    check_ok_one = "✓ {rows} rows ready for {workflow}."
    check_ok_many = "✓ {rows} rows ready. Pick a workflow: {workflows}."
    check_empty = "The sheet has no data rows; nothing can run."
    check_blank = "Skipped {n} blank rows."
    check_extra = "Extra columns, carried through unchanged: {columns}"
    check_bad = "✗ {n} problems; nothing runs until they are fixed:"
    check_bad_tail = "The attached copy marks every bad cell."
    problem_at = "row {row}, column {column!r}: {message}"
    problem_row = "row {row}: {message}"
    problem_col = "column {column!r}: {message}"
    more = "… and {n} more"
    # batches and schedules
    started = "Started {workflow} on {rows} rows of {filename} · batch {id}. {status} {id} any time."
    status_row = "{id} · {workflow} · {status} · {done}/{total}"
    status_row_failed = " ({failed} failed)"
    schedules_none = "You have no schedules. {schedule} <when> <workflow> after sending a file."
    schedule_row = "{id} · {workflow} · {when} · {filename} · next: {next}"
    schedule_inactive = "{id} · {workflow} · {when} · {filename} · inactive"
    never = "none"
    scheduled = (
        "Scheduled {workflow} on {filename}: {when}. Next run {next}. "
        "Schedule {id}; {unschedule} {id} removes it."
    )
    schedule_prompt = "When should {workflow} run? Or reply to the file with {schedule} <when> {workflow}."
    unscheduled = "Schedule {id} removed."
    discarded = "Discarded {filename}."
    needs_file = (
        "Send the spreadsheet with the caption {cmd} <workflow>, or send it first and "
        "then use the buttons."
    )
    upload_gone = "That upload is gone (the bot restarted or it was discarded); send it again."
    no_upload = "Send a spreadsheet first, then {cmd} <workflow>."
    file_too_big = (
        "{filename} is {size_mb:.1f} MB; the limit is {limit_mb:g} MB. Split it and send the parts."
    )
    not_a_sheet_name = "{filename} is not a spreadsheet I can read; send .xlsx, .xls, .ods or .csv."
    download_failed = "I could not download {filename}; please send it again."
    download_html = (
        "Slack sent a sign-in page instead of {filename}, so the bot cannot read files here. "
        "Ask an admin to give the app the files:read scope and to add it to this conversation."
    )
    template_caption = "Fill in one row per run, then send it back with the caption {run} {workflow}."
    no_scheduler = "Scheduling is not available on this bot."
    stranger = "You may not use this bot; ask an admin to add you."
    not_your_upload = "Only the person who sent the file can use these buttons."
    starting = "Starting {workflow} on {filename}…"
    missed = (
        "The run of {workflow} on {filename} due {due} was skipped: the bot was offline "
        "past the grace period."
    )
    missed_next = " The next run is {next}."
    # buttons
    button_labels: ClassVar[dict[str, str]] = {
        "run": "▶️ Run",
        "schedule": "🕒 Schedule…",
        "discard": "🗑 Discard",
        "pause": "⏸ Pause",
        "resume": "▶️ Resume",
        "cancel": "⏹ Cancel",
        "result": "📥 Results",
        "tonight": "Tonight 02:00",
        "tomorrow": "Tomorrow 09:00",
        "weekdays": "Every weekday 09:00",
        "in1h": "In 1 hour",
    }
    picked = "✓ {workflow}"
    button_done: ClassVar[dict[str, str]] = {
        "pause": "Pausing batch {id}.",
        "resume": "Resuming batch {id}.",
        "cancel": "Cancelling batch {id}.",
        "result": "Sending the results of batch {id}.",
    }
    """The short toast a progress button answers with; the message itself follows the batch."""
    command_blurbs: ClassVar[dict[str, str]] = {
        "start": "what this bot does",
        "help": "every command",
    }
    """Menu descriptions (Telegram's setMyCommands) of commands `help_lines` leaves out."""
    # units
    duration_h = "{h}h {m:02d}m"
    duration_m = "{m}m {s:02d}s"
    duration_s = "{s}s"

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
