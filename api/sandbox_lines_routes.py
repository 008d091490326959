"""The sandbox line server: what the sandbox provisioner points each line's server URL at,
so the real HTTP health probe works in the embedded default too."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from api.auth import Access
from api.bootstrap import Services
from api.operations import Operation
from api.responses import JSON
from api.schemas import ImessageAnswer, StatusAnswer


async def line_health(request: Request) -> Response:
    services: Services = request.app.state.services
    up, _ = await run_in_threadpool(services.sandbox_lines.status, request.path_params["id"])
    return JSON(StatusAnswer(status="ok" if up else "down"), status_code=200 if up else 503)


async def imessage_status(request: Request) -> Response:
    services: Services = request.app.state.services
    up, imessage = await run_in_threadpool(services.sandbox_lines.status, request.path_params["id"])
    if not up:
        return JSON(StatusAnswer(status="down"), status_code=503)
    return JSON(ImessageAnswer(available=imessage))


DOWN = {503: ("The sandbox line is down.", StatusAnswer)}

operations = [
    Operation(
        "GET", "/sandbox/lines/{id}/health", line_health, "sandboxLineHealth",
        "A sandbox line's server: health", "sandbox", Access.PUBLIC, StatusAnswer,
        other_answers=DOWN,
    ),
    Operation(
        "GET", "/sandbox/lines/{id}/imessage/status", imessage_status, "sandboxLineImessage",
        "A sandbox line's server: iMessage availability", "sandbox", Access.PUBLIC,
        ImessageAnswer, other_answers=DOWN,
    ),
]  # fmt: skip
