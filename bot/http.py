"""The daemon's small HTTP server: /healthz, /metrics, and the routes chat adapters mount
(Slack's /slack/events, Telegram's /telegram/webhook)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable

from aiohttp import web

Metrics = Callable[[], Awaitable[dict[str, float]]]


def build_app(metrics: Metrics, routes: Iterable[web.RouteDef]) -> web.Application:
    app = web.Application(client_max_size=32 * 1024 * 1024)

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    async def metrics_page(_: web.Request) -> web.Response:
        # Prometheus text format, so any scraper can read it without a client library
        lines = [f"dify_batch_{name} {value:g}" for name, value in sorted((await metrics()).items())]
        return web.Response(text="\n".join(lines) + "\n", content_type="text/plain")

    app.router.add_get("/healthz", healthz)
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
