"""A `dify-batch run` killed with SIGKILL, or paused with Ctrl-C, finishes with `resume`:
every row once in the results, and no row whose result was committed runs again."""

from __future__ import annotations

import asyncio
import re
import signal

from engine.models import RowStatus
from storage import SqlStore
from tests.bot.cli.conftest import Cli
from tests.bot.cli.test_cli_run import results

ROWS = 30


async def _start_run(cli: Cli) -> tuple[asyncio.subprocess.Process, str]:
    cli.dify.latency_s = 0.25
    sheet = cli.workdir / "big.csv"
    sheet.write_text("Text\n" + "\n".join(f"row {i}" for i in range(ROWS)) + "\n", encoding="utf-8")
    proc = await cli.start("run", str(sheet), "--workflow", "summarize")
    assert proc.stderr is not None
    batch_id = ""
    while not batch_id:
        line = (await asyncio.wait_for(proc.stderr.readline(), 30)).decode()
        assert line, "the run ended before it named its batch"
        if found := re.search(r"Batch ([0-9a-f]{6}):", line):
            batch_id = found.group(1)
    return proc, batch_id


async def _wait_succeeded(cli: Cli, count: int) -> None:
    async def enough() -> None:
        while sum(cli.dify.counters.succeeded_by_key.values()) < count:
            await asyncio.sleep(0.02)

    await asyncio.wait_for(enough(), 30)


async def test_sigkill_mid_batch_then_resume_runs_no_committed_row_twice(cli: Cli) -> None:
    proc, batch_id = await _start_run(cli)
    await _wait_succeeded(cli, 10)
    proc.kill()
    await proc.wait()

    store = await SqlStore.open(f"sqlite+aiosqlite:///{cli.workdir / 'cli.db'}")
    try:
        committed = {r.inputs["text"] for r in await store.rows(batch_id, statuses=[RowStatus.SUCCEEDED])}
        left = await store.rows(batch_id, statuses=[RowStatus.PENDING, RowStatus.RUNNING])
    finally:
        await store.close()
    assert committed and left, "the kill should land mid-batch"

    code, out, err = await cli.run("resume", batch_id)
    assert code == 0, err
    got = results(cli.workdir / "big-results.xlsx")
    assert out.strip().endswith("big-results.xlsx")
    assert sorted(str(r["Text"]) for r in got) == sorted(f"row {i}" for i in range(ROWS))
    assert {r["status"] for r in got} == {"succeeded"}
    for text in committed:
        assert cli.dify.counters.runs_by_key[text] == 1, f"{text} ran again after its commit"


async def test_ctrl_c_pauses_and_says_how_to_resume(cli: Cli) -> None:
    proc, batch_id = await _start_run(cli)
    await _wait_succeeded(cli, 4)
    proc.send_signal(signal.SIGINT)
    _, err_rest = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 130
    assert f"dify-batch resume {batch_id}" in err_rest.decode()
    assert "Traceback" not in err_rest.decode()

    code, status, _ = await cli.run("status", batch_id)
    assert code == 0 and "paused" in status

    code, _, err = await cli.run("resume", batch_id)
    assert code == 0, err
    got = results(cli.workdir / "big-results.xlsx")
    assert len(got) == ROWS and {r["status"] for r in got} == {"succeeded"}
    assert max(cli.dify.counters.runs_by_key.values()) == 1
