"""A sample run's rows as the terminal shows them: each row's outputs on one line, cut to fit."""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence

from bot.cli.output.usage import Wording, cli_wording, display_width
from engine.models import Row, RowStatus


def sample_lines(rows: Sequence[Row], *, width: int | None = None, words: Wording | None = None) -> list[str]:
    """``row 2  ✓  summary: The cup keeps … · length: 42``: a line per row, none wider than the terminal."""
    width = width or shutil.get_terminal_size((100, 24)).columns
    words = words or cli_wording()
    lines = []
    for row in rows:
        if row.status is RowStatus.SUCCEEDED:
            mark, text = "✓", " · ".join(f"{k}: {_flat(v)}" for k, v in (row.outputs or {}).items())
        else:
            status = words.cli_status_words.get(row.status.value, row.status.value)
            mark, text = "✗", f"{status}: {_flat(row.error or '')}"
        line = words.cli_says["sample_row"].format(
            row=row.sheet_row, mark=mark, text=text or words.cli_says["sample_no_outputs"]
        )
        lines.append(_fit(line, width))
    return lines


def _flat(value: object) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return " ".join(text.split())  # one line: newlines and runs of spaces become one space


def _fit(line: str, width: int) -> str:
    """Cut to ``width`` terminal columns; CJK characters take two."""
    used = 0
    for i, char in enumerate(line):
        used += display_width(char)
        if used > width:
            kept = line[:i]
            while kept and display_width(kept) > width - 1:
                kept = kept[:-1]
            return kept + "…"
    return line
