"""The sandbox billing provider's hosted invoice page and pay endpoint."""

from __future__ import annotations

from html import escape

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from adapters.sandbox_billing import SandboxBilling
from api.auth import Access
from api.bootstrap import Services
from api.operations import Operation, Param
from api.responses import JSON
from api.schemas import PaidAnswer
from application.ports import InvoiceNotFound, InvoiceStatus


def _billing(request: Request) -> SandboxBilling:
    services: Services = request.app.state.services
    billing = services.sandbox_billing
    if billing is None:
        raise InvoiceNotFound(request.path_params["invoice_id"])
    return billing


async def invoice_page(request: Request) -> Response:
    billing = _billing(request)
    invoice, description, currency = await run_in_threadpool(
        billing.describe, request.path_params["invoice_id"]
    )
    amount = f"{invoice.amount_due / 100:.2f} {currency.upper()}"
    button = (
        f'<form method="post" action="/sandbox/invoices/{escape(invoice.id)}/pay">'
        '<button type="submit">Pay now</button></form>'
        if invoice.status is InvoiceStatus.OPEN
        else ""
    )
    return HTMLResponse(
        "<!doctype html><html><head><title>Tuco sandbox invoice</title></head><body>"
        f"<h1>Invoice {escape(invoice.id)}</h1><p>{escape(description)}</p>"
        f"<p>Amount due: {escape(amount)}</p><p>Status: {invoice.status.value}</p>"
        f"{button}<p><small>Sandbox billing: no money moves.</small></p></body></html>"
    )


async def pay_invoice(request: Request) -> Response:
    """Pay an invoice; unless `?notify=false`, tell the service the way a Stripe webhook
    would (the notification is lost otherwise, for trying reconciliation)."""
    services: Services = request.app.state.services
    billing = _billing(request)
    invoice_id = request.path_params["invoice_id"]
    notify = request.query_params.get("notify", "true").lower() not in ("false", "0", "no")

    def work() -> InvoiceStatus:
        invoice = billing.pay(invoice_id)
        if notify:
            services.billing_events.invoice_changed(invoice.id)
        return invoice.status

    status = await run_in_threadpool(work)
    if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return RedirectResponse(f"/sandbox/invoices/{invoice_id}", status_code=303)
    return JSON(PaidAnswer(invoice_id=invoice_id, status=status.value, notified=notify))


SANDBOX = "sandbox"
NOTIFY = Param(
    "notify",
    "query",
    {"type": "string", "enum": ["true", "false"]},
    description="`false`: pay without telling the service (as if Stripe's webhook was lost).",
)

operations = [
    Operation(
        "GET", "/sandbox/invoices/{invoice_id}", invoice_page, "sandboxInvoicePage",
        "The sandbox hosted invoice page", SANDBOX, Access.PUBLIC, media_type="text/html",
        errors={404: ("not_found",)},
    ),
    Operation(
        "POST", "/sandbox/invoices/{invoice_id}/pay", pay_invoice, "sandboxPayInvoice",
        "Pay a sandbox invoice", SANDBOX, Access.PUBLIC, PaidAnswer, params=(NOTIFY,),
        errors={404: ("not_found",), 409: ("invalid_transition",)},
        other_answers={303: ("Paid from the page's form: back to the invoice page.", None)},
        description="No money moves. A form post is redirected back to the page.",
        answer_example={"invoiceId": "in_sb_123", "status": "paid", "notified": True},
    ),
]  # fmt: skip
