"""Settings the engine needs per workflow; `bot.config_loader` builds them from TOML."""

from __future__ import annotations

from dataclasses import dataclass

from engine.models import AppType, ResponseMode


@dataclass(frozen=True, slots=True)
class WorkflowSettings:
    """How one Dify app is called and how hard it may be pushed."""

    name: str
    app_type: AppType = AppType.WORKFLOW
    response_mode: ResponseMode = ResponseMode.STREAMING
    concurrency: int = 8
    requests_per_minute: int = 0
    timeout_s: float = 300.0
    max_attempts: int = 3
    backoff_base_s: float = 1.0
    backoff_max_s: float = 60.0
    overload_pause_s: float = 1.0
    overload_give_up_s: float = 900.0
    outage_pause_after_s: float = 600.0
    """Dify unreachable this long: the lane's running batches pause and their owners are told
    (0: wait for Dify however long it takes)."""
    retry_failed_runs: bool = False
    """Retry a run that Dify finished with ``status: failed`` (off: fail the row at once)."""
    workflow_id: str | None = None
    """The published version every row runs on (``POST /workflows/{id}/run``); None = the latest."""
    context: tuple[tuple[str, str], ...] = ()
    """``(app variable, source)`` pairs filled from the batch (see `engine.context`)."""
