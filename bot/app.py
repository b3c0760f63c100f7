"""The composition root: the only module that wires storage, the scheduler and the Dify
client to the engine. The CLI and the daemon both start from `open_runtime`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from bot.config import Config, WorkflowConfig, sheet_limits
from bot.intake import Intake
from engine.dify.client import DifyClient
from engine.ports import Housekeeping, Notifier, RunObserver, Store, WorkflowClient
from engine.private import private_dir
from engine.service import BatchService
from engine.settings import WorkflowSettings
from storage import SqlStore, migrate
from storage.connect import create_engine
from storage.migrate import SchemaState, Upgraded

__all__ = ["Runtime", "dify_client", "open_runtime"]


@dataclass
class Runtime:
    """Everything a command or the daemon needs, opened together and closed together."""

    config: Config
    store: Store
    service: BatchService
    clients: Mapping[str, WorkflowClient]
    intake: Intake
    records: Housekeeping
    """The same database as ``store``: what retention, health and metrics ask of it."""

    async def aclose(self) -> None:
        for client in self.clients.values():
            await client.aclose()
        await self.store.close()


def dify_client(workflow: WorkflowConfig) -> DifyClient:
    settings = workflow.settings
    return DifyClient(
        workflow.base_url,
        workflow.api_key,
        app_type=settings.app_type,
        response_mode=settings.response_mode,
        timeout_s=settings.timeout_s,
        max_connections=settings.concurrency,
        workflow_id=settings.workflow_id,
    )


async def open_runtime(
    config: Config,
    notifier: Notifier | Callable[[Store], Notifier],
    *,
    clients: Mapping[str, WorkflowClient] | None = None,
    settings: Mapping[str, WorkflowSettings] | None = None,
    serve_others: bool = True,
    observer: RunObserver | None = None,
) -> Runtime:
    """Open the store, build one client per workflow and the engine service on top.

    ``serve_others=False`` (CLI commands) runs only the batches this process starts or
    resumes, never other running batches found in the database. With ``observer`` (the
    daemon's metrics) every lane and every client reports to it."""
    data_dir = private_dir(Path(config.daemon.data_dir))
    store = await SqlStore.open(config.daemon.database_url)
    if callable(notifier):
        notifier = notifier(store)  # the daemon's notifier needs the store it reports from
    if clients is None:
        clients = {name: dify_client(wf) for name, wf in config.workflows.items()}
    if settings is None:
        settings = {name: wf.settings for name, wf in config.workflows.items()}
    if observer is not None:
        from bot.ops.metrics import ObservedClient

        clients = {
            name: ObservedClient(c, name, observer, settings[name].timeout_s) for name, c in clients.items()
        }
    service = BatchService(store, settings, clients, notifier, serve_others=serve_others, observer=observer)
    intake = Intake(service, store, clients, sheet_limits(config), data_dir)
    return Runtime(config, store, service, clients, intake, store)


async def database_state(config: Config) -> SchemaState:
    """The schema revision of the configured database, read without changing it."""
    engine = create_engine(config.daemon.database_url)
    try:
        return await migrate.current(engine)
    finally:
        await engine.dispose()


async def upgrade_database(config: Config) -> Upgraded | None:
    """Upgrade the configured database now (opening a store does the same)."""
    engine = create_engine(config.daemon.database_url)
    try:
        return await migrate.upgrade(engine)
    finally:
        await engine.dispose()
