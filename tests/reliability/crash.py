"""SIGKILL campaign: the real CLI killed again and again mid-batch, resumed each time.

    python -m tests.reliability.crash --rows 2000 --kills 20 [--mode blocking]

prints one JSON object per mode: rows lost, rows run twice at Dify, runs started again
although an earlier run of the same row had already finished there (the promise: 0).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.reliability.campaign import Campaign, scratch_database


async def crash_campaign(
    workdir: Path, *, rows: int, kills: int, mode: str, concurrency: int = 16, latency_s: float = 0.2,
    timeout_s: float = 5.0, seed: int = 1, pg_server: str | None = None,
) -> dict[str, Any]:
    """``pg_server``: run on a scratch database of this PostgreSQL server (default: SQLite)."""
    if pg_server is not None:
        async with scratch_database(pg_server) as url:
            figures = await _crash(workdir, rows, kills, mode, concurrency, latency_s, timeout_s, seed, url)
        return {**figures, "database": "postgresql"}
    figures = await _crash(workdir, rows, kills, mode, concurrency, latency_s, timeout_s, seed, None)
    return {**figures, "database": "sqlite"}


async def _crash(
    workdir: Path, rows: int, kills: int, mode: str, concurrency: int, latency_s: float,
    timeout_s: float, seed: int, database_url: str | None,
) -> dict[str, Any]:
    rng = random.Random(seed)
    started = time.monotonic()
    async with Campaign.open(workdir, rows=rows, mode=mode, concurrency=concurrency,
                             latency_s=latency_s, timeout_s=timeout_s, database_url=database_url) as c:
        proc = await c.start_run()
        step = rows / (kills + 1)
        done_kills = 0
        for k in range(kills):
            target = int(step * (k + 1))
            try:
                await c.until_succeeded(target, timeout_s=120)
            except TimeoutError:
                break
            if proc.returncode is not None:
                break
            await asyncio.sleep(rng.uniform(0, latency_s))  # land anywhere in a row's life
            proc.kill()
            await proc.wait()
            done_kills += 1
            proc = await c.resume()
        code = await c.finish(proc)
        figures = c.figures()
    return {"campaign": "crash", "mode": mode, "kills": done_kills, "concurrency": concurrency,
            "latency_s": latency_s, "exit_code": code, "seconds": round(time.monotonic() - started, 1),
            **figures}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.reliability.crash", description=__doc__)
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--mode", choices=["streaming", "blocking", "both"], default="both")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--pg", metavar="URL", help="also on this PostgreSQL server (scratch database)")
    args = parser.parse_args()
    modes = ["streaming", "blocking"] if args.mode == "both" else [args.mode]
    for server in [None, args.pg] if args.pg else [None]:
        for mode in modes:
            with tempfile.TemporaryDirectory(prefix="crash-") as tmp:
                figures = asyncio.run(crash_campaign(
                    Path(tmp), rows=args.rows, kills=args.kills, mode=mode, concurrency=args.concurrency,
                    latency_s=args.latency, seed=args.seed, pg_server=server))
            print(json.dumps(figures), flush=True)


if __name__ == "__main__":
    main()
