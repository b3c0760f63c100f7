"""Picking up after a restart: the batches that were running or paused, and their rows
left `running` (DESIGN §3, durability)."""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from datetime import UTC, datetime

from engine.lanes.cursor import requeued
from engine.lanes.lane import Lane
from engine.logcontext import about
from engine.models import Batch, BatchStatus
from engine.ports import Store

log = logging.getLogger(__name__)


async def recover_batches(
    store: Store, lanes: Mapping[str, Lane], *, only: Collection[str] | None = None
) -> list[Batch]:
    """Hand every unfinished batch's stuck rows to its lane; returns the running batches.

    With ``only``, just those batches: `dify-batch resume ID` must not run the others.

    Only rows no live process holds are taken (`Store.take_abandoned`): a daemon or CLI
    run still working on the database keeps its rows. Rows left `running` without a run id
    go back to `pending` unless they had been sent: those are first looked up in Dify's
    records (see `engine.lanes.lookup`). Rows with a run id are reconciled with Dify by
    their lane (see `RowRunner.reconcile`). Paused batches are reconciled too but not resumed.
    """
    resumed: list[Batch] = []
    statuses = [BatchStatus.RUNNING, BatchStatus.PAUSED]
    for batch in await store.list_batches(statuses=statuses, limit=1_000_000):
        if only is not None and batch.id not in only:
            continue
        lane = lanes.get(batch.workflow)
        if lane is None:
            log.error("batch %s: workflow %s is no longer configured", batch.id, batch.workflow)
            continue
        stuck = await store.take_abandoned(batch.id, now=datetime.now(UTC))
        requeue = [requeued(r) for r in stuck if not r.run_id and not (r.sent_at and r.sent_user)]
        if requeue:
            await store.update_rows(requeue)
        watched = [r for r in stuck if r.run_id]
        for row in watched:
            lane.adopt(batch, row)
        sent = [r for r in stuck if not r.run_id and r.sent_at and r.sent_user]
        if sent:
            lane.adopt_sent(batch, sent)
        detail = (f"{len(requeue)} rows requeued, {len(watched)} runs to reconcile, "
                  f"{len(sent)} sent rows to look up")
        await store.add_event(batch.id, "recovered", detail)
        log.info("batch %s recovered: %s", batch.id, detail, extra=about(batch.id, batch.workflow))
        if batch.status is BatchStatus.RUNNING:
            lane.add_batch(batch)
            resumed.append(batch)
    return resumed
