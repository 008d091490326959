"""Idempotency-Key semantics like Stripe's, through the SDK."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import stripe

from tests.support.stripe_emulator import StripeEmulator

from .conftest import open_invoice


def test_same_key_same_params_replays_without_creating_twice(
    emu: StripeEmulator, client: stripe.StripeClient
) -> None:
    params: stripe.params.CustomerCreateParams = {"name": "Once", "metadata": {"k": "v"}}
    first = client.v1.customers.create(params=params, options={"idempotency_key": "cus-1"})
    second = client.v1.customers.create(params=params, options={"idempotency_key": "cus-1"})
    assert first.id == second.id
    assert first.last_response.data == second.last_response.data
    assert second.last_response.headers["Idempotent-Replayed"] == "true"
    assert len(emu.objects("customer")) == 1
    assert [r["replayed"] for r in emu.requests] == [False, True]


def test_replayed_invoice_item_does_not_add_a_second_line(
    emu: StripeEmulator, client: stripe.StripeClient
) -> None:
    customer = client.v1.customers.create(params={"name": "Lines"})
    invoice = client.v1.invoices.create(params={"customer": customer.id})
    params: stripe.params.InvoiceItemCreateParams = {
        "customer": customer.id,
        "invoice": invoice.id,
        "amount": 500,
        "currency": "usd",
    }
    ids = {
        client.v1.invoice_items.create(params=params, options={"idempotency_key": "item-1"}).id
        for _ in range(3)
    }
    assert len(ids) == 1
    assert client.v1.invoices.retrieve(invoice.id).amount_due == 500
    assert len(emu.objects("invoiceitem")) == 1


def test_same_key_different_params_is_an_idempotency_error(client: stripe.StripeClient) -> None:
    client.v1.customers.create(params={"name": "A"}, options={"idempotency_key": "k"})
    with pytest.raises(stripe.IdempotencyError) as caught:
        client.v1.customers.create(params={"name": "B"}, options={"idempotency_key": "k"})
    assert caught.value.http_status == 400
    assert caught.value.json_body["error"]["type"] == "idempotency_error"


def test_same_key_on_another_endpoint_is_an_idempotency_error(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create(params={"name": "A"}, options={"idempotency_key": "k2"})
    with pytest.raises(stripe.IdempotencyError):
        client.v1.invoices.create(
            params={"customer": customer.id}, options={"idempotency_key": "k2"}
        )


def test_an_executed_error_is_replayed_but_a_validation_error_is_not(
    emu: StripeEmulator, client: stripe.StripeClient
) -> None:
    invoice = open_invoice(client)
    client.v1.invoices.void_invoice(invoice.id)
    for _ in range(2):
        with pytest.raises(stripe.InvalidRequestError):
            client.v1.invoices.void_invoice(invoice.id, options={"idempotency_key": "void-2"})
    assert emu.requests[-1]["replayed"] is True

    with pytest.raises(stripe.InvalidRequestError):
        client.v1.invoices.create(params={}, options={"idempotency_key": "fixable"})
    customer = client.v1.customers.create(params={"name": "Fixed"})
    # The first attempt failed validation, so nothing was saved under the key.
    with pytest.raises(stripe.IdempotencyError):
        client.v1.invoices.create(
            params={"customer": customer.id}, options={"idempotency_key": "void-2"}
        )
    fixed = client.v1.invoices.create(
        params={"customer": customer.id}, options={"idempotency_key": "fixable"}
    )
    assert fixed.status == "draft"


def test_replays_do_not_emit_events_again(emu: StripeEmulator, client: stripe.StripeClient) -> None:
    invoice = open_invoice(client)
    for _ in range(2):
        client.v1.invoices.void_invoice(invoice.id, options={"idempotency_key": "void-once"})
    assert [e["type"] for e in emu.events] == ["invoice.finalized", "invoice.voided"]


def test_concurrent_retries_with_one_key_create_one_object(
    emu: StripeEmulator, client: stripe.StripeClient
) -> None:
    def create(_: int) -> str:
        customer = client.v1.customers.create(
            params={"name": "Racer"}, options={"idempotency_key": "race-1"}
        )
        return customer.id

    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = set(pool.map(create, range(16)))
    assert len(ids) == 1
    assert len(emu.objects("customer")) == 1
