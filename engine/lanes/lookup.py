"""Finding the Dify run of a row that was sent but whose run id was never stored.

A crash between sending a row and storing its run id (a blocking call in flight, or a
stream whose first event was not yet committed) leaves the row `running` with a send
time and user but no run id. Sending it again would run it twice, so Dify's own records
are searched first: runs by that user since shortly before the send, whose inputs are the
row's. Each run is given to one row at most, and never one another row already holds.
Dify logs a run only when it ends, so the search is repeated until the row's timeout
(counted from its send) has passed; only then is the row sent again.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from engine.errors import WorkflowError
from engine.models import FoundRun, Row
from engine.ports import WorkflowClient

log = logging.getLogger(__name__)

CLOCK_SLACK_S = 10.0
"""How far before our send time Dify's clock may put the run (whole seconds, clock skew)."""


def same_inputs(row: Row, run: FoundRun) -> bool:
    """Whether a run's recorded inputs are the ones this row sends.

    Only the keys we send are compared (Dify adds defaults and ``sys.*`` values); file
    inputs are left out, Dify records its own form of them. A row with nothing comparable
    matches nothing, and is sent again.
    """
    compared = 0
    for key, value in row.inputs.items():
        if isinstance(value, dict | list):
            continue
        if not _same_value(value, run.inputs.get(key)):
            return False
        compared += 1
    if row.query is not None and run.query is not None:
        if row.query.replace("\x00", "") != run.query:
            return False
        compared += 1
    return compared > 0


def _same_value(sent: Any, stored: Any) -> bool:
    if sent == stored:
        return True
    if isinstance(sent, bool) or isinstance(stored, bool):
        truth = _truth(sent)
        return truth is not None and truth == _truth(stored)
    if isinstance(sent, int | float) or isinstance(stored, int | float):
        try:
            return float(sent) == float(stored)
        except (TypeError, ValueError):
            return False
    if isinstance(sent, str) and isinstance(stored, str):
        return sent.replace("\x00", "") == stored  # Dify strips NUL characters
    return False


def _truth(value: Any) -> bool | None:
    """A checkbox value as Dify reads it (true/false, 1/0, yes/no, on/off, any case)."""
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off"):
        return False
    return None


class SentRunLookup:
    def __init__(
        self,
        client: WorkflowClient,
        *,
        timeout_s: float,
        clock: Callable[[], datetime],
        sleep: Callable[[float], Awaitable[None]],
        poll_s: float = 2.0,
    ) -> None:
        self._client = client
        self._timeout = timedelta(seconds=timeout_s)
        self._clock = clock
        self._sleep = sleep
        self._poll_s = poll_s

    async def resolve(self, rows: Sequence[Row], taken: set[str]) -> dict[int, FoundRun]:
        """The run each row started, by row index; rows missing from the answer started none
        that Dify recorded within their timeout. ``taken`` grows by the runs handed out."""
        found: dict[int, FoundRun] = {}
        by_user: dict[str, list[Row]] = {}
        for row in rows:
            if row.sent_at is not None and row.sent_user:
                by_user.setdefault(row.sent_user, []).append(row)
        for user, group in by_user.items():
            found.update(await self._resolve_user(user, group, taken))
        return found

    async def _resolve_user(self, user: str, rows: list[Row], taken: set[str]) -> dict[int, FoundRun]:
        waiting = sorted(rows, key=lambda r: (r.sent_at, r.index))
        after = min(r.sent_at for r in waiting if r.sent_at) - timedelta(seconds=CLOCK_SLACK_S)
        found: dict[int, FoundRun] = {}
        while waiting:
            try:
                runs = await self._client.find_runs(user, after=after)
            except WorkflowError as e:
                log.info("looking up sent rows in Dify's records failed (%s); trying again", e)
                runs = []
            if runs is None:
                return found  # the app keeps no records to search
            for row in list(waiting):
                run = next((r for r in runs if r.run_id not in taken and same_inputs(row, r)), None)
                if run is not None:
                    taken.add(run.run_id)
                    found[row.index] = run
                    waiting.remove(row)
            now = self._clock()
            waiting = [r for r in waiting if r.sent_at is not None and r.sent_at + self._timeout > now]
            if waiting:
                await self._sleep(self._poll_s)
        return found
