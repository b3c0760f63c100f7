"""How a comparison names a column per workflow: ``summary [A]`` beside ``summary [B]``."""

from __future__ import annotations

from collections.abc import Sequence

COMPARE_LABELS: dict[str, str] = {
    "sheet": "Compare",
    "comparison": "comparison",
    "source_file": "source file",
    "workflow": "workflow",
    "batch": "batch",
    "rows": "rows",
    "succeeded": "succeeded",
    "failed": "failed",
    "success_rate": "success rate (%)",
    "median_s": "median run time (s)",
    "p95_s": "p95 run time (s)",
    "tokens": "tokens",
    "differ_heading": "Rows whose output differs",
    "differ_rows": "rows differing",
    "differ_of": "of rows",
    "differs_column": "differs",
    "note": (
        "Run times are of succeeded rows. A row differs when the workflows' values of that "
        "output are not all equal."
    ),
}
"""The English words of a comparison workbook; the catalogues translate them (``compare_labels``)."""


def labelled(header: str, workflow: str) -> str:
    """``summary [A]``: a column of one workflow in a comparison."""
    return f"{header} [{workflow}]"


def side_by_side(headers: Sequence[str], workflows: Sequence[str]) -> list[str]:
    """Each header once per workflow, the workflows of one header next to each other."""
    return [labelled(h, w) for h in headers for w in workflows]
