"""`GET /api/line-requests/:id/events` as a workspace sees it: one page of the request's
history, each event with only the fields allowed for its type.

The operator's `tuco audit` renders every attribute (`render.event`); a tenant gets an
allow-list, so that a field added to an event later, or set by an operator, is not shown to
the workspace until someone decides it should be. URLs are shown as their origin only
(`scheme://host[:port]`): a path or query set by an operator may carry a token.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlsplit

import msgspec
from msgspec import Meta, Struct

from api import render
from api.schemas import Event, EventsAnswer

DEFAULT_LIMIT = 1000
MAX_LIMIT = 1000

_LIMITS = ("daily_new_conversations_limit", "daily_total_messages_limit")
ALLOWED: dict[str, tuple[str, ...]] = {
    "Requested": (
        "workspace_id", "channel", "line_type", "first_name", "last_name", "email", "phone",
        "billing", "price_amount", "currency", "source", "idempotency_key", "fingerprint",
        *_LIMITS,
    ),
    "Invoiced": ("invoice_id", "url"),
    "InvoiceVoided": ("invoice_id",),
    "Paid": ("invoice_id", "amount"),
    "Refunded": ("refund_id", "amount"),
    "StrayPaymentReceived": ("invoice_id", "amount"),
    "StrayPaymentRefunded": ("invoice_id", "refund_id"),
    "ProvisioningStarted": ("at",),
    "Activated": ("phone", "email", "provider_ref", "server_url"),
    "ProvisioningFailed": ("reason",),
    "Canceled": ("by", "reason"),
    "ServerConfigured": ("server_url",),
    "HealthChecked": ("status", "failures", "checked_at"),
    "LimitsChanged": _LIMITS,
}  # fmt: skip
URL_FIELDS = frozenset({"server_url"})


def origin(url: Any) -> Any:
    """`https://user:pw@host:8443/p?token=x` → `https://host:8443` (None stays None)."""
    if not isinstance(url, str):
        return url
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return None
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}{port}" if host else None


def tenant_event(e: Any) -> Event:
    """One event with the allowed fields of its type (an unknown type shows no data)."""
    full = render.event(e)
    allowed = ALLOWED.get(full.type, ())
    data = {
        name: origin(full.data[name]) if name in URL_FIELDS else full.data[name]
        for name in allowed
        if name in full.data
    }
    return msgspec.structs.replace(full, data=data)


class EventsQuery(Struct, kw_only=True, forbid_unknown_fields=True):
    limit: Annotated[
        int,
        Meta(
            ge=1, le=MAX_LIMIT, description=f"At most this many events (default {DEFAULT_LIMIT})."
        ),
    ] = DEFAULT_LIMIT
    starting_after: Annotated[
        int,
        Meta(ge=0, le=2**31 - 1, description="The events after this version (0: from the first)."),
    ] = 0


def page(events: list[Any], limit: int) -> EventsAnswer:
    """The answer for up to `limit` events, given up to `limit + 1` of them."""
    return EventsAnswer(
        events=[tenant_event(e) for e in events[:limit]], has_more=len(events) > limit
    )
