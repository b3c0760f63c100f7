"""Every English sentence a person reads: chat replies, buttons, progress, sheet problems,
the template's About sheet, the results' Summary sheet and the CLI's progress line.

The English catalogue, and the list of keys every other catalogue in this package must
give (same keys, same placeholders; `tests/bot/chat/test_catalogues.py` checks it). A new
language is one new module here: a subclass of `EnglishWording` named ``WORDING``."""

from __future__ import annotations

from typing import ClassVar

from bot.chat.text.catalogues.cli_en import (
    CLI_ARGPARSE,
    CLI_HELP,
    CLI_SAYS,
    CLI_STATUS_COLUMNS,
    CLI_STATUS_FIELDS,
    CLI_STATUS_WORDS,
    OUTAGE_REASONS,
)
from bot.config_sentences import CONFIG_SENTENCES
from engine.compare.labels import COMPARE_LABELS
from engine.models import BatchStatus
from engine.sheets.sentences import CHART_LABELS, SHEET_SENTENCES, SUMMARY_LABELS, TEMPLATE_LABELS
from engine.text.sentences import STATE_SENTENCES, WHEN_SENTENCES


class EnglishWording:
    """The templates; `Messages` fills them in."""

    locale = "en"
    """The tag ``[daemon] locale`` names this catalogue by."""
    language_name = "English"
    list_sep = ", "
    """Between the items of an inline list (workflow names, columns)."""

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
    unreachable = "⚠️ Dify unreachable since {since} UTC ({duration}): {reason}. Next try in {next}."
    paused_because = "Paused: {error}. {resume} {id} continues."
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
        "partial": "⚠️ {workflow} · batch {id} completed; rows failed: {failed}",
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
    check_estimate = "≈ {rows} rows · ~{duration} at {in_flight} in flight · ~{tokens} tokens ({basis})"
    check_estimate_basis: ClassVar[dict[str, str]] = {
        "one": "from 1 earlier batch", "many": "from {n} earlier batches",
    }
    check_estimate_none = "≈ {rows} rows · no earlier batches of {workflow} to estimate time and tokens from"
    estimate_units: ClassVar[dict[str, str]] = {"s": "{n:g} s", "min": "{n:g} min", "h": "{n:g} h"}
    problem_at = "row {row}, column {column!r}: {message}"
    problem_row = "row {row}: {message}"
    problem_col = "column {column!r}: {message}"
    more = "… and {n} more"
    # batches and schedules
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
    upload_gone = "That upload is gone (it already ran, was discarded or is over a week old); send it again."
    no_upload = "Send a spreadsheet first, then {cmd} <workflow>."
    file_refused_as_too_large = "{filename} is {size_mb:.1f} MB, more than this chat accepts from a bot."
    results_on_the_server = "Get the results workbook on the server with: dify-batch result {batch_id}"
    results_not_sent = "I could not send the results workbook ({kind}); {cmd} {batch_id} tries again."
    file_needs_membership = (
        "(I am not a member of this channel, so I cannot post the file {filename} here. "
        "Invite me with /invite, or send the command in a direct message to me.)"
    )
    file_too_big = (
        "{filename} is {size_mb:.1f} MB; the limit is {limit_mb:g} MB. Split it and send the parts."
    )
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
    trying = "🧪 Tried the first {n} rows of {filename} on {workflow} (sample batch {id})."
    sample_head = "🧪 The first {n} rows of {filename} on {workflow}:"
    sample_ok = "row {row} ✓ {outputs}"
    sample_bad = "row {row} ✗ {status}: {error}"
    sample_tail = "Run all {total} rows, or discard the file?"
    sample_slow = "The sample (batch {id}) is still running; {status} {id} shows how far it got."
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
        "try": "🧪 Try 3 rows",
        "run_all": "▶️ Run all",
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
    # compare (issue 15.6)
    compare_labels: ClassVar[dict[str, str]] = COMPARE_LABELS
    """The comparison workbook's sheet name, Compare sheet labels and ``differs`` column."""
    compare_twice = "each workflow can be compared once; named twice: {names}"
    compare_xlsx_only = "--output {path}: a comparison is written as an .xlsx workbook"
    compare_started = "Comparison {id}: {total} rows on {workflows}"
    compare_batch = "  {workflow}: batch {batch}"
    compare_resuming = "Resuming comparison {id} ({workflows})"
    compare_bar = "{workflow} [{bar}] {done}/{total} ok {ok} failed {failed}"
    compare_figures = (
        "{workflow}: {ok} ok, {failed} failed of {total} rows ({rate}), median {median}, "
        "p95 {p95}, {tokens} tokens"
    )
    compare_differs = "{column}: {n} of {total} rows differ"
    compare_no_time = "-"
    compare_paused = (
        "Paused comparison {id}; rows in flight were kept. Continue with: dify-batch resume {id}"
    )
    compare_not_written = (
        "comparison {id} finished but its workbook {path} could not be written ({reason}); "
        "fix that and run: dify-batch resume {id}"
    )
    compare_head = "Comparison {id}"
    compare_progress_head = "⚖️ {filename}: {workflows} · comparison {id}"
    compare_final_head = "⚖️ Comparison {id} finished: {filename}"
    compare_final_line = "{workflow}: {ok} ok, {failed} failed · {tokens} tokens"
    compare_final_result = "{result} {id} sends the comparison workbook again."
    compare_caption = "comparison {id} of {workflows}: {differs}"
    compare_caption_differs = "{column} differs in {n} of {total} rows"
    compare_caption_same = "the outputs are the same in every row"
    # compare follow-ups
    help_compare_usage = "run <workflow> <workflow>"
    help_compare = "run the file on each workflow and compare their outputs"
    compare_paused_all = (
        "Paused comparison {id} ({batches}); rows in flight finish and are kept. "
        "Continue with: dify-batch resume {id}"
    )
    compare_cancelled_all = "Cancelled comparison {id}; dify-batch result {id} writes the workbook so far."
    compare_cancelled_line = (
        "  {workflow} (batch {batch}): {ok} ok, {failed} failed, {cancelled} cancelled of {total} rows"
    )
    compare_retrying = "Retrying {n} failed row(s) of comparison {id} ({workflows})"
    compare_status_column = "COMPARISON"
    compare_status_field = "comparison"
    compare_incomplete = (
        "comparison {id} has no batch on {missing}: it was cut short while its batches were "
        "being created, so no row of it was sent there. Start the comparison again with "
        "dify-batch run <sheet> {workflows}, or continue the batch it has alone: "
        "dify-batch resume {batches}"
    )
    compare_missing_other = "its other workflow"
    compare_button_done: ClassVar[dict[str, str]] = {
        "pause": "Pausing comparison {id}.",
        "resume": "Resuming comparison {id}.",
        "cancel": "Cancelling comparison {id}.",
        "result": "Sending the workbook of comparison {id}.",
    }
    """The toast of a button on a comparison's progress message (`button_done` for a batch)."""
    # charts (issue 15.7)
    chart_labels: ClassVar[dict[str, str]] = CHART_LABELS
    """The results' Summary sheet: estimated vs actual, the charts and their tables
    (`engine.sheets.sentences`)."""
    # CLI (issue 14)
    cli_says: ClassVar[dict[str, str]] = CLI_SAYS
    """Every sentence the CLI prints or raises (`cli_en`)."""
    cli_help: ClassVar[dict[str, str]] = CLI_HELP
    """The help of each command and option, keyed by its English."""
    cli_argparse: ClassVar[dict[str, str]] = CLI_ARGPARSE
    """argparse's own words, keyed by its message ids."""
    cli_status_columns: ClassVar[dict[str, str]] = CLI_STATUS_COLUMNS
    cli_status_fields: ClassVar[dict[str, str]] = CLI_STATUS_FIELDS
    cli_status_words: ClassVar[dict[str, str]] = CLI_STATUS_WORDS
    outage_reasons: ClassVar[dict[str, str]] = OUTAGE_REASONS
    config_sentences: ClassVar[dict[str, str]] = CONFIG_SENTENCES
    """A config file's problems by code (`bot.config_sentences`)."""
    # zh follow-ups
    engine_errors: ClassVar[dict[str, str]] = {
        # tried in this order: a wrapper before what it wraps ("no answer within 30 s (after 3
        # attempts)"), the narrower of two alike before the wider (a schedule's sheet)
        "after_attempts": "{message} (after {n} attempts)",
        "may_still_run": "{message} (run {run} may still be going)",
        "no_answer": "no answer within {s} s",
        "no_result": "no result within {s} s",
        "no_answer_call": "Dify did not answer {call} within {s} s",
        "connection_failed": "connection to Dify failed: {what}",
        "not_json": "Dify answered the run with something that is not JSON",
        "front_server": "HTTP {status} from the server in front of Dify",
        "run_ended": "the run ended {status}",
        "kept_refusing": "Dify kept refusing for {s} s: {message}",
        "unreachable": "Dify is unreachable: {reason}",
        "internal": "internal error: {what}",
        "cancelled": "cancelled",
        "every_row_failed": "every row failed",
        "storing_failed": "storing its rows failed ({kind}); nothing more will run",
        "restart_rows": (
            "only {stored} of {total} rows were stored before a restart and the rest cannot be: {error}"
        ),
        "not_kept": "its uploaded file was not kept",
        "reads_differently": "its uploaded file no longer reads the same",
        "schedule_sheet_gone": "the stored sheet of schedule {id} is gone",
        "sheet_gone": "the stored sheet {name} is gone",
    }
    """The engine's stored errors (`engine.lanes.runner`, `engine.service`, `bot.intake`,
    `bot.scheduling`) by their English shape; `bot.chat.text.engine_said` reads them back."""
    # units
    moment = "{time} ({zone})"
    duration_h = "{h}h {m:02d}m"
    duration_m = "{m}m {s:02d}s"
    duration_s = "{s}s"
    # sheets, workbooks and the command line (their English lives with the engine)
    sheet: ClassVar[dict[str, str]] = SHEET_SENTENCES
    """Sheet problems by code (`engine.sheets.sentences`)."""
    when_sentences: ClassVar[dict[str, str]] = WHEN_SENTENCES
    """Why a schedule time cannot be used (`engine.text.sentences`)."""
    state_sentences: ClassVar[dict[str, str]] = STATE_SENTENCES
    """Why a batch cannot do that now (`engine.text.sentences`)."""
    template_labels: ClassVar[dict[str, str]] = TEMPLATE_LABELS
    summary_labels: ClassVar[dict[str, str]] = SUMMARY_LABELS
    cli_progress = "[{bar}] {done}/{total} ok {ok} failed {failed}"
    cli_cancelled = " cancelled {cancelled}"
    cli_rate = " | {rate} rows/min"
    cli_eta = " | ETA {eta}"
    cli_error = "dify-batch: {message}"
    cli_problem = "  - {problem}"
    cli_more_problem = "  … and 1 more problem"
    cli_more_problems = "  … and {n} more problems"
    cli_marked = "The bad cells are marked in {path}."
    cli_marked_failed = "(The marked-up copy could not be written to {path}: {reason}.)"
    cli_unreachable = "Dify unreachable since {since} ({duration})"
    cli_unreachable_why = ": {reason}"
    cli_next_try = " | next try in {wait}"
    cli_summary = "{status}: {ok} ok, {failed} failed{cancelled} of {total} rows{took}, {tokens} tokens"
    cli_summary_cancelled = ", {n} cancelled"
    cli_summary_took = " in {duration}"
    cli_paused = "Paused batch {id}{by}; rows in flight were kept. Continue with: dify-batch resume {id}"
    cli_paused_elsewhere = " elsewhere (dify-batch pause or a chat button)"
    cli_paused_itself = "Batch {id} paused by itself: {error}."
    cli_paused_grace = (
        "Paused batch {id}; rows still in flight after {grace} s are checked with Dify when it "
        "resumes. Continue with: dify-batch resume {id}"
    )
    cli_pausing = (
        "Pausing: letting rows in flight finish (at most {grace} s; press Ctrl-C again to stop now)…"
    )


WORDING = EnglishWording
