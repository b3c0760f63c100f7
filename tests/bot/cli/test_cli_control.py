"""Parity with chat on the command line: retry, cancel, pause, resume keeping its
concurrency and running only its own batch, SIGTERM like Ctrl-C, the marked-up problems
workbook (issue 11.3, issue 10.2, issue 10.4)."""

from __future__ import annotations

import asyncio
import re
import signal

from openpyxl import load_workbook

from tests.bot.cli.conftest import Cli, write_config
from tests.bot.cli.test_cli_run import results
from tests.fakes.dify_script import Plan, failed_run


async def _started(cli: Cli, name: str, rows: int, *extra: str) -> tuple[asyncio.subprocess.Process, str]:
    sheet = cli.workdir / f"{name}.csv"
    sheet.write_text("Text\n" + "\n".join(f"{name} {i}" for i in range(rows)) + "\n", encoding="utf-8")
    proc = await cli.start("run", str(sheet), "--workflow", "summarize", *extra)
    assert proc.stderr is not None
    while True:
        line = (await asyncio.wait_for(proc.stderr.readline(), 30)).decode()
        assert line, "the run ended before it named its batch"
        if found := re.search(r"Batch ([0-9a-f]{6}):", line):
            return proc, found.group(1)


async def _until(predicate: object, timeout: float = 30) -> None:
    async def poll() -> None:
        while not predicate():  # type: ignore[operator]
            await asyncio.sleep(0.02)

    await asyncio.wait_for(poll(), timeout)


def _ran(cli: Cli, prefix: str) -> int:
    return sum(n for k, n in cli.dify.counters.runs_by_key.items() if k.startswith(prefix))


async def test_retry_runs_only_the_failed_rows(cli: Cli) -> None:
    cli.dify.script = {"bad": [Plan(fault=failed_run("Node LLM failed")), Plan()]}
    sheet = cli.workdir / "in.csv"
    sheet.write_text("Text\ngood\nbad\nfine\n", encoding="utf-8")
    code, _, err = await cli.run("run", str(sheet), "--workflow", "summarize")
    assert code == 1, err
    batch_id = re.search(r"Batch ([0-9a-f]{6}):", err).group(1)  # type: ignore[union-attr]
    code, _out, err = await cli.run("retry", batch_id)
    assert code == 0, err
    assert "Retrying 1 failed row(s)" in err
    assert cli.dify.counters.runs_by_key == {"good": 1, "bad": 2, "fine": 1}
    assert {r["status"] for r in results(cli.workdir / "in-results.xlsx")} == {"succeeded"}
    code, _, err = await cli.run("retry", batch_id)
    assert code == 2 and "no failed rows" in err


async def test_pause_and_cancel_a_batch_another_process_runs(cli: Cli) -> None:
    cli.dify.latency_s = 0.3
    proc, batch_id = await _started(cli, "long", 200)
    await _until(lambda: _ran(cli, "long") >= 4)
    code, out, err = await cli.run("pause", batch_id)
    assert code == 0, err
    assert f"dify-batch resume {batch_id}" in out
    _, err_b = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 130 and f"dify-batch resume {batch_id}" in err_b.decode()
    ran = _ran(cli, "long")
    assert ran < 200
    code, out, err = await cli.run("cancel", batch_id)
    assert code == 0, err
    assert f"dify-batch result {batch_id}" in out and "cancelled" in out
    code, status, _ = await cli.run("status", batch_id)
    assert "cancelled" in status
    assert _ran(cli, "long") == ran


async def test_resume_runs_only_its_batch_and_keeps_its_concurrency(cli: Cli) -> None:
    write_config(cli.config, cli.dify, concurrency=6)
    cli.dify.latency_s = 0.3
    # "one" resumes for longer than the 5 s between two looks for running batches, so a
    # resume that served others would be seen running "two"
    first, first_id = await _started(cli, "one", 80, "--concurrency", "2")
    second, second_id = await _started(cli, "two", 200)
    await _until(lambda: _ran(cli, "one") >= 3 and _ran(cli, "two") >= 6)
    first.kill()
    second.kill()
    await first.wait()
    await second.wait()
    two_before = _ran(cli, "two")

    cli.dify.counters.peak_in_flight = 0
    code, _out, err = await cli.run("resume", first_id)
    assert code == 0, err
    assert cli.dify.counters.peak_in_flight <= 2
    assert len(results(cli.workdir / "one-results.xlsx")) == 80
    assert _ran(cli, "two") == two_before, "resume ran another batch"
    assert not (cli.workdir / "two-results.xlsx").exists()
    code, status, _ = await cli.run("status", second_id)
    assert "running" in status

    cli.dify.counters.peak_in_flight = 0
    cli.dify.latency_s = 0.05
    code, _, err = await cli.run("resume", second_id, "--concurrency", "3")
    assert code == 0, err
    assert 1 <= cli.dify.counters.peak_in_flight <= 3
    assert len(results(cli.workdir / "two-results.xlsx")) == 200


async def test_sigterm_pauses_like_ctrl_c_and_the_grace_period_bounds_the_wait(cli: Cli) -> None:
    text = cli.config.read_text(encoding="utf-8").replace("[daemon]\n", "[daemon]\nshutdown_grace_s = 1\n")
    cli.config.write_text(text, encoding="utf-8")
    cli.dify.latency_s = 0.2
    proc, batch_id = await _started(cli, "term", 30)
    await _until(lambda: _ran(cli, "term") >= 4)
    proc.send_signal(signal.SIGTERM)
    _, err_b = await asyncio.wait_for(proc.communicate(), 30)
    err = err_b.decode()
    assert proc.returncode == 143, err
    assert f"dify-batch resume {batch_id}" in err and "Traceback" not in err
    code, status, _ = await cli.run("status", batch_id)
    assert "paused" in status

    cli.dify.latency_s = 12.0  # rows far slower than the 1 s grace period
    proc = await cli.start("resume", batch_id)
    await _until(lambda: cli.dify.counters.in_flight >= 1)
    proc.send_signal(signal.SIGTERM)
    _, err_b = await asyncio.wait_for(proc.communicate(), 10)  # well before the 12 s rows end
    assert proc.returncode == 143
    assert f"dify-batch resume {batch_id}" in err_b.decode()

    cli.dify.latency_s = 0.01
    code, _, err = await cli.run("resume", batch_id)
    assert code == 0, err
    assert len(results(cli.workdir / "term-results.xlsx")) == 30


async def test_bad_rows_give_a_problems_workbook_and_the_count_of_the_rest(cli: Cli) -> None:
    sheet = cli.workdir / "in.csv"
    sheet.write_text("Text\n" + "\n".join("x" * 300 for _ in range(25)) + "\n", encoding="utf-8")
    code, out, err = await cli.run("run", str(sheet), "--workflow", "summarize")
    assert code == 2 and out == ""
    marked = cli.workdir / "in-problems.xlsx"
    assert str(marked) in err
    assert "and 5 more problems" in err
    book = load_workbook(marked)
    assert book["Problems"].max_row == 26
    assert cli.dify.counters.runs_by_key == {}


async def test_a_missing_column_names_the_template_command(cli: Cli) -> None:
    sheet = cli.workdir / "in.csv"
    sheet.write_text("Wrong\na\n", encoding="utf-8")
    code, _, err = await cli.run("run", str(sheet), "--workflow", "summarize")
    assert code == 2
    assert "dify-batch template summarize" in err and "Download" not in err
