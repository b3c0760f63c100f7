"""ScheduleJobs: armed schedules as in-memory APScheduler 3 jobs, which only keep time."""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any, TypeAlias
from zoneinfo import ZoneInfo

from apscheduler.events import EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from engine.models import Schedule, ScheduleKind
from scheduler.cron import latest_fire_time

log = logging.getLogger(__name__)

FiringHandler: TypeAlias = Callable[[str, datetime], Coroutine[Any, Any, None]]
"""Called with a schedule id and the fire time it was scheduled for."""


def _job_id(schedule_id: str) -> str:
    return f"schedule:{schedule_id}"


class ScheduleJobs:
    """One APScheduler job per armed schedule; ``fire`` runs a due firing, ``skip`` one
    APScheduler did not run. Tracks the firings in progress so a shutdown can wait for them."""

    def __init__(
        self, *, tz: ZoneInfo, grace: timedelta, fire: FiringHandler, skip: FiringHandler
    ) -> None:
        self._tz = tz
        self._grace = grace
        self._fire = fire
        self._skip = skip
        self._scheduler: Any = None
        self._triggers: dict[str, Any] = {}
        self._tasks: set[asyncio.Task[Any]] = set()

    @property
    def started(self) -> bool:
        return self._scheduler is not None

    def start(self) -> None:
        """Start APScheduler on the running loop."""
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

    async def shutdown(self, *, timeout_s: float) -> None:
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

    def armed_ids(self) -> list[str]:
        return [job.id.removeprefix("schedule:") for job in self._scheduler.get_jobs()]

    def is_armed(self, schedule_id: str) -> bool:
        return self._scheduler is not None and self._scheduler.get_job(_job_id(schedule_id)) is not None

    def next_run_time(self, schedule_id: str) -> datetime | None:
        """When APScheduler runs the armed job next (None: it never will)."""
        return self._scheduler.get_job(_job_id(schedule_id)).next_run_time  # type: ignore[no-any-return]

    def arm(self, schedule: Schedule, trigger: Any) -> None:
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

    def disarm(self, schedule_id: str) -> None:
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

    def _on_not_run(self, event: Any) -> None:
        """APScheduler skipped a run (too late, or the previous one still running): say so."""
        schedule_id = str(event.job_id).removeprefix("schedule:")
        times = getattr(event, "scheduled_run_times", None) or [event.scheduled_run_time]
        self._spawn(self._skip(schedule_id, max(times)))

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
