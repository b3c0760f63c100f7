"""Prometheus metrics (DESIGN §9) on one `prometheus_client` registry per daemon.

Counters and the histogram are fed as things happen: the lanes report each attempt
(`engine.ports.RunObserver`), `ObservedClient` each failed call to Dify, `MeteredSurface`
each chat call. Gauges (lane limits, rows in flight, batches by state) are read when
scraped, so they are never stale and cost nothing between scrapes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest

from bot.chat.surface import ChatSurface, FileTooLarge, Keyboard, RetryLater
from engine.errors import WorkflowError, dify_error_kind
from engine.models import (
    BatchStatus,
    ChatRef,
    FoundRun,
    InputForm,
    JsonDict,
    RowStatus,
    RowUpdate,
    RunResult,
)
from engine.ports import Housekeeping, RunObserver, RunStarted, WorkflowClient
from engine.service import BatchService

log = logging.getLogger(__name__)

CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4
"""The classic text format every Prometheus reads; what prometheus_client's own server
answers a scraper that asks for nothing newer."""
ROW_SECONDS_BUCKETS = (0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800)
_OUTCOMES = {RowStatus.SUCCEEDED: "succeeded", RowStatus.FAILED: "failed", RowStatus.CANCELLED: "cancelled"}


def build_version() -> str:
    try:
        return version("dify-batch-bot")
    except PackageNotFoundError:
        return "unknown"


class Metrics:
    """Every metric family; also the engine's `RunObserver`."""

    def __init__(self) -> None:
        r = self.registry = CollectorRegistry()
        self.rows = Counter(
            "difybatch_rows", "Rows that reached a final state, by workflow and outcome.",
            ["workflow", "outcome"], registry=r,
        )
        self.row_duration = Histogram(
            "difybatch_row_duration_seconds", "Dify run time of each finished row's last attempt.",
            ["workflow"], buckets=ROW_SECONDS_BUCKETS, registry=r,
        )
        self.dify_errors = Counter(
            "difybatch_dify_errors", "Failed calls to Dify, by workflow and kind.",
            ["workflow", "kind"], registry=r,
        )
        self.retries = Counter(
            "difybatch_retries", "Row attempts that ended in a retry later.", ["workflow"], registry=r,
        )
        self.tokens = Counter(
            "difybatch_tokens", "Tokens Dify reported for finished rows.", ["workflow"], registry=r,
        )
        self.lane_limit = Gauge(
            "difybatch_lane_limit", "A workflow's current concurrency limit (shrinks on overload).",
            ["workflow"], registry=r,
        )
        self.lane_in_flight = Gauge(
            "difybatch_lane_in_flight", "Rows of a workflow being run right now by this process.",
            ["workflow"], registry=r,
        )
        self.batches = Gauge(
            "difybatch_batches", "Batches in the database, by state.", ["state"], registry=r,
        )
        self.chat_errors = Counter(
            "difybatch_chat_errors", "Failed chat API calls, by platform and kind.",
            ["platform", "kind"], registry=r,
        )
        self.progress_edits = Counter(
            "difybatch_progress_edits", "Progress messages edited in place.", ["platform"], registry=r,
        )
        Info("difybatch_build", "The running dify-batch.", registry=r).info({"version": build_version()})

    # RunObserver

    def row_settled(self, workflow: str, update: RowUpdate) -> None:
        if update.status is RowStatus.PENDING:
            self.retries.labels(workflow).inc()
            return
        outcome = _OUTCOMES.get(update.status)
        if outcome is None:
            return
        self.rows.labels(workflow, outcome).inc()
        if update.elapsed_s is not None:
            self.row_duration.labels(workflow).observe(update.elapsed_s)
        if update.tokens:
            self.tokens.labels(workflow).inc(update.tokens)

    def dify_error(self, workflow: str, kind: str) -> None:
        self.dify_errors.labels(workflow, kind).inc()

    # scraping

    async def exposition(self, service: BatchService, records: Housekeeping) -> bytes:
        """The text exposition format, gauges read now."""
        try:
            counts = await records.batch_counts()
        except Exception as exc:
            # the rest still tells what happened; /healthz says the database is away
            log.warning("metrics: batch counts unavailable (%s)", type(exc).__name__)
        else:
            for state in BatchStatus:
                self.batches.labels(state.value).set(counts.get(state, 0))
        for name, lane in service.lanes.items():
            self.lane_limit.labels(name).set(lane.gate.limit)
            self.lane_in_flight.labels(name).set(lane.gate.in_flight)
        return generate_latest(self.registry)


class ObservedClient:
    """A `WorkflowClient` that tells the observer how each failed run call failed."""

    def __init__(self, inner: WorkflowClient, workflow: str, observer: RunObserver, timeout_s: float) -> None:
        self._inner = inner
        self._workflow = workflow
        self._observer = observer
        self._timeout_s = timeout_s

    async def form(self) -> InputForm:
        return await self._inner.form()

    async def run(
        self, inputs: JsonDict, *, user: str, trace_id: str, query: str | None = None,
        on_started: RunStarted | None = None,
    ) -> RunResult:
        began = time.monotonic()
        try:
            return await self._inner.run(
                inputs, user=user, trace_id=trace_id, query=query, on_started=on_started
            )
        except WorkflowError as exc:
            self._observer.dify_error(self._workflow, dify_error_kind(exc))
            raise
        except BaseException:
            # the runner bounds the whole call by the row's timeout and cancels us at it
            if time.monotonic() - began >= self._timeout_s:
                self._observer.dify_error(self._workflow, "timeout")
            raise

    async def stop(self, task_id: str, *, user: str) -> None:
        await self._inner.stop(task_id, user=user)

    async def fetch_run(self, run_id: str) -> RunResult | None:
        return await self._inner.fetch_run(run_id)

    async def find_runs(self, user: str, *, after: datetime) -> list[FoundRun] | None:
        return await self._inner.find_runs(user, after=after)

    async def aclose(self) -> None:
        await self._inner.aclose()


class MeteredSurface:
    """A `ChatSurface` that counts progress edits and failed chat API calls."""

    def __init__(self, inner: ChatSurface, platform: str, metrics: Metrics) -> None:
        self._inner = inner
        self._platform = platform
        self._metrics = metrics

    async def post(self, chat: ChatRef, text: str, keyboard: Keyboard = ()) -> str:
        try:
            return await self._inner.post(chat, text, keyboard)
        except Exception as exc:
            self._failed(exc)
            raise

    async def edit(self, chat: ChatRef, message_id: str, text: str, keyboard: Keyboard = ()) -> None:
        try:
            await self._inner.edit(chat, message_id, text, keyboard)
        except Exception as exc:
            self._failed(exc)
            raise
        self._metrics.progress_edits.labels(self._platform).inc()

    async def send_file(self, chat: ChatRef, data: bytes, filename: str, caption: str) -> None:
        try:
            await self._inner.send_file(chat, data, filename, caption)
        except Exception as exc:
            self._failed(exc)
            raise

    def _failed(self, exc: Exception) -> None:
        kind = "rate_limited" if isinstance(exc, RetryLater) else (
            "file_too_large" if isinstance(exc, FileTooLarge) else "error"
        )
        self._metrics.chat_errors.labels(self._platform, kind).inc()


def metered(surfaces: Mapping[str, ChatSurface], metrics: Metrics) -> dict[str, ChatSurface]:
    return {platform: MeteredSurface(s, platform, metrics) for platform, s in surfaces.items()}
