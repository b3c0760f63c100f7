"""The daemon's small HTTP server: /healthz, /readyz, /metrics, and the routes chat
adapters mount (Slack's /slack/events, Telegram's /telegram/webhook)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable

from aiohttp import web

from bot.ops.health import Health

log = logging.getLogger(__name__)

Scrape = Callable[[], Awaitable[bytes]]
"""The metrics in Prometheus' text exposition format."""
Probe = Callable[[], Awaitable[None]]
"""Raises when the database cannot be reached."""


def build_app(
    scrape: Scrape, content_type: str, health: Health, database: Probe, routes: Iterable[web.RouteDef]
) -> web.Application:
    app = web.Application(client_max_size=32 * 1024 * 1024)

    async def healthz(_: web.Request) -> web.Response:
        problems = health.problems()
        try:
            await database()
        except Exception as exc:
            # the exception's text may carry the URL; its type is enough to say what broke
            problems.insert(0, f"database: unreachable ({type(exc).__name__})")
        if problems:
            return web.json_response({"ok": False, "problems": problems}, status=503)
        return web.json_response({"ok": True})

    async def readyz(_: web.Request) -> web.Response:
        if not health.ready:
            return web.json_response({"ready": False, "reason": "starting"}, status=503)
        return web.json_response({"ready": True})

    async def metrics_page(_: web.Request) -> web.Response:
        body = await scrape()
        # aiohttp refuses a content_type with parameters; the header is set whole instead
        return web.Response(body=body, headers={"Content-Type": content_type})

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics_page)
    app.router.add_routes(list(routes))
    return app


class HttpServer:
    """An aiohttp site bound to host:port (port 0 picks a free one, for tests)."""

    def __init__(self, app: web.Application, host: str, port: int) -> None:
        self._runner = web.AppRunner(app, access_log=None)
        self.host = host
        self.port = port

    async def start(self) -> None:
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        # with port 0 the bound port is only known from the runner's addresses
        self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        await self._runner.cleanup()
