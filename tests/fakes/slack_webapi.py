"""FakeSlack's Web API (`/api/{method}`), upload URLs, url_private downloads and response_url."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from multidict import MultiDictProxy

from tests.fakes.slack_state import SIGN_IN_PAGE, ApiCall, Fault, FileObj, Message, World

Handler = Callable[[dict[str, Any], str], Awaitable[dict[str, Any]]]


class SlackApiError(Exception):
    """An `ok: false` answer; the handler raises it and the dispatcher renders it."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


def _json_arg(value: Any) -> Any:
    # form and query callers send blocks/files as JSON strings, JSON callers as objects
    if isinstance(value, str) and value[:1] in "[{":
        return json.loads(value)
    return value


async def read_args(request: web.Request) -> dict[str, Any]:
    args: dict[str, Any] = dict(request.query)
    if request.content_type == "application/json":
        raw = await request.read()
        if raw:
            args.update(json.loads(raw))
    elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form: MultiDictProxy[Any] = await request.post()
        for key, value in form.items():
            args[key] = value.file.read() if isinstance(value, web.FileField) else value
    return args


class WebApi:
    """Routes and handlers; `on_bot_message` lets the fake echo the bot's own posts as events."""

    def __init__(self, world: World, *, bot_token: str, app_token: str, app_id: str,
                 new_ws_url: Callable[[], str], on_bot_message: Callable[[Message], None],
                 on_file_shared: Callable[[FileObj, Message], None], share_delay: float) -> None:
        self.world = world
        self.bot_token = bot_token
        self.app_token = app_token
        self.app_id = app_id
        self.base_url = ""  # set once the server has a port
        self._new_ws_url = new_ws_url
        self._on_bot_message = on_bot_message
        self._on_file_shared = on_file_shared
        self.share_delay = share_delay
        self.responses: dict[str, dict[str, Any]] = {}  # response_url id -> context
        self._tasks: set[asyncio.Task[None]] = set()
        self.handlers: dict[str, Handler] = {
            "auth.test": self.auth_test,
            "apps.connections.open": self.connections_open,
            "chat.postMessage": self.post_message,
            "chat.update": self.update,
            "chat.postEphemeral": self.post_ephemeral,
            "chat.delete": self.delete,
            "conversations.open": self.conversations_open,
            "conversations.info": self.conversations_info,
            "users.info": self.users_info,
            "files.info": self.files_info,
            "files.getUploadURLExternal": self.get_upload_url,
            "files.completeUploadExternal": self.complete_upload,
        }

    def add_routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/api/{method}", self.dispatch)
        app.router.add_post("/upload/{file_id}", self.upload)
        app.router.add_get("/files-pri/{key}/{name}", self.download)
        app.router.add_get("/files-pri/{key}/download/{name}", self.download)
        app.router.add_post("/response/{rid}", self.response_url)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    # dispatch and faults ----------------------------------------------------------------------
    async def dispatch(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = await read_args(request)
        auth = request.headers.get("Authorization", "")
        token = auth[7:] if auth.startswith("Bearer ") else args.pop("token", None)
        args.pop("token", None)
        call = ApiCall(method, args, token, time.monotonic())
        self.world.calls_log.append(call)
        self.world.touch()
        fault = await self._take_fault(method)
        if fault is not None and (fault.error or fault.status != 200):
            return self._fault_response(call, fault)
        handler = self.handlers.get(method)
        try:
            if handler is None:
                raise SlackApiError("unknown_method")
            self._check_token(method, token)
            body = await handler(args, token or "")
        except SlackApiError as e:
            call.error = e.error
            body = {"ok": False, "error": e.error}
        self.world.touch()
        return web.json_response(body)

    async def _take_fault(self, method: str) -> Fault | None:
        now = time.monotonic()
        for flood in self.world.floods:
            # uploads go to another host (files.slack.com), so a "*" flood of the Web API spares them
            if (flood.method == method or (flood.method == "*" and method != "upload")) and flood.active(now):
                if flood.calls is not None:
                    flood.calls -= 1
                return Fault(error="ratelimited", status=429, retry_after=flood.retry_after)
        for key in (method, "*"):
            queue = self.world.faults.get(key)
            if queue:
                fault = queue.popleft()
                if fault.delay:
                    await asyncio.sleep(fault.delay)
                return fault
        return None

    def _fault_response(self, call: ApiCall, fault: Fault) -> web.Response:
        call.status, call.error = fault.status, fault.error
        headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
        body = {"ok": False, "error": fault.error or "fatal_error"}
        return web.json_response(body, status=fault.status, headers=headers)

    def _check_token(self, method: str, token: str | None) -> None:
        if not token:
            raise SlackApiError("not_authed")
        if token not in (self.app_token, self.bot_token):
            raise SlackApiError("invalid_auth")
        if (method == "apps.connections.open") != token.startswith("xapp-"):
            raise SlackApiError("not_allowed_token_type")

    # methods ----------------------------------------------------------------------------------
    async def auth_test(self, args: dict[str, Any], token: str) -> dict[str, Any]:
        w = self.world
        return {"ok": True, "url": "https://fake-workspace.slack.com/", "team": "Fake Workspace",
                "user": w.users[w.bot_user_id].name, "team_id": w.team_id, "user_id": w.bot_user_id,
                "bot_id": w.bot_id, "is_enterprise_install": False}

    async def connections_open(self, args: dict[str, Any], token: str) -> dict[str, Any]:
        return {"ok": True, "url": self._new_ws_url()}

    def _channel(self, args: dict[str, Any], key: str = "channel") -> Any:
        ref = args.get(key)
        if not ref:
            raise SlackApiError("channel_not_found")
        chan = self.world.find_channel(str(ref))
        if chan is None:
            raise SlackApiError("channel_not_found")
        if self.world.bot_user_id not in chan.members:
            raise SlackApiError("not_in_channel")
        return chan

    async def post_message(self, args: dict[str, Any], token: str) -> dict[str, Any]:
        chan = self._channel(args)
        text, blocks = args.get("text"), _json_arg(args.get("blocks"))
        if not text and not blocks:
            raise SlackApiError("no_text")
        w = self.world
        msg = w.add_message(Message(chan.id, w.new_ts(), w.bot_user_id, str(text or ""), blocks,
                                    thread_ts=args.get("thread_ts") or None, is_bot=True))
        self._on_bot_message(msg)
        return {"ok": True, "channel": chan.id, "ts": msg.ts, "message": msg.to_api(w.bot_id, w.team_id)}

    def _bot_message(self, chan_id: str, ts: Any) -> Message:
        msg = self.world.by_ts.get(str(ts or ""))
        if msg is None or msg.channel != chan_id or msg.deleted or msg.ephemeral_to:
            raise SlackApiError("message_not_found")
        if not msg.is_bot:
            raise SlackApiError("cant_update_message")
        return msg

    async def update(self, args: dict[str, Any], token: str) -> dict[str, Any]:
        chan = self._channel(args)
        msg = self._bot_message(chan.id, args.get("ts"))
        text, blocks = args.get("text"), _json_arg(args.get("blocks"))
        if text is None and blocks is None:
            raise SlackApiError("no_text")
        # Slack drops the old blocks when only text is sent; an update must carry them again
        msg.blocks = blocks
        if text is not None:
            msg.text = str(text)
        msg.update_times.append(time.monotonic())
        w = self.world
        return {"ok": True, "channel": chan.id, "ts": msg.ts, "text": msg.text,
                "message": msg.to_api(w.bot_id, w.team_id)}

    async def delete(self, args: dict[str, Any], token: str) -> dict[str, Any]:
        chan = self._channel(args)
        msg = self._bot_message(chan.id, args.get("ts"))
        msg.deleted = True
        return {"ok": True, "channel": chan.id, "ts": msg.ts}

    async def post_ephemeral(self, args: dict[str, Any], token: str) -> dict[str, Any]:
        chan = self._channel(args)
        user = str(args.get("user") or "")
        if user not in self.world.users:
            raise SlackApiError("user_not_found")
        if user not in chan.members:
            raise SlackApiError("user_not_in_channel")
        text, blocks = args.get("text"), _json_arg(args.get("blocks"))
        if not text and not blocks:
            raise SlackApiError("no_text")
        w = self.world
        msg = w.add_message(Message(chan.id, w.new_ts(), w.bot_user_id, str(text or ""), blocks,
                                    thread_ts=args.get("thread_ts") or None, is_bot=True,
                                    ephemeral_to=user, source="chat.postEphemeral"))
        return {"ok": True, "message_ts": msg.ts}

    async def conversations_open(self, args: dict[str, Any], token: str) -> dict[str, Any]:
        if args.get("channel"):
            chan = self._channel(args)
        else:
            users = [u for u in str(args.get("users") or "").split(",") if u]
            if len(users) != 1:
                raise SlackApiError("users_list_not_supplied" if not users else "not_enough_users")
            if users[0] not in self.world.users:
                raise SlackApiError("user_not_found")
            chan = self.world.dm(users[0])
        return {"ok": True, "channel": self._conversation(chan.id)}

    def _conversation(self, chan_id: str) -> dict[str, Any]:
        c = self.world.channels[chan_id]
        info: dict[str, Any] = {"id": c.id, "name": c.name, "is_channel": c.kind == "channel",
                                "is_group": c.kind == "group", "is_im": c.kind == "im",
                                "is_private": c.kind != "channel", "is_member": True}
        if c.kind == "im":
            info["user"] = next(u for u in c.members if u != self.world.bot_user_id)
        return info

    async def conversations_info(self, args: dict[str, Any], token: str) -> dict[str, Any]:
        chan = self.world.find_channel(str(args.get("channel") or ""))
        if chan is None:
            raise SlackApiError("channel_not_found")
        return {"ok": True, "channel": self._conversation(chan.id)}

    async def users_info(self, args: dict[str, Any], token: str) -> dict[str, Any]:
        u = self.world.users.get(str(args.get("user") or ""))
        if u is None:
            raise SlackApiError("user_not_found")
        user: dict[str, Any] = {
            "id": u.id, "name": u.name, "real_name": u.name.title(), "team_id": self.world.team_id,
            "is_bot": u.is_bot, "tz": "UTC",
            "profile": {"display_name": u.name, "real_name": u.name.title()},
        }
        # like Slack: the locale only when asked for (a bool sent as form or JSON)
        if str(args.get("include_locale", "")).lower() in ("true", "1"):
            user["locale"] = u.locale
        self.world.locale_lookups += 1
        return {"ok": True, "user": user}

    async def files_info(self, args: dict[str, Any], token: str) -> dict[str, Any]:
        f = self.world.files.get(str(args.get("file") or ""))
        if f is None or f.data is None:
            raise SlackApiError("file_not_found")
        return {"ok": True, "file": self.world.file_object(f, self.base_url)}

    async def get_upload_url(self, args: dict[str, Any], token: str) -> dict[str, Any]:
        filename, length = args.get("filename"), args.get("length")
        if not filename or length is None or not str(length).isdigit():
            raise SlackApiError("invalid_arguments")
        ftype = str(filename).rsplit(".", 1)[-1].lower() if "." in str(filename) else "binary"
        f = FileObj(self.world.new_id("F"), str(filename), str(filename), ftype, self.world.bot_user_id,
                    declared_length=int(length))
        self.world.files[f.id] = f
        return {"ok": True, "upload_url": f"{self.base_url}/upload/{f.id}", "file_id": f.id}

    async def complete_upload(self, args: dict[str, Any], token: str) -> dict[str, Any]:
        items = _json_arg(args.get("files"))
        if not isinstance(items, list) or not items:
            raise SlackApiError("invalid_arguments")
        files: list[FileObj] = []
        for item in items:
            f = self.world.files.get(str(item.get("id")))
            if f is None or f.data is None:
                raise SlackApiError("file_not_found")
            if item.get("title"):
                f.title = str(item["title"])
            files.append(f)
        targets = [str(args["channel_id"])] if args.get("channel_id") else []
        targets += [c for c in str(args.get("channels") or "").split(",") if c]
        chans = [self._channel({"channel": t}) for t in targets]
        thread_ts = args.get("thread_ts") or None
        comment = str(args.get("initial_comment") or "")
        for f in files:
            f.thread_ts, f.initial_comment, f.completed = thread_ts, comment or None, True
            f.channels.extend(c.id for c in chans)
        for chan in chans:
            self._spawn(self._share(chan.id, files, thread_ts, comment))
        return {"ok": True, "files": [self.world.file_object(f, self.base_url) for f in files]}

    def _spawn(self, coro: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _share(self, chan_id: str, files: list[FileObj], thread_ts: str | None, comment: str) -> None:
        # Slack shares the file asynchronously: the message shows up a moment after the call returns
        if self.share_delay:
            await asyncio.sleep(self.share_delay)
        w = self.world
        msg = w.add_message(Message(chan_id, w.new_ts(), w.bot_user_id, comment, None, thread_ts=thread_ts,
                                    is_bot=True, files=[f.id for f in files], source="upload"))
        for f in files:
            self._on_file_shared(f, msg)

    # non-API routes ---------------------------------------------------------------------------
    async def upload(self, request: web.Request) -> web.Response:
        f = self.world.files.get(request.match_info["file_id"])
        fault = await self._take_fault("upload")
        if fault is not None and (fault.error or fault.status != 200):
            return web.Response(status=fault.status if fault.status != 200 else 500, text=fault.error or "")
        if f is None:
            return web.Response(status=404, text="file not found")
        if request.content_type == "multipart/form-data":
            form = await request.post()
            part = next((v for v in form.values() if isinstance(v, web.FileField)), None)
            data = part.file.read() if part is not None else b""
        else:
            data = await request.read()
        f.data = data
        self.world.touch()
        return web.Response(text=f"OK - {len(data)}", content_type="text/plain")

    async def download(self, request: web.Request) -> web.Response:
        key = request.match_info["key"]
        f = self.world.files.get(key.rsplit("-", 1)[-1])
        auth = request.headers.get("Authorization", "")
        if f is None or f.data is None or auth != f"Bearer {self.bot_token}":
            # the real trap: no error status, just a sign-in page
            return web.Response(text=SIGN_IN_PAGE, content_type="text/html")
        return web.Response(body=f.data, content_type=f.mimetype,
                            headers={"Content-Disposition": f'attachment; filename="{f.name}"'})

    async def response_url(self, request: web.Request) -> web.Response:
        ctx = self.responses.get(request.match_info["rid"])
        if ctx is None or ctx["uses"] >= 5:
            return web.Response(status=404, text="used_url")
        ctx["uses"] += 1
        body = json.loads(await request.read() or b"{}")
        ctx["posts"].append(body)
        self.apply_response(ctx, body, source="response_url")
        return web.Response(text="ok", content_type="text/plain")

    def apply_response(self, ctx: dict[str, Any], body: dict[str, Any], *, source: str) -> None:
        """What Slack does with a slash-command ack body or a response_url post."""
        w = self.world
        original = w.by_ts.get(ctx.get("message_ts") or "")
        if body.get("delete_original") and original is not None:
            original.deleted = True
        elif body.get("replace_original") and original is not None:
            original.text = str(body.get("text", original.text))
            original.blocks = body.get("blocks")
            original.update_times.append(time.monotonic())
        elif body.get("text") or body.get("blocks"):
            in_channel = body.get("response_type") == "in_channel"
            w.add_message(Message(ctx["channel"], w.new_ts(), w.bot_user_id, str(body.get("text") or ""),
                                  body.get("blocks"), thread_ts=body.get("thread_ts"), is_bot=True,
                                  ephemeral_to=None if in_channel else ctx["user"], source=source))
        w.touch()
