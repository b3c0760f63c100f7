"""`dify-batch run SHEET --workflow A --workflow B`: a comparison as a person runs it, against
two FakeDify apps that answer some rows differently; and a comparison killed with SIGKILL
that `resume <comparison id>` finishes without running any committed row again."""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from openpyxl import load_workbook

from engine.models import RowStatus
from storage import SqlStore
from tests.bot.cli.conftest import API_KEY_ENV, Cli, write_config
from tests.fakes.dify import FakeDify
from tests.fakes.dify_script import JsonDict, Plan, failed_run

ROWS = 12


def _second_version(inputs: JsonDict, query: str | None) -> JsonDict:
    """v2 rewrites every third row's result and keeps the length."""
    text = str(inputs.get("text", ""))
    number = int(text.rsplit(" ", 1)[-1])
    result = f"{text} ✓" if number % 3 else f"{text} (shorter)"
    return {"result": result, "length": len(text)}


@pytest.fixture
async def second() -> AsyncIterator[FakeDify]:
    async with FakeDify.running(latency_s=0.02, output_fn=_second_version) as fake:
        yield fake


@pytest.fixture
def pair(tmp_path: Path, dify: FakeDify, second: FakeDify) -> Cli:
    config = tmp_path / "config.toml"
    second.api_key = dify.api_key  # one key variable for both apps
    write_config(config, dify, extra=[
        "[workflows.summarize-v2]",
        f'base_url = "{second.base_url}"',
        f'api_key_env = "{API_KEY_ENV}"',
        "concurrency = 2",
        "timeout_s = 20",
        "backoff_base_s = 0.05",
        "backoff_max_s = 0.2",
    ])
    return Cli(tmp_path, config, dify)


def _sheet(cli: Cli, rows: int = ROWS) -> Path:
    sheet = cli.workdir / "items.csv"
    sheet.write_text("Text\n" + "\n".join(f"item {i}" for i in range(rows)) + "\n", encoding="utf-8")
    return sheet


def _read(path: Path) -> tuple[list[dict[str, object]], dict[str, list[object]]]:
    book = load_workbook(path)
    assert book.sheetnames == ["Results", "Compare"]
    rows = list(book["Results"].iter_rows(values_only=True))
    header = [str(h) for h in rows[0]]
    got = [dict(zip(header, row, strict=True)) for row in rows[1:]]
    compare = {str(r[0]): list(r[1:]) for r in book["Compare"].iter_rows(values_only=True) if r[0]}
    return got, compare


async def test_compare_writes_outputs_side_by_side_and_counts_the_rows_that_differ(
    pair: Cli, second: FakeDify
) -> None:
    second.script = {"item 5": Plan(fault=failed_run("Node LLM failed"))}
    sheet = _sheet(pair)
    both = ("--workflow", "summarize", "--workflow", "summarize-v2")
    code, out, err = await pair.run("run", str(sheet), *both)
    assert code == 1, err  # a row failed on v2
    output = pair.workdir / "items-compare.xlsx"
    assert out.strip() == str(output)
    found = re.search(r"Comparison (c[0-9a-f]{6}): 12 rows on summarize, summarize-v2", err)
    assert found, err
    assert "summarize: 12 ok, 0 failed of 12 rows (100%)" in err
    assert "summarize-v2: 11 ok, 1 failed of 12 rows (92%)" in err
    assert "result: 5 of 12 rows differ" in err  # items 0, 3, 6, 9 rewritten, 5 failed

    got, compare = _read(output)
    assert [r["Text"] for r in got] == [f"item {i}" for i in range(ROWS)]
    by_text = {r["Text"]: r for r in got}
    assert by_text["item 3"]["result [summarize]"] == "item 3 ✓"
    assert by_text["item 3"]["result [summarize-v2]"] == "item 3 (shorter)"
    assert by_text["item 3"]["differs"] == "result"
    assert by_text["item 4"]["differs"] is None
    assert by_text["item 5"]["status [summarize-v2]"] == "failed"
    assert by_text["item 5"]["error [summarize-v2]"] == "Node LLM failed"
    assert by_text["item 5"]["differs"] == "result, length"
    assert compare["workflow"] == ["summarize", "summarize-v2"]
    assert compare["comparison"] == [found.group(1)] * 2
    assert compare["success rate (%)"] == [100, 91.7]
    assert compare["result"] == [5, 12]
    assert compare["length"] == [1, 12]
    assert pair.dify.counters.runs_by_key == {f"item {i}": 1 for i in range(ROWS)}
    assert second.counters.runs_by_key == {f"item {i}": 1 for i in range(ROWS)}

    code, status, _ = await pair.run("status", found.group(1))
    assert code == 0 and f"Comparison {found.group(1)}" in status
    assert status.count("completed") == 2 and "summarize-v2" in status
    assert status.count(f"comparison  {found.group(1)}") == 2
    # the list of recent batches names the comparison each batch is one workflow of
    code, listing, _ = await pair.run("status")
    head, *lines = listing.splitlines()
    assert code == 0 and head.split()[-1] == "COMPARISON" and len(lines) == 2, listing
    assert all(line.split()[-1] == found.group(1) for line in lines), listing
    code, listing, _ = await pair.run("status", "--json")
    assert [b["comparison_id"] for b in json.loads(listing)] == [found.group(1)] * 2
    again = pair.workdir / "again.xlsx"
    code, out, err = await pair.run("result", found.group(1), "--output", str(again))
    assert code == 0, err
    assert _read(again)[1]["result"] == [5, 12]


async def test_compare_refuses_a_workflow_named_twice_and_a_csv_output(pair: Cli) -> None:
    sheet = _sheet(pair)
    code, out, err = await pair.run("run", str(sheet), "--workflow", "summarize", "--workflow", "summarize")
    assert code == 2 and out == "" and "named twice: summarize" in err
    code, _, err = await pair.run(
        "run", str(sheet), "--workflow", "summarize", "--workflow", "summarize-v2", "--output", "x.csv"
    )
    assert code == 2 and "a comparison is written as an .xlsx workbook" in err
    assert pair.dify.counters.runs_by_key == {}


async def test_a_broken_sheet_or_an_unknown_workflow_starts_no_comparison(
    pair: Cli, second: FakeDify
) -> None:
    sheet = pair.workdir / "items.csv"
    sheet.write_text("Text\nfine\n" + "x" * 300 + "\n", encoding="utf-8")
    both = ("--workflow", "summarize", "--workflow", "summarize-v2")
    code, out, err = await pair.run("run", str(sheet), *both)
    assert code == 2 and out == "", err
    assert "row 3, column 'Text': too long" in err
    assert (pair.workdir / "items-problems.xlsx").exists()  # the same marked-up copy as run's
    code, _, err = await pair.run("run", str(_sheet(pair)), "--workflow", "summarize", "--workflow", "nope")
    assert code == 2 and "nope" in err and "Traceback" not in err
    code, _, err = await pair.run("status", "c000000")
    assert code != 0 and "c000000" in err and "Traceback" not in err
    assert not (pair.workdir / "items-compare.xlsx").exists()
    assert pair.dify.counters.runs_by_key == {} and second.counters.runs_by_key == {}
    with sqlite3.connect(pair.workdir / "cli.db") as db:
        assert db.execute("select count(*) from batch").fetchone() == (0,)


async def test_sigkill_mid_comparison_then_resume_finishes_both_without_running_a_row_twice(
    pair: Cli, second: FakeDify
) -> None:
    rows = 30
    pair.dify.latency_s = second.latency_s = 0.25
    sheet = _sheet(pair, rows)
    proc = await pair.start("run", str(sheet), "--workflow", "summarize", "--workflow", "summarize-v2")
    assert proc.stderr is not None
    comparison_id = ""
    while not comparison_id:
        line = (await asyncio.wait_for(proc.stderr.readline(), 30)).decode()
        assert line, "the run ended before it named its comparison"
        if found := re.search(r"Comparison (c[0-9a-f]{6}):", line):
            comparison_id = found.group(1)

    async def some_done() -> None:
        while (sum(pair.dify.counters.succeeded_by_key.values()) < 6
               or sum(second.counters.succeeded_by_key.values()) < 4):
            await asyncio.sleep(0.02)

    await asyncio.wait_for(some_done(), 30)
    proc.kill()
    await proc.wait()

    store = await SqlStore.open(f"sqlite+aiosqlite:///{pair.workdir / 'cli.db'}")
    try:
        batches = await store.comparison_batches(comparison_id)
        committed = {
            b.workflow: {r.inputs["text"] for r in await store.rows(b.id, statuses=[RowStatus.SUCCEEDED])}
            for b in batches
        }
        unfinished = [RowStatus.PENDING, RowStatus.RUNNING]
        left = [r for b in batches for r in await store.rows(b.id, statuses=unfinished)]
    finally:
        await store.close()
    assert [b.workflow for b in batches] == ["summarize", "summarize-v2"]
    assert all(committed.values()) and left, "the kill should land mid-comparison"

    pair.dify.latency_s = second.latency_s = 0.01
    code, out, err = await pair.run("resume", comparison_id)
    assert code == 0, err
    assert out.strip() == str(pair.workdir / "items-compare.xlsx")
    got, compare = _read(pair.workdir / "items-compare.xlsx")
    assert sorted(str(r["Text"]) for r in got) == sorted(f"item {i}" for i in range(rows))
    assert {r["status [summarize]"] for r in got} == {"succeeded"}
    assert {r["status [summarize-v2]"] for r in got} == {"succeeded"}
    assert compare["result"] == [10, rows]  # every third row differs
    for fake, workflow in ((pair.dify, "summarize"), (second, "summarize-v2")):
        for text in committed[workflow]:
            assert fake.counters.runs_by_key[text] == 1, f"{text} ran again on {workflow} after its commit"
        assert set(fake.counters.succeeded_by_key) == {f"item {i}" for i in range(rows)}


async def _started_comparison(pair: Cli, rows: int) -> tuple[asyncio.subprocess.Process, str]:
    proc = await pair.start("run", str(_sheet(pair, rows)), "--workflow", "summarize", "--workflow",
                            "summarize-v2")
    assert proc.stderr is not None
    while True:
        line = (await asyncio.wait_for(proc.stderr.readline(), 30)).decode()
        assert line, "the run ended before it named its comparison"
        if found := re.search(r"Comparison (c[0-9a-f]{6}):", line):
            return proc, found.group(1)


async def test_pause_then_cancel_a_comparison_another_process_runs(pair: Cli, second: FakeDify) -> None:
    pair.dify.latency_s = second.latency_s = 0.3
    proc, comparison_id = await _started_comparison(pair, 100)

    async def both_going() -> None:
        while not (pair.dify.counters.succeeded_by_key and second.counters.succeeded_by_key):
            await asyncio.sleep(0.02)

    await asyncio.wait_for(both_going(), 30)
    code, out, err = await pair.run("pause", comparison_id)
    assert code == 0, err
    assert f"Paused comparison {comparison_id} (summarize " in out and ", summarize-v2 " in out
    assert f"dify-batch resume {comparison_id}" in out
    _, err_b = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 130 and f"dify-batch resume {comparison_id}" in err_b.decode()
    code, status, _ = await pair.run("status", comparison_id)
    assert status.count("paused") == 2, status
    ran = [sum(f.counters.runs_by_key.values()) for f in (pair.dify, second)]

    code, out, err = await pair.run("cancel", comparison_id)
    assert code == 0, err
    assert f"Cancelled comparison {comparison_id}" in out
    assert re.search(r"summarize \(batch [0-9a-f]{6}\): \d+ ok, 0 failed, \d+ cancelled of 100 rows", out)
    assert re.search(r"summarize-v2 \(batch [0-9a-f]{6}\): \d+ ok, 0 failed, \d+ cancelled of 100 rows", out)
    code, status, _ = await pair.run("status", comparison_id)
    assert status.count("cancelled") >= 2 and "paused" not in status, status
    assert [sum(f.counters.runs_by_key.values()) for f in (pair.dify, second)] == ran


async def test_retry_of_a_comparison_runs_the_failed_rows_and_writes_the_workbook_again(
    pair: Cli, second: FakeDify
) -> None:
    second.script = {"item 5": [Plan(fault=failed_run("Node LLM failed")), Plan()]}
    sheet = _sheet(pair)
    code, _, err = await pair.run("run", str(sheet), "--workflow", "summarize", "--workflow", "summarize-v2")
    assert code == 1, err
    comparison_id = re.search(r"Comparison (c[0-9a-f]{6}):", err).group(1)  # type: ignore[union-attr]
    output = pair.workdir / "items-compare.xlsx"
    assert _read(output)[1]["failed"] == [0, 1]

    code, out, err = await pair.run("retry", comparison_id)
    assert code == 0, err
    assert f"Retrying 1 failed row(s) of comparison {comparison_id}" in err
    assert out.strip() == str(output)
    got, compare = _read(output)
    assert {r["status [summarize-v2]"] for r in got} == {"succeeded"}
    assert compare["failed"] == [0, 0]
    assert second.counters.runs_by_key["item 5"] == 2
    assert pair.dify.counters.runs_by_key == {f"item {i}": 1 for i in range(ROWS)}
    code, _, err = await pair.run("retry", comparison_id)
    assert code == 2 and "no failed rows" in err


async def test_resume_says_so_when_a_crash_cut_the_comparison_short_between_its_batches(
    pair: Cli, second: FakeDify
) -> None:
    code, _, err = await pair.run("run", str(_sheet(pair, 3)), "--workflow", "summarize", "--workflow",
                                  "summarize-v2")
    assert code == 0, err
    comparison_id = re.search(r"Comparison (c[0-9a-f]{6}):", err).group(1)  # type: ignore[union-attr]
    first = re.search(r"summarize: batch ([0-9a-f]{6})", err).group(1)  # type: ignore[union-attr]
    # what a crash after the first batch leaves: the second workflow's batch was never created
    with sqlite3.connect(pair.workdir / "cli.db") as db:
        db.execute("UPDATE batch SET comparison_id = NULL WHERE workflow = 'summarize-v2'")
    runs = (dict(pair.dify.counters.runs_by_key), dict(second.counters.runs_by_key))

    code, out, err = await pair.run("resume", comparison_id)
    assert code == 2 and out == "", err
    assert f"comparison {comparison_id} has no batch on summarize-v2: it was cut short" in err
    assert "dify-batch run <sheet> --workflow summarize --workflow summarize-v2" in err
    assert f"dify-batch resume {first}" in err
    # ... and a crash before the first batch even recorded which workflows it compares
    with sqlite3.connect(pair.workdir / "cli.db") as db:
        db.execute("DELETE FROM batch_event WHERE kind = 'comparison_of'")
    code, _, err = await pair.run("resume", comparison_id)
    assert code == 2 and f"comparison {comparison_id} has no batch on its other workflow" in err
    assert "--workflow summarize --workflow …" in err
    assert (pair.dify.counters.runs_by_key, second.counters.runs_by_key) == runs
