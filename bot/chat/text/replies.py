"""Replies to commands and uploads: errors, help, check summaries, batch and schedule lists."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from bot.chat.text.basics import MessageBasics, scrub
from bot.chat.text.engine_said import engine_error
from engine.errors import (
    AppError,
    ConfigError,
    InputError,
    InvalidTransition,
    NotFound,
    SheetError,
    WhenError,
    WorkflowError,
)
from engine.estimate import Estimate, rough_count, rough_duration
from engine.models import Batch, ParsedSheet, Progress, Row, RowStatus, Schedule, SheetProblem
from engine.text.phrases import Phrase, say


class ReplyMessages(MessageBasics):
    """What a person reads back after a command or an upload."""

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
        elif isinstance(exc, WhenError):
            text = scrub(say(exc.phrase, self.when_sentences))
        elif isinstance(exc, InputError | NotFound):
            text = scrub(engine_error(str(exc), self))
        elif isinstance(exc, InvalidTransition):
            why = say(exc.phrase, self.state_sentences)
            text = self.cannot_now.format(why=scrub(why).rstrip(".。"))
        elif isinstance(exc, WorkflowError):
            text = self.dify_error.format(why=scrub(engine_error(str(exc), self)))
        elif isinstance(exc, ConfigError):
            text = self.config_error
        else:
            text = self.internal_error.format(kind=type(exc).__name__)
        return self.out(text)

    def sheet_error_text(self, exc: SheetError, *, max_listed: int = 10) -> str:
        problems = [scrub(self.sheet_sentence(p)) for p in exc.problem_phrases]
        lines = [scrub(self.sheet_sentence(exc.phrase)), *self.listing(problems, max_listed)]
        return self.out("\n".join(lines))

    def sheet_sentence(self, said: Phrase | str) -> str:
        """A sentence of the sheet code in this language (its English when it has no code)."""
        return say(said, self.sheet)

    def problem_message(self, problem: SheetProblem) -> str:
        """What is wrong with a cell or row, without where (for a cell's comment)."""
        return self.sheet_sentence(problem.phrase or problem.message)

    # -- discovery ----------------------------------------------------------------------

    def help_text(self) -> str:
        lines = [self.help_head, ""]
        for usage, what in self.help_lines:
            lines.append(f"{self.cmd(usage)} — {what}")
            if usage.split()[0] == "run":  # comparing is run with more workflows: say so beside it
                lines.append(f"{self.cmd(self.help_compare_usage)} — {self.help_compare}")
        return self.out("\n".join([*lines, "", self.help_when]))

    def workflows_text(self, names: Sequence[str]) -> str:
        if not names:
            return self.out(self.workflows_none)
        return self.out("\n".join([self.workflows_head, *(f"• {n}" for n in names)]))

    # -- uploads ------------------------------------------------------------------------

    def check_summary(
        self, filename: str, workflow_names: Sequence[str], parsed: ParsedSheet, *, max_listed: int = 10,
        estimate: str | None = None,
    ) -> str:
        """What an upload without a command gets: ready rows (and ``estimate``, a line from
        `estimate_text`), or the first problems."""
        lines = [self.check_file.format(filename=filename, sheet=parsed.sheet_name)]
        if not parsed.ok:
            problems = [self.problem_text(p.row, p.column, self.problem_message(p)) for p in parsed.problems]
            lines.append(self.check_bad.format(n=len(problems)))
            lines += self.listing(problems, max_listed)
            lines.append(self.check_bad_tail)
        elif not parsed.rows:
            lines.append(self.check_empty)
        elif len(workflow_names) == 1:
            lines.append(self.check_ok_one.format(rows=len(parsed.rows), workflow=workflow_names[0]))
        else:
            names = self.list_sep.join(workflow_names)
            lines.append(self.check_ok_many.format(rows=len(parsed.rows), workflows=names))
        if estimate and parsed.ok and parsed.rows:
            lines.append(estimate)
        if parsed.blank_rows:
            lines.append(self.check_blank.format(n=parsed.blank_rows))
        if parsed.extra_columns:
            shown = self.listing(list(parsed.extra_columns), max_listed)
            lines.append(self.check_extra.format(columns=self.list_sep.join(shown)))
        return self.out("\n".join(lines))

    def estimate_text(self, est: Estimate, workflow: str) -> str:
        """One line: what the batch should cost, or that there is nothing yet to tell from."""
        if not est.known or est.duration_s is None:
            return self.check_estimate_none.format(rows=f"{est.rows:,}", workflow=workflow)
        amount, unit = rough_duration(est.duration_s)
        basis = self.check_estimate_basis["one" if est.batches == 1 else "many"].format(n=est.batches)
        return self.check_estimate.format(
            rows=f"{est.rows:,}", duration=self.estimate_units[unit].format(n=amount),
            in_flight=est.in_flight, tokens=rough_count(est.tokens or 0), basis=basis,
        )

    def sample_text(
        self, filename: str, workflow: str, rows: Sequence[Row], total: int, *, max_chars: int = 300
    ) -> str:
        """A sample's rows, each on a line with its outputs (or error) shortened, then the question."""
        lines = [self.sample_head.format(n=len(rows), filename=filename, workflow=workflow)]
        for row in rows:
            if row.status is RowStatus.SUCCEEDED:
                shown = " · ".join(f"{k}: {_one_line(v)}" for k, v in (row.outputs or {}).items())
                lines.append(self.sample_ok.format(row=row.sheet_row, outputs=_cut(scrub(shown), max_chars)))
            else:
                error = _cut(scrub(_one_line(engine_error(row.error or "", self))), max_chars)
                status = self.state_sentences.get(f"state_{row.status.value}", row.status.value)
                lines.append(self.sample_bad.format(row=row.sheet_row, status=status, error=error))
        lines.append(self.sample_tail.format(total=f"{total:,}"))
        return self.out("\n".join(lines))

    def problem_text(self, row: int, column: str, message: str) -> str:
        """A row of 0 or an empty column means the problem is not tied to one cell."""
        if row > 0 and column:
            return self.problem_at.format(row=row, column=column, message=message)
        if row > 0:
            return self.problem_row.format(row=row, message=message)
        return self.problem_col.format(column=column, message=message) if column else message

    def starting_text(self, filename: str, workflow: str) -> str:
        return self.out(self.starting.format(filename=filename, workflow=workflow))

    def refused_as_too_large_text(self, filename: str, size: int) -> str:
        return self.out(self.file_refused_as_too_large.format(filename=filename, size_mb=size / 1e6))

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

    # -- refusals (raised as CommandError by bot.chat.commands / bot.chat.access) -----------------

    def may_not_use_text(self, workflow: str) -> str:
        return self.may_not_use.format(workflow=workflow)

    def unknown_workflow_text(self, workflow: str) -> str:
        return self.unknown_workflow.format(workflow=workflow, list=self.cmd("workflows"))

    def not_yours_text(self, batch_id: str) -> str:
        return self.not_yours.format(id=batch_id)


def _one_line(value: object) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return " ".join(text.split())


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
