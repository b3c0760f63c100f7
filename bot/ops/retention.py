"""Retention: finished batches older than ``keep_days`` are deleted with their rows, events
and chat bindings, and kept sheets no one refers to any more are removed from disk.

Never touched: a batch that is pending, scheduled, running or paused (the store deletes
finished batches only), a finished batch still owed its results file in chat, and a sheet
an active schedule, a waiting upload or a remaining batch still uses."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.chat.progress import results_owed
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
            if await store.chat_for(batch.id) is not None and results_owed(await store.events(batch.id)):
                done.kept_owed.append(batch.id)
            else:
                doomed.append(batch.id)
        await records.delete_batches(doomed)
        done.batches += doomed
    await store.forget_uploads(before=cutoff)
    done.files = _sweep(data_dir / "uploads", await records.files_in_use(), cutoff)
    if done.batches or done.files:
        log.info("retention: deleted %d batch(es) and %d sheet(s) finished before %s",
                 len(done.batches), len(done.files), cutoff.date().isoformat())
    return done


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
