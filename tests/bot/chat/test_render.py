"""Wording: progress and final texts on a known clock, check summaries, errors, schedules."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.chat.text.catalogues import catalogues
from bot.chat.text.catalogues.en import EnglishWording
from bot.chat.text.renderer import EN, Messages, messages_for, scrub, slack_escape
from engine.errors import (
    AppError,
    CommandError,
    ConfigError,
    InvalidTransition,
    NotFound,
    SheetError,
    TransientWorkflowError,
    WhenError,
)
from engine.models import (
    Batch,
    BatchStatus,
    ParsedSheet,
    Progress,
    Schedule,
    ScheduleKind,
    SheetProblem,
    SheetRow,
)

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
NOW = T0 + timedelta(minutes=5)
BATCH = Batch(
    id="7f3a2c", workflow="summarize", owner="telegram:1", status=BatchStatus.RUNNING,
    total=100, created_at=T0, source_name="data.xlsx", started_at=T0,
)
HALF = Progress(total=100, pending=44, running=4, succeeded=50, failed=2, tokens=12345)


def test_progress_running_bar_rate_eta() -> None:
    """52 of 100 in 5 minutes: 10.4 rows/min, 48 left → 4m 37s."""
    assert EN.progress_text(BATCH, HALF, now=NOW) == (
        "summarize · batch 7f3a2c\n"
        "▓▓▓▓▓░░░░░ 52%\n"
        "52/100 rows · 50 ok · 2 failed\n"
        "10.4 rows/min · ETA 4m 37s"
    )


def test_progress_bar_floors() -> None:
    """99.9 % is not shown as done, and an hour-long ETA reads in hours."""
    big = replace(BATCH, total=1000)
    p = Progress(total=1000, succeeded=999)
    assert "▓▓▓▓▓▓▓▓▓░ 99%" in EN.progress_text(big, p, now=NOW)
    slow = Progress(total=1000, succeeded=50)
    # 10 rows/min, 950 left → 95 minutes
    assert EN.progress_text(big, slow, now=NOW).endswith("10.0 rows/min · ETA 1h 35m")


def test_progress_before_first_row() -> None:
    """No rate is invented before a row is done or before the start."""
    fresh = Progress(total=100, pending=96, running=4)
    assert EN.progress_text(BATCH, fresh, now=NOW).endswith("0/100 rows · 0 ok · 0 failed\nStarting…")
    unstarted = replace(BATCH, started_at=None)
    assert EN.progress_text(unstarted, HALF, now=NOW).endswith("Starting…")


@pytest.mark.parametrize(
    ("status", "last_line"),
    [
        (BatchStatus.SCHEDULED, "Waiting for its scheduled time."),
        (BatchStatus.PENDING, "Queued; it starts when a slot is free."),
        (BatchStatus.PAUSED, "Paused: the app was deleted. /resume 7f3a2c continues."),
        (BatchStatus.COMPLETED, "Completed."),
        (BatchStatus.CANCELLED, "Cancelled."),
        (BatchStatus.FAILED, "Failed: the app was deleted"),
    ],
)
def test_progress_status_lines(status: BatchStatus, last_line: str) -> None:
    """Every status other than running says what state the batch is in, without ETA."""
    batch = replace(BATCH, status=status, error="the app was deleted")
    text = EN.progress_text(batch, HALF, now=NOW)
    assert text.splitlines()[-1] == last_line
    assert "ETA" not in text


def test_a_paused_batch_without_a_reason_says_how_to_go_on() -> None:
    text = EN.progress_text(replace(BATCH, status=BatchStatus.PAUSED), HALF, now=NOW)
    assert text.splitlines()[-1] == "Paused: nothing new starts. /resume 7f3a2c continues."


def test_progress_says_dify_is_unreachable_since_when_and_the_next_try() -> None:
    """While the lane cannot reach Dify the rate line gives way to what, since when, next try."""
    trouble = replace(HALF, unreachable_since=NOW - timedelta(seconds=190),
                      next_try_at=NOW + timedelta(seconds=20),
                      trouble="connection refused by dify.local:443")
    text = EN.progress_text(BATCH, trouble, now=NOW)
    since = (NOW - timedelta(seconds=190)).strftime("%H:%M:%S")
    assert text.splitlines()[-1] == (
        f"⚠️ Dify unreachable since {since} UTC (3m 10s): connection refused by dify.local:443. "
        "Next try in 20s."
    )
    assert "ETA" not in text


def test_progress_shows_cancelled_rows() -> None:
    """Cancelled rows are counted apart so done/total adds up."""
    p = Progress(total=10, succeeded=3, failed=1, cancelled=6)
    text = EN.progress_text(replace(BATCH, status=BatchStatus.CANCELLED, total=10), p, now=NOW)
    assert "10/10 rows · 3 ok · 1 failed · 6 cancelled" in text


def test_final_with_failures() -> None:
    """Outcome, counts, tokens, duration, and /retry before /result."""
    batch = replace(BATCH, status=BatchStatus.COMPLETED, finished_at=T0 + timedelta(seconds=754))
    p = Progress(total=100, succeeded=97, failed=3, tokens=1234567)
    assert EN.final_text(batch, p, now=NOW) == (
        "⚠️ summarize · batch 7f3a2c completed; rows failed: 3\n"
        "100 rows: 97 ok, 3 failed, 0 not run\n"
        "Tokens: 1,234,567 · took 12m 34s\n"
        "/retry 7f3a2c runs only the failed rows again.\n"
        "/result 7f3a2c sends the results workbook again."
    )


def test_final_clean_cancelled_failed() -> None:
    """No /retry hint without failures; cancelled and failed batches say so."""
    done = replace(BATCH, status=BatchStatus.COMPLETED, finished_at=T0 + timedelta(seconds=42))
    ok = EN.final_text(done, Progress(total=100, succeeded=100), now=NOW)
    assert ok.startswith("✅ summarize · batch 7f3a2c completed\n")
    assert "took 42s" in ok
    assert "/retry" not in ok
    cancelled = EN.final_text(
        replace(BATCH, status=BatchStatus.CANCELLED),
        Progress(total=100, succeeded=10, cancelled=90),
        now=NOW,
    )
    assert cancelled.splitlines()[:2] == [
        "⏹ summarize · batch 7f3a2c cancelled",
        "100 rows: 10 ok, 0 failed, 90 not run",
    ]
    assert "took 5m 00s" in cancelled  # not finished yet: measured to now
    failed = EN.final_text(replace(BATCH, status=BatchStatus.FAILED, error="boom"), HALF, now=NOW)
    assert failed.startswith("❌ summarize · batch 7f3a2c failed: boom\n")


def test_results_caption_keeps_the_mention_unescaped() -> None:
    """The mention is platform markup; the rest is escaped for Slack."""
    slack = messages_for(prefix="/difybatch ", escape=slack_escape)
    batch = replace(BATCH, workflow="a<b")
    assert slack.results_caption(batch, HALF, "<@U0BOB>") == (
        "<@U0BOB> results of a&lt;b (batch 7f3a2c): 50 ok, 2 failed"
    )
    assert EN.results_caption(BATCH, HALF, "") == "results of summarize (batch 7f3a2c): 50 ok, 2 failed"


def _sheet(problems: int = 0, **kwargs: object) -> ParsedSheet:
    rows = tuple(SheetRow(sheet_row=i + 2, cells=("x",), inputs={"t": "x"}) for i in range(120))
    found = tuple(SheetProblem("Sheet1", 7 + i, "Title", "required") for i in range(problems))
    return ParsedSheet("Sheet1", ("Title",), rows, found, **kwargs)  # type: ignore[arg-type]


def test_check_summary_ok() -> None:
    """Rows ready, blank rows skipped, extra columns carried (Chinese names intact)."""
    parsed = _sheet(blank_rows=3, extra_columns=("备注", "Notes"))
    assert EN.check_summary("数据.xlsx", ["总结"], parsed) == (
        "📄 数据.xlsx (sheet 'Sheet1')\n"
        "✓ 120 rows ready for 总结.\n"
        "Skipped 3 blank rows.\n"
        "Extra columns, carried through unchanged: 备注, Notes"
    )
    many = EN.check_summary("d.csv", ["summarize", "总结"], _sheet())
    assert "✓ 120 rows ready. Pick a workflow: summarize, 总结." in many


def test_check_summary_lists_and_truncates_problems() -> None:
    """The first problems as 'row N, column ...' lines, then '… and N more'."""
    text = EN.check_summary("d.xlsx", ["summarize"], _sheet(problems=13), max_listed=10)
    lines = text.splitlines()
    assert lines[1] == "✗ 13 problems; nothing runs until they are fixed:"
    assert lines[2] == "row 7, column 'Title': required"
    assert lines[11] == "row 16, column 'Title': required"
    assert lines[12] == "… and 3 more"
    assert lines[13] == "The attached copy marks every bad cell."
    assert "ready" not in text


def test_check_summary_problems_without_a_cell() -> None:
    """A missing column or a row-wide problem reads naturally; Chinese columns render."""
    parsed = ParsedSheet(
        "表1", ("标题",), (),
        (SheetProblem("表1", 0, "标题", "missing"), SheetProblem("表1", 4, "", "too long")),
    )
    text = EN.check_summary("d.xlsx", ["总结"], parsed)
    assert "column '标题': missing\nrow 4: too long" in text


def test_check_summary_empty_sheet() -> None:
    """A sheet with headers only says nothing can run."""
    parsed = ParsedSheet("Sheet1", ("Title",), ())
    assert EN.check_summary("d.xlsx", ["s"], parsed).endswith("The sheet has no data rows; nothing can run.")


@pytest.mark.parametrize(
    ("exc", "kwargs", "text"),
    [
        (NotFound("batch gone"), {"batch_id": "7f3a2c"}, "No batch 7f3a2c."),
        (NotFound("x"), {"schedule_id": "s1"}, "No schedule s1."),
        (NotFound("No workflow named 'x'."), {}, "No workflow named 'x'."),
        (CommandError("You may not use workflow 总结."), {}, "You may not use workflow 总结."),
        (WhenError("That time is in the past."), {}, "That time is in the past."),
        (
            InvalidTransition("batch is completed; it cannot become paused"),
            {},
            "That cannot be done now: batch is completed; it cannot become paused.",
        ),
        (
            TransientWorkflowError("503 from https://dify/v1 Bearer app-0123456789abcdefXYZ"),
            {},
            "The Dify app answered with an error: 503 from https://dify/v1 ***",
        ),
        (ConfigError(["telegram.token_env: TELEGRAM_BOT_TOKEN is not set"]), {}, EN.config_error),
        (AppError("?"), {}, "Something went wrong on our side (AppError); please try again."),
    ],
)
def test_error_text(exc: AppError, kwargs: dict[str, str], text: str) -> None:
    """Each kind of error gets its own reply; config details and secrets stay private."""
    assert EN.error_text(exc, **kwargs) == text


def test_sheet_error_lists_reasons() -> None:
    """A SheetError shows its message and the first reasons."""
    exc = SheetError("d.xlsx is not a workbook.", [f"reason {i}" for i in range(12)])
    lines = EN.error_text(exc).splitlines()
    assert lines[0] == "d.xlsx is not a workbook."
    assert lines[1:3] == ["reason 0", "reason 1"]
    assert lines[-1] == "… and 2 more"


def test_scrub_hides_credentials() -> None:
    """Telegram file URLs, Slack and Dify tokens never reach a chat."""
    text = (
        "GET https://api.telegram.org/file/bot123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/doc "
        "xoxb-1234-5678-abcdef xapp-1-A0-123 app-AbCdEf0123456789xyz"
    )
    cleaned = scrub(text)
    for secret in ("AAHdqTcv", "xoxb-1234", "xapp-1", "app-AbCd"):
        assert secret not in cleaned
    assert "https://api.telegram.org/file/bot***/doc" in cleaned


def _schedule(**kwargs: object) -> Schedule:
    values: dict[str, object] = {
        "id": "s1", "owner": "telegram:1", "workflow": "总结", "kind": ScheduleKind.CRON,
        "when_text": "every weekday 09:00", "timezone": "Asia/Shanghai", "source_name": "数据.xlsx",
        "source_path": "/data/x", "created_at": T0, "cron": "0 9 * * 1-5",
    }
    values.update(kwargs)
    return Schedule(**values)  # type: ignore[arg-type]


def test_schedules_text_in_the_schedule_zone() -> None:
    """Next firing shown in the schedule's own time zone; an empty list says how to add one."""
    next_fire = datetime(2026, 3, 3, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
    text = EN.schedules_text([(_schedule(), next_fire), (_schedule(id="s2", active=False), None)])
    assert text == (
        "s1 · 总结 · every weekday 09:00 · 数据.xlsx · next: 2026-03-03 09:00 (Asia/Shanghai)\n"
        "s2 · 总结 · every weekday 09:00 · 数据.xlsx · inactive"
    )
    assert EN.schedules_text([]) == (
        "You have no schedules. /schedule <when> <workflow> after sending a file."
    )


def test_scheduled_and_missed() -> None:
    """Confirmation names id and how to remove it; a missed firing says when it was due."""
    next_fire = datetime(2026, 3, 3, 1, 0, tzinfo=UTC)
    assert EN.scheduled_text(_schedule(), next_fire) == (
        "Scheduled 总结 on 数据.xlsx: every weekday 09:00. Next run 2026-03-03 09:00 "
        "(Asia/Shanghai). Schedule s1; /unschedule s1 removes it."
    )
    missed = EN.missed_firing_text(_schedule(), next_fire - timedelta(days=1), next_fire)
    assert missed == (
        "The run of 总结 on 数据.xlsx due 2026-03-02 09:00 (Asia/Shanghai) was skipped: the bot "
        "was offline past the grace period. The next run is 2026-03-03 09:00 (Asia/Shanghai)."
    )


def test_status_list_and_started() -> None:
    """One line per batch with its state; the start reply points at /status."""
    paused = replace(BATCH, id="0a0b0c", status=BatchStatus.PAUSED, workflow="总结")
    assert EN.status_list_text([(BATCH, HALF), (paused, Progress(total=5, succeeded=1))]) == (
        "7f3a2c · summarize · running · 52/100 (2 failed)\n0a0b0c · 总结 · paused · 1/5"
    )
    assert EN.status_list_text([]) == "You have no batches yet. Send a spreadsheet to start one."


def test_help_and_workflows_per_platform() -> None:
    """Help spells commands the platform's way; Slack output is escaped."""
    slack = messages_for("en", prefix="/difybatch ", escape=slack_escape)
    help_text = slack.help_text()
    assert "/difybatch template &lt;workflow&gt; — a spreadsheet to fill in" in help_text
    assert "<" not in help_text
    lines = EN.help_text().splitlines()
    assert "/template <workflow> — a spreadsheet to fill in" in lines
    # comparing is told right below the one-workflow run (issue 15.6)
    compare = "/run <workflow> <workflow> — run the file on each workflow and compare their outputs"
    assert lines[lines.index(compare) - 1].startswith("/run <workflow> — ")
    assert "/difybatch run &lt;workflow&gt; &lt;workflow&gt; — run the file on each workflow" in help_text
    # every command but /start and /help itself is listed, each spelled with its slash
    from bot.chat.commands import COMMAND_NAMES

    listed = {line.split()[0] for line in lines if line.startswith("/")}
    assert listed == {f"/{name}" for name in COMMAND_NAMES} - {"/start", "/help"}
    assert EN.workflows_text(["summarize", "总结"]) == "Workflows you may use:\n• summarize\n• 总结"
    assert EN.workflows_text([]) == "There is no workflow you may use; ask an admin."


def test_long_texts_are_clipped() -> None:
    """Nothing exceeds what one chat message can hold."""
    columns = tuple("c" * 400 + str(i) for i in range(20))
    text = EN.check_summary("d.xlsx", ["s"], _sheet(extra_columns=columns), max_listed=20)
    assert len(text) <= 3500
    assert text.endswith("…")


def test_a_locale_is_one_catalogue(monkeypatch: pytest.MonkeyPatch) -> None:
    """A translation overrides templates only; unknown locales fall back to English."""

    class German(EnglishWording):
        locale = "de"
        no_batch = "Kein Auftrag {id}."

    monkeypatch.setitem(catalogues(), "de", German)
    de = messages_for("de-AT")
    assert de.error_text(NotFound("x"), batch_id="7f3a2c") == "Kein Auftrag 7f3a2c."
    assert de.progress_text(BATCH, HALF, now=NOW) == EN.progress_text(BATCH, HALF, now=NOW)
    assert type(messages_for("xx")) is Messages
