"""Billing edge cases that could lose or double money, against the Stripe emulator with the
real SDK (issue 12 point 1): an invoice created at Stripe but never recorded before a
cancel, and a retry of invoice creation after Stripe forgot the idempotency key."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import UUID

import pytest

from adapters.stripe_billing import StripeBilling
from api.bootstrap import Services, build
from application.settlement import order_of
from application.views import LineView, WorkKind
from domain.decisions import LineDetails
from domain.enums import Channel, LineType, Plan, RequestSource
from tests.stripe.helpers import refunds_for_invoice
from tests.stripe.test_billing_contract import stripe_settings
from tests.support.stripe_emulator import StripeEmulator


@pytest.fixture
def services(database_url: str, emu: StripeEmulator) -> Iterator[Services]:
    """In-process services billing through StripeBilling on the emulator; no webhooks
    reach them, so only what the test (or the worker) does is recorded."""
    s = build(stripe_settings(database_url, emu))
    assert isinstance(s.billing, StripeBilling)
    s.workspaces.create("org_edges", Plan.STARTER, "Edges", True)  # email lines are add-ons
    try:
        yield s
    finally:
        s.close()


def add_on_without_invoice(services: Services, emu: StripeEmulator, name: str) -> LineView:
    """An add-on whose inline invoice creation could not reach Stripe (none recorded)."""
    details = LineDetails(
        workspace_id="org_edges",
        channel=Channel.EMAIL,
        line_type=LineType.PURCHASED,
        first_name=name,
        last_name="Hopper",
        email=f"{name.lower()}@example.com",
        phone=None,
        source=RequestSource.API,
    )
    emu.set_unavailable(True)
    try:
        view = services.requests.request_line(details)
    finally:
        emu.set_unavailable(False)
    assert WorkKind.INVOICE in view.owed and view.invoice_id is None
    return view


def created_then_crashed(services: Services, view: LineView) -> str:
    """What a process did before dying: the invoice exists at Stripe, its id is not recorded."""
    return services.billing.create_invoice(order_of(view)).id


def invoices_naming(emu: StripeEmulator, request_id: UUID) -> list[dict[str, Any]]:
    return [
        inv
        for inv in emu.objects("invoice").values()
        if inv["metadata"].get("line_request_id") == str(request_id)
    ]


def event_types(services: Services, request_id: UUID) -> list[str]:
    return [type(e).__name__ for e in services.app.history(request_id)]


def invoice_lists(emu: StripeEmulator) -> list[dict[str, Any]]:
    return [r for r in emu.requests if r["method"] == "GET" and r["path"] == "/v1/invoices"]


def test_an_unrecorded_invoice_of_a_canceled_request_is_found_recorded_and_voided(
    services: Services, emu: StripeEmulator
) -> None:
    view = add_on_without_invoice(services, emu, "Grace")
    invoice_id = created_then_crashed(services, view)
    canceled = services.settlement.cancel("org_edges", view.id, by="api")
    assert canceled.invoice_id is None and WorkKind.INVOICE_SEARCH in canceled.owed

    services.worker.run_once()

    assert emu.objects("invoice")[invoice_id]["status"] == "void"
    after = services.app.view(view.id)
    assert after.invoice_id == invoice_id
    assert after.owed == frozenset()
    types = event_types(services, view.id)
    assert (types.count("Invoiced"), types.count("InvoiceVoided")) == (1, 1), types


def test_a_paid_unrecorded_invoice_of_a_canceled_request_is_refunded_and_never_provisioned(
    services: Services, emu: StripeEmulator
) -> None:
    view = add_on_without_invoice(services, emu, "Ada")
    invoice_id = created_then_crashed(services, view)
    services.settlement.cancel("org_edges", view.id, by="api")
    emu.pay_invoice(invoice_id)  # the customer paid; no webhook reaches these services

    services.worker.run_once()

    (refund,) = refunds_for_invoice(emu, invoice_id)
    assert refund["amount"] == emu.objects("invoice")[invoice_id]["amount_paid"] > 0
    after = services.app.view(view.id)
    assert (after.state.value, after.payment_status.value) == ("canceled", "refunded")
    types = event_types(services, view.id)
    assert (types.count("Paid"), types.count("Refunded")) == (1, 1), types
    assert "ProvisioningStarted" not in types


def test_a_search_that_finds_no_invoice_is_recorded_and_not_repeated(
    services: Services, emu: StripeEmulator
) -> None:
    view = add_on_without_invoice(services, emu, "Edsger")
    services.billing.customer_for("org_edges")  # the workspace has a customer, no invoice
    services.settlement.cancel("org_edges", view.id, by="api")
    services.worker.run_once()
    searches = len(invoice_lists(emu))
    services.worker.run_once()

    assert invoices_naming(emu, view.id) == []
    assert event_types(services, view.id).count("InvoiceSearched") == 1
    assert services.app.view(view.id).owed == frozenset()
    assert len(invoice_lists(emu)) == searches >= 1


def test_retrying_invoice_creation_after_the_idempotency_window_finds_the_first_invoice(
    services: Services, emu: StripeEmulator
) -> None:
    view = add_on_without_invoice(services, emu, "Barbara")
    first = created_then_crashed(services, view)
    emu.expire_idempotency_keys()  # 24 h later at Stripe

    services.worker.run_once()  # the worker retries the owed invoice

    assert [inv["id"] for inv in invoices_naming(emu, view.id)] == [first]
    assert services.app.view(view.id).invoice_id == first
    assert (
        services.app.view(view.id).payment_url
        == emu.objects("invoice")[first]["hosted_invoice_url"]
    )


def test_the_lookup_before_creating_is_bounded_by_the_request_time(
    services: Services, emu: StripeEmulator
) -> None:
    view = add_on_without_invoice(services, emu, "Frances")
    services.worker.run_once()
    (lookup, *_) = invoice_lists(emu)
    assert lookup["params"]["customer"] == services.billing.customer_for("org_edges")  # type: ignore[attr-defined]
    since = int(lookup["params"]["created"]["gte"])
    assert since <= int(view.created_at.timestamp())
    assert since >= int(view.created_at.timestamp()) - 2 * 3600
