"""A workflow's concurrency slots, shared by every process on one database.

Why a slot table rather than counting the rows other processes hold: a process claims rows
in chunks ahead of sending them, and watches rows of a dead process it reconciles, so its
`running` rows say little about how many calls it has at Dify right now; and two processes
counting at the same moment would both see room. A slot is one call's right to be at Dify:
a process calls Dify with at most as many rows at once as it holds slots of that workflow,
and slot numbers stay below the workflow's limit, so all processes together stay within it.

Fairness: a process that wants more than it holds records itself in ``lane_waiter``; the
fair share is the limit divided among the live holders and waiters, and a holder above it
gives slots back as its rows finish (never one in use). Taking and giving back happen under
one lock per workflow (a transaction-scoped advisory lock on PostgreSQL; SQLite's single
writer already serialises them). Slots and waiter records carry a lease renewed with the
rows' heartbeat, so a dead process's come free when it lapses (at once for a dead process
on this machine, see `storage.workers`).
"""

from __future__ import annotations

import math
import zlib
from datetime import datetime

from sqlalchemy import Delete, Update, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.tables import SLOT, WAITER
from storage.workers import dead_here


def _lock_key(workflow: str) -> int:
    # a stable key, offset so it is unlikely to meet small keys other software might use
    return 0x5107_0000_0000 + (zlib.crc32(workflow.encode()) & 0x7FFF_FFFF)


async def hold(
    conn: AsyncConnection,
    workflow: str,
    owner: str,
    *,
    want: int,
    keep: int,
    limit: int,
    now: datetime,
    until: datetime,
) -> tuple[int, int]:
    """Make ``owner`` hold up to ``want`` slots (never fewer than ``keep``, the ones in use),
    within its fair share while others wait; returns (slots held, fair share)."""
    if conn.dialect.name == "postgresql":
        await conn.execute(select(func.pg_advisory_xact_lock(_lock_key(workflow))))

    def alive(who: str, lapse: datetime) -> bool:
        return who != owner and lapse >= now and not dead_here(who)

    slots = (await conn.execute(
        select(SLOT.c.slot, SLOT.c.owner, SLOT.c.until).where(SLOT.c.workflow == workflow))).all()
    waiters = (await conn.execute(
        select(WAITER.c.owner, WAITER.c.until).where(WAITER.c.workflow == workflow))).all()
    mine = sorted(slot for slot, who, _ in slots if who == owner)
    taken = {slot for slot, who, lapse in slots if alive(who, lapse)}
    others = {who for _, who, lapse in slots if alive(who, lapse)}
    others |= {who for who, lapse in waiters if alive(who, lapse)}
    share = math.ceil(limit / (len(others) + 1))
    target = max(keep, min(want, limit, share))
    if target < len(mine):
        await conn.execute(delete(SLOT).where(
            SLOT.c.workflow == workflow, SLOT.c.owner == owner, SLOT.c.slot.in_(mine[target:])))
        held = target
    else:
        free = [s for s in range(limit) if s not in taken and s not in mine][: target - len(mine)]
        if free:
            # records of dead owners go first
            await conn.execute(delete(SLOT).where(SLOT.c.workflow == workflow, SLOT.c.slot.in_(free)))
            records = [{"workflow": workflow, "slot": s, "owner": owner, "until": until} for s in free]
            await conn.execute(insert(SLOT), records)
        held = len(mine) + len(free)
    short = held < min(want, limit, share)
    await conn.execute(delete(WAITER).where(WAITER.c.workflow == workflow, WAITER.c.owner == owner))
    if short:
        await conn.execute(insert(WAITER), [{"workflow": workflow, "owner": owner, "until": until}])
    return held, share


def renew(owner: str, until: datetime) -> tuple[Update, Update]:
    return (
        update(SLOT).where(SLOT.c.owner == owner).values(until=until),
        update(WAITER).where(WAITER.c.owner == owner).values(until=until),
    )


def release_all(owner: str) -> tuple[Delete, Delete]:
    return delete(SLOT).where(SLOT.c.owner == owner), delete(WAITER).where(WAITER.c.owner == owner)
