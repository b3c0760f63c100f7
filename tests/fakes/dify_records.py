"""Dify's own records of past runs as FakeDify serves them, shaped like 1.14.1's captures:
the workflow run log (``GET /workflows/logs``), and a chat app's conversations and messages.

As on the captured server, a run enters the log when it ends (the log item's ``created_at``
is the run's ``finished_at``), newest first, and carries no inputs or outputs: those are in
run detail. A chat message exists from the start of its run, its answer empty until the end.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime

from aiohttp import web

from tests.fakes.dify_bodies import FakeRun, error
from tests.fakes.dify_script import JsonDict

VERSION = "2026-11-28 15:43:35.430163"
END_USER_ID = "41d96c24-36d7-4fb5-aa25-b66605374d01"


class BadQuery(ValueError):
    """A query parameter Dify would refuse."""


def _int_arg(query: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise BadQuery(f"{name}: Input should be a valid integer") from exc
    if not low <= value <= high:
        raise BadQuery(f"{name}: Input should be between {low} and {high}")
    return value


def _time_arg(query: Mapping[str, str], name: str) -> float | None:
    raw = query.get(name)
    if not raw:
        return None
    try:
        when = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise BadQuery(f"{name}: Input should be a valid datetime") from exc
    if when.tzinfo is None:
        raise BadQuery(f"{name}: Input should have timezone info")
    return when.timestamp()


def _log_item(run: FakeRun) -> JsonDict:
    return {
        "id": run.log_id,
        "workflow_run": {
            "id": run.run_id,
            "version": VERSION,
            "status": run.detail_status,
            "triggered_from": "app-run",
            "error": run.error,
            "elapsed_time": run.elapsed_s,
            "total_tokens": run.tokens if run.detail_status == "succeeded" else 0,
            "total_steps": 3,
            "created_at": run.created_at,
            "finished_at": run.finished_at,
            "exceptions_count": 1 if run.detail_status == "failed" else 0,
        },
        "details": None,
        "created_from": "service-api",
        "created_by_role": "end_user",
        "created_by_account": None,
        "created_by_end_user": {
            "id": END_USER_ID, "type": "service-api", "is_anonymous": False, "session_id": run.user,
        },
        "created_at": run.logged_at,
    }


def logs_answer(runs: Iterable[FakeRun], query: Mapping[str, str]) -> web.Response:
    """``GET /workflows/logs`` with its filters and page/limit pagination."""
    try:
        page = _int_arg(query, "page", 1, 1, 99999)
        limit = _int_arg(query, "limit", 20, 1, 100)
        after = _time_arg(query, "created_at__after")
        before = _time_arg(query, "created_at__before")
    except BadQuery as exc:
        return error(400, "invalid_param", str(exc))
    session = query.get("created_by_end_user_session_id")
    status = query.get("status")
    keyword = query.get("keyword")
    found = [
        r for r in runs
        if r.logged_at is not None
        and (session is None or r.user == session)
        and (status is None or r.detail_status == status)
        and (after is None or r.logged_at >= after)
        and (before is None or r.logged_at <= before)
        and (not keyword or keyword in f"{r.inputs} {r.outputs}")
    ]
    found.sort(key=lambda r: (r.logged_at or 0, r.sequence), reverse=True)
    chunk = found[(page - 1) * limit: page * limit]
    body = {"page": page, "limit": limit, "total": len(found), "has_more": page * limit < len(found),
            "data": [_log_item(r) for r in chunk]}
    return web.json_response(body)


def conversations_answer(runs: Iterable[FakeRun], query: Mapping[str, str]) -> web.Response:
    """``GET /conversations``: a user's conversations, newest first, ``last_id`` pagination."""
    user = query.get("user")
    if not user:
        return error(400, "invalid_param", "Arg user must be provided.")
    try:
        limit = _int_arg(query, "limit", 20, 1, 100)
    except BadQuery as exc:
        return error(400, "invalid_param", str(exc))
    mine = sorted((r for r in runs if r.user == user and r.conversation_id),
                  key=lambda r: (r.created_at, r.sequence), reverse=True)
    last_id = query.get("last_id")
    if last_id:
        ids = [r.conversation_id for r in mine]
        if last_id not in ids:
            return error(404, "not_found", "Last Conversation Not Exists.")
        mine = mine[ids.index(last_id) + 1:]
    chunk = mine[:limit]
    data = [{"id": r.conversation_id, "name": (r.query or "")[:20], "inputs": r.inputs, "status": "normal",
             "introduction": "", "created_at": r.created_at, "updated_at": r.finished_at or r.created_at}
            for r in chunk]
    return web.json_response({"limit": limit, "has_more": len(mine) > limit, "data": data})


def messages_answer(runs: Iterable[FakeRun], query: Mapping[str, str]) -> web.Response:
    """``GET /messages``: the messages of one of the user's conversations."""
    user = query.get("user")
    if not user:
        return error(400, "invalid_param", "Arg user must be provided.")
    conversation = query.get("conversation_id")
    found = [r for r in runs if r.conversation_id and r.conversation_id == conversation and r.user == user]
    if not found:
        return error(404, "not_found", "Conversation Not Exists.")
    data = [{
        "id": r.message_id, "conversation_id": r.conversation_id,
        "parent_message_id": "00000000-0000-0000-0000-000000000000", "inputs": r.inputs,
        "query": r.query, "answer": r.text if r.status == "succeeded" else "", "feedback": None,
        "retriever_resources": [], "created_at": r.created_at, "agent_thoughts": [],
        "message_files": [], "status": "error" if r.status == "failed" else "normal",
        "error": r.error, "extra_contents": [],
    } for r in found]
    return web.json_response({"limit": 20, "has_more": False, "data": data})


def new_log_id() -> str:
    return str(uuid.uuid4())
