"""A batch's estimate as the CLI prints it: one line, before it runs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.cli.output.usage import Wording, cli_wording
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


def describe(est: Estimate, workflow: str, words: Wording | None = None) -> str:
    """``≈ 1,240 rows · ~14 min at 8 in flight · ~380k tokens (from 3 earlier batches)``."""
    said = (words or cli_wording()).cli_says
    units = (words or cli_wording()).estimate_units
    if not est.known:
        return said["estimate_unknown"].format(
            rows=f"{est.rows:,}", in_flight=est.in_flight, workflow=workflow
        )
    parts = [said["estimate_rows"].format(rows=f"{est.rows:,}")]
    if est.calls > est.rows:
        parts[0] += said["estimate_calls"].format(calls=f"{est.calls:,}")
    if est.duration_s is not None:
        amount, unit = rough_duration(est.duration_s)
        duration = units[unit].format(n=amount)
        parts.append(said["estimate_time"].format(duration=duration, in_flight=est.in_flight))
    parts.append(said["estimate_tokens"].format(tokens=rough_count(est.tokens or 0)))
    if est.failure_rate:
        parts.append(said["estimate_failed"].format(rate=f"{est.failure_rate:.0%}"))
    basis = (
        said["estimate_basis_one"] if est.batches == 1
        else said["estimate_basis_many"].format(n=est.batches)
    )
    return " · ".join(parts) + basis
