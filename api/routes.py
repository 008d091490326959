"""Line-request endpoints: parse, authenticate, call the application, render."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from api import parsing, render
from api.auth import Caller, authenticate, authenticate_async
from api.bootstrap import Services
from api.responses import JSON

T = TypeVar("T")


async def _call(request: Request, work: Callable[[Services, Caller, bytes], T]) -> T:
    """One hop to the thread pool: authentication and the command run there together."""
    body = await request.body() if request.method == "POST" else b""
    services: Services = request.app.state.services

    def run() -> T:
        return work(services, authenticate(request, services.keys, services.clerk), body)

    return await run_in_threadpool(run)


async def _caller(request: Request) -> tuple[Services, Caller]:
    services: Services = request.app.state.services
    return services, await authenticate_async(request, services.keys, services.clerk)


def _now(request: Request) -> Any:
    return request.app.state.services.clock.now()


async def create_line_request(request: Request) -> Response:
    """Parsed and authenticated in the event loop, decided in the next group commit; only
    an add-on's invoice (billing I/O) goes to the thread pool."""
    key = request.headers.get("idempotency-key")
    s, caller = await _caller(request)
    cmd = parsing.request_line(await request.body(), caller.workspace_id, caller.source, key)
    view, created = await s.requests.submit_request_async(cmd)
    if view.needs_invoice:
        view = await run_in_threadpool(s.requests.issue_invoice, view)
    view = await s.reads(s.requests.answer, view, created)
    return JSON(render.line_request(view, _now(request)), status_code=201)


async def get_line_request(request: Request) -> Response:
    s, caller = await _caller(request)
    request_id = parsing.request_id(request.path_params["id"])
    view = await s.reads(s.requests.get, caller.workspace_id, request_id)
    return JSON(render.line_request(view, _now(request)))


async def manage_line_request(request: Request) -> Response:
    def work(s: Services, caller: Caller, body: bytes) -> Any:
        request_id = parsing.request_id(request.path_params["id"])
        if parsing.action(body) == "cancel":
            return s.requests.cancel(caller.workspace_id, request_id, caller.actor)
        return s.requests.payment_link(caller.workspace_id, request_id)

    return JSON(render.line_request(await _call(request, work), _now(request)))


async def line_request_events(request: Request) -> Response:
    def work(s: Services, caller: Caller, _: bytes) -> Any:
        request_id = parsing.request_id(request.path_params["id"])
        s.app.line_request(request_id, caller.workspace_id)
        return s.app.history(request_id)

    events = await _call(request, work)
    return JSON({"events": [render.event(e) for e in events]})


async def lines_by_user(request: Request) -> Response:
    """Inline when the projection already holds every write (the usual case); only a wait
    for it goes to the thread pool."""
    s, caller = await _caller(request)
    views = await s.reads(s.requests.list_lines_now, caller.workspace_id)
    if views is None:
        views = await run_in_threadpool(s.requests.list_lines, caller.workspace_id)
    today = _now(request)
    return JSON({"lines": [render.line(v, today) for v in views]})


async def health(request: Request) -> Response:
    return JSON({"status": "ok"})


routes = [
    Route("/api/line-requests", create_line_request, methods=["POST"]),
    Route("/api/line-requests/{id}", get_line_request, methods=["GET"]),
    Route("/api/line-requests/{id}", manage_line_request, methods=["POST"]),
    Route("/api/line-requests/{id}/events", line_request_events, methods=["GET"]),
    Route("/api/lines/by-user", lines_by_user, methods=["GET"]),
    Route("/health", health, methods=["GET"]),
]
