"""Two real `dify-batch` processes on one database, against FakeDify over loopback.

A `run` starts a batch; while it runs, a second process comes up on the same database:
`resume ID` (the same batch asked for again) or `serve` (a daemon, which recovers and
discovers running batches). What Dify executed is counted in the fake, per row: no row
may run twice (nothing was killed, so nothing may be re-run at all), none may be lost, and
the calls in flight at Dify may never exceed the workflow's concurrency limit.

The tests in this package run it small; by hand, large, printing figures as JSON:

    python -m tests.reliability.processes --rows 2000 --db postgres --second serve
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import signal
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from storage.tables import SLOT
from tests.fakes.dify import FakeDify
from tests.fakes.dify_script import Plan

ENTRY = Path(sys.executable).parent / "dify-batch"
"""The venv's own entry point: another venv's `dify-batch` would run another tree."""
API_KEY_ENV = "DIFY_RELIABILITY_KEY"
BATCH_LINE = re.compile(r"Batch ([0-9a-f]{6}):")


@dataclass
class Processes:
    """Starts `dify-batch` processes in ``workdir`` on ``database_url``, each with its own
    config (and data folder, as on separate machines), output going to files."""

    workdir: Path
    database_url: str
    dify: FakeDify
    concurrency: int = 4
    timeout_s: float = 20.0

    def config(self, name: str, *, extra: Sequence[str] = ()) -> Path:
        path = self.workdir / f"{name}.toml"
        path.write_text(
            "\n".join([
                "[daemon]",
                f'database_url = "{self.database_url}"',
                f'data_dir = "{self.workdir / (name + "-data")}"',
                'http_host = "127.0.0.1"',
                "http_port = 0",
                "shutdown_grace_s = 5",
                "[workflows.summarize]",
                f'base_url = "{self.dify.base_url}"',
                f'api_key_env = "{API_KEY_ENV}"',
                f"concurrency = {self.concurrency}",
                f"timeout_s = {self.timeout_s:g}",
                "backoff_base_s = 0.05",
                "backoff_max_s = 0.2",
                "overload_pause_s = 0.05",
                *extra,
            ]) + "\n",
            encoding="utf-8",
        )
        return path

    async def start(self, name: str, *args: str, umask: int | None = None) -> Proc:
        env = {k: v for k, v in os.environ.items() if not k.startswith("DIFY_")}
        env["LC_ALL"] = "C.UTF-8"  # the campaign reads the CLI's English, whatever this machine speaks
        env[API_KEY_ENV] = self.dify.api_key
        env["PYTHONUNBUFFERED"] = "1"
        out, err = self.workdir / f"{name}.out", self.workdir / f"{name}.err"
        with out.open("wb") as stdout, err.open("wb") as stderr:
            process = await asyncio.create_subprocess_exec(
                str(ENTRY), *args, "--config", str(self.config(name)), cwd=self.workdir, env=env,
                stdout=stdout, stderr=stderr, stdin=asyncio.subprocess.DEVNULL,
                preexec_fn=(lambda: os.umask(umask)) if umask is not None else None,
            )
        return Proc(name, process, out, err)


@dataclass
class Proc:
    name: str
    process: asyncio.subprocess.Process
    out: Path
    err: Path

    def stderr(self) -> str:
        return self.err.read_text(encoding="utf-8", errors="replace")

    async def batch_id(self, timeout_s: float = 30.0) -> str:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if found := BATCH_LINE.search(self.stderr()):
                return found.group(1)
            if self.process.returncode is not None:
                break
            await asyncio.sleep(0.02)
        raise AssertionError(f"{self.name} named no batch:\n{self.stderr()}")

    async def exit_code(self, timeout_s: float = 120.0) -> int:
        try:
            return await asyncio.wait_for(self.process.wait(), timeout_s)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
            raise AssertionError(f"{self.name} did not end:\n{self.stderr()[-3000:]}") from None

    async def stop(self) -> int:
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        return await self.exit_code(60)


def write_sheet(path: Path, rows: int) -> Path:
    path.write_text("Text\n" + "".join(f"row {i}\n" for i in range(rows)), encoding="utf-8")
    return path


async def until(predicate: Any, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


@contextlib.asynccontextmanager
async def pg_database(server_url: str) -> AsyncIterator[str]:
    """A fresh database on the server for one run (a process cannot be handed a schema)."""
    name = f"rel_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


READY = {"resume": "Resuming batch", "serve": "daemon ready"}
"""What the second process says once it recovered and runs."""


async def second_process_on_a_running_batch(
    procs: Processes, *, rows: int, second: str, join_after: float = 0.1,
    latency_s: float = 0.05, waiting_latency_s: float = 0.3,
) -> dict[str, Any]:
    """`run` a batch; once ``join_after`` of its rows succeeded, start ``second`` ("resume" or
    "serve") on the same database; return what Dify executed and how the processes ended.

    Until the second process says it runs, Dify answers slowly (``waiting_latency_s``), so
    the first is still mid-batch however long a start takes on a busy machine."""
    dify = procs.dify
    second_up = False
    dify.script = lambda _call: Plan(latency_s=latency_s if second_up else waiting_latency_s)
    sheet = write_sheet(procs.workdir / "sheet.csv", rows)
    began = time.monotonic()
    first = await procs.start("first", "run", str(sheet), "--workflow", "summarize")
    batch_id = await first.batch_id()
    await until(lambda: sum(dify.counters.succeeded_by_key.values()) >= rows * join_after, 120,
                "the first process to get going")
    if second == "resume":
        other = await procs.start(
            "second", "resume", batch_id, "--output", str(procs.workdir / "second-results.xlsx")
        )
    else:
        other = await procs.start("second", "serve")
    await until(lambda: READY[second] in other.stderr() or other.process.returncode is not None, 300,
                f"the second process ({second}) to come up")
    second_up = True
    left_when_up = rows - sum(dify.counters.succeeded_by_key.values())
    sharing = asyncio.create_task(_watch_slots(procs.database_url, holders := {}))
    try:
        first_code = await first.exit_code(600)
        second_code = await (other.exit_code(600) if second == "resume" else other.stop())
    finally:
        sharing.cancel()
        await asyncio.gather(sharing, return_exceptions=True)
    runs = dify.counters.runs_by_key
    return {
        "rows": rows,
        "second": second,
        "database": make_url(procs.database_url).get_backend_name(),
        "rows_left_when_second_up": left_when_up,
        "first_exit": first_code,
        "second_exit": second_code,
        "rows_run": len(runs),
        "rows_run_twice": sum(1 for n in runs.values() if n > 1),
        "rows_never_run": rows - len(runs),
        "peak_in_flight": dify.counters.peak_in_flight,
        "limit": procs.concurrency,
        "seconds": round(time.monotonic() - began, 2),
        "most_slots_held_by_each_process": sorted(holders.values(), reverse=True),
        "first_stderr_tail": first.stderr()[-400:] if first_code else "",
        "second_stderr_tail": other.stderr()[-400:] if second_code else "",
    }


async def _watch_slots(database_url: str, holders: dict[str, int]) -> None:
    """Sample the shared slot table: the most slots each process held at once."""
    engine = create_async_engine(database_url)
    try:
        while True:
            try:
                async with engine.connect() as conn:
                    found = await conn.execute(select(SLOT.c.owner, func.count()).group_by(SLOT.c.owner))
                    for owner, count in found.all():
                        holders[owner] = max(holders.get(owner, 0), count)
            except Exception:
                pass
            await asyncio.sleep(0.1)
    finally:
        await engine.dispose()


async def _main(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        timing = {"latency_s": args.latency, "waiting_latency_s": args.wait_latency}
        async with FakeDify.running(record_requests=False) as dify:
            if args.db == "sqlite":
                url = f"sqlite+aiosqlite:///{Path(tmp) / 'shared.db'}"
                procs = Processes(Path(tmp), url, dify, concurrency=args.concurrency)
                return await second_process_on_a_running_batch(
                    procs, rows=args.rows, second=args.second, **timing)
            async with pg_database(args.pg) as url:
                procs = Processes(Path(tmp), url, dify, concurrency=args.concurrency)
                return await second_process_on_a_running_batch(
                    procs, rows=args.rows, second=args.second, **timing)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="postgres")
    parser.add_argument("--second", choices=("resume", "serve"), default="serve")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--latency", type=float, default=0.2, help="seconds per Dify run")
    parser.add_argument("--wait-latency", type=float, default=0.5,
                        help="seconds per Dify run until the second process is up")
    parser.add_argument("--pg", default=os.environ.get(
        "DIFY_BATCH_TEST_PG", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"))
    print(json.dumps(asyncio.run(_main(parser.parse_args(argv))), indent=2))


if __name__ == "__main__":
    main()
