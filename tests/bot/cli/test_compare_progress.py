"""A comparison's terminal progress: one line with a bar per workflow, quiet until a row is
done, and always drawn once every workflow is through."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import UTC, datetime

from bot.chat.text.catalogues.en import EnglishWording
from bot.cli.compare_progress import CompareProgress, figures_lines
from engine.compare.figures import ColumnDifference, ComparisonFigures, WorkflowFigures
from engine.models import Batch, BatchStatus, Progress

NOW = datetime(2026, 12, 4, 14, 5, 10, tzinfo=UTC)
A = Batch("aaaaaa", "summarize", "cli:ann", BatchStatus.RUNNING, 40, NOW, comparison_id="c123456")
B = replace(A, id="bbbbbb", workflow="summarize-v2")


async def test_both_workflows_share_one_line_and_the_end_is_always_drawn() -> None:
    out = io.StringIO()
    progress = CompareProgress(out)  # not a TTY: at most a line every 5 s, but the end
    progress.expect([A, B])
    await progress.batch_changed(A, Progress(total=40, pending=40))
    await progress.batch_changed(B, Progress(total=40, pending=40))
    assert out.getvalue() == "", "nothing to show before a row is done"
    await progress.batch_changed(A, Progress(total=40, succeeded=10, pending=30))
    await progress.batch_changed(A, Progress(total=40, succeeded=20, pending=20))  # within 5 s: not drawn
    await progress.batch_changed(replace(A, status=BatchStatus.COMPLETED), Progress(total=40, succeeded=40))
    await progress.batch_changed(replace(B, status=BatchStatus.COMPLETED), Progress(total=40, succeeded=39,
                                                                                   failed=1))
    lines = out.getvalue().splitlines()
    assert lines == [
        "summarize [###.........] 10/40 ok 10 failed 0 | summarize-v2 [............] 0/40 ok 0 failed 0",
        "summarize [############] 40/40 ok 40 failed 0 | summarize-v2 [############] 40/40 ok 39 failed 1",
    ]


def test_figures_read_as_one_line_per_workflow_then_per_output() -> None:
    figures = ComparisonFigures(
        (WorkflowFigures("summarize", "aaaaaa", 40, 40, 0, 1390, 0.4, 0.42),
         WorkflowFigures("summarize-v2", "bbbbbb", 40, 39, 1, 1356, 75.0, None)),
        (ColumnDifference("summary", 15, 40),),
    )
    assert figures_lines(figures, EnglishWording) == [
        "summarize: 40 ok, 0 failed of 40 rows (100%), median 0.40s, p95 0.42s, 1390 tokens",
        "summarize-v2: 39 ok, 1 failed of 40 rows (98%), median 1m 15s, p95 -, 1356 tokens",
        "summary: 15 of 40 rows differ",
    ]
