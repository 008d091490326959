"""POST /api/webhooks/stripe: verify, deduplicate, re-read, act."""

from __future__ import annotations

import logging
from collections.abc import Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from adapters.webhook_inbox import InvalidSignature, WebhookEvent
from api.auth import Access
from api.bootstrap import Services
from api.operations import Operation, Param
from api.responses import JSON
from api.schemas import WebhookAnswer

log = logging.getLogger(__name__)


def handlers(s: Services) -> dict[str, Callable[[str], None]]:
    events = s.billing_events
    return {
        "invoice.paid": events.invoice_changed,
        "invoice.payment_succeeded": events.invoice_changed,
        "invoice.voided": events.invoice_changed,
        "invoice.marked_uncollectible": events.invoice_changed,
        "customer.subscription.created": events.subscription_changed,
        "customer.subscription.updated": events.subscription_changed,
        "customer.subscription.deleted": events.subscription_changed,
    }


async def stripe_webhook(request: Request) -> Response:
    services: Services = request.app.state.services
    payload = await request.body()
    signature = request.headers.get("stripe-signature")

    def work() -> tuple[WebhookEvent, str]:
        event = services.inbox.verify(payload, signature)
        if services.inbox.seen(event.id):
            return event, "duplicate"
        handle = handlers(services).get(event.type)
        if handle is None:
            return event, "ignored"
        handle(event.object_id)
        services.inbox.mark_handled(event)
        return event, "handled"

    try:
        event, outcome = await run_in_threadpool(work)
    except InvalidSignature:
        services.metrics.stripe_webhooks.inc("unknown", "invalid_signature")
        raise
    services.metrics.stripe_webhooks.inc(event.type, outcome)
    log.info(
        "webhook received",
        extra={"provider": "stripe", "event_id": event.id, "type": event.type, "outcome": outcome},
    )
    return JSON(WebhookAnswer(received=True, outcome=outcome))


operations = [
    Operation(
        "POST", "/api/webhooks/stripe", stripe_webhook, "stripeWebhook",
        "Stripe events (invoices, subscriptions)", "webhooks", Access.SIGNED, WebhookAnswer,
        params=(Param("Stripe-Signature", "header", required=True,
                      description="Stripe's signature of the payload (webhook secret)."),),
        errors={400: ("invalid_signature",)},
        description="Verifies `Stripe-Signature` (bad or stale: 400, nothing recorded). "
        "At-least-once and unordered: duplicates and late events change nothing twice. "
        "`outcome` is `handled`, `duplicate` or `ignored`.",
        answer_example={"received": True, "outcome": "handled"},
    ),
]  # fmt: skip
