"""FakeDify's scripting vocabulary (faults, plans), its forms, and Dify's input validation."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

APP_ID = "65f25eee-a934-423c-adef-05d6d7be4083"
JsonDict = dict[str, Any]


class FaultKind(StrEnum):
    HTTP = "http"  # answer with an HTTP error instead of running
    CUT_BEFORE_START = "cut_before_start"  # ping, then the connection drops
    CUT_AFTER_START = "cut_after_start"  # first events, then the connection drops; the run goes on
    FAIL = "fail"  # the run ends with status failed
    ERROR_EVENT = "error_event"  # the stream ends with an ``error`` event
    SILENT = "silent"  # one ping, then nothing until the idle timeout


@dataclass(frozen=True, slots=True)
class Fault:
    kind: FaultKind
    status: int = 0
    code: str = ""
    message: str = ""
    retry_after: str | None = None
    raw_body: str | None = None
    """A non-JSON body (e.g. Cloudflare's ``error code: 1015``) instead of Dify's JSON."""


@dataclass(frozen=True, slots=True)
class Plan:
    """What the fake does with one attempt: how long the run takes and what goes wrong."""

    latency_s: float | None = None
    """None: the fake's default latency. For HTTP faults: a delay before the answer."""
    fault: Fault | None = None


OK = Plan()


@dataclass(frozen=True, slots=True)
class RunCall:
    """One run request as a script sees it."""

    endpoint: str
    inputs: JsonDict
    query: str | None
    user: str
    trace_id: str | None
    response_mode: str
    key: str
    attempt: int
    """1 for the first request for this row key, 2 for the second, …"""
    workflow_id: str | None = None
    """The version asked for by ``POST /workflows/{workflow_id}/run``; None for the latest."""


Script = Callable[[RunCall], Plan | None] | Mapping[str, Plan | Sequence[Plan]]
"""A callable, or a mapping from a row key (or a trace id) to a plan or to one plan per
attempt; attempts past the end of a sequence run normally."""


def plan_for(script: Script | None, call: RunCall) -> Plan:
    if script is None:
        return OK
    if callable(script):
        return script(call) or OK
    entry = script.get(call.key)
    if entry is None and call.trace_id is not None:
        entry = script.get(call.trace_id)
    if entry is None or isinstance(entry, Plan):
        return entry or OK
    return entry[call.attempt - 1] if call.attempt <= len(entry) else OK


# -- faults as Dify (and what stands in front of it) sends them ----------------------


def http_error(status: int, code: str, message: str, *, retry_after: str | None = None) -> Fault:
    return Fault(FaultKind.HTTP, status=status, code=code, message=message, retry_after=retry_after)


def rate_limited(retry_after: str | None = "1") -> Fault:
    """429 as Dify's quota limiter sends it."""
    return http_error(
        429, "too_many_requests", "Too many requests. Please try again later.", retry_after=retry_after
    )


def cloudflare_rate_limited(retry_after: str | None = None) -> Fault:
    """429 from Cloudflare in front of Dify Cloud: a plain-text body, not Dify JSON."""
    return Fault(FaultKind.HTTP, status=429, raw_body="error code: 1015", retry_after=retry_after)


def too_many_requests(limit: int = 2) -> Fault:
    """Dify's app concurrency limit: HTTP 400 ``invalid_param`` (not 429) on 1.14.1."""
    return http_error(400, "invalid_param", too_many_requests_message(limit))


def too_many_requests_message(limit: int) -> str:
    return (
        "Too many requests. Please try again later. The current maximum concurrent "
        f"requests allowed for {APP_ID} is {limit}."
    )


def server_error(status: int = 500) -> Fault:
    """500 from Dify itself; 502/503/504 from the proxy in front (an HTML page)."""
    if status == 500:
        return http_error(500, "internal_server_error", "Internal Server Error, please contact support.")
    reason = {502: "Bad Gateway", 503: "Service Temporarily Unavailable", 504: "Gateway Time-out"}
    title = f"{status} {reason.get(status, 'Error')}"
    page = f"<html><head><title>{title}</title></head><body><center><h1>{title}</h1></center></body></html>"
    return Fault(FaultKind.HTTP, status=status, raw_body=page)


def cut_before_start() -> Fault:
    return Fault(FaultKind.CUT_BEFORE_START)


def cut_after_start() -> Fault:
    return Fault(FaultKind.CUT_AFTER_START)


def failed_run(message: str = "Server disconnected without sending a response.") -> Fault:
    return Fault(FaultKind.FAIL, message=message)


def error_event(status: int = 500, code: str = "", message: str = "") -> Fault:
    if status == 500:
        code = code or "internal_server_error"
        message = message or "Internal Server Error, please contact support."
    return Fault(
        FaultKind.ERROR_EVENT, status=status, code=code or "completion_request_error", message=message
    )


def silent() -> Fault:
    return Fault(FaultKind.SILENT)


# -- forms ---------------------------------------------------------------------------


def control(
    kind: str, variable: str, label: str | None = None, *, required: bool = False, **extra: Any
) -> JsonDict:
    """One ``user_input_form`` item as Dify stores it."""
    spec: JsonDict = {"label": label or variable, "required": required, "type": kind, "variable": variable}
    if kind in ("text-input", "paragraph", "select"):
        spec.setdefault("options", [])
    spec.update(extra)
    return {kind: spec}


DEFAULT_FORM: tuple[JsonDict, ...] = (control("text-input", "text", "Text", required=True, max_length=256),)

ALL_CONTROLS_FORM: tuple[JsonDict, ...] = (
    control("text-input", "text", "Text", required=True, max_length=48),
    control("paragraph", "notes", "Notes"),
    control("select", "tone", "Tone", options=["formal", "casual"], default="formal"),
    control("number", "count", "Count"),
    control("checkbox", "urgent", "Urgent", default=False),
    control(
        "file", "doc", "Document", allowed_file_types=["document"], allowed_file_upload_methods=["remote_url"]
    ),
    control("file-list", "pics", "Pictures", max_length=3, allowed_file_types=["image", "custom"]),
    control("json_object", "meta", "Meta", json_schema='{"type": "object"}'),
    {"external_data_tool": {"variable": "weather", "label": "Weather", "type": "api", "enabled": True}},
)

_TRUTHY = {"true", "1", "yes", "on", "false", "0", "no", "off"}
_FILE_TYPES = {"image", "document", "audio", "video", "custom"}


def validate_inputs(form: Sequence[JsonDict], inputs: JsonDict) -> str | None:
    """The message Dify 1.14.1 rejects these inputs with, or None when they pass."""
    for item in form:
        ((kind, spec),) = item.items()
        if kind == "external_data_tool":
            continue
        name = spec["variable"]
        value = inputs.get(name)
        if value is None or value == "":
            if spec.get("required") and spec.get("default") is None:
                return f"{name} is required in input form"
            continue
        problem = _check_value(kind, spec, name, value)
        if problem:
            return problem
    return None


def _check_value(kind: str, spec: JsonDict, name: str, value: Any) -> str | None:  # noqa: C901
    prefix = f"{name} in input form"
    max_length = spec.get("max_length")
    if kind in ("text-input", "paragraph", "select"):
        if not isinstance(value, str):
            return f"(type '{kind}') {prefix} must be a string"
        if kind == "select" and value not in spec.get("options", []):
            return f"{prefix} must be one of the following: {spec.get('options', [])}"
        if kind != "select" and max_length and len(value) > max_length:
            return f"{prefix} must be less than {max_length} characters"
    elif kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            return f"{prefix} must be a valid number"
        if isinstance(value, str):
            try:
                float(value)
            except ValueError:
                return f"{prefix} must be a valid number"
    elif kind == "checkbox":
        if not isinstance(value, bool | int) and str(value).lower() not in _TRUTHY:
            return f"{prefix} must be a boolean"
    elif kind == "file":
        if not _is_file(value):
            return f"{prefix} must be a file"
    elif kind == "file-list":
        if not isinstance(value, list) or not all(_is_file(v) for v in value):
            return f"{prefix} must be a list of files"
        if max_length and len(value) > max_length:
            return f"{prefix} must be less than {max_length} files"
    elif kind == "json_object" and not isinstance(value, dict):
        return f"{prefix} must be a dict"
    return None


def _is_file(value: Any) -> bool:
    if not isinstance(value, dict) or value.get("type", "custom") not in _FILE_TYPES:
        return False
    if value.get("transfer_method") == "remote_url":
        return isinstance(value.get("url") or value.get("remote_url"), str)
    return value.get("transfer_method") == "local_file" and isinstance(value.get("upload_file_id"), str)


# -- outputs -------------------------------------------------------------------------


def first_text(inputs: JsonDict, query: str | None) -> str:
    if query:
        return query
    return next((v for v in inputs.values() if isinstance(v, str)), "")


def default_outputs(inputs: JsonDict, query: str | None) -> JsonDict:
    """Deterministic outputs from the inputs, so a test can tell which row produced which."""
    text = first_text(inputs, query)
    return {"result": f"{text} ✓", "length": len(text)}


OutputFn = Callable[[JsonDict, str | None], JsonDict]


@dataclass(slots=True)
class Counters:
    """What FakeDify saw. Keys of ``*_by_key`` are row keys (a chosen input's value)."""

    calls: dict[str, int] = field(default_factory=dict)
    requests_by_trace: dict[str, int] = field(default_factory=dict)
    requests_by_key: dict[str, int] = field(default_factory=dict)
    runs_by_trace: dict[str, int] = field(default_factory=dict)
    runs_by_key: dict[str, int] = field(default_factory=dict)
    succeeded_by_key: dict[str, int] = field(default_factory=dict)
    users: dict[str, int] = field(default_factory=dict)
    stops: list[str] = field(default_factory=list)
    in_flight: int = 0
    peak_in_flight: int = 0
    admitted_at: list[int] = field(default_factory=list)
    """Runs in flight, this one included, as each run was admitted: how full the app was kept."""
    rejected_busy: int = 0

    def as_json(self) -> JsonDict:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def bump(counter: dict[str, int], key: str) -> int:
    counter[key] = value = counter.get(key, 0) + 1
    return value
