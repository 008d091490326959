"""A payment is tied to its own invoice (security review, finding 1), against the Stripe
emulator and a real `tuco serve`: a 1-cent invoice to another customer whose metadata names
the request is refunded and settles nothing; the request's own invoice, paid later, settles it.
Every payment ends provisioned or refunded (SPEC §6, invariant 6)."""

from __future__ import annotations

from typing import Any

from adapters.stripe_billing import with_client
from tests.stripe.helpers import API_KEY, Tuco, eventually, refunds_for_invoice, stripe_invoice


def invoice_naming(tuco: Tuco, customer_id: str, request_id: str, amount: int) -> str:
    """An invoice someone else creates at Stripe, whose metadata names the request."""
    client = with_client(API_KEY, tuco.emu.base_url, 10)
    metadata = {"line_request_id": request_id, "workspace_id": "org_victim"}
    inv: Any = client.v1.invoices.create(
        params={
            "customer": customer_id,
            "collection_method": "send_invoice",
            "days_until_due": 1,
            "auto_advance": False,
            "metadata": metadata,
        }
    )
    client.v1.invoice_items.create(
        params={
            "customer": customer_id,
            "invoice": inv.id,
            "amount": amount,
            "currency": "usd",
            "metadata": metadata,
        }
    )
    client.v1.invoices.finalize_invoice(inv.id, params={"auto_advance": False})
    return str(inv.id)


def refunded_at_stripe(tuco: Tuco, invoice_id: str) -> list[dict[str, Any]]:
    return [r for r in refunds_for_invoice(tuco.emu, invoice_id) if r["status"] == "succeeded"]


def test_a_one_cent_invoice_to_another_customer_is_refunded_and_the_real_one_settles(
    tuco: Tuco,
) -> None:
    ws = tuco.workspace("org_victim")
    posted = ws.add_on()  # $5: the request records its own invoice
    request_id, own_invoice = posted["line"]["_id"], posted["line"]["stripeInvoiceId"]
    other = tuco.emu.create_customer(name="attacker", metadata={"workspace_id": "org_victim"})
    stray = invoice_naming(tuco, other["id"], request_id, amount=1)

    tuco.emu.pay_invoice(stray)  # invoice.paid is delivered to the service

    eventually(lambda: refunded_at_stripe(tuco, stray), "the stray payment to be refunded")
    eventually(
        lambda: tuco.event_counts(request_id)["StrayPaymentRefunded"] == 1,
        "the stray refund to be recorded",
    )
    got = ws.get(request_id)
    assert (got["status"], got["line"]["paymentStatus"]) == ("awaiting_payment", "pending")
    assert got["line"]["stripeInvoiceId"] == own_invoice
    (refund,) = refunded_at_stripe(tuco, stray)
    assert refund["amount"] == 1
    [received] = tuco.events_of(request_id, "StrayPaymentReceived")
    assert (received.invoice_id, received.amount) == (stray, 1)

    tuco.emu.pay_invoice(own_invoice)  # the real invoice, paid later

    ws.wait_for(request_id, "active")
    counts = tuco.event_counts(request_id)
    assert (counts["Paid"], counts["Refunded"]) == (1, 0), counts
    assert (counts["StrayPaymentReceived"], counts["StrayPaymentRefunded"]) == (1, 1), counts
    [paid] = tuco.events_of(request_id, "Paid")
    assert (paid.invoice_id, paid.amount) == (own_invoice, 500)
    assert refunds_for_invoice(tuco.emu, own_invoice) == []
    assert stripe_invoice(tuco.emu, own_invoice)["status"] == "paid"


def test_a_second_invoice_of_the_workspaces_own_customer_is_refunded_too(tuco: Tuco) -> None:
    ws = tuco.workspace("org_twice_billed")
    posted = ws.add_on()
    request_id, own_invoice = posted["line"]["_id"], posted["line"]["stripeInvoiceId"]
    customer = stripe_invoice(tuco.emu, own_invoice)["customer"]
    tuco.emu.pay_invoice(own_invoice)
    ws.wait_for(request_id, "active")

    duplicate = invoice_naming(tuco, customer, request_id, amount=500)  # same customer, again
    tuco.emu.pay_invoice(duplicate)

    eventually(lambda: refunded_at_stripe(tuco, duplicate), "the second payment to be refunded")
    eventually(
        lambda: tuco.event_counts(request_id)["StrayPaymentRefunded"] == 1,
        "the refund to be recorded",
    )
    assert ws.get(request_id)["line"]["paymentStatus"] == "paid"  # its own payment stands
    assert refunds_for_invoice(tuco.emu, own_invoice) == []
    assert all(status == 200 for status in tuco.emu.deliver())  # redeliveries change nothing
    assert tuco.event_counts(request_id)["StrayPaymentReceived"] == 1
