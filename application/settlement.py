"""Money steps after a recorded decision: invoice, payment, cancel, void, refund."""

from __future__ import annotations

import logging
from collections.abc import Callable
from uuid import UUID

from application.app import LinesApp
from application.ports import Billing, BillingUnavailable, Clock, Invoice, InvoiceOrder
from application.ports import InvoiceStatus as Status
from application.views import LineView, WorkKind
from domain import decisions
from domain.enums import LineState

log = logging.getLogger(__name__)
StepFn = Callable[[UUID], LineView | None]


class Settlement:
    """Each step reads the request's committed state, asks the billing provider with a key
    derived from the request id, and records what happened; the worker retries unfinished
    steps."""

    def __init__(self, app: LinesApp, billing: Billing, clock: Clock) -> None:
        self.app = app
        self.billing = billing
        self.clock = clock

    def issue_invoice(self, request_id: UUID) -> LineView | None:
        view = self.app.view(request_id)
        if not view.needs_invoice:
            return None
        invoice = self.billing.create_invoice(order_of(view))
        recorded = self.app.change_request(
            request_id, lambda r, ws: decisions.record_invoice(r, invoice.id, invoice.url)
        )
        return self.apply_invoice(invoice) or recorded

    def search_invoice(self, request_id: UUID) -> LineView | None:
        """A request canceled before its invoice id was recorded: find the invoice the
        provider may hold (its metadata names the request), record it, and void it, or
        refund it if it was paid; or record that there is none."""
        view = self.app.view(request_id)
        if WorkKind.INVOICE_SEARCH not in view.owed:
            return None
        invoice = self.billing.find_invoice(view.id, view.workspace_id, view.created_at)
        found = None if invoice is None else (invoice.id, invoice.url)
        recorded = self.app.change_request(
            request_id, lambda r, ws: decisions.record_invoice_search(r, found)
        )
        if invoice is None:
            return recorded
        # INFO, not WARNING: a client that cancels right after a 409 can get here before
        # the invoice id is recorded; it is normal traffic, handled here as designed.
        log.info("canceled request %s: found its unrecorded invoice %s (%s)",
                 request_id, invoice.id, invoice.status.value)  # fmt: skip
        if invoice.status is Status.PAID:
            return self.apply_invoice(invoice) or recorded
        return self.try_step(self.void, request_id) or recorded

    def reconcile(self, request_id: UUID) -> LineView | None:
        """Re-read the request's invoice and record what the provider already knows."""
        view = self.app.view(request_id)
        if view.invoice_id is None:
            return None
        return self.apply_invoice(self.billing.get_invoice(view.invoice_id))

    def apply_invoice(self, invoice: Invoice) -> LineView | None:
        """Record what the provider says of an invoice: paid → the payment; void or
        uncollectible → a request still waiting on it can never be paid, so it is canceled
        and the workspace is free again."""
        if invoice.request_id is None:
            return None
        if invoice.status is Status.PAID:
            return self.record_payment(invoice.request_id, invoice)
        if invoice.status in (Status.VOID, Status.UNCOLLECTIBLE):
            req = self.app.find_request(invoice.request_id)
            if (
                req is not None
                and req.state is LineState.AWAITING_PAYMENT
                and decisions.is_own_invoice(req, facts_of(invoice))
            ):
                reason = f"invoice {invoice.status.value}"
                return self.cancel(req.workspace_id, req.id, by="billing", reason=reason)
        return None

    def record_payment(self, request_id: UUID, invoice: Invoice) -> LineView | None:
        """The request's own payment settles it; any other paid invoice naming it is a
        stray payment, recorded and refunded (`decisions.receive_payment`)."""
        if self.app.find_request(request_id) is None:
            log.warning("paid invoice %s names no line request %s", invoice.id, request_id)
            return None
        now = self.clock.now()
        facts = facts_of(invoice)
        view = self.app.change_request(
            request_id, lambda r, ws: decisions.receive_payment(r, ws, facts, now)
        )
        if WorkKind.REFUND in view.owed:
            return self.try_step(self.refund, request_id) or view
        return view

    def cancel(
        self,
        workspace_id: str,
        request_id: UUID,
        by: str,
        reason: str = "canceled by the workspace",
    ) -> LineView:
        view = self.app.change_request(
            request_id, lambda r, ws: decisions.cancel(r, ws, by, reason), workspace_id
        )
        if WorkKind.VOID in view.owed:
            return self.try_step(self.void, request_id) or view
        return view

    def void(self, request_id: UUID) -> LineView | None:
        view = self.app.view(request_id)
        if WorkKind.VOID not in view.owed or view.invoice_id is None:
            return None
        invoice = self.billing.void_invoice(view.invoice_id)
        if invoice.status is Status.PAID:  # paid just before the void reached the provider
            return self.apply_invoice(invoice)
        return self.app.change_request(
            request_id, lambda r, ws: decisions.record_void(r, invoice.id)
        )

    def refund(self, request_id: UUID) -> LineView | None:
        """Return what is owed back: stray payments of other invoices, then the request's
        own payment when it failed or was canceled."""
        view = self.app.view(request_id)
        if WorkKind.REFUND not in view.owed:
            return None
        req = self.app.line_request(request_id)
        for invoice_id in list(req.stray_payments):
            view = self._refund_stray(request_id, invoice_id)
        if not req.refund_due or view.invoice_id is None:
            return view
        refund_id = self.billing.refund(view.invoice_id, view.id)
        return self.app.change_request(request_id, lambda r, ws: decisions.refund(r, refund_id))

    def _refund_stray(self, request_id: UUID, invoice_id: str) -> LineView:
        refund_id = self.billing.refund(invoice_id, request_id)
        log.warning("stray payment of invoice %s for %s refunded", invoice_id, request_id)
        return self.app.change_request(
            request_id, lambda r, ws: decisions.refund_stray(r, invoice_id, refund_id)
        )

    def try_issue_invoice(self, request_id: UUID) -> LineView | None:
        return self.try_step(self.issue_invoice, request_id)

    def try_reconcile(self, request_id: UUID) -> LineView | None:
        return self.try_step(self.reconcile, request_id)

    @staticmethod
    def try_step(step: StepFn, request_id: UUID) -> LineView | None:
        """Run a side-effect step inline; if the provider is unreachable, leave it to the
        worker. Returns the request as the step left it (None: nothing done)."""
        try:
            return step(request_id)
        except BillingUnavailable as e:
            log.warning("billing step %s for %s deferred: %s", step.__name__, request_id, e)
            return None


def order_of(view: LineView) -> InvoiceOrder:
    """What the provider is asked to bill for an add-on request."""
    return InvoiceOrder(
        request_id=view.id,
        workspace_id=view.workspace_id,
        channel=view.channel,
        amount=view.price_amount or 0,
        currency=view.currency or "usd",
        description=f"Additional {view.channel.value} line: {view.first_name} {view.last_name}",
        requested_at=view.created_at,
    )


def facts_of(invoice: Invoice) -> decisions.InvoiceFacts:
    return decisions.InvoiceFacts(
        invoice_id=invoice.id,
        amount_due=invoice.amount_due,
        amount_paid=invoice.amount_paid,
        currency=invoice.currency,
        billed_workspace=invoice.billed_workspace,
        addon=not invoice.for_subscription,
    )
