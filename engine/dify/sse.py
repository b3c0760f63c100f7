"""Dify's run answers read into a RunResult: SSE framing and the run's event sequence."""

from __future__ import annotations

from typing import Any

from engine.dify.errors import Redactor, error_from_event
from engine.models import AppType, JsonDict, RunResult

# Events that carry nothing for the result. Dify serialises with orjson, so "event" is the
# first key and a prefix test spares parsing the biggest frames (node inputs and outputs).
_SKIPPABLE_PREFIXES = (
    b'{"event":"node_',
    b'{"event":"text_chunk"',
    b'{"event":"iteration_',
    b'{"event":"loop_',
    b'{"event":"agent_log"',
    b'{"event":"tts_message',
    b'{"event":"message_file"',
    b'{"event":"agent_thought"',
)


class SseSplitter:
    """Cuts an SSE byte stream into the ``data`` payloads of its frames.

    Frames without data (Dify's ``event: ping``) and comment lines are dropped.
    """

    __slots__ = ("_buffer",)

    def __init__(self) -> None:
        self._buffer = b""

    def feed(self, chunk: bytes) -> list[bytes]:
        buffer = self._buffer + chunk if self._buffer else chunk
        if b"\r" in buffer:
            buffer = buffer.replace(b"\r\n", b"\n")
        frames = buffer.split(b"\n\n")
        self._buffer = frames.pop()
        payloads: list[bytes] = []
        for frame in frames:
            data = _frame_data(frame)
            if data is not None:
                payloads.append(data)
        return payloads


def _frame_data(frame: bytes) -> bytes | None:
    if frame.startswith(b"data:") and b"\n" not in frame:
        return frame[5:].lstrip(b" ")
    parts = [line[5:].removeprefix(b" ") for line in frame.split(b"\n") if line.startswith(b"data:")]
    return b"\n".join(parts) if parts else None


def is_skippable(payload: bytes) -> bool:
    """True for frames that can be ignored once the run's ids are known."""
    return payload.startswith(_SKIPPABLE_PREFIXES)


class RunTracker:
    """Follows one run's events and turns them into a `RunResult` or an error."""

    __slots__ = (
        "_answer",
        "_app_type",
        "_error_event",
        "_finished",
        "_message_end",
        "_redact",
        "run_id",
        "task_id",
        "workflow_id",
    )

    def __init__(self, app_type: AppType, redact: Redactor) -> None:
        self._app_type = app_type
        self._redact = redact
        self.run_id: str | None = None
        self.task_id: str | None = None
        self.workflow_id: str | None = None
        self._answer: list[str] = []
        self._finished: JsonDict | None = None
        self._message_end: JsonDict | None = None
        self._error_event: JsonDict | None = None

    @property
    def started(self) -> bool:
        return self.run_id is not None and self.task_id is not None

    def feed(self, event: JsonDict) -> bool:
        """Take one event; True when it is the one that first names the run."""
        was_started = self.started
        if not was_started:
            self._learn_ids(event)
        kind = event.get("event")
        if kind in ("workflow_started", "workflow_finished"):
            self._learn_version(event.get("data"))
        if kind in ("message", "agent_message"):
            chunk = event.get("answer")
            if isinstance(chunk, str):
                self._answer.append(chunk)
        elif kind == "message_replace":
            replacement = event.get("answer")
            self._answer = [replacement] if isinstance(replacement, str) else []
        elif kind == "message_end":
            self._message_end = event
        elif kind == "workflow_finished":
            data = event.get("data")
            self._finished = data if isinstance(data, dict) else {}
        elif kind == "error":
            self._error_event = event
        return not was_started and self.started

    def _learn_ids(self, event: JsonDict) -> None:
        if self.task_id is None:
            task_id = event.get("task_id")
            if isinstance(task_id, str) and task_id:
                self.task_id = task_id
        if self.run_id is None:
            # chatflows name both; the workflow run id is the one run detail knows
            for key in ("workflow_run_id", "message_id", "id"):
                value = event.get(key)
                if isinstance(value, str) and value:
                    self.run_id = value
                    break

    def _learn_version(self, data: Any) -> None:
        version = data.get("workflow_id") if isinstance(data, dict) else None
        if isinstance(version, str) and version:
            self.workflow_id = version

    def feed_blocking(self, body: JsonDict) -> bool:
        """Take a blocking answer by replaying it as the events a stream would have sent."""
        if "answer" not in body:
            started = self.feed({**body, "event": "workflow_started"})
            self.feed({"event": "workflow_finished", "data": body.get("data")})
            return started
        started = self.feed(body)
        self.feed({"event": "message_end", "metadata": body.get("metadata")})
        return started

    def result(self, elapsed_s: float) -> RunResult | None:
        """The run's result; None when no terminal event arrived. Raises for an error event."""
        if self._error_event is not None:
            raise error_from_event(self._error_event, self._redact)
        if self._finished is not None:
            return self._from_workflow_finished(self._finished, elapsed_s)
        if self._message_end is not None and self._app_type is not AppType.WORKFLOW:
            return RunResult(
                status="succeeded",
                outputs={"answer": "".join(self._answer)},
                run_id=self.run_id,
                task_id=self.task_id,
                elapsed_s=elapsed_s,
                tokens=_usage_tokens(self._message_end),
                workflow_id=self.workflow_id,
            )
        return None

    def _from_workflow_finished(self, data: JsonDict, elapsed_s: float) -> RunResult:
        outputs: Any = data.get("outputs")
        outputs = outputs if isinstance(outputs, dict) else {}
        tokens = _int(data.get("total_tokens"))
        if self._app_type is not AppType.WORKFLOW:
            answer = "".join(self._answer)
            if not answer and isinstance(outputs.get("answer"), str):
                answer = outputs["answer"]
            outputs = {"answer": answer}
            if self._message_end is not None:
                tokens = max(tokens, _usage_tokens(self._message_end))
        error = data.get("error")
        status = data.get("status")
        run_id = data.get("id")
        return RunResult(
            status=status if isinstance(status, str) else "failed",
            outputs=outputs,
            error=self._redact(error) if isinstance(error, str) and error else None,
            run_id=self.run_id or (run_id if isinstance(run_id, str) else None),
            task_id=self.task_id,
            elapsed_s=elapsed_s,
            tokens=tokens,
            workflow_id=self.workflow_id,
        )


def _usage_tokens(message_end: JsonDict) -> int:
    metadata = message_end.get("metadata")
    usage = metadata.get("usage") if isinstance(metadata, dict) else None
    return _int(usage.get("total_tokens")) if isinstance(usage, dict) else 0


def _int(value: Any) -> int:
    if isinstance(value, bool):
        return 0
    if isinstance(value, int | float):
        return int(value)
    return 0
