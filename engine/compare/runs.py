"""Starting a comparison: one batch per workflow from the same checked rows, all marked
with one comparison id, so they are resumed, shown and written as one."""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from engine.errors import InvalidTransition, StateError
from engine.models import Batch, ParsedSheet

if TYPE_CHECKING:
    from engine.ports import Store

COMPARISON_ID = re.compile(r"c[0-9a-f]{6}")
"""``c7f3a2c``: one letter longer than a batch id (six hex digits), so the two never meet."""

Submit = Callable[[str, ParsedSheet, str], Awaitable[Batch]]
"""``(workflow, checked sheet, comparison id)`` → the batch started for that workflow."""
PLANNED_EVENT = "comparison_of"
"""On the first batch of a comparison as soon as it exists: every workflow the comparison is
of (a JSON list), so one cut short while its batches were being created is known as such."""


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


async def start_comparison(
    sheets: Mapping[str, ParsedSheet], submit: Submit, store: Store
) -> tuple[str, list[Batch]]:
    """Start one batch per workflow (in the order given) under a new comparison id.

    The batches are created one after another, each in its own transaction (a big sheet's
    rows are even stored while it starts), so a crash can leave fewer batches than
    workflows; the first batch records the workflows planned, and `missing_workflows` tells."""
    same_rows(sheets)
    comparison_id = new_comparison_id()
    batches: list[Batch] = []
    for workflow, sheet in sheets.items():
        batch = await submit(workflow, sheet, comparison_id)
        if not batches:
            await store.add_event(batch.id, PLANNED_EVENT, json.dumps(list(sheets), ensure_ascii=False))
        batches.append(batch)
    return comparison_id, batches


async def missing_workflows(store: Store, batches: Sequence[Batch]) -> list[str] | None:
    """The workflows a comparison was started on that have no batch: a crash came between
    creating its batches. ``[]`` when it is whole; None when a crash came even before the
    first batch recorded the plan (a lone batch: a comparison is always of two or more)."""
    have = [b.workflow for b in batches]
    for batch in batches:
        for event in await store.events(batch.id):
            if event.kind == PLANNED_EVENT:
                return [w for w in json.loads(event.detail) if w not in have]
    return None if len(batches) < 2 else []


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
