"""The English of the command line (issue 14): every message, the help of every command and
option, argparse's own words, the status table, and the reasons a connection fails.

`EnglishWording` names these mappings in its ``# CLI (issue 14)`` block; a catalogue
translates each key by key (same keys, same placeholders, `tests/bot/chat/test_catalogues.py`).
No ``WORDING`` here: this module is a part of the English catalogue, not a language."""

from __future__ import annotations

CLI_SAYS: dict[str, str] = {
    # reading the sheet and --output
    "no_such_file": "{path}: no such file",
    "is_a_folder": "{path} is a folder; give the sheet's file",
    "unreadable": "{path}: cannot be read ({why})",
    "concurrency_min": "--concurrency must be 1 or more",
    "sample_min": "--sample must be 1 or more",
    "keep_days_min": "--keep-days must be 1 or more",
    "demo_rows": "--rows must be between 1 and 10000",
    "output_folder": "--output {path} is a folder; name the results file inside it",
    "output_suffix": "--output {path}: name a .xlsx or .csv file (the suffix says which is written)",
    "output_parent_file": "--output {path}: {existing} is a file, not a folder",
    "output_read_only": "--output {path}: the folder {folder} cannot be created ({existing} is read-only)",
    "output_locked": "--output {path} exists and cannot be overwritten",
    "output_unwritable": "--output {path}: cannot write in {folder} ({why})",
    "template_xlsx": "--output {path}: a template is an .xlsx workbook",
    # running
    "batch_line": "Batch {id}: {total} rows on {workflow}",
    "sample_batch_line": "Sample batch {id}: {total} rows on {workflow}",
    "resuming": "Resuming batch {id} ({workflow})",
    "retrying": "Retrying {n} failed row(s) of batch {id} ({workflow})",
    "already_finished": "Batch {id} had already finished; its results file is above.",
    "finished_refused": (
        "batch {id} is already {status}; dify-batch result {id} writes its results file, "
        "dify-batch retry {id} runs its failed rows again"
    ),
    "owed_written": "Batch {id}: wrote its results file, owed since an interrupted write: {path}",
    "results_unwritten": (
        "batch {id} finished but its results file {path} could not be written ({why}); "
        "fix that and run: dify-batch resume {id}"
    ),
    "demo_wrote": (
        "Wrote {path} ({rows} rows). Running it through the simulated app {workflow!r}: "
        "about one call in ten first fails and is retried."
    ),
    "sample_row": "row {row}  {mark}  {text}",
    "sample_no_outputs": "(no outputs)",
    # check
    "ready": "{filename}: {rows} rows ready for {workflow}",
    "ready_blank": "; {n} blank rows skipped",
    "ready_extra": "; extra columns carried through: {columns}",
    "ready_end": ".",
    "estimate_unknown": (
        "≈ {rows} rows at {in_flight} in flight · no earlier batches of {workflow} to estimate "
        "time and tokens from"
    ),
    "estimate_rows": "≈ {rows} rows",
    "estimate_calls": " ({calls} calls with retries)",
    "estimate_time": "~{duration} at {in_flight} in flight",
    "estimate_tokens": "~{tokens} tokens",
    "estimate_failed": "~{rate} failed before",
    "estimate_basis_one": " (from 1 earlier batch)",
    "estimate_basis_many": " (from {n} earlier batches)",
    # status, pause, cancel
    "no_batch": "there is no batch {id}",
    "no_workflow": "there is no workflow named {name!r}",
    "no_schedule": "no schedule {id}",
    "no_active_schedule": "no active schedule {id}",
    "no_batches": "No batches yet.",
    "results_owed": (
        "Batch {id}: its results file {path} is not written "
        "yet; dify-batch resume {id} writes it"
    ),
    "sample_mark": "  (sample)",
    "detail_rows": (
        "{done}/{total} done: {ok} ok, {failed} failed, {cancelled} cancelled, {running} running, "
        "{pending} waiting"
    ),
    "detail_owed": "  (not written yet: dify-batch resume {id} writes it)",
    "paused_outage": (
        "Dify has been unreachable since {when} ({why}); paused by itself after {after} s"
    ),
    "paused": "Paused batch {id}; rows in flight finish and are kept. Continue with: dify-batch resume {id}",
    "cancelled": (
        "Cancelled batch {id}: {ok} ok, {failed} failed, {cancelled} cancelled of {total} rows. "
        "dify-batch result {id} writes the results so far."
    ),
    # schedules
    "scheduled": "Schedule {id}: {workflow} on {filename}, {when}; next run {next}.",
    "scheduled_tail": (
        "The daemon (dify-batch serve) on this database runs it; dify-batch result <batch id> "
        "writes its results."
    ),
    "no_schedules": "No schedules.",
    "schedule_row": "{id}  {workflow}  {when!r}  {filename}  {owner}  next: {next}",
    "unscheduled": "Schedule {id} removed.",
    "never": "none",
    # the database by hand
    "db_current_ok": "{head} (up to date)",
    "db_current_legacy": "0.1.0 (no revision yet); `dify-batch db upgrade` takes it to {head}",
    "db_current_empty": "empty; the first start creates revision {head}",
    "db_current_behind": "{current}; `dify-batch db upgrade` takes it to {head}",
    "db_already": "already at {head}; nothing to do",
    "db_created": "created the schema at revision {revision}",
    "db_upgraded": "upgraded from {before} to {after}",
    "db_backup": "the database as it was: {path}",
    "pruned": "deleted {batches} batch(es) finished before {cutoff} and {files} kept sheet(s)",
    "pruned_kept": "kept {n} old batch(es) whose results file was never delivered: {ids}",
    # check-config
    "config_ok": (
        "{source}: no problems. {n} workflow(s): {names}; chat: {chats}; database: {database}"
    ),
    "chats_none": "none enabled",
    "online_failed": "{n} online check(s) failed",
    "all_ok": "OK",
    "app_ok": "  {name}: OK, {app_type} app; inputs: {labels}",
    "no_inputs": "no inputs",
    "app_problem": "  {name}: {problem}",
    "db_cannot_create": "  database: {path} cannot be created: {folder} is not a folder",
    "db_created_later": "  database: OK, {path} does not exist yet and is created on first use",
    "db_problem": "  database: {problem}",
    "db_ok": "  database: OK, connected; {schema}",
    "schema_revision": "schema revision {revision}",
    "schema_empty": "no tables yet (created on first use)",
    "schema_missing": "tables missing: {tables} (created on first use)",
    "schema_full": "every table present",
    "telegram_refused": (
        "  telegram: the bot token was refused ({reason}); it comes from the environment variable {env}"
    ),
    "telegram_ok": "  telegram: OK, bot @{name}",
    "slack_refused": (
        "  slack: the bot token was refused ({reason}); it comes from the environment variable {env}"
    ),
    "slack_ok": "  slack: OK, {user} in {team}",
    "api_unreachable": "  {what}: cannot reach its API ({why}); check {what}.api_base",
    # what went wrong
    "config_where": " ({path})",
    "config_head_one": "the configuration{where} has 1 problem:",
    "config_head_many": "the configuration{where} has {n} problems:",
    "data_dir": "cannot create the data folder {path} ({why}); check daemon.data_dir in the config",
    "sqlite_open": (
        "cannot open the SQLite database {path} ({why}); check daemon.database_url and that its "
        "folder exists and can be written"
    ),
    "db_unreachable": "cannot reach the database {url} ({why}); is it running? Check daemon.database_url",
    "key_refused": (
        "Dify refused the API key of workflow {name!r} ({error}); the key comes from the "
        "environment variable {env}: set it to this app's key (app-…)"
    ),
    "key_env_unknown": "its api_key_env variable",
    "not_found_v1": (
        "{base} answered 404 for workflow {name!r}: base_url must end at /v1, e.g. {fixed} "
        "(workflows.{name}.base_url)"
    ),
    "not_found_api": (
        "{base} answered 404 for workflow {name!r}: check that base_url is the app's API base "
        "(workflows.{name}.base_url)"
    ),
    "dify_slow": (
        "Dify at {base} did not answer in time (workflow {name!r}); is it overloaded or behind a "
        "slow proxy? Check workflows.{name}.base_url"
    ),
    "dify_unreachable": (
        "cannot reach Dify at {base} ({why}) for workflow {name!r}; is it running? "
        "Check workflows.{name}.base_url"
    ),
    "dify_error": "Dify at {base} answered workflow {name!r} with an error: {error}",
    "path_problem": "{path}{why}; check the path and its folder",
    "database_failed": "the database failed ({why}); check daemon.database_url and that the database is up",
    "connection_failed": "a connection failed ({why})",
    "unexpected": "unexpected error: {detail}{hint}",
    "unexpected_hint": " (run again with -v for the details)",
    "chat_template_hint": "Download the template to see the expected headers.",
    "template_hint": "`dify-batch template {workflow}` writes a sheet with the expected headers.",
    "version_unknown": "unknown (not installed)",
}
"""Every sentence the CLI prints or raises, by code."""

OUTAGE_REASONS: dict[str, str] = {
    "connection_refused": "connection refused",
    "refused_by": "connection refused by {where}",
    "host_not_found": "host name not found",
    "cannot_resolve": "cannot resolve the host name {host}",
    "cannot_connect": "cannot connect to {where} ({why})",
    "permission_denied": "permission denied",
    "timed_out": "timed out",
    "password_refused": "the user name or password was refused",
    "no_database": "that database does not exist",
}
"""Why a connection (to Dify, the database, a chat API) failed, in a few words."""

CLI_STATUS_COLUMNS: dict[str, str] = {
    "id": "ID", "status": "STATUS", "done": "DONE", "ok": "OK", "failed": "FAILED",
    "workflow": "WORKFLOW", "sheet": "SHEET", "owner": "OWNER", "created": "CREATED (UTC)",
}
CLI_STATUS_FIELDS: dict[str, str] = {
    "batch": "batch", "status": "status", "workflow": "workflow", "sheet": "sheet", "owner": "owner",
    "rows": "rows", "tokens": "tokens", "created": "created", "started": "started",
    "finished": "finished", "error": "error", "results": "results",
}
CLI_STATUS_WORDS: dict[str, str] = {
    "scheduled": "scheduled", "pending": "pending", "running": "running", "paused": "paused",
    "completed": "completed", "failed": "failed", "cancelled": "cancelled", "succeeded": "succeeded",
}
"""A batch's or row's status as `status` and the sample lines print it (``--json`` keeps the value)."""

CLI_HELP: dict[str, str] = {text: text for text in (
    "Run a Dify app over every row of a spreadsheet.",
    "print the version",
    "log what happens, and show the full traceback of an unexpected error",
    "config file (default: $DIFY_BATCH_CONFIG, then ./config.toml)",
    "run a workflow over a sheet, write the results",
    "the input sheet: .xlsx, .xls, .ods or .csv",
    "workflow name from the config",
    "workflow name from the config; name two or more to compare them on the same rows",
    ".xlsx or .csv (default: <sheet>-results.xlsx; a comparison: <sheet>-compare.xlsx)",
    "rows in flight at once for this run",
    "run only the first N rows as a sample; show their outputs",
    "continue an interrupted or paused batch",
    "the batch or comparison to continue (see dify-batch status)",
    "results file (default: the one the run was given)",
    "rows in flight (default: what the batch started with)",
    "run a finished batch's failed rows again",
    "the batch (or comparison) to retry",
    "rows in flight at once",
    "show recent batches, or one batch",
    "one batch (or comparison) to show in detail",
    "print JSON for scripts",
    "pause a running batch (rows in flight finish)",
    "the batch (or comparison) to pause",
    "cancel a batch: stop its runs, skip the rest",
    "the batch (or comparison) to cancel",
    "write the results file of any batch",
    "the batch (or comparison) whose results to write",
    "results file, .xlsx or .csv (default: the path its run was given, else <sheet>-results-<ID>.xlsx here)",
    "write an empty input sheet for a workflow",
    "default: <workflow>-template.xlsx",
    "try it: a sample sheet through a simulated app",
    "where to write",
    "how many sample rows",
    "run the chat daemon (Telegram, Slack, scheduler)",
    "run a sheet later or on a recurring time",
    'e.g. "tomorrow 09:00", "every day 08:00"',
    "list schedules with their next fire time",
    "stop a schedule",
    "the schedule to stop",
    "check a config file, listing every problem",
    "the config file (same as --config; default: $DIFY_BATCH_CONFIG, then ./config.toml)",
    "also ask each Dify app for its form, connect to the database and try each chat token",
    "check a sheet against a workflow and estimate the run",
    "upgrade the database schema, show its revision, prune old batches",
    "bring the schema to this release's revision",
    "show the schema revision, change nothing",
    "delete finished batches older than keep_days now",
    "default: [daemon] keep_days (30)",
)}
"""The help of every command and option, keyed by its English (the ``help=`` the command
modules give argparse); `bot.cli.output.usage` swaps each for the catalogue's wording."""

CLI_ARGPARSE: dict[str, str] = {text: text for text in (
    "usage: ",
    "positional arguments",
    "options",
    "show this help message and exit",
    "%(prog)s: error: %(message)s\n",
    "the following arguments are required: %s",
    "unrecognized arguments: %s",
    "invalid choice: %(value)r (choose from %(choices)s)",
    "invalid %(type)s value: %(value)r",
    "expected one argument",
    "argument %(argument_name)s: %(message)s",
    "not allowed with argument %s",
    "one of the arguments %s is required",
    "ambiguous option: %(option)s could match %(matches)s",
)}
"""argparse's own words (its gettext message ids) as `bot.cli.output.usage` hands them over."""
