"""`dify-batch run --sample N`: the first rows only, as a sample batch, outputs in the terminal."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tests.bot.cli.conftest import Cli
from tests.fakes.dify_script import JsonDict


async def test_a_sample_runs_the_first_rows_and_shows_their_outputs(cli: Cli) -> None:
    sheet = cli.workdir / "products.csv"
    sheet.write_text("Text\n" + "".join(f"item {i}\n" for i in range(10)), encoding="utf-8")
    code, out, err = await cli.run("run", str(sheet), "--workflow", "summarize", "--sample", "3")
    assert code == 0, err
    assert sorted(cli.dify.counters.runs_by_key) == ["item 0", "item 1", "item 2"]
    lines = out.splitlines()
    output = cli.workdir / "products-sample-results.xlsx"
    assert lines == [
        "row 2  ✓  result: item 0 ✓ · length: 6",
        "row 3  ✓  result: item 1 ✓ · length: 6",
        "row 4  ✓  result: item 2 ✓ · length: 6",
        str(output),
    ]
    assert "Sample batch" in err and "3 ok, 0 failed of 3 rows" in err
    book = load_workbook(output, read_only=True)
    assert len(list(book["Results"].iter_rows(values_only=True))) == 4
    book.close()
    assert not (cli.workdir / "products-results.xlsx").exists()
    with sqlite3.connect(cli.workdir / "cli.db") as db:
        assert db.execute("SELECT sample, total FROM batch").fetchall() == [(1, 3)]
    code, out, _ = await cli.run("status")
    assert code == 0 and "3/3" in out and out.rstrip().endswith("(sample)")


async def test_sample_outputs_are_cut_to_the_terminal(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    def long_outputs(inputs: JsonDict, query: str | None) -> JsonDict:
        return {"summary": "line one\nline two " + "word " * 40}

    cli.dify.output_fn = long_outputs
    monkeypatch.setenv("COLUMNS", "40")
    sheet = cli.workdir / "in.csv"
    sheet.write_text("Text\na\nb\n", encoding="utf-8")
    code, out, err = await cli.run("run", str(sheet), "--workflow", "summarize", "--sample", "5")
    assert code == 0, err
    shown = out.splitlines()[:-1]
    assert [line[:6] for line in shown] == ["row 2 ", "row 3 "]
    assert all(len(line) == 40 and line.endswith("…") for line in shown)
    assert shown[0] == "row 2  ✓  summary: line one line two wo…"
    assert Path(out.splitlines()[-1]).exists()


async def test_wide_characters_count_twice_when_fitting(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    cli.dify.output_fn = lambda inputs, query: {"摘要": "保温杯" * 20}
    monkeypatch.setenv("COLUMNS", "30")
    sheet = cli.workdir / "in.csv"
    sheet.write_text("Text\na\n", encoding="utf-8")
    code, out, err = await cli.run("run", str(sheet), "--workflow", "summarize", "--sample", "1")
    assert code == 0, err
    # "row 2  ✓  " is 10 columns, "摘要: " 6, then 6 wide characters (12 columns) and "…"
    assert out.splitlines()[0] == "row 2  ✓  摘要: 保温杯保温杯…"


async def test_a_sample_of_no_rows_is_refused(cli: Cli) -> None:
    sheet = cli.workdir / "in.csv"
    sheet.write_text("Text\na\n", encoding="utf-8")
    code, _, err = await cli.run("run", str(sheet), "--workflow", "summarize", "--sample", "0")
    assert code == 2 and "--sample must be 1 or more" in err
    assert cli.dify.runs == {}
