"""The outage campaign in small: Dify away for a few seconds mid-batch, as a refused
connection and as a proxy's 503 for every row. Every row succeeds on its first attempt and
the CLI's progress line says that Dify is unreachable while it is."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reliability.outage import outage_campaign


@pytest.mark.timeout(240)
@pytest.mark.parametrize("kind", ["refused", "503"])
async def test_an_outage_is_waited_out_and_said_with_every_row_succeeded(tmp_path: Path, kind: str) -> None:
    figures = await outage_campaign(tmp_path, rows=160, outage_s=3.0, kind=kind)
    assert figures["exit_code"] == 0, figures
    assert figures["rows_lost"] == 0, figures
    assert figures["max_attempts_used"] == 1, figures
    assert figures["progress_said_unreachable"], figures
