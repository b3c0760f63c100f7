"""Big sheets measured as a user meets them: whole `dify-batch` processes (issue 13, points 1-3).

    python -m tests.bench.big_sheets [--rows 100000] [--big-rows 1000000] [--only start|results|too_big]

- start: ``dify-batch run`` on a rows × 10 .xlsx; seconds from process start to the first
  call FakeDify receives, and the process's peak RSS over the first seconds of running
  (``--phases``: when each phase began and ended, with CPU seconds and memory).
- results: ``dify-batch result ID`` of a finished batch of that many rows (17 columns);
  wall time and peak RSS.
- too_big: ``dify-batch run`` on a ``--big-rows`` CSV and .xlsx (default limits); wall
  time to the refusal and peak RSS, and the message.

Peak RSS is the child's own ``ru_maxrss`` from wait4. Prints JSON; figures, not assertions.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web

from engine.models import Batch, BatchStatus, Row, RowStatus, RowUpdate
from engine.sheets.ooxml import SheetPart, WorkbookWriter, column_letter, value_cell
from storage import SqlStore
from tests.bench.sheets import xlsx_bytes
from tests.fakes.dify import FakeDify
from tests.fakes.dify_script import control

KEY_ENV = "DIFY_BENCH_KEY"
FORM = tuple(control("paragraph", f"t{i}", f"Text {i}", required=True) for i in range(5)) + tuple(
    control("number", f"n{i}", f"Num {i}") for i in range(5)
)
WORDS = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "数据", "表格"]
RUN_AFTER_FIRST_CALL_S = 4.0


class TimedDify(FakeDify):
    """FakeDify that notes the wall time of the first run request it receives."""

    first_run_at: float | None = None

    async def _run(self, request: web.Request) -> web.StreamResponse:
        if self.first_run_at is None:
            self.first_run_at = time.time()
        return await super()._run(request)


def _sheet_rows(n: int) -> Iterator[list[Any]]:
    rnd = random.Random(7)
    yield [f"Text {i}" for i in range(5)] + [f"Num {i}" for i in range(5)]
    for _ in range(n):
        yield [" ".join(rnd.choices(WORDS, k=9)) for _ in range(5)] + [rnd.random() * 1000 for _ in range(5)]


def write_xlsx(path: Path, rows: Iterator[list[Any]]) -> None:
    """A plain .xlsx quickly (openpyxl takes minutes for a million rows)."""
    with path.open("wb") as fh:
        book = WorkbookWriter(fh)
        sheet = book.add_sheet(SheetPart("Sheet1", ()))
        for values in rows:
            n = sheet.next_row
            sheet.add_row("".join(value_cell(f"{column_letter(i)}{n}", v) for i, v in enumerate(values)))
        book.close()


def _config(tmp: Path, dify: FakeDify, *, max_rows: int | None, max_file_mb: int | None) -> Path:
    limits = ["[limits]"]
    if max_rows:
        limits.append(f"max_rows = {max_rows}")
    if max_file_mb:
        limits.append(f"max_file_mb = {max_file_mb}")
    path = tmp / f"config-{max_rows}.toml"
    path.write_text(
        "\n".join([
            "[daemon]",
            f'database_url = "sqlite+aiosqlite:///{tmp / "bench.db"}"',
            f'data_dir = "{tmp / "data"}"',
            *limits,
            "[workflows.bench]",
            f'base_url = "{dify.base_url}"',
            f'api_key_env = "{KEY_ENV}"',
            "concurrency = 8",
            "timeout_s = 60",
        ]),
        encoding="utf-8",
    )
    return path


class Child:
    """A ``dify-batch`` process whose start time and own peak RSS are known."""

    def __init__(
        self, args: list[str], cwd: Path, dify: FakeDify, profile: Path | None = None, module: str = "bot"
    ) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("DIFY_")}
        env[KEY_ENV] = dify.api_key
        if module != "bot":  # a module of this checkout, run from the temporary folder
            env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
        self._err = tempfile.TemporaryFile()  # noqa: SIM115 - closed in finish; a pipe could stall the child
        self.started = time.time()
        self.proc = subprocess.Popen(
            [sys.executable, *(["-m", "cProfile", "-o", str(profile)] if profile else []), "-m", module,
             *args],
            cwd=cwd, env=env,
            stdout=subprocess.DEVNULL, stderr=self._err,
        )

    async def finish(self, kill: bool = False, interrupt: bool = False) -> dict[str, Any]:
        # the child's own high-water mark: ru_maxrss from wait4 would count the bench's own
        # memory, which the child shared between fork and exec; read before a kill, since a
        # killed child soon has no memory left to report
        peak_kb = _vm_hwm_kb(self.proc.pid)
        if kill or interrupt:
            self.proc.send_signal(signal.SIGINT if interrupt else signal.SIGKILL)
        while True:
            peak_kb = max(peak_kb, _vm_hwm_kb(self.proc.pid))
            pid, status, usage = os.wait4(self.proc.pid, os.WNOHANG)  # noqa: ASYNC222 - WNOHANG
            if pid:
                break
            await asyncio.sleep(0.005)
        ended = time.time()
        self.proc.returncode = os.waitstatus_to_exitcode(status)
        self._err.seek(0)
        self.stderr = self._err.read().decode(errors="replace")
        stderr = self.stderr[-400:]
        self._err.close()
        return {
            "wall_s": round(ended - self.started, 2),
            "peak_rss_mb": round(peak_kb / 1024, 1),
            "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
            "exit": self.proc.returncode,
            "stderr": stderr,
        }


def _vm_hwm_kb(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0  # a zombie has no memory left to report


def _cpu_s(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return round((int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"), 2)  # utime + stime


async def bench_start(
    tmp: Path, dify: TimedDify, rows: int, profile: bool = False, phases: bool = False
) -> dict[str, Any]:
    sheet = tmp / "start.xlsx"
    # openpyxl write-only mode: inline strings and no <dimension> (Excel writes shared strings)
    sheet.write_bytes(xlsx_bytes(_sheet_rows(rows), write_only=True))
    config = _config(tmp, dify, max_rows=rows, max_file_mb=100)
    dify.first_run_at = None
    output = str(tmp / "o.xlsx")
    args = ["run", "--workflow", "bench", "--config", str(config), "--output", output, str(sheet)]
    module = "tests.bench.phases" if phases else "bot"
    child = Child(args, tmp, dify, tmp / "start.prof" if profile else None, module=module)
    while dify.first_run_at is None and child.proc.poll() is None:
        await asyncio.sleep(0.005)
    first = dify.first_run_at
    cpu_to_first = _cpu_s(child.proc.pid)  # the machine is shared: CPU seconds do not count waiting
    await asyncio.sleep(RUN_AFTER_FIRST_CALL_S)  # keep running while the rest is stored
    done = len(dify.counters.runs_by_trace)
    out = await child.finish(kill=not profile, interrupt=profile)
    if phases:  # when each phase began and ended, the first call marked (tests/bench/phases.py)
        called = f"{first - child.started:6.3f} s" if first is not None else "never"
        print(f"FakeDify got the first call at {called}", file=sys.stderr)
        called_yet = False  # up to the first call; after it only new highs of memory
        for line in child.stderr.splitlines():
            if line.startswith("PHASE") and (not called_yet or "memory" in line):
                print(line, file=sys.stderr)
                called_yet = called_yet or "> DifyClient.run" in line
    if profile:  # where the time to the first call goes (the pause at Ctrl-C lets it write)
        import pstats

        pstats.Stats(str(tmp / "start.prof"), stream=sys.stderr).sort_stats("cumulative").print_stats(40)
    return {
        "rows": rows,
        "input_file_mb": round(sheet.stat().st_size / 1e6, 1),
        "first_dify_call_s": None if first is None else round(first - child.started, 2),
        "target_first_call_s": 2.0,
        "cpu_s_to_first_call": cpu_to_first,
        "load_average_1m": round(os.getloadavg()[0], 2),
        "peak_rss_mb": out["peak_rss_mb"],
        "target_peak_rss_mb": 200,
        "measured_over_s_after_first_call": RUN_AFTER_FIRST_CALL_S,
        "dify_runs_done": done,
        **({"stderr": out["stderr"]} if first is None else {}),
    }


async def _finished_batch(db: Path, rows: int) -> str:
    store = await SqlStore.open(f"sqlite+aiosqlite:///{db}")
    now = datetime.now(UTC)
    columns = tuple(f"Text {i}" for i in range(5)) + tuple(f"Num {i}" for i in range(5))
    batch = Batch("bench1", "bench", "cli:bench", BatchStatus.COMPLETED, rows, now, columns=columns,
                  source_name="bench.xlsx", started_at=now, finished_at=now + timedelta(minutes=30))
    sheet = _sheet_rows(rows)
    next(sheet)
    made = [Row("bench1", i, i + 2, tuple(v), {}) for i, v in enumerate(sheet)]
    await store.create_batch(batch, made)
    for start in range(0, rows, 5_000):
        await store.update_rows([
            RowUpdate("bench1", i, RowStatus.SUCCEEDED, attempts=1, run_id=f"run-{i:08d}", tokens=120,
                      elapsed_s=0.5 + (i % 10) / 10, finished_at=now,
                      outputs={"answer": "=" + str(made[i].cells[0])[:60], "score": i % 7, "tags": ["a"]})
            for i in range(start, min(rows, start + 5_000))
        ])
    await store.close()
    return batch.id


async def bench_results(tmp: Path, dify: FakeDify, rows: int) -> dict[str, Any]:
    config = _config(tmp, dify, max_rows=rows, max_file_mb=100)
    batch_id = await _finished_batch(tmp / "bench.db", rows)
    out_file = tmp / "results.xlsx"
    child = Child(["result", batch_id, "--config", str(config), "--output", str(out_file)], tmp, dify)
    out = await child.finish()
    return {
        "rows": rows,
        "columns": 10 + 3 + 6,
        "wall_s": out["wall_s"],
        "cpu_s": out["cpu_s"],
        "load_average_1m": round(os.getloadavg()[0], 2),
        "target_s": 6.0,
        "peak_rss_mb": out["peak_rss_mb"],
        "target_peak_rss_mb": 150,
        "results_file_mb": round(out_file.stat().st_size / 1e6, 1) if out_file.exists() else None,
        **({"stderr": out["stderr"]} if out["exit"] else {}),
    }


async def bench_too_big(tmp: Path, dify: FakeDify, rows: int) -> dict[str, Any]:
    config = _config(tmp, dify, max_rows=None, max_file_mb=None)  # the defaults: 10,000 rows, 20 MB
    csv_file = tmp / "big.csv"
    with csv_file.open("w", encoding="utf-8", newline="") as fh:
        fh.write("Text 0,Num 0\r\n")
        fh.writelines(f"r{i},{i}\r\n" for i in range(rows))
    xlsx_file = tmp / "big.xlsx"
    write_xlsx(xlsx_file, iter([["Text 0", "Num 0"], *([f"r{i}", i] for i in range(rows))]))
    figures: dict[str, Any] = {"rows": rows, "target_s": 2.0, "target_peak_rss_mb": 100}
    for name, path in (("csv", csv_file), ("xlsx", xlsx_file)):
        child = Child(["run", "--workflow", "bench", "--config", str(config), str(path)], tmp, dify)
        out = await child.finish()
        figures[name] = {
            "file_mb": round(path.stat().st_size / 1e6, 1),
            "wall_s": out["wall_s"],
            "cpu_s": out["cpu_s"],
            "load_average_1m": round(os.getloadavg()[0], 2),
            "peak_rss_mb": out["peak_rss_mb"],
            "exit": out["exit"],
            "message": out["stderr"].strip().splitlines()[-1] if out["stderr"].strip() else "",
        }
    return figures


async def _main(args: argparse.Namespace) -> dict[str, Any]:
    result: dict[str, Any] = {}
    async with TimedDify.running(form=list(FORM), latency_s=0.05, record_requests=False) as dify:
        for name, bench, rows in (
            ("start", functools.partial(bench_start, profile=args.profile, phases=args.phases), args.rows),
            ("results", bench_results, args.rows),
            ("too_big", bench_too_big, args.big_rows),
        ):
            if args.only and name != args.only:
                continue
            with tempfile.TemporaryDirectory() as tmp:
                result[name] = await bench(Path(tmp), dify, rows)  # type: ignore[arg-type]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.big_sheets", description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--big-rows", type=int, default=1_000_000)
    parser.add_argument("--only", choices=["start", "results", "too_big"])
    parser.add_argument("--profile", action="store_true", help="profile the start run (cProfile, to stderr)")
    parser.add_argument(
        "--phases", action="store_true", help="time the start run's phases (tests/bench/phases.py, to stderr)"
    )
    print(json.dumps(asyncio.run(_main(parser.parse_args())), indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
