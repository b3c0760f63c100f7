"""Reading batches back for results workbooks: a big batch's rows a page at a time, and
the batches of a comparison."""

from __future__ import annotations

from sqlalchemy import select, text

from engine.models import Batch, Row, RowStatus
from storage import codec
from storage.sql_access import SqlAccess
from storage.tables import BATCH, ROW

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

    async def comparison_batches(self, comparison_id: str) -> list[Batch]:
        """The batches of one comparison, oldest first (the order its workflows were named)."""
        stmt = (
            select(BATCH)
            .where(BATCH.c.comparison_id == comparison_id)
            .order_by(BATCH.c.created_at, BATCH.c.id)
        )
        return [codec.batch_from_record(r) for r in await self._all(stmt)]

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
