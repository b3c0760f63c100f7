"""The batch and row state tables."""

from __future__ import annotations

import pytest

from engine.errors import InvalidTransition
from engine.models import BatchStatus as B
from engine.models import RowStatus as R
from engine.states import BATCH_TRANSITIONS, ROW_TRANSITIONS, batch_can, check_batch, row_can


def test_tables_cover_every_state() -> None:
    assert set(BATCH_TRANSITIONS) == set(B)
    assert set(ROW_TRANSITIONS) == set(R)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (B.PENDING, B.RUNNING),
        (B.RUNNING, B.PAUSED),
        (B.PAUSED, B.RUNNING),
        (B.RUNNING, B.COMPLETED),
        (B.RUNNING, B.CANCELLED),
        (B.PAUSED, B.CANCELLED),
        (B.SCHEDULED, B.RUNNING),
        (B.FAILED, B.RUNNING),
        (B.COMPLETED, B.RUNNING),
    ],
)
def test_allowed_batch_moves(current: B, target: B) -> None:
    assert batch_can(current, target)
    check_batch(current, target)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (B.COMPLETED, B.PAUSED),
        (B.CANCELLED, B.CANCELLED),
        (B.PAUSED, B.PAUSED),
        (B.RUNNING, B.RUNNING),
        (B.PAUSED, B.COMPLETED),
        (B.COMPLETED, B.CANCELLED),
    ],
)
def test_forbidden_batch_moves_say_why(current: B, target: B) -> None:
    assert not batch_can(current, target)
    with pytest.raises(InvalidTransition, match=f"batch is {current.value}; it cannot become {target.value}"):
        check_batch(current, target)


def test_final_batch_states_only_lead_back_to_running() -> None:
    for state in B:
        if state.is_final:
            assert BATCH_TRANSITIONS[state] == {B.RUNNING}


def test_row_moves() -> None:
    assert row_can(R.PENDING, R.RUNNING)
    assert row_can(R.RUNNING, R.PENDING)  # a transient failure waits for its retry
    assert row_can(R.FAILED, R.PENDING)  # /retry
    assert not row_can(R.SUCCEEDED, R.PENDING)  # a finished row is never run again
    assert not row_can(R.PENDING, R.SUCCEEDED)
    assert all(not row_can(R.SUCCEEDED, t) for t in R)
