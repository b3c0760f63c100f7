"""A comparison's figures and workbook, from rows as two workflows left them."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import openpyxl

from engine.compare.figures import FiguresTally, median, percentile
from engine.compare.runs import is_comparison_id, new_comparison_id
from engine.models import Batch, BatchStatus, Row, RowStatus
from engine.sheets.compare_sheet import write_comparison
from tests.fakes.memory_store import InMemoryStore

T0 = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)


def _row(batch: str, i: int, status: RowStatus, outputs: dict[str, object] | None, elapsed: float,
         tokens: int = 10) -> Row:
    return Row(batch, i, i + 2, (f"text {i}",), {"text": f"text {i}"}, status=status, outputs=outputs,
               elapsed_s=elapsed, tokens=tokens, error="boom" if status is RowStatus.FAILED else None)


def _rows() -> tuple[list[Row], list[Row]]:
    ok, bad = RowStatus.SUCCEEDED, RowStatus.FAILED
    a = [_row("ba", i, ok, {"summary": f"s{i}", "score": i}, 1.0 + i) for i in range(10)]
    b = [
        _row("bb", i, ok if i != 9 else bad,
             None if i == 9 else {"summary": f"s{i}" if i < 4 else f"other {i}", "score": i}, 0.5, 20)
        for i in range(10)
    ]
    return a, b


def test_figures_count_differences_per_output_and_success_per_workflow() -> None:
    a, b = _rows()
    tally = FiguresTally([("A", "ba"), ("B", "bb")], ["summary", "score"])
    for pair in zip(a, b, strict=True):
        tally.add(pair)
    figures = tally.figures()
    first, second = figures.workflows
    assert (first.rows, first.succeeded, first.success_rate, first.tokens) == (10, 10, 1.0, 100)
    assert (second.succeeded, second.failed, second.success_rate, second.tokens) == (9, 1, 0.9, 200)
    assert first.median_s == 5.5 and first.p95_s == 10.0
    assert second.median_s == 0.5  # of succeeded rows only
    # rows 4..8 have another summary; row 9 failed on B, so both its outputs differ
    differing = [(c.key, c.differing, c.compared) for c in figures.columns]
    assert differing == [("summary", 6, 10), ("score", 1, 10)]


def test_percentiles_are_nearest_rank() -> None:
    assert percentile([], 0.95) is None and median([]) is None
    assert percentile([3.0, 1.0, 2.0], 0.5) == 2.0
    assert percentile([float(i) for i in range(1, 101)], 0.95) == 95.0
    assert median([1.0, 2.0, 3.0, 4.0]) == 2.5


def test_comparison_ids_never_look_like_batch_ids() -> None:
    made = new_comparison_id()
    assert is_comparison_id(made) and len(made) == 7
    assert not is_comparison_id("7f3a2c")


async def test_workbook_sets_outputs_side_by_side_and_adds_the_compare_sheet() -> None:
    store = InMemoryStore()
    a, b = _rows()
    columns = ("Text",)
    for batch_id, workflow, rows, when in (("ba", "A", a, T0), ("bb", "B", b, T0.replace(second=1))):
        batch = Batch(batch_id, workflow, "cli:me", BatchStatus.COMPLETED, 10, when, columns=columns,
                      source_name="sheet.csv", comparison_id="c123456")
        await store.create_batch(batch, rows)
    formula = _row("ba", 0, RowStatus.SUCCEEDED, {"summary": "=HYPERLINK(\"x\")", "score": 0}, 1.0)
    store.batch_rows["ba"][0] = formula
    buffer = io.BytesIO()
    await write_comparison(buffer, await store.comparison_batches("c123456"), store,
                           comparison_id="c123456", page_rows=3)
    book = openpyxl.load_workbook(io.BytesIO(buffer.getvalue()))
    assert book.sheetnames == ["Results", "Compare"]
    sheet = book["Results"]
    header = [c.value for c in sheet[1]]
    assert header[:6] == ["Text", "summary [A]", "summary [B]", "score [A]", "score [B]", "differs"]
    assert header[6:8] == ["status [A]", "status [B]"]
    got = [dict(zip(header, (c.value for c in r), strict=True)) for r in sheet.iter_rows(min_row=2)]
    assert len(got) == 10
    assert got[0]["summary [A]"] == '=HYPERLINK("x")' and sheet["B2"].data_type == "s"  # text, no formula
    assert got[5]["summary [B]"] == "other 5" and got[5]["differs"] == "summary"
    assert got[9]["status [B]"] == "failed" and got[9]["error [B]"] == "boom"
    assert got[9]["differs"] == "summary, score"
    compare = {r[0].value: [c.value for c in r[1:]] for r in book["Compare"].iter_rows() if r[0].value}
    assert compare["workflow"] == ["A", "B"]
    assert compare["success rate (%)"] == [100, 90]
    assert compare["summary"] == [7, 10]  # row 0's formula-looking text differs from B's too
    assert compare["score"] == [1, 10]
