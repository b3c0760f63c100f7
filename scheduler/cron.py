"""Standard 5-field crontab strings turned into APScheduler 3 `CronTrigger`s, and fire-time search."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from engine.errors import WhenError
from engine.text.sentences import when_phrase

_DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
"""Index = standard crontab weekday number (0 and 7 are Sunday)."""

_DOW_ITEM = re.compile(r"^(\*|[a-z]{3}|\d+)(?:-([a-z]{3}|\d+))?(?:/(\d+))?$")

_NO_LIMIT_MONTH_DAY = {"*", "?"}


def _weekday_number(token: str, expr: str) -> int:
    if token.isdigit():
        value = int(token)
        if value > 7:
            raise WhenError(when_phrase("cron_dow_range", expr=expr, value=value))
        return value % 7
    if token in _DAY_NAMES:
        return _DAY_NAMES.index(token)
    raise WhenError(when_phrase("cron_not_dow", expr=expr, token=token))


def _weekday_set(field: str, expr: str) -> set[int]:
    days: set[int] = set()
    for item in field.split(","):
        match = _DOW_ITEM.match(item)
        if match is None:
            raise WhenError(when_phrase("cron_dow_part", expr=expr, item=item))
        first, last, step_text = match.groups()
        step = int(step_text) if step_text else 1
        if step < 1:
            raise WhenError(when_phrase("cron_zero_step", expr=expr, item=item))
        if first == "*":
            if last is not None:
                raise WhenError(when_phrase("cron_dow_part", expr=expr, item=item))
            start, end = 0, 6
        else:
            start = _weekday_number(first, expr)
            # 7 is a second spelling of Sunday; as a range end ("5-7") it means "through Sunday".
            end = _weekday_number(last, expr) if last is not None else start
            if last is not None and last == "7":
                end = 7
            if end < start:
                raise WhenError(when_phrase("cron_backwards", expr=expr, item=item))
            if last is None and step_text:
                end = 6
        days.update(d % 7 for d in range(start, end + 1, step))
    return days


def to_apscheduler_crontab(expr: str) -> str:
    """Rewrite the weekday field with names.

    APScheduler 3 numbers weekdays from Monday = 0 (its docs call this a historical mistake,
    issue #286), so a standard "1-5" would run Tuesday to Saturday there. Names mean the same
    in both, so the field is rewritten as an explicit list of names.
    """
    fields = expr.lower().split()
    if len(fields) != 5:
        raise WhenError(when_phrase("cron_fields", expr=expr, n=len(fields)))
    dow = fields[4]
    if dow not in _NO_LIMIT_MONTH_DAY and fields[2] not in _NO_LIMIT_MONTH_DAY:
        # Classic cron runs when EITHER field matches, APScheduler when BOTH do: refuse the
        # ambiguous form rather than run at times the person did not mean.
        raise WhenError(when_phrase("cron_both_days", expr=expr))
    if dow in _NO_LIMIT_MONTH_DAY:
        fields[4] = "*"
    else:
        days = _weekday_set(dow, expr)
        # Monday-first order keeps the rewritten field readable ("mon,tue,…").
        fields[4] = ",".join(_DAY_NAMES[d] for d in (1, 2, 3, 4, 5, 6, 0) if d in days)
    if fields[2] == "?":
        fields[2] = "*"
    return " ".join(fields)


def cron_trigger(expr: str, tz: ZoneInfo, *, now: datetime | None = None) -> Any:
    """A `CronTrigger` for a standard crontab string, in ``tz``; `WhenError` when it is invalid.

    With ``now``, an expression that never fires after it (``0 9 30 2 *``) is refused too.
    """
    try:
        trigger = CronTrigger.from_crontab(to_apscheduler_crontab(expr), timezone=tz)
    except ValueError as exc:
        raise WhenError(when_phrase("cron_invalid", expr=expr, error=str(exc))) from None
    if now is not None and trigger.get_next_fire_time(None, now) is None:
        raise WhenError(when_phrase("cron_never", expr=expr))
    return trigger


_STEP = timedelta(microseconds=1)


def latest_fire_time(trigger: Any, after: datetime, until: datetime) -> datetime | None:
    """The last fire time of ``trigger`` in ``(after, until]``, or None.

    Searches backwards from ``until`` in growing windows so a long downtime of a frequent
    schedule does not walk every missed fire time.
    """
    # Arithmetic and comparison of datetimes sharing a tzinfo use wall time: work in UTC.
    after, until = after.astimezone(UTC), until.astimezone(UTC)
    window = timedelta(minutes=2)
    while True:
        start = until - window
        exhausted = start <= after
        if exhausted:
            start = after + _STEP
        last: datetime | None = None
        t = trigger.get_next_fire_time(None, start)
        while t is not None and t <= until:
            if t > after:
                last = t
            t = trigger.get_next_fire_time(t, t + _STEP)
        if last is not None or exhausted:
            return last
        window *= 4
