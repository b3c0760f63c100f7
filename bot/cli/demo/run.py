"""`dify-batch demo`: write a sample sheet and run it through the simulated app, with the
same engine, store, progress bar and results workbook as a real run."""

from __future__ import annotations

import sys
from pathlib import Path

from openpyxl import Workbook

from bot.app import open_runtime
from bot.cli.demo.workflow import DEMO_FORM, DEMO_WORKFLOW, SimulatedWorkflow, demo_rows
from bot.cli.drive import cli_owner, drive
from bot.cli.output.terminal import TerminalProgress
from bot.cli.output.usage import says
from bot.config import Config, DaemonConfig
from bot.results_files import OUTPUT_EVENT
from engine.errors import InputError
from engine.settings import WorkflowSettings

DEMO_SETTINGS = WorkflowSettings(
    name=DEMO_WORKFLOW,
    concurrency=8,
    timeout_s=30,
    max_attempts=3,
    backoff_base_s=0.2,
    backoff_max_s=2.0,
    overload_pause_s=0.3,
)


def write_sample(path: Path, rows: int) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Rows"
    sheet.append([field.label for field in DEMO_FORM.fields])
    for row in demo_rows(rows):
        sheet.append(list(row))
    book.save(path)


async def run_demo(directory: Path, rows: int) -> int:
    if not 1 <= rows <= 10_000:
        raise InputError(says("demo_rows"))
    directory.mkdir(parents=True, exist_ok=True)
    sample = directory / "sample.xlsx"
    write_sample(sample, rows)
    print(says("demo_wrote", path=sample, rows=rows, workflow=DEMO_WORKFLOW), file=sys.stderr)
    config = Config(
        daemon=DaemonConfig(
            database_url=f"sqlite+aiosqlite:///{(directory / 'demo.db').resolve()}",
            data_dir=directory,
        )
    )
    progress = TerminalProgress()
    runtime = await open_runtime(
        config,
        progress,
        serve_others=False,
        clients={DEMO_WORKFLOW: SimulatedWorkflow()},
        settings={DEMO_WORKFLOW: DEMO_SETTINGS},
    )
    try:
        output = directory / "sample-results.xlsx"
        batch = await runtime.intake.submit(DEMO_WORKFLOW, cli_owner(), sample.read_bytes(), sample.name)
        await runtime.store.add_event(batch.id, OUTPUT_EVENT, str(output.resolve()))
        print(says("batch_line", id=batch.id, total=batch.total, workflow=DEMO_WORKFLOW), file=sys.stderr)
        await runtime.service.start()
        return await drive(runtime, progress, batch, output)
    finally:
        await runtime.aclose()
