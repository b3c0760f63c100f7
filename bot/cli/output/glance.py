"""A quick read-only look at the batches for `dify-batch status`.

On SQLite it reads the tables with the standard library's `sqlite3`, read-only, so
`status` answers in a fraction of the time SQLAlchemy takes to import, and never creates a
database in the wrong folder. On PostgreSQL (or when the file cannot be read this way) the
caller falls back to the store. The columns read here are `storage.tables`' own; the CLI
status tests run against databases the real store wrote, so a renamed column fails them.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bot.results_files import OUTPUT_EVENT, OWED_EVENT, WRITTEN_EVENT


@dataclass
class BatchLine:
    """One batch as `status` shows it."""

    id: str
    status: str
    workflow: str
    owner: str
    source_name: str
    created_at: datetime
    total: int
    pending: int = 0
    running: int = 0
    succeeded: int = 0
    failed: int = 0
    cancelled: int = 0
    tokens: int = 0
    started_at: datetime | None = None
    finished_at: datetime | None = None
    error: str | None = None
    results: str | None = None
    results_owed: bool = False
    sample: bool = False
    comparison_id: str | None = None
    """The comparison the batch is one workflow of (``run --workflow A --workflow B``)."""

    @property
    def done(self) -> int:
        return self.succeeded + self.failed + self.cancelled

    def counts(self, kind: str, n: int, tokens: int) -> None:
        if kind in ("pending", "running", "succeeded", "failed", "cancelled"):
            setattr(self, kind, n)
        self.tokens += tokens


def sqlite_file(database_url: str) -> Path | None:
    """The file of a ``sqlite+aiosqlite:///path`` URL (None for anything else)."""
    prefix = "sqlite+aiosqlite:///"
    if not database_url.startswith(prefix):
        return None
    path = database_url[len(prefix):].split("?", 1)[0]
    return None if path in ("", ":memory:") else Path(path)


def schema_revision_here() -> str:
    """This release's newest schema revision, read from the revision files' names
    (``NNNN_what.py``) rather than from Alembic, whose import alone would double the time
    `status` takes; `tests/bot/cli` checks it agrees with Alembic."""
    from importlib.util import find_spec

    spec = find_spec("storage")  # found, not imported: importing it would load SQLAlchemy
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the storage package is not installed beside bot")
    folder = Path(next(iter(spec.submodule_search_locations))) / "migrations" / "versions"
    return max(p.name.split("_", 1)[0] for p in folder.glob("[0-9][0-9][0-9][0-9]_*.py"))


def schema_is_current(path: Path) -> bool:
    """Whether the file is missing (nothing to show) or already at this release's schema; a
    database from an older release must be upgraded, and a newer one refused, by the store."""
    if not path.exists():
        return True
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=10)
    except sqlite3.Error:
        return False
    try:
        found = conn.execute("SELECT version_num FROM alembic_version").fetchall()
    except sqlite3.Error:
        return False
    finally:
        conn.close()
    return [r[0] for r in found] == [schema_revision_here()]


def read_sqlite(path: Path, batch_id: str | None = None, limit: int = 20) -> list[BatchLine]:
    """The latest ``limit`` batches (or the one asked for); none when the file does not exist."""
    if not path.exists():
        return []
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=10)
    try:
        return _read(conn, batch_id, limit)
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return []
        raise
    finally:
        conn.close()


def _read(conn: sqlite3.Connection, batch_id: str | None, limit: int) -> list[BatchLine]:
    # SELECT * and names, not a column list: a database from an older release (not yet
    # migrated, since this look never writes) may lack the newer columns
    conn.row_factory = sqlite3.Row
    if batch_id is None:
        found = conn.execute(
            "SELECT * FROM batch ORDER BY created_at DESC, id DESC LIMIT ?", (limit,)
        ).fetchall()
    else:
        found = conn.execute("SELECT * FROM batch WHERE id = ?", (batch_id,)).fetchall()
    lines = [
        BatchLine(
            id=r["id"], status=r["status"], workflow=r["workflow"], owner=r["owner"],
            source_name=r["source_name"] or "", created_at=_when(r["created_at"]) or datetime.now(UTC),
            total=r["total"], started_at=_when(r["started_at"]), finished_at=_when(r["finished_at"]),
            error=r["error"], sample="sample" in r.keys() and bool(r["sample"]),  # noqa: SIM118 (Row: in looks at values)
            comparison_id=r["comparison_id"] if "comparison_id" in r.keys() else None,  # noqa: SIM118
        )
        for r in found
    ]
    conn.row_factory = None
    for line in lines:
        for kind, n, tokens in conn.execute(
            'SELECT status, count(*), coalesce(sum(tokens), 0) FROM "row" WHERE batch_id = ? GROUP BY status',
            (line.id,),
        ):
            line.counts(kind, n, int(tokens))
        for kind, detail in conn.execute(
            "SELECT kind, detail FROM batch_event WHERE batch_id = ? AND kind IN (?, ?, ?) ORDER BY id",
            (line.id, OUTPUT_EVENT, OWED_EVENT, WRITTEN_EVENT),
        ):
            if kind == OUTPUT_EVENT:
                line.results = detail
            else:
                line.results = detail
                line.results_owed = kind == OWED_EVENT
    return lines


def _when(value: object) -> datetime | None:
    """SQLite keeps the store's datetimes as naive UTC text."""
    if value is None:
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
