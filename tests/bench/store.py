"""Store throughput: grouped update_rows, claim_rows and bulk insert, on SQLite and PostgreSQL.

Run ``python -m tests.bench.store``; prints JSON. Figures, not assertions.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from engine.models import RowStatus, RowUpdate
from storage import SqlStore
from tests.storage.builders import batch, rows, running_batch
from tests.storage.conftest import fresh_schema, pg_url

ROWS = 20_000
GROUPS = {1: 2_000, 50: ROWS, 500: ROWS}
"""Group size -> rows written; group-of-1 runs fewer rows, it is ~100x slower."""
CLAIM_LIMITS = (1, 50)
OUTPUTS = {"summary": "这是一个大约两百个字符的摘要。" * 8, "score": 0.87}


async def _timed(fn: Callable[[], Coroutine[Any, Any, None]]) -> float:
    start = time.perf_counter()
    await fn()
    return time.perf_counter() - start


async def _bench(store: SqlStore) -> dict[str, Any]:
    out: dict[str, Any] = {}
    secs = await _timed(lambda: store.create_batch(batch("bulk", total=ROWS), rows("bulk", ROWS)))
    out["create_batch_rows_per_s"] = round(ROWS / secs)

    for size, n in GROUPS.items():
        updates = [
            RowUpdate("bulk", i, RowStatus.SUCCEEDED, attempts=1, outputs=OUTPUTS, tokens=10,
                      elapsed_s=0.5, run_id=f"run-{size}-{i}", finished_at=datetime.now(UTC))
            for i in range(n)
        ]

        async def write(updates: list[RowUpdate] = updates, size: int = size) -> None:
            for k in range(0, len(updates), size):
                await store.update_rows(updates[k : k + size])

        out[f"update_rows_group_{size}_rows_per_s"] = round(n / await _timed(write))

    for limit in CLAIM_LIMITS:
        batch_id = f"claim{limit}"
        n = 2_000 if limit == 1 else ROWS
        await store.create_batch(running_batch(batch_id, total=n), rows(batch_id, n))
        now = datetime.now(UTC)

        async def claim(batch_id: str = batch_id, limit: int = limit, now: datetime = now) -> None:
            while await store.claim_rows(batch_id, limit=limit, now=now):
                pass

        out[f"claim_rows_limit_{limit}_rows_per_s"] = round(n / await _timed(claim))

    async def concurrent_singles() -> None:
        # 64 rows finishing at once, each written on its own, as an ungrouped runner would
        async def one(i: int) -> None:
            await store.update_rows([RowUpdate("bulk", i, RowStatus.FAILED, attempts=2, error="x")])

        for k in range(0, 2_000, 64):
            await asyncio.gather(*(one(i) for i in range(k, min(k + 64, 2_000))))

    out["update_rows_group_1_x64_concurrent_rows_per_s"] = round(2_000 / await _timed(concurrent_singles))
    return out


async def main(pg: str | None) -> dict[str, Any]:
    report: dict[str, Any] = {"python": sys.version.split()[0], "rows": ROWS}
    with tempfile.TemporaryDirectory() as tmp:
        store = await SqlStore.open(f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}")
        try:
            report["sqlite"] = await _bench(store)
        finally:
            await store.close()
    if pg is None:
        report["postgresql"] = "unreachable (set DIFY_BATCH_TEST_PG)"
        return report
    async with fresh_schema(pg) as schema:
        store = await schema.open()
        try:
            report["postgresql"] = await _bench(store)
        finally:
            await store.close()
    return report


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(pg_url())), indent=2))
