"""`GET /healthz` over HTTP: the renderer of `bot.health` for container probes and load balancers.

`health_handler` answers with the check's JSON body, 200 when healthy and 503 otherwise (also when
the check itself fails: a probe always gets an answer, never a traceback). The Slack adapter mounts
it on its own web server; `start_health_server` serves it alone on
`TRENDS_HEALTH_HOST:TRENDS_HEALTH_PORT` for `trends run` and `trends serve discord`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

log = logging.getLogger(__name__)

HEALTH_PATH = "/healthz"

# What `GET /healthz` reports: (healthy, JSON body); unhealthy answers 503.
HealthCheck = Callable[[], Awaitable[tuple[bool, dict[str, Any]]]]


def health_handler(check: HealthCheck) -> Callable[[web.Request], Awaitable[web.Response]]:
    """`GET /healthz` answered by `check`: 200 when healthy, 503 otherwise (also if the check fails)."""

    async def handle(request: web.Request) -> web.Response:
        try:
            healthy, body = await check()
        except Exception:  # a probe must get an answer, and never a traceback
            log.exception("health check failed")
            healthy, body = False, {"status": "unavailable"}
        return web.json_response(body, status=200 if healthy else 503)

    return handle


def health_app(check: HealthCheck) -> web.Application:
    app = web.Application()
    app.router.add_get(HEALTH_PATH, health_handler(check))
    return app


async def start_health_server(check: HealthCheck, host: str, port: int) -> web.AppRunner | None:
    """Listen on `host:port` (0: any free port); None, with an error logged, if the port is taken.

    A bot that cannot open its probe port keeps posting and answering: the failing probe and this
    log line tell the operator, rather than a bot that refuses to start over a monitoring port.
    """
    runner = web.AppRunner(health_app(check), access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError as exc:
        await runner.cleanup()
        log.error(
            "cannot serve /healthz: the address is not available (set TRENDS_HEALTH_PORT or "
            "TRENDS_HEALTH_HOST)",
            extra={"host": host, "port": port, "error": exc.strerror or type(exc).__name__},
        )
        return None
    log.info("health check listening", extra={"host": host, "port": runner.addresses[0][1]})
    return runner
