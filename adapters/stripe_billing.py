"""Stripe billing through the official SDK: one customer per workspace, one send_invoice
invoice per add-on, every creating call with an idempotency key derived from the request id."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

import stripe
from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError

from adapters.schema import stripe_customers
from application.ports import (
    Billing,
    BillingUnavailable,
    Invoice,
    InvoiceNotFound,
    InvoiceOrder,
    InvoiceStatus,
)
from domain.enums import Channel

T = TypeVar("T")
# Allowance for the difference between our clock and Stripe's when bounding a search by
# the request's time.
CLOCK_SKEW = 3600
# Which of several invoices naming one request a search returns first.
_RANK = {"paid": 0, "open": 1, "uncollectible": 2, "draft": 3, "void": 4}


@dataclass(frozen=True)
class StripePrices:
    """Per-channel Stripe price ids; a channel without one is billed by amount."""

    phone: str | None = None
    email: str | None = None

    def for_channel(self, channel: Channel) -> str | None:
        return self.phone if channel is Channel.PHONE else self.email


@contextmanager
def stripe_errors(invoice_id: str | None = None) -> Iterator[None]:
    """Stripe's failures as the port's: unknown invoice, or unavailable (retry later)."""
    try:
        yield
    except stripe.InvalidRequestError as e:
        if invoice_id is not None and e.code == "resource_missing":
            raise InvoiceNotFound(invoice_id) from e
        raise BillingUnavailable(f"Stripe refused the call: {e.user_message or e}") from e
    except stripe.StripeError as e:
        raise BillingUnavailable(f"Stripe is unavailable: {e.user_message or e}") from e


class StripeBilling(Billing):
    def __init__(
        self,
        client: stripe.StripeClient,
        engine: Engine,
        days_until_due: int = 7,
        prices: StripePrices | None = None,
    ) -> None:
        self.client = client
        self.engine = engine
        self.days_until_due = days_until_due
        self.prices = prices or StripePrices()

    def remembered_customer(self, workspace_id: str) -> str | None:
        with self.engine.connect() as conn:
            found = conn.execute(
                select(stripe_customers.c.customer_id).where(
                    stripe_customers.c.workspace_id == workspace_id
                )
            ).scalar()
        return str(found) if found else None

    def customer_for(self, workspace_id: str) -> str:
        """The workspace's Stripe customer, created once and remembered."""
        found = self.remembered_customer(workspace_id)
        if found:
            return found
        with stripe_errors():
            customer = self.client.v1.customers.create(
                params={"name": workspace_id, "metadata": {"workspace_id": workspace_id}},
                options={"idempotency_key": f"tuco-customer-{workspace_id}"},
            )
        remember_customer(self.engine, workspace_id, str(customer.id))
        return self.customer_for(workspace_id)  # whichever customer was remembered first

    def create_invoice(self, order: InvoiceOrder) -> Invoice:
        """Idempotency keys last 24 h at Stripe: a retry after that would create a second
        invoice, so an invoice of the request already there is looked for first."""
        customer = self.customer_for(order.workspace_id)
        key = f"tuco-{order.request_id}"
        metadata = {"line_request_id": str(order.request_id), "workspace_id": order.workspace_id}
        inv = self._search(customer, order.request_id, order.requested_at)
        if inv is not None and inv.status != "draft":
            return self._read(inv)
        with stripe_errors():
            inv = inv or self.client.v1.invoices.create(
                params={
                    "customer": customer,
                    "collection_method": "send_invoice",
                    "days_until_due": self.days_until_due,
                    "auto_advance": False,
                    "pending_invoice_items_behavior": "exclude",
                    "description": order.description,
                    "metadata": metadata,
                },
                options={"idempotency_key": f"{key}-invoice"},
            )
            if inv.status == "draft" and not inv.lines.data:
                item: Any = {
                    "customer": customer,
                    "invoice": inv.id,
                    "description": order.description,
                    "metadata": metadata,
                    **self._item_price(order),  # a price id, or amount and currency
                }
                self.client.v1.invoice_items.create(
                    params=item,
                    options={"idempotency_key": f"{key}-item"},
                )
            if inv.status == "draft":
                inv = self.client.v1.invoices.finalize_invoice(
                    inv.id,
                    params={"auto_advance": False},
                    options={"idempotency_key": f"{key}-finalize"},
                )
        return self._read(inv)

    def _read(self, inv: Any) -> Invoice:
        """The port's invoice, with the workspace its customer is remembered for."""
        return to_invoice(inv, self.workspace_of(str(inv.customer or "")))

    def workspace_of(self, customer_id: str) -> str | None:
        """The workspace whose remembered Stripe customer this is (None: not one of ours;
        a customer's metadata is not trusted for this, anyone can write it)."""
        if not customer_id:
            return None
        with self.engine.connect() as conn:
            found = conn.execute(
                select(stripe_customers.c.workspace_id).where(
                    stripe_customers.c.customer_id == customer_id
                )
            ).first()
        return None if found is None else str(found[0])

    def _item_price(self, order: InvoiceOrder) -> dict[str, Any]:
        price = self.prices.for_channel(order.channel)
        if price:
            return {"pricing": {"price": price}}
        return {"amount": order.amount, "currency": order.currency}

    def find_invoice(
        self, request_id: UUID, workspace_id: str, since: datetime | None
    ) -> Invoice | None:
        customer = self.remembered_customer(workspace_id)
        if customer is None:  # no customer: nothing was ever billed to this workspace
            return None
        found = self._search(customer, request_id, since)
        return None if found is None else self._read(found)

    def _search(self, customer: str, request_id: UUID, since: datetime | None) -> Any | None:
        """The customer's invoice whose metadata names the request (Stripe lists cannot
        filter on metadata, and its search API lags behind writes), created since `since`
        less the clock skew, so a long history is not scanned."""
        params: Any = {"customer": customer, "limit": 100}
        if since is not None:
            params["created"] = {"gte": int(since.timestamp()) - CLOCK_SKEW}
        with stripe_errors():
            page = self.client.v1.invoices.list(params=params)
            found = [
                inv
                for inv in page.auto_paging_iter()
                if metadata_of(inv).get("line_request_id") == str(request_id)
            ]
        return min(found, key=lambda inv: _RANK.get(str(inv.status), 9), default=None)

    def get_invoice(self, invoice_id: str) -> Invoice:
        with stripe_errors(invoice_id):
            inv = self.client.v1.invoices.retrieve(invoice_id)
        return self._read(inv)

    def void_invoice(self, invoice_id: str) -> Invoice:
        invoice = self.get_invoice(invoice_id)
        if invoice.status is InvoiceStatus.DRAFT:  # never finalized: cannot be paid
            with stripe_errors(invoice_id):
                self.client.v1.invoices.delete(invoice_id)
            return replace(invoice, status=InvoiceStatus.VOID)
        if invoice.status not in (InvoiceStatus.OPEN, InvoiceStatus.UNCOLLECTIBLE):
            return invoice  # void already, or paid: the caller records the payment
        with stripe_errors(invoice_id):
            voided = self.client.v1.invoices.void_invoice(
                invoice_id, options={"idempotency_key": f"tuco-{invoice_id}-void"}
            )
        return self._read(voided)

    def refund(self, invoice_id: str, request_id: UUID) -> str:
        with stripe_errors(invoice_id):
            payments = self.client.v1.invoice_payments.list(
                params={"invoice": invoice_id, "status": "paid"}
            )
            intents = [p.payment.payment_intent for p in payments.data if p.payment]
            if not intents:
                raise BillingUnavailable(f"invoice {invoice_id} has no paid payment to refund")
            intent = str(getattr(intents[0], "id", intents[0]))
            existing = self.client.v1.refunds.list(params={"payment_intent": intent})
            if existing.data:
                return str(existing.data[0].id)
            refund = self.client.v1.refunds.create(
                params={
                    "payment_intent": intent,
                    "metadata": {"line_request_id": str(request_id), "invoice_id": invoice_id},
                },
                # one key per invoice: a request may also have stray payments to return
                options={"idempotency_key": f"tuco-{request_id}-refund-{invoice_id}"},
            )
        return str(refund.id)


def metadata_of(obj: Any) -> dict[str, Any]:
    metadata = getattr(obj, "metadata", None)
    return dict(metadata.to_dict()) if metadata else {}


def remember_customer(engine: Engine, workspace_id: str, customer_id: str) -> None:
    """Store the workspace's Stripe customer unless one is stored already."""
    try:
        with engine.begin() as conn:
            conn.execute(
                stripe_customers.insert().values(workspace_id=workspace_id, customer_id=customer_id)
            )
    except IntegrityError:
        pass  # remembered before (by us, by a subscription, or by another process)


def to_invoice(inv: Any, billed_workspace: str | None = None) -> Invoice:
    metadata = metadata_of(inv)
    request_id = metadata.get("line_request_id")
    try:
        rid = UUID(request_id) if request_id else None
    except ValueError:
        rid = None
    return Invoice(
        id=inv.id,
        url=inv.hosted_invoice_url or "",
        status=InvoiceStatus(inv.status),
        amount_due=int(inv.amount_due or 0),
        amount_paid=int(inv.amount_paid or 0),
        request_id=rid,
        billed_workspace=billed_workspace,
        currency=getattr(inv, "currency", None),
        for_subscription=_of_subscription(inv),
    )


def _of_subscription(inv: Any) -> bool:
    """Billed by a subscription (`subscription`, or `parent.subscription_details` in newer
    API versions), so not an add-on's invoice."""
    if getattr(inv, "subscription", None):
        return True
    parent = getattr(inv, "parent", None)
    return bool(parent and getattr(parent, "subscription_details", None))


def with_client(api_key: str, api_base: str | None, timeout: float) -> stripe.StripeClient:
    """The SDK client; `api_base` points it at a Stripe-compatible server (tests)."""
    base: dict[str, str] = {"api": api_base.rstrip("/")} if api_base else {}
    return stripe.StripeClient(
        api_key,
        base_addresses=base,  # type: ignore[arg-type]
        max_network_retries=2,
        http_client=stripe.RequestsClient(timeout=timeout),
    )
