"""Buttons: callback data round trips, stays within 64 bytes, and rejects garbage cleanly."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.chat.buttons import (
    MAX_CALLBACK_BYTES,
    MAX_TARGET_CHARS,
    SCHEDULE_CHOICES,
    Action,
    Button,
    Callback,
    check_buttons,
    decode,
    encode,
    progress_buttons,
    resolve_workflow,
    schedule_choice_buttons,
    when_for,
)
from engine.errors import CommandError
from engine.models import Batch, BatchStatus

LONGEST_TARGET = "Z" * MAX_TARGET_CHARS
LONG_NAME = "长长的工作流名称" * 4  # 96 UTF-8 bytes
WORKFLOW_NEEDED = {Action.RUN, Action.SCHEDULE, Action.SCHEDULE_AT, Action.PICK, Action.TRY}


def _batch(status: BatchStatus) -> Batch:
    return Batch(
        id="7f3a2c", workflow="summarize", owner="telegram:1", status=status, total=10,
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )


@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("workflow", ["summarize", "总结", LONG_NAME, "a:b", "x" * 20])
def test_round_trip_fits_telegram(action: Action, workflow: str) -> None:
    """Every action with the longest target, choice and name decodes back within 64 bytes."""
    wf = workflow if action in WORKFLOW_NEEDED else ""
    choice = "tomorrow" if action is Action.SCHEDULE_AT else ""
    data = encode(action, LONGEST_TARGET, wf, choice)
    assert len(data.encode()) <= MAX_CALLBACK_BYTES
    back = decode(data)
    assert (back.action, back.target_id, back.choice) == (action, LONGEST_TARGET, choice)
    if wf:
        assert resolve_workflow(back.workflow, ["other", wf]) == wf
    else:
        assert back.workflow == ""


def test_long_names_are_hashed_and_resolved() -> None:
    """A name too long for the data travels as a hash and still finds its workflow."""
    data = encode(Action.RUN, "up1", LONG_NAME)
    assert LONG_NAME not in data
    assert resolve_workflow(decode(data).workflow, ["summarize", LONG_NAME]) == LONG_NAME
    assert resolve_workflow(decode(data).workflow, ["summarize"]) is None


def test_batch_button_data_is_short() -> None:
    """A batch button carries just its action and id."""
    assert encode(Action.PAUSE, "7f3a2c") == "db1:p:7f3a2c::"
    assert decode("db1:p:7f3a2c::") == Callback(Action.PAUSE, "7f3a2c")


@pytest.mark.parametrize(
    "data",
    [
        "",
        "garbage",
        "db1:p:7f3a2c:",  # a field missing
        "db1:p:7f3a2c:::",  # a field too many
        "db2:p:7f3a2c::",  # another format version
        "db1:x:7f3a2c::",  # unknown action
        "db1:p:::",  # no target
        "db1:p:7f/3a2c::",  # bad characters
        "db1:p:" + "a" * (MAX_TARGET_CHARS + 1) + "::",
        "db1:r:up1::",  # run without a workflow
        "db1:p:7f3a2c:summarize:",  # pause with a workflow
        "db1:a:up1:summarize:",  # schedule choice without a choice
        "db1:a:up1:summarize:someday",  # unknown choice
        "db1:r:up1:summarize:tonight",  # a choice where none belongs
        "db1:r:up1:" + "x" * 21 + ":",  # a workflow token longer than any encoded
    ],
)
def test_garbled_data_is_an_error(data: str) -> None:
    """Stale or forged data raises the specific CommandError, never anything else."""
    with pytest.raises(CommandError, match=r"^That button is no longer valid\. Send /help"):
        decode(data)


def test_encode_refuses_what_cannot_fit() -> None:
    """Programming errors surface at encode time, not as a Telegram 400 later."""
    with pytest.raises(ValueError, match="target id"):
        encode(Action.PAUSE, "a" * (MAX_TARGET_CHARS + 1))
    with pytest.raises(ValueError, match="target id"):
        encode(Action.PAUSE, "7f:3a")
    with pytest.raises(ValueError, match="schedule choice"):
        encode(Action.SCHEDULE_AT, "up1", "summarize", "someday")


@pytest.mark.parametrize(
    ("status", "actions"),
    [
        (BatchStatus.PENDING, [Action.PAUSE, Action.CANCEL]),
        (BatchStatus.RUNNING, [Action.PAUSE, Action.CANCEL]),
        (BatchStatus.PAUSED, [Action.RESUME, Action.CANCEL]),
        (BatchStatus.SCHEDULED, [Action.CANCEL]),
        (BatchStatus.COMPLETED, []),
        (BatchStatus.FAILED, []),
        (BatchStatus.CANCELLED, []),
    ],
)
def test_progress_buttons(status: BatchStatus, actions: list[Action]) -> None:
    """Pause or Resume by status, and Cancel; nothing once final."""
    buttons = progress_buttons(_batch(status))
    assert [b.action for b in buttons] == actions
    assert all(b.target_id == "7f3a2c" for b in buttons)
    assert all(decode(b.data).action is b.action for b in buttons)


def _shape(rows: list[list[Button]]) -> list[list[tuple[Action, str, str]]]:
    return [[(b.action, b.workflow, b.label) for b in row] for row in rows]


def test_check_buttons_one_workflow() -> None:
    """One allowed workflow: Run, Schedule…, Discard, no picker."""
    assert _shape(check_buttons("up1", ["summarize"])) == [
        [
            (Action.RUN, "summarize", "▶️ Run"),
            (Action.SCHEDULE, "summarize", "🕒 Schedule…"),
            (Action.DISCARD, "", "🗑 Discard"),
        ]
    ]


def test_check_buttons_several_workflows() -> None:
    """Several: pick first (no Run yet); once picked, Run/Schedule for it and a marked picker."""
    names = ["summarize", "translate", "总结"]
    assert _shape(check_buttons("up1", names)) == [
        [(Action.PICK, "summarize", "summarize"), (Action.PICK, "translate", "translate")],
        [(Action.PICK, "总结", "总结")],
        [(Action.DISCARD, "", "🗑 Discard")],
    ]
    rows = check_buttons("up1", names, selected="总结")
    assert [b.action for b in rows[0]] == [Action.RUN, Action.SCHEDULE, Action.DISCARD]
    assert {b.workflow for b in rows[0][:2]} == {"总结"}
    assert [b.label for row in rows[1:] for b in row] == ["summarize", "translate", "✓ 总结"]


def test_check_buttons_no_workflow() -> None:
    """Nobody may run it: only Discard."""
    assert _shape(check_buttons("up1", [])) == [[(Action.DISCARD, "", "🗑 Discard")]]


def test_schedule_choices() -> None:
    """Common times, each decoding to a when-text the scheduler reads, for the given workflow."""
    rows = schedule_choice_buttons("up1", "总结")
    buttons = [b for row in rows for b in row]
    assert [b.label for b in buttons] == [
        "Tonight 02:00", "Tomorrow 09:00", "Every weekday 09:00", "In 1 hour",
    ]
    whens = []
    for b in buttons:
        back = decode(b.data)
        assert back.action is Action.SCHEDULE_AT
        assert resolve_workflow(back.workflow, ["总结"]) == "总结"
        whens.append(when_for(back.choice))
    assert whens == list(SCHEDULE_CHOICES.values())
    assert when_for("someday") is None


def test_schedule_choices_are_understood_by_the_scheduler() -> None:
    """The when-texts behind the buttons are ones the /schedule grammar accepts."""
    when = pytest.importorskip("scheduler.when")
    from zoneinfo import ZoneInfo

    now = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    for text in SCHEDULE_CHOICES.values():
        parsed = when.parse_when(text, now=now, tz=ZoneInfo("Europe/Berlin"))
        assert parsed.run_at is not None or parsed.cron is not None
