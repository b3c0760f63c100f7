"""`dify-batch serve`: the long-running daemon. One asyncio process runs the engine, the
scheduler, the chat adapters and a small HTTP server; SIGTERM stops intake, gives rows in
flight a grace period, and exits so that the next start resumes every batch."""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
from collections.abc import Mapping

from bot.app import Runtime, open_runtime
from bot.chat.access import Access
from bot.chat.desk import ChatAdapter, ChatDesk, Speaking
from bot.chat.handlers import CommandHandlers
from bot.chat.progress import ProgressReporter
from bot.chat.surface import ChatSurface
from bot.chat.text.catalogues import known_locales
from bot.chat.text.renderer import MessageBook, slack_escape
from bot.chat.uploads import UploadDesk
from bot.config import Config
from bot.http import HttpServer, build_app
from bot.ops.health import Health, PartHealth
from bot.ops.logs import config_secrets, configure_logging
from bot.ops.metrics import CONTENT_TYPE, MeteredSurface, Metrics
from bot.ops.retention import RETENTION_EVERY_S, prune
from bot.results_files import deliver_owed
from bot.scheduling import SchedulingBridge, schedule_service
from engine.ports import Store, WorkflowClient
from engine.settings import WorkflowSettings
from scheduler.service import ScheduleService

log = logging.getLogger(__name__)


class Daemon:
    """The daemon as an object, so tests can start and stop it in-process."""

    def __init__(
        self,
        config: Config,
        *,
        clients: Mapping[str, WorkflowClient] | None = None,
        settings: Mapping[str, WorkflowSettings] | None = None,
        health: Health | None = None,
    ) -> None:
        self.config = config
        self.clients = clients
        self.settings = settings
        self.ready = asyncio.Event()
        self.http_port = config.daemon.http_port
        self.surfaces: dict[str, ChatSurface] = {}
        self.reporter: ProgressReporter | None = None
        locale = config.daemon.locale
        self.metrics = Metrics()
        self.health = health or Health()
        self.runtime: Runtime | None = None
        self.messages = {
            "telegram": MessageBook(locale, prefix="/"),
            "slack": MessageBook(locale, prefix=f"{config.slack.command} ", escape=slack_escape),
        }

    def _reporter(self, store: Store) -> ProgressReporter:
        interval = self.config.limits.progress_interval_s
        # the same on a restart, so a daemon that crashed takes its batches back at once;
        # replicas differ by host, data directory or port
        d = self.config.daemon
        reporter_id = f"{socket.gethostname()}:{d.data_dir.resolve()}:{d.http_port}"
        self.reporter = ProgressReporter(
            store, self.surfaces, self.messages, interval_s=interval, reporter_id=reporter_id
        )
        return self.reporter

    async def run(self, stop: asyncio.Event) -> None:
        """Run until ``stop`` is set, then shut down gracefully."""
        runtime = await open_runtime(
            self.config, self._reporter, clients=self.clients, settings=self.settings,
            observer=self.metrics,
        )
        self.runtime = runtime
        try:
            await self._serve(runtime, stop)
        finally:
            await runtime.aclose()
            if self.ready.is_set():
                log.info("daemon stopped")

    async def _serve(self, runtime: Runtime, stop: asyncio.Event) -> None:
        reporter = self.reporter
        assert reporter is not None
        schedules, scheduling = schedule_service(runtime, self.surfaces, self.messages)
        adapters = self._adapters(runtime, scheduling)
        routes = [route for adapter in adapters for route in adapter.routes()]

        async def scrape() -> bytes:
            return await self.metrics.exposition(runtime.service, runtime.records)

        app = build_app(scrape, CONTENT_TYPE, self.health, runtime.records.ping, routes)
        http = HttpServer(app, self.config.daemon.http_host, self.config.daemon.http_port)
        await http.start()
        self.http_port = http.port
        try:
            for adapter in adapters:
                await adapter.check()  # a rejected token ends the start here, with exit 2
            await runtime.intake.finish_storing()  # a big sheet cut short by a crash
            # a CLI run that crashed while writing its results file left it owed
            await deliver_owed(runtime.store)
            await runtime.service.recover()
            await reporter.catch_up()
            await runtime.service.start()
            await schedules.start()
            self.ready.set()
            self.health.ready = True
            log.info("daemon ready on %s:%d", http.host, http.port)
            async with asyncio.TaskGroup() as group:
                receivers = [group.create_task(a.run(), name=f"{a.platform}-receiver") for a in adapters]
                receivers.append(group.create_task(self._sync_schedules(schedules)))
                receivers.append(group.create_task(self._prune_daily(runtime)))
                await stop.wait()
                log.info("stopping: no new work is taken")
                for receiver in receivers:
                    receiver.cancel()
        finally:
            self.health.ready = False
            await schedules.shutdown()
            await runtime.service.shutdown(self.config.daemon.shutdown_grace_s)
            await reporter.flush()
            await reporter.aclose()
            for adapter in adapters:
                await adapter.aclose()
            await http.stop()

    async def _prune_daily(self, runtime: Runtime) -> None:
        """Retention: finished batches older than ``keep_days`` go, once a day (and at start)."""
        while True:
            try:
                await prune(runtime.records, runtime.store, self.config.daemon.data_dir,
                            keep_days=self.config.daemon.keep_days)
            except Exception:
                log.exception("pruning old batches failed; trying again tomorrow")
            await asyncio.sleep(RETENTION_EVERY_S)

    async def _sync_schedules(self, schedules: ScheduleService) -> None:
        """Pick up schedules added or removed by the CLI or another replica."""
        while True:
            await asyncio.sleep(self.config.daemon.schedule_sync_s)
            try:
                await schedules.sync()
            except Exception:
                log.exception("schedule sync failed; trying again later")

    def _adapters(self, runtime: Runtime, scheduling: SchedulingBridge) -> list[ChatAdapter]:
        access = Access.from_config(self.config)
        max_bytes = int(self.config.limits.max_file_mb * 1024 * 1024)
        adapters: list[ChatAdapter] = []

        def desk(platform: str) -> ChatDesk:
            book = self.messages[platform]
            by_locale = {}
            for locale in known_locales():
                m = book.for_locale(locale)
                by_locale[locale] = Speaking(
                    CommandHandlers(runtime.service, runtime.intake, access, m, scheduling),
                    UploadDesk(runtime.intake, access, m, scheduling),
                    m,
                )
            return ChatDesk(book, by_locale, access, max_bytes)

        if self.config.telegram.enabled:
            from bot.telegram.adapter import TelegramAdapter

            adapters.append(TelegramAdapter(self.config.telegram, desk("telegram")))
        if self.config.slack.enabled:
            from bot.slack.adapter import SlackAdapter

            adapters.append(SlackAdapter(self.config.slack, desk("slack")))
        for adapter in adapters:
            self.surfaces[adapter.platform] = MeteredSurface(adapter.surface, adapter.platform, self.metrics)
            adapter.health = PartHealth(self.health, adapter.platform)
        return adapters


async def serve(config: Config) -> int:
    """Run the daemon until SIGTERM or SIGINT."""
    configure_logging(config.daemon.log_format, config.daemon.log_level, secrets=config_secrets(config))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await Daemon(config).run(stop)
    return 0
