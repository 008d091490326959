"""The emulator answers with Stripe's shapes: every field of Stripe's published example objects
(../shared/stripe/fixtures3-subset.json, from stripe/openapi) is present, with the same JSON type
wherever both values are non-null; invoice payments match the SDK's `InvoicePayment` fields."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import stripe

from tests.support.stripe_emulator import StripeEmulator

FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "stripe" / "fixtures3-subset.json"
KINDS = (
    "customer", "invoice", "invoiceitem", "refund", "subscription", "price", "product",
    "payment_intent", "charge", "event",
)  # fmt: skip


def _json_type(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


def _differences(path: str, fixture: Any, ours: Any) -> list[str]:
    if isinstance(fixture, dict) and isinstance(ours, dict):
        found = [f"missing {path}.{key}" for key in fixture if key not in ours]
        for key in fixture.keys() & ours.keys():
            found += _differences(f"{path}.{key}", fixture[key], ours[key])
        return found
    if isinstance(fixture, list) and isinstance(ours, list):
        return _differences(f"{path}[0]", fixture[0], ours[0]) if fixture and ours else []
    expected, actual = _json_type(fixture), _json_type(ours)
    if expected and actual and expected != actual:
        return [f"{path}: {actual} where Stripe has {expected}"]
    return []


@pytest.fixture
def populated(emu: StripeEmulator, client: stripe.StripeClient) -> StripeEmulator:
    customer = client.v1.customers.create(params={"name": "Shape", "email": "s@acme.test"})
    price = emu.create_price(900)
    invoice = client.v1.invoices.create(
        params={"customer": customer.id, "collection_method": "send_invoice", "days_until_due": 3}
    )
    client.v1.invoice_items.create(
        params={"customer": customer.id, "invoice": invoice.id, "pricing": {"price": price["id"]}}
    )
    client.v1.invoices.finalize_invoice(invoice.id)
    emu.pay_invoice(invoice.id)
    (intent_id,) = emu.objects("payment_intent")
    client.v1.refunds.create(params={"payment_intent": intent_id, "amount": 100})
    emu.create_subscription(customer.id, price["id"])
    return emu


@pytest.mark.parametrize("kind", KINDS)
def test_objects_have_stripes_fields_and_types(populated: StripeEmulator, kind: str) -> None:
    if not FIXTURES.exists():
        pytest.skip(f"{FIXTURES} is not available")
    fixture = json.loads(FIXTURES.read_text())["resources"][kind]
    ours = list(populated.objects(kind).values())[-1]
    if kind == "event":  # Stripe's example event wraps a plan; compare the envelope only
        fixture, ours = {**fixture, "data": {}}, {**ours, "data": {}}
    assert _differences(kind, fixture, ours) == []
    assert ours["object"] == fixture["object"]
    assert ours.get("livemode", False) is False  # refunds have no livemode field at Stripe


def test_invoice_payment_has_the_sdks_fields(populated: StripeEmulator) -> None:
    (payment,) = populated.objects("invoice_payment").values()
    fields = set(stripe.InvoicePayment.__annotations__) - {"OBJECT_NAME"}
    assert fields <= set(payment)
    assert payment["payment"] == {
        "payment_intent": next(iter(populated.objects("payment_intent"))),
        "type": "payment_intent",
    }
