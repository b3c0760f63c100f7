"""The results' Summary sheet: native charts over its own cells, and the estimate beside
what happened. Read from the zip as Excel reads it (`chart_parts`), and by openpyxl."""

from __future__ import annotations

import io
import warnings
from datetime import UTC, datetime, timedelta

from openpyxl import load_workbook

from engine.estimate import Estimate, recorded_estimate
from engine.models import Batch, BatchStatus, Row, RowStatus
from engine.sheets.results import write_batch_results, write_results
from engine.sheets.sentences import CHART_LABELS, SUMMARY_LABELS
from tests.engine.sheets.chart_parts import cell_values, charts_of
from tests.fakes.scripted_workflow import EngineHarness

T0 = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
L = CHART_LABELS


def _batch(**kw: object) -> Batch:
    fields: dict[str, object] = {
        "columns": ("text",), "source_name": "in.xlsx", "started_at": T0,
        "finished_at": T0 + timedelta(seconds=95),
    }
    fields.update(kw)
    return Batch("b1", "summarize", "telegram:1", BatchStatus.COMPLETED, 40, T0, **fields)  # type: ignore[arg-type]


def _rows() -> list[Row]:
    """40 rows: every fifth failed, two cancelled before running, one stuck for 300 s."""
    rows = []
    for i in range(40):
        status = RowStatus.FAILED if i % 5 == 0 else RowStatus.SUCCEEDED
        if i in (38, 39):
            status = RowStatus.CANCELLED
        elapsed = None if status is RowStatus.CANCELLED else 300.0 if i == 7 else 0.5 + (i % 10) / 10
        rows.append(Row("b1", i, i + 2, (f"t{i}",), {}, status=status, attempts=1, elapsed_s=elapsed,
                        tokens=10 if status is RowStatus.SUCCEEDED else 0, outputs={"answer": i}))
    return rows


def _write(rows: list[Row], **kw: object) -> bytes:
    buf = io.BytesIO()
    write_results(buf, _batch(), rows, **kw)  # type: ignore[arg-type]
    return buf.getvalue()


def test_the_summary_charts_outcomes_and_run_times_from_its_own_cells() -> None:
    rows = _rows()
    data = _write(rows)
    outcomes, run_times = charts_of(data, "Summary")
    assert (outcomes.kind, outcomes.title) == ("barChart", L["outcomes_title"])
    assert outcomes.axis_titles == [L["outcome"], L["rows"]]
    assert outcomes.categories.cells == ["succeeded", "failed", "cancelled"]
    assert outcomes.values.cells == [30, 8, 2]  # the stored outcomes, counted
    assert outcomes.name.cells == [L["rows"]]
    # the charts sit right of the tables (column E on), one above the other
    assert outcomes.at == (4, 0) and run_times.at[0] == 4 and run_times.at[1] >= 15

    assert (run_times.kind, run_times.title) == ("barChart", L["run_time_title"])
    ran = [r.elapsed_s for r in rows if r.elapsed_s is not None]
    assert sum(run_times.values.cells) == len(ran) == 38
    assert run_times.categories.cells[0] == "0.5–0.6 s"
    assert run_times.categories.cells[-1].startswith("≥ ")  # the 300 s row, in a tail bucket
    assert run_times.values.cells[-1] == 1
    for chart in (outcomes, run_times):
        # the cached copy Excel shows before it recalculates says what the cells say
        assert chart.values.cached == chart.values.cells
        assert chart.categories.cached == chart.categories.cells
        assert "'Summary'!$A$" in chart.categories.ref and "'Summary'!$B$" in chart.values.ref


def test_openpyxl_opens_it_without_a_warning_and_finds_both_charts() -> None:
    data = _write(_rows())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        book = load_workbook(io.BytesIO(data))
    charts = book["Summary"]._charts
    assert [type(c).__name__ for c in charts] == ["BarChart", "BarChart"]
    assert charts[0].series[0].val.numRef.f == charts_of(data, "Summary")[0].values.ref
    assert book["Results"]._charts == []


def test_rows_that_never_ran_get_the_outcome_chart_only() -> None:
    rows = [Row("b1", i, i + 2, ("x",), {}, status=RowStatus.PENDING) for i in range(3)]
    (outcomes,) = charts_of(_write(rows), "Summary")
    assert outcomes.categories.cells == ["succeeded", "failed", "cancelled", "pending"]
    assert outcomes.values.cells == [0, 0, 0, 3]


def _table(data: bytes) -> dict[str, list[object]]:
    """The estimate table's rows by their label: [rows, duration (s), tokens]."""
    cells = cell_values(data, "Summary")
    head = next(int(ref[1:]) for ref, v in cells.items() if v == L["estimate_heading"] and ref[0] == "A")
    heads = [L["estimate_rows"], L["estimate_duration"], L["estimate_tokens"]]
    assert [cells.get(f"{c}{head}") for c in "BCD"] == heads
    return {
        str(cells[f"A{r}"]): [cells.get(f"{c}{r}") for c in "BCD"]
        for r in range(head + 1, head + 4)
    }


def test_the_summary_sets_the_estimate_beside_what_happened() -> None:
    est = Estimate(rows=40, in_flight=4, batches=3, calls=42, duration_s=80.04, tokens=420, failure_rate=0.2)
    table = _table(_write(_rows(), estimate=est))
    assert table[L["estimated"]] == [40, 80.0, 420]
    assert table[L["actual"]] == [40, 95.0, 300]  # rows, wall time, the tokens the rows report
    assert table[L["estimate_basis"]][0] == L["basis_many"].format(n=3, in_flight=4)


def test_without_history_the_estimate_says_so_and_leaves_time_and_tokens_blank() -> None:
    table = _table(_write(_rows(), estimate=Estimate(rows=40, in_flight=4, calls=40)))
    assert table[L["estimated"]] == [40, None, None]
    assert table[L["estimate_basis"]][0] == L["basis_none"]


def test_without_a_stored_estimate_there_is_no_table() -> None:
    cells = cell_values(_write(_rows()), "Summary")
    assert L["estimate_heading"] not in cells.values()
    # and the Summary's own lines keep their labels unshadowed in column A
    labels = [v for ref, v in cells.items() if ref[0] == "A"]
    assert labels.count(SUMMARY_LABELS["rows"]) == 1


async def test_a_batch_stores_the_estimate_check_shows_and_its_results_carry_it() -> None:
    h = EngineHarness()
    await h.service.start()
    try:
        for _ in range(6):  # more earlier batches than an estimate looks back on
            await h.run(3)
        shown_by_check = await h.service.estimate("wf", 4)
        batch = await h.submit(4)
        # made before the batch existed: the same five earlier batches, not four and itself
        assert await recorded_estimate(h.store, batch.id) == shown_by_check
        assert shown_by_check.batches == 5
        done = await h.service.wait(batch.id)
        buf = io.BytesIO()
        await write_batch_results(buf, done, h.store)
    finally:
        await h.service.shutdown(0)
    table = _table(buf.getvalue())
    assert table[L["estimated"]][0] == 4 and table[L["actual"]][0] == 4
    assert table[L["estimate_basis"]][0] == L["basis_many"].format(n=5, in_flight=4)
