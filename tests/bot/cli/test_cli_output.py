"""``--output`` is checked before any row is sent, `.csv` is real CSV, and a results file
whose write failed stays owed until a later command writes it where the person asked
(issue 11.2, issue 10.3)."""

from __future__ import annotations

import asyncio
import csv
import re
import shutil

from tests.bot.cli.conftest import Cli, write_config
from tests.bot.cli.test_cli_run import results


def _sheet(cli: Cli, rows: list[str]) -> str:
    sheet = cli.workdir / "in.csv"
    sheet.write_text("Text\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return str(sheet)


async def test_a_bad_output_is_refused_before_any_row_is_sent(cli: Cli) -> None:
    sheet = _sheet(cli, ["a", "b"])
    (cli.workdir / "a-file").write_text("x", encoding="utf-8")
    (cli.workdir / "a-folder").mkdir()
    for output, says in (
        ("out.txt", ".xlsx or .csv"),
        ("a-file/out.xlsx", "is a file, not a folder"),
        ("a-folder", "is a folder"),
    ):
        code, out, err = await cli.run("run", sheet, "--workflow", "summarize", "--output", output)
        assert code == 2, err
        assert says in err and "Traceback" not in err and out == ""
    assert cli.dify.counters.runs_by_key == {}
    code, out, _ = await cli.run("status")
    assert code == 0 and "No batches yet." in out


async def test_csv_output_is_real_csv_and_never_a_formula(cli: Cli) -> None:
    sheet = _sheet(cli, ["plain", "=1+2", "-5"])
    code, out, err = await cli.run("run", sheet, "--workflow", "summarize", "--output", "res/out.csv")
    assert code == 0, err
    target = cli.workdir / "res" / "out.csv"
    assert out.strip() == str(target)
    with target.open(encoding="utf-8-sig", newline="") as handle:
        got = list(csv.DictReader(handle))
    assert [r["Text"] for r in got] == ["plain", "'=1+2", "-5"]
    assert [r["status"] for r in got] == ["succeeded"] * 3
    assert got[0]["result"] == "plain ✓"


async def test_a_failed_results_write_stays_owed_and_resume_writes_it(cli: Cli) -> None:
    cli.dify.latency_s = 0.2
    sheet = _sheet(cli, [f"row {i}" for i in range(8)])
    proc = await cli.start("run", sheet, "--workflow", "summarize", "--output", "sub/out.xlsx")
    assert proc.stderr is not None
    line = (await asyncio.wait_for(proc.stderr.readline(), 30)).decode()
    batch_id = re.search(r"Batch ([0-9a-f]{6}):", line).group(1)  # type: ignore[union-attr]
    (cli.workdir / "sub").write_text("a file where the results folder should be", encoding="utf-8")
    _, err_b = await asyncio.wait_for(proc.communicate(), 60)
    err = err_b.decode()
    assert proc.returncode == 2, err
    assert f"dify-batch resume {batch_id}" in err and "Traceback" not in err

    code, status, _ = await cli.run("status", batch_id)
    assert code == 0 and "not written yet" in status

    (cli.workdir / "sub").unlink()
    (cli.workdir / "sub").mkdir()
    leftover = cli.workdir / "sub" / ".out.xlsx.dead1234.part"
    leftover.write_bytes(b"half a workbook")
    code, out, err = await cli.run("resume", batch_id)
    assert code == 0, err
    target = cli.workdir / "sub" / "out.xlsx"
    assert str(target) in out + err
    got = results(target)
    assert sorted(str(r["Text"]) for r in got) == sorted(f"row {i}" for i in range(8))
    assert not leftover.exists()
    assert max(cli.dify.counters.runs_by_key.values()) == 1


async def test_any_later_command_writes_an_owed_file_and_result_uses_the_recorded_path(cli: Cli) -> None:
    sheet = _sheet(cli, ["a", "b", "c"])
    proc = await cli.start("run", sheet, "--workflow", "summarize", "--output", "sub/out.csv")
    assert proc.stderr is not None
    line = (await asyncio.wait_for(proc.stderr.readline(), 30)).decode()
    batch_id = re.search(r"Batch ([0-9a-f]{6}):", line).group(1)  # type: ignore[union-attr]
    (cli.workdir / "sub").write_text("in the way", encoding="utf-8")
    await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 2
    (cli.workdir / "sub").unlink()
    (cli.workdir / "sub").mkdir()

    code, _, err = await cli.run("pause", "nosuch")  # fails itself, but first delivers what is owed
    assert code == 2
    assert f"Batch {batch_id}: wrote its results file" in err
    target = cli.workdir / "sub" / "out.csv"
    assert target.read_text(encoding="utf-8-sig").startswith("Text,")

    target.unlink()
    elsewhere = cli.workdir / "elsewhere"
    elsewhere.mkdir()
    code, out, err = await cli.run("result", batch_id, cwd=elsewhere)
    assert code == 0, err
    assert out.strip() == str(target) and target.exists()
    assert list(elsewhere.iterdir()) == []
    shutil.rmtree(cli.workdir / "sub")


async def test_sigkill_while_the_results_file_is_written_loses_nothing(cli: Cli) -> None:
    """Killed while the temporary file exists: the file is owed, `resume` writes it whole
    where it was asked for and removes the half-written temporary."""
    write_config(cli.config, cli.dify, concurrency=32)
    cli.dify.latency_s = 0.001
    rows = 3000
    sheet = _sheet(cli, [f"row {i} " + "words " * 30 for i in range(rows)])
    target = cli.workdir / "out" / "big.xlsx"
    proc = await cli.start("run", sheet, "--workflow", "summarize", "--output", str(target))
    assert proc.stderr is not None
    line = (await asyncio.wait_for(proc.stderr.readline(), 30)).decode()
    batch_id = re.search(r"Batch ([0-9a-f]{6}):", line).group(1)  # type: ignore[union-attr]

    async def temporary_appears() -> None:
        while not list(target.parent.glob(".big.xlsx.*.part")):
            assert proc.returncode is None, "the run ended before the write was caught"
            await asyncio.sleep(0.002)

    await asyncio.wait_for(temporary_appears(), 120)
    proc.kill()
    await proc.wait()
    assert not target.exists(), "the rename happened before the kill; the write was not caught"

    code, out, err = await cli.run("resume", batch_id)
    assert code == 0, err
    assert str(target) in out + err
    got = results(target)
    assert len(got) == rows and {r["status"] for r in got} == {"succeeded"}
    assert list(target.parent.glob("*.part")) == []
    assert max(cli.dify.counters.runs_by_key.values()) == 1
