"""The English of the refusals a person meets outside sheets, by code: a schedule time that
cannot be read (`WhenError`, raised by the scheduler) and a state change that is not possible
now (`InvalidTransition`), and a context mapping the app's form refutes (`engine.context`,
reported as a config problem). Catalogues translate these mappings key by key; `engine.text.phrases`
says a raised `Phrase` in either language."""

from __future__ import annotations

from typing import Any

from engine.text.phrases import Phrase, phrase

WHEN_SENTENCES: dict[str, str] = {
    "accepted": (
        "Use one of: 2026-12-01 09:00, in 2h, in 1h30m, in 90 minutes, today 18:00, tonight 02:00, "
        'tomorrow 09:00, every day 09:00, every weekday 09:00, every monday 08:30, cron "0 9 * * 1-5".'
    ),
    "no_time": "No time given. {accepted}",
    "not_understood": '"{text}" is not a time I understand. {accepted}',
    "past_now": "{at} is in the past (it is now {now}).",
    "past": "{at} is in the past.",
    "not_clock": '"{token}" is not a time of day; write it like 09:00 or 9am.',
    "clock_seconds": '"{token}": give the time as hours:minutes, without seconds.',
    "minute_digits": '"{token}": write the minutes with two digits, like 09:05.',
    "ampm_hour": '"{token}": with am/pm the hour must be 1–12.',
    "hour_range": '"{token}": the hour must be 0–23.',
    "minute_range": '"{token}": the minute must be 0–59.',
    "second_range": '"{token}": the second must be 0–59.',
    "dst_gap": "{at} does not exist in {zone}: the clocks skip it for daylight saving time.",
    "needs_clock": '"{word}" needs a time of day, e.g. {word} 09:00.',
    "not_duration": '"in {rest}" is not a duration; write it like in 2h, in 1h30m or in 90 minutes.',
    "not_unit": '"{unit}" is not a unit of time; use d, h, m (days, hours, minutes).',
    "too_far": '"in {rest}" is too far ahead (at most {days} days).',
    "not_future": '"in {rest}" is now, not in the future.',
    "not_iso": '"{text}" is not a date-time I can read; write it like 2026-12-01 09:00.',
    "no_clock_in_date": '"{text}" has no time of day; write it like {date} 09:00.',
    "month_range": '"{text}": the month must be 1–12.',
    "month_days": '"{text}": {month} {year} has {last} days.',
    "bad_offset": '"{text}": the offset {offset} is not a real UTC offset.',
    "every_needs": (
        '"every {rest}" needs days and a time of day, like every day 09:00, every weekday 09:00 '
        "or every monday 08:30 (for anything else use cron)."
    ),
    "not_day": (
        '"every {rest}": "{word}" is not a day; use day, weekday, or day names '
        "(monday … sunday, mon … sun), e.g. every mon,wed 08:30."
    ),
    "cron_empty": 'cron needs a crontab string, e.g. cron "0 9 * * 1-5".',
    "cron_dow_range": 'cron "{expr}": day of week {value} is out of range (0–7, 0 and 7 = Sunday)',
    "cron_not_dow": 'cron "{expr}": "{token}" is not a day of week (use 0–7 or sun, mon, … sat)',
    "cron_dow_part": 'cron "{expr}": cannot read the day-of-week part "{item}"',
    "cron_zero_step": 'cron "{expr}": a step of 0 in "{item}" never advances',
    "cron_backwards": 'cron "{expr}": the range "{item}" runs backwards',
    "cron_fields": (
        'cron "{expr}" has {n} fields; a crontab has 5: minute hour day-of-month month '
        'day-of-week, e.g. cron "0 9 * * 1-5"'
    ),
    "cron_both_days": (
        'cron "{expr}" limits both the day of month and the day of week; '
        "limit only one of them (put * in the other)"
    ),
    "cron_invalid": 'cron "{expr}": {error}',
    "cron_never": 'cron "{expr}" never fires (no date matches it)',
    **{f"month_{n}": name for n, name in enumerate(
        ("January", "February", "March", "April", "May", "June", "July", "August",
         "September", "October", "November", "December"), 1)},
}
"""Why a ``<when>`` cannot be used. ``month_1`` … ``month_12`` name the months."""

STATE_SENTENCES: dict[str, str] = {
    "cannot_become": "batch is {state}; it cannot become {target}",
    "retry_not_final": "batch {id} is {state}; retry runs its failed rows",
    "no_failed_rows": "batch {id} has no failed rows to retry",
    "changed_meanwhile": "batch {id} changed meanwhile; try again",
    "state_scheduled": "scheduled",
    "state_pending": "pending",
    "state_running": "running",
    "state_paused": "paused",
    "state_completed": "completed",
    "state_failed": "failed",
    "state_cancelled": "cancelled",
}
"""Why a batch cannot do what was asked now; ``state_*`` name the batch states."""


def when_phrase(code: str, **params: Any) -> Phrase:
    return phrase(WHEN_SENTENCES, code, **params)


def state_phrase(code: str, **params: Any) -> Phrase:
    """A `STATE_SENTENCES` phrase; ``state``/``target`` values are batch states, said as words."""
    named = {k: phrase(STATE_SENTENCES, f"state_{v}") if k in ("state", "target") else v
             for k, v in params.items()}
    return phrase(STATE_SENTENCES, code, **named)


CONTEXT_SENTENCES: dict[str, str] = {
    "context_unknown": (
        "context maps {variable!r} (from {source!r}), but the app has no such variable (it has: {known})"
    ),
    "context_unknown_none": (
        "context maps {variable!r} (from {source!r}), but the app has no input variables at all"
    ),
    "context_not_plain": "context maps {variable!r}, but it is a {kind} input",
}
"""The English of a context mapping the app's form refutes; catalogues translate it by code."""
