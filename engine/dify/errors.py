"""Dify's HTTP and SSE error answers turned into transient or permanent workflow errors."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from typing import Any

from engine.errors import PermanentWorkflowError, TransientWorkflowError, WorkflowError

TOO_MANY_REQUESTS_PREFIX = "Too many requests"
# 408 and 5xx say "try again"; Dify's gunicorn/nginx answer 502/503/504 while restarting.
_TRANSIENT_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
# a proxy in front of Dify saying Dify is down or restarting: the lane's problem, not the row's
_OUTAGE_STATUSES = frozenset({502, 503, 504})
_SNIPPET_CHARS = 200


class Redactor:
    """Removes a secret from any text bound for an exception message or a log line."""

    __slots__ = ("_secret",)

    def __init__(self, secret: str) -> None:
        self._secret = secret

    def __call__(self, text: str) -> str:
        if self._secret and self._secret in text:
            return text.replace(self._secret, "***")
        return text

    def __repr__(self) -> str:
        return "Redactor(***)"


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP-date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


def _describe_error_body(status: int, body: bytes) -> tuple[str | None, str]:
    """``(code, message)``: Dify's own for a JSON error, else the status and a snippet."""
    text = body.decode("utf-8", errors="replace").strip()
    try:
        payload: Any = json.loads(text) if text.startswith("{") else None
    except ValueError:
        payload = None
    if isinstance(payload, dict):
        code = payload.get("code")
        message = payload.get("message")
        if isinstance(message, str) and message:
            return (code if isinstance(code, str) else None), message
    snippet = " ".join(text[:_SNIPPET_CHARS].split())
    return None, (f"HTTP {status}: {snippet}" if snippet else f"HTTP {status}")


def error_from_response(
    status: int, body: bytes, headers: Mapping[str, str], redact: Redactor
) -> WorkflowError:
    """The error a non-2xx answer means; JSON or not (Cloudflare's 429 is plain text)."""
    code, raw_message = _describe_error_body(status, body)
    if status in _OUTAGE_STATUSES and code is None:  # a proxy's HTML page, not Dify's JSON
        raw_message = f"HTTP {status} {_phrase(status)} from the server in front of Dify"
    message = redact(raw_message)
    retry_after = parse_retry_after(headers.get("retry-after"))
    if status == 429 or (status == 400 and message.startswith(TOO_MANY_REQUESTS_PREFIX)):
        return TransientWorkflowError(
            message, status=status, code=code, retry_after_s=retry_after, overload=True
        )
    if status in _TRANSIENT_STATUSES or status >= 500:
        return TransientWorkflowError(
            message, status=status, code=code, retry_after_s=retry_after, outage=status in _OUTAGE_STATUSES
        )
    return PermanentWorkflowError(message, status=status, code=code)


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def error_from_event(event: Mapping[str, Any], redact: Redactor) -> WorkflowError:
    """The error an SSE ``error`` event means: Dify's 400 codes are permanent, 500 is not."""
    status = event.get("status")
    code = event.get("code")
    raw_message = event.get("message")
    message = redact(raw_message if isinstance(raw_message, str) and raw_message else "stream error")
    status_int = status if isinstance(status, int) else 500
    code_str = code if isinstance(code, str) else None
    if message.startswith(TOO_MANY_REQUESTS_PREFIX):
        return TransientWorkflowError(message, status=status_int, code=code_str, overload=True)
    if 400 <= status_int < 500 and status_int not in _TRANSIENT_STATUSES:
        return PermanentWorkflowError(message, status=status_int, code=code_str)
    return TransientWorkflowError(message, status=status_int, code=code_str)
