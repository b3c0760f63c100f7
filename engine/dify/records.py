"""Dify's own records of past runs, read to find the run a crashed process had sent.

Workflow apps: the run log (``GET /workflows/logs``, filtered by the end user's session id
and time) names the runs, run detail gives each one's inputs (a JSON string on 1.14.1) and
outcome. A run enters the log only when it ends. Chat apps: the user's conversations
(newest first) and the one message each of ours holds; a message still being answered is
left out until it has its answer. Completion apps keep no list a client can read.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote

from engine.models import FoundRun, JsonDict, RunResult

GetJson = Callable[[str, Mapping[str, str | int]], Awaitable[JsonDict]]
PAGE = 100
MAX_PAGES = 100
"""10,000 runs back at most: past that the row is sent again (at-least-once)."""
FINAL = frozenset({"succeeded", "partial-succeeded", "failed", "stopped"})


def run_from_detail(detail: Mapping[str, Any]) -> RunResult | None:
    run_id = detail.get("id")
    status = detail.get("status")
    if not isinstance(run_id, str) or not isinstance(status, str):
        return None  # 1.12.1 answers an unknown id with 200 and every field null
    outputs: Any = _decoded(detail.get("outputs"))
    error = detail.get("error")
    elapsed = detail.get("elapsed_time")
    tokens = detail.get("total_tokens")
    version = detail.get("workflow_id")
    return RunResult(
        status=status,
        outputs=outputs if isinstance(outputs, dict) else {},
        error=error if isinstance(error, str) and error else None,
        run_id=run_id,
        elapsed_s=float(elapsed) if isinstance(elapsed, int | float) else 0.0,
        tokens=tokens if isinstance(tokens, int) else 0,
        workflow_id=version if isinstance(version, str) and version else None,
    )


class WorkflowRecords:
    """Reads a workflow app's run log; finished runs' details are kept, they never change."""

    def __init__(self, get: GetJson, *, keep: int = 20_000) -> None:
        self._get = get
        self._keep = keep
        self._finished: dict[str, FoundRun] = {}

    async def find(self, user: str, after: datetime) -> list[FoundRun]:
        """Runs ``user`` started that ended after ``after``, oldest first."""
        found: list[FoundRun] = []
        for page in range(1, MAX_PAGES + 1):
            params: dict[str, str | int] = {
                "created_by_end_user_session_id": user,
                "created_at__after": after.isoformat(timespec="seconds"),
                "limit": PAGE,
                "page": page,
            }
            body = await self._get("workflows/logs", params)
            for item in _items(body):
                run = item.get("workflow_run")
                run_id = run.get("id") if isinstance(run, dict) else None
                if isinstance(run_id, str):
                    found.append(await self._detail(run_id))
            if not body.get("has_more"):
                break
        found.reverse()  # the log is newest first
        return found

    async def _detail(self, run_id: str) -> FoundRun:
        known = self._finished.get(run_id)
        if known is not None:
            return known
        detail = await self._get(f"workflows/run/{quote(run_id, safe='')}", {})
        result = run_from_detail(detail)
        inputs = _decoded(detail.get("inputs"))
        run = FoundRun(run_id, inputs if isinstance(inputs, dict) else {},
                       result=result if result is not None and result.status in FINAL else None)
        if run.result is not None:
            if len(self._finished) >= self._keep:
                self._finished.clear()
            self._finished[run_id] = run
        return run


async def chat_records(get: GetJson, user: str, after: datetime) -> list[FoundRun]:
    """Answered messages of conversations ``user`` started after ``after``, oldest first."""
    found: list[FoundRun] = []
    last_id: str | None = None
    since = after.timestamp()
    for _ in range(MAX_PAGES):
        params: dict[str, str | int] = {"user": user, "limit": PAGE, "sort_by": "-created_at"}
        if last_id:
            params["last_id"] = last_id
        body = await get("conversations", params)
        conversations = _items(body)
        older = False
        for conversation in conversations:
            created, cid = conversation.get("created_at"), conversation.get("id")
            if not isinstance(cid, str) or not isinstance(created, int | float):
                continue
            if created < since:
                older = True
                break
            messages = _items(await get("messages", {"conversation_id": cid, "user": user}))
            run = _answered(messages[0]) if messages else None  # each row is a conversation of its own
            if run is not None:
                found.append(run)
        if older or not body.get("has_more") or not conversations:
            break
        last = conversations[-1].get("id")
        last_id = last if isinstance(last, str) else None
        if last_id is None:
            break
    found.reverse()
    return found


def _answered(message: Mapping[str, Any]) -> FoundRun | None:
    mid, answer, status = message.get("id"), message.get("answer"), message.get("status")
    if not isinstance(mid, str):
        return None
    raw_inputs, raw_query = message.get("inputs"), message.get("query")
    inputs = raw_inputs if isinstance(raw_inputs, dict) else {}
    query = raw_query if isinstance(raw_query, str) else None
    if status == "error":
        error = message.get("error")
        reason = error if isinstance(error, str) and error else "the message failed"
        return FoundRun(mid, inputs, query, RunResult("failed", error=reason, run_id=mid))
    if isinstance(answer, str) and answer:
        return FoundRun(mid, inputs, query, RunResult("succeeded", {"answer": answer}, run_id=mid))
    return None  # still being answered: not yet something to adopt


def _items(body: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    data = body.get("data")
    return [item for item in data if isinstance(item, dict)] if isinstance(data, list) else []


def _decoded(value: Any) -> Any:
    if isinstance(value, str):  # some Dify versions send the outputs as a JSON string
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value
