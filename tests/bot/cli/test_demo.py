"""`dify-batch demo`, the README's first command: no config, no account, a results workbook."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from openpyxl import load_workbook


async def test_demo_runs_a_sample_sheet_through_the_simulated_app(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIFY_")}
    env["LC_ALL"] = "C.UTF-8"  # it reads the English lines
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "demo", "--rows", "24", cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err.decode()
    results = tmp_path / "dify-batch-demo" / "sample-results.xlsx"
    assert out.decode().strip() == str(Path("dify-batch-demo") / "sample-results.xlsx")
    assert "completed: 24 ok, 0 failed of 24 rows" in err.decode()
    rows = list(load_workbook(results).worksheets[0].iter_rows(values_only=True))
    header = [str(h) for h in rows[0]]
    assert header[:4] == ["Product", "Tone", "Notes", "headline"]
    assert len(rows) == 25
    assert {r[header.index("status")] for r in rows[1:]} == {"succeeded"}
    assert not (tmp_path / "config.toml").exists()


async def test_demo_refuses_a_silly_row_count(tmp_path: Path) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "demo", "--rows", "0", cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 2
    assert "--rows must be between 1 and 10000" in err.decode()
    assert not (tmp_path / "dify-batch-demo").exists()
