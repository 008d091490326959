"""Subscriptions and prices set up by the test, read through the SDK; refund rules."""

from __future__ import annotations

import pytest
import stripe

from tests.support.stripe_emulator import StripeEmulator

from .conftest import WebhookReceiver, open_invoice


def test_subscription_lifecycle(
    emu: StripeEmulator, client: stripe.StripeClient, receiver: WebhookReceiver
) -> None:
    emu.webhook_url = receiver.url
    mini, pro = emu.create_price(900), emu.create_price(4900, currency="eur")
    assert mini["recurring"]["interval"] == "month" and mini["product"].startswith("prod_")
    customer = client.v1.customers.create(params={"name": "Subscriber"})

    created = emu.create_subscription(customer.id, mini["id"])
    assert created["id"].startswith("sub_") and created["status"] == "active"
    sub = client.v1.subscriptions.retrieve(created["id"])
    assert sub.customer == customer.id and sub.status == "active"
    item = sub["items"].data[0]
    assert item.id.startswith("si_")
    assert (item.price.id, item.price.unit_amount, item.price.currency) == (mini["id"], 900, "usd")

    emu.update_subscription(created["id"], price_id=pro["id"], status="past_due")
    sub = client.v1.subscriptions.retrieve(created["id"])
    assert sub.status == "past_due" and sub["items"].data[0].price.id == pro["id"]
    updated = receiver.received[-1]
    assert updated["type"] == "customer.subscription.updated"
    assert updated["data"]["previous_attributes"]["status"] == "active"
    assert updated["data"]["previous_attributes"]["items"]["data"][0]["price"]["id"] == mini["id"]

    assert emu.delete_subscription(created["id"])["status"] == "canceled"
    assert client.v1.subscriptions.retrieve(created["id"]).status == "canceled"
    assert receiver.types == [
        "customer.subscription.created",
        "customer.subscription.updated",
        "customer.subscription.deleted",
    ]
    assert client.v1.prices.retrieve(pro["id"]).currency == "eur"


def test_partial_refunds_then_too_much(client: stripe.StripeClient, emu: StripeEmulator) -> None:
    invoice = open_invoice(client, amount=1000)
    emu.pay_invoice(invoice.id)
    (payment,) = client.v1.invoice_payments.list(params={"invoice": invoice.id}).data
    intent = payment.payment.payment_intent

    assert client.v1.refunds.create(params={"payment_intent": intent, "amount": 400}).amount == 400
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.refunds.create(params={"payment_intent": intent, "amount": 700})
    assert caught.value.param == "amount"
    assert "greater than unrefunded amount" in caught.value.user_message

    charge_id = client.v1.payment_intents.retrieve(intent).latest_charge
    rest = client.v1.refunds.create(params={"charge": charge_id})
    assert rest.amount == 600 and rest.payment_intent == intent
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.refunds.create(params={"payment_intent": intent, "amount": 1})
    assert caught.value.code == "charge_already_refunded"
    charge = emu.objects("charge")[charge_id]
    assert charge["amount_refunded"] == 1000 and charge["refunded"] is True
    assert [e["type"] for e in emu.events].count("charge.refunded") == 2


def test_refund_needs_a_payment(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.refunds.create(params={"amount": 100})
    assert caught.value.http_status == 400
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.refunds.create(params={"payment_intent": "pi_missing"})
    assert (caught.value.http_status, caught.value.param) == (404, "payment_intent")
