"""Sandbox billing: invoices kept in the service's own database, paid on a local page."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from uuid import UUID

from sqlalchemy import Engine, select
from sqlalchemy.exc import DBAPIError, IntegrityError

from adapters.schema import sandbox_invoices
from application.ports import (
    Billing,
    BillingUnavailable,
    Clock,
    Invoice,
    InvoiceNotFound,
    InvoiceOrder,
    InvoiceStatus,
)

t = sandbox_invoices.c


@contextmanager
def _database_errors_as_unavailable() -> Iterator[None]:
    try:
        yield
    except IntegrityError:
        raise
    except DBAPIError as e:
        raise BillingUnavailable(f"sandbox billing database error: {e.orig}") from e


class InvoiceNotPayable(Exception):
    def __init__(self, invoice_id: str, status: str) -> None:
        super().__init__(f"Invoice {invoice_id} is {status} and cannot be paid.")


class SandboxBilling(Billing):
    """Behaves like the Stripe flow (open → paid | void), with no account anywhere."""

    def __init__(self, write_engine: Engine, read_engine: Engine, public_url: str, clock: Clock):
        self.write_engine = write_engine
        self.read_engine = read_engine
        self.public_url = public_url
        self.clock = clock

    def invoice_url(self, invoice_id: str) -> str:
        return f"{self.public_url}/sandbox/invoices/{invoice_id}"

    def create_invoice(self, order: InvoiceOrder) -> Invoice:
        """One invoice per request. Its id is random, so that knowing a request's id (or the
        workspace id and Idempotency-Key it is derived from) does not find its pay page."""
        existing = self._invoice_of(order.request_id)
        if existing is not None:
            return self.get_invoice(existing)
        invoice_id = "in_sb_" + secrets.token_hex(12)
        try:
            with _database_errors_as_unavailable(), self.write_engine.begin() as conn:
                conn.execute(
                    sandbox_invoices.insert().values(
                        id=invoice_id,
                        request_id=str(order.request_id),
                        workspace_id=order.workspace_id,
                        description=order.description,
                        amount=order.amount,
                        currency=order.currency,
                        status=InvoiceStatus.OPEN.value,
                        amount_paid=0,
                        created_at=self.clock.now(),
                    )
                )
        except IntegrityError:  # created meanwhile (another process): return that one
            invoice_id = self._invoice_of(order.request_id) or invoice_id
        return self.get_invoice(invoice_id)

    def _invoice_of(self, request_id: UUID) -> str | None:
        with _database_errors_as_unavailable(), self.read_engine.connect() as conn:
            found = conn.execute(
                select(t.id).where(t.request_id == str(request_id))
            ).scalar_one_or_none()
        return None if found is None else str(found)

    def get_invoice(self, invoice_id: str) -> Invoice:
        with _database_errors_as_unavailable(), self.read_engine.connect() as conn:
            row = conn.execute(select(sandbox_invoices).where(t.id == invoice_id)).first()
        if row is None:
            raise InvoiceNotFound(invoice_id)
        return Invoice(
            id=row.id,
            url=self.invoice_url(row.id),
            status=InvoiceStatus(row.status),
            amount_due=row.amount,
            amount_paid=row.amount_paid,
            request_id=UUID(row.request_id),
            billed_workspace=row.workspace_id,
            currency=row.currency,
        )

    def describe(self, invoice_id: str) -> tuple[Invoice, str, str]:
        """The invoice with its description and currency, for the hosted page."""
        with _database_errors_as_unavailable(), self.read_engine.connect() as conn:
            row = conn.execute(select(t.description, t.currency).where(t.id == invoice_id)).first()
        if row is None:
            raise InvoiceNotFound(invoice_id)
        return self.get_invoice(invoice_id), row.description, row.currency

    def void_invoice(self, invoice_id: str) -> Invoice:
        self._transition(invoice_id, InvoiceStatus.OPEN, status=InvoiceStatus.VOID.value)
        return self.get_invoice(invoice_id)

    def pay(self, invoice_id: str) -> Invoice:
        """Sandbox only: the customer pays on the hosted page."""
        invoice = self.get_invoice(invoice_id)
        if invoice.status is InvoiceStatus.PAID:
            return invoice
        if invoice.status is not InvoiceStatus.OPEN:
            raise InvoiceNotPayable(invoice_id, invoice.status.value)
        self._transition(
            invoice_id,
            InvoiceStatus.OPEN,
            status=InvoiceStatus.PAID.value,
            amount_paid=invoice.amount_due,
        )
        paid = self.get_invoice(invoice_id)
        if paid.status is not InvoiceStatus.PAID:  # voided between our read and our update
            raise InvoiceNotPayable(invoice_id, paid.status.value)
        return paid

    def refund(self, invoice_id: str, request_id: UUID) -> str:
        refund_id = "re_sb_" + request_id.hex[:24]
        invoice = self.get_invoice(invoice_id)
        if invoice.status is not InvoiceStatus.PAID:
            raise BillingUnavailable(f"invoice {invoice_id} is {invoice.status.value}, not paid")
        with _database_errors_as_unavailable(), self.write_engine.begin() as conn:
            conn.execute(
                sandbox_invoices.update()
                .where(t.id == invoice_id, t.refund_id.is_(None))
                .values(refund_id=refund_id)
            )
        return refund_id

    def _transition(self, invoice_id: str, current: InvoiceStatus, **values: object) -> None:
        with _database_errors_as_unavailable(), self.write_engine.begin() as conn:
            conn.execute(
                sandbox_invoices.update()
                .where(t.id == invoice_id, t.status == current.value)
                .values(**values)
            )

    def find_invoice(
        self, request_id: UUID, workspace_id: str, since: datetime | None
    ) -> Invoice | None:
        with _database_errors_as_unavailable(), self.read_engine.connect() as conn:
            found = conn.execute(
                select(t.id).where(t.request_id == str(request_id))
            ).scalar_one_or_none()
        return None if found is None else self.get_invoice(str(found))
