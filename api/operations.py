"""The one table of HTTP operations: it builds the Starlette routes and `/openapi.json`.

Each module with endpoints declares `operations = [Operation(...), ...]` and is listed in
`api/endpoints.py`. An operation names its handler, what it accepts (`Access`), the Structs
it decodes and answers with (api/schemas.py), its parameters, and the error codes it can
answer per status beyond the common ones (401, 422, 503, …, added by `errors_of`).

Each path is routed once and dispatched by method: HEAD follows GET, OPTIONS answers 204
with `Allow`, and any other method is a 405 `method_not_allowed` with the full `Allow`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from api.auth import Access
from api.errors import MethodNotAllowed
from api.limits import SERVICE_PREFIXES

Endpoint = Callable[[Request], Awaitable[Response]]


@dataclass(frozen=True)
class Param:
    """A path, query or header parameter (query ones can also come from a `query` Struct)."""

    name: str
    where: str  # "path" | "query" | "header"
    schema: Mapping[str, Any] = field(default_factory=lambda: {"type": "string"})
    required: bool = False
    description: str = ""


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    endpoint: Endpoint
    operation_id: str
    summary: str
    tag: str
    access: Access
    answer: type | None = None  # the Struct of the success body (None: no JSON body)
    status: int = 200
    media_type: str = "application/json"  # of the success answer
    body: type | None = None  # the Struct a JSON body is decoded into
    query: type | None = None  # a Struct of query parameters
    params: tuple[Param, ...] = ()
    errors: Mapping[int, tuple[str, ...]] = field(default_factory=dict)
    description: str = ""
    body_example: Any = None
    answer_example: Any = None
    # Answers beside the success and the errors: status → (description, Struct or None).
    other_answers: Mapping[int, tuple[str, type | None]] = field(default_factory=dict)


# Codes every operation of a kind can answer, beside its own `errors`.
BODY_ERRORS = {
    408: ("request_timeout",),  # api/limits.py: the body did not arrive in time
    413: ("payload_too_large",),
    415: ("unsupported_media_type",),
    422: ("validation_error",),
}
COMMON_ERRORS = {503: ("service_unavailable",)}
AUTH_ERRORS = {401: ("unauthorized",)}
RATE_ERRORS = {429: ("rate_limited",)}  # api/limits.py, on all but service calls


def errors_of(op: Operation) -> dict[int, tuple[str, ...]]:
    """Every error code `op` can answer, by status."""
    merged: dict[int, list[str]] = {}
    parts: list[Mapping[int, tuple[str, ...]]] = [op.errors, COMMON_ERRORS]
    if op.access.schemes:
        parts.append(AUTH_ERRORS)
    if op.body is not None:
        parts.append(BODY_ERRORS)
    if not op.path.startswith(SERVICE_PREFIXES):
        parts.append(RATE_ERRORS)
    if op.query is not None or any(p.where != "path" and p.required for p in op.params):
        parts.append({422: ("validation_error",)})
    for part in parts:
        for status, codes in part.items():
            merged.setdefault(status, [])
            merged[status] += [c for c in codes if c not in merged[status]]
    return {status: tuple(codes) for status, codes in sorted(merged.items())}


def allowed(methods: Iterable[str]) -> str:
    names = set(methods) | {"OPTIONS"}
    if "GET" in names:
        names.add("HEAD")
    return ", ".join(sorted(names))


def _dispatcher(by_method: Mapping[str, Endpoint]) -> Endpoint:
    allow = allowed(by_method)

    async def dispatch(request: Request) -> Response:
        method = request.method
        handler = by_method.get("GET" if method == "HEAD" else method)
        if handler is not None:
            return await handler(request)
        if method == "OPTIONS":
            return Response(status_code=204, headers={"Allow": allow})
        raise MethodNotAllowed(
            f"{method} is not allowed here; allowed: {allow}.", headers={"Allow": allow}
        )

    return dispatch


def routes(operations: Iterable[Operation]) -> list[BaseRoute]:
    """One route per path, in the order the paths first appear."""
    paths: dict[str, dict[str, Endpoint]] = {}
    for op in operations:
        methods = paths.setdefault(op.path, {})
        if op.method in methods:
            raise ValueError(f"{op.method} {op.path} is declared twice")
        methods[op.method] = op.endpoint
    return [_any_method(Route(path, _dispatcher(by_method))) for path, by_method in paths.items()]


def _any_method(route: Route) -> Route:
    """Every method reaches the dispatcher (Starlette's own 405 has no full `Allow`)."""
    route.methods = None
    return route
