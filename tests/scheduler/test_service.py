"""ScheduleService on real APScheduler timing with the in-memory Store: firing, restarts, replicas."""

from __future__ import annotations

import asyncio
import itertools
import secrets
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.interval import IntervalTrigger

from engine.errors import AlreadyExists, CommandError, NotFound, WhenError
from engine.models import Batch, BatchStatus, ChatRef, Schedule, ScheduleKind
from scheduler.ports import default_trigger
from scheduler.service import ScheduleService
from scheduler.when import When, parse_when
from tests.fakes.memory_store import InMemoryStore

TZ = ZoneInfo("Asia/Shanghai")
TICK = 0.25
"""Period of the sub-minute trigger that stands in for a cron in timing tests."""


class RecordingStarter:
    """Creates each firing's batch through the store, so `AlreadyExists` comes from the store."""

    def __init__(self, store: InMemoryStore, *, delay_s: float = 0.0, fail: bool = False) -> None:
        self.store = store
        self.delay_s = delay_s
        self.fail = fail
        self.created: list[Batch] = []
        self.duplicates: list[tuple[str, datetime]] = []

    async def start_scheduled(self, schedule: Schedule, fire_time: datetime) -> Batch:
        await asyncio.sleep(self.delay_s)
        if self.fail:
            raise NotFound(f"the stored sheet {schedule.source_path} is gone")
        batch = Batch(
            id=secrets.token_hex(3), workflow=schedule.workflow, owner=schedule.owner,
            status=BatchStatus.PENDING, total=0, created_at=datetime.now(UTC),
            source_name=schedule.source_name, source_path=schedule.source_path,
            schedule_id=schedule.id, fire_time=fire_time,
        )  # fmt: skip
        try:
            await self.store.create_batch(batch, [])
        except AlreadyExists:
            self.duplicates.append((schedule.id, fire_time))
            raise
        self.created.append(batch)
        return batch


class RecordingMissed:
    def __init__(self) -> None:
        self.calls: list[tuple[str, datetime]] = []

    async def missed(self, schedule: Schedule, fire_time: datetime) -> None:
        self.calls.append((schedule.id, fire_time))


class FakeClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def fast_trigger(schedule: Schedule) -> Any:
    """Recurring schedules tick every TICK seconds from their creation, so replicas agree."""
    if schedule.kind is ScheduleKind.CRON:
        return IntervalTrigger(seconds=TICK, start_date=schedule.created_at, timezone=TZ)
    return default_trigger(schedule)


async def eventually(check: Callable[[], bool], timeout_s: float = 3.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            pytest.fail("condition not reached in time")
        await asyncio.sleep(0.02)


@pytest.fixture
def store() -> InMemoryStore:
    return InMemoryStore()


@pytest.fixture
def starter(store: InMemoryStore) -> RecordingStarter:
    return RecordingStarter(store)


@pytest.fixture
def missed() -> RecordingMissed:
    return RecordingMissed()


@pytest.fixture
async def services(
    store: InMemoryStore, starter: RecordingStarter, missed: RecordingMissed
) -> AsyncIterator[Callable[..., ScheduleService]]:
    made: list[ScheduleService] = []

    def make(**kwargs: Any) -> ScheduleService:
        kwargs.setdefault("tz", TZ)
        kwargs.setdefault("misfire_grace_s", 60)
        service = ScheduleService(
            store, kwargs.pop("starter", starter), kwargs.pop("missed", missed), **kwargs
        )
        made.append(service)
        return service

    yield make
    for service in made:
        await service.shutdown()


def once_in(seconds: float) -> When:
    return When(description="soon", run_at=datetime.now(UTC) + timedelta(seconds=seconds))


EVERY = When(description="ticking", cron="* * * * *")


async def add(service: ScheduleService, when: When, owner: str = "telegram:1") -> Schedule:
    chat = ChatRef(platform="telegram", chat_id="100")
    return await service.add(owner, "summarize", when, "when text", "in.xlsx", "/data/in.xlsx", chat)


async def test_one_shot_fires_once_and_runs_its_batch(
    services: Callable[..., ScheduleService], store: InMemoryStore, starter: RecordingStarter
) -> None:
    service = services()
    await service.start()
    schedule = await add(service, once_in(0.3))
    assert schedule.kind is ScheduleKind.ONCE
    assert len(schedule.id) == 6
    [(listed, next_fire)] = await service.list()
    assert listed.id == schedule.id
    assert next_fire == schedule.run_at

    await eventually(lambda: len(starter.created) == 1)
    await asyncio.sleep(0.3)
    [batch] = starter.created
    assert (batch.schedule_id, batch.fire_time) == (schedule.id, schedule.run_at)
    assert len(store.batches) == 1
    stored = store.schedules[schedule.id]
    assert not stored.active
    assert stored.last_fire_time == schedule.run_at
    assert await service.list() == []


async def test_recurring_schedule_makes_one_batch_per_firing(
    services: Callable[..., ScheduleService], store: InMemoryStore, starter: RecordingStarter
) -> None:
    service = services(trigger_factory=fast_trigger)
    await service.start()
    schedule = await add(service, EVERY)
    await eventually(lambda: len(starter.created) >= 3)

    fire_times = [b.fire_time for b in starter.created[:3] if b.fire_time is not None]
    assert len(fire_times) == 3
    assert len({b.id for b in starter.created}) == len(starter.created)
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(fire_times)]
    assert gaps == pytest.approx([TICK, TICK])
    stored = store.schedules[schedule.id]
    assert stored.active
    assert stored.last_fire_time is not None
    assert stored.last_fire_time >= fire_times[1]


async def test_restart_before_fire_time_still_fires(
    services: Callable[..., ScheduleService], starter: RecordingStarter
) -> None:
    first = services()
    await first.start()
    schedule = await add(first, once_in(0.4))
    await first.shutdown()

    second = services()
    await second.start()
    assert starter.created == []  # not due yet: armed, not run at start
    await eventually(lambda: len(starter.created) == 1)
    assert starter.created[0].fire_time == schedule.run_at


async def test_one_shot_missed_while_down_runs_once_within_grace(
    services: Callable[..., ScheduleService],
    store: InMemoryStore,
    starter: RecordingStarter,
    missed: RecordingMissed,
) -> None:
    clock = FakeClock(datetime.now(UTC))
    first = services(clock=clock)
    await first.start()
    schedule = await add(first, When(description="later", run_at=clock.now + timedelta(hours=1)))
    await first.shutdown()

    clock.now += timedelta(hours=1, seconds=30)  # down across the fire time, back 30 s late
    second = services(clock=clock, misfire_grace_s=60)
    await second.start()
    assert [(b.schedule_id, b.fire_time) for b in starter.created] == [(schedule.id, schedule.run_at)]
    assert missed.calls == []
    assert not store.schedules[schedule.id].active

    third = services(clock=clock)  # a further restart must not run it again
    await third.start()
    assert len(starter.created) == 1


async def test_one_shot_missed_beyond_grace_is_skipped_and_reported(
    services: Callable[..., ScheduleService],
    store: InMemoryStore,
    starter: RecordingStarter,
    missed: RecordingMissed,
) -> None:
    clock = FakeClock(datetime.now(UTC))
    first = services(clock=clock)
    await first.start()
    schedule = await add(first, When(description="later", run_at=clock.now + timedelta(hours=1)))
    await first.shutdown()

    clock.now += timedelta(hours=3)
    second = services(clock=clock, misfire_grace_s=60)
    await second.start()
    assert starter.created == []
    assert missed.calls == [(schedule.id, schedule.run_at)]
    assert not store.schedules[schedule.id].active


async def test_recurring_missed_while_down_runs_latest_firing_once_or_reports_it(
    services: Callable[..., ScheduleService],
    store: InMemoryStore,
    starter: RecordingStarter,
    missed: RecordingMissed,
) -> None:
    created = datetime(2026, 6, 1, 12, 0, tzinfo=TZ)
    clock = FakeClock(created)
    first = services(clock=clock)
    await first.start()
    when = parse_when("every day 09:00", now=clock.now, tz=TZ)
    schedule = await add(first, when)
    await first.shutdown()

    # Down for three days; back 30 s after the 4 June firing: only that one runs.
    clock.now = datetime(2026, 6, 4, 9, 0, 30, tzinfo=TZ)
    second = services(clock=clock)
    await second.start()
    await second.shutdown()
    assert [b.fire_time for b in starter.created] == [datetime(2026, 6, 4, 9, 0, tzinfo=TZ)]
    assert missed.calls == []

    # Down again; back an hour after the 6 June firing: beyond grace, reported, not run.
    clock.now = datetime(2026, 6, 6, 10, 0, tzinfo=TZ)
    third = services(clock=clock)
    await third.start()
    await third.shutdown()
    assert len(starter.created) == 1
    assert missed.calls == [(schedule.id, datetime(2026, 6, 6, 9, 0, tzinfo=TZ))]
    assert store.schedules[schedule.id].active
    assert store.schedules[schedule.id].last_fire_time == datetime(2026, 6, 6, 9, 0, tzinfo=TZ)

    fourth = services(clock=clock)  # the skipped firing is reported once, not at every start
    await fourth.start()
    assert len(missed.calls) == 1
    [(_, next_fire)] = await fourth.list()
    assert next_fire is not None
    assert next_fire.astimezone(TZ).time().hour == 9


async def test_two_services_on_one_store_start_each_firing_once(
    services: Callable[..., ScheduleService], store: InMemoryStore
) -> None:
    # The starter is slow, so both replicas are inside start_scheduled at once and the
    # store's unique (schedule_id, fire_time) is what stops the second.
    slow = RecordingStarter(store, delay_s=0.1)
    a, b = services(starter=slow), services(starter=slow)
    await a.start()
    await b.start()
    schedule = await add(a, once_in(0.3))
    await b.sync()  # b learns about a's new schedule from the table
    await eventually(lambda: len(slow.created) + len(slow.duplicates) == 2)
    assert [x.fire_time for x in slow.created] == [schedule.run_at]
    assert slow.duplicates == [(schedule.id, schedule.run_at)]
    assert len(store.batches) == 1


async def test_two_services_share_a_recurring_schedule_without_doubles(
    services: Callable[..., ScheduleService], store: InMemoryStore, starter: RecordingStarter
) -> None:
    a, b = services(trigger_factory=fast_trigger), services(trigger_factory=fast_trigger)
    await a.start()
    schedule = await add(a, EVERY)
    await b.start()
    await eventually(lambda: len(starter.created) >= 4)
    await a.shutdown()
    await b.shutdown()
    fire_times = sorted(x.fire_time for x in starter.created if x.fire_time is not None)
    assert len(fire_times) == len(starter.created) >= 4
    # One batch per tick: no tick twice, none skipped.
    gaps = [(later - earlier).total_seconds() for earlier, later in itertools.pairwise(fire_times)]
    assert gaps == pytest.approx([TICK] * len(gaps))
    assert {x.schedule_id for x in starter.created} == {schedule.id}


async def test_remove_stops_future_firings_on_every_replica(
    services: Callable[..., ScheduleService], store: InMemoryStore, starter: RecordingStarter
) -> None:
    a, b = services(trigger_factory=fast_trigger), services(trigger_factory=fast_trigger)
    await a.start()
    schedule = await add(a, EVERY)
    await b.start()
    await eventually(lambda: len(starter.created) >= 1)
    await a.remove(schedule.id, by="telegram:1", is_admin=False)
    await asyncio.sleep(0.05)  # a firing already inside the starter may still finish
    count = len(starter.created)
    await asyncio.sleep(4 * TICK)  # b still holds its job, but the table says inactive
    assert len(starter.created) == count
    assert not store.schedules[schedule.id].active
    assert await a.list() == []
    assert await b.list() == []


async def test_only_owner_or_admin_may_remove(services: Callable[..., ScheduleService]) -> None:
    service = services()
    await service.start()
    mine = await add(service, once_in(3600), owner="telegram:1")
    theirs = await add(service, once_in(3600), owner="slack:U2")

    with pytest.raises(CommandError, match="belongs to someone else"):
        await service.remove(theirs.id, by="telegram:1", is_admin=False)
    assert {s.id for s, _ in await service.list()} == {mine.id, theirs.id}

    removed = await service.remove(mine.id, by="telegram:1", is_admin=False)
    assert removed.id == mine.id
    await service.remove(theirs.id, by="telegram:9", is_admin=True)
    assert await service.list() == []
    with pytest.raises(NotFound):
        await service.remove(mine.id, by="telegram:1", is_admin=False)
    with pytest.raises(NotFound):
        await service.remove("nosuch", by="telegram:1", is_admin=True)


async def test_list_filters_by_owner_and_gives_next_fire_times(
    services: Callable[..., ScheduleService],
) -> None:
    clock = FakeClock(datetime(2026, 6, 10, 21, 15, tzinfo=TZ))
    service = services(clock=clock)
    await service.start()
    daily = await add(service, parse_when("every day 09:00", now=clock.now, tz=TZ), owner="telegram:1")
    later = await add(service, parse_when("tomorrow 10:00", now=clock.now, tz=TZ), owner="slack:U2")
    assert daily.timezone == "Asia/Shanghai"
    assert daily.cron == "0 9 * * *"
    assert [(s.id, t) for s, t in await service.list(owner="slack:U2")] == [
        (later.id, datetime(2026, 6, 11, 10, 0, tzinfo=TZ))
    ]
    [(s, next_fire)] = await service.list(owner="telegram:1")
    assert s.id == daily.id
    assert next_fire is not None
    assert next_fire.astimezone(TZ).strftime("%H:%M") == "09:00"


async def test_add_refuses_a_time_that_has_passed(
    services: Callable[..., ScheduleService], store: InMemoryStore
) -> None:
    service = services()
    with pytest.raises(WhenError, match="in the past"):
        await add(service, once_in(-1))
    assert store.schedules == {}


async def test_a_firing_whose_start_fails_is_reported(
    services: Callable[..., ScheduleService], store: InMemoryStore, missed: RecordingMissed
) -> None:
    service = services(starter=RecordingStarter(store, fail=True))
    await service.start()
    schedule = await add(service, once_in(0.2))
    await eventually(lambda: len(missed.calls) == 1)
    assert missed.calls == [(schedule.id, schedule.run_at)]
    assert not store.schedules[schedule.id].active


def block_event_loop(seconds: float) -> None:
    time.sleep(seconds)


async def test_firing_apscheduler_runs_too_late_is_reported_not_dropped(
    services: Callable[..., ScheduleService],
    store: InMemoryStore,
    starter: RecordingStarter,
    missed: RecordingMissed,
) -> None:
    service = services(misfire_grace_s=1)
    await service.start()
    schedule = await add(service, once_in(0.1))
    block_event_loop(1.3)  # the loop is stuck past the fire time plus the grace period
    await eventually(lambda: len(missed.calls) == 1)
    assert missed.calls == [(schedule.id, schedule.run_at)]
    assert starter.created == []
    assert not store.schedules[schedule.id].active
