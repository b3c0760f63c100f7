"""The English of everything the sheet code says or writes, by code: file and row problems,
the template's About sheet, the results workbook's Summary sheet and status words.

A front end passes its own translation of these mappings (same keys, same placeholders) to
`template_workbook`, `write_results` and `annotated_copy`, and renders a `Phrase` with
`engine.phrases.say`; the engine itself only ever uses the English here.
"""

from __future__ import annotations

from typing import Any

from engine.models import SheetProblem
from engine.text.phrases import Phrase, phrase

SHEET_SENTENCES: dict[str, str] = {
    # the file as a whole
    "empty_file": "{filename} is empty (0 bytes).",
    "file_too_big": (
        "{filename} is {size}; the limit is {limit}, set by [limits] max_file_mb. Split it into "
        "smaller files, or raise [limits] max_file_mb in the configuration."
    ),
    "password": "{filename} is password-protected. Save it without a password and send it again.",
    "other_file": "{filename} is {what}, not a spreadsheet. Send an .xlsx, .xls, .ods or .csv file.",
    "kind_pdf": "a PDF document",
    "kind_png": "a PNG image",
    "kind_jpeg": "a JPEG image",
    "kind_gif": "a GIF image",
    "kind_gzip": "a gzip archive",
    "kind_rar": "a RAR archive",
    "kind_7z": "a 7-Zip archive",
    "kind_rtf": "an RTF document",
    "html": "{filename} is a web page (HTML), not a spreadsheet. Open it in Excel and save it as .xlsx.",
    "not_sheet": "{filename} is not a spreadsheet. Send an .xlsx, .xls, .ods or .csv file.",
    "text_named_workbook": (
        "{filename} is named {ext} but is not an Excel/ODS workbook; it is plain text. "
        "If it is CSV, name it .csv, or open it in Excel and save it as .xlsx."
    ),
    "unsupported_ext": "{filename}: {ext} files are not supported. Send an .xlsx, .xls, .ods or .csv file.",
    "damaged_zip": "{filename} is a damaged workbook (the zip container cannot be read).",
    "word": "{filename} is a Word document, not a spreadsheet.",
    "powerpoint": "{filename} is a PowerPoint presentation, not a spreadsheet.",
    "zip_not_workbook": (
        "{filename} is a zip archive, not a workbook. Send an .xlsx, .xls, .ods or .csv file."
    ),
    "part_too_large": "{filename}: the part {part} is implausibly large; the file was refused.",
    "xml_entities": "{filename} contains XML entity declarations, which are refused for safety.",
    "damaged_content_list": "{filename} is a damaged workbook (its content list is not valid XML).",
    "too_many_parts": "{filename} holds {n} parts; a workbook with that many is refused.",
    "unzips_too_big": (
        "{filename} would unpack to {size}, over the {limit} limit (this is how zip bombs look). "
        "Remove unused sheets or split the file."
    ),
    "zip_ratio": (
        "{filename}: the part {part} expands {ratio}× when unpacked, which is how zip bombs "
        "look; the file was refused."
    ),
    "unzips_more": (
        "{filename} unpacks to more than {limit} (the zip headers understate it); the file was refused."
    ),
    "xml_dtd_part": (
        "{filename} contains XML entity/DTD declarations ({part}), which are refused for safety."
    ),
    "damaged_part": "{filename} is a damaged or encrypted workbook ({part}).",
    "xml_tricks": "{filename} contains XML entity tricks, which are refused for safety.",
    "unreadable": "{filename} could not be read as a {kind} workbook: {error}",
    "csv_encoding": "The CSV file is neither UTF-8 nor GB18030 text; save it as 'CSV UTF-8'.",
    # the header row
    "sheet_empty": "{filename}: the sheet '{sheet}' is empty; it needs a header row and data rows.",
    "too_many_rows": (
        "{filename} has more than {limit} data rows, the limit set by [limits] max_rows. Split it "
        "into smaller files, or raise [limits] max_rows in the configuration."
    ),
    "duplicate_columns": (
        "{filename}: columns '{first}' and '{second}' both mean '{label}' ({variable}); keep one."
    ),
    "missing_columns": (
        "{filename}: required column(s) missing: {names}. The header row has: {header}. "
        "Download the template to see the expected headers."
    ),
    "missing_column": "missing column {label} ({variable})",
    # cells
    "cell_required": "required, but the cell is empty",
    "cell_no_header": "this cell has no column header",
    "more_problems": "…and {n} more problems not listed",
    "not_json": "not valid JSON ({error} at character {pos})",
    "not_json_object": 'must be a JSON object, like {{"key": "value"}}',
    "one_url": "must be exactly one http(s) URL",
    "too_many_files": "at most {limit} files allowed, found {n}",
    "too_long": "too long: {n} characters, the limit is {limit}",
    "number_not_bool": "must be a number, not TRUE/FALSE",
    "not_number": "must be a number, got '{value}'",
    "not_finite": "must be a finite number",
    "not_checkbox": "must be TRUE or FALSE (also yes/no, 1/0), got '{value}'",
    "not_option": "'{value}' is not one of the options: {options}",
    "not_url": "'{value}' is not an http(s) URL",
    # a whole sheet refused at submit
    "rows_bad": "{n} problem(s) in {filename}; nothing was started.",
    "no_rows": "{filename} has no data rows; nothing was started.",
    "rows_not_scheduled": "{n} problem(s) in {filename}; nothing scheduled.",
    "form_mismatch": "the sheet does not match the app's form",
    "problem_at": "row {row}, column '{column}': {message}",
    "problem_row": "row {row}: {message}",
}
"""Every problem the sheet code reports, by code. Values in ``{}`` are filled per problem."""

TEMPLATE_LABELS: dict[str, str] = {
    "about_sheet": "About",
    "title": "Input template for workflow '{workflow}'",
    "intro": (
        "Fill one row per run on the Inputs sheet. Headers may be in any order; "
        "extra columns are kept in the results. Blank rows are skipped."
    ),
    "head_column": "Column",
    "head_variable": "Variable",
    "head_type": "Type",
    "head_required": "Required",
    "head_options": "Options",
    "head_max_length": "Max length",
    "head_default": "Default",
    "head_description": "Description",
    "yes": "yes",
    "no": "no",
    "required": "Required",
    "optional": "Optional",
    "note": "variable: {variable}\n{need}; {type}",
    "max_files": "{n} files",
    "max_chars": "{n} characters",
    "type_text-input": "Text",
    "type_paragraph": "Text (may be long)",
    "type_select": "One of the options",
    "type_number": "Number",
    "type_checkbox": "TRUE or FALSE",
    "type_file": "File: one http(s) URL",
    "type_file-list": "Files: http(s) URLs, one per line or comma-separated",
    "type_json_object": 'JSON object, like {{"key": "value"}}',
    "pick_option": "Pick one of the listed options.",
    "enter_number": "Enter a number.",
    "enter_bool": "Enter TRUE or FALSE.",
    "at_most_chars": "At most {n} characters.",
    "query_description": "The message sent to the chat app (each row is a new conversation).",
    "problems_sheet": "Problems",
    "problems_head_sheet": "Sheet",
    "problems_head_row": "Row",
    "problems_head_column": "Column",
    "problems_head_problem": "Problem",
}
"""The template workbook's About sheet and the annotated copy's Problems sheet."""

SUMMARY_LABELS: dict[str, str] = {
    "results_sheet": "Results",
    "sheet": "Summary",
    "workflow": "workflow",
    "app_version": "app version (workflow_id)",
    "batch": "batch",
    "owner": "owner",
    "source_file": "source file",
    "batch_status": "batch status",
    "created": "created (UTC)",
    "started": "started (UTC)",
    "finished": "finished (UTC)",
    "rows": "rows",
    "rows_in": "rows {status}",
    "blank_rows": "blank rows skipped",
    "total_tokens": "total tokens",
    "wall_time": "wall time (s)",
    "row_time_total": "row time total (s)",
    "row_time_mean": "row time mean (s)",
    "row_time_max": "row time max (s)",
    "error": "error",
    "columns": "About the columns",
    "note_status": (
        "succeeded, failed, cancelled; pending or running means the row had not run when this "
        "file was written"
    ),
    "note_error": "why the row failed, in Dify's words where Dify gave a reason",
    "note_attempts": "how many times the row was sent to Dify (retries after transient errors count)",
    "note_elapsed_s": "seconds the row's last call to Dify took",
    "note_tokens": "tokens Dify reported for the row",
    "note_run_id": "Dify's run id: find the run in the app's logs in Dify",
    # status words: a row's outcome in the status column, and the batch's status
    "status_pending": "pending",
    "status_running": "running",
    "status_succeeded": "succeeded",
    "status_failed": "failed",
    "status_cancelled": "cancelled",
    "status_scheduled": "scheduled",
    "status_paused": "paused",
    "status_completed": "completed",
}
"""The results workbook's Summary sheet and the words for row and batch states."""

CHART_LABELS: dict[str, str] = {
    # estimated vs actual (the estimate stored when the batch was made)
    "estimate_heading": "Estimated vs actual",
    "estimate_rows": "rows",
    "estimate_duration": "duration (s)",
    "estimate_tokens": "tokens",
    "estimated": "estimated",
    "actual": "actual",
    "estimate_basis": "estimated from",
    "basis_one": "1 earlier batch, {in_flight} rows in flight",
    "basis_many": "{n} earlier batches, {in_flight} rows in flight",
    "basis_none": "no earlier batches: time and tokens not estimated",
    # the charts and the tables they draw from
    "outcomes_title": "Rows by outcome",
    "outcome": "outcome",
    "rows": "rows",
    "run_time_title": "Run time per row",
    "run_time": "run time",
    "bucket": "{low}–{high} s",
    "bucket_tail": "≥ {low} s",
}
"""The results' Summary sheet: the estimate beside the outcome, the charts and their tables."""


def sheet_phrase(code: str, **params: Any) -> Phrase:
    """A sheet problem as a `Phrase`, its English filled in from `SHEET_SENTENCES`."""
    return phrase(SHEET_SENTENCES, code, **params)


def problem_line(problem: SheetProblem) -> Phrase:
    """One line of a problem list: where (row, column) and what, still translatable."""
    what = problem.phrase or problem.message
    if problem.row > 0 and problem.column:
        return sheet_phrase("problem_at", row=problem.row, column=problem.column, message=what)
    if problem.row > 0:
        return sheet_phrase("problem_row", row=problem.row, message=what)
    return problem.phrase or Phrase("", {}, problem.message)
