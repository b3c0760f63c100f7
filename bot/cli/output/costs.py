"""A batch's estimate as the CLI prints it: one line, before it runs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.estimate import Estimate, recorded_estimate, rough_count, rough_duration

if TYPE_CHECKING:
    from bot.app import Runtime
    from engine.models import Batch


async def estimate_line(runtime: Runtime, workflow: str, rows: int) -> str:
    """What ``check`` prints: the estimate for a sheet not submitted."""
    return describe(await runtime.service.estimate(workflow, rows), workflow)


async def batch_estimate_line(runtime: Runtime, batch: Batch) -> str:
    """What ``run`` prints: the estimate the batch stored when it was made. Made before the batch
    existed, by the same `BatchService.estimate` as ``check``'s, so both count the same earlier
    batches (made now, it would count this new batch among them)."""
    est = await recorded_estimate(runtime.store, batch.id)
    return describe(est or await runtime.service.estimate(batch.workflow, batch.total), batch.workflow)


def describe(est: Estimate, workflow: str) -> str:
    """``≈ 1,240 rows · ~14 min at 8 in flight · ~380k tokens (from 3 earlier batches)``."""
    if not est.known:
        return (
            f"≈ {est.rows:,} rows at {est.in_flight} in flight · no earlier batches of "
            f"{workflow} to estimate time and tokens from"
        )
    parts = [f"≈ {est.rows:,} rows"]
    if est.calls > est.rows:
        parts[0] += f" ({est.calls:,} calls with retries)"
    if est.duration_s is not None:
        amount, unit = rough_duration(est.duration_s)
        parts.append(f"~{amount:g} {unit} at {est.in_flight} in flight")
    parts.append(f"~{rough_count(est.tokens or 0)} tokens")
    if est.failure_rate:
        parts.append(f"~{est.failure_rate:.0%} failed before")
    plural = "batch" if est.batches == 1 else "batches"
    return " · ".join(parts) + f" (from {est.batches} earlier {plural})"
