"""The data a process writes is its owner's alone (issue 10 §9): the SQLite database (with
its -wal and -shm files), the data folder and the kept copies of uploaded sheets are created
0600/0700 even under the usual umask 022. A real `dify-batch run`, checked mid-batch."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from tests.fakes.dify import FakeDify
from tests.reliability.processes import Processes, until, write_sheet


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.timeout(120)
async def test_database_data_folder_and_sheets_are_private_whatever_the_umask(tmp_path: Path) -> None:
    db = tmp_path / "db-folder" / "shared.db"
    async with FakeDify.running(latency_s=0.2) as dify:
        procs = Processes(tmp_path, f"sqlite+aiosqlite:///{db}", dify, concurrency=2)
        sheet = write_sheet(tmp_path / "sheet.csv", 40)
        run = await procs.start("first", "run", str(sheet), "--workflow", "summarize", umask=0o022)
        await run.batch_id()
        await until(lambda: dify.counters.succeeded_by_key, 60, "the first row to finish")
        data = tmp_path / "first-data"
        kept = list((data / "uploads").iterdir())
        wal, shm = db.with_name("shared.db-wal"), db.with_name("shared.db-shm")
        modes = {
            "database folder": _mode(db.parent),
            "database": _mode(db),
            "-wal": _mode(wal),
            "-shm": _mode(shm),
            "data folder": _mode(data),
            "uploads folder": _mode(data / "uploads"),
            **{f"kept sheet {p.name}": _mode(p) for p in kept},
        }
        assert await run.exit_code() == 0, run.stderr()
    assert kept, "the sheet was not kept under the data folder"
    folders = ("database folder", "data folder", "uploads folder")
    expected = {name: 0o700 if name in folders else 0o600 for name in modes}
    assert {k: oct(v) for k, v in modes.items()} == {k: oct(v) for k, v in expected.items()}
