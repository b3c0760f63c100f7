"""The Summary sheet's tables that carry figures rather than facts: the estimate beside what
happened, rows per outcome and the run-time histogram. The last two are charted, so each
returns its chart, pointing at the cells just written.

Every table starts in column A; the charts sit to the right of them (`CHART_COLUMN`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from engine.estimate import Estimate
from engine.models import RowStatus
from engine.sheets.charts.buckets import bound_text, run_time_buckets
from engine.sheets.charts.drawing import Anchor, ColumnChart
from engine.sheets.ooxml import SheetPart, sheet_range, value_cell
from engine.sheets.styles import Style

CHART_COLUMN = 4
"""Column E: right of the Summary's label, value and the estimate's two more columns."""
CHART_ROWS = 16
_OUTCOMES = (RowStatus.SUCCEEDED, RowStatus.FAILED, RowStatus.CANCELLED)
"""Always shown, even at 0; pending and running only when a row still is (a partial file)."""
_UNFINISHED = (RowStatus.PENDING, RowStatus.RUNNING)
_COLOURS = {
    RowStatus.SUCCEEDED: "70AD47",
    RowStatus.FAILED: "C0504D",
    RowStatus.CANCELLED: "F2B134",
    RowStatus.PENDING: "A5A5A5",
    RowStatus.RUNNING: "7F7F7F",
}
_HISTOGRAM = "5B9BD5"


@dataclass(frozen=True, slots=True)
class Actual:
    """What the batch came to, set against its estimate."""

    rows: int
    duration_s: float | None
    tokens: int


def write_estimate(sheet: SheetPart, est: Estimate, actual: Actual, labels: Mapping[str, str]) -> None:
    """Estimated vs actual rows, duration and tokens, and what the estimate was made from."""
    r = sheet.next_row
    heads = (labels["estimate_heading"], labels["estimate_rows"], labels["estimate_duration"],
             labels["estimate_tokens"])
    sheet.add_row("".join(value_cell(f"{c}{r}", h, Style.HEADER) for c, h in zip("ABCD", heads, strict=True)))
    duration = None if est.duration_s is None else round(est.duration_s, 1)
    _figures(sheet, labels["estimated"], est.rows, duration, est.tokens if est.known else None)
    took = None if actual.duration_s is None else round(actual.duration_s, 1)
    _figures(sheet, labels["actual"], actual.rows, took, actual.tokens)
    if not est.known:
        basis = labels["basis_none"]
    elif est.batches == 1:
        basis = labels["basis_one"].format(in_flight=est.in_flight)
    else:
        basis = labels["basis_many"].format(n=est.batches, in_flight=est.in_flight)
    r = sheet.next_row
    sheet.add_row(value_cell(f"A{r}", labels["estimate_basis"], Style.LABEL) + value_cell(f"B{r}", basis))


def _figures(sheet: SheetPart, label: str, rows: int, duration: float | None, tokens: int | None) -> None:
    r = sheet.next_row
    sheet.add_row(
        value_cell(f"A{r}", label, Style.LABEL) + value_cell(f"B{r}", rows, Style.COUNT)
        + value_cell(f"C{r}", duration, Style.TENTHS) + value_cell(f"D{r}", tokens, Style.COUNT)
    )


def write_outcomes(
    sheet: SheetPart, counts: Mapping[str, int], labels: Mapping[str, str], words: Mapping[str, str],
    *, chart_row: int,
) -> ColumnChart:
    """Rows per outcome, and their chart; ``counts`` by status value, ``words`` the Summary
    labels, whose ``status_<value>`` words the Results sheet's status column also uses."""
    shown = [*_OUTCOMES, *(s for s in _UNFINISHED if counts.get(s.value))]
    return _charted(
        sheet, labels["outcome"], labels["rows"],
        [(words[f"status_{s.value}"], counts.get(s.value, 0)) for s in shown],
        title=labels["outcomes_title"], colours=[_COLOURS[s] for s in shown], gap=60, chart_row=chart_row,
    )


def write_run_times(
    sheet: SheetPart, seconds: Sequence[float], labels: Mapping[str, str], *, chart_row: int
) -> ColumnChart | None:
    """The run-time histogram's buckets and their chart; None when no row has a run time."""
    buckets = run_time_buckets(seconds)
    if not buckets:
        return None
    pairs = [
        (
            labels["bucket"].format(low=bound_text(b.low), high=bound_text(b.high))
            if b.high is not None
            else labels["bucket_tail"].format(low=bound_text(b.low)),
            b.rows,
        )
        for b in buckets
    ]
    return _charted(
        sheet, labels["run_time"], labels["rows"], pairs,
        title=labels["run_time_title"], colours=[_HISTOGRAM] * len(pairs), gap=8, chart_row=chart_row,
    )


def _charted(
    sheet: SheetPart, category_head: str, value_head: str, pairs: Sequence[tuple[str, int]], *,
    title: str, colours: Sequence[str], gap: int, chart_row: int,
) -> ColumnChart:
    head = sheet.next_row
    sheet.add_row(
        value_cell(f"A{head}", category_head, Style.HEADER) + value_cell(f"B{head}", value_head, Style.HEADER)
    )
    for name, n in pairs:
        r = sheet.next_row
        sheet.add_row(value_cell(f"A{r}", name, Style.LABEL) + value_cell(f"B{r}", n, Style.COUNT))
    first, last = head + 1, head + len(pairs)
    return ColumnChart(
        title=title, category_axis=category_head, value_axis=value_head,
        series_ref=sheet_range(sheet.name, f"B{head}"), series_name=value_head,
        categories_ref=sheet_range(sheet.name, f"A{first}:A{last}"), categories=[p[0] for p in pairs],
        values_ref=sheet_range(sheet.name, f"B{first}:B{last}"), values=[p[1] for p in pairs],
        anchor=Anchor(CHART_COLUMN, chart_row, rows=CHART_ROWS - 1), colours=colours, gap=gap,
    )
