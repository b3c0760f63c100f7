"""Engine throughput against FakeDify at a fixed latency: rows/s beside the ideal, CPU per row.

Run ``python -m tests.bench.throughput [--rows 3000] [--latency 0.5] [--repeat 3]``; prints
JSON. FakeDify runs in a child process, so ``time.process_time()`` here counts only the
daemon's side: BatchService + DifyClient (httpx over aiohttp) + SqlStore on SQLite.
Each configuration runs ``--repeat`` times and the median run (by rows/s) is reported,
beside a bare DifyClient loop at the highest concurrency: the ceiling the engine is
measured against, so its own overhead is the gap between the two.
Figures, not assertions (DESIGN §9: ≥ 95 % of ideal at 64, ≤ 3 ms CPU a row).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from engine.dify.client import DifyClient
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
    from storage import SqlStore

    store = await SqlStore.open(f"sqlite+aiosqlite:///{directory / name}.db")
    return store, "sqlite"


def _figures(concurrency: int, rows: int, latency: float, wall: float, cpu: float) -> dict[str, Any]:
    ideal = concurrency / latency
    rate = rows / wall
    return {
        "concurrency": concurrency,
        "rows": rows,
        "wall_s": round(wall, 3),
        "rows_per_s": round(rate, 2),
        "ideal_rows_per_s": round(ideal, 2),
        "share_of_ideal": round(rate / ideal, 3),
        "cpu_ms_per_row": round(cpu * 1000 / rows, 3),
    }


async def _engine(base_url: str, api_key: str, concurrency: int, rows: int, latency: float) -> dict[str, Any]:
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
    return {
        **_figures(concurrency, rows, latency, wall, cpu),
        "store": kind,
        "status": done.status.value,
        "succeeded": progress.succeeded,
        "peak_lane_limit": service.lanes["bench"].gate.limit,
    }


async def _bare(base_url: str, api_key: str, concurrency: int, rows: int, latency: float) -> dict[str, Any]:
    """The same calls with no engine: ``concurrency`` workers looping over the rows."""
    client = DifyClient(base_url, api_key, timeout_s=60, max_connections=concurrency)
    todo = iter(range(rows))
    ok = 0

    async def worker() -> None:
        nonlocal ok
        for i in todo:
            result = await client.run({"text": f"row {i}"}, user="cli:bench", trace_id=f"bare-{i}")
            ok += result.succeeded

    cpu0, wall0 = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    await client.aclose()
    return {**_figures(concurrency, rows, latency, wall, cpu), "client": "bare DifyClient", "succeeded": ok}


Measure = Callable[[str, str, int, int, float], Awaitable[dict[str, Any]]]


async def _median(
    measure: Measure, info: dict[str, str], concurrency: int, rows: int, args: Any
) -> dict[str, Any]:
    runs = []
    for _ in range(args.repeat):
        gc.collect()  # start each run from the same heap, not the previous run's leftovers
        runs.append(await measure(info["base_url"], info["api_key"], concurrency, rows, args.latency))
    runs.sort(key=lambda r: r["rows_per_s"])
    median = dict(runs[len(runs) // 2])
    median["of_runs"] = len(runs)
    median["share_of_ideal_all_runs"] = [r["share_of_ideal"] for r in runs]
    median["cpu_ms_per_row_median"] = round(statistics.median(r["cpu_ms_per_row"] for r in runs), 3)
    return median


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
        plan = [(c, args.rows_single if c == 1 else args.rows) for c in args.concurrency]
        engine = [await _median(_engine, info, c, n, args) for c, n in plan]
        top = max(args.concurrency)
        bare = await _median(_bare, info, top, args.rows, args) if args.bare else None
    finally:
        proc.terminate()
        proc.wait(10)
    return {
        "latency_s": args.latency,
        "reported": f"median of {args.repeat} runs per configuration (by rows/s)",
        "runs": engine,
        "bare_client_ceiling": bare,
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.throughput", description=__doc__)
    parser.add_argument("--rows", type=int, default=3000)
    parser.add_argument("--rows-single", type=int, default=40, help="rows at concurrency 1")
    parser.add_argument("--latency", type=float, default=0.5)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 16, 64])
    parser.add_argument("--no-bare", dest="bare", action="store_false", help="skip the bare-client ceiling")
    print(json.dumps(asyncio.run(_main(parser.parse_args())), indent=2))


if __name__ == "__main__":
    main()
