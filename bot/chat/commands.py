"""Chat commands as typed values, and the parser from Telegram or Slack text to them."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeAlias

from bot.chat.text.renderer import EN, Messages
from engine.errors import CommandError


@dataclass(frozen=True, slots=True)
class Start:
    """``/start``: Telegram's first contact; answered like help."""


@dataclass(frozen=True, slots=True)
class Help:
    pass


@dataclass(frozen=True, slots=True)
class Workflows:
    pass


@dataclass(frozen=True, slots=True)
class Template:
    workflow: str


@dataclass(frozen=True, slots=True)
class Run:
    """Run the attached file, or the person's latest upload in this conversation."""

    workflow: str | None = None
    also: tuple[str, ...] = ()
    """More workflows: ``/run A B`` runs the rows on each, as one comparison."""


@dataclass(frozen=True, slots=True)
class Status:
    batch_id: str | None = None
    """None means "mine": the latest in full, or a line for each recent one while several are
    unfinished; the other batch commands read it as "my latest"."""


@dataclass(frozen=True, slots=True)
class Pause:
    batch_id: str | None = None


@dataclass(frozen=True, slots=True)
class Resume:
    batch_id: str | None = None


@dataclass(frozen=True, slots=True)
class Cancel:
    batch_id: str | None = None


@dataclass(frozen=True, slots=True)
class Retry:
    batch_id: str | None = None


@dataclass(frozen=True, slots=True)
class Result:
    batch_id: str | None = None


@dataclass(frozen=True, slots=True)
class Schedule:
    """``/schedule <when> <workflow>``; ``when_text`` is read later by the scheduler's parser."""

    when_text: str
    workflow: str


@dataclass(frozen=True, slots=True)
class Schedules:
    pass


@dataclass(frozen=True, slots=True)
class Unschedule:
    schedule_id: str


Command: TypeAlias = (
    Start | Help | Workflows | Template | Run | Status | Pause | Resume | Cancel | Retry | Result
    | Schedule | Schedules | Unschedule
)
BatchCommand: TypeAlias = Status | Pause | Resume | Cancel | Retry | Result

BATCH_ID = re.compile(r"c?[0-9a-f]{6}")
"""A batch id, or a comparison's (``c`` and six, `engine.compare.runs`): status and result take both."""
SCHEDULE_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")
# leading Slack mentions, "<@U123>" or "<@U123|name>", as in DMs and app_mention events
_MENTION = re.compile(r"^(?:\s*<@[A-Z0-9]+(?:\|[^>]*)?>)+\s*")
# phones and Slack turn straight quotes into curly ones, which would break cron "…"
_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "‟": '"', "«": '"', "»": '"'})
# a last word that is surely part of a time, not a workflow: 09:00, 2h, "0 9 * * 1-5", monday
_TIMEISH = re.compile(
    r"""[\d:.*/,\-"']+|\d+\s*(?:s|m|h|d|w|min|mins|hours?|days?)|\d{1,2}(?::\d{2})?(?:am|pm)"""
    r"|today|tonight|tomorrow|day|weekdays?|weekends?|(?:mon|tues|wednes|thurs|fri|satur|sun)day",
    re.IGNORECASE,
)
_SHOWN_NAME_CHARS = 32


def parse_command(text: str, *, messages: Messages = EN) -> Command:
    """Read one command in Telegram or Slack form; raise `CommandError` saying what is wrong.

    Accepted: ``/status 7f3a2c``, ``/status@MyBot 7f3a2c``, ``status 7f3a2c`` (Slack slash
    command text), ``<@U123> status 7f3a2c`` (mentions), ``/difybatch status 7f3a2c`` when
    ``messages.prefix`` is ``"/difybatch "``. Empty text means help.
    """
    name, args = _head(_MENTION.sub("", text.strip()))
    slash = messages.prefix.strip()
    if slash != "/" and name.lower() == slash.lower():
        name, args = _head(args)
    name = name.removeprefix("/").split("@", 1)[0].lower()
    if not name:
        return Help()
    parse = _PARSERS.get(name)
    if parse is None:
        shown = name[:_SHOWN_NAME_CHARS]
        raise CommandError(
            messages.unknown_command.format(cmd=messages.cmd(shown), help=messages.cmd("help"))
        )
    return parse(messages.cmd(name), args, messages)


def _head(text: str) -> tuple[str, str]:
    """The first word and the rest; captions may break lines anywhere."""
    parts = text.strip().split(None, 1)
    return (parts[0], parts[1]) if len(parts) == 2 else ((parts[0], "") if parts else ("", ""))


_Parser: TypeAlias = Callable[[str, str, Messages], Command]


def _no_args(command: Command) -> _Parser:
    # trailing words after a bare command (e.g. a /start deep-link payload) are ignored
    return lambda cmd, args, m: command


def _workflow(cmd: str, args: str, m: Messages) -> str | None:
    words = args.split()
    if len(words) > 1:
        raise CommandError(m.one_workflow.format(cmd=cmd, got=args[:_SHOWN_NAME_CHARS]))
    return words[0] if words else None


def _template(cmd: str, args: str, m: Messages) -> Command:
    workflow = _workflow(cmd, args, m)
    if workflow is None:
        raise CommandError(m.needs_workflow.format(cmd=cmd))
    return Template(workflow)


def _run(cmd: str, args: str, m: Messages) -> Command:
    words = args.split()
    return Run(words[0], tuple(words[1:])) if words else Run()


def batch_id_or_none(cmd: str, args: str, m: Messages = EN) -> str | None:
    """The optional batch id of a batch command, lower-cased; "#7F3A2C" is accepted too."""
    words = args.split()
    if not words:
        return None
    if len(words) > 1:
        raise CommandError(m.one_batch_id.format(cmd=cmd))
    candidate = words[0].removeprefix("#").lower()
    if not BATCH_ID.fullmatch(candidate):
        raise CommandError(m.bad_batch_id.format(got=words[0][:_SHOWN_NAME_CHARS]))
    return candidate


def _batch(kind: Callable[[str | None], BatchCommand]) -> _Parser:
    return lambda cmd, args, m: kind(batch_id_or_none(cmd, args, m))


def _schedule(cmd: str, args: str, m: Messages) -> Command:
    args = args.translate(_QUOTES)
    parts = args.rsplit(None, 1)
    if len(parts) < 2:
        raise CommandError(m.schedule_usage.format(cmd=cmd))
    when_text, workflow = parts[0].strip(), parts[1]
    if _TIMEISH.fullmatch(workflow) or when_text.count('"') % 2:
        raise CommandError(m.schedule_no_workflow.format(cmd=cmd, got=workflow))
    return Schedule(when_text=when_text, workflow=workflow)


def _unschedule(cmd: str, args: str, m: Messages) -> Command:
    words = args.split()
    listing = m.cmd("schedules")
    if not words:
        raise CommandError(m.needs_schedule_id.format(cmd=cmd, list=listing))
    if len(words) > 1 or not SCHEDULE_ID.fullmatch(words[0]):
        raise CommandError(m.bad_schedule_id.format(got=args[:_SHOWN_NAME_CHARS], list=listing))
    return Unschedule(words[0])


_PARSERS: dict[str, _Parser] = {
    "start": _no_args(Start()),
    "help": _no_args(Help()),
    "workflows": _no_args(Workflows()),
    "template": _template,
    "run": _run,
    "status": _batch(Status),
    "pause": _batch(Pause),
    "resume": _batch(Resume),
    "cancel": _batch(Cancel),
    "retry": _batch(Retry),
    "result": _batch(Result),
    "schedule": _schedule,
    "schedules": _no_args(Schedules()),
    "unschedule": _unschedule,
}
COMMAND_NAMES: tuple[str, ...] = tuple(_PARSERS)
"""Every command word, e.g. for Telegram's setMyCommands."""
