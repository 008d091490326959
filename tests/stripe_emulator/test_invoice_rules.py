"""Invoice status rules through the SDK: draft -> open -> paid | void | uncollectible."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import stripe

from tests.support.stripe_emulator import EmulatedStripeError, StripeEmulator

from .conftest import open_invoice


def _rejected(call: Callable[[], object]) -> stripe.InvalidRequestError:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        call()
    assert caught.value.http_status == 400
    assert caught.value.json_body["error"]["type"] == "invalid_request_error"
    return caught.value


def test_void_an_open_invoice_once(client: stripe.StripeClient, emu: StripeEmulator) -> None:
    invoice = open_invoice(client)
    voided = client.v1.invoices.void_invoice(invoice.id)
    assert voided.status == "void" and voided.status_transitions.voided_at is not None
    error = _rejected(lambda: client.v1.invoices.void_invoice(invoice.id))
    assert "void" in error.user_message
    assert [e["type"] for e in emu.events] == ["invoice.finalized", "invoice.voided"]


def test_paid_and_draft_invoices_cannot_be_voided(
    client: stripe.StripeClient, emu: StripeEmulator
) -> None:
    paid = open_invoice(client)
    emu.pay_invoice(paid.id)
    _rejected(lambda: client.v1.invoices.void_invoice(paid.id))
    customer = client.v1.customers.create(params={"name": "D"})
    draft = client.v1.invoices.create(params={"customer": customer.id})
    _rejected(lambda: client.v1.invoices.void_invoice(draft.id))
    assert client.v1.invoices.retrieve(draft.id).status == "draft"


def test_uncollectible_then_paid_or_void(client: stripe.StripeClient, emu: StripeEmulator) -> None:
    first, second = open_invoice(client), open_invoice(client)
    assert client.v1.invoices.mark_uncollectible(first.id).status == "uncollectible"
    _rejected(lambda: client.v1.invoices.mark_uncollectible(first.id))
    assert emu.pay_invoice(first.id)["status"] == "paid"

    assert emu.mark_uncollectible(second.id)["status"] == "uncollectible"
    assert emu.void_invoice(second.id)["status"] == "void"
    with pytest.raises(EmulatedStripeError):
        emu.void_invoice(second.id)
    with pytest.raises(EmulatedStripeError):
        emu.pay_invoice(second.id)


def test_pay_out_of_band(client: stripe.StripeClient, emu: StripeEmulator) -> None:
    invoice = open_invoice(client, amount=900)
    paid = client.v1.invoices.pay(invoice.id, params={"paid_out_of_band": True})
    assert paid.status == "paid" and paid.amount_paid == 900 and paid.amount_remaining == 0
    assert paid.status_transitions.paid_at is not None
    assert client.v1.invoice_payments.list(params={"invoice": invoice.id}).data == []
    assert emu.events[-1]["type"] == "invoice.paid"
    error = _rejected(lambda: client.v1.invoices.pay(invoice.id, params={"paid_out_of_band": True}))
    assert error.user_message == "Invoice is already paid"


def test_pay_without_a_payment_method_is_refused(client: stripe.StripeClient) -> None:
    invoice = open_invoice(client)
    _rejected(lambda: client.v1.invoices.pay(invoice.id))
    assert client.v1.invoices.retrieve(invoice.id).status == "open"


def test_finalize_only_once_and_items_only_on_drafts(client: stripe.StripeClient) -> None:
    invoice = open_invoice(client)
    error = _rejected(lambda: client.v1.invoices.finalize_invoice(invoice.id))
    assert "re-finalize" in error.user_message
    error = _rejected(
        lambda: client.v1.invoice_items.create(
            params={
                "customer": invoice.customer,
                "invoice": invoice.id,
                "amount": 100,
                "currency": "usd",
            }
        )
    )
    assert error.code == "invoice_not_editable"


def test_zero_amount_invoice_is_paid_on_finalize(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create(params={"name": "Zero"})
    invoice = client.v1.invoices.create(
        params={"customer": customer.id, "collection_method": "send_invoice", "days_until_due": 1}
    )
    assert client.v1.invoices.finalize_invoice(invoice.id).status == "paid"


def test_missing_required_params_name_the_param(client: stripe.StripeClient) -> None:
    error = _rejected(lambda: client.v1.invoices.create(params={"description": "no customer"}))
    assert (error.param, error.code) == ("customer", "parameter_missing")
    customer = client.v1.customers.create(params={"name": "C"})
    invoice = client.v1.invoices.create(params={"customer": customer.id})
    error = _rejected(
        lambda: client.v1.invoice_items.create(
            params={"customer": customer.id, "invoice": invoice.id}
        )
    )
    assert error.param == "amount"
    error = _rejected(
        lambda: client.v1.invoice_items.create(
            params={"customer": customer.id, "invoice": invoice.id, "amount": "ten"}  # type: ignore[arg-type]
        )
    )
    assert (error.param, error.code) == ("amount", "parameter_invalid_integer")


def test_unknown_params_are_ignored(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create(
        params={"name": "U", "preferred_locales": ["en"], "tax_exempt": "none"}
    )
    assert customer.name == "U"


def test_pending_items_are_pulled_in_only_on_include(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create(params={"name": "Pending"})
    client.v1.invoice_items.create(
        params={"customer": customer.id, "amount": 300, "currency": "usd"}
    )
    excluded = client.v1.invoices.create(
        params={"customer": customer.id, "pending_invoice_items_behavior": "exclude"}
    )
    assert excluded.amount_due == 0
    included = client.v1.invoices.create(
        params={"customer": customer.id, "pending_invoice_items_behavior": "include"}
    )
    assert included.amount_due == 300
