"""Engine throughput against FakeDify at a fixed latency: rows/s beside the ideal, CPU per row.

Run ``python -m tests.bench.throughput [--rows 3000] [--latency 0.5]``; prints JSON.
FakeDify runs in a child process, so ``time.process_time()`` here counts only the
daemon's side: BatchService + DifyClient (httpx over aiohttp) + SqlStore on SQLite.
Figures, not assertions (DESIGN §9: ≥ 95 % of ideal at 64, ≤ 3 ms CPU a row).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from engine.dify import DifyClient
from engine.models import Batch, ParsedSheet, Progress, SheetRow
from engine.ports import Store
from engine.service import BatchService
from engine.settings import WorkflowSettings


class _Quiet:
    async def batch_changed(self, batch: Batch, progress: Progress) -> None:
        return None


def _sheet(n: int) -> ParsedSheet:
    rows = tuple(SheetRow(i + 2, (f"row {i}",), {"text": f"row {i}"}) for i in range(n))
    return ParsedSheet("Sheet1", ("Text",), rows)


async def _open_store(directory: Path, name: str) -> tuple[Store, str]:
    try:
        from storage import SqlStore
    except ImportError:  # storage not there yet: measure the engine alone
        from tests.fakes.memory_store import InMemoryStore

        return InMemoryStore(), "memory"
    store = await SqlStore.open(f"sqlite+aiosqlite:///{directory / name}.db")
    return store, "sqlite"


async def _one(base_url: str, api_key: str, concurrency: int, rows: int, latency: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        store, kind = await _open_store(Path(tmp), f"c{concurrency}")
        settings = WorkflowSettings(name="bench", concurrency=concurrency, timeout_s=60, max_attempts=3)
        client = DifyClient(base_url, api_key, timeout_s=60, max_connections=concurrency)
        service = BatchService(store, {"bench": settings}, {"bench": client}, _Quiet())
        await service.start()
        cpu0, wall0 = time.process_time(), time.perf_counter()
        batch = await service.submit(workflow="bench", owner="cli:bench", sheet=_sheet(rows), source_name="b")
        done = await service.wait(batch.id)
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        progress = await service.progress(batch.id)
        await service.shutdown(1)
        await client.aclose()
        await store.close()
    ideal = concurrency / latency
    rate = rows / wall
    return {
        "concurrency": concurrency,
        "rows": rows,
        "store": kind,
        "status": done.status.value,
        "succeeded": progress.succeeded,
        "wall_s": round(wall, 3),
        "rows_per_s": round(rate, 2),
        "ideal_rows_per_s": round(ideal, 2),
        "share_of_ideal": round(rate / ideal, 3),
        "cpu_ms_per_row": round(cpu * 1000 / rows, 3),
        "peak_lane_limit": service.lanes["bench"].gate.limit,
    }


def _start_fake(latency: float) -> tuple[subprocess.Popen[str], dict[str, str]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.dify", "--port", "0", "--latency", str(latency)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        proc.kill()
        raise RuntimeError("FakeDify did not start")
    info: dict[str, str] = json.loads(line)
    return proc, info


async def _main(args: argparse.Namespace) -> dict[str, Any]:
    proc, info = _start_fake(args.latency)
    try:
        plan = [(1, args.rows_single), (16, args.rows), (64, args.rows)]
        runs = [await _one(info["base_url"], info["api_key"], c, n, args.latency) for c, n in plan]
    finally:
        proc.terminate()
        proc.wait(10)
    return {"latency_s": args.latency, "runs": runs}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.throughput", description=__doc__)
    parser.add_argument("--rows", type=int, default=3000)
    parser.add_argument("--rows-single", type=int, default=40, help="rows at concurrency 1")
    parser.add_argument("--latency", type=float, default=0.5)
    print(json.dumps(asyncio.run(_main(parser.parse_args())), indent=2))


if __name__ == "__main__":
    main()
