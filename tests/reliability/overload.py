"""Overload campaign: Dify refuses a share of rows once ("Too many requests" 400 as 1.14.1
sends it, or 429 without Retry-After), or refuses above its real capacity.

    python -m tests.reliability.overload --rows 600 --share 0.05

prints JSON: the time Dify was busy against the ideal (rows / concurrency x latency), the
peak concurrency at Dify, and how often it refused.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import tempfile
import time
import zlib
from pathlib import Path
from typing import Any

from tests.fakes.dify_script import Plan, RunCall, rate_limited, too_many_requests
from tests.reliability.campaign import Campaign


def one_off_refusals(share: float) -> Any:
    """Refuse the first attempt of ``share`` of the rows (chosen by a stable hash of the row)."""
    def script(call: RunCall) -> Plan | None:
        h = zlib.crc32(call.key.encode())
        if call.attempt == 1 and h % 10_000 < share * 10_000:
            return Plan(fault=rate_limited(None) if h % 2 else too_many_requests(8))
        return None
    return script


async def overload_campaign(
    workdir: Path, *, rows: int, share: float = 0.05, concurrency: int = 8, latency_s: float = 0.5,
    capacity: int = 0,
) -> dict[str, Any]:
    """One-off refusals of ``share`` of the rows, or (``capacity`` > 0) an app that holds
    only that many runs at once and refuses the rest."""
    started = time.monotonic()
    options: dict[str, Any] = {"max_active_requests": capacity} if capacity else {
        "script": one_off_refusals(share)}
    async with Campaign.open(workdir, rows=rows, concurrency=concurrency, latency_s=latency_s,
                             timeout_s=60, **options) as c:
        code = await c.finish(await c.start_run(), timeout_s=600)
        span = c.span_s()
        figures = c.figures()
        refused = sum(c.dify.counters.requests_by_key.values()) - figures["runs"]
        levels = sorted(c.dify.counters.admitted_at)
    slots = min(concurrency, capacity) if capacity else concurrency
    ideal = math.ceil(rows / slots) * latency_s
    return {"campaign": "overload", "kind": f"capacity {capacity}" if capacity else f"one-off {share:.0%}",
            "rows": rows, "concurrency": concurrency, "latency_s": latency_s, "exit_code": code,
            "busy_s": round(span, 2), "ideal_s": round(ideal, 2), "x_ideal": round(span / ideal, 2),
            "refused": refused, "peak_in_flight_at_dify": figures["peak_in_flight_at_dify"],
            "median_in_flight_at_admission": levels[len(levels) // 2] if levels else 0,
            "rows_lost": figures["rows_lost"], "seconds": round(time.monotonic() - started, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.reliability.overload", description=__doc__)
    parser.add_argument("--rows", type=int, default=600)
    parser.add_argument("--share", type=float, nargs="*", default=[0.05, 0.22])
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--latency", type=float, default=0.5)
    parser.add_argument("--capacity", type=int, default=5, help="also: an app holding this many")
    args = parser.parse_args()
    runs: list[dict[str, Any]] = [{"share": s} for s in args.share]
    if args.capacity:
        runs.append({"capacity": args.capacity})
    for extra in runs:
        with tempfile.TemporaryDirectory(prefix="overload-") as tmp:
            figures = asyncio.run(overload_campaign(Path(tmp), rows=args.rows, concurrency=args.concurrency,
                                                    latency_s=args.latency, **extra))
        print(json.dumps(figures), flush=True)


if __name__ == "__main__":
    main()
