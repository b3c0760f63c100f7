"""The Dify client's pure parts: SSE framing, Retry-After, file types, captured streams, imports."""

from __future__ import annotations

import json
import re
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest

from engine.dify.errors import Redactor, parse_retry_after
from engine.dify.form import guess_file_type
from engine.dify.sse import RunTracker, SseSplitter
from engine.models import AppType

ENGINE = Path(__file__).resolve().parents[3] / "engine"
CAPTURES = Path("/work/shared/reference/dify-1.14.1-captures")

STREAM = (
    b"event: ping\n\n"
    b'data: {"event":"workflow_started","workflow_run_id":"r1","task_id":"t1","data":{"id":"r1"}}\n\n'
    b": a comment line\n\n"
    b'data: {"event":"text_chunk","workflow_run_id":"r1","task_id":"t1","data":{"text":"\xe4\xbd\xa0"}}\n\n'
    b'data: {"event":"workflow_finished","workflow_run_id":"r1","task_id":"t1",'
    b'"data":{"id":"r1","status":"succeeded","outputs":{"a":"\xe4\xbd\xa0"},"total_tokens":3}}\n\n'
)


def _payloads(chunks: list[bytes]) -> list[bytes]:
    splitter = SseSplitter()
    return [payload for chunk in chunks for payload in splitter.feed(chunk)]


def test_frames_survive_any_chunking_and_pings_are_dropped() -> None:
    whole = _payloads([STREAM])
    assert len(whole) == 3
    assert all(p.startswith(b'{"event":') for p in whole)
    for size in (1, 2, 7, 64):
        chunks = [STREAM[i : i + size] for i in range(0, len(STREAM), size)]
        assert _payloads(chunks) == whole


def test_crlf_framing_and_multi_line_data() -> None:
    stream = b'event: ping\r\n\r\ndata: {"a":\r\ndata: 1}\r\n\r\ndata:{"b":2}\r\n\r\n'
    assert _payloads([stream[:13], stream[13:30], stream[30:]]) == [b'{"a":\n1}', b'{"b":2}']


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("5", 5.0), (" 1.5 ", 1.5), ("-3", 0.0), ("", None), (None, None), ("soon", None)],
)
def test_retry_after_seconds(header: str | None, seconds: float | None) -> None:
    assert parse_retry_after(header) == seconds


def test_retry_after_http_date_counts_from_now() -> None:
    date = "Fri, 15 Jan 2027 08:00:20 GMT"
    moment = parsedate_to_datetime(date).timestamp()
    assert parse_retry_after(date, now=moment - 20) == pytest.approx(20)
    assert parse_retry_after(date, now=moment + 5) == 0.0


@pytest.mark.parametrize(
    ("url", "allowed", "kind"),
    [
        ("https://x/a.JPG", (), "image"),
        ("https://x/a.pdf?sig=1#p", (), "document"),
        ("https://x/song.mp3", (), "audio"),
        ("https://x/clip.mp4", (), "video"),
        ("https://x/blob", (), "custom"),
        ("https://x/blob", ("document",), "document"),
        ("https://x/a.png", ("document", "custom"), "custom"),
        ("https://x/a.zip", ("image", "custom"), "custom"),
    ],
)
def test_file_type_from_the_url_and_the_variable(url: str, allowed: tuple[str, ...], kind: str) -> None:
    assert guess_file_type(url, allowed) == kind


def test_redactor_hides_the_secret_and_itself() -> None:
    redact = Redactor("app-abc")
    assert redact("key app-abc leaked twice: app-abc") == "key *** leaked twice: ***"
    assert "app-abc" not in repr(redact)


def _replay(name: str, app_type: AppType) -> RunTracker:
    raw = (CAPTURES / name).read_bytes()
    body = raw.split(b"\r\n\r\n", 1)[-1] if b"\r\n\r\n" in raw else raw.split(b"\n\n", 1)[-1]
    tracker = RunTracker(app_type, Redactor("app-x"))
    for payload in SseSplitter().feed(body + b"\n\n"):
        tracker.feed(json.loads(payload))
    return tracker


@pytest.mark.skipif(not CAPTURES.exists(), reason="Dify captures not available")
def test_the_captured_dify_streams_read_as_their_runs() -> None:
    workflow = _replay("03_run_streaming.sse", AppType.WORKFLOW).result(1.0)
    assert workflow is not None
    assert workflow.status == "succeeded"
    assert workflow.run_id == "0649c46e-0e4c-4d92-b37a-12ef9367c364"
    assert workflow.task_id == "a5e3d710-feb2-4928-8ec8-1f1a5684893d"
    assert workflow.outputs["query"] == "hello streaming"
    stopped = _replay("05_stop_stream.sse", AppType.WORKFLOW).result(1.0)
    assert stopped is not None
    assert (stopped.status, stopped.error) == ("stopped", "Stopped by user.")
    failed = _replay("08_failed_run_streaming.sse", AppType.WORKFLOW).result(1.0)
    assert failed is not None
    assert failed.error == "Server disconnected without sending a response."
    chat = _replay("15_chat_streaming.sse", AppType.CHAT).result(1.0)
    assert chat is not None
    assert chat.outputs == {"answer": "echo: second turn"}
    assert chat.run_id == "3d502345-e510-40c7-a354-58ea32e55cb8"  # the workflow run, not the message
    silent = _replay("06_missing_required_input_streaming.http", AppType.WORKFLOW)
    assert silent.result(1.0) is None
    assert not silent.started


def test_only_engine_dify_speaks_http_and_no_engine_module_imports_it() -> None:
    network = re.compile(r"^\s*(import|from)\s+(httpx|httpx_aiohttp|aiohttp|requests|urllib3)\b", re.M)
    uses_client = re.compile(r"^\s*(from|import)\s+engine\.dify\b", re.M)
    modules = sorted(ENGINE.rglob("*.py"))
    assert ENGINE / "dify" / "client.py" in modules
    speaking = [m.relative_to(ENGINE).as_posix() for m in modules
                if network.search(m.read_text(encoding="utf-8"))]
    importing = [m.relative_to(ENGINE).as_posix() for m in modules
                 if m.parent.name != "dify" and uses_client.search(m.read_text(encoding="utf-8"))]
    assert speaking == ["dify/client.py"]
    assert importing == []
