"""What every campaign needs: FakeDify in this process, the real `dify-batch` CLI as a
subprocess against it, and figures counted on Dify's side, not from what the CLI reports.

    async with Campaign.open(workdir, rows=300, mode="streaming") as c:
        proc = await c.start_run()
        ...
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.fakes.dify import FakeDify

ROOT = Path(__file__).resolve().parents[2]
KEY_ENV = "DIFY_CAMPAIGN_KEY"
BATCH_LINE = re.compile(r"Batch ([0-9a-f]{6}):")


def text_of(i: int) -> str:
    return f"row {i:06d}"


@dataclass
class Campaign:
    workdir: Path
    dify: FakeDify
    rows: int
    sheet: Path
    output: Path
    config: Path
    batch_id: str = ""
    stderr: list[str] = field(default_factory=list)

    @classmethod
    @asynccontextmanager
    async def open(
        cls, workdir: Path, *, rows: int, mode: str = "streaming", concurrency: int = 16,
        latency_s: float = 0.2, timeout_s: float = 5.0, max_attempts: int = 3,
        overload_pause_s: float = 1.0, database_url: str | None = None, extra: Sequence[str] = (),
        **dify: Any,
    ) -> AsyncIterator[Campaign]:
        """``database_url``: a database for the CLI (default: SQLite in ``workdir``)."""
        workdir.mkdir(parents=True, exist_ok=True)
        database_url = database_url or f"sqlite+aiosqlite:///{workdir / 'campaign.db'}"
        async with FakeDify.running(latency_s=latency_s, record_requests=False, **dify) as fake:
            sheet = workdir / "sheet.csv"
            sheet.write_text("Text\n" + "\n".join(text_of(i) for i in range(rows)) + "\n", encoding="utf-8")
            config = workdir / "config.toml"
            config.write_text("\n".join([
                "[daemon]",
                f'database_url = "{database_url}"',
                f'data_dir = "{workdir / "data"}"',
                "[workflows.w]",
                f'base_url = "{fake.base_url}"',
                f'api_key_env = "{KEY_ENV}"',
                f'response_mode = "{mode}"',
                f"concurrency = {concurrency}",
                f"timeout_s = {timeout_s}",
                f"max_attempts = {max_attempts}",
                "backoff_base_s = 0.05",
                "backoff_max_s = 0.5",
                f"overload_pause_s = {overload_pause_s}",
                *extra,
            ]) + "\n", encoding="utf-8")
            yield cls(workdir, fake, rows, sheet, workdir / "results.xlsx", config)

    # -- the CLI ------------------------------------------------------------------------------

    async def cli(self, *args: str) -> asyncio.subprocess.Process:
        env = {k: v for k, v in os.environ.items() if not k.startswith("DIFY_")}
        env.update({KEY_ENV: self.dify.api_key, "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(ROOT)})
        env["LC_ALL"] = "C.UTF-8"  # the campaign reads the CLI's English, whatever this machine speaks
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", *args, "--config", str(self.config),
            cwd=self.workdir, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )

    async def start_run(self) -> asyncio.subprocess.Process:
        proc = await self.cli("run", str(self.sheet), "--workflow", "w", "--output", str(self.output))
        assert proc.stderr is not None
        while not self.batch_id:
            line = (await asyncio.wait_for(proc.stderr.readline(), 60)).decode()
            if not line:
                raise AssertionError("the run ended before it named its batch:\n" + "".join(self.stderr))
            self.stderr.append(line)
            if found := BATCH_LINE.search(line):
                self.batch_id = found.group(1)
        return proc

    async def resume(self) -> asyncio.subprocess.Process:
        return await self.cli("resume", self.batch_id)

    async def finish(self, proc: asyncio.subprocess.Process, timeout_s: float = 300) -> int:
        """Wait for the process to end; its stderr is kept for the report."""
        _, err = await asyncio.wait_for(proc.communicate(), timeout_s)
        self.stderr.append(err.decode())
        assert proc.returncode is not None
        return proc.returncode

    # -- what Dify saw ------------------------------------------------------------------------

    def succeeded(self) -> int:
        return sum(self.dify.counters.succeeded_by_key.values())

    async def until_succeeded(self, count: int, timeout_s: float = 120) -> None:
        async with asyncio.timeout(timeout_s):
            while self.succeeded() < count:  # Dify's own counter is the point
                await asyncio.sleep(0.005)

    def span_s(self) -> float:
        """From the first run Dify started to the last one it finished."""
        runs = [r for r in self.dify.runs.values() if r.done.is_set()]
        if not runs:
            return 0.0
        return max(r.started_mono + r.elapsed_s for r in runs) - min(r.started_mono for r in runs)

    def figures(self) -> dict[str, Any]:
        """Rows lost (no succeeded row in the results), rows run more than once, and runs that
        started again after an earlier run of the same row had finished at Dify."""
        runs = sorted(self.dify.runs.values(), key=lambda r: r.started_mono)
        finished_at: dict[str, float] = {}
        finished_rerun = 0
        for run in runs:
            if run.key in finished_at and finished_at[run.key] <= run.started_mono:
                finished_rerun += 1
            if run.done.is_set() and run.status == "succeeded":
                end = run.started_mono + run.elapsed_s
                finished_at[run.key] = min(finished_at.get(run.key, end), end)
        results = result_rows(self.output) if self.output.exists() else []
        by_text = {str(r["Text"]): r for r in results}
        lost = [text_of(i) for i in range(self.rows)
                if by_text.get(text_of(i), {}).get("status") != "succeeded"]
        counters = self.dify.counters
        return {
            "rows": self.rows,
            "rows_in_results": len(results),
            "rows_lost": len(lost),
            "runs": sum(counters.runs_by_key.values()),
            "rows_run_twice": sum(1 for n in counters.runs_by_key.values() if n > 1),
            "finished_runs_rerun": finished_rerun,
            "peak_in_flight_at_dify": counters.peak_in_flight,
        }


def result_rows(path: Path) -> list[dict[str, Any]]:
    book = load_workbook(path, read_only=True)
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    book.close()
    header = [str(h) for h in rows[0]]
    return [dict(zip(header, r, strict=False)) for r in rows[1:]]


@asynccontextmanager
async def scratch_database(server_url: str) -> AsyncIterator[str]:
    """A PostgreSQL database of its own on the server ``server_url`` names, dropped after."""
    name = f"campaign_{secrets.token_hex(4)}"
    engine = create_async_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
        finally:
            async with engine.connect() as conn:
                await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await engine.dispose()
