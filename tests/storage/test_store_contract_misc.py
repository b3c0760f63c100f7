"""The Store contract for schedules and chat bindings (same three implementations)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from engine.errors import AlreadyExists, NotFound
from engine.models import ChatRef, ScheduleKind
from engine.ports import Store
from tests.storage.builders import T0, batch, minutes, schedule


async def test_schedules_crud(store: Store) -> None:
    once = schedule(
        "s2", owner="telegram:1", kind=ScheduleKind.ONCE, when_text="tonight 02:00", cron=None,
        run_at=datetime(2026, 5, 2, 2, 0, tzinfo=UTC), chat=None, created_at=T0 + minutes(1),
    )
    cron = schedule("s1")
    await store.add_schedule(once)
    await store.add_schedule(cron)
    await store.add_schedule(schedule("s3", created_at=T0 + minutes(2), active=False))
    with pytest.raises(AlreadyExists):
        await store.add_schedule(schedule("s1", owner="someone else"))

    assert await store.get_schedule("s1") == cron
    assert await store.get_schedule("s2") == once
    assert await store.get_schedule("nope") is None
    assert [s.id for s in await store.list_schedules()] == ["s1", "s2"]
    assert [s.id for s in await store.list_schedules(active_only=False)] == ["s1", "s2", "s3"]
    assert [s.id for s in await store.list_schedules(owner="slack:U1", active_only=False)] == ["s1", "s3"]

    fired = datetime(2026, 5, 4, 1, 0, tzinfo=UTC)
    await store.update_schedule("s1", last_fire_time=fired)
    got = await store.get_schedule("s1")
    assert got is not None
    assert (got.active, got.last_fire_time) == (True, fired)
    await store.update_schedule("s1", active=False)
    got = await store.get_schedule("s1")
    assert got is not None
    # None means "leave as it is", so the fire time survives deactivation
    assert (got.active, got.last_fire_time) == (False, fired)
    assert [s.id for s in await store.list_schedules()] == ["s2"]
    await store.update_schedule("s1")
    with pytest.raises(NotFound):
        await store.update_schedule("nope", active=False)
    with pytest.raises(NotFound):
        await store.update_schedule("nope")


async def test_schedule_keeps_its_chat_and_language(store: Store) -> None:
    chat = ChatRef("telegram", "-100123", thread_id="7", reply_to_message_id="55", owner_display="李雷")
    await store.add_schedule(schedule("s1", chat=chat, locale="zh-CN"))
    got = await store.get_schedule("s1")
    assert got is not None
    assert got.chat == chat
    assert got.locale == "zh-CN"


async def test_chat_binding_is_replaced(store: Store) -> None:
    await store.create_batch(batch("b1"), [])
    assert await store.chat_for("b1") is None
    first = ChatRef("slack", "C1", thread_id="1714.0001", reply_to_message_id="1714.0001", owner_display="A")
    await store.bind_chat("b1", first)
    assert await store.chat_for("b1") == first
    second = ChatRef("slack", "C1", thread_id="1714.0001", progress_message_id="1714.0002",
                     reply_to_message_id="1714.0001", owner_display="安")
    await store.bind_chat("b1", second)
    assert await store.chat_for("b1") == second
    bare = ChatRef("telegram", "42")
    await store.bind_chat("b2", bare)
    assert await store.chat_for("b2") == bare
    assert await store.chat_for("b1") == second


async def test_schedule_datetimes_round_trip_as_instants(store: Store) -> None:
    local = datetime(2026, 5, 2, 9, 0, tzinfo=UTC) + timedelta(microseconds=7)
    await store.add_schedule(schedule("s1", run_at=local, last_fire_time=local - timedelta(days=1)))
    got = await store.get_schedule("s1")
    assert got is not None
    assert got.run_at == local
    assert got.run_at is not None
    assert got.run_at.utcoffset() is not None


async def test_one_reporter_holds_a_batch_until_its_hold_lapses(store: Store) -> None:
    now = T0
    assert await store.hold_reporting("b1", "replica-a", now=now, hold_s=60)
    assert not await store.hold_reporting("b1", "replica-b", now=now + timedelta(seconds=30), hold_s=60)
    # the holder extends its hold, so b stays out past the first minute
    assert await store.hold_reporting("b1", "replica-a", now=now + timedelta(seconds=50), hold_s=60)
    assert not await store.hold_reporting("b1", "replica-b", now=now + timedelta(seconds=70), hold_s=60)
    assert await store.hold_reporting("b2", "replica-b", now=now, hold_s=60), "holds are per batch"
    # a holder that stopped extending (it died) loses the batch once the hold lapses
    assert await store.hold_reporting("b1", "replica-b", now=now + timedelta(seconds=111), hold_s=60)
    assert not await store.hold_reporting("b1", "replica-a", now=now + timedelta(seconds=112), hold_s=60)
