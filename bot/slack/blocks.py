"""Block Kit for our messages: text in a section and a context line, buttons in actions blocks."""

from __future__ import annotations

from typing import Any

from bot.chat.buttons import Action
from bot.chat.surface import Keyboard

ACTION_PREFIX = "difybatch."
"""Every button's action_id starts with this, so one listener takes them all."""
SECTION_CHARS = 3000
CONTEXT_CHARS = 2000
TEXT_CHARS = 3900
"""chat.postMessage accepts more, but Slack truncates message ``text`` past 4,000 characters."""
BUTTON_LABEL_CHARS = 75
BUTTONS_PER_BLOCK = 25

Block = dict[str, Any]


def action_id(action: Action) -> str:
    """The stable action_id of a button that does ``action``: ``difybatch.pause``."""
    return f"{ACTION_PREFIX}{action.value}"


def fallback_text(text: str) -> str:
    """The ``text`` field: notifications and screen readers show it."""
    return _cut(text, TEXT_CHARS)


def message_blocks(text: str, keyboard: Keyboard = ()) -> list[Block]:
    """A section with the text, its last line as a context line, then one actions block per row.

    Sent again on every edit: chat.update with text alone drops the old blocks.
    """
    lines = text.split("\n")
    blocks: list[Block] = []
    if len(lines) > 2:
        # the last line (rate and ETA, a status or a hint) reads as small print under the body
        blocks.append(_section("\n".join(lines[:-1])))
        blocks.append({
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": _cut(lines[-1], CONTEXT_CHARS), "verbatim": True}],
        })
    else:
        blocks.append(_section(text))
    for row in keyboard:
        elements: list[Block] = []
        used: set[str] = set()
        for button in list(row)[:BUTTONS_PER_BLOCK]:
            aid = action_id(button.action)
            # action_ids must be unique within a block (a workflow picker repeats one action)
            n = 1
            while aid in used:
                n += 1
                aid = f"{action_id(button.action)}.{n}"
            used.add(aid)
            element: Block = {
                "type": "button", "action_id": aid, "value": button.data,
                "text": {"type": "plain_text", "text": _cut(button.label, BUTTON_LABEL_CHARS), "emoji": True},
            }
            if button.action in (Action.RUN, Action.RESUME):
                element["style"] = "primary"
            elif button.action in (Action.CANCEL, Action.DISCARD):
                element["style"] = "danger"
            elements.append(element)
        if elements:
            blocks.append({"type": "actions", "elements": elements})
    return blocks


def _section(text: str) -> Block:
    # verbatim: our texts are already escaped; Slack must not turn names into links or mentions
    return {"type": "section", "text": {"type": "mrkdwn", "text": _cut(text or " ", SECTION_CHARS),
                                        "verbatim": True}}


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
