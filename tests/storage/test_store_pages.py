"""The Store contract for reading a batch back in pages (the results workbook's source)."""

from __future__ import annotations

import pytest

from engine.models import Row, RowStatus, RowUpdate
from engine.ports import Store
from tests.storage.builders import batch, rows


async def test_pages_walk_every_row_once_in_index_order(store: Store) -> None:
    await store.create_batch(batch("b1", total=7), rows("b1", 7))
    await store.create_batch(batch("b2", total=2), rows("b2", 2))
    seen: list[int] = []
    after = -1
    while page := await store.rows_page("b1", after=after, limit=3):
        assert len(page) <= 3
        seen += [r.index for r in page]
        after = page[-1].index
    assert seen == list(range(7))
    assert all(r.batch_id == "b1" for r in await store.rows_page("b1", after=-1, limit=100))


async def test_output_keys_are_the_union_in_first_seen_order(store: Store) -> None:
    await store.create_batch(batch("b1", total=4), rows("b1", 4))
    outputs = [{"z": 1, "answer": "x"}, None, {"answer": "y", "extra": [1]}, {"a": {"k": 2}}]
    await store.update_rows([
        RowUpdate("b1", i, RowStatus.SUCCEEDED if out else RowStatus.FAILED, attempts=1, outputs=out)
        for i, out in enumerate(outputs)
    ])
    assert await store.output_keys("b1") == ["z", "answer", "extra", "a"]
    assert await store.output_keys("nope") == []
    page = await store.rows_page("b1", after=-1, limit=10)
    assert [r.outputs for r in page] == outputs


async def test_add_rows_stores_a_big_sheet_in_parts_faithfully(store: Store) -> None:
    cells = ("中文 text", 3.5, None, True, "=SUM(A1)")
    made = [
        Row("b1", i, i + 2, cells, {"t": f"第{i}行", "o": {"k": [1, None]}}, query="q" if i % 2 else None)
        for i in range(2_500)
    ]
    await store.create_batch(batch("b1", total=2_500), made[:100])
    await store.add_rows("b1", made[100:])
    back = await store.rows("b1")
    assert back == made
    assert (await store.progress("b1")).pending == 2_500
    with pytest.raises(ValueError, match="another batch"):
        await store.add_rows("b2", made[:1])
