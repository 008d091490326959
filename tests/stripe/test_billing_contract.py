"""One contract for the Billing port (application/ports.py), run against the sandbox adapter and
against StripeBilling on the emulator: both must behave the same for the application."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from uuid import UUID, uuid4

import pytest

from adapters.config import Settings, StripeSettings
from adapters.sandbox_billing import SandboxBilling
from adapters.stripe_billing import StripeBilling
from api.bootstrap import build
from application.ports import (
    Billing,
    BillingUnavailable,
    Invoice,
    InvoiceNotFound,
    InvoiceOrder,
    InvoiceStatus,
)
from domain.enums import Channel
from tests.stripe.helpers import API_KEY, SECRET
from tests.support.stripe_emulator import StripeEmulator


@dataclass
class Provider:
    """A Billing adapter, and how its customer pays an invoice."""

    billing: Billing
    pay: Callable[[str], object]

    def invoice(self, request_id: UUID | None = None) -> Invoice:
        return self.billing.create_invoice(order(request_id or uuid4()))

    def paid_invoice(self) -> Invoice:
        invoice = self.invoice()
        self.pay(invoice.id)
        return invoice


def order(request_id: UUID) -> InvoiceOrder:
    return InvoiceOrder(
        request_id=request_id,
        workspace_id="org_contract",
        channel=Channel.EMAIL,
        amount=500,
        currency="usd",
        description="Additional email line: Grace Hopper",
    )


def stripe_settings(database_url: str, emu: StripeEmulator) -> Settings:
    return Settings(
        database_url=database_url,
        billing="stripe",
        stripe=StripeSettings(api_key=API_KEY, webhook_secret=SECRET, api_base=emu.base_url),
    )


@pytest.fixture(params=["sandbox", "stripe"])
def provider(request: pytest.FixtureRequest, database_url: str) -> Iterator[Provider]:
    if request.param == "sandbox":
        services = build(Settings(database_url=database_url, public_url="http://testserver"))
        assert isinstance(services.billing, SandboxBilling)
        yield Provider(services.billing, services.billing.pay)
    else:
        emu: StripeEmulator = request.getfixturevalue("emu")
        services = build(stripe_settings(database_url, emu))
        assert isinstance(services.billing, StripeBilling)
        yield Provider(services.billing, emu.pay_invoice)
    services.close()


def test_creating_the_invoice_of_one_request_twice_returns_the_same_invoice(
    provider: Provider,
) -> None:
    request_id = uuid4()
    assert provider.invoice(request_id).id == provider.invoice(request_id).id


def test_a_new_invoice_is_open_with_its_link_amount_and_request(provider: Provider) -> None:
    request_id = uuid4()
    created = provider.invoice(request_id)
    got = provider.billing.get_invoice(created.id)
    assert got.status is InvoiceStatus.OPEN
    assert got.url and got.url == created.url
    assert got.request_id == request_id
    assert (got.amount_due, got.amount_paid) == (500, 0)


def test_a_paid_invoice_reads_as_paid_with_the_amount_paid(provider: Provider) -> None:
    invoice = provider.paid_invoice()
    got = provider.billing.get_invoice(invoice.id)
    assert got.status is InvoiceStatus.PAID
    assert got.amount_paid == 500


def test_voiding_an_open_invoice_makes_it_void_and_voiding_it_again_keeps_it_void(
    provider: Provider,
) -> None:
    invoice = provider.invoice()
    assert provider.billing.void_invoice(invoice.id).status is InvoiceStatus.VOID
    assert provider.billing.void_invoice(invoice.id).status is InvoiceStatus.VOID
    assert provider.billing.get_invoice(invoice.id).status is InvoiceStatus.VOID


def test_voiding_an_invoice_paid_meanwhile_leaves_it_paid(provider: Provider) -> None:
    invoice = provider.paid_invoice()
    assert provider.billing.void_invoice(invoice.id).status is InvoiceStatus.PAID


def test_refunding_a_paid_invoice_returns_a_refund_id_and_the_same_id_on_a_retry(
    provider: Provider,
) -> None:
    invoice = provider.paid_invoice()
    assert invoice.request_id is not None
    refund_id = provider.billing.refund(invoice.id, invoice.request_id)
    assert refund_id
    assert provider.billing.refund(invoice.id, invoice.request_id) == refund_id


def test_reading_an_unknown_invoice_raises_invoice_not_found(provider: Provider) -> None:
    with pytest.raises(InvoiceNotFound):
        provider.billing.get_invoice("in_does_not_exist")


def test_stripe_being_unreachable_raises_billing_unavailable(
    database_url: str, emu: StripeEmulator
) -> None:
    services = build(stripe_settings(database_url, emu))
    try:
        invoice = services.billing.create_invoice(order(uuid4()))
        emu.set_unavailable(True)
        with pytest.raises(BillingUnavailable):
            services.billing.get_invoice(invoice.id)
        with pytest.raises(BillingUnavailable):
            services.billing.create_invoice(order(uuid4()))
    finally:
        services.close()
