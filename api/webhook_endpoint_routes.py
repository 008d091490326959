"""`/api/webhook-endpoints`: a workspace's outbound status webhook endpoints, managed with
its API key. Another workspace's endpoint id is 404, like a malformed one."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from msgspec import Meta
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from api import parsing
from api.auth import Access, Caller, authenticate_key_async
from api.bootstrap import Services
from api.operations import Operation, Param
from api.responses import JSON
from api.schemas import Answer, Strict, documented
from application.webhooks import Endpoint
from domain import bounds
from domain.webhooks import EndpointStatus

HookUrl = Annotated[
    str,
    documented(maxLength=bounds.MAX_URL_LENGTH, format="uri", example="https://example.com/hooks"),
    Meta(description="An absolute http(s) URL without credentials."),
]


class WebhookEndpointBody(Strict):
    """POST /api/webhook-endpoints."""

    url: HookUrl


class WebhookEndpointAnswer(Answer):
    id: str
    url: str
    status: EndpointStatus
    created_at: datetime
    failing_since: datetime | None
    disabled_at: datetime | None
    disabled_reason: str | None


class WebhookEndpointCreated(WebhookEndpointAnswer):
    secret: Annotated[str, Meta(description="The `whsec_…` signing secret, shown only here.")]


class WebhookEndpointsAnswer(Answer):
    endpoints: list[WebhookEndpointAnswer]


def _fields(e: Endpoint) -> dict[str, object]:
    return {
        "id": e.id, "url": e.url, "status": e.status, "created_at": e.created_at,
        "failing_since": e.failing_since, "disabled_at": e.disabled_at,
        "disabled_reason": e.disabled_reason,
    }  # fmt: skip


async def _key_holder(request: Request) -> tuple[Services, Caller]:
    services: Services = request.app.state.services
    return services, await authenticate_key_async(request, services.keys)


async def create_endpoint(request: Request) -> Response:
    s, caller = await _key_holder(request)
    body = parsing.decode(await request.body(), WebhookEndpointBody)
    added, secret = await run_in_threadpool(s.webhooks.add, caller.workspace_id, body.url)
    return JSON(WebhookEndpointCreated(**_fields(added), secret=secret), status_code=201)  # type: ignore[arg-type]


async def list_endpoints(request: Request) -> Response:
    s, caller = await _key_holder(request)
    found = await run_in_threadpool(s.webhooks.list, caller.workspace_id)
    answers = [WebhookEndpointAnswer(**_fields(e)) for e in found]  # type: ignore[arg-type]
    return JSON(WebhookEndpointsAnswer(endpoints=answers))


async def get_endpoint(request: Request) -> Response:
    s, caller = await _key_holder(request)
    found = await run_in_threadpool(s.webhooks.get, caller.workspace_id, request.path_params["id"])
    return JSON(WebhookEndpointAnswer(**_fields(found)))  # type: ignore[arg-type]


async def delete_endpoint(request: Request) -> Response:
    s, caller = await _key_holder(request)
    await run_in_threadpool(s.webhooks.remove, caller.workspace_id, request.path_params["id"])
    return Response(status_code=204)


ENDPOINT_ID = Param("id", "path", {"type": "string"}, description="The endpoint's `id` (`we_…`).")
HOOKS = "webhook endpoints"
EXAMPLE = {
    "id": "we_5f0c2a9e1b7d4c3a8e6f0b1d", "url": "https://example.com/hooks",
    "status": "enabled", "createdAt": "2026-12-02T14:00:00Z", "failingSince": None,
    "disabledAt": None, "disabledReason": None,
}  # fmt: skip

operations = [
    Operation(
        "POST", "/api/webhook-endpoints", create_endpoint, "createWebhookEndpoint",
        "Add an outbound webhook endpoint", HOOKS, Access.KEY, WebhookEndpointCreated,
        status=201, body=WebhookEndpointBody, errors={409: ("endpoint_limit_reached",)},
        description="Every state change of the workspace's line requests committed from now "
        "on is POSTed here as JSON signed per Standard Webhooks (`webhook-id`, "
        "`webhook-timestamp`, `webhook-signature`) with `secret`, which is shown only in "
        "this answer. At most `TUCO_WEBHOOK_MAX_ENDPOINTS` (16) per workspace.",
        body_example={"url": "https://example.com/hooks"},
        answer_example={**EXAMPLE, "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"},
    ),
    Operation(
        "GET", "/api/webhook-endpoints", list_endpoints, "listWebhookEndpoints",
        "The workspace's webhook endpoints", HOOKS, Access.KEY, WebhookEndpointsAnswer,
        description="Oldest first, without secrets. A `disabled` endpoint failed for "
        "`TUCO_WEBHOOK_DISABLE_AFTER` (24 h) in a row; `tuco webhooks enable` turns it on.",
        answer_example={"endpoints": [EXAMPLE]},
    ),
    Operation(
        "GET", "/api/webhook-endpoints/{id}", get_endpoint, "getWebhookEndpoint",
        "One webhook endpoint", HOOKS, Access.KEY, WebhookEndpointAnswer,
        params=(ENDPOINT_ID,), errors={404: ("not_found",)}, answer_example=EXAMPLE,
    ),
    Operation(
        "DELETE", "/api/webhook-endpoints/{id}", delete_endpoint, "deleteWebhookEndpoint",
        "Remove a webhook endpoint", HOOKS, Access.KEY, None, status=204,
        params=(ENDPOINT_ID,), errors={404: ("not_found",)},
        description="Its queued messages are dropped with it.",
    ),
]  # fmt: skip
