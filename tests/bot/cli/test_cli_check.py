"""`dify-batch check` and the estimate, as a person meets them (a real process, FakeDify)."""

from __future__ import annotations

import re

from openpyxl import load_workbook

from tests.bot.cli.conftest import Cli
from tests.fakes.dify_script import Plan, failed_run


def run_calls(cli: Cli) -> int:
    return sum(n for name, n in cli.dify.counters.calls.items() if name.startswith("POST"))


async def test_check_a_good_sheet_counts_rows_and_sends_no_run(cli: Cli) -> None:
    sheet = cli.workdir / "in.csv"
    sheet.write_text("Text,Note\na,x\n\nb,y\nc,z\n", encoding="utf-8")
    code, out, err = await cli.run("check", str(sheet), "--workflow", "summarize")
    assert code == 0, err
    ready = "in.csv: 3 rows ready for summarize; 1 blank rows skipped; extra columns carried through: Note."
    assert ready in out
    assert "≈ 3 rows at 3 in flight · no earlier batches of summarize to estimate time and tokens from" in out
    assert run_calls(cli) == 0 and cli.dify.runs == {}


async def test_check_a_bad_sheet_says_what_run_says_and_marks_the_cells(cli: Cli) -> None:
    sheet = cli.workdir / "in.csv"
    sheet.write_text("Text\nfine\n" + "x" * 300 + "\n", encoding="utf-8")
    code, out, err = await cli.run("check", str(sheet), "--workflow", "summarize")
    assert code == 2 and out == ""
    run_code, _, run_err = await cli.run("run", str(sheet), "--workflow", "summarize")
    assert run_code == 2
    refusal = [line for line in run_err.splitlines() if line.startswith(("dify-batch:", "  - "))]
    assert refusal and all(line in err.splitlines() for line in refusal)
    assert "row 3" in err and "256" in err
    marked = cli.workdir / "in-problems.xlsx"
    assert f"The bad cells are marked in {marked}" in err
    book = load_workbook(marked)
    assert book["Problems"].cell(2, 2).value == 3
    assert book.worksheets[0].cell(3, 1).comment is not None
    assert run_calls(cli) == 0


async def test_check_a_sheet_without_data_rows_exits_2(cli: Cli) -> None:
    sheet = cli.workdir / "in.csv"
    sheet.write_text("Text\n", encoding="utf-8")
    code, _, err = await cli.run("check", str(sheet), "--workflow", "summarize")
    assert code == 2 and "in.csv has no data rows" in err


async def test_the_estimate_learns_from_earlier_batches(cli: Cli) -> None:
    # 4 rows of 4 letters: each answer "abcd ✓" costs the fake 16 tokens; one row fails
    cli.dify.script = {"bad!": Plan(fault=failed_run("Node LLM failed"))}
    first = cli.workdir / "first.csv"
    first.write_text("Text\nabcd\nefgh\nijkl\nbad!\n", encoding="utf-8")
    code, _, err = await cli.run("run", str(first), "--workflow", "summarize")
    assert code == 1, err
    big = cli.workdir / "big.csv"
    big.write_text("Text\n" + "".join(f"row{i:04d}\n" for i in range(1240)), encoding="utf-8")
    code, out, err = await cli.run("check", str(big), "--workflow", "summarize")
    assert code == 0, err
    # 1,240 rows × 75 % expected to succeed × 16 tokens = 14,880
    line = re.search(r"≈ 1,240 rows · ~[\d.]+ (s|min|h) at 4 in flight · ~15k tokens · ~25% failed "
                     r"before \(from 1 earlier batch\)", out)
    assert line is not None, out
    assert run_calls(cli) == 4  # the first run's only


async def test_run_shows_the_estimate_before_it_starts(cli: Cli) -> None:
    sheet = cli.workdir / "in.csv"
    sheet.write_text("Text\na\nb\n", encoding="utf-8")
    code, _, err = await cli.run("run", str(sheet), "--workflow", "summarize")
    assert code == 0, err
    code, _, err = await cli.run("run", str(sheet), "--workflow", "summarize")
    assert code == 0, err
    lines = err.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("≈ 2 rows"))
    assert "(from 1 earlier batch)" in lines[at]
    # the batch line first (scripts read the id from it), the estimate right after, before any row
    assert lines[at - 1].startswith("Batch ")
    assert not any(line.startswith(("succeeded", "completed")) for line in lines[:at])
