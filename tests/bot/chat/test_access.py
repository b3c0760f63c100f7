"""Access rules: admins, allowed people and chats, platform wildcards, strangers, ownership."""

from __future__ import annotations

import pytest

from bot.chat.access import Access
from bot.config_loader import parse_config
from engine.errors import CommandError

ADMIN = "telegram:1"
ALICE = "telegram:100"
TEAM_CHAT = "telegram:-1001"
BOB = "slack:U0BOB"
SLACK_CHANNEL = "slack:C0TEAM"
STRANGER_TG = "telegram:999"
STRANGER_SLACK = "slack:U0EVE"


@pytest.fixture
def access() -> Access:
    return Access(
        admins=[ADMIN, "slack:U0ADMIN"],
        allow={
            "summarize": ["telegram:*", SLACK_CHANNEL],
            "translate": [ALICE, TEAM_CHAT, BOB],
            "secret": [],
        },
    )


@pytest.mark.parametrize(
    ("workflow", "user", "chat", "allowed"),
    [
        # admins use everything, even a workflow nobody is allowed
        ("secret", ADMIN, None, True),
        ("secret", "slack:U0ADMIN", "slack:C0OTHER", True),
        # a named person, anywhere
        ("translate", ALICE, None, True),
        ("translate", ALICE, "telegram:-1005", True),
        ("translate", BOB, "slack:D0DM", True),
        # a named chat admits everyone in it
        ("translate", STRANGER_TG, TEAM_CHAT, True),
        ("summarize", STRANGER_SLACK, SLACK_CHANNEL, True),
        # a platform wildcard admits that platform only
        ("summarize", STRANGER_TG, None, True),
        ("summarize", STRANGER_SLACK, "slack:C0OTHER", False),
        ("summarize", STRANGER_SLACK, None, False),
        # strangers
        ("translate", STRANGER_TG, "telegram:-1005", False),
        ("secret", ALICE, TEAM_CHAT, False),
        # a person's id on one platform does not count on another
        ("translate", "slack:100", None, False),
        # unknown workflows are never usable
        ("nope", ADMIN, None, False),
    ],
)
def test_may_use(access: Access, workflow: str, user: str, chat: str | None, allowed: bool) -> None:
    """Each row of the matrix of who may use which workflow where."""
    assert access.may_use(workflow, user, chat) is allowed


def test_admins(access: Access) -> None:
    """Only configured identities are admins; the platform part is case-insensitive."""
    assert access.is_admin(ADMIN)
    assert access.is_admin("Telegram:1")
    assert not access.is_admin(ALICE)
    assert not access.is_admin("slack:1")


def test_may_touch(access: Access) -> None:
    """Own batches only, unless an admin."""
    assert access.may_touch(ALICE, ALICE)
    assert not access.may_touch(ALICE, BOB)
    assert not access.may_touch(ALICE, TEAM_CHAT)
    assert access.may_touch(ALICE, ADMIN)
    assert access.may_touch("cli:ops", "slack:U0ADMIN")


def test_workflows_for(access: Access) -> None:
    """The list a person sees, in the config's order."""
    assert access.workflows_for(ADMIN) == ["summarize", "translate", "secret"]
    assert access.workflows_for(ALICE) == ["summarize", "translate"]
    assert access.workflows_for(STRANGER_SLACK, SLACK_CHANNEL) == ["summarize"]
    assert access.workflows_for(STRANGER_SLACK, "slack:C0OTHER") == []


def test_refusals_are_specific(access: Access) -> None:
    """Checks raise the wording people see, naming the workflow or batch."""
    with pytest.raises(CommandError, match=r"^You may not use workflow translate\.$"):
        access.check_use("translate", STRANGER_TG)
    with pytest.raises(CommandError, match=r"^There is no workflow nope\. Send /workflows"):
        access.check_use("nope", ADMIN)
    with pytest.raises(CommandError, match=r"^Batch 7f3a2c belongs to someone else\.$"):
        access.check_touch("7f3a2c", ALICE, BOB)
    access.check_use("translate", ALICE)
    access.check_touch("7f3a2c", ALICE, ADMIN)


def test_from_config() -> None:
    """Built from a parsed config: admins and each workflow's allow list."""
    config = parse_config(
        {
            "access": {"admins": ["slack:U0ADMIN"]},
            "workflows": {
                "总结": {
                    "base_url": "https://dify.example/v1",
                    "api_key_env": "KEY",
                    "allow": ["slack:*"],
                }
            },
        },
        {"KEY": "app-x"},
    )
    access = Access.from_config(config)
    assert access.may_use("总结", STRANGER_SLACK)
    assert not access.may_use("总结", STRANGER_TG)
    assert access.is_admin("slack:U0ADMIN")
