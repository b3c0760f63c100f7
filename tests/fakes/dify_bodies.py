"""FakeDify's runs and JSON answers, shaped like Dify 1.14.1's captured bodies."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from dataclasses import dataclass, field

from aiohttp import web

from tests.fakes.dify_script import Fault, FaultKind, JsonDict

WORKFLOW_ID = "41fbc420-8ecd-4801-9ed0-0641be785535"
RUN_ENDPOINTS: dict[str, tuple[str, ...]] = {
    "workflows/run": ("workflow",),
    "completion-messages": ("completion",),
    "chat-messages": ("chat", "advanced-chat"),
}
_WRONG_MODE = {
    "workflows/run": ("not_workflow_app", "Please check if your app mode matches the right API route."),
    "completion-messages": ("app_unavailable", "App unavailable, please check your app configurations."),
    "chat-messages": ("not_chat_app", "Please check if your app mode matches the right API route."),
}
_SYSTEM_LIMITS = {
    "image_file_size_limit": 10,
    "video_file_size_limit": 100,
    "audio_file_size_limit": 50,
    "file_size_limit": 15,
    "workflow_file_upload_limit": 10,
}


@dataclass(slots=True)
class FakeRun:
    """One run on the fake's side, alive whatever happens to the request that started it."""

    run_id: str
    task_id: str
    message_id: str
    key: str
    inputs: JsonDict
    outputs: JsonDict
    text: str
    fault: Fault | None
    created_at: int
    status: str = "running"
    detail_status: str = "running"
    """What run detail reports; a stopped run stays "running" here, as on Dify 1.14.1."""
    error: str | None = None
    elapsed_s: float = 0.0
    finished_at: int | None = None
    started_mono: float = 0.0
    user: str = ""
    query: str | None = None
    conversation_id: str = ""
    """Chat apps: every run here starts a new conversation."""
    log_id: str = ""
    logged_at: int | None = None
    """When the run entered the run log: when it ended, as on Dify 1.14.1."""
    sequence: int = 0
    done: asyncio.Event = field(default_factory=asyncio.Event)
    timer: asyncio.TimerHandle | None = None
    workflow_id: str = WORKFLOW_ID
    """The published version that ran it."""

    @property
    def tokens(self) -> int:
        return 10 + len(self.text)


def error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> web.Response:
    """Dify's error body: ``{"code", "message", "status"}``."""
    body = {"code": code, "message": message, "status": status}
    return web.json_response(body, status=status, headers=headers)


def http_fault(fault: Fault) -> web.Response:
    headers = {"Retry-After": fault.retry_after} if fault.retry_after else None
    if fault.raw_body is not None:
        ctype = "text/html" if fault.raw_body.startswith("<") else "text/plain"
        return web.Response(status=fault.status, text=fault.raw_body, content_type=ctype, headers=headers)
    return error(fault.status, fault.code, fault.message, headers)


def run_request_problem(endpoint: str, app_mode: str, body: object) -> web.Response | None:
    """Dify's answer to a run request it refuses before looking at the inputs, if any."""
    if not isinstance(body, dict):
        message = "The browser (or proxy) sent a request that this server could not understand."
        return error(400, "bad_request", message)
    if app_mode not in RUN_ENDPOINTS[endpoint]:
        return error(400, *_WRONG_MODE[endpoint])
    user = body.get("user")
    if not isinstance(user, str) or not user:
        return error(400, "invalid_param", "Arg user must be provided.")
    if not isinstance(body.get("inputs"), dict):
        message = "1 validation error for WorkflowRunPayload\ninputs\n  Field required"
        return error(400, "invalid_param", message)
    if (body.get("response_mode") or "blocking") not in ("blocking", "streaming"):
        message = "1 validation error for WorkflowRunPayload\nresponse_mode\n  Input should be 'blocking' or "
        message += "'streaming'"
        return error(400, "invalid_param", message)
    if endpoint == "chat-messages" and not body.get("query"):
        return error(400, "invalid_param", "query is required")
    return None


def parameters_body(form: list[JsonDict]) -> JsonDict:
    return {
        "opening_statement": "",
        "suggested_questions": [],
        "suggested_questions_after_answer": {"enabled": False},
        "speech_to_text": {"enabled": False},
        "text_to_speech": {"enabled": False, "language": "", "voice": ""},
        "retriever_resource": {"enabled": False},
        "annotation_reply": {"enabled": False},
        "more_like_this": {"enabled": False},
        "user_input_form": form,
        "sensitive_word_avoidance": {"enabled": False},
        "file_upload": {"enabled": False},
        "system_parameters": _SYSTEM_LIMITS,
    }


def info_body(mode: str) -> JsonDict:
    return {"name": "fake", "description": "FakeDify", "tags": [], "mode": mode, "author_name": "test"}


def answer_text(outputs: JsonDict, fallback: str) -> str:
    """The text a chat or completion app answers with, and a workflow streams as text_chunk."""
    value = outputs.get("answer", outputs.get("result", fallback))
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def run_data(run: FakeRun) -> JsonDict:
    return {
        "id": run.run_id,
        "workflow_id": run.workflow_id,
        "status": run.status,
        "outputs": run.outputs,
        "error": run.error,
        "elapsed_time": run.elapsed_s,
        "total_tokens": run.tokens if run.status == "succeeded" else 0,
        "total_steps": 3,
        "created_at": run.created_at,
        "finished_at": run.finished_at,
    }


def blocking_answer(mode: str, run: FakeRun) -> web.Response:
    fault = run.fault
    if fault is not None and fault.kind is FaultKind.ERROR_EVENT:
        return error(fault.status, fault.code, fault.message)
    if mode == "workflow":
        return web.json_response(
            {"task_id": run.task_id, "workflow_run_id": run.run_id, "data": run_data(run)}
        )
    if run.status == "failed":
        return error(400, "completion_request_error", run.error or "")
    usage = {"total_tokens": run.tokens, "total_price": "0.0", "currency": "USD", "latency": run.elapsed_s}
    answer: JsonDict = {
        "event": "message",
        "task_id": run.task_id,
        "id": run.message_id,
        "message_id": run.message_id,
        "mode": mode,
        "answer": run.text if run.status == "succeeded" else "",
        "metadata": {"annotation_reply": None, "retriever_resources": [], "usage": usage},
        "created_at": run.created_at,
    }
    if mode != "completion":
        answer["conversation_id"] = run.conversation_id or str(uuid.uuid4())
    return web.json_response(answer)


def run_detail_body(run: FakeRun) -> JsonDict:
    """``GET /workflows/run/{id}``: ``inputs`` is a JSON string, as 1.14.1 sends it."""
    running = run.detail_status == "running"
    return {
        "id": run.run_id,
        "workflow_id": run.workflow_id,
        "status": run.detail_status,
        "inputs": json.dumps(run.inputs, ensure_ascii=False),
        "outputs": {} if running else run.outputs,
        "error": None if running else run.error,
        "total_steps": 0 if running else 3,
        "total_tokens": run.tokens if run.detail_status == "succeeded" else 0,
        "created_at": run.created_at,
        "finished_at": None if running else run.finished_at,
        "elapsed_time": 0.0 if running else run.elapsed_s,
    }


def upload_record(name: str, size: int, mime_type: str) -> JsonDict:
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    return {
        "id": str(uuid.uuid4()),
        "name": name[:200],
        "size": size,
        "extension": extension,
        "mime_type": mime_type,
        "created_by": str(uuid.uuid4()),
        "created_at": int(time.time()),
        "preview_url": None,
        "source_url": "",
        "original_url": None,
        "user_id": None,
        "tenant_id": str(uuid.uuid4()),
        "conversation_id": None,
        "file_key": None,
    }
