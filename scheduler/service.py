"""ScheduleService: the schedule table kept armed in `ScheduleJobs`; each firing starts one batch."""

from __future__ import annotations

import logging
import secrets
from datetime import UTC, datetime, timedelta
from typing import TypeAlias
from zoneinfo import ZoneInfo

from engine.errors import AlreadyExists, AppError, CommandError, NotFound, WhenError
from engine.models import ChatRef, Schedule, ScheduleKind
from engine.ports import Store
from engine.text.sentences import when_phrase
from scheduler.cron import latest_fire_time
from scheduler.jobs import ScheduleJobs
from scheduler.ports import BatchStarter, Clock, MissedFiring, TriggerFactory, default_trigger, utcnow
from scheduler.when import When, describe_instant

log = logging.getLogger(__name__)

Listing: TypeAlias = list[tuple[Schedule, datetime | None]]


class ScheduleService:
    """Deferred and recurring runs. The store is the truth; APScheduler only keeps time.

    Every firing is keyed by the trigger's scheduled time, so replicas sharing one database
    (or a double fire) start each firing's batch once: the loser gets `AlreadyExists`.
    """

    def __init__(
        self,
        store: Store,
        starter: BatchStarter,
        missed: MissedFiring,
        *,
        tz: ZoneInfo,
        misfire_grace_s: float = 3600.0,
        clock: Clock = utcnow,
        trigger_factory: TriggerFactory = default_trigger,
    ) -> None:
        if misfire_grace_s <= 0:
            raise ValueError("misfire_grace_s must be positive")
        self._store = store
        self._starter = starter
        self._missed = missed
        self._tz = tz
        self._grace = timedelta(seconds=misfire_grace_s)
        self._clock = clock
        self._trigger_factory = trigger_factory
        self._jobs = ScheduleJobs(tz=tz, grace=self._grace, fire=self._fire, skip=self._skip)

    # --- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        """Start APScheduler on the running loop and load every active schedule.

        A firing missed while the daemon was down runs here, once, if it is within the grace
        period; an older one is reported to `MissedFiring` instead.
        """
        if self._jobs.started:
            raise RuntimeError("ScheduleService already started")
        self._jobs.start()
        await self.sync()

    async def sync(self) -> None:
        """Make the in-memory jobs match the table (another replica may have added or removed some)."""
        if not self._jobs.started:
            raise RuntimeError("ScheduleService not started")
        schedules = await self._store.list_schedules(active_only=True)
        active = {s.id for s in schedules}
        for schedule_id in self._jobs.armed_ids():
            if schedule_id not in active:
                self._jobs.disarm(schedule_id)
        now = self._clock()
        for schedule in schedules:
            try:
                await self._load(schedule, now)
            except Exception:
                # One broken row (say a cron string an old version accepted) must not stop the rest.
                log.exception("cannot load schedule %s", schedule.id)

    async def shutdown(self, *, timeout_s: float = 10.0) -> None:
        """Stop firing, let firings in progress finish (up to ``timeout_s``), stop APScheduler."""
        await self._jobs.shutdown(timeout_s=timeout_s)

    # --- commands ----------------------------------------------------------------------

    async def add(
        self,
        owner: str,
        workflow: str,
        when: When,
        when_text: str,
        source_name: str,
        source_path: str,
        chat: ChatRef | None = None,
        locale: str = "en",
    ) -> Schedule:
        """Store a new schedule (short id) and, when started, arm its trigger."""
        now = self._clock()
        if when.run_at is not None and when.run_at.astimezone(UTC) <= now.astimezone(UTC):
            # Parsing and saving are separate steps; the time may have passed in between.
            raise WhenError(when_phrase("past", at=describe_instant(when.run_at, self._tz)))
        for _ in range(8):
            schedule = Schedule(
                id=secrets.token_hex(3),
                owner=owner,
                workflow=workflow,
                kind=when.kind,
                when_text=when_text,
                timezone=self._tz.key,
                source_name=source_name,
                source_path=source_path,
                created_at=now,
                run_at=when.run_at,
                cron=when.cron,
                chat=chat,
                locale=locale,
            )
            try:
                await self._store.add_schedule(schedule)
            except AlreadyExists:
                continue
            break
        else:
            raise AlreadyExists("could not find a free schedule id")
        if self._jobs.started:
            self._jobs.arm(schedule, self._trigger_factory(schedule))
        return schedule

    async def remove(self, schedule_id: str, *, by: str, is_admin: bool) -> Schedule:
        """Deactivate a schedule: its owner or an admin only. Returns it as it was."""
        schedule = await self._store.get_schedule(schedule_id)
        if schedule is None or not schedule.active:
            raise NotFound(f"no active schedule {schedule_id}")
        if schedule.owner != by and not is_admin:
            raise CommandError(
                f"schedule {schedule_id} belongs to someone else; only they or an admin may remove it"
            )
        await self._store.update_schedule(schedule_id, active=False)
        self._jobs.disarm(schedule_id)
        return schedule

    async def list(self, owner: str | None = None) -> Listing:
        """Active schedules (all, or one owner's) with their next fire time (None: no more)."""
        now = self._clock()
        listing: Listing = []
        for schedule in await self._store.list_schedules(owner=owner, active_only=True):
            listing.append((schedule, self._next_fire_time(schedule, now)))
        return listing

    def next_fire_time(self, schedule: Schedule) -> datetime | None:
        """When the schedule fires next (None: it never will again)."""
        return self._next_fire_time(schedule, self._clock())

    # --- internals ---------------------------------------------------------------------

    def _next_fire_time(self, schedule: Schedule, now: datetime) -> datetime | None:
        if self._jobs.is_armed(schedule.id):
            return self._jobs.next_run_time(schedule.id)
        if schedule.kind is ScheduleKind.ONCE:
            return (
                schedule.run_at
                if schedule.run_at is not None and schedule.run_at.astimezone(UTC) > now.astimezone(UTC)
                else None
            )
        try:
            trigger = self._trigger_factory(schedule)
        except AppError:
            return None
        return trigger.get_next_fire_time(None, now)  # type: ignore[no-any-return]

    async def _load(self, schedule: Schedule, now: datetime) -> None:
        trigger = self._trigger_factory(schedule)
        if schedule.kind is ScheduleKind.ONCE:
            if schedule.last_fire_time is not None or schedule.run_at is None:
                await self._store.update_schedule(schedule.id, active=False)
                return
            if schedule.run_at.astimezone(UTC) > now.astimezone(UTC):
                self._jobs.arm(schedule, trigger)
            else:
                await self._catch_up(schedule, schedule.run_at, now)
            return
        since = schedule.last_fire_time or schedule.created_at
        latest = latest_fire_time(trigger, since, now)
        if latest is not None:
            await self._catch_up(schedule, latest, now)
        if self._jobs.started and not self._jobs.is_armed(schedule.id):
            self._jobs.arm(schedule, trigger)

    async def _catch_up(self, schedule: Schedule, fire_time: datetime, now: datetime) -> None:
        if now.astimezone(UTC) - fire_time.astimezone(UTC) <= self._grace:
            log.info("schedule %s: running the firing of %s missed while down", schedule.id, fire_time)
            await self._fire(schedule.id, fire_time)
        else:
            log.warning("schedule %s: firing of %s is past the grace period; skipped", schedule.id, fire_time)
            await self._skip(schedule.id, fire_time)

    async def _fresh(self, schedule_id: str, fire_time: datetime) -> Schedule | None:
        """The schedule as stored now, or None when this firing is no longer ours to handle."""
        schedule = await self._store.get_schedule(schedule_id)
        if schedule is None or not schedule.active:
            self._jobs.disarm(schedule_id)  # removed, possibly by another replica
            return None
        last = schedule.last_fire_time
        if last is not None and last.astimezone(UTC) >= fire_time.astimezone(UTC):
            return None  # already handled, here or by another replica
        return schedule

    async def _fire(self, schedule_id: str, fire_time: datetime) -> None:
        schedule = await self._fresh(schedule_id, fire_time)
        if schedule is None:
            return
        try:
            batch = await self._starter.start_scheduled(schedule, fire_time)
        except AlreadyExists:
            log.info("schedule %s: firing %s already has its batch", schedule_id, fire_time)
        except Exception:
            log.exception("schedule %s: starting the batch for %s failed", schedule_id, fire_time)
            await self._tell_missed(schedule, fire_time)
        else:
            log.info("schedule %s: firing %s started batch %s", schedule_id, fire_time, batch.id)
        await self._record(schedule, fire_time)

    async def _skip(self, schedule_id: str, fire_time: datetime) -> None:
        schedule = await self._fresh(schedule_id, fire_time)
        if schedule is None:
            return
        await self._tell_missed(schedule, fire_time)
        await self._record(schedule, fire_time)

    async def _tell_missed(self, schedule: Schedule, fire_time: datetime) -> None:
        try:
            await self._missed.missed(schedule, fire_time)
        except Exception:
            log.exception("schedule %s: reporting the missed firing %s failed", schedule.id, fire_time)

    async def _record(self, schedule: Schedule, fire_time: datetime) -> None:
        once = schedule.kind is ScheduleKind.ONCE
        # A slow firing may finish after a later one was skipped: never move the mark back.
        current = await self._store.get_schedule(schedule.id)
        last = current.last_fire_time if current is not None else None
        newer = last is None or last.astimezone(UTC) < fire_time.astimezone(UTC)
        await self._store.update_schedule(
            schedule.id, last_fire_time=fire_time if newer else None, active=False if once else None
        )
        if once:
            self._jobs.disarm(schedule.id)
