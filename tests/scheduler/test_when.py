"""The `<when>` grammar: every accepted form, every refusal, and cron next-fire times across DST."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from engine.errors import WhenError
from engine.models import Schedule, ScheduleKind
from scheduler.cron import cron_trigger, latest_fire_time, to_apscheduler_crontab
from scheduler.ports import default_trigger
from scheduler.when import When, parse_when

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
# A Wednesday evening in Shanghai (UTC+8, no DST).
NOW = datetime(2026, 6, 10, 21, 15, tzinfo=SHANGHAI)


def sh(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-01 09:00", sh(2026, 12, 1, 9, 0)),
        ("2026-12-01T09:00", sh(2026, 12, 1, 9, 0)),
        ("2026-12-01 09:00:30", sh(2026, 12, 1, 9, 0, 30)),
        ("2026-12-01T09:00:00+00:00", sh(2026, 12, 1, 17, 0)),
        ("2026-12-01T01:00Z", sh(2026, 12, 1, 9, 0)),
        ("2026-12-01 09:00 +0100", sh(2026, 12, 1, 16, 0)),
        ("in 2h", NOW + timedelta(hours=2)),
        ("in 30m", NOW + timedelta(minutes=30)),
        ("in 1d", NOW + timedelta(days=1)),
        ("in 1h30m", NOW + timedelta(minutes=90)),
        ("in 90 minutes", NOW + timedelta(minutes=90)),
        ("in 2 hours and 5 minutes", NOW + timedelta(minutes=125)),
        ("tonight 02:00", sh(2026, 6, 11, 2, 0)),
        ("tonight 23:30", sh(2026, 6, 10, 23, 30)),
        ("today 22:00", sh(2026, 6, 10, 22, 0)),
        ("tomorrow 09:00", sh(2026, 6, 11, 9, 0)),
        ("tomorrow at 9am", sh(2026, 6, 11, 9, 0)),
        ("Tomorrow 7:05PM", sh(2026, 6, 11, 19, 5)),
        ("  TODAY   23:59 ", sh(2026, 6, 10, 23, 59)),
    ],
)
def test_one_shot_forms_read_in_the_configured_zone(text: str, expected: datetime) -> None:
    when = parse_when(text, now=NOW, tz=SHANGHAI)
    assert when.kind is ScheduleKind.ONCE
    assert when.run_at == expected
    assert when.run_at is not None
    assert when.run_at.utcoffset() == timedelta(hours=8)
    assert when.cron is None
    assert "Asia/Shanghai" in when.description


@pytest.mark.parametrize(
    ("text", "cron", "words"),
    [
        ("every day 09:00", "0 9 * * *", "every day at 09:00"),
        ("every weekday 09:00", "0 9 * * mon-fri", "Mon–Fri"),
        ("every weekday at 9am", "0 9 * * mon-fri", "09:00"),
        ("every monday 08:30", "30 8 * * mon", "every Monday at 08:30"),
        ("EVERY Sunday 18:00", "0 18 * * sun", "every Sunday"),
        ("every mon,wed 08:30", "30 8 * * mon,wed", "Monday and Wednesday"),
        ("every friday and tuesday 08:30", "30 8 * * tue,fri", "Tuesday and Friday"),
        ("every weekend 10:00", "0 10 * * sat,sun", "Sat, Sun"),
        ('cron "0 9 * * 1-5"', "0 9 * * 1-5", 'cron "0 9 * * 1-5"'),
        ("cron '*/15  9-17 * * *'", "*/15 9-17 * * *", "*/15"),
        ("cron 30 2 1 * *", "30 2 1 * *", "30 2 1"),
    ],
)
def test_recurring_forms_give_a_crontab(text: str, cron: str, words: str) -> None:
    when = parse_when(text, now=NOW, tz=SHANGHAI)
    assert when.kind is ScheduleKind.CRON
    assert when.cron == cron
    assert when.run_at is None
    assert words in when.description


def next_fires(cron: str, tz: ZoneInfo, start: datetime, count: int) -> list[datetime]:
    trigger = cron_trigger(cron, tz)
    out: list[datetime] = []
    t = trigger.get_next_fire_time(None, start)
    while len(out) < count:
        out.append(t)
        t = trigger.get_next_fire_time(t, t + timedelta(microseconds=1))
    return out


@pytest.mark.parametrize(
    ("start", "utc_hours"),
    [
        # Berlin springs forward on 29 March 2026 and falls back on 25 October 2026.
        (datetime(2026, 3, 27, 12, tzinfo=BERLIN), [8, 7, 7, 7]),
        (datetime(2026, 10, 23, 12, tzinfo=BERLIN), [7, 8, 8, 8]),
    ],
)
def test_daily_cron_stays_at_local_nine_across_dst(start: datetime, utc_hours: list[int]) -> None:
    when = parse_when("every day 09:00", now=start, tz=BERLIN)
    assert when.cron is not None
    fires = next_fires(when.cron, BERLIN, start, 4)
    assert [f.astimezone(BERLIN).hour for f in fires] == [9, 9, 9, 9]
    assert [f.astimezone(UTC).hour for f in fires] == utc_hours
    assert [f.astimezone(BERLIN).day for f in fires] == [start.day + i for i in range(1, 5)]


def test_stored_cron_schedule_becomes_a_trigger_in_its_own_zone() -> None:
    schedule = Schedule(
        id="abc123", owner="telegram:1", workflow="w", kind=ScheduleKind.CRON,
        when_text="every day 09:00", timezone="Europe/Berlin", source_name="s.xlsx",
        source_path="/d/s.xlsx", created_at=datetime(2026, 3, 1, tzinfo=UTC), cron="0 9 * * *",
    )  # fmt: skip
    trigger = default_trigger(schedule)
    first = trigger.get_next_fire_time(None, datetime(2026, 3, 28, 12, tzinfo=UTC))
    assert first == datetime(2026, 3, 29, 9, tzinfo=BERLIN)
    assert first.astimezone(UTC).hour == 7


def test_crontab_weekdays_keep_their_standard_meaning() -> None:
    # APScheduler 3 counts Monday as 0; a standard "1-5" must still mean Monday to Friday.
    start = datetime(2026, 6, 7, 12, tzinfo=SHANGHAI)  # a Sunday
    fires = next_fires("0 9 * * 1-5", SHANGHAI, start, 6)
    assert [f.strftime("%a") for f in fires] == ["Mon", "Tue", "Wed", "Thu", "Fri", "Mon"]
    sundays = next_fires("0 9 * * 0", SHANGHAI, start, 2) + next_fires("0 9 * * 7", SHANGHAI, start, 1)
    assert {f.strftime("%a") for f in sundays} == {"Sun"}
    assert to_apscheduler_crontab("0 9 * * */2") == "0 9 * * tue,thu,sat,sun"
    assert to_apscheduler_crontab("0 9 * * 5-7") == "0 9 * * fri,sat,sun"


def test_relative_time_is_absolute_across_a_dst_change() -> None:
    before = datetime(2026, 3, 29, 1, 30, tzinfo=BERLIN)  # clocks jump 02:00 → 03:00
    when = parse_when("in 2h", now=before, tz=BERLIN)
    assert when.run_at == datetime(2026, 3, 29, 4, 30, tzinfo=BERLIN)
    assert when.run_at.astimezone(UTC) - before.astimezone(UTC) == timedelta(hours=2)


def test_latest_fire_time_after_a_long_downtime() -> None:
    trigger = cron_trigger("* * * * *", SHANGHAI)
    now = sh(2026, 6, 10, 21, 15, 30)
    assert latest_fire_time(trigger, now - timedelta(days=30), now) == sh(2026, 6, 10, 21, 15)
    assert latest_fire_time(trigger, sh(2026, 6, 10, 21, 15), now) is None
    daily = cron_trigger("0 9 * * *", SHANGHAI)
    assert latest_fire_time(daily, now - timedelta(days=3), now) == sh(2026, 6, 10, 9, 0)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "No time given"),
        ("whenever", '"whenever" is not a time I understand. Use one of:'),
        ("next week", "is not a time I understand"),
        ("2026-02-30 09:00", "February 2026 has 28 days"),
        ("2028-02-30 09:00", "February 2028 has 29 days"),
        ("2026-04-31 09:00", "April 2026 has 30 days"),
        ("2026-13-01 09:00", "the month must be 1–12"),
        ("2026-12-01", "has no time of day"),
        ("2026-12-01 24:00", "the hour must be 0–23"),
        ("2026-12-01 09:60", "the minute must be 0–59"),
        ("2026-12-01 09:00:61", "the second must be 0–59"),
        ("2026-12-01 09:00+25:00", "not a real UTC offset"),
        ("2026-12-01 at nine", "not a date-time I can read"),
        ("2026-01-01 09:00", "is in the past"),
        ("today 18:00", "is in the past"),
        ("today 25:00", "the hour must be 0–23"),
        ("tomorrow 09:75", "the minute must be 0–59"),
        ("tomorrow 13pm", "with am/pm the hour must be 1–12"),
        ("tomorrow 9", '"9" is not a time of day'),
        ("tomorrow 9:5", "two digits"),
        ("tomorrow", "needs a time of day"),
        ("tonight", "needs a time of day"),
        ("in 0m", "is now, not in the future"),
        ("in 2 fortnights", '"fortnights" is not a unit of time'),
        ("in soon", "is not a duration"),
        ("in", "is not a duration"),
        ("in 99999999999d", "too far ahead"),
        ("in 20000d", "too far ahead"),
        ("every day", "needs days and a time of day"),
        ("every 2h", "needs days and a time of day"),
        ("every funday 09:00", '"funday" is not a day'),
        ("every monday 24:00", "the hour must be 0–23"),
        ("cron", "cron needs a crontab string"),
        ('cron "0 9 * *"', "has 4 fields; a crontab has 5"),
        ('cron "61 9 * * *"', "(61) is higher than the maximum value (59)"),
        ('cron "0 9 * * 8"', "day of week 8 is out of range"),
        ('cron "0 9 * * fri-mon"', "runs backwards"),
        ('cron "0 9 30 2 *"', "never fires"),
        ('cron "0 9 1 * 1"', "limits both the day of month and the day of week"),
    ],
)
def test_bad_when_gets_a_specific_message(text: str, message: str) -> None:
    with pytest.raises(WhenError) as caught:
        parse_when(text, now=NOW, tz=SHANGHAI)
    assert message in str(caught.value)


def test_time_the_dst_change_skips_is_refused() -> None:
    evening = datetime(2026, 3, 28, 22, 0, tzinfo=BERLIN)
    with pytest.raises(WhenError, match="does not exist in Europe/Berlin"):
        parse_when("tonight 02:30", now=evening, tz=BERLIN)
    with pytest.raises(WhenError, match="does not exist"):
        parse_when("2026-03-29 02:15", now=evening, tz=BERLIN)
    assert parse_when("tonight 03:30", now=evening, tz=BERLIN).run_at == datetime(
        2026, 3, 29, 3, 30, tzinfo=BERLIN
    )


def test_past_message_names_both_times() -> None:
    with pytest.raises(WhenError) as caught:
        parse_when("2026-06-10 21:00", now=NOW, tz=SHANGHAI)
    assert str(caught.value) == (
        "Wed 2026-06-10 21:00 (Asia/Shanghai) is in the past "
        "(it is now Wed 2026-06-10 21:15 (Asia/Shanghai))."
    )


def test_when_holds_exactly_one_aware_kind() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        When(description="x")
    with pytest.raises(ValueError, match="exactly one"):
        When(description="x", run_at=NOW, cron="0 9 * * *")
    with pytest.raises(ValueError, match="aware"):
        When(description="x", run_at=datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="aware"):
        parse_when("in 2h", now=datetime(2026, 1, 1), tz=SHANGHAI)
