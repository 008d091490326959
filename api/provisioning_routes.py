"""POST /internal/provisioning/{id}: the provisioning service's signed callback (SPEC §7).
Served only with TUCO_PROVISIONER=http."""

from __future__ import annotations

import logging

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from adapters.provisioning_protocol import ProviderAnswer, outcome_of
from api import parsing
from api.auth import Access
from api.bootstrap import Services
from api.operations import Operation, Param
from api.responses import JSON
from api.schemas import Answer
from application.provisioning import Answered
from domain.enums import LineState
from domain.errors import NotFound

log = logging.getLogger(__name__)


class CallbackAnswer(Answer):
    """The request as it is now; `changed` is false for a duplicate or a late answer."""

    id: str
    status: LineState
    changed: bool


async def provisioning_callback(request: Request) -> Response:
    """Verified first (bad, stale or missing signature: 400 invalid_signature, nothing
    recorded); then the request must exist (404) and the message id must not have been
    used for another request (400); then the answer is recorded once. A request no longer
    in provisioning answers 200 and nothing changes."""
    services: Services = request.app.state.services
    callbacks = services.provisioning_callbacks
    raw_id = request.path_params["id"]
    if callbacks is None:
        raise NotFound("line request", raw_id)
    body = await request.body()

    def work() -> Answered:
        message_id = callbacks.verify(body, request.headers)
        request_id = parsing.request_id(raw_id)
        outcome = outcome_of(parsing.decode(body, ProviderAnswer))
        services.app.view(request_id)  # NotFound for an unknown id
        callbacks.bind(message_id, request_id)
        return services.provisioning.answer(request_id, outcome)

    answered = await run_in_threadpool(work)
    log.info(
        "provisioning callback for %s: %s", raw_id, "recorded" if answered.changed else "no change"
    )
    view = answered.view
    return JSON(CallbackAnswer(id=str(view.id), status=view.state, changed=answered.changed))


SIGNED_HEADERS = tuple(
    Param(name, "header", required=True, description=text)
    for name, text in (
        ("webhook-id", "The message id (Standard Webhooks); bound to the first request it names."),
        ("webhook-timestamp", "Unix seconds; older than 5 minutes does not verify."),
        ("webhook-signature", "`v1,` + base64 HMAC-SHA256 of `id.timestamp.body`."),
    )
)

operations = [
    Operation(
        "POST", "/internal/provisioning/{id}", provisioning_callback, "provisioningCallback",
        "The provisioning service's answer (TUCO_PROVISIONER=http)", "internal",
        Access.PUBLIC, CallbackAnswer, body=ProviderAnswer, params=SIGNED_HEADERS,
        errors={400: ("invalid_signature",), 404: ("not_found",)},
        description="Signed per Standard Webhooks with TUCO_PROVISIONER_SECRET (bad, stale or "
        "missing: 400, nothing recorded; a message id already used for another request: 400). "
        "`active` may carry `phone`, `email`, `serverUrl` (where health checks probe) and "
        "`providerRef`; `failed` carries `reason`. A request no longer in provisioning answers "
        "200 and nothing changes; duplicates change nothing twice. Served only with the http "
        "provisioner.",
        body_example={"status": "active", "phone": "+12025550123",
                      "serverUrl": "https://lines.example/l/42", "providerRef": "carrier-42"},
    ),
]  # fmt: skip
