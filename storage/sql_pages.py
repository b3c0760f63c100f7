"""Reading a big batch back a page at a time, for its results workbook."""

from __future__ import annotations

from sqlalchemy import select, text

from engine.models import Row, RowStatus
from storage.sql_access import SqlAccess
from storage.tables import ROW

# first-seen order: by row, then by the key's place in that row's object (json keeps it)
_OUTPUT_KEYS = {
    "sqlite": (
        'SELECT je.key AS k FROM "row" r, json_each(r.outputs) je '
        "WHERE r.batch_id = :b AND r.outputs IS NOT NULL AND json_type(r.outputs) = 'object' "
        "GROUP BY je.key ORDER BY MIN(r.idx * 1000000 + je.id)"
    ),
    "postgresql": (
        'SELECT t.k AS k FROM "row" r, json_object_keys(r.outputs) WITH ORDINALITY AS t(k, n) '
        "WHERE r.batch_id = :b AND r.outputs IS NOT NULL AND json_typeof(r.outputs) = 'object' "
        "GROUP BY t.k ORDER BY MIN(r.idx::bigint * 1000000 + t.n)"
    ),
}
_RESULT_COLUMNS = [
    ROW.c[name]
    for name in ("idx", "sheet_row", "cells", "query", "status", "attempts", "run_id", "outputs", "error",
                 "elapsed_s", "tokens", "workflow_id")
]


class RowPages(SqlAccess):
    """`Store` methods that read a batch's rows in pages, so memory stays flat."""

    async def output_keys(self, batch_id: str) -> list[str]:
        """The output names of a batch's rows, in first-seen order, found by the database."""
        query = text(_OUTPUT_KEYS[self.engine.dialect.name]).bindparams(b=batch_id)
        async with self.engine.connect() as conn:
            return [r[0] for r in (await conn.execute(query)).all()]

    async def rows_page(self, batch_id: str, *, after: int, limit: int) -> list[Row]:
        """Up to ``limit`` rows with an index above ``after``, in index order, holding what the
        results workbook shows: the cells and the outcome, not ``inputs``, times or lease
        (decoding those would take as long as writing the workbook)."""
        stmt = (
            select(*_RESULT_COLUMNS)
            .where(ROW.c.batch_id == batch_id, ROW.c.idx > after)
            .order_by(ROW.c.idx)
            .limit(limit)
        )
        async with self.engine.connect() as conn:
            found = (await conn.execute(stmt)).all()
        return [
            Row(batch_id, idx, sheet_row, tuple(cells), {}, query=query, status=RowStatus(status),
                attempts=attempts, run_id=run_id, outputs=outputs, error=error, elapsed_s=elapsed_s,
                tokens=tokens, workflow_id=workflow_id)
            for (idx, sheet_row, cells, query, status, attempts, run_id, outputs, error, elapsed_s, tokens,
                 workflow_id) in found
        ]
