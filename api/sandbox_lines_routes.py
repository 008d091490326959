"""The sandbox line server: what the sandbox provisioner points each line's server URL at,
so the real HTTP health probe works in the embedded default too."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from api.bootstrap import Services
from api.responses import JSON


async def line_health(request: Request) -> Response:
    services: Services = request.app.state.services
    up, _ = await run_in_threadpool(services.sandbox_lines.status, request.path_params["id"])
    return JSON({"status": "ok" if up else "down"}, status_code=200 if up else 503)


async def imessage_status(request: Request) -> Response:
    services: Services = request.app.state.services
    up, imessage = await run_in_threadpool(services.sandbox_lines.status, request.path_params["id"])
    if not up:
        return JSON({"status": "down"}, status_code=503)
    return JSON({"available": imessage})


routes = [
    Route("/sandbox/lines/{id}/health", line_health, methods=["GET"]),
    Route("/sandbox/lines/{id}/imessage/status", imessage_status, methods=["GET"]),
]
