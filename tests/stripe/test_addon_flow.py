"""The add-on flow over real HTTP, the real `stripe` SDK and the emulator (SPEC §3, §4, §5):
request → Stripe invoice → customer pays → invoice.paid webhook → provisioning → active."""

from __future__ import annotations

from tests.stripe.helpers import ServeFn, Tuco, creating_calls, stripe_invoice
from tests.support.stripe_emulator import StripeEmulator


def test_a_paid_add_on_goes_from_awaiting_payment_to_active_through_the_stripe_webhook(
    tuco: Tuco,
) -> None:
    ws = tuco.workspace("org_flow")
    posted = ws.add_on()
    invoice_id = posted["line"]["stripeInvoiceId"]
    assert posted["paymentUrl"] == stripe_invoice(tuco.emu, invoice_id)["hosted_invoice_url"]
    assert posted["line"]["paymentLinkUrl"] == posted["paymentUrl"]

    tuco.emu.pay_invoice(invoice_id)

    active = ws.wait_for(posted["line"]["_id"], "active")
    assert active["line"]["paymentStatus"] == "paid"
    assert active["line"]["isActive"] is True
    types = tuco.event_types(posted["line"]["_id"])
    assert types[:4] == ["Requested", "Invoiced", "Paid", "ProvisioningStarted"]
    assert types[-1] == "Activated"


def test_the_stripe_invoice_is_sent_with_the_request_and_workspace_in_its_metadata(
    tuco: Tuco,
) -> None:
    ws = tuco.workspace("org_meta")
    posted = ws.add_on()
    invoice = stripe_invoice(tuco.emu, posted["line"]["stripeInvoiceId"])
    assert invoice["status"] == "open"
    assert invoice["collection_method"] == "send_invoice"
    assert invoice["metadata"]["line_request_id"] == posted["line"]["_id"]
    assert invoice["metadata"]["workspace_id"] == "org_meta"
    assert invoice["amount_due"] == 500  # TUCO_PRICE_EMAIL's default, in cents


def test_every_creating_call_to_stripe_carries_an_idempotency_key_derived_from_the_request(
    tuco: Tuco,
) -> None:
    ws = tuco.workspace("org_keys")
    request_id = ws.add_on()["line"]["_id"]
    tuco.emu.wait_for_deliveries()
    calls = creating_calls(tuco.emu)
    customer_calls = [c for c in calls if c["path"] == "/v1/customers"]
    request_calls = [c for c in calls if c["path"] != "/v1/customers"]
    assert {c["path"].split("/")[2] for c in request_calls} == {"invoices", "invoiceitems"}
    assert all(request_id in (c["idempotency_key"] or "") for c in request_calls), request_calls
    assert all("org_keys" in (c["idempotency_key"] or "") for c in customer_calls)
    # A retried step replays the first answer: one invoice, one item, one customer.
    assert len(tuco.emu.objects("invoice")) == 1
    assert len(tuco.emu.objects("invoiceitem")) == 1
    assert len(tuco.emu.objects("customer")) == 1


def test_a_second_add_on_of_the_workspace_is_billed_to_the_same_stripe_customer(
    tuco: Tuco,
) -> None:
    ws = tuco.workspace("org_twice")
    first = ws.add_on()
    tuco.emu.pay_invoice(first["line"]["stripeInvoiceId"])
    ws.wait_for(first["line"]["_id"], "active")

    second = ws.add_on(body=None)
    customers = {
        stripe_invoice(tuco.emu, answer["line"]["stripeInvoiceId"])["customer"]
        for answer in (first, second)
    }
    assert len(customers) == 1
    assert [c["metadata"]["workspace_id"] for c in tuco.emu.objects("customer").values()] == [
        "org_twice"
    ]


def test_an_add_on_is_billed_at_the_stripe_price_configured_for_its_channel(
    serve: ServeFn, emu: StripeEmulator
) -> None:
    price = emu.create_price(700, recurring=False, product_name="Extra email line")
    tuco = serve(TUCO_STRIPE_PRICE_EMAIL=price["id"])
    posted = tuco.workspace("org_priced").add_on()
    invoice = stripe_invoice(tuco.emu, posted["line"]["stripeInvoiceId"])
    assert invoice["amount_due"] == 700
