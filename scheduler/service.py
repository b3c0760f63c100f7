"""ScheduleService: the schedule table as in-memory APScheduler 3 jobs; each firing starts one batch."""

from __future__ import annotations

import asyncio
import logging
import math
import secrets
from collections.abc import Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any, TypeAlias
from zoneinfo import ZoneInfo

from apscheduler.events import EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from engine.errors import AlreadyExists, AppError, CommandError, NotFound, WhenError
from engine.models import ChatRef, Schedule, ScheduleKind
from engine.ports import Store
from scheduler.cron import latest_fire_time
from scheduler.ports import BatchStarter, Clock, MissedFiring, TriggerFactory, default_trigger, utcnow
from scheduler.when import When, describe_instant

log = logging.getLogger(__name__)

Listing: TypeAlias = list[tuple[Schedule, datetime | None]]


def _job_id(schedule_id: str) -> str:
    return f"schedule:{schedule_id}"


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
        self._scheduler: Any = None
        self._triggers: dict[str, Any] = {}
        self._tasks: set[asyncio.Task[Any]] = set()

    # --- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        """Start APScheduler on the running loop and load every active schedule.

        A firing missed while the daemon was down runs here, once, if it is within the grace
        period; an older one is reported to `MissedFiring` instead.
        """
        if self._scheduler is not None:
            raise RuntimeError("ScheduleService already started")
        scheduler = AsyncIOScheduler(
            timezone=self._tz,
            job_defaults={
                # APScheduler's 1 s default would drop a firing whenever the loop is busy;
                # it also takes whole seconds only.
                "misfire_grace_time": max(1, math.ceil(self._grace.total_seconds())),
                "coalesce": True,
                "max_instances": 1,
            },
        )
        scheduler.add_listener(self._on_not_run, EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES)
        scheduler.start()  # 3.11 takes the running loop here, so this must run inside it
        self._scheduler = scheduler
        await self.sync()

    async def sync(self) -> None:
        """Make the in-memory jobs match the table (another replica may have added or removed some)."""
        if self._scheduler is None:
            raise RuntimeError("ScheduleService not started")
        schedules = await self._store.list_schedules(active_only=True)
        active = {_job_id(s.id) for s in schedules}
        for job in self._scheduler.get_jobs():
            if job.id not in active:
                self._disarm(job.id.removeprefix("schedule:"))
        now = self._clock()
        for schedule in schedules:
            try:
                await self._load(schedule, now)
            except Exception:
                # One broken row (say a cron string an old version accepted) must not stop the rest.
                log.exception("cannot load schedule %s", schedule.id)

    async def shutdown(self, *, timeout_s: float = 10.0) -> None:
        """Stop firing, let firings in progress finish (up to ``timeout_s``), stop APScheduler."""
        scheduler, self._scheduler = self._scheduler, None
        if scheduler is None:
            return
        scheduler.pause()
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout_s)
        # The asyncio executor cancels whatever still runs, whatever ``wait`` says.
        scheduler.shutdown(wait=False)
        self._triggers.clear()

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
    ) -> Schedule:
        """Store a new schedule (short id) and, when started, arm its trigger."""
        now = self._clock()
        if when.run_at is not None and when.run_at.astimezone(UTC) <= now.astimezone(UTC):
            # Parsing and saving are separate steps; the time may have passed in between.
            raise WhenError(f"{describe_instant(when.run_at, self._tz)} is in the past.")
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
            )
            try:
                await self._store.add_schedule(schedule)
            except AlreadyExists:
                continue
            break
        else:
            raise AlreadyExists("could not find a free schedule id")
        if self._scheduler is not None:
            self._arm(schedule)
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
        self._disarm(schedule_id)
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
        job = self._scheduler.get_job(_job_id(schedule.id)) if self._scheduler is not None else None
        if job is not None:
            return job.next_run_time  # type: ignore[no-any-return]
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
                self._arm(schedule, trigger)
            else:
                await self._catch_up(schedule, schedule.run_at, now)
            return
        since = schedule.last_fire_time or schedule.created_at
        latest = latest_fire_time(trigger, since, now)
        if latest is not None:
            await self._catch_up(schedule, latest, now)
        if self._scheduler is not None and self._scheduler.get_job(_job_id(schedule.id)) is None:
            self._arm(schedule, trigger)

    async def _catch_up(self, schedule: Schedule, fire_time: datetime, now: datetime) -> None:
        if now.astimezone(UTC) - fire_time.astimezone(UTC) <= self._grace:
            log.info("schedule %s: running the firing of %s missed while down", schedule.id, fire_time)
            await self._fire(schedule.id, fire_time)
        else:
            log.warning("schedule %s: firing of %s is past the grace period; skipped", schedule.id, fire_time)
            await self._skip(schedule.id, fire_time)

    def _arm(self, schedule: Schedule, trigger: Any = None) -> None:
        trigger = trigger if trigger is not None else self._trigger_factory(schedule)
        self._triggers[schedule.id] = trigger
        # A one-shot knows its fire time; a recurring job works it out from its trigger.
        fire_time = schedule.run_at if schedule.kind is ScheduleKind.ONCE else None
        self._scheduler.add_job(
            self._on_job,
            trigger,
            args=(schedule.id, fire_time),
            id=_job_id(schedule.id),
            name=f"schedule {schedule.id} ({schedule.when_text})",
            replace_existing=True,
        )

    def _disarm(self, schedule_id: str) -> None:
        self._triggers.pop(schedule_id, None)
        if self._scheduler is not None and self._scheduler.get_job(_job_id(schedule_id)) is not None:
            self._scheduler.remove_job(_job_id(schedule_id))

    async def _on_job(self, schedule_id: str, fire_time: datetime | None) -> None:
        """What APScheduler runs. It does not pass the scheduled time, so a recurring job takes
        the trigger's latest fire time; APScheduler only runs a job that is at most the grace
        period late, so that is the time it was scheduled for."""
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            if fire_time is None:
                trigger = self._triggers.get(schedule_id)
                if trigger is None:
                    return
                # APScheduler keeps time on the real clock, so the injected one is not used here.
                now = datetime.now(UTC)
                fire_time = latest_fire_time(trigger, now - self._grace - timedelta(seconds=1), now)
                if fire_time is None:
                    log.error("schedule %s fired with no fire time behind it", schedule_id)
                    return
            await self._fire(schedule_id, fire_time)
        finally:
            if task is not None:
                self._tasks.discard(task)

    async def _fresh(self, schedule_id: str, fire_time: datetime) -> Schedule | None:
        """The schedule as stored now, or None when this firing is no longer ours to handle."""
        schedule = await self._store.get_schedule(schedule_id)
        if schedule is None or not schedule.active:
            self._disarm(schedule_id)  # removed, possibly by another replica
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
            self._disarm(schedule.id)

    def _on_not_run(self, event: Any) -> None:
        """APScheduler skipped a run (too late, or the previous one still running): say so."""
        schedule_id = str(event.job_id).removeprefix("schedule:")
        times = getattr(event, "scheduled_run_times", None) or [event.scheduled_run_time]
        self._spawn(self._skip(schedule_id, max(times)))

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
