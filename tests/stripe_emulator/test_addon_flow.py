"""The whole add-on flow through the real SDK: customer -> draft invoice -> item -> finalize ->
hosted page -> customer pays -> invoice.paid webhook -> invoice payment -> refund."""

from __future__ import annotations

import json

import httpx
import stripe

from tests.support.stripe_emulator import StripeEmulator

from .conftest import SECRET, WebhookReceiver


def test_add_on_flow_end_to_end(
    emu: StripeEmulator, client: stripe.StripeClient, receiver: WebhookReceiver
) -> None:
    emu.webhook_url = receiver.url
    metadata = {"workspace_id": "ws_42", "line request": "lr/1 & more [x]", "emoji": "café ✓"}

    customer = client.v1.customers.create(
        params={"name": "Acme Inc", "email": "billing@acme.test", "metadata": metadata}
    )
    assert customer.id.startswith("cus_")
    assert customer.object == "customer"
    assert customer.to_dict()["metadata"] == metadata
    assert client.v1.customers.retrieve(customer.id).email == "billing@acme.test"

    draft = client.v1.invoices.create(
        params={
            "customer": customer.id,
            "collection_method": "send_invoice",
            "days_until_due": 7,
            "auto_advance": False,
            "pending_invoice_items_behavior": "exclude",
            "description": "Extra email line",
            "metadata": {"line_request_id": "lr_1"},
        }
    )
    assert draft.id.startswith("in_")
    assert (draft.status, draft.hosted_invoice_url, draft.number) == ("draft", None, None)
    assert draft.amount_due == 0 and draft.livemode is False
    assert draft.metadata.to_dict() == {"line_request_id": "lr_1"}

    item = client.v1.invoice_items.create(
        params={
            "customer": customer.id,
            "invoice": draft.id,
            "amount": 2500,
            "currency": "usd",
            "description": "Email line add-on",
            "metadata": {"line_request_id": "lr_1"},
        }
    )
    assert item.id.startswith("ii_") and item.invoice == draft.id and item.amount == 2500
    with_line = client.v1.invoices.retrieve(draft.id)
    assert (with_line.subtotal, with_line.total, with_line.amount_due) == (2500, 2500, 2500)
    (line,) = with_line.lines.data
    assert line.id.startswith("il_") and line.parent.invoice_item_details.invoice_item == item.id

    opened = client.v1.invoices.finalize_invoice(draft.id, params={"auto_advance": False})
    assert opened.status == "open" and opened.number
    assert opened.hosted_invoice_url == f"{emu.base_url}/hosted/{draft.id}"
    assert opened.due_date == opened.status_transitions.finalized_at + 7 * 86_400
    page = httpx.get(opened.hosted_invoice_url, trust_env=False)
    assert page.status_code == 200 and "25.00 USD" in page.text and opened.number in page.text
    assert emu.wait_for_deliveries()  # events caused by API calls arrive in the background
    assert receiver.types == ["invoice.finalized"]

    paid = emu.pay_invoice(draft.id)
    assert (
        paid["status"] == "paid" and paid["amount_paid"] == 2500 and paid["amount_remaining"] == 0
    )
    assert receiver.types == ["invoice.finalized", "invoice.paid", "invoice.payment_succeeded"]
    paid_event = receiver.received[1]
    assert paid_event["data"]["object"]["id"] == draft.id
    assert paid_event["data"]["object"]["metadata"] == {"line_request_id": "lr_1"}
    assert paid_event["request"] == {"id": None, "idempotency_key": None}
    assert emu.pending_events() == []

    payments = client.v1.invoice_payments.list(params={"invoice": draft.id, "status": "paid"})
    (payment,) = payments.data
    assert payment.id.startswith("inpay_") and payment.object == "invoice_payment"
    assert (payment.amount_paid, payment.amount_requested, payment.is_default) == (2500, 2500, True)
    assert payment.payment.type == "payment_intent"
    intent = client.v1.payment_intents.retrieve(payment.payment.payment_intent)
    assert intent.status == "succeeded" and intent.amount_received == 2500
    assert intent.latest_charge.startswith("ch_")

    refund = client.v1.refunds.create(
        params={
            "payment_intent": intent.id,
            "reason": "requested_by_customer",
            "metadata": {"line_request_id": "lr_1"},
        }
    )
    assert refund.id.startswith("re_") and refund.status == "succeeded"
    assert (refund.amount, refund.payment_intent, refund.charge) == (
        2500,
        intent.id,
        intent.latest_charge,
    )
    assert client.v1.refunds.retrieve(refund.id).metadata.to_dict() == {"line_request_id": "lr_1"}
    assert emu.wait_for_deliveries()
    assert receiver.types[-1] == "charge.refunded"
    charge = receiver.received[-1]["data"]["object"]
    assert charge["refunded"] is True and charge["amount_refunded"] == 2500
    assert receiver.rejected == []


def test_events_are_retrievable_and_carry_the_api_request(
    emu: StripeEmulator, client: stripe.StripeClient
) -> None:
    customer = client.v1.customers.create(params={"name": "A"})
    invoice = client.v1.invoices.create(params={"customer": customer.id})
    client.v1.invoice_items.create(
        params={"customer": customer.id, "invoice": invoice.id, "amount": 100, "currency": "usd"}
    )
    client.v1.invoices.finalize_invoice(invoice.id, options={"idempotency_key": "fin-1"})
    (event,) = emu.events
    assert event["type"] == "invoice.finalized"
    assert event["api_version"] == "2026-10-28.endive"
    assert event["request"]["idempotency_key"] == "fin-1"
    assert event["request"]["id"].startswith("req_")
    fetched = client.v1.events.retrieve(event["id"])
    assert fetched.type == "invoice.finalized" and fetched.data.object.id == invoice.id
    assert [e.id for e in client.v1.events.list(params={"type": "invoice.finalized"})] == [
        event["id"]
    ]


def test_lists_expand_and_pagination(emu: StripeEmulator, client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create(params={"name": "Pager"})
    other = client.v1.customers.create(params={"name": "Other"})
    ids = [client.v1.invoices.create(params={"customer": customer.id}).id for _ in range(5)]
    client.v1.invoices.create(params={"customer": other.id})

    page = client.v1.invoices.list(params={"customer": customer.id, "limit": 2})
    assert page.object == "list" and page.has_more is True
    assert [inv.id for inv in page.data] == ids[::-1][:2]  # newest first, like Stripe
    every = [inv.id for inv in page.auto_paging_iter()]
    assert every == ids[::-1]

    invoice = ids[0]
    client.v1.invoice_items.create(
        params={"customer": customer.id, "invoice": invoice, "amount": 700, "currency": "usd"}
    )
    client.v1.invoices.finalize_invoice(invoice)
    emu.pay_invoice(invoice)
    expanded = client.v1.invoices.retrieve(
        invoice, params={"expand": ["payments.data.payment.payment_intent"]}
    )
    intent = expanded.payments.data[0].payment.payment_intent
    assert intent.object == "payment_intent" and intent.amount == 700
    listed = client.v1.invoice_payments.list(
        params={"invoice": invoice, "expand": ["data.payment.payment_intent"]}
    )
    assert listed.data[0].payment.payment_intent.id == intent.id


def test_invoice_item_from_a_price(emu: StripeEmulator, client: stripe.StripeClient) -> None:
    price = emu.create_price(1200, recurring=False)
    assert price["id"].startswith("price_") and price["type"] == "one_time"
    customer = client.v1.customers.create(params={"name": "P"})
    invoice = client.v1.invoices.create(params={"customer": customer.id})
    item = client.v1.invoice_items.create(
        params={
            "customer": customer.id,
            "invoice": invoice.id,
            "pricing": {"price": price["id"]},
            "quantity": 2,
        }
    )
    assert item.amount == 2400 and item.pricing.price_details.price == price["id"]
    assert client.v1.invoices.retrieve(invoice.id).amount_due == 2400
    assert client.v1.prices.retrieve(price["id"]).unit_amount == 1200


def test_sdk_request_log_and_headers(emu: StripeEmulator, client: stripe.StripeClient) -> None:
    client.v1.customers.create(params={"name": "Log", "metadata": {"a": "1"}})
    (logged,) = emu.requests
    assert logged["method"] == "POST" and logged["path"] == "/v1/customers"
    assert logged["params"] == {"name": "Log", "metadata": {"a": "1"}}
    assert logged["idempotency_key"]  # the SDK sends one on every POST
    assert logged["stripe_version"] == "2026-10-28.endive"
    assert logged["status"] == 200 and logged["replayed"] is False


def test_signature_helper_matches_the_sdk(emu: StripeEmulator) -> None:
    payload = json.dumps({"id": "evt_1", "object": "event"}).encode()
    expected = stripe.WebhookSignature.generate_signature_header(
        payload.decode(), SECRET, timestamp=1_700_000_000
    )
    assert emu.sign(payload, timestamp=1_700_000_000) == expected
