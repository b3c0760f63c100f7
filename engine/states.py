"""The batch and row state machines, each one table."""

from __future__ import annotations

from engine.errors import InvalidTransition
from engine.models import BatchStatus as B
from engine.models import RowStatus as R
from engine.text.sentences import state_phrase

BATCH_TRANSITIONS: dict[B, frozenset[B]] = {
    B.SCHEDULED: frozenset({B.PENDING, B.RUNNING, B.CANCELLED}),
    B.PENDING: frozenset({B.RUNNING, B.PAUSED, B.CANCELLED}),
    B.RUNNING: frozenset({B.PAUSED, B.COMPLETED, B.FAILED, B.CANCELLED}),
    B.PAUSED: frozenset({B.RUNNING, B.CANCELLED}),
    # a finished batch runs again only through a retry of its failed rows
    B.COMPLETED: frozenset({B.RUNNING}),
    B.FAILED: frozenset({B.RUNNING}),
    B.CANCELLED: frozenset({B.RUNNING}),
}

ROW_TRANSITIONS: dict[R, frozenset[R]] = {
    R.PENDING: frozenset({R.RUNNING, R.CANCELLED}),
    # running -> pending: a transient failure waits for its retry, or recovery requeues it
    R.RUNNING: frozenset({R.PENDING, R.SUCCEEDED, R.FAILED, R.CANCELLED}),
    R.SUCCEEDED: frozenset(),
    R.FAILED: frozenset({R.PENDING}),
    R.CANCELLED: frozenset({R.PENDING}),
}


def batch_can(current: B, target: B) -> bool:
    return target in BATCH_TRANSITIONS[current]


def check_batch(current: B, target: B) -> None:
    """Raise `InvalidTransition` with a readable message unless the move is allowed."""
    if not batch_can(current, target):
        raise InvalidTransition(state_phrase("cannot_become", state=current, target=target))


def row_can(current: R, target: R) -> bool:
    return target in ROW_TRANSITIONS[current]
