"""Glue between the scheduler and the rest: a fired schedule becomes a batch through the
same intake as an upload, a missed firing is told to its owner, and chat commands reach
the scheduler through the `Scheduling` port. Only the composition root builds these."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot.app import Runtime
from bot.chat.surface import ChatSurface
from bot.chat.text.renderer import MessageBook
from bot.intake import Intake
from engine.errors import NotFound
from engine.models import Batch, ChatRef, Schedule
from scheduler.service import ScheduleService
from scheduler.when import parse_when

log = logging.getLogger(__name__)


class ScheduledStarter:
    """`BatchStarter`: re-reads the stored sheet and submits it for one firing."""

    def __init__(self, intake: Intake) -> None:
        self.intake = intake

    async def start_scheduled(self, schedule: Schedule, fire_time: datetime) -> Batch:
        try:
            data = await self.intake.load(schedule.source_path)  # here or from the database
        except NotFound:
            raise NotFound(f"the stored sheet of schedule {schedule.id} is gone") from None
        return await self.intake.submit(
            schedule.workflow, schedule.owner, data, schedule.source_name,
            schedule_id=schedule.id, fire_time=fire_time, chat=schedule.chat,
            locale=schedule.locale,
        )


class MissedNotice:
    """`MissedFiring`: tells the owner, in the chat the schedule was made in."""

    def __init__(
        self,
        surfaces: Mapping[str, ChatSurface],
        messages: Mapping[str, MessageBook],
        next_fire: Callable[[Schedule], datetime | None],
    ) -> None:
        self.surfaces = surfaces
        self.messages = messages
        self.next_fire = next_fire

    async def missed(self, schedule: Schedule, fire_time: datetime) -> None:
        chat = schedule.chat
        surface = self.surfaces.get(chat.platform) if chat else None
        log.warning("schedule %s: firing due %s was skipped", schedule.id, fire_time.isoformat())
        if chat is None or surface is None:
            return
        m = self.messages[chat.platform].for_locale(schedule.locale)
        text = m.missed_firing_text(schedule, fire_time, self.next_fire(schedule))
        await surface.post(_fresh(chat), text)


class SchedulingBridge:
    """The `Scheduling` port for chat commands, over `ScheduleService`."""

    def __init__(self, service: ScheduleService, tz: ZoneInfo) -> None:
        self.service = service
        self.tz = tz

    async def add(
        self, owner: str, workflow: str, when_text: str, source_name: str, source_path: str,
        chat: ChatRef | None, locale: str = "en",
    ) -> tuple[Schedule, datetime | None]:
        when = parse_when(when_text, now=datetime.now(UTC), tz=self.tz)
        schedule = await self.service.add(
            owner, workflow, when, when_text, source_name, source_path, chat, locale=locale
        )
        return schedule, self.next_fire(schedule)

    async def list(self, owner: str | None) -> list[tuple[Schedule, datetime | None]]:
        return await self.service.list(owner)

    async def remove(self, schedule_id: str, *, by: str, is_admin: bool) -> None:
        await self.service.remove(schedule_id, by=by, is_admin=is_admin)

    def next_fire(self, schedule: Schedule) -> datetime | None:
        return self.service.next_fire_time(schedule)


def _fresh(chat: ChatRef) -> ChatRef:
    return ChatRef(chat.platform, chat.chat_id, chat.thread_id, None, chat.reply_to_message_id,
                   chat.owner_display)


def schedule_service(
    runtime: Runtime,
    surfaces: Mapping[str, ChatSurface] | None = None,
    messages: Mapping[str, MessageBook] | None = None,
) -> tuple[ScheduleService, SchedulingBridge]:
    """The scheduler over the runtime's store and intake, and its port for commands."""
    daemon = runtime.config.daemon
    tz = ZoneInfo(daemon.timezone)
    # the notice asks the service for the next fire time, so it is built first and bound after
    notice = MissedNotice(
        {} if surfaces is None else surfaces,  # the daemon fills its dict after this call
        {} if messages is None else messages,
        lambda s: service.next_fire_time(s),
    )
    service = ScheduleService(
        runtime.store, ScheduledStarter(runtime.intake), notice,
        tz=tz, misfire_grace_s=daemon.misfire_grace_s,
    )
    return service, SchedulingBridge(service, tz)
