"""FakeSlack against the real slack_sdk clients and slack-bolt AsyncApp (Socket Mode and HTTP)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from tests.fakes.slack import FakeSlack

XLSX = b"PK\x03\x04 pretend workbook bytes"


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack.running(ack_timeout=1.0) as fake:
        yield fake


def web_client(slack: FakeSlack, token: str | None = None) -> AsyncWebClient:
    return AsyncWebClient(token=token or slack.bot_token, base_url=slack.api_base)


async def fetch(url: str, token: str | None) -> tuple[str, bytes]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with aiohttp.ClientSession() as s, s.get(url, headers=headers) as resp:
        assert resp.status == 200
        return resp.content_type, await resp.read()


# Web API ---------------------------------------------------------------------------------------


async def test_auth_and_tokens(slack: FakeSlack) -> None:
    client = web_client(slack)
    me = await client.auth_test()
    assert (me["user_id"], me["bot_id"], me["team_id"]) == (slack.bot_user_id, slack.bot_id, slack.team_id)
    with pytest.raises(SlackApiError) as bad:
        await web_client(slack, "xoxb-wrong").auth_test()
    assert bad.value.response["error"] == "invalid_auth"
    with pytest.raises(SlackApiError) as unknown:
        await client.api_call("nothing.here")
    assert unknown.value.response["error"] == "unknown_method"
    with pytest.raises(SlackApiError) as wrong_type:
        await client.apps_connections_open(app_token=slack.bot_token)
    assert wrong_type.value.response["error"] == "not_allowed_token_type"
    opened = await client.apps_connections_open(app_token=slack.app_token)
    assert opened["url"].startswith(slack.base_url.replace("http", "ws") + "/link/?ticket=")
    assert slack.calls("apps.connections.open")[-1].token == slack.app_token


async def test_post_update_ephemeral_and_dm(slack: FakeSlack) -> None:
    client = web_client(slack)
    general = slack.channel("general", members=("alice",))
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*0/10*"}}]
    posted = await client.chat_postMessage(channel=general, text="progress 0/10", blocks=blocks)
    reply = await client.chat_postMessage(channel=general, text="in thread", thread_ts=posted["ts"])
    assert reply["ts"] > posted["ts"]
    await client.chat_update(channel=general, ts=posted["ts"], text="progress 5/10")
    msg = slack.message(posted["ts"])
    assert (msg.text, msg.blocks) == ("progress 5/10", None)  # text-only update drops the blocks
    await client.chat_update(channel=general, ts=posted["ts"], text="done", blocks=blocks)
    assert slack.update_count(posted["ts"]) == 2
    assert len(slack.update_times(posted["ts"])) == 2
    assert [m.text for m in slack.messages(general)] == ["done", "in thread"]
    assert [m.text for m in slack.messages(general, thread_ts=posted["ts"])] == ["in thread"]
    with pytest.raises(SlackApiError) as missing:
        await client.chat_update(channel=general, ts="1.000001", text="x")
    assert missing.value.response["error"] == "message_not_found"

    eph = await client.chat_postEphemeral(channel=general, user=slack.user("alice"), text="only you")
    assert slack.ephemerals(general, "alice")[0].ts == eph["message_ts"]
    dm = await client.conversations_open(users=slack.user("bob"))
    assert dm["channel"]["id"] == slack.dm("bob")
    assert dm["channel"]["is_im"]
    await client.chat_postMessage(channel=dm["channel"]["id"], text="hi bob")
    assert f"{slack.messages(slack.dm('bob'))[0].ts} difybatch: hi bob" in slack.transcript(slack.dm("bob"))

    outside = slack.channel("random", bot_member=False)
    with pytest.raises(SlackApiError) as not_in:
        await client.chat_postMessage(channel=outside, text="x")
    assert not_in.value.response["error"] == "not_in_channel"
    unheard = await slack.post_message("alice", outside, "@bot anyone?", wait=False)
    assert unheard.deliveries == []  # no events from conversations the bot is not in
    transcript = slack.transcript(general)
    assert transcript[0].endswith("difybatch: done (edited x2)")
    assert f"[thread {posted['ts']}] difybatch: in thread" in transcript[1]


async def test_files_upload_v2_end_to_end(slack: FakeSlack) -> None:
    client = web_client(slack)
    chan = slack.channel("reports")
    parent = await client.chat_postMessage(channel=chan, text="batch 7f3a2c")
    done = await client.files_upload_v2(channel=chan, thread_ts=parent["ts"], content=XLSX,
                                        filename="results.xlsx", initial_comment="<@U1> your results")
    assert done["file"]["name"] == "results.xlsx"
    step1 = slack.calls("files.getUploadURLExternal")[0]
    assert step1.args == {"filename": "results.xlsx", "length": str(len(XLSX))}
    step3 = slack.calls("files.completeUploadExternal")[0]
    assert json.loads(step3.args["files"])[0]["id"] == done["file"]["id"]
    [uploaded] = await slack.wait_for(lambda: slack.uploaded_files(chan))
    assert (uploaded.data, uploaded.name, uploaded.thread_ts, uploaded.initial_comment) == (
        XLSX, "results.xlsx", parent["ts"], "<@U1> your results")
    info = await client.files_info(file=uploaded.id)
    url = info["file"]["url_private_download"]
    assert await fetch(url, slack.bot_token) == (uploaded.mimetype, XLSX)
    ctype, page = await fetch(url, None)
    assert ctype == "text/html"
    assert b"Sign in" in page
    assert (await fetch(url, "xoxb-other"))[0] == "text/html"
    with pytest.raises(SlackApiError) as gone:
        await client.files_info(file="F404")
    assert gone.value.response["error"] == "file_not_found"
    slack.fail("upload", "storage down", status=500)
    with pytest.raises(SlackRequestError, match="status: 500"):
        await client.files_upload_v2(channel=chan, content=b"x", filename="again.csv")
    assert len(slack.uploaded_files()) == 1  # the half-done upload was never completed


async def test_response_url_posts(slack: FakeSlack) -> None:
    client = SocketModeClient(app_token=slack.app_token, web_client=web_client(slack))
    commands: list[dict[str, Any]] = []

    async def ack(c: Any, req: SocketModeRequest) -> None:
        commands.append(req.payload)
        await c.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))

    client.socket_mode_request_listeners.append(ack)
    try:
        await client.connect()
        chan = slack.channel("general", members=("alice",))
        await slack.slash_command("alice", chan, "status")
    finally:
        await client.close()
    hook = AsyncWebhookClient(commands[0]["response_url"])
    assert (await hook.send(text="just for you")).status_code == 200
    assert (await hook.send(text="for everyone", response_type="in_channel")).status_code == 200
    assert [m.text for m in slack.ephemerals(chan, "alice")] == ["just for you"]
    assert [m.text for m in slack.messages(chan)] == ["for everyone"]
    for _ in range(3):
        await hook.send(text="more")
    assert (await hook.send(text="sixth")).status_code == 404  # a response_url takes 5 posts


async def test_rate_limit_is_retried_by_slack_sdk(slack: FakeSlack) -> None:
    chan = slack.channel("general")
    slack.rate_limit("chat.postMessage", retry_after=0)
    plain = web_client(slack)
    with pytest.raises(SlackApiError) as limited:
        await plain.chat_postMessage(channel=chan, text="x")
    assert limited.value.response.status_code == 429
    assert limited.value.response["error"] == "ratelimited"
    assert limited.value.response.headers["Retry-After"] == "0"

    slack.rate_limit("chat.postMessage", retry_after=0)
    patient = web_client(slack)
    patient.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=2))
    ok = await patient.chat_postMessage(channel=chan, text="after retry")
    assert ok["ok"]
    assert [c.status for c in slack.calls("chat.postMessage")] == [429, 429, 200]


async def test_faults_flood_and_slowness(slack: FakeSlack) -> None:
    client = web_client(slack)
    chan = slack.channel("general")
    slack.fail("chat.postMessage", "not_in_channel")
    with pytest.raises(SlackApiError) as failed:
        await client.chat_postMessage(channel=chan, text="x")
    assert failed.value.response["error"] == "not_in_channel"
    slack.flood("*", calls=2, retry_after=1)
    for _ in range(2):
        with pytest.raises(SlackApiError):
            await client.auth_test()
    assert (await client.auth_test())["ok"]
    posted = await client.chat_postMessage(channel=chan, text="x")
    slack.flood("chat.update", seconds=0.5)
    with pytest.raises(SlackApiError):
        await client.chat_update(channel=chan, ts=posted["ts"], text="y")
    await asyncio.sleep(0.55)
    await client.chat_update(channel=chan, ts=posted["ts"], text="y")
    slack.slow("auth.test", 0.3)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await client.auth_test()
    assert loop.time() - started >= 0.3


# Socket Mode with slack-bolt --------------------------------------------------------------------


def build_bolt_app(slack: FakeSlack, seen: dict[str, Any], **kwargs: Any) -> AsyncApp:
    app = AsyncApp(client=web_client(slack), **kwargs)

    @app.command("/difybatch")
    async def command(ack: Any, command: dict[str, Any], client: AsyncWebClient) -> None:
        await ack(f"on it: {command['text']}")
        seen["command"] = command
        buttons = {"type": "actions", "block_id": "ctl", "elements": [
            {"type": "button", "action_id": "job_pause", "value": "7f3a2c",
             "text": {"type": "plain_text", "text": "Pause"}}]}
        posted = await client.chat_postMessage(channel=command["channel_id"], text="0/3", blocks=[buttons])
        seen["progress_ts"] = posted["ts"]

    @app.message()
    async def message(message: dict[str, Any], client: AsyncWebClient) -> None:
        for f in message.get("files", []):
            seen["download"] = await fetch(f["url_private_download"], slack.bot_token)
        seen.setdefault("messages", []).append(message)

    @app.event("app_mention")
    async def mention(event: dict[str, Any]) -> None:
        seen["mention"] = event

    @app.event("file_shared")
    async def file_shared() -> None:
        pass  # Slack sends it next to the file_share message; unhandled it would be redelivered

    @app.action("job_pause")
    async def pause(ack: Any, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        seen["action"] = body
        await client.chat_update(channel=body["channel"]["id"], ts=body["container"]["message_ts"],
                                 text=f"paused {action['value']}", blocks=[])

    return app


async def test_bolt_socket_mode_command_file_and_button(slack: FakeSlack) -> None:
    seen: dict[str, Any] = {}
    handler = AsyncSocketModeHandler(build_bolt_app(slack, seen), slack.app_token)
    try:
        await handler.connect_async()
        await slack.wait_connected()
        chan = slack.channel("general")
        d = await slack.slash_command("alice", chan, "run summarize")
        assert d.acked
        assert d.ack_seconds is not None
        assert d.ack_seconds <= 3.0
        assert d.response == {"text": "on it: run summarize"}
        assert seen["command"]["user_id"] == slack.user("alice")
        ts = await slack.wait_for(lambda: seen.get("progress_ts"))
        assert slack.ephemerals(chan, "alice")[0].text == "on it: run summarize"

        up = await slack.upload_file("alice", chan, XLSX, "rows.xlsx", text="run summarize")
        assert all(d.acked for d in up.deliveries)
        await slack.wait_for(lambda: "download" in seen)
        assert seen["download"][1] == XLSX
        event = seen["messages"][0]
        assert event["subtype"] == "file_share"
        assert event["files"][0]["filetype"] == "xlsx"
        assert event["files"][0]["size"] == len(XLSX)

        click = await slack.click_button("alice", chan, ts, "job_pause")
        assert click.acked
        await slack.wait_for(lambda: slack.update_count(ts) == 1)
        assert slack.message(ts).text == "paused 7f3a2c"
        assert seen["action"]["message"]["ts"] == ts
        assert seen["action"]["container"] == {"type": "message", "message_ts": ts, "channel_id": chan,
                                               "is_ephemeral": False}
        with pytest.raises(AssertionError):
            await slack.click_button("alice", chan, ts, "job_pause")  # the edit removed the button

        said = await slack.post_message("bob", chan, "hey @bot status")
        assert len(said.deliveries) == 2
        assert all(d.acked for d in said.deliveries)
        await slack.wait_for(lambda: "mention" in seen)
        assert seen["mention"]["text"] == f"hey <@{slack.bot_user_id}> status"
        # the bot's own posts came back as events too, and bolt acked them without running listeners
        own = [d for d in slack.deliveries if d.payload.get("event", {}).get("bot_id") == slack.bot_id]
        assert own
        await slack.wait_for(lambda: all(d.settled.is_set() for d in own))
        assert all(d.acked for d in own)
        assert all(m.get("bot_id") is None for m in seen["messages"])
    finally:
        await handler.close_async()


async def test_late_ack_causes_redelivery() -> None:
    async with FakeSlack.running(ack_timeout=0.5, retry_delays=(0.0, 0.0)) as slack:
        envelopes: list[SocketModeRequest] = []

        async def listener(client: Any, req: SocketModeRequest) -> None:
            envelopes.append(req)
            if req.retry_attempt == 0:
                await asyncio.sleep(0.8)  # too late: Slack has already given up on this envelope
            await client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))

        client = SocketModeClient(app_token=slack.app_token, web_client=web_client(slack))
        client.socket_mode_request_listeners.append(listener)
        try:
            await client.connect()
            d = await slack.send_event({"type": "app_home_opened", "user": slack.user("alice")})
            await slack.wait_for(lambda: len(slack.acks) == 2)
        finally:
            await client.close()
        assert [e.retry_attempt for e in envelopes] == [0, 1]
        assert [e.retry_reason for e in envelopes] == ["", "timeout"]
        assert envelopes[0].payload["event_id"] == envelopes[1].payload["event_id"]
        assert len(set(d.envelope_ids)) == 2
        first, second = d.attempts
        assert first.timed_out
        assert first.late
        assert not second.late
        assert d.ack is second


async def test_unacked_slash_command_is_not_redelivered() -> None:
    async with FakeSlack.running(ack_timeout=0.2) as slack:
        client = SocketModeClient(app_token=slack.app_token, web_client=web_client(slack))
        try:
            await client.connect()
            d = await slack.slash_command("alice", "general", "status")
        finally:
            await client.close()
        assert not d.acked
        assert len(d.attempts) == 1
        await slack.wait_for(lambda: any("operation_timeout" in line for line in slack.transcript("general")))


async def test_disconnect_and_drop_reconnect(slack: FakeSlack) -> None:
    seen: dict[str, Any] = {}
    handler = AsyncSocketModeHandler(build_bolt_app(slack, seen), slack.app_token)
    try:
        await handler.connect_async()
        await slack.wait_connected(1)
        assert await slack.request_reconnect(close_after=0.5) == 1
        await slack.wait_connected(2)
        await slack.wait_for(lambda: slack.open_connections == 1)
        assert len(slack.calls("apps.connections.open")) == 2
        await slack.drop_connections()
        await slack.wait_connected(3)
        d = await slack.slash_command("alice", "general", "status")
        assert d.acked
    finally:
        await handler.close_async()


# HTTP mode --------------------------------------------------------------------------------------


async def serve(handler: Any) -> tuple[web.AppRunner, str]:
    app = web.Application()
    app.router.add_post("/slack/events", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}/slack/events"


async def test_bolt_http_mode_signatures(slack: FakeSlack) -> None:
    seen: dict[str, Any] = {}
    bolt = build_bolt_app(slack, seen, signing_secret=slack.signing_secret)

    async def events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

    runner, url = await serve(events)
    try:
        slack.use_http(url)
        assert await slack.url_verification()
        d = await slack.slash_command("alice", "general", "run summarize")
        assert d.acked
        assert d.attempts[0].status == 200
        assert d.response == {"text": "on it: run summarize"}
        ts = await slack.wait_for(lambda: seen.get("progress_ts"))
        click = await slack.click_button("alice", "general", ts, "job_pause")
        assert click.acked
        await slack.wait_for(lambda: slack.message(ts).text == "paused 7f3a2c")
        for bad in ("bad", "stale"):
            slack.signature = bad
            rejected = await slack.slash_command("alice", "general", "status")
            assert not rejected.acked
            assert [a.status for a in rejected.attempts] == [401]
    finally:
        await runner.cleanup()


async def test_http_events_are_retried_with_retry_headers() -> None:
    received: list[dict[str, str]] = []

    async def flaky(request: web.Request) -> web.Response:
        body = await request.text()
        ok = SignatureVerifier(slack.signing_secret).is_valid(
            body, request.headers["X-Slack-Request-Timestamp"], request.headers["X-Slack-Signature"])
        received.append({**request.headers, "valid": str(ok)})
        if len(received) == 2:
            await asyncio.sleep(0.8)  # past the ack timeout
        return web.Response(status=500 if len(received) == 1 else 200)

    runner, url = await serve(flaky)
    try:
        async with FakeSlack.running(mode="http", events_url=url, ack_timeout=0.5,
                                     retry_delays=(0.0, 0.0)) as slack:
            d = await slack.send_event({"type": "app_home_opened", "user": "U1"})
            await asyncio.sleep(0.5)  # let the slow handler finish before the server goes
    finally:
        await runner.cleanup()
    assert [a.status for a in d.attempts] == [500, None, 200]
    assert d.attempts[1].timed_out
    assert d.acked
    assert [r["valid"] for r in received] == ["True", "True", "True"]
    assert "X-Slack-Retry-Num" not in received[0]
    retries = [(r["X-Slack-Retry-Num"], r["X-Slack-Retry-Reason"]) for r in received[1:]]
    assert retries == [("1", "http_error"), ("2", "http_timeout")]


async def test_wait_for_times_out_with_transcript(slack: FakeSlack) -> None:
    await web_client(slack).chat_postMessage(channel=slack.channel("general"), text="hello")
    with pytest.raises(TimeoutError, match="difybatch: hello"):
        await slack.wait_for(lambda: False, timeout=0.1)
