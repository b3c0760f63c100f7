"""FakeDify: Dify 1.14.1's Service API on loopback, with scripted latency, faults and counters.

    async with FakeDify.running(latency_s=0.01, script={"row-3": [Plan(fault=rate_limited())]}) as fake:
        client = DifyClient(fake.base_url, fake.api_key, ...)

Runs live apart from the HTTP request that started them, as in Dify: a dropped stream
leaves its run going, and a stopped run stays ``running`` in run detail for good.
Also a process of its own: ``python -m tests.fakes.dify --port 0`` (see `tests.fakes.dify_cli`).
"""

from __future__ import annotations

import asyncio
import secrets
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import BodyPartReader, web

from tests.fakes.dify_bodies import (
    RUN_ENDPOINTS,
    WORKFLOW_ID,
    FakeRun,
    answer_text,
    blocking_answer,
    error,
    http_fault,
    info_body,
    parameters_body,
    run_detail_body,
    run_request_problem,
    upload_record,
)
from tests.fakes.dify_events import finish_frames, ping_frame, start_frames
from tests.fakes.dify_records import conversations_answer, logs_answer, messages_answer, new_log_id
from tests.fakes.dify_script import (
    DEFAULT_FORM,
    Counters,
    Fault,
    FaultKind,
    JsonDict,
    OutputFn,
    Plan,
    RunCall,
    Script,
    bump,
    default_outputs,
    first_text,
    plan_for,
    too_many_requests_message,
    validate_inputs,
)

_WRONG_ROUTE = "Please check if your app mode matches the right API route."
_SSE_HEADERS = {"Content-Type": "text/event-stream; charset=utf-8", "X-Version": "1.14.1"}


class FakeDify:
    """An aiohttp server speaking Dify's Service API. Counters live in ``counters``."""

    def __init__(
        self,
        *,
        app_mode: str = "workflow",
        form: Sequence[JsonDict] = DEFAULT_FORM,
        latency_s: float = 0.0,
        script: Script | None = None,
        key_variable: str | None = None,
        output_fn: OutputFn = default_outputs,
        max_active_requests: int = 0,
        stream_idle_timeout_s: float = 300.0,
        api_key: str | None = None,
        record_requests: bool = True,
        versions: Sequence[str] = (WORKFLOW_ID,),
    ) -> None:
        self.app_mode = app_mode
        self.form = list(form)
        self.latency_s = latency_s
        self.script = script
        first_variable = next(iter(self.form[0].values()))["variable"] if self.form else "query"
        self.key_variable = key_variable or first_variable
        self.output_fn = output_fn
        self.max_active_requests = max_active_requests
        self.stream_idle_timeout_s = stream_idle_timeout_s
        self.api_key = api_key or "app-" + secrets.token_urlsafe(18)[:24]
        self.record_requests = record_requests
        self.versions = list(versions)
        """The app's published workflow ids; ``/workflows/run`` runs the last one."""
        self.counters = Counters()
        self.requests: list[JsonDict] = []
        """Every run request: ``{"endpoint", "body", "headers"}``, header names in lower case."""
        self.runs: dict[str, FakeRun] = {}
        self.uploads: list[JsonDict] = []
        self.records_faults: list[Fault] = []
        """Answered, one each, to the next requests for the run log or conversations (Cloudflare's
        or Dify's limiter in front of them) before they answer again."""
        self._runs_by_task: dict[str, FakeRun] = {}
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    # -- lifecycle ----------------------------------------------------------------

    @classmethod
    @asynccontextmanager
    async def running(
        cls, *, host: str = "127.0.0.1", port: int = 0, **options: Any
    ) -> AsyncIterator[FakeDify]:
        fake = cls(**options)
        await fake.start(host, port)
        try:
            yield fake
        finally:
            await fake.close()

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        app = web.Application(middlewares=[self._count_and_auth])
        app.router.add_get("/v1/", self._welcome)
        app.router.add_get("/v1/parameters", self._parameters)
        app.router.add_get("/v1/info", self._info)
        for endpoint in RUN_ENDPOINTS:
            app.router.add_post(f"/v1/{endpoint}", self._run)
        app.router.add_post("/v1/workflows/{workflow_id}/run", self._run_version)
        app.router.add_post("/v1/workflows/tasks/{task_id}/stop", self._stop)
        app.router.add_post("/v1/completion-messages/{task_id}/stop", self._stop)
        app.router.add_post("/v1/chat-messages/{task_id}/stop", self._stop)
        app.router.add_get("/v1/workflows/run/{run_id}", self._run_detail)
        app.router.add_get("/v1/workflows/logs", self._logs)
        app.router.add_get("/v1/conversations", self._conversations)
        app.router.add_get("/v1/messages", self._messages)
        app.router.add_post("/v1/files/upload", self._upload)
        app.router.add_get("/_fake/stats", self._stats)
        # cancel handlers whose client went away, and do not wait long for silent streams at exit
        self._runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=0.1, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound_host, bound_port = self._runner.addresses[0][:2]
        self.base_url = f"http://{bound_host}:{bound_port}/v1"
        return self.base_url

    async def close(self, *, keep_runs: bool = False) -> None:
        """Stop serving. ``keep_runs``: an outage of the API in front (proxy, API server) while
        the workers finish the runs they have, as Dify's Celery workers do; serve again on the
        same port with ``start(port=...)``."""
        for run in self.runs.values():
            if run.timer is not None and not keep_runs:
                run.timer.cancel()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def reset_counters(self) -> None:
        self.counters = Counters()
        self.requests.clear()

    # -- plumbing -----------------------------------------------------------------

    @web.middleware
    async def _count_and_auth(self, request: web.Request, handler: Any) -> web.StreamResponse:
        resource = request.match_info.route.resource
        name = resource.canonical if resource is not None else request.path
        bump(self.counters.calls, f"{request.method} {name}")
        if request.path.startswith("/v1/") and request.path != "/v1/":
            header = request.headers.get("Authorization", "")
            scheme, _, token = header.partition(" ")
            challenge = {"WWW-Authenticate": 'Bearer realm="api"'}
            if not token:
                message = "Authorization header must be provided and start with 'Bearer'"
                return error(401, "unauthorized", message, challenge)
            if scheme.lower() != "bearer":
                return error(401, "unauthorized", "Authorization scheme must be 'Bearer'", challenge)
            if token != self.api_key:
                return error(401, "unauthorized", "Access token is invalid", challenge)
        response: web.StreamResponse = await handler(request)
        return response

    async def _welcome(self, request: web.Request) -> web.Response:
        return web.json_response({"welcome": "Dify OpenAPI", "api_version": "v1", "server_version": "1.14.1"})

    async def _parameters(self, request: web.Request) -> web.Response:
        return web.json_response(parameters_body(self.form))

    async def _info(self, request: web.Request) -> web.Response:
        return web.json_response(info_body(self.app_mode))

    async def _stats(self, request: web.Request) -> web.Response:
        return web.json_response(self.counters.as_json())

    # -- runs ---------------------------------------------------------------------

    async def _run_version(self, request: web.Request) -> web.StreamResponse:
        """``POST /workflows/{workflow_id}/run``: one published version, as Dify 1.14.1 runs it."""
        version = request.match_info["workflow_id"]
        try:
            uuid.UUID(version)
        except ValueError:
            return error(400, "bad_request", f"Invalid workflow_id format: '{version}'. ")
        if version not in self.versions:
            return error(404, "not_found", f"Workflow not found with id: {version}")
        return await self._run(request, version)

    async def _run(self, request: web.Request, version: str | None = None) -> web.StreamResponse:
        endpoint = "workflows/run" if version else request.path.removeprefix("/v1/")
        try:
            body = await request.json()
        except ValueError:
            body = None
        rejection = run_request_problem(endpoint, self.app_mode, body)
        if rejection is not None or not isinstance(body, dict):
            return rejection or error(400, "bad_request", "")
        user, inputs, query = body["user"], body["inputs"], body.get("query")
        mode = body.get("response_mode") or "blocking"
        trace_id = request.headers.get("X-Trace-Id") or request.query.get("trace_id") or body.get("trace_id")
        key = str(inputs.get(self.key_variable, query if self.key_variable == "query" else ""))
        if self.record_requests:
            headers = {name.lower(): value for name, value in request.headers.items()}
            path = request.path.removeprefix("/v1/")  # a pinned version's own path
            self.requests.append({"endpoint": path, "body": body, "headers": headers})
        counters = self.counters
        bump(counters.users, user)
        if trace_id:
            bump(counters.requests_by_trace, trace_id)
        attempt = bump(counters.requests_by_key, key)
        if self.max_active_requests and counters.in_flight >= self.max_active_requests:
            counters.rejected_busy += 1
            return error(400, "invalid_param", too_many_requests_message(self.max_active_requests))
        call = RunCall(endpoint, inputs, query, user, trace_id, mode, key, attempt, version)
        counters.in_flight += 1
        counters.peak_in_flight = max(counters.peak_in_flight, counters.in_flight)
        counters.admitted_at.append(counters.in_flight)
        try:
            return await self._serve_run(request, call, plan_for(self.script, call))
        finally:
            counters.in_flight -= 1

    async def _serve_run(self, request: web.Request, call: RunCall, plan: Plan) -> web.StreamResponse:
        fault = plan.fault
        streaming = call.response_mode == "streaming"
        if fault is not None and fault.kind is FaultKind.HTTP:
            if plan.latency_s:
                await asyncio.sleep(plan.latency_s)
            return http_fault(fault)
        problem = validate_inputs(self.form, call.inputs)
        # workflow runs are validated in the worker: a streaming caller only ever sees a ping
        if problem and streaming and self.app_mode in ("workflow", "advanced-chat"):
            fault = Fault(FaultKind.SILENT)
        elif problem:
            return error(400, "invalid_param", problem)
        if fault is not None and fault.kind is FaultKind.SILENT:
            return (
                await self._silent_stream(request)
                if streaming
                else error(400, "invalid_param", problem or "")
            )
        if fault is not None and fault.kind is FaultKind.CUT_BEFORE_START:
            return await self._cut(request, streaming, b"")
        run = self._start_run(call, plan, fault)
        if not streaming:
            if fault is not None and fault.kind is FaultKind.CUT_AFTER_START:
                return await self._cut(request, False, b"")
            await run.done.wait()
            return self._blocking_answer(run)
        response = web.StreamResponse(headers=_SSE_HEADERS)
        await response.prepare(request)
        await response.write(ping_frame() + start_frames(self.app_mode, run))
        if fault is not None and fault.kind is FaultKind.CUT_AFTER_START:
            return await self._cut(request, True, b"", response)
        await run.done.wait()
        await response.write(finish_frames(self.app_mode, run))
        await response.write_eof()
        return response

    def _start_run(self, call: RunCall, plan: Plan, fault: Fault | None) -> FakeRun:
        outputs = self.output_fn(call.inputs, call.query)
        run = FakeRun(
            run_id=str(uuid.uuid4()),
            task_id=str(uuid.uuid4()),
            message_id=str(uuid.uuid4()),
            key=call.key,
            inputs=call.inputs,
            outputs=outputs,
            text=answer_text(outputs, first_text(call.inputs, call.query)),
            fault=fault,
            created_at=int(time.time()),
            user=call.user,
            query=call.query,
            conversation_id=str(uuid.uuid4()) if self.app_mode in ("chat", "advanced-chat") else "",
            log_id=new_log_id(),
            sequence=len(self.runs),
            workflow_id=call.workflow_id or self.versions[-1],
        )
        self.runs[run.run_id] = run
        self._runs_by_task[run.task_id] = run
        if call.trace_id:
            bump(self.counters.runs_by_trace, call.trace_id)
        bump(self.counters.runs_by_key, call.key)
        latency = self.latency_s if plan.latency_s is None else plan.latency_s
        run.started_mono = time.monotonic()
        run.timer = asyncio.get_running_loop().call_later(latency, self._finish, run, False)
        return run

    def _finish(self, run: FakeRun, stopped: bool) -> None:
        if run.done.is_set():
            return
        run.elapsed_s = time.monotonic() - run.started_mono
        run.finished_at = run.logged_at = int(time.time())
        kind = run.fault.kind if run.fault is not None else None
        if stopped:
            # Dify 1.14.1 never records the stop: run detail says "running" for good
            run.status, run.error, run.outputs = "stopped", "Stopped by user.", {}
        elif kind is FaultKind.FAIL or kind is FaultKind.ERROR_EVENT:
            run.status = run.detail_status = "failed"
            run.error, run.outputs = run.fault.message if run.fault else "", {}
        else:
            run.status = run.detail_status = "succeeded"
            bump(self.counters.succeeded_by_key, run.key)
        run.done.set()

    def _blocking_answer(self, run: FakeRun) -> web.Response:
        return blocking_answer(self.app_mode, run)

    async def _silent_stream(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers=_SSE_HEADERS)
        await response.prepare(request)
        await response.write(ping_frame())
        await asyncio.sleep(self.stream_idle_timeout_s)
        await response.write_eof()
        return response

    async def _cut(
        self, request: web.Request, streaming: bool, data: bytes, response: web.StreamResponse | None = None
    ) -> web.StreamResponse:
        """Drop the connection mid-answer, as a proxy or a crashed worker would."""
        if streaming and response is None:
            response = web.StreamResponse(headers=_SSE_HEADERS)
            await response.prepare(request)
            await response.write(ping_frame() + data)
        if request.transport is not None:
            request.transport.abort()
        raise asyncio.CancelledError  # aiohttp drops a cancelled handler's connection quietly

    # -- stop, detail, upload -----------------------------------------------------------

    async def _stop(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or not body.get("user"):
            return error(400, "invalid_param", "Arg user must be provided.")
        task_id = request.match_info["task_id"]
        self.counters.stops.append(task_id)
        run = self._runs_by_task.get(task_id)
        if run is not None and not run.done.is_set():
            if run.timer is not None:
                run.timer.cancel()
            self._finish(run, True)
        return web.json_response({"result": "success"})

    async def _run_detail(self, request: web.Request) -> web.Response:
        run = self.runs.get(request.match_info["run_id"])
        if run is None:
            return error(404, "not_found", "Workflow run not found.")
        return web.json_response(run_detail_body(run))

    async def _logs(self, request: web.Request) -> web.Response:
        if self.records_faults:
            return http_fault(self.records_faults.pop(0))
        if self.app_mode != "workflow":
            return error(400, "not_workflow_app", _WRONG_ROUTE)
        return logs_answer(self.runs.values(), request.query)

    async def _conversations(self, request: web.Request) -> web.Response:
        if self.records_faults:
            return http_fault(self.records_faults.pop(0))
        if self.app_mode not in ("chat", "advanced-chat"):
            return error(400, "not_chat_app", _WRONG_ROUTE)
        return conversations_answer(self.runs.values(), request.query)

    async def _messages(self, request: web.Request) -> web.Response:
        if self.app_mode not in ("chat", "advanced-chat"):
            return error(400, "not_chat_app", _WRONG_ROUTE)
        return messages_answer(self.runs.values(), request.query)

    async def _upload(self, request: web.Request) -> web.Response:
        reader = await request.multipart()
        upload: JsonDict | None = None
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader) or part.name != "file":
                continue
            if upload is not None:
                return error(400, "too_many_files", "Only one file is allowed.")
            content = await part.read()
            if not part.filename:
                return error(400, "filename_not_exists_error", "The specified filename does not exist.")
            upload = upload_record(part.filename, len(content), part.headers.get("Content-Type", ""))
        if upload is None:
            return error(400, "no_file_uploaded", "Please upload your file.")
        self.uploads.append(upload)
        return web.json_response(upload, status=201)


if __name__ == "__main__":
    from tests.fakes.dify_cli import main

    main()
