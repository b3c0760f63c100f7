"""The CLI's progress line on a known clock: while Dify is unreachable it says what, since
when and the next try, and the change is drawn at once even off a terminal."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from bot.chat.text.catalogues.zh_cn import ChineseWording
from bot.cli.output.terminal import TerminalProgress, progress_line
from engine.models import Batch, BatchStatus, Progress

NOW = datetime(2026, 12, 4, 14, 5, 10, tzinfo=UTC)
BATCH = Batch("7f3a2c", "summarize", "cli:ann", BatchStatus.RUNNING, 100, NOW, started_at=NOW)
HALF = Progress(total=100, succeeded=50, pending=50)


def test_the_line_says_dify_is_unreachable_since_when_and_the_next_try() -> None:
    since = NOW - timedelta(seconds=190)
    trouble = replace(HALF, unreachable_since=since, next_try_at=NOW + timedelta(seconds=20),
                      trouble="connection refused by dify.local:443")
    line = progress_line(BATCH, trouble, NOW)
    local = since.astimezone().strftime("%H:%M:%S")
    assert line.endswith(
        f"50/100 ok 50 failed 0 | Dify unreachable since {local} (3m 10s): "
        "connection refused by dify.local:443 | next try in 20s"
    )
    assert "ETA" not in line


def test_the_outage_line_in_chinese_says_the_reason_in_chinese_too() -> None:
    since = NOW - timedelta(seconds=190)
    reasons = {
        "connection refused by dify.local:443": "dify.local:443 拒绝连接",
        "cannot resolve the host name dify.local": "无法解析主机名 dify.local",
        "cannot connect to dify.local:443 (Network is unreachable)":
            "无法连接 dify.local:443（Network is unreachable）",
        "ConnectTimeout: something new": "ConnectTimeout: something new",  # the network's own words
    }
    for trouble, said in reasons.items():
        down = replace(HALF, unreachable_since=since, next_try_at=NOW + timedelta(seconds=20),
                       trouble=f"Dify is unreachable: {trouble}")
        line = progress_line(BATCH, down, NOW, words=ChineseWording)
        local = since.astimezone().strftime("%H:%M:%S")
        assert line.endswith(
            f"50/100 成功 50 失败 0 | 自 {local} 起无法连接 Dify（已 3 分 10 秒）：{said} | 20 秒后重试"
        ), line


async def test_losing_and_finding_dify_is_drawn_at_once_off_a_terminal() -> None:
    out = io.StringIO()
    terminal = TerminalProgress(out)  # not a TTY: a line every 5 s at most, but for these
    await terminal.batch_changed(BATCH, HALF)
    lost = replace(HALF, unreachable_since=datetime.now(UTC), trouble="connection refused by x:1")
    await terminal.batch_changed(BATCH, lost)
    await terminal.batch_changed(BATCH, replace(HALF, succeeded=51, pending=49))
    lines = out.getvalue().splitlines()
    assert len(lines) == 3, lines
    assert "Dify unreachable since" in lines[1] and "connection refused by x:1" in lines[1]
    assert "unreachable" not in lines[2]
