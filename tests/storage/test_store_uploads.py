"""The Store contract for chat uploads waiting for a button (same three implementations)."""

from __future__ import annotations

import pytest

from engine.errors import AlreadyExists
from engine.models import ChatRef, ChatUpload
from engine.ports import Store
from tests.storage.builders import T0, minutes


def upload(
    upload_id: str, *, owner: str = "telegram:1", chat_id: str = "-100", message_id: str | None = "50",
    at: int = 0,
) -> ChatUpload:
    return ChatUpload(
        id=upload_id, owner=owner, owner_chat=f"telegram:{chat_id}",
        where=ChatRef("telegram", chat_id, thread_id="9", reply_to_message_id=message_id,
                      owner_display="李雷"),
        filename="商品.xlsx", path=f"/data/uploads/{upload_id}-商品.xlsx", message_id=message_id,
        created_at=T0 + minutes(at),
    )


async def test_an_upload_round_trips_and_ids_are_unique(store: Store) -> None:
    first = upload("u1")
    await store.add_upload(first)
    assert await store.get_upload("u1") == first
    assert await store.get_upload("nope") is None
    with pytest.raises(AlreadyExists):
        await store.add_upload(upload("u1", owner="telegram:2"))
    assert await store.get_upload("u1") == first


async def test_find_gives_the_newest_upload_of_a_chat_a_person_or_a_message(store: Store) -> None:
    await store.add_upload(upload("old", at=0, message_id="50"))
    await store.add_upload(upload("bobs", owner="telegram:2", at=1, message_id="51"))
    await store.add_upload(upload("new", at=2, message_id="52"))
    await store.add_upload(upload("elsewhere", chat_id="-200", at=3, message_id="50"))

    found = await store.find_upload("-100")
    assert found is not None and found.id == "new"
    mine = await store.find_upload("-100", owner="telegram:2")
    assert mine is not None and mine.id == "bobs"
    of_message = await store.find_upload("-100", message_id="50")
    assert of_message is not None and of_message.id == "old"
    assert await store.find_upload("-100", owner="telegram:3") is None
    assert await store.find_upload("-100", owner="telegram:2", message_id="50") is None
    assert await store.find_upload("-300") is None


async def test_uploads_are_forgotten_one_at_a_time_or_by_age(store: Store) -> None:
    for i in range(4):
        await store.add_upload(upload(f"u{i}", at=i))

    assert await store.forget_uploads(upload_id="u3") == 1
    assert await store.forget_uploads(upload_id="u3") == 0
    assert await store.forget_uploads(before=T0 + minutes(2)) == 2  # u0 and u1; u2 is not older

    assert [await store.get_upload(f"u{i}") is not None for i in range(4)] == [False, False, True, False]
    with pytest.raises(ValueError, match="exactly one"):
        await store.forget_uploads()
