"""What upgrading a 0.1.0 SQLite database costs at start, and what every later open costs.

    python -m tests.bench.upgrade [--rows 100000] [--repeat 3]

Prints JSON: medians of ``repeat`` runs of the first open (copy aside, stamp, upgrade) and
of an open that finds the schema current; the file and copy sizes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

from storage import SqlStore
from tests.storage.ddl_0_1_0 import SQLITE


def make_old(path: Path, rows: int) -> None:
    db = sqlite3.connect(path)
    for statement in SQLITE:
        db.execute(statement)
    db.execute(
        "INSERT INTO batch VALUES ('b1', 'summarize', 'cli:x', 'completed', ?, '2026-11-01 09:00:00',"
        " '[\"text\"]', 'a.xlsx', NULL, NULL, NULL, NULL, NULL, NULL, 0)", (rows,),
    )
    db.executemany(
        "INSERT INTO row (batch_id, idx, sheet_row, cells, inputs, status, attempts, tokens, outputs)"
        " VALUES ('b1', ?, ?, ?, ?, 'succeeded', 1, 10, ?)",
        ((i, i + 2, f'["text {i}"]', f'{{"text": "text {i}"}}', f'{{"summary": "summary of text {i}"}}')
         for i in range(rows)),
    )
    db.commit()
    db.close()


async def once(rows: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "old.db"
        make_old(path, rows)
        url = f"sqlite+aiosqlite:///{path}"
        started = time.perf_counter()
        store = await SqlStore.open(url)
        first = time.perf_counter() - started
        await store.close()
        started = time.perf_counter()
        store = await SqlStore.open(url)
        current = time.perf_counter() - started
        await store.close()
        copy = next(Path(tmp).glob("old.db.before-upgrade-*"))
        return {"first_open_s": first, "current_open_s": current,
                "db_mb": path.stat().st_size / 1e6, "copy_mb": copy.stat().st_size / 1e6}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    runs = [asyncio.run(once(args.rows)) for _ in range(args.repeat)]
    print(json.dumps({
        "rows": args.rows,
        "repeat": args.repeat,
        **{f"median_{k}": round(statistics.median(r[k] for r in runs), 3) for k in runs[0]},
    }))


if __name__ == "__main__":
    main()
