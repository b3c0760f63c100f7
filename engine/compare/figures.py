"""The figures of a comparison: per workflow its success rate, median and p95 run time and
tokens; per output column how many rows differ between the workflows.

Fed row by row (the rows of one sheet row on each workflow together), so a big
comparison is summed up while its workbook is written, in one pass."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from engine.models import Row, RowStatus


@dataclass(frozen=True, slots=True)
class WorkflowFigures:
    """How one workflow of a comparison did over the sheet's rows."""

    workflow: str
    batch_id: str
    rows: int
    succeeded: int
    failed: int
    tokens: int
    median_s: float | None
    p95_s: float | None

    @property
    def success_rate(self) -> float | None:
        """Succeeded rows of all rows, 0..1; None for no rows."""
        return self.succeeded / self.rows if self.rows else None


@dataclass(frozen=True, slots=True)
class ColumnDifference:
    """How many rows an output column differs in between the workflows."""

    key: str
    differing: int
    compared: int


@dataclass(frozen=True, slots=True)
class ComparisonFigures:
    workflows: tuple[WorkflowFigures, ...]
    columns: tuple[ColumnDifference, ...]


def percentile(values: Sequence[float], share: float) -> float | None:
    """The nearest-rank percentile (``share`` 0.5 is the median of an odd count); None for none."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


def median(values: Sequence[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def same_value(value: Any) -> str:
    """A value in a form where equal outputs compare equal (JSON objects key-order free)."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


@dataclass
class _Tally:
    workflow: str
    batch_id: str
    rows: int = 0
    succeeded: int = 0
    failed: int = 0
    tokens: int = 0
    elapsed: list[float] = field(default_factory=list)


class FiguresTally:
    """Sums a comparison up as its rows go by: `add` the rows of one sheet row (one per
    workflow, in the workflows' order; None where a workflow has no such row), then `figures`."""

    def __init__(self, workflows: Sequence[tuple[str, str]], output_keys: Sequence[str]) -> None:
        """``workflows``: (workflow, batch id) pairs; ``output_keys``: the columns to compare."""
        self._tallies = [_Tally(w, b) for w, b in workflows]
        self._keys = list(output_keys)
        self._differing = dict.fromkeys(self._keys, 0)
        self._compared = 0

    def add(self, rows: Sequence[Row | None]) -> None:
        for tally, row in zip(self._tallies, rows, strict=True):
            if row is None:
                continue
            tally.rows += 1
            tally.succeeded += row.status is RowStatus.SUCCEEDED
            tally.failed += row.status is RowStatus.FAILED
            tally.tokens += row.tokens
            if row.elapsed_s is not None and row.status is RowStatus.SUCCEEDED:
                tally.elapsed.append(row.elapsed_s)
        self._compared += 1
        for key in self._keys:
            self._differing[key] += self.differs(rows, key)

    @staticmethod
    def differs(rows: Sequence[Row | None], key: str) -> bool:
        """Whether one output differs between the workflows in this sheet row."""
        return len({same_value(((r.outputs or {}) if r else {}).get(key)) for r in rows}) > 1

    def figures(self) -> ComparisonFigures:
        workflows = tuple(
            WorkflowFigures(
                workflow=t.workflow, batch_id=t.batch_id, rows=t.rows, succeeded=t.succeeded,
                failed=t.failed, tokens=t.tokens, median_s=median(t.elapsed),
                p95_s=percentile(t.elapsed, 0.95),
            )
            for t in self._tallies
        )
        columns = tuple(ColumnDifference(k, self._differing[k], self._compared) for k in self._keys)
        return ComparisonFigures(workflows, columns)
