"""Results files written to a path on this machine (the CLI's ``--output``): `.xlsx` or
real CSV, always through a temporary file renamed into place, so a crash mid-write never
leaves half a workbook under the name the person asked for.

A batch whose file is due gets a ``results_owed`` event before the write and a
``results_written`` event after it. A crash in between leaves the file owed: the next
`dify-batch resume ID`, any other CLI command that opens the database, or a daemon start
writes it to the recorded path (see `deliver_owed`).
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

if TYPE_CHECKING:
    from engine.models import Batch, Row
    from engine.ports import Store

log = logging.getLogger(__name__)

OUTPUT_EVENT = "cli_output"
"""Where a CLI run writes its results (detail: absolute path), for `resume` and `result`."""
CONCURRENCY_EVENT = "cli_concurrency"
"""The rows in flight a CLI run started with (detail: a number), kept by `resume`."""
OWED_EVENT = "results_owed"
WRITTEN_EVENT = "results_written"

OUTPUT_SUFFIXES = (".xlsx", ".csv")
# a cell starting with one of these is a formula to Excel and LibreOffice when a CSV is opened
_FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")


async def write_file(target: Path, batch: Batch, store: Store) -> None:
    """Write the results as `.csv` or `.xlsx` (by suffix) via a temporary file and a rename.

    The workbook reads the rows from the store a page at a time, so a 100,000-row batch is
    written in flat memory."""
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_leftovers(target)
    temp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.part")
    try:
        # a local file written by the one process that waits for it: no loop to keep free
        with open(temp, "wb") as handle:  # noqa: ASYNC230
            if target.suffix.lower() == ".csv":
                write_csv(handle, batch, await store.rows(batch.id))
            else:
                from bot.chat.text.catalogues import wording_for
                from engine.sheets.results import write_batch_results

                words = wording_for(batch.locale)
                await write_batch_results(
                    handle, batch, store, labels=words.summary_labels, chart_labels=words.chart_labels
                )
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def remove_leftovers(target: Path) -> list[Path]:
    """Delete temporary files an interrupted write of ``target`` left behind; one that a
    live process on this machine is still writing (its pid is in the name) is left alone."""
    found = list(target.parent.glob(f".{target.name}.*.part")) if target.parent.is_dir() else []
    stale = [path for path in found if not _writer_alive(path, target)]
    for path in stale:
        path.unlink(missing_ok=True)
    return stale


def _writer_alive(temp: Path, target: Path) -> bool:
    pid_text = temp.name[len(target.name) + 2 :].split("-", 1)[0]
    if not pid_text.isdigit() or int(pid_text) == os.getpid():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's live process
    return True


def write_csv(handle: BinaryIO, batch: Batch, rows: Iterable[Row]) -> None:
    """The results sheet's columns and rows as UTF-8 CSV (with a BOM, so Excel reads Chinese)."""
    import csv
    import io

    from engine.sheets.results import META_COLUMNS, output_columns

    rows = list(rows)
    keys = list(dict.fromkeys(k for r in rows for k in (r.outputs or {})))
    outs = output_columns(batch.columns, keys)
    text = io.TextIOWrapper(handle, encoding="utf-8-sig", newline="", write_through=True)
    writer = csv.writer(text)
    writer.writerow([*batch.columns, *(h for _, h in outs), *META_COLUMNS])
    width = len(batch.columns)
    for row in rows:
        cells = list(row.cells[:width]) + [None] * (width - len(row.cells))
        outputs = row.outputs or {}
        values = [
            *cells, *(outputs.get(k) for k, _ in outs), row.status.value, row.error, row.attempts,
            None if row.elapsed_s is None else round(row.elapsed_s, 3), row.tokens, row.run_id,
        ]
        writer.writerow([_csv_cell(v) for v in values])
    text.flush()
    text.detach()


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        import json

        value = json.dumps(value, ensure_ascii=False)
    if isinstance(value, str) and value.startswith(_FORMULA_LEADS) and not _is_number(value):
        return "'" + value  # shown as text, never evaluated
    return value


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


async def write_for(store: Store, batch_id: str, target: Path) -> Batch:
    """Write a batch's results file, recorded as owed until it is in place."""
    target = target.absolute()  # a later process, from another folder, may have to write it
    await store.add_event(batch_id, OWED_EVENT, str(target))
    batch = await store.get_batch(batch_id)
    if batch is None:
        raise LookupError(batch_id)
    await write_file(target, batch, store)
    await store.add_event(batch_id, WRITTEN_EVENT, str(target))
    return batch


async def owed(store: Store) -> dict[str, Path]:
    """Batches whose results file was due but never finished, with the path it goes to."""
    due: dict[str, Path] = {}
    for event in await store.events_of_kind([OWED_EVENT, WRITTEN_EVENT]):
        if event.kind == OWED_EVENT:
            due[event.batch_id] = Path(event.detail)
        else:
            due.pop(event.batch_id, None)
    return due


async def deliver_owed(store: Store, *, make_dirs: bool = False) -> list[tuple[str, Path]]:
    """Write every owed results file whose folder is here; returns what was written.

    A daemon on another machine than the CLI run finds no such folder and leaves the
    file owed for a process that can reach it (``make_dirs`` is for `resume ID`).
    """
    written: list[tuple[str, Path]] = []
    for batch_id, path in (await owed(store)).items():
        if not make_dirs and not path.parent.is_dir():
            log.warning("batch %s: results owed to %s, whose folder is not here", batch_id, path)
            continue
        try:
            await write_for(store, batch_id, path)
        except (OSError, LookupError) as exc:
            log.error("batch %s: could not write the owed results to %s: %s", batch_id, path, exc)
            continue
        written.append((batch_id, path))
    return written


async def recorded_output(store: Store, batch_id: str) -> Path | None:
    """The results path the person gave when the batch was started from the CLI."""
    for event in reversed(await store.events(batch_id)):
        if event.kind == OUTPUT_EVENT:
            return Path(event.detail)
    return None


async def recorded_concurrency(store: Store, batch_id: str) -> int | None:
    for event in reversed(await store.events(batch_id)):
        if event.kind == CONCURRENCY_EVENT and event.detail.isdigit():
            return int(event.detail)
    return None
