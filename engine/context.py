"""Context inputs: app variables filled from what the batch knows rather than from the sheet.

A workflow's ``[workflows.W.context]`` maps optional app variables to one of the sources in
`SOURCES` (``row_no = "row"``). Dify has no way to tell a run which row it is processing,
so the batch tells it through an ordinary input. A column in the sheet always wins.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from engine.models import FieldType, InputForm, JsonDict, ParsedSheet, SheetRow
from engine.sheets.cells import loose
from engine.sheets.checkedrows import changed_rows
from engine.text.phrases import Phrase, phrase
from engine.text.sentences import CONTEXT_SENTENCES

SOURCES = {
    "row": "the row's number as the spreadsheet shows it (header = 1)",
    "batch": "the batch id",
    "file": "the uploaded file's name",
    "owner": "who started the batch (e.g. telegram:12345, cli:ann)",
}


@dataclass(frozen=True, slots=True)
class ContextInput:
    """One app variable to fill, from which source, cut to the field's ``max_length``."""

    variable: str
    source: str
    max_length: int | None = None


def unknown_variables(mapping: Sequence[tuple[str, str]], form: InputForm) -> list[Phrase]:
    """Problems with a mapping against the app's form: variables it lacks or that are not plain inputs."""
    fields = {f.variable: f for f in form.fields}
    problems = []
    for variable, source in mapping:
        found = fields.get(variable)
        if found is None:
            if fields:
                problems.append(phrase(
                    CONTEXT_SENTENCES, "context_unknown", variable=variable, source=source,
                    known=", ".join(fields),
                ))
            else:
                problems.append(phrase(
                    CONTEXT_SENTENCES, "context_unknown_none", variable=variable, source=source
                ))
        elif found.type not in _FILLABLE:
            problems.append(phrase(
                CONTEXT_SENTENCES, "context_not_plain", variable=variable, kind=found.type.value
            ))
    return problems


def inputs_to_fill(
    mapping: Sequence[tuple[str, str]], form: InputForm, sheet: ParsedSheet
) -> tuple[ContextInput, ...]:
    """The mapped variables the sheet has no column for, with the form's length limit."""
    fields = {f.variable: f for f in form.fields}
    extra = set(sheet.extra_columns)
    in_sheet = {loose(c) for c in sheet.columns if c not in extra}
    wanted = []
    for variable, source in mapping:
        found = fields.get(variable)
        if found is None or found.type not in _FILLABLE:
            continue
        if loose(variable) in in_sheet or loose(found.label) in in_sheet:
            continue
        wanted.append(ContextInput(variable, source, found.max_length))
    return tuple(wanted)


def context_values(
    wanted: Sequence[ContextInput], *, sheet_row: int, batch_id: str, file: str, owner: str
) -> JsonDict:
    """The inputs one row gets from its context. Strings: Dify takes numeric strings for numbers."""
    known = {"row": str(sheet_row), "batch": batch_id, "file": file, "owner": owner}
    values: JsonDict = {}
    for item in wanted:
        value = known[item.source]
        values[item.variable] = value[: item.max_length] if item.max_length else value
    return values


def with_context(
    sheet: ParsedSheet, wanted: Sequence[ContextInput], *, batch_id: str, file: str, owner: str
) -> ParsedSheet:
    """The sheet with every row's context inputs filled in (the same sheet when none are wanted)."""
    if not wanted:
        return sheet

    def fill(r: SheetRow) -> SheetRow:
        values = context_values(wanted, sheet_row=r.sheet_row, batch_id=batch_id, file=file, owner=owner)
        return replace(r, inputs={**r.inputs, **values})

    # as each row is built: a big sheet's rows are not all held at once (engine.sheets.checkedrows)
    return replace(sheet, rows=changed_rows(sheet.rows, fill))


_FILLABLE = (FieldType.TEXT_INPUT, FieldType.PARAGRAPH, FieldType.NUMBER)
