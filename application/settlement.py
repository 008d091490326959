"""Money steps after a recorded decision: invoice, payment, cancel, void, refund."""

from __future__ import annotations

import logging
from collections.abc import Callable
from uuid import UUID

from eventsourcing.domain import Aggregate

from application.app import LinesApp
from application.ports import Billing, BillingUnavailable, Clock, Invoice, InvoiceOrder
from application.ports import InvoiceStatus as Status
from domain.enums import LineState
from domain.line_request import LineRequest

log = logging.getLogger(__name__)
StepFn = Callable[[UUID], None]


class Settlement:
    """Each step re-reads the request, asks the billing provider with a key derived from
    the request id, and records what happened; the worker retries unfinished steps."""

    def __init__(self, app: LinesApp, billing: Billing, clock: Clock) -> None:
        self.app = app
        self.billing = billing
        self.clock = clock

    def issue_invoice(self, request_id: UUID) -> None:
        req = self.app.line_request(request_id)
        if not req.needs_invoice:
            return
        invoice = self.billing.create_invoice(
            InvoiceOrder(
                request_id=req.id,
                workspace_id=req.workspace_id,
                channel=req.channel,
                amount=req.price_amount or 0,
                currency=req.currency or "usd",
                description=(
                    f"Additional {req.channel.value} line: {req.first_name} {req.last_name}"
                ),
            )
        )

        def decide(r: LineRequest) -> list[Aggregate]:
            return [r] if r.record_invoice(invoice.id, invoice.url) else []

        self.app.change_request(request_id, decide)
        self.apply_invoice(invoice)

    def reconcile(self, request_id: UUID) -> None:
        """Re-read the request's invoice and record what the provider already knows."""
        req = self.app.line_request(request_id)
        if req.invoice_id is not None:
            self.apply_invoice(self.billing.get_invoice(req.invoice_id))

    def apply_invoice(self, invoice: Invoice) -> None:
        """Record what the provider says of an invoice: paid → the payment; void or
        uncollectible → a request still waiting on it can never be paid, so it is canceled
        and the workspace is free again."""
        if invoice.request_id is None:
            return
        if invoice.status is Status.PAID:
            self.record_payment(invoice.request_id, invoice.id, invoice.amount_paid)
        elif invoice.status in (Status.VOID, Status.UNCOLLECTIBLE):
            req = self.app.find_request(invoice.request_id)
            if (
                req is not None
                and req.state is LineState.AWAITING_PAYMENT
                and req.invoice_id in (None, invoice.id)
            ):
                reason = f"invoice {invoice.status.value}"
                self.cancel(req.workspace_id, req.id, by="billing", reason=reason)

    def record_payment(self, request_id: UUID, invoice_id: str, amount: int) -> None:
        def decide(req: LineRequest) -> list[Aggregate]:
            settles_workspace = req.holds_slot
            if not req.record_payment(invoice_id, amount, self.clock.now()):
                return []
            if not settles_workspace:
                return [req]
            ws = self.app.workspace(req.workspace_id)
            ws.settle_payment(req.id)
            return [ws, req]

        if self.app.change_request(request_id, decide).refund_due:
            self.try_step(self.refund, request_id)

    def cancel(
        self,
        workspace_id: str,
        request_id: UUID,
        by: str,
        reason: str = "canceled by the workspace",
    ) -> None:
        def decide(req: LineRequest) -> list[Aggregate]:
            req.cancel(by=by, reason=reason)
            ws = self.app.workspace(req.workspace_id)
            ws.release_slot(req.id, req.channel)
            return [ws, req]

        if self.app.change_request(request_id, decide, workspace_id).needs_void:
            self.try_step(self.void, request_id)

    def void(self, request_id: UUID) -> None:
        req = self.app.line_request(request_id)
        if not req.needs_void or req.invoice_id is None:
            return
        invoice = self.billing.void_invoice(req.invoice_id)
        if invoice.status is Status.PAID:  # paid just before the void reached the provider
            self.apply_invoice(invoice)
            return

        def decide(r: LineRequest) -> list[Aggregate]:
            if not r.needs_void:
                return []
            r.record_void(invoice.id)
            return [r]

        self.app.change_request(request_id, decide)

    def refund(self, request_id: UUID) -> None:
        req = self.app.line_request(request_id)
        if not req.refund_due or req.invoice_id is None:
            return
        refund_id = self.billing.refund(req.invoice_id, req.id)

        def decide(r: LineRequest) -> list[Aggregate]:
            if not r.refund_due:
                return []
            r.record_refund(refund_id, r.amount_paid or 0)
            return [r]

        self.app.change_request(request_id, decide)

    def try_issue_invoice(self, request_id: UUID) -> None:
        self.try_step(self.issue_invoice, request_id)

    def try_reconcile(self, request_id: UUID) -> None:
        self.try_step(self.reconcile, request_id)

    @staticmethod
    def try_step(step: StepFn, request_id: UUID) -> bool:
        """Run a side-effect step inline; if the provider is unreachable, leave it to the
        worker. True when the step completed."""
        try:
            step(request_id)
        except BillingUnavailable as e:
            log.warning("billing step %s for %s deferred: %s", step.__name__, request_id, e)
            return False
        return True
