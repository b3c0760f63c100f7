"""Retention: finished batches older than ``keep_days`` are deleted with their rows, events
and chat bindings, and kept sheets no one refers to any more are removed from disk and from
the database.

Never touched: a batch that is pending, scheduled, running or paused (the store deletes
finished batches only), a finished batch still owed its results file (in chat, or to the
path a CLI run was given), and a sheet an active schedule, a waiting upload or a remaining
batch still uses."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.chat.progress import results_owed
from bot.results_files import OWED_EVENT, WRITTEN_EVENT
from engine.models import BatchEvent
from engine.ports import Housekeeping, Store

log = logging.getLogger(__name__)

RETENTION_EVERY_S = 24 * 3600.0
SLICE = 500


@dataclass
class Pruned:
    batches: list[str] = field(default_factory=list)
    kept_owed: list[str] = field(default_factory=list)
    """Old enough, but their results file never reached the chat."""
    files: list[Path] = field(default_factory=list)
    sheets: list[str] = field(default_factory=list)
    """Kept sheets deleted from the database."""


async def prune(
    records: Housekeeping, store: Store, data_dir: Path, *, keep_days: int, now: datetime | None = None
) -> Pruned:
    now = now or datetime.now(UTC)
    cutoff = now - timedelta(days=keep_days)
    done = Pruned()
    seen: set[str] = set()
    while True:
        batches = [b for b in await records.finished_before(cutoff, limit=SLICE) if b.id not in seen]
        if not batches:
            break
        doomed = []
        for batch in batches:
            seen.add(batch.id)
            events = await store.events(batch.id)
            chat_owed = await store.chat_for(batch.id) is not None and results_owed(events)
            if chat_owed or _file_owed(events):
                done.kept_owed.append(batch.id)
            else:
                doomed.append(batch.id)
        await records.delete_batches(doomed)
        done.batches += doomed
    await store.forget_uploads(before=cutoff)
    in_use = await records.files_in_use()
    done.files = _sweep(data_dir / "uploads", in_use, cutoff)
    # the database copies (read by replicas on other machines) go by the same rule
    done.sheets = await records.forget_sheets(keep={Path(p).name for p in in_use}, before=cutoff)
    if done.batches or done.files or done.sheets:
        log.info("retention: deleted %d batch(es) and %d sheet(s) finished before %s",
                 len(done.batches), len(done.files), cutoff.date().isoformat())
    return done


def _file_owed(events: Sequence[BatchEvent]) -> bool:
    """A CLI run's results file that was due but never written (see `bot.results_files`)."""
    owed = False
    for event in events:
        if event.kind == OWED_EVENT:
            owed = True
        elif event.kind == WRITTEN_EVENT:
            owed = False
    return owed


def _sweep(uploads: Path, in_use: set[str], cutoff: datetime) -> list[Path]:
    """Kept sheets older than the cutoff that nothing refers to any more."""
    if not uploads.is_dir():
        return []
    used = {str(Path(p).resolve()) for p in in_use}
    gone = []
    for path in uploads.iterdir():
        if not path.is_file() or str(path.resolve()) in used:
            continue
        if datetime.fromtimestamp(path.stat().st_mtime, UTC) >= cutoff:
            continue  # a fresh upload whose batch may not be stored yet
        path.unlink(missing_ok=True)
        gone.append(path)
    return gone
