"""Command parsing: both platforms' spellings, and a specific message for every bad input."""

from __future__ import annotations

import pytest

from bot.chat.commands import (
    COMMAND_NAMES,
    Cancel,
    Command,
    Help,
    Pause,
    Result,
    Resume,
    Retry,
    Run,
    Schedule,
    Schedules,
    Start,
    Status,
    Template,
    Unschedule,
    Workflows,
    parse_command,
)
from bot.chat.text.renderer import messages_for
from engine.errors import CommandError

SLACK = messages_for(prefix="/difybatch ")

CASES: list[tuple[str, Command]] = [
    ("start", Start()),
    ("help", Help()),
    ("workflows", Workflows()),
    ("template summarize", Template("summarize")),
    ("run summarize", Run("summarize")),
    ("run", Run(None)),
    ("status 7f3a2c", Status("7f3a2c")),
    ("status", Status(None)),
    ("pause 7f3a2c", Pause("7f3a2c")),
    ("pause", Pause(None)),
    ("resume 7f3a2c", Resume("7f3a2c")),
    ("cancel 7f3a2c", Cancel("7f3a2c")),
    ("retry 7f3a2c", Retry("7f3a2c")),
    ("result 7f3a2c", Result("7f3a2c")),
    ("result", Result(None)),
    ("schedule tomorrow 09:00 summarize", Schedule("tomorrow 09:00", "summarize")),
    ("schedules", Schedules()),
    ("unschedule s42", Unschedule("s42")),
]


@pytest.mark.parametrize(("words", "expected"), CASES)
def test_telegram_style(words: str, expected: Command) -> None:
    """``/cmd args`` and ``/cmd@BotName args`` both parse."""
    assert parse_command(f"/{words}") == expected
    name, _, rest = words.partition(" ")
    assert parse_command(f"/{name}@MyDifyBot {rest}") == expected


@pytest.mark.parametrize(("words", "expected"), CASES)
def test_slack_style(words: str, expected: Command) -> None:
    """Slash-command text, a mention in a channel, and the whole slash line all parse."""
    assert parse_command(words, messages=SLACK) == expected
    assert parse_command(f"<@U0123ABCD> {words}", messages=SLACK) == expected
    assert parse_command(f"<@U0123ABCD|difybatch>  {words}", messages=SLACK) == expected
    assert parse_command(f"/difybatch {words}", messages=SLACK) == expected


def test_every_command_has_a_case() -> None:
    """The table above covers every command word the parser knows."""
    assert {words.split()[0] for words, _ in CASES} == set(COMMAND_NAMES)


def test_empty_text_means_help() -> None:
    """A bare ``/difybatch`` or a bare mention asks for help."""
    assert parse_command("", messages=SLACK) == Help()
    assert parse_command("<@U0123ABCD>", messages=SLACK) == Help()


def test_ids_case_and_whitespace() -> None:
    """Ids are lower-cased, a leading # is allowed, captions may break lines."""
    assert parse_command("/STATUS #7F3A2C") == Status("7f3a2c")
    assert parse_command("/run\nsummarize\n") == Run("summarize")
    assert parse_command("  /start  deeplink-payload") == Start()


@pytest.mark.parametrize(
    ("text", "when", "workflow"),
    [
        ("/schedule every weekday 09:00 summarize", "every weekday 09:00", "summarize"),
        ('/schedule cron "0 9 * * 1-5" summarize', 'cron "0 9 * * 1-5"', "summarize"),
        ("/schedule cron “0 9 * * 1-5” summarize", 'cron "0 9 * * 1-5"', "summarize"),
        ("/schedule 2026-12-01 09:00 摘要", "2026-12-01 09:00", "摘要"),
        ("/schedule in 2h summarize", "in 2h", "summarize"),
    ],
)
def test_schedule_takes_the_last_word_as_workflow(text: str, when: str, workflow: str) -> None:
    """Everything between the command and the last word is the time, quotes kept."""
    assert parse_command(text) == Schedule(when, workflow)


def test_chinese_workflow_names() -> None:
    """Workflow names are not limited to ASCII."""
    assert parse_command("/template 总结") == Template("总结")
    assert parse_command("<@U1> run 总结", messages=SLACK) == Run("总结")


def test_run_with_several_workflows_is_a_comparison() -> None:
    assert parse_command("/run summarize summarize-v2") == Run("summarize", ("summarize-v2",))
    assert parse_command("/status c7f3a2c") == Status("c7f3a2c")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("/foo", "Unknown command /foo. Send /help for the list."),
        ("/template", "/template needs a workflow name: /template <workflow>"),
        ("/template a b", "/template takes one workflow name, not 'a b': /template <workflow>"),
        ("/status 7f3a2", "'7f3a2' is not a batch id. A batch id is 6 characters 0-9 and a-f, like 7f3a2c."),
        ("/pause 7f3a2g", "'7f3a2g' is not a batch id. A batch id is 6 characters 0-9 and a-f, like 7f3a2c."),
        ("/cancel 7f3a2c 111111", "/cancel takes at most one batch id: /cancel [id]"),
        (
            "/schedule",
            "/schedule needs a time and then a workflow name: /schedule <when> <workflow>, "
            "e.g. /schedule tomorrow 09:00 summarize",
        ),
        (
            "/schedule summarize",
            "/schedule needs a time and then a workflow name: /schedule <when> <workflow>, "
            "e.g. /schedule tomorrow 09:00 summarize",
        ),
        (
            "/schedule tomorrow 09:00",
            "/schedule needs the workflow name last; '09:00' looks like part of the time: "
            "/schedule <when> <workflow>",
        ),
        (
            "/schedule in 2h",
            "/schedule needs the workflow name last; '2h' looks like part of the time: "
            "/schedule <when> <workflow>",
        ),
        (
            "/schedule every monday",
            "/schedule needs the workflow name last; 'monday' looks like part of the time: "
            "/schedule <when> <workflow>",
        ),
        (
            '/schedule cron "0 9 * * 1-5"',
            "/schedule needs the workflow name last; '1-5\"' looks like part of the time: "
            "/schedule <when> <workflow>",
        ),
        ("/unschedule", "/unschedule needs a schedule id: /unschedule <id> (see /schedules)"),
        ("/unschedule a/b", "'a/b' is not a schedule id (see /schedules)."),
    ],
)
def test_errors_are_specific(text: str, message: str) -> None:
    """Each bad input names the command and shows its correct form."""
    with pytest.raises(CommandError) as caught:
        parse_command(text)
    assert str(caught.value) == message


def test_slack_errors_use_the_slash_command() -> None:
    """On Slack the hints spell commands as ``/difybatch <word>``."""
    with pytest.raises(CommandError, match=r"^Unknown command /difybatch foo\. Send /difybatch help"):
        parse_command("foo", messages=SLACK)
    with pytest.raises(CommandError, match=r"^/difybatch template needs a workflow name"):
        parse_command("<@U1> template", messages=SLACK)


def test_unknown_command_echo_is_bounded() -> None:
    """A long pasted text is not echoed back whole."""
    with pytest.raises(CommandError) as caught:
        parse_command("x" * 500)
    assert len(str(caught.value)) < 100
