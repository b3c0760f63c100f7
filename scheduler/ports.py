"""What the scheduler needs from the composition root, and how a stored schedule becomes a trigger."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol, TypeAlias
from zoneinfo import ZoneInfo

from apscheduler.triggers.date import DateTrigger

from engine.errors import WhenError
from engine.models import Batch, Schedule, ScheduleKind
from scheduler.cron import cron_trigger

Clock: TypeAlias = Callable[[], datetime]
TriggerFactory: TypeAlias = Callable[[Schedule], Any]
"""Builds the APScheduler trigger of a stored schedule (tests swap in sub-minute triggers)."""


class BatchStarter(Protocol):
    """Implemented by the composition root: turns one firing into a batch from the stored sheet."""

    async def start_scheduled(self, schedule: Schedule, fire_time: datetime) -> Batch:
        """Create and start the batch keyed ``(schedule.id, fire_time)``.

        Raises `AlreadyExists` when that firing already has its batch (another replica won).
        """
        ...


class MissedFiring(Protocol):
    """Told when a firing did not run: missed beyond the grace period, or its start failed."""

    async def missed(self, schedule: Schedule, fire_time: datetime) -> None: ...


def utcnow() -> datetime:
    return datetime.now(UTC)


def default_trigger(schedule: Schedule) -> Any:
    """DateTrigger for a one-shot, CronTrigger for a recurring schedule, both in its stored zone."""
    tz = ZoneInfo(schedule.timezone)
    if schedule.kind is ScheduleKind.ONCE:
        if schedule.run_at is None:
            raise WhenError(f"schedule {schedule.id} has no run time")
        return DateTrigger(run_date=schedule.run_at, timezone=tz)
    if schedule.cron is None:
        raise WhenError(f"schedule {schedule.id} has no cron expression")
    return cron_trigger(schedule.cron, tz)
