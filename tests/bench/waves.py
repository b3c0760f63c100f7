"""Our 5-slot lane against Dify's own "Run Batch" scheduling on heavy-tailed latencies.

Dify's web app runs a batch in waves of five and starts the next wave only when the
slowest row of the last one is done; our lane refills a slot as soon as any row ends.
Both run the same rows, with the same per-row latencies (log-normal, seeded), against
FakeDify. Run ``python -m tests.bench.waves [--rows 100] [--median 0.2] [--sigma 1.0]``;
prints JSON (medians of ``--repeat`` runs).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from engine.dify.client import DifyClient
from engine.models import Batch, ParsedSheet, Progress, SheetRow
from engine.service import BatchService
from engine.settings import WorkflowSettings
from storage import SqlStore
from tests.fakes.dify import FakeDify
from tests.fakes.dify_script import Plan, RunCall

SLOTS = 5


class _Quiet:
    async def batch_changed(self, batch: Batch, progress: Progress) -> None:
        return None


def latencies(rows: int, median_s: float, sigma: float, seed: int) -> dict[str, float]:
    rng = random.Random(seed)
    return {f"row {i}": min(rng.lognormvariate(0, sigma) * median_s, 30 * median_s) for i in range(rows)}


async def dify_waves(fake: FakeDify, keys: list[str]) -> float:
    """Five at a time; the next five start when all five are done."""
    client = DifyClient(fake.base_url, fake.api_key, timeout_s=120, max_connections=SLOTS)
    start = time.perf_counter()
    for i in range(0, len(keys), SLOTS):
        wave = keys[i : i + SLOTS]
        await asyncio.gather(
            *(client.run({"text": k}, user="bench", trace_id=f"w-{k}") for k in wave)
        )
    elapsed = time.perf_counter() - start
    await client.aclose()
    return elapsed


async def our_lane(fake: FakeDify, keys: list[str], directory: Path) -> float:
    store = await SqlStore.open(f"sqlite+aiosqlite:///{directory / 'waves.db'}")
    settings = WorkflowSettings(name="bench", concurrency=SLOTS, timeout_s=120)
    client = DifyClient(fake.base_url, fake.api_key, timeout_s=120, max_connections=SLOTS)
    service = BatchService(store, {"bench": settings}, {"bench": client}, _Quiet())
    await service.start()
    sheet = ParsedSheet("S", ("Text",), tuple(SheetRow(i + 2, (k,), {"text": k}) for i, k in enumerate(keys)))
    start = time.perf_counter()
    batch = await service.submit(workflow="bench", owner="cli:bench", sheet=sheet, source_name="b")
    await service.wait(batch.id)
    elapsed = time.perf_counter() - start
    await service.shutdown(1)
    await client.aclose()
    await store.close()
    return elapsed


async def _main(args: argparse.Namespace) -> dict[str, Any]:
    table = latencies(args.rows, args.median, args.sigma, args.seed)
    keys = list(table)

    def script(call: RunCall) -> Plan:
        return Plan(latency_s=table[call.key])

    waves, ours = [], []
    async with FakeDify.running(script=script, record_requests=False) as fake:
        for _ in range(args.repeat):
            waves.append(await dify_waves(fake, keys))
            with tempfile.TemporaryDirectory() as tmp:
                ours.append(await our_lane(fake, keys, Path(tmp)))
    lower_bound = max(sum(table.values()) / SLOTS, max(table.values()))
    return {
        "rows": args.rows,
        "slots": SLOTS,
        "latency": {"median_s": args.median, "sigma": args.sigma, "max_s": round(max(table.values()), 3),
                    "sum_s": round(sum(table.values()), 3)},
        "repeat": args.repeat,
        "dify_waves_s_median": round(statistics.median(waves), 3),
        "our_lane_s_median": round(statistics.median(ours), 3),
        "speedup": round(statistics.median(waves) / statistics.median(ours), 2),
        "lower_bound_s": round(lower_bound, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.waves", description=__doc__)
    parser.add_argument("--rows", type=int, default=100)
    parser.add_argument("--median", type=float, default=0.2, help="median row latency, s")
    parser.add_argument("--sigma", type=float, default=1.0, help="log-normal sigma (tail weight)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3)
    print(json.dumps(asyncio.run(_main(parser.parse_args())), indent=2))


if __name__ == "__main__":
    main()
