"""The `<when>` grammar of /schedule: one-shot instants and recurring crontab specs, read in a zone."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from engine.errors import WhenError
from engine.models import ScheduleKind
from engine.text.sentences import WHEN_SENTENCES, when_phrase
from scheduler.cron import cron_trigger

ACCEPTED = WHEN_SENTENCES["accepted"]

MAX_AHEAD = timedelta(days=3660)
"""A relative time further out than this is a typo, and would overflow `datetime` soon after."""


@dataclass(frozen=True, slots=True)
class When:
    """A parsed `<when>`: exactly one of ``run_at`` (aware) or ``cron`` (standard 5-field crontab)."""

    description: str
    run_at: datetime | None = None
    cron: str | None = None

    def __post_init__(self) -> None:
        if (self.run_at is None) == (self.cron is None):
            raise ValueError("a When has exactly one of run_at and cron")
        if self.run_at is not None and self.run_at.utcoffset() is None:
            raise ValueError("When.run_at must be timezone-aware")

    @property
    def kind(self) -> ScheduleKind:
        return ScheduleKind.ONCE if self.run_at is not None else ScheduleKind.CRON


def parse_when(text: str, *, now: datetime, tz: ZoneInfo) -> When:
    """Read ``text`` in ``tz``; a one-shot time must lie after ``now``. Raises `WhenError`."""
    if now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    clean = " ".join(text.split())
    low = clean.lower()
    if not low:
        raise WhenError(when_phrase("no_time", accepted=when_phrase("accepted")))
    head, _, rest = low.partition(" ")
    if head == "cron":
        return _parse_cron(clean[5:], now=now, tz=tz)
    if head == "every":
        return _parse_every(rest, now=now, tz=tz)
    if head == "in":
        return _once(_parse_relative(rest, now=now), now=now, tz=tz)
    if head in ("today", "tonight", "tomorrow"):
        return _once(_parse_day_time(head, rest, now=now, tz=tz), now=now, tz=tz)
    if re.match(r"^\d{4}-", low):
        return _once(_parse_iso(low, tz=tz), now=now, tz=tz)
    raise WhenError(when_phrase("not_understood", text=clean, accepted=when_phrase("accepted")))


def describe_instant(at: datetime, tz: ZoneInfo) -> str:
    local = at.astimezone(tz)
    return f"{local:%a %Y-%m-%d %H:%M} ({tz.key})"


def _once(at: datetime, *, now: datetime, tz: ZoneInfo) -> When:
    # Aware datetimes sharing one tzinfo compare by wall time; UTC makes the fold hour safe.
    if at.astimezone(UTC) <= now.astimezone(UTC):
        raise WhenError(when_phrase("past_now", at=describe_instant(at, tz), now=describe_instant(now, tz)))
    return When(description=f"once at {describe_instant(at, tz)}", run_at=at.astimezone(tz))


# --- time of day -------------------------------------------------------------------------

_CLOCK = re.compile(r"^(\d{1,2})(?::(\d{1,2}))?(?::(\d{1,2}))?\s*(am|pm|a\.m\.|p\.m\.)?$")


def _parse_clock(token: str) -> tuple[int, int]:
    """``09:00``, ``9:30``, ``9am``, ``9:30pm`` → (hour, minute)."""
    match = _CLOCK.match(token.strip())
    if match is None or (match.group(2) is None and match.group(4) is None):
        raise WhenError(when_phrase("not_clock", token=token))
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    if match.group(3) is not None:
        raise WhenError(when_phrase("clock_seconds", token=token))
    if len(match.group(2) or "00") != 2:
        raise WhenError(when_phrase("minute_digits", token=token))
    suffix = (match.group(4) or "").replace(".", "")
    if suffix:
        if not 1 <= hour <= 12:
            raise WhenError(when_phrase("ampm_hour", token=token))
        hour = hour % 12 + (12 if suffix == "pm" else 0)
    elif hour > 23:
        raise WhenError(when_phrase("hour_range", token=token))
    if minute > 59:
        raise WhenError(when_phrase("minute_range", token=token))
    return hour, minute


def _local(day: date, hour: int, minute: int, tz: ZoneInfo, second: int = 0) -> datetime:
    """Wall time ``day hour:minute`` in ``tz``; a time the DST change skips is refused."""
    at = datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=tz)
    back = at.astimezone(UTC).astimezone(tz)
    if back.replace(tzinfo=None) != at.replace(tzinfo=None):
        raise WhenError(when_phrase("dst_gap", at=f"{at:%Y-%m-%d %H:%M}", zone=tz.key))
    return at


def _strip_at(rest: str) -> str:
    return rest[3:] if rest.startswith("at ") else rest


def _parse_day_time(word: str, rest: str, *, now: datetime, tz: ZoneInfo) -> datetime:
    rest = _strip_at(rest)
    if not rest:
        raise WhenError(when_phrase("needs_clock", word=word))
    hour, minute = _parse_clock(rest)
    today = now.astimezone(tz).date()
    if word == "tomorrow":
        return _local(today + timedelta(days=1), hour, minute, tz)
    at = _local(today, hour, minute, tz)
    if word == "tonight" and at.astimezone(UTC) <= now.astimezone(UTC):
        # "tonight 02:00" said in the evening means the coming night, i.e. early tomorrow.
        at = _local(today + timedelta(days=1), hour, minute, tz)
    return at


# --- relative ----------------------------------------------------------------------------

_UNITS = {
    **dict.fromkeys(("w", "wk", "wks", "week", "weeks"), timedelta(weeks=1)),
    **dict.fromkeys(("d", "day", "days"), timedelta(days=1)),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), timedelta(hours=1)),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), timedelta(minutes=1)),
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), timedelta(seconds=1)),
}
_AMOUNT = re.compile(r"(\d+)\s*([a-z]+)")
_RELATIVE = re.compile(r"^(?:\d+\s*[a-z]+(?:\s*,\s*|\s+and\s+|\s*))+$")


def _parse_relative(rest: str, *, now: datetime) -> datetime:
    if not rest or _RELATIVE.match(rest) is None:
        raise WhenError(when_phrase("not_duration", rest=rest))
    total = timedelta()
    for amount, unit in _AMOUNT.findall(rest):
        if unit == "and":
            continue
        step = _UNITS.get(unit)
        if step is None:
            raise WhenError(when_phrase("not_unit", unit=unit))
        if len(amount) > 9:
            raise WhenError(when_phrase("too_far", rest=rest, days=MAX_AHEAD.days))
        total += int(amount) * step
    if total <= timedelta():
        raise WhenError(when_phrase("not_future", rest=rest))
    if total > MAX_AHEAD:
        raise WhenError(when_phrase("too_far", rest=rest, days=MAX_AHEAD.days))
    # Added in UTC: adding to a zoned datetime moves the wall clock, so "in 2h" across a DST
    # change would be one or three hours.
    return now.astimezone(UTC) + total


# --- ISO ---------------------------------------------------------------------------------

_ISO = re.compile(
    r"^(\d{4})-(\d{1,2})-(\d{1,2})"
    r"(?:(?:t|\s+)(\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.\d+)?)?)?"
    r"\s*(z|utc|[+-]\d{2}(?::?\d{2})?)?$"
)


def _parse_iso(low: str, *, tz: ZoneInfo) -> datetime:
    match = _ISO.match(low)
    if match is None:
        raise WhenError(when_phrase("not_iso", text=low))
    year, month, day = (int(g) for g in match.group(1, 2, 3))
    if match.group(4) is None:
        raise WhenError(when_phrase("no_clock_in_date", text=low, date=f"{year:04d}-{month:02d}-{day:02d}"))
    if not 1 <= month <= 12:
        raise WhenError(when_phrase("month_range", text=low))
    if day < 1 or day > calendar.monthrange(year, month)[1]:
        last = calendar.monthrange(year, month)[1]
        raise WhenError(when_phrase("month_days", text=low, month=when_phrase(f"month_{month}"),
                                    year=year, last=last))
    hour, minute, second = int(match.group(4)), int(match.group(5)), int(match.group(6) or 0)
    if hour > 23:
        raise WhenError(when_phrase("hour_range", token=low))
    if minute > 59:
        raise WhenError(when_phrase("minute_range", token=low))
    if second > 59:
        raise WhenError(when_phrase("second_range", token=low))
    offset = match.group(7)
    if offset is None:
        return _local(date(year, month, day), hour, minute, tz, second)
    return datetime(year, month, day, hour, minute, second, tzinfo=_offset_zone(offset, low))


def _offset_zone(offset: str, low: str) -> timezone:
    if offset in ("z", "utc"):
        return UTC
    digits = offset[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:] or 0)
    if hours > 14 or minutes > 59:
        raise WhenError(when_phrase("bad_offset", text=low, offset=offset))
    delta = timedelta(hours=hours, minutes=minutes)
    return timezone(-delta if offset[0] == "-" else delta)


# --- recurring ---------------------------------------------------------------------------

_DAYS = {
    "monday": "mon", "mon": "mon",
    "tuesday": "tue", "tue": "tue", "tues": "tue",
    "wednesday": "wed", "wed": "wed",
    "thursday": "thu", "thu": "thu", "thur": "thu", "thurs": "thu",
    "friday": "fri", "fri": "fri",
    "saturday": "sat", "sat": "sat",
    "sunday": "sun", "sun": "sun",
}  # fmt: skip
_WEEK = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL = {
    "mon": "Monday", "tue": "Tuesday", "wed": "Wednesday", "thu": "Thursday",
    "fri": "Friday", "sat": "Saturday", "sun": "Sunday",
}  # fmt: skip


def _parse_every(rest: str, *, now: datetime, tz: ZoneInfo) -> When:
    match = re.match(r"^(.*?)\s*(?:\bat\s+)?(\d{1,2}(?::\d{1,2})*\s*(?:am|pm|a\.m\.|p\.m\.)?)$", rest)
    if not rest or match is None or not match.group(1):
        raise WhenError(when_phrase("every_needs", rest=rest))
    days_text, clock = match.group(1), match.group(2)
    hour, minute = _parse_clock(clock)
    if days_text in ("day", "days"):
        dow, what = "*", "every day"
    elif days_text in ("weekday", "weekdays"):
        dow, what = "mon-fri", "every weekday (Mon–Fri)"
    elif days_text in ("weekend", "weekends"):
        dow, what = "sat,sun", "every weekend day (Sat, Sun)"
    else:
        days = _day_list(days_text, rest)
        dow = ",".join(days)
        names = [_FULL[d] for d in days]
        what = "every " + (names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1])
    cron = f"{minute} {hour} * * {dow}"
    cron_trigger(cron, tz, now=now)  # the same check a stored schedule gets when it is loaded
    return When(description=f"{what} at {hour:02d}:{minute:02d} ({tz.key})", cron=cron)


def _day_list(days_text: str, rest: str) -> list[str]:
    found: set[str] = set()
    for word in re.split(r"\s*,\s*|\s+and\s+|\s*&\s*|\s+", days_text):
        # Plurals ("mondays") read naturally after "every".
        day = _DAYS.get(word) or (_DAYS.get(word[:-1]) if word.endswith("s") else None)
        if day is None:
            raise WhenError(when_phrase("not_day", rest=rest, word=word))
        found.add(day)
    return [d for d in _WEEK if d in found]


def _parse_cron(body: str, *, now: datetime, tz: ZoneInfo) -> When:
    expr = body.strip().strip("\"'“”‘’`").strip()
    if not expr:
        raise WhenError(when_phrase("cron_empty"))
    cron = " ".join(expr.split())
    cron_trigger(cron, tz, now=now)
    return When(description=f'cron "{cron}" ({tz.key})', cron=cron)
