"""The request log: a pure ASGI middleware around the whole application (outside Starlette's
error middleware), so it sees every answer, 500s included.

Per request it takes the `X-Request-Id` header (or makes one) and returns it, times the
answer into the latency histogram, and at INFO writes one line: request_id, workspace (set by
authentication), route template, method, status and duration_ms. An unhandled error is logged
here once, with its traceback and the same fields, and not passed on to the server (which
would log it a second time): Starlette has already answered 500.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from adapters.logs import REQUEST_ID

access = logging.getLogger("tuco.access")
WORKSPACE_KEY = "tuco.workspace"  # where authentication leaves the caller's workspace
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_GOOD_ID = re.compile(rb"[A-Za-z0-9._:\-]{1,128}")
Observe = Callable[[str, str, int, float], None]


def incoming_request_id(headers: list[tuple[bytes, bytes]]) -> str:
    """The caller's `X-Request-Id` when it is a sane token, else a new random one."""
    for name, value in headers:
        if name == b"x-request-id":
            if _GOOD_ID.fullmatch(value):
                return value.decode()
            break
    return os.urandom(8).hex()


def route_of(scope: Scope) -> str:
    """The matched route's template (`/api/line-requests/{id}`), or `unmatched`."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "unmatched"


class RequestLog:
    def __init__(self, app: ASGIApp, observe: Observe | None = None) -> None:
        self.app = app
        self.observe = observe

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = incoming_request_id(scope["headers"])
        id_header = (b"x-request-id", request_id.encode())
        token = REQUEST_ID.set(request_id)
        status = 0

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), id_header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:  # the edge: logged once here, with the request's fields
            self._finish(scope, request_id, status or 500, started, exc)
            if not status:  # nothing was answered: let the server close the connection
                raise
        else:
            self._finish(scope, request_id, status, started, None)
        finally:
            REQUEST_ID.reset(token)

    def _finish(
        self, scope: Scope, request_id: str, status: int, started: float, exc: Exception | None
    ) -> None:
        seconds = time.perf_counter() - started
        method = scope["method"] if scope["method"] in METHODS else "other"
        route = route_of(scope)
        if self.observe is not None:
            self.observe(route, method, status, seconds)
        if exc is None and not access.isEnabledFor(logging.INFO):
            return
        fields = {
            "request_id": request_id,
            "workspace": scope.get(WORKSPACE_KEY),
            "route": route,
            "method": method,
            "status": status,
            "duration_ms": round(seconds * 1000, 3),
        }
        if exc is not None:
            access.error("unhandled error", exc_info=exc, extra=fields)
        else:
            access.info("request", extra=fields)
