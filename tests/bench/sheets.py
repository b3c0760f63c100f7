"""Sheet builders for tests, and the 100,000-row read/write benchmark (`python -m tests.bench.sheets`)."""

from __future__ import annotations

import asyncio
import io
import json
import random
import resource
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook

from engine.models import (
    Batch,
    BatchStatus,
    FieldType,
    FormField,
    InputForm,
    Row,
    RowStatus,
    SheetLimits,
)


def xlsx_bytes(rows: Iterable[Sequence[Any]], title: str = "Sheet1", write_only: bool = False) -> bytes:
    """An .xlsx whose first sheet holds ``rows`` from A1 (None leaves a cell empty)."""
    wb = Workbook(write_only=write_only)
    ws = wb.create_sheet(title) if write_only else wb.active
    if not write_only:
        ws.title = title
    for r in rows:
        ws.append(list(r))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def patch_member(data: bytes, name: str, edit: Callable[[bytes], bytes]) -> bytes:
    """Rewrite one part of a zip file (e.g. a sheet's XML) and return the new zip."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            blob = src.read(info)
            dst.writestr(info.filename, edit(blob) if info.filename == name else blob)
    return out.getvalue()


def add_member(data: bytes, name: str, blob: bytes) -> bytes:
    out = io.BytesIO(data)
    with zipfile.ZipFile(out, "a", zipfile.ZIP_DEFLATED) as z:
        z.writestr(name, blob)
    return out.getvalue()


BENCH_FORM = InputForm(
    tuple(FormField(f"t{i}", f"Text {i}", FieldType.PARAGRAPH, required=True) for i in range(5))
    + tuple(FormField(f"n{i}", f"Num {i}", FieldType.NUMBER) for i in range(5))
)


def _bench_rows(n: int) -> Iterable[list[Any]]:
    rnd = random.Random(7)
    words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "数据", "表格"]
    yield [f.label for f in BENCH_FORM.fields]
    for _ in range(n):
        texts = [" ".join(rnd.choices(words, k=9)) for _ in range(5)]
        yield [*texts, *(rnd.random() * 1000 for _ in range(5))]


def _rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


class _Quiet:
    async def batch_changed(self, batch: Batch, progress: Any) -> None:
        return None


async def _submit_seconds(parsed: Any) -> float:
    """Store the checked sheet as a batch (SqlStore on SQLite): the rest of 'started'."""
    from engine.service import BatchService
    from engine.settings import WorkflowSettings
    from storage import SqlStore
    from tests.fakes.scripted_workflow import ScriptedWorkflow

    with tempfile.TemporaryDirectory() as tmp:
        store = await SqlStore.open(f"sqlite+aiosqlite:///{tmp}/bench.db")
        service = BatchService(store, {"b": WorkflowSettings(name="b")}, {"b": ScriptedWorkflow()}, _Quiet())
        t0 = time.perf_counter()
        batch = await service.submit(workflow="b", owner="cli:bench", sheet=parsed, source_name="bench.xlsx",
                                     start=False)
        await service.stored(batch.id)  # the rest of a big sheet is stored after submit returns
        elapsed = time.perf_counter() - t0
        await store.close()
    return elapsed


def main() -> None:
    from engine.sheets.reading import read_sheet
    from engine.sheets.results import write_results

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    t0 = time.perf_counter()
    data = xlsx_bytes(_bench_rows(n), write_only=True)
    gen_s = time.perf_counter() - t0
    limits = SheetLimits(max_rows=n, max_file_bytes=200 << 20, max_unzipped_bytes=1 << 30)

    base_rss = _rss_mb()
    t0 = time.perf_counter()
    parsed = read_sheet(data, "bench.xlsx", BENCH_FORM, limits)
    read_s = time.perf_counter() - t0
    read_rss = _rss_mb()  # generation is write-only (small), so this peak is the read's
    if not parsed.ok or len(parsed.rows) != n:
        raise SystemExit(f"benchmark sheet did not validate: {parsed.problems[:3]}")

    submit_s = asyncio.run(_submit_seconds(parsed))
    submit_rss = _rss_mb()

    now = datetime.now(UTC)
    batch = Batch("bench", "bench", "cli:bench", BatchStatus.COMPLETED, n, now, columns=parsed.columns)
    rows = (
        Row(
            "bench",
            i,
            r.sheet_row,
            r.cells,
            r.inputs,
            status=RowStatus.SUCCEEDED,
            attempts=1,
            outputs={"answer": "=" + str(r.cells[0])[:40], "score": i % 7, "tags": ["a", "b"]},
            elapsed_s=0.5,
            tokens=100,
            run_id=f"run-{i}",
        )
        for i, r in enumerate(parsed.rows)
    )
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "results.xlsx"
        t0 = time.perf_counter()
        write_results(out, batch, rows, output_keys=["answer", "score", "tags"])
        write_s = time.perf_counter() - t0
        out_mb = out.stat().st_size / 1e6
    print(
        json.dumps(
            {
                "rows": n,
                "columns": len(BENCH_FORM.fields),
                "input_file_mb": round(len(data) / 1e6, 2),
                "generate_s": round(gen_s, 2),
                "read_validate_s": round(read_s, 2),
                "rss_before_read_mb": base_rss,
        "peak_rss_after_read_mb": read_rss,
                "submit_s": round(submit_s, 2),
                "validated_and_started_s": round(read_s + submit_s, 2),
                "peak_rss_after_submit_mb": submit_rss,
                "write_results_s": round(write_s, 2),
                "results_file_mb": round(out_mb, 2),
                "peak_rss_after_write_mb": _rss_mb(),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
