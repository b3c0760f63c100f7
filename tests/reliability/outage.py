"""Outage campaign: Dify goes away mid-batch (connection refused, or a proxy answering 503
for every row) and comes back; the real CLI must wait, say so, and finish every row
without spending their attempts.

    python -m tests.reliability.outage --rows 2000 --outage 20

prints JSON per kind: rows lost, the most attempts any row took, whether the progress line
said Dify was unreachable.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.fakes.dify_script import Plan, RunCall, server_error
from tests.reliability.campaign import Campaign, result_rows

UNREACHABLE = "Dify unreachable since"


async def outage_campaign(
    workdir: Path, *, rows: int, outage_s: float, kind: str = "refused", concurrency: int = 8,
    latency_s: float = 0.2,
) -> dict[str, Any]:
    """``kind``: "refused" (nothing listens on Dify's port) or "503" (a proxy answers for it)."""
    started = time.monotonic()
    down = False

    def proxy(call: RunCall) -> Plan | None:
        return Plan(fault=server_error(503)) if down else None

    # max_attempts 2, as in the report that found rows failing within seconds of an outage
    async with Campaign.open(workdir, rows=rows, concurrency=concurrency, latency_s=latency_s,
                             max_attempts=2, timeout_s=30, script=proxy) as c:
        port = int(c.dify.base_url.rsplit(":", 1)[1].split("/")[0])
        proc = await c.start_run()
        await c.until_succeeded(rows // 4)
        if kind == "refused":
            await c.dify.close(keep_runs=True)
        else:
            down = True
        await asyncio.sleep(outage_s)
        if kind == "refused":
            await c.dify.start(port=port)
        else:
            down = False
        code = await c.finish(proc, timeout_s=600)
        figures = c.figures()
        attempts = [int(r["attempts"] or 0) for r in result_rows(c.output)] if c.output.exists() else [0]
        told = any(UNREACHABLE in line for line in c.stderr)
    return {"campaign": "outage", "kind": kind, "outage_s": outage_s, "rows": rows, "exit_code": code,
            "rows_lost": figures["rows_lost"], "max_attempts_used": max(attempts),
            "progress_said_unreachable": told, "seconds": round(time.monotonic() - started, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.reliability.outage", description=__doc__)
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--outage", type=float, default=20.0, help="seconds Dify is away")
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    for kind in ("refused", "503"):
        with tempfile.TemporaryDirectory(prefix="outage-") as tmp:
            figures = asyncio.run(outage_campaign(Path(tmp), rows=args.rows, outage_s=args.outage,
                                                  kind=kind, concurrency=args.concurrency))
        print(json.dumps(figures), flush=True)


if __name__ == "__main__":
    main()
