"""The customer-facing pages behind `hosted_invoice_url` and `invoice_pdf`."""

from __future__ import annotations

import html
import re

from .store import Store


def hosted_page(store: Store, path: str) -> tuple[int, str, bytes]:
    """The customer-facing invoice page behind `hosted_invoice_url` (and a stub PDF)."""
    match = re.fullmatch(r"/hosted/([A-Za-z0-9_]+)(/pdf)?", path)
    with store.lock:
        inv = store.tables["invoice"].get(match.group(1)) if match else None
        if match is None or inv is None or inv["hosted_invoice_url"] is None:
            return 404, "text/html; charset=utf-8", b"<h1>Invoice not found</h1>"
        if match.group(2):
            return 200, "application/pdf", b"%PDF-1.4\n% Stripe emulator invoice\n%%EOF\n"
        amount = f"{inv['amount_due'] / 100:.2f} {inv['currency'].upper()}"
        fields = (inv["number"], amount, inv["status"], inv["description"] or "")
    number, amount, status, description = (html.escape(str(value)) for value in fields)
    page = (
        f"<!doctype html><html><head><title>Invoice {number}</title></head><body>"
        f"<h1>Invoice {number}</h1><p class='description'>{description}</p>"
        f"<p>Amount due: <span class='amount'>{amount}</span></p>"
        f"<p>Status: <span class='status'>{status}</span></p></body></html>"
    )
    return 200, "text/html; charset=utf-8", page.encode("utf-8")
