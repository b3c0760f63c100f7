"""FakeDify's SSE frames, shaped like Dify 1.14.1's captured streams (orjson-compact, event first)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from tests.fakes.dify_bodies import FakeRun
from tests.fakes.dify_script import FaultKind, JsonDict

_PING = b"event: ping\n\n"


def ping_frame() -> bytes:
    return _PING


def _frame(event: JsonDict) -> bytes:
    return b"data: " + json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode() + b"\n\n"


def _envelope(mode: str, run: FakeRun, event: str) -> JsonDict:
    if mode == "workflow":
        return {"event": event, "workflow_run_id": run.run_id, "task_id": run.task_id}
    head: JsonDict = {"event": event}
    if mode != "completion":
        head["conversation_id"] = run.run_id[::-1]
    head.update(message_id=run.message_id, created_at=run.created_at, task_id=run.task_id)
    if mode == "advanced-chat" and not event.startswith("message"):
        head["workflow_run_id"] = run.run_id
    return head


def _node(mode: str, run: FakeRun, event: str, node: str, **extra: Any) -> bytes:
    data: JsonDict = {
        "id": f"{run.run_id[:8]}-{node}",
        "node_id": node,
        "node_type": node if node in ("start", "end", "answer") else "llm",
        "title": node.title(),
        "index": 1,
        "predecessor_node_id": None,
        "inputs": None,
        "created_at": run.created_at,
        "iteration_id": None,
        "loop_id": None,
    }
    data.update(extra)
    return _frame({**_envelope(mode, run, event), "data": data})


def start_frames(mode: str, run: FakeRun) -> bytes:
    """What a stream carries as soon as the run has started: the run's ids come first."""
    if mode in ("completion", "chat"):
        half = run.text[: len(run.text) // 2]
        return _frame({**_envelope(mode, run, "message"), "id": run.message_id, "answer": half})
    inputs = {**run.inputs, "sys.files": [], "sys.workflow_run_id": run.run_id}
    started = {
        "id": run.run_id, "workflow_id": run.workflow_id, "inputs": inputs, "created_at": run.created_at
    }
    frames = [
        _frame({**_envelope(mode, run, "workflow_started"), "data": {**started, "reason": "initial"}}),
        _node(mode, run, "node_started", "start", extras={}),
        _node(mode, run, "node_finished", "start", inputs=run.inputs, outputs=run.inputs, status="succeeded"),
        _node(mode, run, "node_started", "llm", extras={}),
    ]
    return b"".join(frames)


def finish_frames(mode: str, run: FakeRun) -> bytes:
    """The rest of the stream once the run has ended (succeeded, failed, stopped or errored)."""
    fault = run.fault.kind if run.fault is not None else None
    if fault is FaultKind.ERROR_EVENT and run.fault is not None:
        error = {"code": run.fault.code, "message": run.fault.message, "status": run.fault.status}
        return _frame({**_envelope(mode, run, "error"), **error})
    if mode in ("completion", "chat"):
        return _message_finish(mode, run)
    frames: list[bytes] = []
    if run.status == "succeeded":
        if mode == "workflow":
            frames.append(_frame({**_envelope(mode, run, "text_chunk"), "data": {"text": run.text}}))
        else:
            frames.extend(_messages(mode, run))
        frames.append(
            _node(mode, run, "node_finished", "llm", outputs={"text": run.text}, status="succeeded")
        )
        end = "end" if mode == "workflow" else "answer"
        frames.append(_node(mode, run, "node_started", end))
        frames.append(_node(mode, run, "node_finished", end, outputs=run.outputs, status="succeeded"))
        if mode != "workflow":
            frames.append(_message_end(mode, run))
    elif run.status == "failed":
        frames.append(_node(mode, run, "node_finished", "llm", outputs={}, status="failed", error=run.error))
    finished: JsonDict = {
        "id": run.run_id,
        "workflow_id": run.workflow_id,
        "status": run.status,
        "outputs": run.outputs if mode == "workflow" else {"answer": run.text, "files": []},
        "error": run.error,
        "elapsed_time": run.elapsed_s,
        "total_tokens": run.tokens if run.status == "succeeded" else 0,
        "total_steps": 3,
        "created_by": {"id": str(uuid.UUID(int=0)), "user": "fake"},
        "created_at": run.created_at,
        "finished_at": run.finished_at,
        "exceptions_count": 1 if run.status == "failed" else 0,
        "files": [],
    }
    if run.status != "succeeded":
        finished["outputs"] = {}
    frames.append(_frame({**_envelope(mode, run, "workflow_finished"), "data": finished}))
    return b"".join(frames)


def _messages(mode: str, run: FakeRun) -> list[bytes]:
    half = len(run.text) // 2
    return [
        _frame({**_envelope(mode, run, "message"), "id": run.message_id, "answer": part})
        for part in (run.text[:half], run.text[half:])
    ]


def _message_end(mode: str, run: FakeRun) -> bytes:
    usage: JsonDict = {"prompt_tokens": 10, "completion_tokens": run.tokens - 10, "total_tokens": run.tokens}
    usage.update(total_price="0.0", currency="USD", latency=run.elapsed_s)
    metadata: JsonDict = {"annotation_reply": None, "retriever_resources": [], "usage": usage}
    return _frame(
        {**_envelope(mode, run, "message_end"), "id": run.message_id, "metadata": metadata, "files": []}
    )


def _message_finish(mode: str, run: FakeRun) -> bytes:
    if run.status == "failed":
        error = {"code": "completion_request_error", "message": run.error or "", "status": 400}
        return _frame({**_envelope(mode, run, "error"), **error})
    if run.status == "stopped":
        return _message_end(mode, run)
    rest = run.text[len(run.text) // 2 :]
    return _frame({**_envelope(mode, run, "message"), "id": run.message_id, "answer": rest}) + _message_end(
        mode, run
    )
