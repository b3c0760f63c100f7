"""DifyClient against FakeDify over real HTTP: app types, modes, form, files, stop, run detail."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import httpx
import pytest

from engine.dify.client import DifyClient
from engine.errors import PermanentWorkflowError, TransientWorkflowError
from engine.models import AppType, FieldType, ResponseMode
from tests.engine.dify.helpers import dify
from tests.fakes.dify_script import ALL_CONTROLS_FORM, Plan, control, failed_run

MODES = ["workflow", "completion", "chat", "advanced-chat"]
BOTH = [ResponseMode.STREAMING, ResponseMode.BLOCKING]


@pytest.mark.parametrize("response_mode", BOTH)
@pytest.mark.parametrize("mode", MODES)
async def test_every_app_type_runs_in_both_modes(mode: str, response_mode: ResponseMode) -> None:
    async with dify(mode, response_mode, latency_s=0.02) as (fake, client):
        started: list[tuple[str, str, bool]] = []

        async def on_started(run_id: str, task_id: str) -> None:
            run = next(r for r in fake.runs.values() if r.task_id == task_id)
            started.append((run_id, task_id, run.done.is_set()))

        query = "你好，世界" if mode in ("chat", "advanced-chat") else None
        result = await client.run(
            {"text": "你好，世界"}, user="telegram:42", trace_id="b1-0-1", query=query, on_started=on_started
        )

    (run,) = fake.runs.values()
    assert result.succeeded, result
    expected = {"answer": "你好，世界 ✓"} if mode != "workflow" else {"result": "你好，世界 ✓", "length": 5}
    assert result.outputs == expected
    assert result.tokens == 10 + len("你好，世界 ✓")
    assert result.task_id == run.task_id
    # a streamed chatflow names its workflow run; message answers only carry the message id
    named_by_message = mode in ("completion", "chat") or (
        mode == "advanced-chat" and response_mode is ResponseMode.BLOCKING
    )
    assert result.run_id == (run.message_id if named_by_message else run.run_id)
    assert len(started) == 1
    assert started[0][:2] == (result.run_id, result.task_id)
    if response_mode is ResponseMode.STREAMING:
        assert started[0][2] is False, "on_started must come while the run is still going"


@pytest.mark.parametrize("response_mode", BOTH)
async def test_user_and_trace_id_reach_dify_and_chat_starts_fresh_conversations(
    response_mode: ResponseMode,
) -> None:
    async with dify("advanced-chat", response_mode) as (fake, client):
        await client.run({"text": "a"}, user="slack:U1", trace_id="7f3a2c-4-2", query="hi")

    (request,) = fake.requests
    assert request["headers"]["x-trace-id"] == "7f3a2c-4-2"
    body = request["body"]
    assert body["trace_id"] == "7f3a2c-4-2"
    assert body["user"] == "slack:U1"
    assert body["response_mode"] == response_mode.value
    assert (body["query"], body["conversation_id"]) == ("hi", "")
    assert fake.counters.users == {"slack:U1": 1}
    assert fake.counters.requests_by_trace == {"7f3a2c-4-2": 1}


async def test_form_reads_every_control_type_and_is_fetched_once() -> None:
    async with dify("completion", form=ALL_CONTROLS_FORM) as (fake, client):
        form = await client.form()
        again = await client.form()
        await client.run({"text": "x"}, user="u", trace_id="t")

    assert again is form
    assert fake.counters.calls["GET /v1/parameters"] == 1
    assert form.app_type is AppType.COMPLETION
    by_name = {f.variable: f for f in form.fields}
    assert [f.variable for f in form.fields] == [
        "text", "notes", "tone", "count", "urgent", "doc", "pics", "meta", "weather",
    ]  # fmt: skip
    assert {f.type for f in form.fields} == set(FieldType)
    assert by_name["text"].required
    assert by_name["text"].max_length == 48
    assert by_name["text"].label == "Text"
    assert by_name["tone"].options == ("formal", "casual")
    assert by_name["tone"].default == "formal"
    assert by_name["urgent"].default is False
    assert by_name["doc"].allowed_file_types == ("document",)
    assert by_name["pics"].max_length == 3
    assert not by_name["weather"].required


async def test_form_refuses_an_app_type_that_does_not_match_the_app() -> None:
    async with (
        dify("workflow") as (fake, _),
        DifyClient(fake.base_url, fake.api_key, app_type=AppType.CHAT, timeout_s=2) as chat,
    ):
        with pytest.raises(PermanentWorkflowError, match="app_type = 'workflow'"):
            await chat.form()


@pytest.mark.parametrize("response_mode", BOTH)
async def test_file_urls_become_remote_url_file_inputs(response_mode: ResponseMode) -> None:
    async with dify("workflow", response_mode, form=ALL_CONTROLS_FORM) as (fake, client):
        result = await client.run(
            {
                "text": "files",
                "doc": "https://files.example/report.PDF?sig=abc",
                "pics": ["https://files.example/a.png", "https://files.example/blob"],
            },
            user="u",
            trace_id="t",
        )

    assert result.succeeded, result
    inputs = fake.requests[0]["body"]["inputs"]
    assert inputs["doc"] == {
        "type": "document",
        "transfer_method": "remote_url",
        "url": "https://files.example/report.PDF?sig=abc",
    }
    assert [p["type"] for p in inputs["pics"]] == ["image", "custom"]
    assert inputs["text"] == "files"


@pytest.mark.parametrize("response_mode", BOTH)
async def test_a_failed_run_is_returned_with_difys_message(response_mode: ResponseMode) -> None:
    script = {"bad": Plan(fault=failed_run("Reached maximum retries for URL http://x/run"))}
    async with dify("workflow", response_mode, script=script) as (fake, client):
        result = await client.run({"text": "bad"}, user="u", trace_id="t")

    assert result.status == "failed"
    assert result.error == "Reached maximum retries for URL http://x/run"
    assert result.run_id == next(iter(fake.runs))


async def test_stop_ends_the_stream_as_stopped_and_run_detail_keeps_saying_running() -> None:
    async with dify("workflow", latency_s=5.0) as (fake, client):
        stop_calls: list[asyncio.Task[None]] = []

        async def stop_at_once(run_id: str, task_id: str) -> None:
            stop_calls.append(asyncio.create_task(client.stop(task_id, user="u")))

        result = await client.run({"text": "long"}, user="u", trace_id="t", on_started=stop_at_once)
        await asyncio.gather(*stop_calls)
        assert result.run_id is not None
        detail = await client.fetch_run(result.run_id)

    assert (result.status, result.error, result.outputs) == ("stopped", "Stopped by user.", {})
    assert result.elapsed_s < 2.0
    assert fake.counters.stops == [result.task_id]
    assert detail is not None
    assert detail.status == "running"


@pytest.mark.parametrize("mode", MODES)
async def test_stop_uses_the_endpoint_of_the_app_type_and_needs_a_user(mode: str) -> None:
    async with dify(mode) as (fake, client):
        await client.stop("no-such-task", user="u")  # Dify says success even for unknown tasks
        with pytest.raises(PermanentWorkflowError, match="Arg user must be provided"):
            await client.stop("no-such-task", user="")

    assert fake.counters.stops == ["no-such-task"]
    stop_calls = [name for name in fake.counters.calls if name.endswith("/stop")]
    assert len(stop_calls) == 1


async def test_fetch_run_decodes_a_finished_run_and_answers_none_for_unknown_ids() -> None:
    async with dify("workflow") as (fake, client):
        result = await client.run({"text": "日本語"}, user="u", trace_id="t")
        assert result.run_id is not None
        detail = await client.fetch_run(result.run_id)
        missing = await client.fetch_run("00000000-0000-0000-0000-000000000000")

    assert detail is not None
    assert (detail.status, detail.outputs, detail.run_id) == ("succeeded", result.outputs, result.run_id)
    assert detail.tokens == result.tokens
    assert missing is None
    assert fake.counters.calls["GET /v1/workflows/run/{run_id}"] == 2


async def test_fetch_run_has_nothing_to_reconcile_for_message_apps() -> None:
    async with dify("completion") as (fake, client):
        assert await client.fetch_run("anything") is None
    assert "GET /v1/workflows/run/{run_id}" not in fake.counters.calls


async def test_a_streaming_run_with_rejected_inputs_is_silent_until_the_idle_timeout() -> None:
    form = [control("text-input", "text", required=True), control("text-input", "other", required=True)]
    async with dify("workflow", form=form, stream_idle_timeout_s=0.1) as (fake, client):
        with pytest.raises(TransientWorkflowError, match="stream ended") as caught:
            await client.run({"text": "no other"}, user="u", trace_id="t")
    assert caught.value.run_id is None
    assert fake.runs == {}


async def test_a_blocking_run_with_rejected_inputs_is_permanent() -> None:
    form = [control("select", "text", options=["a", "b"], required=True)]
    async with dify("workflow", ResponseMode.BLOCKING, form=form) as (_, client):
        with pytest.raises(PermanentWorkflowError) as caught:
            await client.run({"text": "c"}, user="u", trace_id="t")
    assert str(caught.value) == "text in input form must be one of the following: ['a', 'b']"
    assert (caught.value.status, caught.value.code) == (400, "invalid_param")


async def test_fake_dify_runs_as_its_own_process_and_reports_its_counters() -> None:
    root = Path(__file__).resolve().parents[3]
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.fakes.dify", "--port", "0", "--latency", "0.01",
        cwd=root, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), 10)
        endpoint = json.loads(line)
        async with DifyClient(endpoint["base_url"], endpoint["api_key"], timeout_s=5) as client:
            result = await client.run({"text": "from afar"}, user="u", trace_id="b-1-1")
            async with httpx.AsyncClient() as plain:
                stats_url = endpoint["base_url"].removesuffix("/v1") + "/_fake/stats"
                stats = (await plain.get(stats_url)).json()
    finally:
        process.terminate()
        await process.wait()
    assert result.outputs == {"result": "from afar ✓", "length": 9}
    assert stats["runs_by_key"] == {"from afar": 1}
    assert stats["succeeded_by_key"] == {"from afar": 1}
    assert stats["runs_by_trace"] == {"b-1-1": 1}


async def test_fake_dify_accepts_one_uploaded_file_like_dify() -> None:
    async with dify("workflow") as (fake, _), httpx.AsyncClient(base_url=fake.base_url + "/") as plain:
        auth = {"Authorization": f"Bearer {fake.api_key}"}
        files = {"file": ("报告.pdf", b"%PDF-1.7 test", "application/pdf")}
        created = await plain.post("files/upload", headers=auth, files=files, data={"user": "u"})
        empty = await plain.post("files/upload", headers=auth, data={"user": "u"}, files={"other": b"x"})
        anonymous = await plain.post("files/upload", files=files)
    assert created.status_code == 201
    assert {k: created.json()[k] for k in ("name", "size", "extension")} == {
        "name": "报告.pdf",
        "size": 13,
        "extension": "pdf",
    }
    assert (empty.status_code, empty.json()["code"]) == (400, "no_file_uploaded")
    assert anonymous.status_code == 401
    assert len(fake.uploads) == 1
