"""Many people at once (issue 13, point 5): 50 people each send a 1,000-row sheet to the
daemon at the same moment, all on one workflow.

    python -m tests.bench.many_batches [--people 50] [--rows 1000] [--concurrency 32] [--latency 0.02]

The daemon runs as its own process (``dify-batch serve``), FakeDify as another, and
FakeTelegram in this one, so the chat side's clock is not slowed by Dify's traffic.
Measured: when each batch got its first and its last row done (from what FakeDify ran),
the longest any running batch went without a row done, when each person received the
results, how long ``/status`` took to answer (one person asks every half second
throughout), and the daemon's log lines that report SQLite busy errors ("database is
locked"). Prints JSON; figures, not assertions.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

from engine.sheets.ooxml import SheetPart, WorkbookWriter, column_letter, value_cell
from tests.fakes.telegram import FakeTelegram
from tests.fakes.telegram_model import FakeMessage, FakeUser

TOKEN = "7012345678:AAHfakeTokenForBenchOnly_abcdefghijkl"
BUSY = ("database is locked", "database is busy", "SQLITE_BUSY")


def _sheet(person: int, rows: int) -> bytes:
    buffer = io.BytesIO()
    book = WorkbookWriter(buffer)
    sheet = book.add_sheet(SheetPart("Sheet1", ()))
    sheet.add_row(value_cell("A1", "Text"))
    for i in range(rows):
        n = sheet.next_row
        sheet.add_row(value_cell(f"{column_letter(0)}{n}", f"p{person}-row {i}"))
    book.close()
    return buffer.getvalue()


def _config(tmp: Path, dify_url: str, tg: FakeTelegram, concurrency: int) -> Path:
    path = tmp / "config.toml"
    path.write_text(
        "\n".join([
            "[daemon]",
            f'database_url = "sqlite+aiosqlite:///{tmp / "bot.db"}"',
            f'data_dir = "{tmp / "data"}"',
            "http_port = 0",
            "[limits]",
            "progress_interval_s = 2.0",
            "[telegram]",
            "enabled = true",
            'token_env = "BENCH_TG_TOKEN"',
            f'api_base = "{tg.base_url}"',
            "[workflows.summarize]",
            f'base_url = "{dify_url}"',
            'api_key_env = "BENCH_DIFY_KEY"',
            f"concurrency = {concurrency}",
            "timeout_s = 60",
            'allow = ["telegram:*"]',
        ]),
        encoding="utf-8",
    )
    return path


async def _status_probe(
    tg: FakeTelegram, user: FakeUser, stop: asyncio.Event, out: list[float], slow_at: list[float], t0: float
) -> None:
    """Ask /status every half second; record how long each answer took (10 s = no answer)."""
    while not stop.is_set():
        asked_at = time.monotonic()
        asked = tg.send_text(user, "/status")

        def answer(asked: FakeMessage = asked) -> FakeMessage | None:
            return next((m for m in tg.bot_messages(user.id) if m.reply_to is asked), None)

        try:
            await tg.wait_for(answer, timeout=10)
            out.append(time.monotonic() - asked_at)
        except (TimeoutError, AssertionError):  # the fake says "not met" with an AssertionError
            out.append(10.0)
        if out[-1] >= 1.0:
            slow_at.append(round(asked_at - t0, 1))
        await asyncio.sleep(0.5)


async def _main(args: argparse.Namespace) -> dict[str, Any]:
    repo = Path(__file__).resolve().parents[2]
    fake = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.fakes.dify", "--port", "0", "--latency", str(args.latency),
        cwd=repo, stdout=asyncio.subprocess.PIPE,
    )
    assert fake.stdout is not None
    dify = json.loads(await fake.stdout.readline())
    try:
        async with FakeTelegram.running(TOKEN) as tg, aiohttp.ClientSession() as http:
            with tempfile.TemporaryDirectory() as tmp_name:
                tmp = Path(tmp_name)
                config = _config(tmp, dify["base_url"], tg, args.concurrency)
                env = {k: v for k, v in os.environ.items() if not k.startswith(("DIFY_", "BENCH_"))}
                env.update(BENCH_TG_TOKEN=TOKEN, BENCH_DIFY_KEY=dify["api_key"], PYTHONUNBUFFERED="1",
                           LC_ALL="C.UTF-8")
                log = (tmp / "daemon.log").open("wb")
                daemon = await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "bot", "serve", "--config", str(config), env=env, cwd=tmp,
                    stdout=log, stderr=log,
                )
                stats = _Stats(http, dify["base_url"].removesuffix("/v1") + "/_fake/stats")
                try:
                    return await _measure(args, stats, tg, tmp)
                finally:
                    if daemon.returncode is None:
                        daemon.terminate()
                    await daemon.wait()
                    log.close()
    finally:
        fake.terminate()
        await fake.wait()


class _Stats:
    """FakeDify's counters, read over HTTP: rows done per person."""

    def __init__(self, http: aiohttp.ClientSession, url: str) -> None:
        self.http = http
        self.url = url

    async def done_by_person(self) -> dict[int, int]:
        async with self.http.get(self.url) as response:
            counters = await response.json()
        done: dict[int, int] = {}
        for key in counters["succeeded_by_key"]:
            person = int(key[1:].split("-", 1)[0])
            done[person] = done.get(person, 0) + 1
        return done


async def _measure(args: argparse.Namespace, stats: _Stats, tg: FakeTelegram, tmp: Path) -> dict[str, Any]:
    people = [tg.user(f"P{n}", id=10_000 + n) for n in range(args.people)]
    sheets = [_sheet(n, args.rows) for n in range(args.people)]
    prober = tg.user("Probe", id=9_999)
    await tg.wait_for(lambda: tg.calls("deleteWebhook") or None, timeout=90)  # about to poll
    await asyncio.sleep(1.0)
    started = time.monotonic()
    for n, person in enumerate(people):  # everyone at once
        tg.upload_document(person, sheets[n], f"people-{n}.xlsx", caption="/run summarize")
    stop = asyncio.Event()
    waits: list[float] = []
    slow_at: list[float] = []
    probe = asyncio.create_task(_status_probe(tg, prober, stop, waits, slow_at, started))
    first: dict[int, float] = {}
    last: dict[int, float] = {}
    results: dict[int, float] = {}
    progressed: dict[int, float] = {}  # when each batch last got a row done
    longest_stall = 0.0  # the longest any started, unfinished batch went without a row done
    before: dict[int, int] = {}
    deadline = started + args.timeout
    while len(results) < args.people and time.monotonic() < deadline:
        await asyncio.sleep(1.0)
        now = time.monotonic() - started
        done = await stats.done_by_person()
        for n in range(args.people):
            if done.get(n) and n not in first:
                first[n] = now
            if done.get(n) == args.rows and n not in last:
                last[n] = now
            if n not in results and any(m.document is not None for m in tg.bot_messages(people[n].id)):
                results[n] = now
        for n in range(args.people):
            if done.get(n, 0) > before.get(n, 0):
                progressed[n] = now
            elif n in progressed and n not in last:
                longest_stall = max(longest_stall, now - progressed[n])
        before = done
    stop.set()
    await probe
    text = (tmp / "daemon.log").read_text(errors="replace")
    finish = sorted(last.values())
    return {
        "people": args.people,
        "rows_each": args.rows,
        "concurrency": args.concurrency,
        "dify_latency_s": args.latency,
        "batches_completed": len(last),
        "results_received": len(results),
        "results_received_s": {
            "first": round(min(results.values()), 2) if results else None,
            "last": round(max(results.values()), 2) if results else None,
        },
        "all_batches_started_by_s": round(max(first.values()), 2) if first else None,
        "longest_stall_of_a_batch_s": round(longest_stall, 2),
        "completion_s": {
            "first": round(finish[0], 2) if finish else None,
            "median": round(statistics.median(finish), 2) if finish else None,
            "last": round(finish[-1], 2) if finish else None,
            "spread": round(finish[-1] - finish[0], 2) if finish else None,
            "spread_share_of_last": round((finish[-1] - finish[0]) / finish[-1], 3) if finish else None,
        },
        "status_answer_s": {
            "asked": len(waits),
            "median": round(statistics.median(waits), 3) if waits else None,
            "max": round(max(waits), 3) if waits else None,
            "over_1s": sum(1 for w in waits if w >= 1.0),
            "over_1s_asked_at_s": slow_at[:40],
        },
        "sqlite_busy_errors": sum(text.count(marker) for marker in BUSY),
        "daemon_errors_logged": text.count("Traceback"),
        "load_average_1m": round(os.getloadavg()[0], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.many_batches", description=__doc__)
    parser.add_argument("--people", type=int, default=50)
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--latency", type=float, default=0.02)
    parser.add_argument("--timeout", type=float, default=900.0)
    print(json.dumps(asyncio.run(_main(parser.parse_args())), indent=2))


if __name__ == "__main__":
    main()
