"""Which batch, workflow and row the running task works on, for log lines.

Set where a row's task starts (asyncio copies the context into each task, so it stays
with that row's work); read by the log formatter, which puts the values in their own
fields. A single line about a batch, logged from a task that serves many, passes
``extra=about(batch_id, workflow)`` instead. Standard library only, so the engine stays
free of any logging framework."""

from __future__ import annotations

from contextvars import ContextVar

_BATCH_ID: ContextVar[str | None] = ContextVar("batch_id", default=None)
_WORKFLOW: ContextVar[str | None] = ContextVar("workflow", default=None)
_ROW: ContextVar[int | None] = ContextVar("row", default=None)


def bind_row(batch_id: str, workflow: str, row: int | None = None) -> None:
    """From here on in this task (and the tasks it starts), logs name this batch and row."""
    _BATCH_ID.set(batch_id)
    _WORKFLOW.set(workflow)
    _ROW.set(row)


def current() -> dict[str, str | int]:
    """The bound fields that are set."""
    fields: dict[str, str | int] = {}
    if (batch_id := _BATCH_ID.get()) is not None:
        fields["batch_id"] = batch_id
    if (workflow := _WORKFLOW.get()) is not None:
        fields["workflow"] = workflow
    if (row := _ROW.get()) is not None:
        fields["row"] = row
    return fields


def about(batch_id: str, workflow: str | None = None, row: int | None = None) -> dict[str, str | int]:
    """``extra=`` for one log line about a batch (or row); the formatter shows the fields."""
    fields: dict[str, str | int] = {"batch_id": batch_id}
    if workflow is not None:
        fields["workflow"] = workflow
    if row is not None:
        fields["row"] = row
    return fields
