"""Platform-neutral buttons and their callback data, kept within Telegram's 64 bytes."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple

from bot.chat.text.renderer import EN, Messages
from engine.errors import CommandError
from engine.models import Batch, BatchStatus

MAX_CALLBACK_BYTES = 64
"""Telegram's limit for ``callback_data`` (UTF-8 bytes); Slack's ``value`` allows 2000."""
MAX_TARGET_CHARS = 24
MAX_WORKFLOW_BYTES = 20
# a version tag lets a later format tell its own buttons from ones still in old messages
VERSION = "db1"
_SEP = ":"
_TARGET = re.compile(rf"[A-Za-z0-9_-]{{1,{MAX_TARGET_CHARS}}}")


class Action(StrEnum):
    RUN = "run"
    SCHEDULE = "schedule"
    """Open the schedule choices for an upload."""
    SCHEDULE_AT = "schedule_at"
    """One of the schedule choices (``choice``)."""
    DISCARD = "discard"
    PICK = "pick"
    """Pick the workflow for an upload when several are allowed."""
    PAUSE = "pause"
    RESUME = "resume"
    CANCEL = "cancel"
    RESULT = "result"
    TRY = "try"
    """Run the upload's first rows as a sample and show their outputs."""


_CODES: dict[Action, str] = {
    Action.RUN: "r",
    Action.SCHEDULE: "s",
    Action.SCHEDULE_AT: "a",
    Action.DISCARD: "d",
    Action.PICK: "w",
    Action.PAUSE: "p",
    Action.RESUME: "u",
    Action.CANCEL: "c",
    Action.RESULT: "f",
    Action.TRY: "t",
}
_ACTIONS = {code: action for action, code in _CODES.items()}
_NEEDS_WORKFLOW = frozenset({Action.RUN, Action.SCHEDULE, Action.SCHEDULE_AT, Action.PICK, Action.TRY})

SCHEDULE_CHOICES: dict[str, str] = {
    "tonight": "tonight 02:00",
    "tomorrow": "tomorrow 09:00",
    "weekdays": "every weekday 09:00",
    "in1h": "in 1h",
}
"""Choice key (also the label key in `Messages.button_labels`) → the ``<when>`` text it means."""


class Callback(NamedTuple):
    """What a pressed button asks for. ``workflow`` is a token: see `resolve_workflow`."""

    action: Action
    target_id: str
    workflow: str = ""
    choice: str = ""


@dataclass(frozen=True, slots=True)
class Button:
    label: str
    action: Action
    target_id: str
    workflow: str = ""
    choice: str = ""

    @property
    def data(self) -> str:
        """The callback data (Telegram) or button value (Slack)."""
        return encode(self.action, self.target_id, self.workflow, self.choice)


def workflow_token(name: str) -> str:
    """The workflow as it travels in callback data: its name, or a hash when too long."""
    if _SEP not in name and not name.startswith("~") and len(name.encode()) <= MAX_WORKFLOW_BYTES:
        return name
    return "~" + hashlib.sha256(name.encode()).hexdigest()[:12]


def resolve_workflow(token: str, names: Sequence[str]) -> str | None:
    """The configured workflow a token stands for; None when it is gone from the config."""
    return next((n for n in names if workflow_token(n) == token), None)


def when_for(choice: str) -> str | None:
    return SCHEDULE_CHOICES.get(choice)


def encode(action: Action, target_id: str, workflow: str = "", choice: str = "") -> str:
    """``db1:<code>:<target>:<workflow token>:<choice>``; raises ValueError if it cannot fit."""
    if not _TARGET.fullmatch(target_id):
        raise ValueError(f"target id must be 1-{MAX_TARGET_CHARS} of [A-Za-z0-9_-]: {target_id!r}")
    if choice and choice not in SCHEDULE_CHOICES:
        raise ValueError(f"unknown schedule choice {choice!r}")
    token = workflow_token(workflow) if workflow else ""
    data = _SEP.join((VERSION, _CODES[action], target_id, token, choice))
    if len(data.encode()) > MAX_CALLBACK_BYTES:
        raise ValueError(f"callback data over {MAX_CALLBACK_BYTES} bytes: {data!r}")
    return data


def decode(data: str, *, messages: Messages = EN) -> Callback:
    """Read callback data; anything garbled, stale or foreign raises `CommandError`."""
    parts = data.split(_SEP)
    bad = CommandError(messages.bad_button.format(help=messages.cmd("help")))
    if len(parts) != 5 or parts[0] != VERSION or parts[1] not in _ACTIONS:
        raise bad
    action, target_id, workflow, choice = _ACTIONS[parts[1]], parts[2], parts[3], parts[4]
    if not _TARGET.fullmatch(target_id) or len(workflow.encode()) > MAX_WORKFLOW_BYTES:
        raise bad
    if (action in _NEEDS_WORKFLOW) != bool(workflow):
        raise bad
    if (action is Action.SCHEDULE_AT) != bool(choice) or (choice and choice not in SCHEDULE_CHOICES):
        raise bad
    return Callback(action, target_id, workflow, choice)


def progress_buttons(batch: Batch, *, messages: Messages = EN) -> list[Button]:
    """Pause or Resume (by status) and Cancel; none once the batch is final."""
    if batch.status.is_final:
        return []
    buttons = []
    if batch.status in (BatchStatus.RUNNING, BatchStatus.PENDING):
        buttons.append(Button(messages.label("pause"), Action.PAUSE, batch.id))
    elif batch.status is BatchStatus.PAUSED:
        buttons.append(Button(messages.label("resume"), Action.RESUME, batch.id))
    buttons.append(Button(messages.label("cancel"), Action.CANCEL, batch.id))
    return buttons


def comparison_buttons(
    comparison_id: str, batches: Sequence[Batch], *, messages: Messages = EN
) -> list[Button]:
    """The buttons of a comparison's one progress message, acting on all of it: Pause while
    any workflow still runs, else Resume (the unfinished ones are paused), and Cancel; none
    once every workflow is finished."""
    unfinished = [b for b in batches if not b.status.is_final]
    if not unfinished:
        return []
    running = any(b.status in (BatchStatus.RUNNING, BatchStatus.PENDING) for b in unfinished)
    first = Button(messages.label("pause"), Action.PAUSE, comparison_id) if running else Button(
        messages.label("resume"), Action.RESUME, comparison_id)
    return [first, Button(messages.label("cancel"), Action.CANCEL, comparison_id)]


def check_buttons(
    upload_id: str,
    workflows: Sequence[str],
    *,
    selected: str | None = None,
    messages: Messages = EN,
    can_try: bool = False,
) -> list[list[Button]]:
    """Rows under a check summary: [Run] [Schedule…] [Discard], then a workflow picker.

    With ``can_try`` (a sheet longer than a sample) the first row is [Run] [🧪 Try 3 rows]
    and [Schedule…] [Discard] go below it.

    With several workflows and none picked yet only the picker and Discard are shown, so
    nobody runs the wrong app by a stray tap; the handler re-renders with ``selected``.
    """
    chosen = selected if selected is not None else (workflows[0] if len(workflows) == 1 else None)
    discard = Button(messages.label("discard"), Action.DISCARD, upload_id)
    rows: list[list[Button]] = []
    if chosen is not None:
        run = Button(messages.label("run"), Action.RUN, upload_id, chosen)
        schedule = Button(messages.label("schedule"), Action.SCHEDULE, upload_id, chosen)
        if can_try:
            rows.append([run, Button(messages.label("try"), Action.TRY, upload_id, chosen)])
            rows.append([schedule, discard])
        else:
            rows.append([run, schedule, discard])
    if len(workflows) > 1:
        picker = [
            Button(messages.picked.format(workflow=w) if w == chosen else w, Action.PICK, upload_id, w)
            for w in workflows
        ]
        rows += [picker[i : i + 2] for i in range(0, len(picker), 2)]
    if chosen is None:
        rows.append([discard])
    return rows


def schedule_choice_buttons(
    upload_id: str, workflow: str, *, messages: Messages = EN
) -> list[list[Button]]:
    """A few common times, two to a row; other times are typed as ``/schedule <when> <wf>``."""
    buttons = [
        Button(messages.label(choice), Action.SCHEDULE_AT, upload_id, workflow, choice)
        for choice in SCHEDULE_CHOICES
    ]
    return [buttons[i : i + 2] for i in range(0, len(buttons), 2)]


def after_sample_buttons(upload_id: str, workflow: str, *, messages: Messages = EN) -> list[list[Button]]:
    """Under a sample's outputs: [Run all] [Discard], on the same upload."""
    return [[
        Button(messages.label("run_all"), Action.RUN, upload_id, workflow),
        Button(messages.label("discard"), Action.DISCARD, upload_id),
    ]]
