"""The Dify Service API client: the engine's only network module (httpx over aiohttp)."""

from __future__ import annotations

import asyncio
import functools
import json
import ssl
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport

from engine.dify.errors import Redactor, error_from_response
from engine.dify.form import encode_file_inputs, parse_form
from engine.dify.sse import RunTracker, SseSplitter, is_skippable
from engine.errors import PermanentWorkflowError, TransientWorkflowError
from engine.models import AppType, InputForm, JsonDict, ResponseMode, RunResult
from engine.ports import RunStarted

_MODES: dict[str, AppType] = {
    "workflow": AppType.WORKFLOW,
    "completion": AppType.COMPLETION,
    "chat": AppType.CHAT,
    "agent-chat": AppType.CHAT,
    "advanced-chat": AppType.CHAT,
}
_RUN_PATHS = {
    AppType.WORKFLOW: "workflows/run",
    AppType.COMPLETION: "completion-messages",
    AppType.CHAT: "chat-messages",
}
_STOP_PATHS = {
    AppType.WORKFLOW: "workflows/tasks/{}/stop",
    AppType.COMPLETION: "completion-messages/{}/stop",
    AppType.CHAT: "chat-messages/{}/stop",
}
# Everything a dropped connection or a confused peer can raise below httpx's own tree.
_NETWORK_ERRORS = (httpx.RequestError, aiohttp.ClientError, OSError)


CONTROL_HEADROOM = 4
"""Connections beyond the run limit, reserved in effect for stop and run-detail calls."""


class DifyClient:
    """One Dify app over its Service API; implements `engine.ports.WorkflowClient`."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        app_type: AppType = AppType.WORKFLOW,
        response_mode: ResponseMode = ResponseMode.STREAMING,
        timeout_s: float = 300.0,
        max_connections: int = 8,
        connect_timeout_s: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.app_type = app_type
        self.response_mode = response_mode
        self.timeout_s = timeout_s
        self._redact = Redactor(api_key)
        # runs fill at most max_connections; the headroom keeps a stop (cancel) or a run-detail
        # poll (recovery) from queueing behind the very runs it is about
        pool = max_connections + CONTROL_HEADROOM
        limits = httpx.Limits(max_connections=pool, max_keepalive_connections=pool)
        if transport is None:
            # httpx's own pool walks every connection per request; aiohttp's does not (DESIGN §3)
            transport = AiohttpTransport(verify=_default_tls(), limits=limits)
        self._http = httpx.AsyncClient(
            base_url=self.base_url + "/",
            headers={"Authorization": f"Bearer {api_key}", "User-Agent": "dify-batch-bot"},
            timeout=httpx.Timeout(timeout_s, connect=min(connect_timeout_s, timeout_s)),
            limits=limits,
            transport=transport,
        )
        self._form: InputForm | None = None
        self._form_lock = asyncio.Lock()
        self._agent_chat = False

    def __repr__(self) -> str:
        return f"DifyClient(base_url={self.base_url!r}, app_type={self.app_type.value!r})"

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> DifyClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # -- form ---------------------------------------------------------------

    async def form(self) -> InputForm:
        """The app's input form, fetched once (``GET /parameters`` and ``GET /info``)."""
        if self._form is not None:
            return self._form
        async with self._form_lock:
            if self._form is None:
                parameters, info = await asyncio.gather(self._get_json("parameters"), self._info())
                self._form = InputForm(fields=parse_form(parameters), app_type=self._app_mode(info))
        return self._form

    async def _info(self) -> JsonDict | None:
        try:
            return await self._get_json("info")
        except PermanentWorkflowError as exc:
            if exc.status == 404:  # an older server without /info: trust the configuration
                return None
            raise

    def _app_mode(self, info: JsonDict | None) -> AppType:
        mode = info.get("mode") if info else None
        if not isinstance(mode, str) or mode not in _MODES:
            return self.app_type
        actual = _MODES[mode]
        if actual is not self.app_type:
            raise PermanentWorkflowError(
                f"the Dify app is a {mode} app, but it is configured with app_type = "
                f"{self.app_type.value!r}; set app_type = {actual.value!r}",
                code="app_type_mismatch",
            )
        self._agent_chat = mode == "agent-chat"
        return actual

    # -- run ----------------------------------------------------------------

    async def run(
        self,
        inputs: JsonDict,
        *,
        user: str,
        trace_id: str,
        query: str | None = None,
        on_started: RunStarted | None = None,
    ) -> RunResult:
        """Run the app once; a run Dify finished as failed or stopped is returned."""
        form = await self.form()
        # agent chat apps refuse blocking mode outright
        streaming = self.response_mode is ResponseMode.STREAMING or self._agent_chat
        payload: JsonDict = {
            "inputs": encode_file_inputs(inputs, form),
            "response_mode": "streaming" if streaming else "blocking",
            "user": user,
            "trace_id": trace_id,
        }
        if self.app_type is AppType.CHAT:
            payload.update(query=query or "", conversation_id="", auto_generate_name=False)
        elif query is not None:
            payload["query"] = query
        tracker = RunTracker(self.app_type, self._redact)
        started_at = time.monotonic()
        try:
            async with asyncio.timeout(self.timeout_s):
                if streaming:
                    await self._run_streaming(payload, trace_id, tracker, on_started)
                else:
                    await self._run_blocking(payload, trace_id, tracker, on_started)
        except TimeoutError as exc:  # our own deadline; httpx's timeouts land below
            result = tracker.result(time.monotonic() - started_at)
            if result is not None:
                return result
            raise self._lost(tracker, f"no result within {self.timeout_s:g} s") from exc
        except _NETWORK_ERRORS as exc:
            result = tracker.result(time.monotonic() - started_at)
            if result is not None:
                return result
            raise self._lost(tracker, f"connection to Dify failed: {_describe(exc)}") from exc
        result = tracker.result(time.monotonic() - started_at)
        if result is None:
            raise self._lost(tracker, "the stream ended before the run finished")
        return result

    def _lost(self, tracker: RunTracker, reason: str) -> TransientWorkflowError:
        """A call that broke off; with the run's ids when Dify had already started it."""
        if tracker.run_id is not None:
            reason = f"{reason} (run {tracker.run_id} may still be going)"
        return TransientWorkflowError(self._redact(reason), run_id=tracker.run_id, task_id=tracker.task_id)

    async def _run_streaming(
        self, payload: JsonDict, trace_id: str, tracker: RunTracker, on_started: RunStarted | None
    ) -> None:
        path = _RUN_PATHS[self.app_type]
        headers = {"X-Trace-Id": trace_id, "Accept": "text/event-stream"}
        async with self._http.stream("POST", path, json=payload, headers=headers) as response:
            if response.status_code >= 300:
                body = await response.aread()
                raise error_from_response(response.status_code, body, response.headers, self._redact)
            if "text/event-stream" not in response.headers.get("content-type", ""):
                await self._take_blocking(await response.aread(), tracker, on_started)
                return
            splitter = SseSplitter()
            async for chunk in response.aiter_bytes():
                for payload_bytes in splitter.feed(chunk):
                    if tracker.started and is_skippable(payload_bytes):
                        continue
                    event = _loads(payload_bytes)
                    if event is None:
                        continue
                    if tracker.feed(event) and on_started is not None:
                        await on_started(tracker.run_id or "", tracker.task_id or "")

    async def _run_blocking(
        self, payload: JsonDict, trace_id: str, tracker: RunTracker, on_started: RunStarted | None
    ) -> None:
        path = _RUN_PATHS[self.app_type]
        response = await self._http.post(path, json=payload, headers={"X-Trace-Id": trace_id})
        if response.status_code >= 300:
            raise error_from_response(response.status_code, response.content, response.headers, self._redact)
        await self._take_blocking(response.content, tracker, on_started)

    async def _take_blocking(self, body: bytes, tracker: RunTracker, on_started: RunStarted | None) -> None:
        decoded = _loads(body)
        if decoded is None:
            raise TransientWorkflowError("Dify answered the run with something that is not JSON")
        if tracker.feed_blocking(decoded) and on_started is not None:
            await on_started(tracker.run_id or "", tracker.task_id or "")

    # -- stop, run detail -------------------------------------------------------

    async def stop(self, task_id: str, *, user: str) -> None:
        """Ask Dify to stop a run; Dify answers success even for unknown tasks."""
        path = _STOP_PATHS[self.app_type].format(quote(task_id, safe=""))
        await self._call("POST", path, json_body={"user": user})

    async def fetch_run(self, run_id: str) -> RunResult | None:
        """A workflow run's state by id; None when Dify does not know it or for message apps."""
        if self.app_type is not AppType.WORKFLOW:
            return None
        try:
            detail = await self._get_json(f"workflows/run/{quote(run_id, safe='')}")
        except PermanentWorkflowError as exc:
            if exc.status == 404:
                return None
            raise
        return _run_from_detail(detail)

    # -- plumbing -------------------------------------------------------------

    async def _get_json(self, path: str) -> JsonDict:
        return await self._call("GET", path)

    async def _call(self, method: str, path: str, *, json_body: JsonDict | None = None) -> JsonDict:
        """One JSON request and answer, every failure mapped to a workflow error."""
        try:
            async with asyncio.timeout(self.timeout_s):
                response = await self._http.request(method, path, json=json_body)
        except TimeoutError as exc:
            raise TransientWorkflowError(
                f"Dify did not answer {method} /{path} within {self.timeout_s:g} s"
            ) from exc
        except _NETWORK_ERRORS as exc:
            raise TransientWorkflowError(self._redact(f"{method} /{path} failed: {_describe(exc)}")) from exc
        if response.status_code >= 300:
            raise error_from_response(response.status_code, response.content, response.headers, self._redact)
        decoded = _loads(response.content)
        if decoded is None:
            raise TransientWorkflowError(f"Dify answered {method} /{path} with something that is not JSON")
        return decoded


@functools.cache
def _default_tls() -> ssl.SSLContext:
    """One verifying TLS context for every client: loading the CA bundle costs ~40 ms."""
    return httpx.create_ssl_context()


def _run_from_detail(detail: Mapping[str, Any]) -> RunResult | None:
    run_id = detail.get("id")
    status = detail.get("status")
    if not isinstance(run_id, str) or not isinstance(status, str):
        return None  # 1.12.1 answers an unknown id with 200 and every field null
    outputs: Any = detail.get("outputs")
    if isinstance(outputs, str):  # some Dify versions send the outputs as a JSON string
        outputs = _loads(outputs.encode())
    error = detail.get("error")
    elapsed = detail.get("elapsed_time")
    tokens = detail.get("total_tokens")
    return RunResult(
        status=status,
        outputs=outputs if isinstance(outputs, dict) else {},
        error=error if isinstance(error, str) and error else None,
        run_id=run_id,
        elapsed_s=float(elapsed) if isinstance(elapsed, int | float) else 0.0,
        tokens=tokens if isinstance(tokens, int) else 0,
    )


def _loads(body: bytes) -> JsonDict | None:
    try:
        value = json.loads(body)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
