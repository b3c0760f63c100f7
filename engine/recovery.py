"""Picking up after a restart: the batches that were running or paused, and their rows
left `running` (DESIGN §3, durability)."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from engine.lanes.cursor import requeued
from engine.lanes.lane import Lane
from engine.logcontext import about
from engine.models import Batch, BatchStatus, RowStatus
from engine.ports import Store

log = logging.getLogger(__name__)


async def recover_batches(store: Store, lanes: Mapping[str, Lane]) -> list[Batch]:
    """Hand every unfinished batch's stuck rows to its lane; returns the running batches.

    Rows left `running` without a run id go back to `pending`; those with one are
    reconciled with Dify by their lane (see `RowRunner.reconcile`). Paused batches are
    reconciled too but not resumed.
    """
    resumed: list[Batch] = []
    statuses = [BatchStatus.RUNNING, BatchStatus.PAUSED]
    for batch in await store.list_batches(statuses=statuses, limit=1_000_000):
        lane = lanes.get(batch.workflow)
        if lane is None:
            log.error("batch %s: workflow %s is no longer configured", batch.id, batch.workflow)
            continue
        stuck = await store.rows(batch.id, statuses=[RowStatus.RUNNING])
        requeue = [requeued(r) for r in stuck if not r.run_id]
        if requeue:
            await store.update_rows(requeue)
        watched = [r for r in stuck if r.run_id]
        for row in watched:
            lane.adopt(batch, row)
        await store.add_event(
            batch.id, "recovered", f"{len(requeue)} rows requeued, {len(watched)} runs to reconcile"
        )
        log.info("batch %s recovered: %d requeued, %d to reconcile", batch.id, len(requeue), len(watched),
                 extra=about(batch.id, batch.workflow))
        if batch.status is BatchStatus.RUNNING:
            lane.add_batch(batch)
            resumed.append(batch)
    return resumed
