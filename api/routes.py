"""Line-request endpoints: parse, authenticate, call the application, render."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from api import examples, parsing, render, tenant_events
from api.auth import Access, Caller, authenticate_async
from api.bootstrap import Services
from api.list_params import line_query
from api.operations import Operation, Param
from api.responses import JSON
from api.schemas import (
    Action,
    ActionBody,
    EventsAnswer,
    LineRequestAnswer,
    LineRequestBody,
    LineRequestsAnswer,
    LinesAnswer,
    ListQuery,
    StatusAnswer,
)
from application.listing import DEFAULT_PAGE, MAX_PAGE, LinePage

T = TypeVar("T")


async def _call(request: Request, work: Callable[[Services, Caller, bytes], T]) -> T:
    """Authenticate, then read the body (an unknown caller never makes us read one), then
    run the command in the thread pool."""
    services, caller = await _caller(request)
    body = await request.body() if request.method == "POST" else b""
    return await run_in_threadpool(work, services, caller, body)


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
        if parsing.action(body) is Action.CANCEL:
            return s.requests.cancel(caller.workspace_id, request_id, caller.actor)
        return s.requests.payment_link(caller.workspace_id, request_id)

    return JSON(render.line_request(await _call(request, work), _now(request)))


async def line_request_events(request: Request) -> Response:
    """One page of the history (`limit`, `starting_after` a version, `has_more`), each
    event with the fields a workspace may see (`api.tenant_events`)."""

    def work(s: Services, caller: Caller, _: bytes) -> EventsAnswer:
        request_id = parsing.request_id(request.path_params["id"])
        q = parsing.query(request.query_params, tenant_events.EventsQuery)
        s.app.line_request(request_id, caller.workspace_id)
        events = s.app.history(request_id, q.starting_after, q.limit + 1)
        return tenant_events.page(events, q.limit)

    return JSON(await _call(request, work))


async def _page(request: Request, default_limit: int | None) -> tuple[LinePage, Any]:
    """Inline when the projection already holds every write (the usual case); only a wait
    for it goes to the thread pool."""
    s, caller = await _caller(request)
    query = line_query(request.query_params, default_limit)
    page = await s.reads(s.requests.page_now, caller.workspace_id, query)
    if page is None:
        page = await run_in_threadpool(s.requests.page, caller.workspace_id, query)
    return page, _now(request)


async def lines_by_user(request: Request) -> Response:
    """SPEC §4's `{"lines": [...]}`, every line unless `limit` is given; and `has_more`."""
    page, today = await _page(request, default_limit=None)
    lines = [render.line(v, today) for v in page.views]
    return JSON(LinesAnswer(lines=lines, has_more=page.has_more))


async def list_line_requests(request: Request) -> Response:
    """`{"data": [answer as GET by id, ...], "has_more"}`, DEFAULT_PAGE without `limit`."""
    page, today = await _page(request, default_limit=DEFAULT_PAGE)
    data = [render.line_request(v, today) for v in page.views]
    return JSON(LineRequestsAnswer(data=data, has_more=page.has_more))


async def health(request: Request) -> Response:
    return JSON(StatusAnswer(status="ok"))


IDEMPOTENCY_KEY = Param(
    "Idempotency-Key",
    "header",
    {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[\\x21-\\x7e]+$"},
    description="The same key with the same body answers the same request and creates "
    "nothing; with another body, 409 idempotency_conflict.",
)
REQUEST_ID = Param("id", "path", {"type": "string"}, description="The line request's `_id`.")
LINES = "line requests"
READ_ERRORS = {404: ("not_found",)}
LIST_ERRORS = {422: ("validation_error",)}

operations = [
    Operation(
        "POST", "/api/line-requests", create_line_request, "createLineRequest",
        "Request a line", LINES, Access.KEY_OR_CLERK, LineRequestAnswer, status=201,
        body=LineRequestBody, params=(IDEMPOTENCY_KEY,),
        errors={
            402: ("subscription_required",),
            403: ("channel_not_available", "line_limit_reached"),
            409: ("payment_pending", "idempotency_conflict"),
        },
        description="Checks the plan and capacity. An included line answers `provisioning`; "
        "an add-on answers `awaiting_payment` with its hosted invoice link in `paymentUrl`. "
        "While one request awaits payment, a new one is refused with `payment_pending`, "
        "whose `requestId` names the pending request.",
        body_example=examples.LINE_REQUEST_BODY, answer_example=examples.LINE_REQUEST_ANSWER,
    ),
    Operation(
        "GET", "/api/line-requests", list_line_requests, "listLineRequests",
        "A page of the workspace's line requests", LINES, Access.KEY_OR_CLERK,
        LineRequestsAnswer, query=ListQuery, errors=LIST_ERRORS,
        answer_example={"data": [examples.ACTIVE_ANSWER], "has_more": False},
        description=f"Newest first, {DEFAULT_PAGE} by default (`limit` 1 to {MAX_PAGE}), each as "
        "GET by id answers it. Pass the last `_id` of a page as `starting_after` for the next; "
        "`has_more` says whether one follows. The order is each request's position in the "
        "event log, so requests created meanwhile never shift a page.",
    ),
    Operation(
        "GET", "/api/line-requests/{id}", get_line_request, "getLineRequest",
        "Get a line request", LINES, Access.KEY_OR_CLERK, LineRequestAnswer,
        params=(REQUEST_ID,), errors=READ_ERRORS, answer_example=examples.ACTIVE_ANSWER,
        description="Read-your-writes: right after a POST, any server process finds it. "
        "Another workspace's id is `not_found`.",
    ),
    Operation(
        "POST", "/api/line-requests/{id}", manage_line_request, "manageLineRequest",
        "Get the payment link of, or cancel, a line request", LINES, Access.KEY_OR_CLERK,
        LineRequestAnswer, body=ActionBody, params=(REQUEST_ID,),
        errors={404: ("not_found",), 409: ("invalid_transition",)},
        description="`payment_link`: the same hosted invoice link while the invoice is open "
        "(a payment the provider already took is recorded, answering `provisioning`). "
        "`cancel`: cancels an `awaiting_payment` request and voids its invoice.",
        body_example={"action": "payment_link"}, answer_example=examples.LINE_REQUEST_ANSWER,
    ),
    Operation(
        "GET", "/api/line-requests/{id}/events", line_request_events, "lineRequestEvents",
        "The audit trail of a line request", LINES, Access.KEY_OR_CLERK, EventsAnswer,
        query=tenant_events.EventsQuery, params=(REQUEST_ID,), errors=READ_ERRORS,
        answer_example=examples.EVENTS_ANSWER,
        description="The recorded events, oldest first, a page at a time: `limit` (1 to "
        f"{tenant_events.MAX_LIMIT}, default {tenant_events.DEFAULT_LIMIT}) after the version "
        "`starting_after`; `has_more` says whether later events exist. Each event shows the "
        "fields allowed for its type, and a server URL as its origin (`tuco audit` shows all).",
    ),
    Operation(
        "GET", "/api/lines/by-user", lines_by_user, "listLines",
        "Every line of the workspace", "lines", Access.KEY_OR_CLERK, LinesAnswer,
        query=ListQuery, errors=LIST_ERRORS,
        answer_example={"lines": [examples.LINE], "has_more": False},
        description="Newest first. Without `limit`, every line (SPEC §4); with it, a page "
        f"(1 to {MAX_PAGE}) as for GET /api/line-requests, with `starting_after` and the "
        "same filters.",
    ),
    Operation(
        "GET", "/health", health, "health", "The process answers", "operations",
        Access.PUBLIC, StatusAnswer, answer_example={"status": "ok"},
    ),
]  # fmt: skip
