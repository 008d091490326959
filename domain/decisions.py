"""Decisions that span a line request and its workspace, as pure functions.

Each takes the aggregates as they are, checks every rule first (a refusal raises before any
event), then records the events on them and returns the aggregates to save together, in one
transaction. No I/O: the caller loads and saves.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain import bounds
from domain.enums import (
    Billing,
    Channel,
    LineState,
    LineType,
    PaymentStatus,
    Plan,
    RequestSource,
)
from domain.errors import IdempotencyConflict, InvalidTransition, SubscriptionRequired
from domain.line_request import LineRequest
from domain.line_state import PROVISIONING_TIMEOUT
from domain.workspace import Workspace


@dataclass(frozen=True)
class LineDetails:
    """What a workspace asks for (the API and the CLI build it from their input)."""

    workspace_id: str
    channel: Channel
    line_type: LineType
    first_name: str
    last_name: str
    email: str | None
    phone: str | None
    source: RequestSource
    idempotency_key: str | None = None

    def fingerprint(self) -> str:
        """What makes two submissions 'the same body' for the Idempotency-Key rule."""
        body = {
            "channel": self.channel.value,
            "line_type": self.line_type.value,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "email": self.email,
            "phone": self.phone,
        }
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class Terms:
    """What the service charges for an add-on and the limits a new line starts with."""

    price_amount: int
    currency: str
    daily_new_conversations_limit: int
    daily_total_messages_limit: int


def request_line(
    ws: Workspace | None,
    existing: LineRequest | None,
    request_id: UUID,
    details: LineDetails,
    terms: Terms,
    now: datetime,
) -> tuple[LineRequest, list[Aggregate]]:
    """SPEC §2: admit a new request (included → provisioning at once; add-on → awaiting
    payment), or answer the request an Idempotency-Key already made (nothing to save)."""
    fingerprint = details.fingerprint()
    if existing is not None:
        if existing.workspace_id != details.workspace_id or existing.fingerprint != fingerprint:
            raise IdempotencyConflict(details.idempotency_key or "")
        return existing, []
    if ws is None:
        raise SubscriptionRequired(details.workspace_id)
    billing = ws.admit(request_id, details.channel)
    addon = billing is Billing.ADDON
    req = LineRequest(
        id=request_id,
        workspace_id=details.workspace_id,
        channel=details.channel,
        line_type=details.line_type,
        first_name=details.first_name,
        last_name=details.last_name,
        email=details.email,
        phone=details.phone,
        billing=billing,
        price_amount=terms.price_amount if addon else None,
        currency=terms.currency if addon else None,
        source=details.source,
        idempotency_key=details.idempotency_key,
        fingerprint=fingerprint,
        daily_new_conversations_limit=terms.daily_new_conversations_limit,
        daily_total_messages_limit=terms.daily_total_messages_limit,
    )
    if not addon:
        req.start_provisioning(now)
    return req, [ws, req]


def pay(
    req: LineRequest, ws: Workspace, invoice_id: str, amount: int, now: datetime
) -> list[Aggregate]:
    """A payment the provider reported: awaiting payment → provisioning and the workspace
    is free again; on a canceled request it is recorded so that it gets refunded. A payment
    already recorded changes nothing."""
    bounds.count("amount", amount)
    frees_workspace = req.holds_slot
    if not req.record_payment(invoice_id, amount, now):
        return []
    if not frees_workspace:
        return [req]
    ws.settle_payment(req.id)
    return [ws, req]


@dataclass(frozen=True)
class InvoiceFacts:
    """What the billing provider says of an invoice that names a request."""

    invoice_id: str
    amount_due: int
    amount_paid: int
    currency: str | None
    billed_workspace: str | None  # whose billing customer it is billed to (None: unknown)
    addon: bool  # an add-on invoice, not a subscription's


def is_own_invoice(req: LineRequest, invoice: InvoiceFacts) -> bool:
    """The request's own invoice: the one it recorded, or, while none is recorded yet, an
    add-on invoice; either way billed to the request's own workspace. Metadata naming the
    request is not enough: anyone who can create an invoice can write it."""
    if req.billing is not Billing.ADDON or not invoice.addon:
        return False
    if invoice.billed_workspace != req.workspace_id:
        return False
    if req.currency and invoice.currency and invoice.currency.lower() != req.currency.lower():
        return False
    return req.invoice_id in (None, invoice.invoice_id)


def settles(req: LineRequest, invoice: InvoiceFacts) -> bool:
    """Its own invoice, paid in full: at least the price (or, for the recorded invoice, its
    whole amount when that is less, as with a Stripe price configured for the channel)."""
    if not is_own_invoice(req, invoice):
        return False
    price = req.price_amount or 0
    if req.invoice_id == invoice.invoice_id:
        price = min(price, invoice.amount_due)
    return invoice.amount_paid >= price


def receive_payment(
    req: LineRequest, ws: Workspace, invoice: InvoiceFacts, now: datetime
) -> list[Aggregate]:
    """A paid invoice that names the request: its own payment settles it (`pay`); any
    other is a stray payment, recorded to be refunded. Either, reported again, changes
    nothing."""
    bounds.count("amount", invoice.amount_paid)
    paid_before = req.payment_status in (PaymentStatus.PAID, PaymentStatus.REFUNDED)
    if paid_before and invoice.invoice_id == req.invoice_id:
        return []  # this request's own payment, already recorded
    if not paid_before and settles(req, invoice):
        return pay(req, ws, invoice.invoice_id, invoice.amount_paid, now)
    return [req] if req.record_stray_payment(invoice.invoice_id, invoice.amount_paid) else []


def refund_stray(req: LineRequest, invoice_id: str, refund_id: str) -> list[Aggregate]:
    """A stray payment returned; nothing when it is not owed any more."""
    if invoice_id not in req.stray_payments:
        return []
    req.record_stray_refund(invoice_id, refund_id)
    return [req]


def cancel(req: LineRequest, ws: Workspace, by: str, reason: str) -> list[Aggregate]:
    """An awaiting-payment request is canceled and its slot freed."""
    reason = bounds.text("reason", reason, max_len=500) or ""
    req.cancel(by=by, reason=reason)
    ws.release_slot(req.id, req.channel)
    return [ws, req]


def fail(req: LineRequest, ws: Workspace, reason: str) -> list[Aggregate]:
    """Provisioning failed: the slot is freed (a paid add-on is then owed a refund)."""
    req.fail(reason)
    ws.release_slot(req.id, req.channel)
    return [ws, req]


def expire(req: LineRequest, ws: Workspace, now: datetime, deadline: float) -> list[Aggregate]:
    """A request in provisioning for longer than `deadline` seconds fails with reason
    `provisioning_timeout` (its slot is freed; a paid add-on is then owed a refund)."""
    if not req.overdue(now, deadline):
        return []
    return fail(req, ws, PROVISIONING_TIMEOUT)


def answer_late(req: LineRequest, status: str, provider_ref: str | None) -> list[Aggregate]:
    """The provisioner's answer for a request its deadline already failed: kept once per
    status, nothing else changes."""
    return [req] if req.record_late_answer(status, provider_ref) else []


def refund(req: LineRequest, refund_id: str) -> list[Aggregate]:
    """A refund the provider made; nothing when none is due any more."""
    if not req.refund_due:
        return []
    req.record_refund(refund_id, req.amount_paid or 0)
    return [req]


def record_invoice(req: LineRequest, invoice_id: str, url: str) -> list[Aggregate]:
    return [req] if req.record_invoice(invoice_id, url) else []


def record_invoice_search(req: LineRequest, found: tuple[str, str] | None) -> list[Aggregate]:
    """What the search for a canceled request's unrecorded invoice found: the invoice (id,
    url), recorded so that it is voided or its payment refunded; or nothing, recorded so
    that it is not searched again."""
    if not req.needs_invoice_search:
        return []
    if found is not None:
        return record_invoice(req, *found)
    req.record_invoice_search()
    return [req]


def record_void(req: LineRequest, invoice_id: str) -> list[Aggregate]:
    if not req.needs_void:
        return []
    req.record_void(invoice_id)
    return [req]


def apply_subscription(
    ws: Workspace, subscription_id: str, created: int, plan: Plan | None, active: bool
) -> list[Aggregate]:
    """A base-plan subscription as the provider reports it now. The workspace follows one
    subscription: the first it hears of, or a newer active one that replaces it. News of
    any other (a late `customer.subscription.deleted` of the subscription it replaced)
    changes nothing."""
    current = ws.subscription_id
    if current is not None and subscription_id != current:
        replaces = active and (not ws.subscription_active or created >= ws.subscription_created)
        if not replaces:
            return []
    changed = False
    if subscription_id != current:
        ws.link_subscription(subscription_id, created)
        changed = True
    if plan is not None and plan is not ws.plan:
        ws.change_plan(plan)
        changed = True
    if active != ws.subscription_active:
        ws.set_subscription(active)
        changed = True
    return [ws] if changed else []


def check_payment_link_state(state: LineState) -> None:
    """A payment link exists only for a request that has not ended."""
    if state in (LineState.CANCELED, LineState.FAILED):
        raise InvalidTransition("recover the payment link of", state.value)
