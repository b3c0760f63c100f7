"""Starting a comparison: one batch per workflow from the same checked rows, all marked
with one comparison id, so they are resumed, shown and written as one."""

from __future__ import annotations

import re
import secrets
from collections.abc import Awaitable, Callable, Mapping, Sequence

from engine.errors import InvalidTransition, StateError
from engine.models import Batch, ParsedSheet

COMPARISON_ID = re.compile(r"c[0-9a-f]{6}")
"""``c7f3a2c``: one letter longer than a batch id (six hex digits), so the two never meet."""

Submit = Callable[[str, ParsedSheet, str], Awaitable[Batch]]
"""``(workflow, checked sheet, comparison id)`` → the batch started for that workflow."""


def new_comparison_id() -> str:
    return "c" + secrets.token_hex(3)


def is_comparison_id(text: str) -> bool:
    return COMPARISON_ID.fullmatch(text) is not None


def same_rows(sheets: Mapping[str, ParsedSheet]) -> None:
    """Every workflow must get the same sheet rows, or its outputs cannot be set side by side."""
    shapes = {tuple(r.sheet_row for r in s.rows) for s in sheets.values()}
    if len(shapes) > 1:
        # one file read against each form: only a bug could get here, never a person's sheet
        raise StateError("the sheet reads as different rows for the workflows compared")


async def start_comparison(sheets: Mapping[str, ParsedSheet], submit: Submit) -> tuple[str, list[Batch]]:
    """Start one batch per workflow (in the order given) under a new comparison id."""
    same_rows(sheets)
    comparison_id = new_comparison_id()
    batches = [await submit(workflow, sheet, comparison_id) for workflow, sheet in sheets.items()]
    return comparison_id, batches


async def on_every_batch(batches: Sequence[Batch], act: Callable[[str], Awaitable[Batch]]) -> list[Batch]:
    """``act`` (pause, resume, cancel, retry) on each batch of a comparison; returns the batches
    it changed. A batch it does not apply to (already finished, no failed rows, not paused) is
    left as it is, so pausing a comparison whose first workflow is done pauses the other; only
    when it applies to none is the first refusal raised."""
    changed: list[Batch] = []
    refused: InvalidTransition | None = None
    for batch in batches:
        try:
            changed.append(await act(batch.id))
        except InvalidTransition as exc:
            refused = refused or exc
    if not changed and refused is not None:
        raise refused
    return changed
