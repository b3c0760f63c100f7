"""FakeDify as a process of its own, for tests that run the daemon in a subprocess.

    python -m tests.fakes.dify --port 0 --latency 0.5

prints one JSON line ``{"base_url": ..., "api_key": ...}`` once it listens; counters are at
``GET <host>/_fake/stats``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from tests.fakes.dify import FakeDify
from tests.fakes.dify_script import DEFAULT_FORM


async def _serve_forever(args: argparse.Namespace, form: list[dict[str, object]]) -> None:
    async with FakeDify.running(
        host=args.host,
        port=args.port,
        app_mode=args.mode,
        form=form,
        latency_s=args.latency,
        api_key=args.api_key,
        max_active_requests=args.max_active,
        stream_idle_timeout_s=args.idle_timeout,
        record_requests=False,
    ) as fake:
        print(json.dumps({"base_url": fake.base_url, "api_key": fake.api_key}), flush=True)
        await asyncio.Event().wait()


def main(argv: Sequence[str] | None = None) -> None:
    """Serve a FakeDify until killed; prints ``{"base_url", "api_key"}`` as one JSON line."""
    parser = argparse.ArgumentParser(prog="python -m tests.fakes.dify", description=main.__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument(
        "--mode", default="workflow", choices=["workflow", "completion", "chat", "advanced-chat"]
    )
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per run")
    parser.add_argument("--api-key", default=None)
    parser.add_argument("--form", default=None, help="a JSON file holding user_input_form")
    parser.add_argument("--max-active", type=int, default=0)
    parser.add_argument("--idle-timeout", type=float, default=300.0)
    args = parser.parse_args(argv)
    try:
        form = json.loads(Path(args.form).read_text(encoding="utf-8")) if args.form else list(DEFAULT_FORM)
        asyncio.run(_serve_forever(args, form))
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
