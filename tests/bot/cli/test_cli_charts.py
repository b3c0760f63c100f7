"""The results workbook's charts and estimate as ``dify-batch`` writes them (a real process,
FakeDify): ``result`` writes a Summary whose charts draw the stored outcomes, in the
terminal's language, and ``run`` prints the estimate ``check`` printed for the same sheet."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

from engine.estimate import HISTORY_BATCHES
from tests.bot.cli.conftest import Cli
from tests.engine.sheets.chart_parts import cell_values, charts_of
from tests.fakes.dify_script import Plan, failed_run


def _estimate_line(text: str) -> str:
    return next(line for line in text.splitlines() if line.startswith("≈ "))


async def test_result_writes_charts_of_the_stored_outcomes_and_the_estimate(cli: Cli) -> None:
    cli.dify.script = {"bad!": Plan(fault=failed_run("Node LLM failed"))}
    sheet = cli.workdir / "in.csv"
    sheet.write_text("Text\nabcd\nefgh\nbad!\nijkl\n", encoding="utf-8")
    code, _, err = await cli.run("run", str(sheet), "--workflow", "summarize")
    assert code == 1, err
    code, checked, err = await cli.run("check", str(sheet), "--workflow", "summarize")
    assert code == 0, err
    code, _, err = await cli.run("run", str(sheet), "--workflow", "summarize")
    assert code == 1, err
    # the same estimate before `run` as from `check`: both count the one earlier batch
    assert _estimate_line(err) == _estimate_line(checked)
    assert "(from 1 earlier batch)" in _estimate_line(err)
    found = re.search(r"^Batch (\w+):", err, re.M)
    assert found is not None, err
    batch_id = found.group(1)

    target = cli.workdir / "again.xlsx"
    code, out, err = await cli.run("result", batch_id, "--output", str(target))
    assert code == 0 and out.strip() == str(target), err
    data = target.read_bytes()
    outcomes, run_times = charts_of(data, "Summary")
    with sqlite3.connect(cli.workdir / "cli.db") as db:
        by_status = "SELECT status, count(*) FROM row WHERE batch_id = ? GROUP BY status"
        stored = dict(db.execute(by_status, [batch_id]))
        timed = "SELECT count(*) FROM row WHERE batch_id = ? AND elapsed_s IS NOT NULL"
        with_times = db.execute(timed, [batch_id]).fetchone()[0]
    assert stored == {"succeeded": 3, "failed": 1}
    assert dict(zip(outcomes.categories.cells, outcomes.values.cells, strict=True)) == {
        "succeeded": 3, "failed": 1, "cancelled": 0,
    }
    assert sum(run_times.values.cells) == with_times > 0
    cells = cell_values(data, "Summary")
    estimated = next(ref for ref, v in cells.items() if v == "estimated")
    assert cells[f"B{estimated[1:]}"] == 4  # the rows it expected, beside the rows it ran
    assert "1 earlier batch" in str(cells[f"B{int(estimated[1:]) + 2}"])


async def test_a_chinese_summary_words_its_charts_and_tables_in_chinese(cli: Cli) -> None:
    cli.language = "zh_CN.UTF-8"
    sheet = cli.workdir / "products.csv"
    sheet.write_text("Text\n" + "".join(f"item {i}\n" for i in range(5)), encoding="utf-8")
    code, out, err = await cli.run("run", str(sheet), "--workflow", "summarize")
    assert code == 0, err
    data = Path(out.strip()).read_bytes()
    outcomes, run_times = charts_of(data, "汇总")
    assert (outcomes.title, run_times.title) == ("各状态行数", "每行耗时分布")
    assert outcomes.axis_titles == ["状态", "行数"] and run_times.axis_titles == ["耗时", "行数"]
    assert outcomes.categories.cells == ["成功", "失败", "已取消"]  # the Results sheet's status words
    assert outcomes.values.cells == [5, 0, 0]
    assert all(str(c).endswith(" 秒") for c in run_times.categories.cells)
    words = set(cell_values(data, "汇总").values())
    assert {"预估与实际", "预估", "实际", "预估依据", "没有之前的任务，未预估耗时和 tokens"} <= words


async def test_run_and_check_count_the_same_earlier_batches_when_there_are_more_than_enough(cli: Cli) -> None:
    sheet = cli.workdir / "in.csv"
    sheet.write_text("Text\nabcd\n", encoding="utf-8")
    for _ in range(HISTORY_BATCHES):
        code, _, err = await cli.run("run", str(sheet), "--workflow", "summarize")
        assert code == 0, err
    code, checked, err = await cli.run("check", str(sheet), "--workflow", "summarize")
    assert code == 0, err
    code, _, err = await cli.run("run", str(sheet), "--workflow", "summarize")
    assert code == 0, err
    # estimated once the new batch existed, `run` would count it among the last five (so four)
    assert f"(from {HISTORY_BATCHES} earlier batches)" in _estimate_line(checked)
    assert _estimate_line(err) == _estimate_line(checked)
