"""The Store contract for comparisons: the batches that share a comparison id (same three
implementations as the rest of the contract)."""

from __future__ import annotations

from engine.ports import Store
from tests.storage.builders import T0, batch, minutes, rows


async def test_comparison_batches_are_found_by_their_id_in_creation_order(store: Store) -> None:
    second = batch("b2", workflow="summarize-v2", comparison_id="c0a1b2c", created_at=T0 + minutes(1))
    first = batch("b1", workflow="summarize", comparison_id="c0a1b2c", created_at=T0)
    await store.create_batch(second, rows("b2"))
    await store.create_batch(first, rows("b1"))
    await store.create_batch(batch("b3", comparison_id="cffffff"), rows("b3"))
    await store.create_batch(batch("b4"), rows("b4"))

    found = await store.comparison_batches("c0a1b2c")
    assert [b.id for b in found] == ["b1", "b2"]
    assert found == [first, second]  # the id survives the round trip
    assert [b.id for b in await store.comparison_batches("cffffff")] == ["b3"]
    assert await store.comparison_batches("c999999") == []
    alone = await store.get_batch("b4")
    assert alone is not None and alone.comparison_id is None
