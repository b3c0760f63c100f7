"""One attempt at one row: call the app, bound it by the row's timeout, classify the outcome.

The runner decides what the row becomes (a `RowUpdate`) and what the lane should learn
from it (`Signal`); it holds no slot and writes nothing itself.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from engine.errors import PermanentWorkflowError, TransientWorkflowError, WorkflowError
from engine.lanes.limits import backoff
from engine.models import Row, RowStatus, RowUpdate, RunResult
from engine.ports import WorkflowClient
from engine.settings import WorkflowSettings

log = logging.getLogger(__name__)

FINAL_RUN_STATUSES = frozenset({"succeeded", "partial-succeeded", "failed", "stopped"})
STOP_TIMEOUT_S = 10.0


class Signal(Enum):
    NONE = "none"
    SUCCESS = "success"
    OVERLOAD = "overload"
    OUTAGE = "outage"
    """No Dify to talk to: the row goes back unspent, the lane waits."""


@dataclass(frozen=True, slots=True)
class Outcome:
    update: RowUpdate
    signal: Signal = Signal.NONE
    pause_s: float | None = None
    """Pause the whole lane this long (Retry-After, or an overload answer)."""


@dataclass(slots=True)
class _Attempt:
    row: Row
    number: int
    user: str
    began: datetime
    run_id: str | None = None
    task_id: str | None = None


Started = Callable[[RowUpdate], None]
Cancelled = Callable[[], bool]


class RowRunner:
    def __init__(
        self,
        settings: WorkflowSettings,
        client: WorkflowClient,
        *,
        clock: Callable[[], datetime],
        sleep: Callable[[float], Awaitable[None]],
        rand: Callable[[], float],
        poll_s: float = 2.0,
    ) -> None:
        self.settings = settings
        self.client = client
        self._clock = clock
        self._sleep = sleep
        self._rand = rand
        self._poll_s = poll_s

    async def run(self, row: Row, *, user: str, started: Started, cancelled: Cancelled) -> Outcome:
        """Run the row once. ``started`` gets the running row as soon as Dify names the run."""
        at = _Attempt(row, row.attempts + 1, user, self._clock())

        async def on_started(run_id: str, task_id: str) -> None:
            at.run_id, at.task_id = run_id or None, task_id or None
            started(self._update(at, RowStatus.RUNNING))

        s = self.settings
        try:
            async with asyncio.timeout(s.timeout_s):
                result = await self.client.run(
                    row.inputs,
                    user=user,
                    trace_id=f"{row.batch_id}-{row.index}-{at.number}",
                    query=row.query,
                    on_started=on_started,
                )
        except TimeoutError:
            if at.task_id:
                await self.stop(at.task_id, user)
            return self._transient(at, f"no answer within {s.timeout_s:g} s", None, cancelled)
        except TransientWorkflowError as e:
            if e.overload:
                return self._overload(at, e, cancelled)
            if e.outage and not e.run_id:
                return self._outage(at, e, cancelled)
            at.run_id = e.run_id or at.run_id
            at.task_id = e.task_id or at.task_id
            if at.run_id:
                deadline = at.began + timedelta(seconds=s.timeout_s)
                found = await self.poll_run(at.run_id, at.task_id, user, deadline)
                if found is not None and found.succeeded:
                    return self._succeeded(at, found)
            return self._transient(at, str(e), e.retry_after_s, cancelled)
        except PermanentWorkflowError as e:
            return Outcome(self._final(at, RowStatus.FAILED, error=str(e)))
        except WorkflowError as e:
            return self._transient(at, str(e), None, cancelled)
        except Exception as e:
            # a client bug must not kill the lane; spending an attempt bounds the damage
            log.exception("calling the app for row %s/%d failed", row.batch_id, row.index)
            return self._transient(at, f"internal error: {e!r}", None, cancelled)
        return self._finished(at, result, cancelled)

    def sent(self, row: Row, *, user: str) -> RowUpdate:
        """The row marked as being sent now, as ``user``: stored before the call goes out, so
        a crash before its run id is stored leaves something to look the run up by."""
        return RowUpdate(
            row.batch_id, row.index, RowStatus.RUNNING, row.attempts, error=row.error,
            started_at=self._clock(), overload_since=row.overload_since,
            sent_at=self._clock(), sent_user=user,
        )

    def settle(self, row: Row, result: RunResult, *, cancelled: Cancelled) -> Outcome:
        """A run found in Dify's records already ended: the row takes its outcome."""
        at = _Attempt(row, row.attempts, row.sent_user or "", row.started_at or self._clock(),
                      result.run_id, result.task_id)
        return self._finished(at, result, cancelled)

    async def reconcile(self, row: Row, *, user: str) -> RowUpdate:
        """A row left `running` with a run id: keep Dify's outputs if it succeeded, else requeue.

        Polls until the row's timeout (counted from its start); a run still `running`
        then is stopped and counted as lost (Dify 1.14.1 reports stopped runs as running).
        """
        assert row.run_id is not None
        began = row.started_at or self._clock()
        at = _Attempt(row, row.attempts, user, began, row.run_id, row.task_id)
        deadline = began + timedelta(seconds=self.settings.timeout_s)
        found = await self.poll_run(row.run_id, row.task_id, user, deadline)
        if found is not None and found.succeeded:
            return self._succeeded(at, found).update
        # the crash was ours, not the row's: requeue without spending an attempt
        return self._update(at, RowStatus.PENDING, run_id=None, task_id=None, error=row.error)

    async def poll_run(
        self, run_id: str, task_id: str | None, user: str, deadline: datetime
    ) -> RunResult | None:
        """The run's final state, or None when it is unknown, lost, or outlived ``deadline``."""
        while True:
            try:
                found = await self.client.fetch_run(run_id)
            except PermanentWorkflowError:
                return None
            except TransientWorkflowError as e:
                log.info("fetching run %s failed (%s); polling again", run_id, e)
                found = RunResult(status="running", run_id=run_id)
            if found is None or found.status in FINAL_RUN_STATUSES:
                return found
            left = (deadline - self._clock()).total_seconds()
            if left <= 0:
                if task_id:
                    await self.stop(task_id, user)
                return None
            await self._sleep(min(self._poll_s, left))

    async def stop(self, task_id: str, user: str) -> None:
        """Ask Dify to stop a run; a failure is logged, never raised (the run may be gone)."""
        try:
            async with asyncio.timeout(STOP_TIMEOUT_S):
                await self.client.stop(task_id, user=user)
        except (WorkflowError, TimeoutError) as e:
            log.warning("stopping task %s failed: %s", task_id, e)

    def _finished(self, at: _Attempt, result: RunResult, cancelled: Cancelled) -> Outcome:
        at.run_id = result.run_id or at.run_id
        at.task_id = result.task_id or at.task_id
        if result.succeeded:
            return self._succeeded(at, result)
        message = result.error or f"the run ended {result.status}"
        if cancelled():
            return Outcome(self._final(at, RowStatus.CANCELLED, error=message))
        if self.settings.retry_failed_runs:
            return self._transient(at, message, None, cancelled)
        return Outcome(self._final(at, RowStatus.FAILED, error=message, result=result))

    def _succeeded(self, at: _Attempt, result: RunResult) -> Outcome:
        update = self._final(at, RowStatus.SUCCEEDED, result=result)
        return Outcome(update, Signal.SUCCESS)

    def _transient(
        self, at: _Attempt, message: str, retry_after: float | None, cancelled: Cancelled
    ) -> Outcome:
        s = self.settings
        if cancelled():
            return Outcome(self._final(at, RowStatus.CANCELLED, error=message))
        if at.number >= s.max_attempts:
            return Outcome(self._final(at, RowStatus.FAILED, error=f"{message} (after {at.number} attempts)"))
        wait = backoff(at.number, base_s=s.backoff_base_s, max_s=s.backoff_max_s, rand=self._rand)
        pause = self._cap(retry_after) if retry_after is not None else None
        wait = max(wait, pause or 0.0)
        not_before = self._clock() + timedelta(seconds=wait)
        log.info("row %s/%d attempt %d failed, retry in %.2f s: %s",
                 at.row.batch_id, at.row.index, at.number, wait, message)
        update = self._update(at, RowStatus.PENDING, not_before=not_before, error=message,
                              run_id=None, task_id=None)
        return Outcome(update, Signal.NONE, pause)

    def _overload(self, at: _Attempt, e: TransientWorkflowError, cancelled: Cancelled) -> Outcome:
        """Dify is full. A ``Retry-After`` is honoured exactly, for the row and the whole lane;
        without one only this row waits a moment (jittered): the gate, not a lane-wide pause,
        is what keeps the lane under the app's capacity."""
        s = self.settings
        pause = min(e.retry_after_s, s.overload_give_up_s) if e.retry_after_s is not None else None
        wait = pause if pause is not None else s.overload_pause_s * (0.5 + self._rand() / 2)
        now = self._clock()
        since = at.row.overload_since or at.began
        at.number = at.row.attempts  # overload answers do not use up attempts
        if cancelled():
            return Outcome(self._final(at, RowStatus.CANCELLED, error=str(e)), Signal.OVERLOAD, pause)
        if (now - since).total_seconds() >= s.overload_give_up_s:
            error = f"Dify kept refusing for {s.overload_give_up_s:g} s: {e}"
            return Outcome(self._final(at, RowStatus.FAILED, error=error), Signal.OVERLOAD, pause)
        update = self._update(at, RowStatus.PENDING, not_before=now + timedelta(seconds=wait),
                              error=str(e), run_id=None, task_id=None, overload_since=since)
        return Outcome(update, Signal.OVERLOAD, pause)

    def _outage(self, at: _Attempt, e: TransientWorkflowError, cancelled: Cancelled) -> Outcome:
        at.number = at.row.attempts  # Dify was not there: the row is not to blame
        if cancelled():
            return Outcome(self._final(at, RowStatus.CANCELLED, error=str(e)), Signal.OUTAGE)
        update = self._update(at, RowStatus.PENDING, error=str(e), run_id=None, task_id=None,
                              overload_since=at.row.overload_since)
        return Outcome(update, Signal.OUTAGE)

    def _cap(self, seconds: float) -> float:
        return min(max(0.0, seconds), max(self.settings.backoff_max_s, self.settings.overload_pause_s))

    def _final(
        self, at: _Attempt, status: RowStatus, *, error: str | None = None, result: RunResult | None = None
    ) -> RowUpdate:
        now = self._clock()
        elapsed = (now - at.began).total_seconds()
        if result is not None and result.elapsed_s:
            elapsed = result.elapsed_s
        return RowUpdate(
            batch_id=at.row.batch_id,
            index=at.row.index,
            status=status,
            attempts=at.number,
            run_id=at.run_id,
            task_id=at.task_id,
            outputs=result.outputs if result is not None and status is RowStatus.SUCCEEDED else None,
            error=error,
            elapsed_s=elapsed,
            tokens=result.tokens if result is not None else 0,
            started_at=at.began,
            finished_at=now,
            workflow_id=result.workflow_id if result is not None else None,
        )

    def _update(
        self,
        at: _Attempt,
        status: RowStatus,
        *,
        not_before: datetime | None = None,
        error: str | None = None,
        overload_since: datetime | None = None,
        **ids: str | None,
    ) -> RowUpdate:
        return RowUpdate(
            batch_id=at.row.batch_id,
            index=at.row.index,
            status=status,
            attempts=at.number,
            not_before=not_before,
            run_id=ids.get("run_id", at.run_id),
            task_id=ids.get("task_id", at.task_id),
            error=error,
            started_at=at.began,
            overload_since=overload_since,
        )
