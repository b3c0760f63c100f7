"""The Store contract, run against InMemoryStore, SqlStore on SQLite and on PostgreSQL."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone

import pytest

from engine.errors import AlreadyExists
from engine.models import BatchStatus, Row, RowStatus, RowUpdate
from engine.ports import Store
from tests.storage.builders import T0, batch, minutes, rows, running_batch

B = BatchStatus
R = RowStatus
SHANGHAI = timezone(timedelta(hours=8))


async def test_batch_round_trips_every_field(store: Store) -> None:
    b = batch(
        "b1",
        status=B.SCHEDULED,
        columns=("标题", "正文", "extra"),
        source_name="报告.xlsx",
        source_path="data/uploads/b1.xlsx",
        started_at=T0 + minutes(1),
        finished_at=T0 + minutes(2),
        error="出错了",
        schedule_id="s1",
        fire_time=datetime(2026, 5, 2, 9, 0, tzinfo=SHANGHAI),
        blank_rows=4,
        sample=True,
        locale="zh-CN",
    )
    await store.create_batch(b, rows("b1"))
    got = await store.get_batch("b1")
    assert got == b
    assert got is not None
    assert got.fire_time is not None
    assert got.fire_time.utcoffset() is not None
    assert got.columns == ("标题", "正文", "extra")
    assert await store.get_batch("nope") is None


async def test_a_firing_makes_one_batch(store: Store) -> None:
    fire = datetime(2026, 5, 2, 1, 0, tzinfo=UTC)
    await store.create_batch(batch("b1", schedule_id="s1", fire_time=fire), rows("b1"))
    with pytest.raises(AlreadyExists):
        await store.create_batch(batch("b2", schedule_id="s1", fire_time=fire), rows("b2", 5))
    assert await store.get_batch("b2") is None
    assert await store.rows("b2") == []
    # another firing of the same schedule, and unscheduled batches, are all fine
    await store.create_batch(batch("b3", schedule_id="s1", fire_time=fire + timedelta(days=1)), [])
    await store.create_batch(batch("b4"), [])
    await store.create_batch(batch("b5"), [])
    with pytest.raises(AlreadyExists):
        await store.create_batch(batch("b4"), [])


async def test_list_batches_newest_first_with_filters(store: Store) -> None:
    for i, (owner, status) in enumerate(
        [("a", B.COMPLETED), ("b", B.RUNNING), ("a", B.RUNNING), ("a", B.PAUSED)]
    ):
        await store.create_batch(
            batch(f"b{i}", owner=owner, status=status, created_at=T0 + minutes(i)), []
        )
    assert [b.id for b in await store.list_batches()] == ["b3", "b2", "b1", "b0"]
    assert [b.id for b in await store.list_batches(owner="a")] == ["b3", "b2", "b0"]
    running = await store.list_batches(statuses=[B.RUNNING, B.PAUSED])
    assert [b.id for b in running] == ["b3", "b2", "b1"]
    assert [b.id for b in await store.list_batches(owner="a", limit=2)] == ["b3", "b2"]
    assert await store.list_batches(statuses=[]) == []


async def test_update_batch_guards_on_the_expected_state(store: Store) -> None:
    await store.create_batch(batch("b1", error="old"), rows("b1"))
    assert not await store.update_batch("b1", status=B.RUNNING, expected=[B.PAUSED])
    got = await store.get_batch("b1")
    assert got is not None
    assert (got.status, got.error) == (B.PENDING, "old")

    start = T0 + minutes(5)
    assert await store.update_batch("b1", status=B.RUNNING, expected=[B.PENDING], started_at=start)
    got = await store.get_batch("b1")
    assert got is not None
    # error and finished_at take the values passed (None clears); started_at only when given
    assert (got.status, got.started_at, got.error, got.finished_at) == (B.RUNNING, start, None, None)

    end = T0 + minutes(9)
    assert await store.update_batch("b1", status=B.FAILED, finished_at=end, error="Dify 401")
    got = await store.get_batch("b1")
    assert got is not None
    assert (got.status, got.started_at, got.finished_at, got.error) == (B.FAILED, start, end, "Dify 401")

    assert await store.update_batch("b1", status=B.RUNNING, expected=[B.FAILED, B.COMPLETED])
    got = await store.get_batch("b1")
    assert got is not None
    assert (got.finished_at, got.error, got.started_at) == (None, None, start)
    assert not await store.update_batch("missing", status=B.RUNNING)


async def test_rows_come_back_in_index_order(store: Store) -> None:
    made = rows("b1", 5)
    await store.create_batch(batch("b1", total=5), list(reversed(made)))
    await store.create_batch(batch("b2"), rows("b2", 2))
    assert await store.rows("b1") == made
    assert [r.index for r in await store.rows("b1", statuses=[R.PENDING])] == [0, 1, 2, 3, 4]
    assert await store.rows("b1", statuses=[R.FAILED]) == []
    assert await store.rows("unknown") == []


async def test_claim_respects_limit_not_before_and_status(store: Store) -> None:
    now = T0 + minutes(10)
    made = rows("b1", 6)
    made[1] = dataclasses.replace(made[1], not_before=now + timedelta(seconds=1))
    made[2] = dataclasses.replace(made[2], not_before=now)
    made[3] = dataclasses.replace(made[3], status=R.SUCCEEDED)
    made[4] = dataclasses.replace(made[4], not_before=now - minutes(1))
    await store.create_batch(running_batch("b1", total=6), made)
    await store.create_batch(batch("b2"), rows("b2", 3))

    first = await store.claim_rows("b1", limit=2, now=now)
    assert [(r.index, r.status) for r in first] == [(0, R.RUNNING), (2, R.RUNNING)]
    assert first[0].inputs == made[0].inputs
    second = await store.claim_rows("b1", limit=10, now=now)
    assert [r.index for r in second] == [4, 5]
    assert await store.claim_rows("b1", limit=10, now=now) == []
    assert await store.claim_rows("b1", limit=0, now=now + minutes(5)) == []
    assert [r.index for r in await store.claim_rows("b1", limit=10, now=now + minutes(5))] == [1]
    stored = {r.index: r.status for r in await store.rows("b1")}
    assert stored == {0: R.RUNNING, 1: R.RUNNING, 2: R.RUNNING, 3: R.SUCCEEDED, 4: R.RUNNING, 5: R.RUNNING}
    assert {r.status for r in await store.rows("b2")} == {R.PENDING}


async def test_claims_take_rows_only_while_their_batch_runs(store: Store) -> None:
    # a pause or cancel made by another replica must stop this one's claims at once
    await store.create_batch(batch("b1", total=6), rows("b1", 6))
    assert await store.claim_rows("b1", limit=2, now=T0) == [], "a batch not yet started"
    assert await store.update_batch("b1", status=B.RUNNING)
    assert [r.index for r in await store.claim_rows("b1", limit=2, now=T0)] == [0, 1]
    assert await store.update_batch("b1", status=B.PAUSED)
    assert await store.claim_rows("b1", limit=2, now=T0) == []
    assert await store.update_batch("b1", status=B.RUNNING)
    assert [r.index for r in await store.claim_rows("b1", limit=2, now=T0)] == [2, 3]
    assert await store.update_batch("b1", status=B.CANCELLED)
    assert await store.claim_rows("b1", limit=2, now=T0) == []
    assert [r.status for r in await store.rows("b1")][4:] == [R.PENDING, R.PENDING]


async def test_update_rows_applies_a_group_across_batches(store: Store) -> None:
    await store.create_batch(batch("b1"), rows("b1"))
    await store.create_batch(batch("b2"), rows("b2"))
    done = RowUpdate(
        "b1", 0, R.SUCCEEDED, attempts=1, run_id="run-1", task_id="task-1",
        outputs={"summary": "一切正常 ✓", "n": 3, "nested": {"ok": True, "l": [1.5, None]}},
        elapsed_s=1.25, tokens=120, started_at=T0, finished_at=T0 + timedelta(seconds=2),
        workflow_id="a6fada68-0ae8-4f8a-8c8c-eccaa51b5d96",
    )
    retry = RowUpdate(
        "b1", 2, R.PENDING, attempts=2, not_before=T0 + minutes(1), error="HTTP 503",
        overload_since=T0,
    )
    failed = RowUpdate("b2", 1, R.FAILED, attempts=3, error="invalid_param: 标题 必填", tokens=7)
    await store.update_rows([done, retry, failed])
    await store.update_rows([])

    b1 = await store.rows("b1")
    assert b1[0].status is R.SUCCEEDED
    assert (b1[0].run_id, b1[0].task_id, b1[0].outputs) == ("run-1", "task-1", done.outputs)
    assert (b1[0].elapsed_s, b1[0].tokens, b1[0].started_at, b1[0].finished_at) == (
        1.25, 120, T0, T0 + timedelta(seconds=2)
    )
    assert b1[0].workflow_id == done.workflow_id
    assert b1[1] == rows("b1")[1]
    assert (b1[2].status, b1[2].attempts, b1[2].not_before, b1[2].error, b1[2].overload_since) == (
        R.PENDING, 2, T0 + minutes(1), "HTTP 503", T0
    )
    b2 = await store.rows("b2")
    assert (b2[1].status, b2[1].error, b2[1].tokens) == (R.FAILED, "invalid_param: 标题 必填", 7)
    # the inputs and original cells are never touched by an update
    assert (b2[1].inputs, b2[1].cells, b2[1].sheet_row) == (rows("b2")[1].inputs, rows("b2")[1].cells, 3)

    # every field of an update is written, so None clears what was there
    await store.update_rows([RowUpdate("b1", 0, R.RUNNING, attempts=2)])
    again = (await store.rows("b1"))[0]
    assert (again.status, again.outputs, again.run_id, again.tokens, again.finished_at) == (
        R.RUNNING, None, None, 0, None
    )


async def test_reset_rows_clears_the_run_for_a_rerun(store: Store) -> None:
    await store.create_batch(running_batch("b1", total=4), rows("b1", 4))
    await store.update_rows([
        RowUpdate("b1", 0, R.FAILED, attempts=3, run_id="r0", task_id="t0", error="boom",
                  outputs={"x": 1}, not_before=T0, overload_since=T0, tokens=5),
        RowUpdate("b1", 1, R.SUCCEEDED, attempts=1, run_id="r1", outputs={"x": 2}),
        RowUpdate("b1", 2, R.FAILED, attempts=1, error="bad"),
        RowUpdate("b1", 3, R.CANCELLED, attempts=0),
    ])
    assert await store.reset_rows("b1", from_statuses=[R.FAILED], to=R.PENDING) == 2
    reset = (await store.rows("b1"))[0]
    assert reset.status is R.PENDING
    assert (reset.run_id, reset.task_id, reset.error, reset.outputs, reset.not_before) == (
        None, None, None, None, None
    )
    assert (reset.attempts, reset.overload_since) == (0, None)
    untouched = (await store.rows("b1"))[1]
    assert (untouched.status, untouched.run_id, untouched.outputs) == (R.SUCCEEDED, "r1", {"x": 2})
    # a reset row is claimable again at once
    assert [r.index for r in await store.claim_rows("b1", limit=5, now=T0)] == [0, 2]

    # cancelling keeps what a row had produced, only its run ids go
    assert await store.reset_rows("b1", from_statuses=[R.RUNNING], to=R.CANCELLED) == 2
    assert await store.reset_rows("b1", from_statuses=[], to=R.PENDING) == 0
    assert await store.reset_rows("b1", from_statuses=[R.PENDING], to=R.CANCELLED) == 0


async def test_progress_counts_rows_and_tokens(store: Store) -> None:
    await store.create_batch(running_batch("b1", total=5), rows("b1", 5))
    await store.create_batch(batch("b2"), rows("b2", 2))
    await store.claim_rows("b1", limit=1, now=T0)
    await store.update_rows([
        RowUpdate("b1", 1, R.SUCCEEDED, attempts=1, tokens=100),
        RowUpdate("b1", 2, R.SUCCEEDED, attempts=1, tokens=50),
        RowUpdate("b1", 3, R.FAILED, attempts=3, tokens=7),
        RowUpdate("b2", 0, R.SUCCEEDED, attempts=1, tokens=1000),
    ])
    p = await store.progress("b1")
    assert (p.total, p.pending, p.running, p.succeeded, p.failed, p.cancelled) == (5, 1, 1, 2, 1, 0)
    assert (p.tokens, p.done) == (157, 3)
    empty = await store.progress("unknown")
    assert (empty.total, empty.done, empty.tokens) == (0, 0, 0)


async def test_events_are_kept_in_order_per_batch(store: Store) -> None:
    await store.create_batch(batch("b1"), [])
    await store.create_batch(batch("b2"), [])
    before = datetime.now(UTC) - timedelta(seconds=1)
    await store.add_event("b1", "started", "3 行")
    await store.add_event("b2", "started")
    await store.add_event("b1", "paused", "by telegram:1")
    got = await store.events("b1")
    assert [(e.batch_id, e.kind, e.detail) for e in got] == [
        ("b1", "started", "3 行"), ("b1", "paused", "by telegram:1")
    ]
    assert all(e.at.utcoffset() is not None and e.at >= before for e in got)
    assert [e.detail for e in await store.events("b2")] == [""]
    assert await store.events("b3") == []


async def test_events_of_kind_span_batches_oldest_first(store: Store) -> None:
    await store.create_batch(batch("b1"), [])
    await store.create_batch(batch("b2"), [])
    await store.add_event("b1", "results_owed", "/a.xlsx")
    await store.add_event("b2", "created")
    await store.add_event("b2", "results_owed", "/b.csv")
    await store.add_event("b1", "results_written", "/a.xlsx")
    got = await store.events_of_kind(["results_owed", "results_written"])
    assert [(e.batch_id, e.kind, e.detail) for e in got] == [
        ("b1", "results_owed", "/a.xlsx"),
        ("b2", "results_owed", "/b.csv"),
        ("b1", "results_written", "/a.xlsx"),
    ]
    assert await store.events_of_kind(["nothing"]) == []


async def test_rows_round_trip_unicode_json_and_datetimes(store: Store) -> None:
    weird = Row(
        batch_id="b1", index=0, sheet_row=7,
        cells=("你好，世界", 42, 3.5, True, None, "=SUM(A1)", "emoji 🚀", ""),
        inputs={"问题": "天空为什么是蓝色的？", "n": 3, "ok": False, "list": ["甲", "乙"]},
        query="请用中文回答",
        not_before=datetime(2026, 5, 1, 17, 0, tzinfo=SHANGHAI),
    )
    await store.create_batch(running_batch("b1", total=1, columns=("问题",) * 8), [weird])
    got = (await store.rows("b1"))[0]
    assert got == weird
    assert isinstance(got.cells, tuple)
    assert got.not_before is not None
    assert got.not_before.utcoffset() is not None
    assert got.not_before == datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
    # 17:00 in Shanghai is 09:00 UTC: due at 09:00 UTC, not a second before
    assert await store.claim_rows("b1", limit=1, now=datetime(2026, 5, 1, 8, 59, 59, tzinfo=UTC)) == []
    assert len(await store.claim_rows("b1", limit=1, now=datetime(2026, 5, 1, 9, 0, tzinfo=UTC))) == 1


async def test_past_rows_are_the_latest_finished_rows_of_the_workflows_latest_batches(store: Store) -> None:
    def finish(batch_id: str, index: int, status: R, at: int) -> RowUpdate:
        return RowUpdate(
            batch_id, index, status, attempts=1 + index, elapsed_s=float(at), tokens=10 * at,
            finished_at=T0 + minutes(at),
        )

    for i in range(4):  # old0 … old3, newest last
        await store.create_batch(running_batch(f"old{i}", created_at=T0 + minutes(i)), rows(f"old{i}"))
    other = running_batch("other", workflow="translate", created_at=T0 + minutes(9))
    await store.create_batch(other, rows("other"))
    await store.create_batch(batch("sched", status=B.SCHEDULED, created_at=T0 + minutes(9)), rows("sched"))
    await store.update_rows([
        finish("old0", 0, R.SUCCEEDED, 1),
        finish("old2", 0, R.SUCCEEDED, 2),
        finish("old3", 0, R.FAILED, 3),
        finish("old3", 1, R.SUCCEEDED, 4),
        RowUpdate("old3", 2, R.CANCELLED, attempts=0, finished_at=T0 + minutes(5)),
        finish("other", 0, R.SUCCEEDED, 6),
        finish("sched", 0, R.SUCCEEDED, 7),  # a scheduled batch never ran: not history
    ])
    past = await store.past_rows("summarize", batches=2)
    # old3 and old2 are the two latest; cancelled and unfinished rows are left out; newest
    # batch first, rows within a batch in any order
    got = [(p.batch_id, p.succeeded, p.attempts, p.elapsed_s, p.tokens) for p in past]
    assert sorted(got[:2]) == [("old3", False, 1, 3.0, 30), ("old3", True, 2, 4.0, 40)]
    assert got[2:] == [("old2", True, 1, 2.0, 20)]
    assert [p.batch_id for p in await store.past_rows("summarize", rows=2)] == ["old3", "old3"]
    assert len(await store.past_rows("summarize")) == 4
    assert await store.past_rows("nothing") == []
