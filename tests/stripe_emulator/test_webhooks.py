"""Webhook events: Stripe's shape, signatures the SDK accepts, automatic and manual delivery,
failures that stay pending, duplicates and shuffles."""

from __future__ import annotations

import json
import socket
import time

import pytest
import stripe

from tests.support.stripe_emulator import StripeEmulator

from .conftest import API_KEY, SECRET, WebhookReceiver, open_invoice


def _free_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}/api/webhooks/stripe"


def test_delivered_event_has_stripes_shape_and_verifies_with_the_sdk(
    emu: StripeEmulator, client: stripe.StripeClient, receiver: WebhookReceiver
) -> None:
    invoice = open_invoice(client)
    emu.webhook_url = receiver.url
    emu.pay_invoice(invoice.id)
    headers, body = receiver.raw[0]
    assert headers["Content-Type"].startswith("application/json")
    event = json.loads(body)
    assert set(event) == {
        "id", "object", "api_version", "created", "data", "livemode", "pending_webhooks",
        "request", "type",
    }  # fmt: skip
    assert event["id"].startswith("evt_") and event["object"] == "event"
    assert (event["livemode"], event["pending_webhooks"]) == (False, 1)
    assert event["data"]["object"]["object"] == "invoice"
    assert event["data"]["object"]["status"] == "paid"

    sdk_event = stripe.Webhook.construct_event(body, headers["Stripe-Signature"], SECRET)
    assert sdk_event.type == "invoice.paid" and sdk_event.data.object.id == invoice.id
    client_event = client.construct_event(body, headers["Stripe-Signature"], SECRET)
    assert client_event.id == event["id"]
    signature = headers["Stripe-Signature"]
    timestamp = int(signature.split(",")[0].removeprefix("t="))
    assert signature == emu.sign(body, timestamp)
    assert abs(timestamp - time.time()) < 60


def test_wrong_secret_or_tampered_body_fails_verification(
    emu: StripeEmulator, client: stripe.StripeClient, receiver: WebhookReceiver
) -> None:
    emu.webhook_url = receiver.url
    emu.pay_invoice(open_invoice(client).id)
    headers, body = receiver.raw[-1]
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(body, headers["Stripe-Signature"], "whsec_other")
    with pytest.raises(stripe.SignatureVerificationError):
        client.construct_event(body.replace(b"paid", b"void"), headers["Stripe-Signature"], SECRET)
    old = emu.sign(body, timestamp=int(time.time()) - 3600)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(body, old, SECRET)  # outside the 300 s tolerance


def test_wrong_secret_on_the_emulator_is_rejected_by_the_receiver(
    receiver: WebhookReceiver,
) -> None:
    with StripeEmulator(webhook_secret="whsec_not_the_one", api_key=API_KEY) as emu:
        emu.webhook_url = receiver.url
        client = stripe.StripeClient(
            API_KEY, base_addresses={"api": emu.base_url}, max_network_retries=0
        )
        emu.pay_invoice(open_invoice(client).id)
        assert receiver.received == [] and len(receiver.rejected) == 3
        assert len(emu.pending_events()) == 3  # a 400 answer is not a delivery


def test_queued_events_are_delivered_duplicated_and_shuffled(
    emu: StripeEmulator, client: stripe.StripeClient, receiver: WebhookReceiver
) -> None:
    emu.webhook_url = receiver.url
    emu.auto_deliver = False
    first, second = open_invoice(client), open_invoice(client)
    emu.pay_invoice(first.id)
    emu.void_invoice(second.id)
    assert receiver.raw == []
    pending = emu.pending_events()
    assert [e["type"] for e in pending] == [
        "invoice.finalized",
        "invoice.finalized",
        "invoice.paid",
        "invoice.payment_succeeded",
        "invoice.voided",
    ]

    statuses = emu.deliver(times=2, shuffle=True, seed=7)
    assert statuses == [200] * 10
    assert emu.pending_events() == []
    arrived = [e["id"] for e in receiver.received]
    assert sorted(arrived) == sorted([e["id"] for e in pending] * 2)
    assert arrived != [e["id"] for e in pending for _ in range(2)]  # really shuffled
    bodies: dict[str, set[bytes]] = {}
    for _, body in receiver.raw:
        bodies.setdefault(json.loads(body)["id"], set()).add(body)
    assert all(len(variants) == 1 for variants in bodies.values())  # duplicates are identical

    again = emu.deliver(times=2, shuffle=True, seed=7)
    assert again == []  # nothing pending any more
    emu.deliver(events=[pending[-1]["id"]])
    assert receiver.types[-1] == "invoice.voided"


def test_shuffle_with_a_seed_is_reproducible(
    emu: StripeEmulator, client: stripe.StripeClient, receiver: WebhookReceiver
) -> None:
    emu.webhook_url = receiver.url
    emu.auto_deliver = False
    for _ in range(3):
        emu.pay_invoice(open_invoice(client).id)
    events = emu.events
    emu.deliver(events, times=1, shuffle=True, seed=42)
    first_order = [e["id"] for e in receiver.received]
    emu.deliver(events, times=1, shuffle=True, seed=42)
    assert [e["id"] for e in receiver.received[len(events) :]] == first_order


def test_failed_deliveries_stay_pending_until_a_retry_succeeds(
    emu: StripeEmulator, client: stripe.StripeClient, receiver: WebhookReceiver
) -> None:
    invoice = open_invoice(client)
    emu.webhook_url = _free_port_url()  # nobody listens: connection refused
    emu.pay_invoice(invoice.id)
    assert [e["type"] for e in emu.pending_events()] == [
        "invoice.finalized",
        "invoice.paid",
        "invoice.payment_succeeded",
    ]
    assert emu.deliveries[-1]["status"] == 0 and emu.deliveries[-1]["error"]

    emu.webhook_url = receiver.url
    receiver.statuses = [500]
    assert emu.deliver() == [500, 200, 200]
    assert [e["type"] for e in emu.pending_events()] == ["invoice.finalized"]
    assert emu.deliver() == [200]
    assert emu.pending_events() == []


def test_events_from_api_calls_are_delivered_after_the_response(
    emu: StripeEmulator, client: stripe.StripeClient, receiver: WebhookReceiver
) -> None:
    emu.webhook_url = receiver.url
    invoice = open_invoice(client)
    client.v1.invoices.void_invoice(invoice.id, options={"idempotency_key": "cancel-lr-1"})
    assert emu.wait_for_deliveries(timeout=10)
    assert receiver.types == ["invoice.finalized", "invoice.voided"]
    voided = receiver.received[-1]
    assert voided["request"]["idempotency_key"] == "cancel-lr-1"
    assert voided["data"]["object"]["status"] == "void"


def test_no_webhook_url_means_events_are_only_recorded(
    emu: StripeEmulator, client: stripe.StripeClient
) -> None:
    emu.pay_invoice(open_invoice(client).id)
    assert len(emu.pending_events()) == 3
    with pytest.raises(RuntimeError):
        emu.deliver()
